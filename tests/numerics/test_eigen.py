"""Tests for theorycheck.numerics.eigen: Lanczos λ_max and Hutchinson traces against dense references."""

import numpy as np
import pytest

from theorycheck.maths import networks
from theorycheck.numerics import eigen


def _data(seed=0, n=7, d=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


def test_lanczos_lambda_max_matches_dense_eigenvalue():
    net = networks.init_net(4, 12, seed=3)
    X, y = _data(1, 10, 4)
    H = networks.hessian_exact(net, X, y)
    assert eigen.lambda_max(networks.hessian_operator(net, X, y)) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-9)
    G = networks.per_sample_gradients(net, X)
    assert eigen.lambda_max_gauss_newton(G) == pytest.approx(np.linalg.eigvalsh(G.T @ G / 10)[-1], rel=1e-10)


def test_hutchinson_interval_covers_the_exact_trace():
    net = networks.init_net(3, 8, seed=4)
    X, y = _data(2, 9, 3)
    est = eigen.hutchinson_trace(networks.hessian_operator(net, X, y), samples=200, seed=0)
    assert est.contains(networks.trace_hessian(net, X, y).total)
    assert est.half_width > 0
