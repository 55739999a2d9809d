"""Tests for theorycheck.maths.fields: one symbolic field, three compiled forms that agree."""

from __future__ import annotations

import heyoka as hy
import mpmath
import numpy as np
import pytest
import sympy as sp

from theorycheck.maths.fields import Field, H, to_heyoka

a, b = sp.symbols("a b", real=True)
F = Field((a, b), (sp.Rational(1, 3) * a + H * b, sp.cos(a) * b / 7 - sp.tanh(b) ** 2 + sp.sqrt(1 + a**2)), name="t")
POINT = (sp.Rational(7, 10), sp.Rational(-2, 5))
HVAL = sp.Rational(1, 8)


def _exact(dps: int) -> list[mpmath.mpf]:
    with mpmath.workdps(dps):
        return [mpmath.mpf(sp.N(c.subs({a: POINT[0], b: POINT[1], H: HVAL}), dps)) for c in F.components]


def test_needs_one_component_per_variable():
    with pytest.raises(ValueError):
        Field((a, b), (a,))


def test_numpy_matches_exact():
    got = F.numpy([0.7, -0.4], 0.125)
    assert got.shape == (2,)
    assert np.allclose(got, [float(x) for x in _exact(30)], rtol=1e-14)


def test_mpmath_is_accurate_at_high_precision():
    with mpmath.workdps(60):
        x = [mpmath.mpf(7) / 10, mpmath.mpf(-2) / 5]
        got = F.mpmath(x, mpmath.mpf(1) / 8)
        want = _exact(60)
        assert max(abs(g - w) for g, w in zip(got, want)) < mpmath.mpf(10) ** -55


def test_heyoka_constants_at_working_precision():
    # 1/3 and 1/7 are not binary fractions; at 256 bits they must be accurate to ~1e-75, not float64
    prec = 256
    exprs = F.heyoka(prec)
    cf = hy.cfunc(exprs, vars=hy.make_vars("a", "b"), fp_type=hy.real, prec=prec)
    with mpmath.workprec(prec):
        inp = np.array([hy.real("0.7", prec), hy.real("-0.4", prec)])
        out = cf(inp, pars=np.array([hy.real(1, prec) / hy.real(8, prec)]))
        want = _exact(80)
        for o, w in zip(out, want):
            assert abs(mpmath.mpf(str(o)) - w) < mpmath.mpf(10) ** -70


def test_heyoka_double_precision():
    cf = hy.cfunc(F.heyoka(None), vars=hy.make_vars("a", "b"))
    out = cf(np.array([0.7, -0.4]), pars=np.array([0.125]))
    assert np.allclose(out, [float(x) for x in _exact(30)], rtol=1e-14)


def test_heyoka_rejects_unknown_functions():
    with pytest.raises(ValueError, match="heyoka"):
        to_heyoka(sp.gamma(a), {a: hy.make_vars("a")}, None)


def test_jacobian():
    J = F.jacobian()
    assert J.shape == (2, 2) and J[0, 1] == H
