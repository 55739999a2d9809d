"""The slow manifold of any optimiser: its expansion against heavy ball's by hand, its orbit against the hand shooting."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck import optimizers
from theorycheck.core.errors import InputError
from theorycheck.maths import losses, momentum, protocol, slow_manifold

LOSS = losses.ZOO["logistic"]
THETA0 = (Fraction(7, 10), Fraction(-2, 5))
D = 2


def _L(*alpha):
    return slow_manifold.jet_symbol(alpha)


def test_heavy_ball_state_is_the_gradient_average_with_its_lag():
    # v = S₀ + hS₁ + …: S₀ = g/(1−β) and S₁ = Hg/(1−β)³ (v_n averages gradients one to many steps back)
    b = sp.Symbol("beta", positive=True)
    rule = protocol.as_optimizer(optimizers.heavy_ball).with_hyperparameters(beta=b)
    m = slow_manifold.expand(rule, LOSS, 2)
    g = [_L(1, 0), _L(0, 1)]
    Hg = [_L(2, 0) * g[0] + _L(1, 1) * g[1], _L(1, 1) * g[0] + _L(0, 2) * g[1]]
    assert [sp.simplify(s - x / (1 - b)) for s, x in zip(m.state[0], g)] == [0, 0]
    assert [sp.simplify(s - x / (1 - b) ** 3) for s, x in zip(m.state[1], Hg)] == [0, 0]
    assert [sp.simplify(p + x / (1 - b)) for p, x in zip(m.psi[1], g)] == [0, 0]  # ψ₁ = −g/(1−β)


def test_the_previous_iterate_as_state_gives_the_same_map():
    # heavy ball written as θ⁺ = θ − h∇L + β(θ − θ⁻), state θ⁻: at h = 0 the step moves θ off the diagonal, the
    # manifold of fixed points is s = θ, and the θ-map on the slow manifold must be the velocity form's
    def step(theta, state, grad, h, beta=Fraction(1, 2)):
        g = grad(theta)
        return [t - h * gi + beta * (t - p) for t, gi, p in zip(theta, g, state)], list(theta)

    def init_state(theta):
        return list(theta)

    two_step = protocol.as_optimizer(step)
    two_step = protocol.Optimizer(name="two-step", step=step, init_state=init_state, values=two_step.values)
    a = slow_manifold.expand(two_step, LOSS, 3)
    b = slow_manifold.expand(protocol.as_optimizer(optimizers.heavy_ball), LOSS, 3)
    for k in range(1, 4):
        assert [sp.simplify(x - y) for x, y in zip(a.psi[k], b.psi[k])] == [0, 0]


def test_a_state_that_never_settles_is_refused():
    def adagrad(theta, state, grad, h):
        g = grad(theta)
        v = [vi + gi * gi for vi, gi in zip(state, g)]
        return [t - h * gi / (vi + 1) ** sp.Rational(1, 2) for t, gi, vi in zip(theta, g, v)], v

    rule = protocol.Optimizer(name="adagrad", step=adagrad, init_state=lambda theta: [0] * len(theta))
    with pytest.raises(InputError, match="does not settle"):
        slow_manifold.expand(rule, LOSS, 1)
    with mpmath.workdps(20), pytest.raises(InputError, match="never settles"):
        slow_manifold.settle(rule, LOSS, THETA0, max_steps=200)


def test_a_rule_that_moves_theta_at_h_zero_is_refused():
    rule = protocol.Optimizer(name="drift", step=lambda theta, state, grad, h: ([t - g for t, g in
                                                                                 zip(theta, grad(theta))], state))
    with pytest.raises(InputError, match="moves θ"):
        slow_manifold.expand(rule, LOSS, 1)


def test_sign_descent_is_expanded_near_a_point_and_refused_at_its_kink():
    from theorycheck.maths.scalar import sign

    rule = protocol.Optimizer(name="signsgd", step=lambda theta, state, grad, h: (
        [t - h * sign(g) for t, g in zip(theta, grad(theta))], state))
    m = slow_manifold.expand(rule, LOSS, 2, point=THETA0)
    assert all(c.is_number for c in m.psi[1]) and m.psi[2] == [0, 0]  # −sign(g(θ₀)) is constant nearby
    with pytest.raises(InputError, match="needs a point"):
        slow_manifold.expand(rule, LOSS, 1)
    quad = losses.ZOO["quadratic"]  # ∂_bL = a + b vanishes at (1, −1)
    with pytest.raises(InputError, match="kink"):
        slow_manifold.expand(rule, quad, 1, point=(Fraction(1), Fraction(-1)))


def test_the_orbit_on_the_slow_manifold_is_heavy_balls_by_hand():
    rule = protocol.as_optimizer(optimizers.heavy_ball)
    h = Fraction(1, 64)
    with mpmath.workdps(30):
        hand = momentum.heavy_ball_orbit(LOSS, Fraction(1, 2), THETA0, h, 3, 30)
        manifold = slow_manifold.expand(rule, LOSS, 3)
        for m in (None, manifold):  # from the settled state at h = 0, and from the expansion
            mine = slow_manifold.slow_orbit(rule, LOSS, THETA0, h, 3, 30, manifold=m)
            assert max(abs(x - y) for p, q in zip(mine, hand) for x, y in zip(p, q)) < mpmath.mpf(10) ** -28
        assert slow_manifold.fast_factor(rule, LOSS, THETA0) == pytest.approx(0.5, abs=1e-12)


def test_transient_steps_and_their_limits():
    assert slow_manifold.transient_steps(0.0, 30) == 2
    assert slow_manifold.transient_steps(0.5, 30) == momentum.transient_steps(0.5, 30)
    with pytest.raises(InputError, match="does not decay"):
        slow_manifold.transient_steps(1.0, 30)
    with pytest.raises(InputError, match="more than"):
        slow_manifold.transient_steps(0.999, 30)


def test_a_state_that_grows_has_no_slow_manifold_and_is_refused_by_its_factor():
    def step(theta, state, grad, h, beta=Fraction(2)):
        v = [beta * vi + gi for vi, gi in zip(state, grad(theta))]
        return [t - h * vi for t, vi in zip(theta, v)], v

    def init_state(theta):
        return [0] * len(theta)

    step.__module__ = "growing_rule"
    rule = protocol.as_optimizer(type("Rule", (), {"step": staticmethod(step), "init_state": staticmethod(init_state)})())
    with mpmath.workdps(30), pytest.raises(InputError, match=r"multiplied by up to 2 per step .* no slow manifold"):
        slow_manifold.fast_factor(rule, LOSS, THETA0, [0, 0])
