"""Tests for theorycheck.numerics.experiments: the paired IGR experiments are deterministic and honest about bad arms."""

import math

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.core.evidence import Verdict
from theorycheck.maths.datasets import regression_task
from theorycheck.maths.networks import Architecture
from theorycheck.numerics import experiments


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    task = regression_task(rng, n_train=10, n_test=20)
    net = Architecture(2, 5)
    return net, task, net.init(rng, bias_scale=experiments.INIT_BIAS_SCALE)


def test_perturbation_increase_matches_half_trace(problem):
    """Antithetic MC of E[L(θ+σε)] − L(θ) against (σ²/2) Tr H: within 5 standard errors of the quadratic form."""
    net, task, theta = problem
    sigma, S = 1e-3, 4000
    inc = experiments.perturbation_increase(net, theta, task.X, task.y, sigma, S, np.random.default_rng(5))
    Hm = net.hessian(theta, task.X, task.y)
    quad = 0.5 * sigma**2 * np.trace(Hm)
    se = 0.5 * sigma**2 * math.sqrt(2 * np.sum(Hm * Hm) / S)  # sd of εᵀHε is sqrt(2 tr H²)
    assert abs(inc - quad) < 5 * se


def test_paired_experiment_is_deterministic_and_flags_bad_arm():
    setup = experiments.Setup(seeds=3, width=8, rate_fraction=1.0)
    a = experiments.gradient_penalty_vs_rate(setup, seed=11)
    b = experiments.gradient_penalty_vs_rate(setup, seed=11)
    assert [r.diff for r in a.records] == [r.diff for r in b.records]
    with pytest.raises(InputError):
        experiments._paired_runs(regression_task, setup, 0, "depth")


def test_direction_flip_mirrors_the_verdict():
    setup = experiments.Setup(seeds=4, width=8)
    up = experiments.gradient_penalty_vs_width(setup, seed=2)
    down = experiments.gradient_penalty_vs_width(setup, seed=2, direction=-1)
    assert up.effect.mean == down.effect.mean
    flip = {Verdict.PASS: Verdict.FAIL, Verdict.FAIL: Verdict.PASS, Verdict.INCONCLUSIVE: Verdict.INCONCLUSIVE}
    assert down.effect.verdict is flip[up.effect.verdict]
