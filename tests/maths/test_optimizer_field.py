"""The general route reproduces every hand derivation to at least 30 digits at a test point (K ≤ 2), one test per
optimiser; GD is recognised by its map; the derivative-free route agrees with the symbolic one."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck import optimizers
from theorycheck.maths import adaptive, fields, losses, modified, momentum, optimizer_field, protocol, slow_manifold

THETA0 = (Fraction(7, 10), Fraction(-2, 5))
HALF, THIRD, QUARTER, EPS = Fraction(1, 2), Fraction(1, 3), Fraction(1, 4), Fraction(1, 1000)


def _digits(loss, eq, hand, point=THETA0, dps=60):
    with mpmath.workdps(dps + 10):
        mine = eq.values_at(point, dps + 10)
        x = [mpmath.mpf(p.numerator) / p.denominator for p in point]
        out = []
        for A, B in zip(mine, hand):
            vals = [mpmath.mpmathify(v) for v in sp.lambdify(loss.variables, list(B), modules="mpmath")(*x)]
            diff = max(abs(a - b) for a, b in zip(A, vals))
            out.append(dps if diff == 0 else float(-mpmath.log10(diff / max(abs(v) for v in vals))))
        return out


def _h_terms(field, k):
    H = fields.H
    comps, out = list(field.components), []
    for j in range(k + 1):
        out.append([c.subs(H, 0) / sp.factorial(j) for c in comps])
        comps = [sp.diff(c, H) for c in comps]
    return out


def _rule(module, **hyper):
    rule = protocol.as_optimizer(module)
    return rule.with_hyperparameters(**hyper) if hyper else rule


@pytest.mark.parametrize("name", ["logistic", "tiny_net"])
def test_gd_equals_the_taylor_matched_terms(name):
    loss = losses.ZOO[name]
    eq = optimizer_field.derive(_rule(optimizers.gd), loss, 2)
    assert eq.is_gradient_descent and eq.manifold.state_size == 0
    assert min(_digits(loss, eq, modified.modified_terms(loss, 2))) >= 30


def test_heavy_ball_equals_the_two_step_series():
    loss = losses.ZOO["logistic"]
    eq = optimizer_field.derive(_rule(optimizers.heavy_ball, beta=HALF), loss, 2)
    assert not eq.is_gradient_descent
    assert min(_digits(loss, eq, momentum.heavy_ball_terms(loss, HALF, 2))) >= 30


def test_momentum_with_dampening_is_heavy_ball_at_the_step_h_times_one_minus_tau():
    loss = losses.ZOO["tiny_net"]
    eq = optimizer_field.derive(_rule(optimizers.momentum, beta=THIRD, dampening=QUARTER), loss, 2)
    assert min(_digits(loss, eq, momentum.dampened_terms(loss, THIRD, QUARTER, 2))) >= 30


def test_nesterov_equals_the_look_ahead_closed_form():
    loss = losses.ZOO["logistic"]
    eq = optimizer_field.derive(_rule(optimizers.nesterov, beta=HALF), loss, 1)
    assert min(_digits(loss, eq, _h_terms(momentum.nesterov_field(loss, HALF), 1))) >= 30
    # and not heavy ball's (the mutant the claim rejects)
    assert _digits(loss, eq, _h_terms(momentum.ghosh_field(loss, HALF), 1))[1] < 2


@pytest.mark.parametrize("rule,b1", [("rmsprop", 0), ("adam", QUARTER)])
def test_rmsprop_and_adam_equal_the_moment_matched_field(rule, b1):
    loss = losses.ZOO["logistic"]
    hyper = {"beta2": HALF, "eps": EPS} | ({} if rule == "rmsprop" else {"beta1": b1})
    eq = optimizer_field.derive(_rule(getattr(optimizers, rule), **hyper), loss, 1)
    assert min(_digits(loss, eq, _h_terms(adaptive.adam_field(loss, b1, HALF, EPS, 1), 1))) >= 30


def test_adams_second_order_term_agrees_with_the_derivative_free_route():
    # no hand derivation of Adam's F₂: log(1 + Δ) on the slow orbit is the independent check
    loss = losses.ZOO["quadratic"]
    rule = _rule(optimizers.adam)
    eq = optimizer_field.derive(rule, loss, 2)
    measured = optimizer_field.log_series_terms(rule, loss, THETA0, 2, manifold=eq.manifold, digits=50)
    exact = eq.values_at(THETA0)
    for j in range(3):
        rel = max(abs(a - b) for a, b in zip(measured.values[j], exact[j])) / max(abs(b) for b in exact[j])
        assert rel < 1e-5 and measured.significant_digits(j) > 4, (j, rel)


def test_matching_reproduces_gd_and_a_wrong_coefficient_is_seen():
    loss = losses.ZOO["rosenbrock"]
    g = [slow_manifold.jet_symbol((1, 0)), slow_manifold.jet_symbol((0, 1))]
    psi = [list(loss.variables), [-x for x in g], [0, 0], [0, 0], [0, 0]]
    F = optimizer_field.match_terms(psi, loss.variables, 3)
    concrete = [[slow_manifold.concrete(c, loss) for c in t] for t in F]
    assert fields.expressions_equal(concrete[2], modified.modified_terms(loss, 3)[2])
    psi[2] = [sp.Rational(1, 10) * x for x in g]  # a second-order term GD does not have
    wrong = optimizer_field.match_terms(psi, loss.variables, 1)[1]
    assert not fields.expressions_equal([slow_manifold.concrete(c, loss) for c in wrong],
                                        modified.modified_terms(loss, 1)[1])


def test_orders_beyond_the_symbolic_limit_are_refused_for_rules_other_than_gd():
    from theorycheck.core.errors import InputError

    with pytest.raises(InputError, match="derived symbolically up to"):
        optimizer_field.derive(_rule(optimizers.heavy_ball), losses.ZOO["quadratic"], optimizer_field.MAX_ORDER + 1)
    assert optimizer_field.derive(_rule(optimizers.gd), losses.ZOO["quadratic"], 8).is_gradient_descent
