"""Tests for theorycheck.maths.lie: the derivative-free route h·f̃ = log(1 + Δ)."""


import mpmath
import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths import lie
from theorycheck.maths.losses import ZOO
from theorycheck.maths.optimisers import gd


def test_forward_differences():
    orbit = [[j**3] for j in range(5)]  # Δ^3 of j³ is 3! = 6, Δ^4 is 0
    assert lie.forward_differences(orbit, 1) == [1]
    assert lie.forward_differences(orbit, 2) == [6]
    assert lie.forward_differences(orbit, 3) == [6]
    assert lie.forward_differences(orbit, 4) == [0]
    with pytest.raises(InputError):
        lie.forward_differences(orbit[:2], 2)


def test_log_series_on_a_linear_map_is_the_matrix_logarithm():
    """GD on ½θᵀAθ is θ ↦ (I − hA)θ, whose exact modified field is (1/h) log(I − hA)θ; K terms err by O(h^K)."""
    loss = ZOO["quadratic"]
    with mpmath.workdps(50):
        A = mpmath.matrix([[3, 1], [1, 1]])
        th = [mpmath.mpf("0.7"), mpmath.mpf("-0.4")]
        errs = []
        for h in (mpmath.mpf(1) / 64, mpmath.mpf(1) / 128):
            exact = mpmath.logm(mpmath.eye(2) - h * A) * mpmath.matrix(th) / h
            num = lie.log_series_field(gd(loss), th, h, 4)
            errs.append(mpmath.norm(mpmath.matrix(num) - exact))
        assert 14 < errs[0] / errs[1] < 18  # 2^4


def test_wrong_log_coefficient_is_detected():
    loss = ZOO["quadratic"]
    with mpmath.workdps(30):
        th = [mpmath.mpf("0.7"), mpmath.mpf("-0.4")]
        h = mpmath.mpf(1) / 256
        good = lie.log_series_field(gd(loss), th, h, 2)
        bad = lie.log_series_field(gd(loss), th, h, 2, coefficients=[1, sp.Rational(-1, 3)])
        f = [-(3 * th[0] + th[1]), -(th[0] + th[1])]
        assert mpmath.norm(mpmath.matrix(good) - mpmath.matrix(f)) < 0.05
        assert mpmath.norm(mpmath.matrix(bad) - mpmath.matrix(good)) > 1e-3


def test_bad_number_of_terms_is_rejected():
    with pytest.raises(InputError):
        lie.log_series_from_orbit([[0], [1]], 1, 0)
