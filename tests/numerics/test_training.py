"""Tests for theorycheck.numerics.training: honest outcomes, reproducible SGD, the matched-loss stop."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.maths import networks
from theorycheck.numerics.training import train


def _data(seed=0, n=7, d=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def test_training_reports_interpolation_and_failure_honestly():
    X, y = _data(3, 8, 3)
    net0 = networks.init_net(3, 16, seed=0)
    ok = train(net0, X, y, "gd", 0.3, steps=20000, tol=1e-8)
    assert ok.reached and ok.train_loss <= 1e-8 and ok.status == "reached"
    assert ok.grad_sq == pytest.approx(float(np.sum(net0.architecture.gradient(ok.net.theta, X, y) ** 2)))
    short = train(net0, X, y, "gd", 0.01, steps=5, tol=1e-8)
    assert not short.reached and short.status == "max_steps" and short.steps == 5
    boom = train(net0, X, y, "gd", 50.0, steps=200, tol=1e-8)
    assert boom.status == "diverged" and boom.diverged and not boom.reached
    a = train(net0, X, y, "sgd", 0.1, batch=3, seed=5, steps=50)
    b = train(net0, X, y, "sgd", 0.1, batch=3, seed=5, steps=50)
    assert np.array_equal(a.net.theta, b.net.theta)


@pytest.mark.parametrize("kw, msg", [
    (dict(optimizer="adam"), "optimizer"), (dict(lr=0.0), "lr"), (dict(lr=-1.0), "lr"), (dict(lr=float("nan")), "lr"),
    (dict(optimizer="sgd", batch=0), "batch"), (dict(optimizer="sgd", batch=99), "batch"),
    (dict(optimizer="sgd"), "batch"), (dict(steps=0), "steps"), (dict(tol=0.0), "tol"),
])
def test_bad_training_settings(kw, msg):
    X, y = _data()
    with pytest.raises(InputError, match=msg):
        train(networks.init_net(3, 2), X, y, **kw)


def test_matched_loss_stop_is_the_first_step_below_the_target():
    """check_every=1 stops at the first GD step with L ≤ tol, and levels record ‖∇L‖ where L first crosses them."""
    X, y = _data(4, 8, 3)
    net0 = networks.init_net(3, 8, seed=1)
    arch = net0.architecture
    L0 = arch.loss(net0.theta, X, y)
    res = train(net0, X, y, "gd", 0.2, steps=100_000, tol=0.3 * L0, check_every=1, levels=[0.8 * L0, 0.5 * L0])
    assert res.reached and res.train_loss <= 0.3 * L0
    theta = net0.theta
    losses = []
    for _ in range(res.steps):  # replay the run by hand: every earlier iterate is above the target
        losses.append(arch.loss(theta, X, y))
        theta = theta - 0.2 * arch.gradient(theta, X, y)
    assert np.array_equal(theta, res.net.theta) and min(losses) > 0.3 * L0
    first = [next(i for i, v in enumerate(losses + [res.train_loss]) if v <= lev) for lev in res.levels]
    assert first == sorted(first) and all(np.isfinite(res.level_slopes))


def test_levels_need_full_batch_gd():
    X, y = _data()
    with pytest.raises(InputError, match="full-batch"):
        train(networks.init_net(3, 2), X, y, "sgd", 0.1, batch=2, levels=[0.1])


def test_train_to_a_matched_loss_stops_at_first_crossing():
    rng = np.random.default_rng(3)
    from theorycheck.maths.datasets import regression_task
    from theorycheck.numerics.experiments import sharpness

    task = regression_task(rng, n_train=10, n_test=20)
    arch = networks.Architecture(2, 5)
    theta = arch.init(rng, bias_scale=0.1)
    L0 = arch.loss(theta, task.X, task.y)
    h = 0.5 / sharpness(arch, theta, task.X, task.y)
    r = train(arch.net(theta), task.X, task.y, "gd", h, steps=200_000, tol=0.5 * L0, check_every=1,
              levels=[0.9 * L0, 0.7 * L0])
    assert r.reached and not r.diverged and r.train_loss <= 0.5 * L0
    # one step earlier the loss was still above the target
    prev = train(arch.net(theta), task.X, task.y, "gd", h, steps=r.steps - 1, tol=1e-300, check_every=1)
    assert prev.train_loss > 0.5 * L0
    assert all(np.isfinite(s) for s in r.level_slopes)


def test_divergence_is_reported():
    X, y = _data(3, 8, 3)
    r = train(networks.init_net(3, 5, seed=2), X, y, "gd", 1e3, steps=200, tol=1e-300, check_every=1, divergence=1e6)
    assert r.diverged and not r.reached and np.isnan(r.grad_sq)
