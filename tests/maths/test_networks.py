"""theorycheck.maths.networks: closed forms against autograd, traces, λ_max, the SGD threshold and training outcomes."""

import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings
from hypothesis import strategies as st

from theorycheck.core.errors import InputError
from theorycheck.maths import networks
from theorycheck.properties.strategies import (
    interpolating_datasets,
    nets_and_inputs,
    two_layer_nets,
)


def _data(seed=0, n=7, d=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


@pytest.mark.parametrize("activation", list(networks.ACTIVATIONS))
@pytest.mark.parametrize("bias", [True, False])
def test_closed_forms_match_autograd(activation, bias):
    net = networks.init_net(3, 5, seed=1, activation=activation, bias=bias)
    X, y = _data()
    f = net.architecture.autograd_output()
    G = networks.per_sample_gradients(net, X)
    assert np.allclose(G, [grad(f)(net.theta, x) for x in X], atol=1e-13)
    assert np.allclose(networks.input_gradients(net, X), [grad(f, 1)(net.theta, x) for x in X], atol=1e-13)
    H = networks.hessian_exact(net, X, y)
    assert networks.trace_hessian(net, X, y).total == pytest.approx(np.trace(H), abs=1e-12)
    assert np.allclose(net.architecture.gradient(net.theta, X, y), grad(net.architecture.autograd_loss(X, y))(net.theta), atol=1e-13)
    v = np.random.default_rng(2).standard_normal(net.n_params)
    assert np.allclose(networks.hessian_operator(net, X, y).matvec(v), H @ v, atol=1e-12)
    assert networks.gradient_norms(net, X).theta == pytest.approx(np.sum(G * G, axis=1))


@pytest.mark.parametrize("activation", ["tanh", "softplus", "gelu"])
def test_sup_of_second_derivative_is_attained_and_bounds(activation):
    act = networks.ACTIVATIONS[activation]
    z = np.linspace(-30, 30, 600001)
    assert np.max(np.abs(act.d2(z))) == pytest.approx(act.sup_d2, rel=1e-8)


@settings(max_examples=20)
@given(interpolating_datasets(two_layer_nets(width=st.integers(1, 4), dim=st.integers(1, 3)), n=st.integers(1, 5)))
def test_gauss_newton_identity_at_exact_interpolants(ex):
    net, X, y = ex
    tr = networks.trace_hessian(net, X, y)
    assert abs(tr.residual) <= 1e-12 * max(1.0, tr.gauss_newton)


@settings(max_examples=30)
@given(nets_and_inputs())
def test_multiplicative_identity_pieces(ex):
    net, X = ex
    g = networks.gradient_norms(net, X)
    # ‖∇_W f‖_F = ‖δ‖‖x‖ exactly (rank-one gradient)
    G = networks.per_sample_gradients(net, X)[:, : net.width * net.dim]
    assert np.allclose(np.sum(G * G, axis=1), g.W, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("X, y, msg", [
    (np.ones((3, 2)), np.ones(4), "shape"), (np.full((2, 2), np.nan), np.ones(2), "NaN"),
    (np.ones(3), np.ones(3), "shape"), (np.array([["a"]]), np.ones(1), "numeric"),
])
def test_bad_data(X, y, msg):
    with pytest.raises(InputError, match=msg):
        networks.validate_data(X, y)


def test_width_zero_and_bad_activation_are_refused():
    with pytest.raises(InputError, match="width"):
        networks.init_net(3, 0)
    with pytest.raises(InputError, match="activation"):
        networks.init_net(3, 2, activation="sine")


@pytest.fixture(scope="module")
def problem():
    from theorycheck.maths.datasets import regression_task

    rng = np.random.default_rng(3)
    task = regression_task(rng, n_train=10, n_test=20)
    arch = networks.Architecture(2, 5)
    return arch, task, arch.init(rng, bias_scale=0.1)


def test_gradient_matches_autograd(problem):
    from autograd import grad

    net, task, theta = problem
    g_ad = grad(net.autograd_loss(task.X, task.y))(theta)
    L, g = net.loss_and_gradient(theta, task.X, task.y)
    assert np.allclose(g, g_ad, rtol=1e-12, atol=1e-14)
    assert np.allclose(net.gradient(theta, task.X, task.y), g_ad, rtol=1e-12, atol=1e-14)
    assert L == pytest.approx(net.loss(theta, task.X, task.y), rel=1e-14)


def test_complex_step_hessian_matches_autograd(problem):
    from autograd import hessian

    net, task, theta = problem
    H_cs = net.hessian(theta, task.X, task.y)
    H_ad = hessian(net.autograd_loss(task.X, task.y))(theta)
    assert np.allclose(H_cs, H_ad, rtol=1e-10, atol=1e-12)
    v = np.random.default_rng(0).standard_normal(len(theta))
    assert np.allclose(net.hvp(theta, v, task.X, task.y), H_ad @ v, rtol=1e-10, atol=1e-12)


def test_batched_losses_equal_single(problem):
    net, task, theta = problem
    thetas = theta + 0.1 * np.random.default_rng(1).standard_normal((4, len(theta)))
    assert np.allclose(net.losses(thetas, task.X, task.y), [net.loss(t, task.X, task.y) for t in thetas], rtol=1e-13)


def test_flat_gradient_is_the_residual_weighted_mean_of_per_sample_gradients(problem):
    """The two views of the one model agree: ∇L(θ) of Architecture = (1/n) Σ rᵢ ∇_θ fᵢ of TwoLayerNet."""
    net, task, theta = problem
    tl = net.net(theta)
    r = tl(task.X) - task.y
    G = networks.per_sample_gradients(tl, task.X)
    assert np.allclose(net.gradient(theta, task.X, task.y), G.T @ r / len(r), rtol=1e-12, atol=1e-15)
    assert np.array_equal(tl.theta, theta)
