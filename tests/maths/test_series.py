"""Truncated series in h with exact coefficients: the arithmetic a step runs on to be expanded."""

import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths import scalar
from theorycheck.maths.series import NotSmoothError, NotSymbolicError, Series, deciding

h, a = sp.symbols("h a", positive=True)
N = 4


def _series(expr):
    return Series([sp.series(expr, h, 0, N + 1).removeO().coeff(h, k) for k in range(N + 1)])


def _same(s, expr):
    # at a rational a (exact), against sympy's own series: every coefficient to 40 digits
    at = {a: sp.Rational(3, 7)}
    ref = sp.series(expr.subs(at), h, 0, N + 1).removeO()
    return all(abs(sp.N(s.c[k].subs(at) - ref.coeff(h, k), 45)) < 1e-40 for k in range(N + 1))


X = _series(a + 2 * h - h**2 / 3)
Y = _series(1 + a * h + h**3)


@pytest.mark.parametrize("op,ref", [
    (lambda x, y: x * y, lambda x, y: x * y),
    (lambda x, y: x / y, lambda x, y: x / y),
    (lambda x, y: 3 - x + y * 2, lambda x, y: 3 - x + 2 * y),
    (lambda x, y: x ** sp.Rational(1, 2), lambda x, y: sp.sqrt(x)),
    (lambda x, y: y ** -3, lambda x, y: y ** -3),
    (lambda x, y: x ** y, lambda x, y: x ** y),
    (lambda x, y: 2 ** x, lambda x, y: 2 ** x),
    (lambda x, y: scalar.exp(x) + scalar.log(y) + scalar.tanh(x * y), lambda x, y: sp.exp(x) + sp.log(y) + sp.tanh(x * y)),
    (lambda x, y: scalar.sqrt(x / y + 1), lambda x, y: sp.sqrt(x / y + 1)),
], ids=["mul", "div", "affine", "sqrt", "negative-power", "power-of-series", "exponential", "functions", "nested"])
def test_arithmetic_matches_sympy_series(op, ref):
    xe, ye = a + 2 * h - h**2 / 3, 1 + a * h + h**3
    assert _same(op(X, Y), ref(xe, ye))


def test_a_sympy_number_meeting_a_series_returns_a_series():
    out = sp.Rational(1, 2) * X
    assert isinstance(out, Series) and out.c[1] == 1


def test_comparisons_are_decided_at_the_point_and_refused_at_a_kink():
    s = Series([a - sp.Rational(1, 2), sp.S.One, sp.S.Zero])
    with pytest.raises(NotSmoothError, match="needs a point"):
        _ = s > 0
    with deciding(lambda e, guard: 1 if e.subs(a, 1) > 0 else -1 if e.subs(a, 1) < 0 else 0):
        assert (s > 0) and abs(s) is s and scalar.sign(s) == 1
    with deciding(lambda e, guard: 0):
        with pytest.raises(NotSmoothError, match="kink"):
            _ = s < 0
    with pytest.raises(NotSmoothError, match="at h = 0"):
        _ = Series([sp.S.Zero, sp.S.One]) ** sp.Rational(1, 2)  # √h is not a power series
    with pytest.raises(NotSmoothError):
        bool(s)
    assert issubclass(NotSmoothError, InputError)


def test_float_conversions_and_mpmath_numbers_are_refused():
    import math

    import mpmath

    with pytest.raises(NotSymbolicError, match="float"):
        math.sqrt(X)
    with pytest.raises(NotSymbolicError, match="mpmath"):
        X * mpmath.mpf(2)
    assert (X * 0.5).c[0] == a / 2  # a float is its exact binary value
