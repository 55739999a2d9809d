"""The log(1+Δ) route, heavy-ball's modified terms, and the slow-manifold orbit."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck.maths import lie as LIE
from theorycheck.core.errors import InputError
from theorycheck.maths.losses import ZOO
from theorycheck.maths.optimisers import gd
from theorycheck.maths.modified import modified_terms


def test_forward_differences():
    orbit = [[j**3] for j in range(5)]  # Δ^3 of j³ is 3! = 6, Δ^4 is 0
    assert LIE.forward_differences(orbit, 1) == [1]
    assert LIE.forward_differences(orbit, 2) == [6]
    assert LIE.forward_differences(orbit, 3) == [6]
    assert LIE.forward_differences(orbit, 4) == [0]
    with pytest.raises(InputError):
        LIE.forward_differences(orbit[:2], 2)


def test_log_series_on_a_linear_map_is_the_matrix_logarithm():
    """GD on ½θᵀAθ is θ ↦ (I − hA)θ, whose exact modified field is (1/h) log(I − hA)θ; K terms err by O(h^K)."""
    loss = ZOO["quadratic"]
    with mpmath.workdps(50):
        A = mpmath.matrix([[3, 1], [1, 1]])
        th = [mpmath.mpf("0.7"), mpmath.mpf("-0.4")]
        errs = []
        for h in (mpmath.mpf(1) / 64, mpmath.mpf(1) / 128):
            exact = mpmath.logm(mpmath.eye(2) - h * A) * mpmath.matrix(th) / h
            num = LIE.log_series_field(gd(loss), th, h, 4)
            errs.append(mpmath.norm(mpmath.matrix(num) - exact))
        assert 14 < errs[0] / errs[1] < 18  # 2^4


def test_wrong_log_coefficient_is_detected():
    loss = ZOO["quadratic"]
    with mpmath.workdps(30):
        th = [mpmath.mpf("0.7"), mpmath.mpf("-0.4")]
        h = mpmath.mpf(1) / 256
        good = LIE.log_series_field(gd(loss), th, h, 2)
        bad = LIE.log_series_field(gd(loss), th, h, 2, coefficients=[1, sp.Rational(-1, 3)])
        f = [-(3 * th[0] + th[1]), -(th[0] + th[1])]
        assert mpmath.norm(mpmath.matrix(good) - mpmath.matrix(f)) < 0.05
        assert mpmath.norm(mpmath.matrix(bad) - mpmath.matrix(good)) > 1e-3


def test_heavy_ball_terms_reduce_to_gd_at_beta_zero():
    loss = ZOO["rosenbrock"]
    for A, B in zip(modified_terms(loss, 3), LIE.heavy_ball_terms(loss, 0, 3)):
        assert all(sp.expand(a - b) == 0 for a, b in zip(A, B))


def test_first_heavy_ball_term_closed_form():
    loss = ZOO["rosenbrock"]
    beta = sp.Rational(1, 3)
    F = LIE.heavy_ball_terms(loss, beta, 1)
    Hg = loss.hessian * loss.gradient
    assert all(sp.expand(F[1][i] + (1 + beta) / (2 * (1 - beta) ** 3) * Hg[i]) == 0 for i in range(2))
    assert all(sp.expand(F[0][i] + loss.gradient[i] / (1 - beta)) == 0 for i in range(2))


def test_ghosh_factor_mutant_differs():
    loss = ZOO["quadratic"]
    b = Fraction(1, 2)
    good = LIE.ghosh_field(loss, b).components
    hb = LIE.heavy_ball_field(loss, b, 1).components
    bad = LIE.ghosh_field(loss, b, factor=1).components
    assert all(sp.expand(x - y) == 0 for x, y in zip(good, hb))
    assert any(sp.expand(x - y) != 0 for x, y in zip(bad, hb))


def test_slow_manifold_orbit_lands_on_theta0_and_obeys_the_recursion():
    loss = ZOO["quadratic"]
    b = Fraction(1, 2)
    with mpmath.workdps(30):
        th = [mpmath.mpf("0.7"), mpmath.mpf("-0.4")]
        h = mpmath.mpf(1) / 128
        orb = LIE.heavy_ball_orbit(loss, b, th, h, 3, digits=20)
        assert max(abs(a - c) for a, c in zip(orb[0], th)) < mpmath.mpf(10) ** -18
        # θ2 = θ1 − h∇L(θ1) + β(θ1 − θ0)
        g1 = [3 * orb[1][0] + orb[1][1], orb[1][0] + orb[1][1]]
        pred = [orb[1][i] - h * g1[i] + mpmath.mpf(1) / 2 * (orb[1][i] - orb[0][i]) for i in range(2)]
        assert max(abs(a - c) for a, c in zip(pred, orb[2])) < mpmath.mpf(10) ** -25


def test_slow_manifold_limit_and_transient_validation():
    assert LIE.slow_manifold_limit(0.25) == pytest.approx(0.25)
    assert LIE.transient_steps(0.5, 10) >= 34
    with pytest.raises(InputError):
        LIE.transient_steps(1.0, 10)
    with pytest.raises(InputError):
        LIE.heavy_ball_terms(ZOO["quadratic"], Fraction(1, 2), 9)
    with pytest.raises(InputError):
        LIE.log_series_from_orbit([[0], [1]], 1, 0)
