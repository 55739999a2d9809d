"""Explicit gradient regularisation: the loss/field constructions and the float64 network ladder."""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from theorycheck.maths import explicit_gr as EG
from theorycheck.core.errors import InputError
from theorycheck.maths.fields import H
from theorycheck.maths.losses import ZOO


@pytest.mark.parametrize("name", ["quadratic", "rosenbrock", "tiny_net"])
def test_field_is_minus_gradient_of_the_regularised_loss(name):
    loss = ZOO[name]
    mu = sp.Rational(3, 7)
    lt = EG.egr_loss(loss, mu)
    field = EG.egr_field(loss, mu)
    for c, v in zip(field.components, loss.variables):
        assert sp.simplify(c + sp.diff(lt.expr, v)) == 0


@pytest.mark.parametrize("name", ["quadratic", "rosenbrock", "logistic"])
def test_quarter_rate_field_equals_igr_and_first_order_modified_field(name):
    assert EG.matches_igr_field(ZOO[name])


def test_wrong_rate_coefficient_is_not_the_igr_field():
    loss = ZOO["rosenbrock"]
    from theorycheck.maths.modified import igr_field

    diff = [sp.expand(a - b) for a, b in zip(EG.egr_rate_field(loss, Fraction(1, 2)).components, igr_field(loss).components)]
    assert any(d != 0 for d in diff)


def test_rate_field_contains_the_step_symbol():
    f = EG.egr_rate_field(ZOO["quadratic"])
    assert any(H in c.free_symbols for c in f.components)
    assert not any(H in c.free_symbols for c in EG.egr_rate_field(ZOO["quadratic"], 0).components)


def test_mu_with_a_foreign_symbol_is_rejected():
    with pytest.raises(InputError):
        EG.egr_field(ZOO["quadratic"], sp.Symbol("q"))


def test_relative_steps_validation():
    assert EG.relative_steps(2.0, 3) == [0.25, 0.125, 0.0625]
    with pytest.raises(InputError):
        EG.relative_steps(0.0, 3)


def test_net_hvp_matches_autograd():
    from autograd import grad

    prob, theta = EG.net_problem(1)
    L = prob.net.loss_autograd()
    gL = grad(lambda t: L(t, prob.X, prob.y))
    v = np.random.default_rng(2).standard_normal(len(theta))
    ref = grad(lambda t: gL(t) @ v)(theta)
    assert np.allclose(prob.hvp(theta, v), ref, rtol=1e-11, atol=1e-13)


def test_net_local_error_slopes_separate_the_coefficients():
    """Successive log-slopes of the float64 ladder: ≈3 at c = 1/4, ≈2 at c = 0 (the claim fits them)."""
    prob, theta = EG.net_problem(5)
    steps = EG.relative_steps(EG.sharpness_at(prob, theta), 4, top=0.125)
    slope = {}
    for c in (0.0, 0.25):
        e = EG.net_local_errors(prob, theta, steps, c)
        assert min(e) > EG.net_floor(theta)
        slope[c] = float(np.log(e[-2] / e[-1]) / np.log(2))
    assert abs(slope[0.25] - 3) < 0.15 and abs(slope[0.0] - 2) < 0.15
