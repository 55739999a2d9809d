"""Tr H and λ_max of a two-layer net: exact from the Gram matrix and Hutchinson/Lanczos, against the dense Hessian."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.maths import networks
from theorycheck.maths import stability as ms
from theorycheck.maths.sampling import sampling_factor
from theorycheck.numerics.curvature import estimated_curvature, exact_curvature
from theorycheck.numerics.stability import critical_rate


@pytest.fixture
def interpolated():
    """A small net at an interpolating minimum: targets are its own outputs, so H = GᵀG/n."""
    net = networks.init_net(3, 6, seed=2)
    X = np.random.default_rng(0).standard_normal((9, 3))
    return net, X, net(X)


def test_closed_form_gram_is_the_gram_of_the_per_sample_gradients(interpolated):
    net, X, _ = interpolated
    G = networks.per_sample_gradients(net, X)
    assert np.allclose(networks.gradient_gram(net, X), G @ G.T, atol=1e-12)


def test_exact_curvature_matches_the_dense_hessian_at_interpolation(interpolated):
    net, X, y = interpolated
    H = networks.hessian_exact(net, X, y)
    w = np.linalg.eigvalsh(H)
    G = networks.per_sample_gradients(net, X)
    for c in (exact_curvature(gradients=G), exact_curvature(gram=networks.gradient_gram(net, X))):
        assert c.trace == pytest.approx(np.trace(H), rel=1e-10)
        assert c.lambda_max == pytest.approx(w[-1], rel=1e-10)
        assert c.trace_ci is None


def test_hutchinson_interval_covers_the_dense_trace_and_lanczos_finds_lambda_max(interpolated):
    net, X, y = interpolated
    H = networks.hessian_exact(net, X, y)
    c = estimated_curvature(networks.hvp(net, X, y), net.n_params, samples=400, seed=1)
    lo, hi = c.trace_ci
    assert lo <= np.trace(H) <= hi and hi - lo < 0.5 * np.trace(H)
    assert c.lambda_max == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-8)
    # a wrong operator (2H) is not covered: the interval can fail
    c2 = estimated_curvature(lambda v: 2 * networks.hvp(net, X, y)(v), net.n_params, samples=400, seed=1)
    assert not c2.trace_ci[0] <= np.trace(H) <= c2.trace_ci[1]


def test_eta_star_from_the_gram_matrix_alone_equals_the_gradient_route(interpolated):
    net, X, _ = interpolated
    G = networks.per_sample_gradients(net, X)
    p = sampling_factor(9, 2, "with")
    ref = critical_rate(ms.problem_from_gradients(G, method="svd"), p, rtol=1e-12)
    P = ms.problem_from_gram(networks.gradient_gram(net, X), d=net.n_params)
    assert critical_rate(P, p, rtol=1e-12) == pytest.approx(ref, rel=1e-9)
    assert ms.non_uniformity(P) == pytest.approx(ms.non_uniformity(ms.problem_from_gradients(G)), rel=1e-9)
    with pytest.raises(InputError, match="no basis"):
        P.basis


def test_bad_input_is_one_clear_error():
    with pytest.raises(InputError, match="exactly one"):
        exact_curvature()
    with pytest.raises(InputError, match="square"):
        exact_curvature(gram=np.ones((2, 3)))
    with pytest.raises(InputError, match="semidefinite"):
        ms.problem_from_gram(-np.eye(3), d=3)
    with pytest.raises(InputError, match="rank"):
        ms.problem_from_gram(np.eye(3), d=2)
