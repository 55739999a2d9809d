"""Tests for theorycheck.maths.modified: the modified field of GD, its two derivations, IGR, quadratics, gradient test."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp

from theorycheck.maths import modified as M
from theorycheck.core.errors import InputError
from theorycheck.maths.fields import H
from theorycheck.maths.losses import ZOO, ZOO_POINTS, parse_loss, quadratic_loss

ROSEN = ZOO["rosenbrock"]


def _zero(expr: sp.Expr) -> bool:
    return sp.expand(expr) == 0


def _numeric_zero(loss, exprs, point, dps=40) -> float:
    vals = M.evaluate_terms(loss, [exprs], [point], dps)[0][0]
    return max(abs(float(v)) for v in vals)


# --- explicit formulas (DESIGN.md; HLW GNI IX.1) -------------------------------------------------

@pytest.mark.parametrize("name", ["quadratic", "rosenbrock", "logistic", "trig", "tiny_net"])
def test_first_terms_match_closed_forms(name):
    loss = ZOO[name]
    g, Hm = loss.gradient, loss.hessian
    F = M.modified_terms(loss, 2)
    f2 = -Hm * g / 2
    f3 = -loss.third(list(g), list(g)) / 12 - Hm * Hm * g / 3
    point = tuple(ZOO_POINTS[name].values())
    assert [sp.simplify(a + b) for a, b in zip(F[0], g)] == [0] * loss.dim
    for got, want in ((F[1], f2), (F[2], f3)):
        diff = [a - b for a, b in zip(got, want)]
        if loss.polynomial_degree is not None:
            assert all(_zero(d) for d in diff)
        else:
            assert _numeric_zero(loss, diff, point) < 1e-30


def test_f2_is_quarter_gradient_of_grad_norm():
    g = ROSEN.gradient
    target = [-sp.diff(sum(c**2 for c in g), v) / 4 for v in ROSEN.variables]
    assert all(_zero(a - b) for a, b in zip(M.modified_terms(ROSEN, 1)[1], target))


def test_one_dimensional_generic_terms():
    # f̃ = −L′ − (h/2)L″L′ − h²((1/12)L‴L′² + (1/3)L″²L′) − h³((1/6)L′²L″L‴ + (1/4)L″³L′)
    T = M.generic_terms(1, 3, "taylor")
    L1, L2, L3 = (str(s) for s in M._jet(1, 4).gens[:3])
    exprs = [str(t[0].as_expr()) for t in T]
    assert exprs[0] == f"-{L1}"
    assert exprs[1] == f"-{L1}*{L2}/2"
    assert sp.sympify(exprs[2]) == sp.sympify(f"-{L1}**2*{L3}/12 - {L1}*{L2}**2/3")
    assert sp.sympify(exprs[3]) == sp.sympify(f"-{L1}**2*{L2}*{L3}/6 - {L1}*{L2}**3/4")


# --- the two derivations agree ------------------------------------------------------------------

@pytest.mark.parametrize("d,k", [(1, 5), (2, 4), (3, 3)])
def test_taylor_and_bernoulli_agree_generically(d, k):
    assert M.generic_agreement(d, k) == [True] * (k + 1)


def test_wrong_bernoulli_coefficient_is_detected():
    # mutant: B₂/2! = 1/6 instead of 1/12
    agree = M.generic_agreement(2, 3, bernoulli=[1, sp.Rational(-1, 2), sp.Rational(1, 6), 0])
    assert agree[:2] == [True, True] and agree[2] is False


def test_bernoulli_coefficients():
    assert M._bernoulli_coefficients(6) == [1, sp.Rational(-1, 2), sp.Rational(1, 12), 0, sp.Rational(-1, 720), 0,
                                            sp.Rational(1, 30240)]


@pytest.mark.parametrize("route", M.ROUTES)
def test_direct_sympy_route_matches_jets(route):
    direct = M.direct_terms(ROSEN, 3, route)
    jets = M.modified_terms(ROSEN, 3)
    assert all(_zero(a - b) for u, v in zip(direct, jets) for a, b in zip(u, v))


def test_bernoulli_field_equals_modified_field():
    a = M.bernoulli_field(ROSEN, 3).components
    b = M.modified_field(ROSEN, 3).components
    assert all(_zero(x - y) for x, y in zip(a, b))


# --- quadratics -------------------------------------------------------------------------------

def test_quadratic_terms_are_the_log_series():
    A = sp.Matrix([[3, 1], [1, 1]])
    q = quadratic_loss(A)
    T = M.modified_terms(q, 5)
    E = M.quadratic_log_terms(A, q.variables, 5)
    assert all(_zero(a - b) for u, v in zip(T, E) for a, b in zip(u, v))


def test_quadratic_log_series_mutant_differs():
    A = sp.Matrix([[2]])
    q = quadratic_loss(A)
    wrong = M.quadratic_log_terms(A, q.variables, 3, coefficients=[-1, sp.Rational(-1, 2), sp.Rational(-1, 6), 0])
    T = M.modified_terms(q, 3)
    assert not _zero(T[2][0] - wrong[2][0])


def test_log_field_series_converges_to_matrix_log():
    # (1/h) log(I − hA)θ at h = 1/10 against the truncated series through h^30
    A = sp.Matrix([[3, 1], [1, 1]])
    q = quadratic_loss(A)
    h = sp.Rational(1, 10)
    theta = sp.Matrix([sp.Rational(7, 10), sp.Rational(-2, 5)])
    terms = M.quadratic_log_terms(A, q.variables, 30)
    series = [sum(h**j * t[i] for j, t in enumerate(terms)).subs(dict(zip(q.variables, theta))) for i in range(2)]
    with mpmath.workdps(30):
        Am = mpmath.matrix([[int(x) for x in row] for row in A.tolist()])
        th = mpmath.matrix([mpmath.mpf(7) / 10, mpmath.mpf(-2) / 5])
        exact = mpmath.logm(mpmath.eye(2) - Am / 10) * th * 10
        assert max(abs(float(series[i]) - float(exact[i])) for i in range(2)) < 1e-12


# --- IGR ---------------------------------------------------------------------------------------

def test_igr_field_is_modified_field_of_order_one():
    igr = M.igr_field(ROSEN).components
    m1 = M.modified_field(ROSEN, 1).components
    assert all(_zero(a - b) for a, b in zip(igr, m1))


def test_igr_field_transcendental_numeric():
    loss = ZOO["tiny_net"]
    diff = [a - b for a, b in zip(M.igr_field(loss).components, M.modified_field(loss, 1).components)]
    diff = [d.subs(H, sp.Rational(1, 8)) for d in diff]
    assert _numeric_zero(loss, diff, (0.7, 0.5)) < 1e-30


def test_igr_loss_and_mutant_coefficient():
    lt = M.igr_loss(ROSEN)
    assert _zero(lt.expr - ROSEN.expr - H * sum(g**2 for g in ROSEN.gradient) / 4)
    wrong = M.igr_field(ROSEN, sp.Rational(1, 2))
    assert wrong.name == "igr(c=1/2)"
    assert not all(_zero(a - b) for a, b in zip(wrong.components, M.modified_field(ROSEN, 1).components))


# --- fields, caching, omission --------------------------------------------------------------

def test_modified_field_is_cached_and_named():
    f = M.modified_field(ROSEN, 2)
    assert f is M.modified_field(ROSEN, order=2)
    assert f.name == "modified:2" and f.meta["order"] == 2
    assert f.components[0].has(H)
    # modified:0 is the gradient flow, component for component (so both share one compiled integrator)
    assert M.modified_field(ROSEN, 0).components == M.gradient_flow_field(ROSEN).components


def test_omit_drops_a_power_of_h():
    f = M.modified_field(ROSEN, 2, omit=(2,))
    assert f.name == "modified:2-h^2"
    assert all(_zero(a - b) for a, b in zip(f.components, M.modified_field(ROSEN, 1).components))


@pytest.mark.parametrize("k", [-1, 99, 1.5, True])
def test_bad_order(k):
    with pytest.raises(InputError):
        M.modified_terms(ROSEN, k)


def test_bad_route():
    with pytest.raises(InputError):
        M.generic_terms(2, 2, "euler")


@pytest.mark.parametrize("spec,family,k,order", [("flow", "flow", 0, 2), ("igr", "igr", 1, 3),
                                                 ("modified:3", "modified", 3, 5), ("bernoulli:2", "bernoulli", 2, 4)])
def test_against(spec, family, k, order):
    assert M.parse_against(spec) == (family, k)
    field, expected = M.against_field(ROSEN, spec)
    assert expected == order and field.dim == 2


@pytest.mark.parametrize("spec", ["euler", "modified:", "modified:x", "modified:-1", "bernoulli:99", "igr:2", ""])
def test_against_bad(spec):
    with pytest.raises(InputError):
        M.parse_against(spec)


# --- gradient-field test -----------------------------------------------------------------------

def test_f2_is_a_gradient_generically_and_f3_is_not():
    assert all(p == 0 for p in M.generic_asymmetry(2, 1))
    assert any(p != 0 for p in M.generic_asymmetry(2, 2))
    assert all(p == 0 for p in M.generic_asymmetry(1, 3))  # d = 1: no antisymmetric part


def test_rosenbrock_f3_asymmetry_at_point():
    p = (sp.Rational(3, 10), sp.Rational(1, 5))
    assert M.jacobian_asymmetry(ROSEN, 1, p).size == 0.0
    a = M.jacobian_asymmetry(ROSEN, 2, p)
    assert a.size == pytest.approx(200.1, rel=1e-3) and 0.3 < a.relative < 0.35


def test_separable_loss_has_gradient_terms():
    # sin a cos b + (a²+b²)/4 separates in u = a+b, v = a−b (orthonormal up to scale): every term is a gradient
    for j in (2, 3):
        assert M.jacobian_asymmetry(ZOO["trig"], j, (0.7, -0.4)).relative < 1e-25


def test_quadratic_terms_are_gradients():
    q = quadratic_loss(sp.Matrix([[2, 1, 0], [1, 3, 1], [0, 1, 1]]))
    for j in (1, 2, 3):
        assert M.jacobian_asymmetry(q, j, (1, -1, 2)).size == 0.0


def test_jet_derivative_shifts_multi_index():
    jet = M.Jet(2, 3)
    g = jet.gradient()
    assert [str(x) for x in g] == ["L_1_0", "L_0_1"]
    L20, L11 = jet.gens[2], jet.gens[3]
    assert [str(x) for x in (L20, L11)] == ["L_2_0", "L_1_1"]
    assert jet.deriv(g[0] * g[1], 0) == L20 * g[1] + g[0] * L11
    top = jet.gens[-1]  # order 3: its derivative is beyond maxorder
    assert jet.deriv(top, 0) == 0


def test_user_loss_end_to_end():
    loss = parse_loss("a**2*b + cos(a) - b/3")
    f = M.modified_field(loss, 2)
    vals = f.numpy((0.7, -0.4), 0.1)
    assert vals.shape == (2,) and all(abs(v) < 10 for v in vals)
