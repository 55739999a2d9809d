"""The operations of an optimiser or loss file: one function, every kind of number."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck.maths import scalar


@pytest.mark.parametrize("name", scalar.FUNCTIONS)
def test_each_function_agrees_across_kinds(name):
    x = Fraction(3, 10)
    with mpmath.workdps(40):
        with scalar.evaluating("mpmath"):
            mp_value = getattr(scalar, name)(x)
        assert isinstance(mp_value, mpmath.mpf)
        with scalar.evaluating("sympy"):
            exact = getattr(scalar, name)(x)
        assert isinstance(exact, sp.Basic)
        assert abs(mp_value - mpmath.mpf(sp.N(exact, 45))) < mpmath.mpf(10) ** -38
        assert getattr(scalar, name)(0.3) == pytest.approx(float(mp_value), rel=1e-14)


def test_a_plain_number_follows_the_evaluation_and_symbols_stay_symbolic():
    with mpmath.workdps(50), scalar.evaluating("mpmath"):
        root = scalar.sqrt(2)
        assert abs(root**2 - 2) < mpmath.mpf(10) ** -48  # not float64's √2
    a = sp.Symbol("a")
    assert scalar.exp(a) == sp.exp(a) and scalar.sigmoid(a) == 1 / (1 + sp.exp(-a))
    assert scalar.number_kind() == "float"


def test_non_smooth_helpers_on_numbers():
    assert scalar.sign(-0.5) == -1 and scalar.sign(0) == 0 and scalar.clip(3, -1, 1) == 1
    assert scalar.maximum(1, 2) == 2 and scalar.minimum(1, 2) == 1
    with pytest.raises(ValueError):
        with scalar.evaluating("quaternion"):
            pass
