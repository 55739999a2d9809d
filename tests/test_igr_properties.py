"""The IGR property experiments: the network's derivatives, training to a matched loss, and the statistical verdicts."""

import math

import numpy as np
import pytest

from theorycheck.numerics import experiments as IP
from theorycheck.core.errors import InputError
from theorycheck.core.evidence import Verdict


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    task = IP.regression_task(rng, n_train=10, n_test=20)
    net = IP.TanhNet(2, 5)
    return net, task, net.init(rng)


def test_gradient_matches_autograd(problem):
    from autograd import grad

    net, task, theta = problem
    g_ad = grad(net.loss_autograd())(theta, task.X, task.y)
    L, g = net.loss_and_grad(theta, task.X, task.y)
    assert np.allclose(g, g_ad, rtol=1e-12, atol=1e-14)
    assert np.allclose(net.grad(theta, task.X, task.y), g_ad, rtol=1e-12, atol=1e-14)
    assert L == pytest.approx(net.loss(theta, task.X, task.y), rel=1e-14)


def test_complex_step_hessian_matches_autograd(problem):
    net, task, theta = problem
    H_cs = net.hessian(theta, task.X, task.y)
    H_ad = net.hessian_autograd(theta, task.X, task.y)
    assert np.allclose(H_cs, H_ad, rtol=1e-10, atol=1e-12)
    v = np.random.default_rng(0).standard_normal(len(theta))
    assert np.allclose(net.hvp(theta, v, task.X, task.y), H_ad @ v, rtol=1e-10, atol=1e-12)


def test_batched_losses_equal_single(problem):
    net, task, theta = problem
    thetas = theta + 0.1 * np.random.default_rng(1).standard_normal((4, len(theta)))
    assert np.allclose(net.losses(thetas, task.X, task.y), [net.loss(t, task.X, task.y) for t in thetas], rtol=1e-13)


def test_gradient_agrees_with_nets_module(problem):
    """The closed-form loss gradient of theorycheck.maths.networks as a second implementation."""
    from theorycheck.maths import networks as nets

    net, task, theta = problem
    W, b, a = net.unpack(theta)
    try:
        tl = nets.TwoLayerNet(W=W, b=b, a=a, activation="tanh")
    except TypeError:
        pytest.skip("theorycheck.maths.networks.TwoLayerNet has a different constructor")
    assert np.allclose(nets.loss_gradient(tl, task.X, task.y), net.grad(theta, task.X, task.y), rtol=1e-10)


def test_train_to_loss_stops_at_first_crossing(problem):
    net, task, theta = problem
    L0 = net.loss(theta, task.X, task.y)
    h = 0.5 / IP.sharpness(net, theta, task.X, task.y)
    r = IP.train_to_loss(net, task.X, task.y, theta, h, 0.5 * L0, levels=[0.9 * L0, 0.7 * L0])
    assert r.reached and not r.diverged and r.loss <= 0.5 * L0
    # one step earlier the loss was still above the target
    prev = IP.train_to_loss(net, task.X, task.y, theta, h, 0.0, max_steps=r.steps - 1)
    assert prev.loss > 0.5 * L0
    assert all(math.isfinite(s) for s in r.slopes)


def test_divergence_is_reported(problem):
    net, task, theta = problem
    r = IP.train_to_loss(net, task.X, task.y, theta, 1e3, 0.0, max_steps=200)
    assert r.diverged and not r.reached


def test_perturbation_increase_matches_half_trace(problem):
    """Antithetic MC of E[L(θ+σε)] − L(θ) against (σ²/2) Tr H: within 5 standard errors of the quadratic form."""
    net, task, theta = problem
    sigma, S = 1e-3, 4000
    inc = IP.perturbation_increase(net, theta, task.X, task.y, sigma, S, np.random.default_rng(5))
    Hm = net.hessian(theta, task.X, task.y)
    quad = 0.5 * sigma**2 * np.trace(Hm)
    se = 0.5 * sigma**2 * math.sqrt(2 * np.sum(Hm * Hm) / S)  # sd of εᵀHε is sqrt(2 tr H²)
    assert abs(inc - quad) < 5 * se


@pytest.mark.parametrize("diffs, direction, verdict", [
    ([1.0, 1.2, 0.9, 1.1, 1.05], 1, Verdict.PASS),
    ([1.0, 1.2, 0.9, 1.1, 1.05], -1, Verdict.FAIL),
    ([-1.0, -1.2, -0.9, -1.1], 1, Verdict.FAIL),
    ([1.0, -1.0, 0.5, -0.4, 0.1], 1, Verdict.INCONCLUSIVE),
    ([1.0, 2.0], 1, Verdict.INCONCLUSIVE),
    ([1.0, float("nan"), 2.0], 1, Verdict.INCONCLUSIVE),
])
def test_effect_size_verdicts(diffs, direction, verdict):
    e = IP.effect_size(diffs, direction=direction)
    assert e.verdict is verdict
    if e.n >= 3:
        assert e.ci[0] <= e.mean <= e.ci[1]


def test_effect_size_min_effect_threshold_is_a_mutant_knob():
    d = [0.10, 0.12, 0.11, 0.09, 0.10, 0.11]
    assert IP.effect_size(d).verdict is Verdict.PASS
    assert IP.effect_size(d, min_effect=1.0).verdict is Verdict.FAIL


def test_effect_size_intervals_are_seeded():
    d = list(np.random.default_rng(0).normal(0.3, 1.0, 12))
    a, b = IP.effect_size(d, seed=4), IP.effect_size(d, seed=4)
    assert a.ci_bootstrap == b.ci_bootstrap


@pytest.mark.parametrize("kw", [{"direction": 0}, {"confidence": 1.5}])
def test_effect_size_bad_arguments(kw):
    with pytest.raises(InputError):
        IP.effect_size([1.0, 2.0, 3.0], **kw)


def test_equivalence_verdicts():
    assert IP.equivalence([0.01, -0.02, 0.0, 0.015], 0.1).verdict is Verdict.PASS
    assert IP.equivalence([0.7, 0.69, 0.71, 0.7], 0.1).verdict is Verdict.FAIL
    assert IP.equivalence([0.0, 0.3, -0.2, 0.25], 0.1).verdict is Verdict.INCONCLUSIVE


def test_paired_experiment_is_deterministic_and_flags_bad_arm():
    setup = IP.Setup(seeds=3, width=8, rate_fraction=1.0)
    a = IP.gradient_penalty_vs_rate(setup, seed=11)
    b = IP.gradient_penalty_vs_rate(setup, seed=11)
    assert [r.diff for r in a.records] == [r.diff for r in b.records]
    with pytest.raises(InputError):
        IP._paired_runs(IP.regression_task, setup, 0, "depth")


def test_direction_flip_mirrors_the_verdict():
    setup = IP.Setup(seeds=4, width=8)
    up = IP.gradient_penalty_vs_width(setup, seed=2)
    down = IP.gradient_penalty_vs_width(setup, seed=2, direction=-1)
    assert up.effect.mean == down.effect.mean
    flip = {Verdict.PASS: Verdict.FAIL, Verdict.FAIL: Verdict.PASS, Verdict.INCONCLUSIVE: Verdict.INCONCLUSIVE}
    assert down.effect.verdict is flip[up.effect.verdict]
