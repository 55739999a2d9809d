"""Tests for theorycheck.maths.modified: the modified field of GD, its two derivations, IGR, quadratics, gradient test."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths import modified
from theorycheck.maths.fields import H
from theorycheck.maths.losses import ZOO, ZOO_POINTS, parse_loss, quadratic_loss

ROSEN = ZOO["rosenbrock"]


def _zero(expr: sp.Expr) -> bool:
    return sp.expand(expr) == 0


def _numeric_zero(loss, exprs, point, dps=40) -> float:
    vals = modified.evaluate_terms(loss, [exprs], [point], dps)[0][0]
    return max(abs(float(v)) for v in vals)


# --- explicit formulas (HLW GNI IX.1) -------------------------------------------------

@pytest.mark.parametrize("name", ["quadratic", "rosenbrock", "logistic", "trig", "tiny_net"])
def test_first_terms_match_closed_forms(name):
    loss = ZOO[name]
    g, Hm = loss.gradient, loss.hessian
    F = modified.modified_terms(loss, 2)
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
    assert all(_zero(a - b) for a, b in zip(modified.modified_terms(ROSEN, 1)[1], target))


@pytest.mark.parametrize("route", modified.ROUTES)
def test_direct_sympy_route_matches_jets(route):
    direct = modified.direct_terms(ROSEN, 3, route)
    jets = modified.modified_terms(ROSEN, 3)
    assert all(_zero(a - b) for u, v in zip(direct, jets) for a, b in zip(u, v))


def test_bernoulli_field_equals_modified_field():
    a = modified.bernoulli_field(ROSEN, 3).components
    b = modified.modified_field(ROSEN, 3).components
    assert all(_zero(x - y) for x, y in zip(a, b))


# --- quadratics -------------------------------------------------------------------------------

def test_quadratic_terms_are_the_log_series():
    A = sp.Matrix([[3, 1], [1, 1]])
    q = quadratic_loss(A)
    T = modified.modified_terms(q, 5)
    E = modified.quadratic_log_terms(A, q.variables, 5)
    assert all(_zero(a - b) for u, v in zip(T, E) for a, b in zip(u, v))


def test_quadratic_log_series_mutant_differs():
    A = sp.Matrix([[2]])
    q = quadratic_loss(A)
    wrong = modified.quadratic_log_terms(A, q.variables, 3, coefficients=[-1, sp.Rational(-1, 2), sp.Rational(-1, 6), 0])
    T = modified.modified_terms(q, 3)
    assert not _zero(T[2][0] - wrong[2][0])


def test_log_field_series_converges_to_matrix_log():
    # (1/h) log(I − hA)θ at h = 1/10 against the truncated series through h^30
    A = sp.Matrix([[3, 1], [1, 1]])
    q = quadratic_loss(A)
    h = sp.Rational(1, 10)
    theta = sp.Matrix([sp.Rational(7, 10), sp.Rational(-2, 5)])
    terms = modified.quadratic_log_terms(A, q.variables, 30)
    series = [sum(h**j * t[i] for j, t in enumerate(terms)).subs(dict(zip(q.variables, theta))) for i in range(2)]
    with mpmath.workdps(30):
        Am = mpmath.matrix([[int(x) for x in row] for row in A.tolist()])
        th = mpmath.matrix([mpmath.mpf(7) / 10, mpmath.mpf(-2) / 5])
        exact = mpmath.logm(mpmath.eye(2) - Am / 10) * th * 10
        assert max(abs(float(series[i]) - float(exact[i])) for i in range(2)) < 1e-12


# --- IGR ---------------------------------------------------------------------------------------

def test_igr_field_is_modified_field_of_order_one():
    igr = modified.igr_field(ROSEN).components
    m1 = modified.modified_field(ROSEN, 1).components
    assert all(_zero(a - b) for a, b in zip(igr, m1))


def test_igr_field_transcendental_numeric():
    loss = ZOO["tiny_net"]
    diff = [a - b for a, b in zip(modified.igr_field(loss).components, modified.modified_field(loss, 1).components)]
    diff = [d.subs(H, sp.Rational(1, 8)) for d in diff]
    assert _numeric_zero(loss, diff, (0.7, 0.5)) < 1e-30


def test_igr_loss_and_mutant_coefficient():
    lt = modified.igr_loss(ROSEN)
    assert _zero(lt.expr - ROSEN.expr - H * sum(g**2 for g in ROSEN.gradient) / 4)
    wrong = modified.igr_field(ROSEN, sp.Rational(1, 2))
    assert wrong.name == "igr(c=1/2)"
    assert not all(_zero(a - b) for a, b in zip(wrong.components, modified.modified_field(ROSEN, 1).components))


# --- fields, caching, omission --------------------------------------------------------------

def test_modified_field_is_cached_and_named():
    f = modified.modified_field(ROSEN, 2)
    assert f is modified.modified_field(ROSEN, order=2)
    assert f.name == "modified:2" and f.meta["order"] == 2
    assert f.components[0].has(H)
    # modified:0 is the gradient flow, component for component (so both share one compiled integrator)
    assert modified.modified_field(ROSEN, 0).components == modified.gradient_flow_field(ROSEN).components


def test_omit_drops_a_power_of_h():
    f = modified.modified_field(ROSEN, 2, omit=(2,))
    assert f.name == "modified:2-h^2"
    assert all(_zero(a - b) for a, b in zip(f.components, modified.modified_field(ROSEN, 1).components))


@pytest.mark.parametrize("k", [-1, 99, 1.5, True])
def test_bad_order(k):
    with pytest.raises(InputError):
        modified.modified_terms(ROSEN, k)


@pytest.mark.parametrize("spec,family,k,order", [("flow", "flow", 0, 2), ("igr", "igr", 1, 3),
                                                 ("modified:3", "modified", 3, 5), ("bernoulli:2", "bernoulli", 2, 4)])
def test_against(spec, family, k, order):
    assert modified.parse_against(spec) == (family, k)
    field, expected = modified.against_field(ROSEN, spec)
    assert expected == order and field.dim == 2


@pytest.mark.parametrize("spec", ["euler", "modified:", "modified:x", "modified:-1", "bernoulli:99", "igr:2", ""])
def test_against_bad(spec):
    with pytest.raises(InputError):
        modified.parse_against(spec)


# --- gradient-field test -----------------------------------------------------------------------

def test_user_loss_end_to_end():
    loss = parse_loss("a**2*b + cos(a) - b/3")
    f = modified.modified_field(loss, 2)
    vals = f.numpy((0.7, -0.4), 0.1)
    assert vals.shape == (2,) and all(abs(v) < 10 for v in vals)


# --- explicit gradient regularisation L + μ‖∇L‖² ------------------------------------------------

@pytest.mark.parametrize("name", ["quadratic", "rosenbrock", "tiny_net"])
def test_field_is_minus_gradient_of_the_regularised_loss(name):
    loss = ZOO[name]
    mu = sp.Rational(3, 7)
    lt = modified.egr_loss(loss, mu)
    field = modified.egr_field(loss, mu)
    for c, v in zip(field.components, loss.variables):
        assert sp.simplify(c + sp.diff(lt.expr, v)) == 0


@pytest.mark.parametrize("name", ["quadratic", "rosenbrock", "logistic"])
def test_quarter_rate_field_equals_igr_and_first_order_modified_field(name):
    assert modified.matches_igr_field(ZOO[name])


def test_wrong_rate_coefficient_is_not_the_igr_field():
    loss = ZOO["rosenbrock"]
    diff = [sp.expand(a - b) for a, b in zip(modified.egr_rate_field(loss, Fraction(1, 2)).components,
                                             modified.igr_field(loss).components)]
    assert any(d != 0 for d in diff)


def test_rate_field_contains_the_step_symbol():
    f = modified.egr_rate_field(ZOO["quadratic"])
    assert any(H in c.free_symbols for c in f.components)
    assert not any(H in c.free_symbols for c in modified.egr_rate_field(ZOO["quadratic"], 0).components)


def test_mu_with_a_foreign_symbol_is_rejected():
    with pytest.raises(InputError):
        modified.egr_field(ZOO["quadratic"], sp.Symbol("q"))
