"""theorycheck.maths.networks: closed forms against autograd, traces, λ_max, the SGD threshold and training outcomes."""

import itertools

import numpy as np
import pytest
from autograd import grad
from hypothesis import given, settings, strategies as st

from theorycheck.properties.strategies import interpolating_datasets, nets_and_inputs, two_layer_nets
from theorycheck.maths import networks as N
from theorycheck.maths.stability import critical_learning_rate_features
from theorycheck.core.errors import InputError


def _data(seed=0, n=7, d=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


@pytest.mark.parametrize("activation", list(N.ACTIVATIONS))
@pytest.mark.parametrize("bias", [True, False])
def test_closed_forms_match_autograd(activation, bias):
    net = N.init_net(3, 5, seed=1, activation=activation, bias=bias)
    X, y = _data()
    f = N.autograd_output(net)
    G = N.per_sample_gradients(net, X)
    assert np.allclose(G, [grad(f)(net.theta, x) for x in X], atol=1e-13)
    assert np.allclose(N.input_gradients(net, X), [grad(f, 1)(net.theta, x) for x in X], atol=1e-13)
    H = N.hessian_exact(net, X, y)
    assert N.trace_hessian(net, X, y).total == pytest.approx(np.trace(H), abs=1e-12)
    assert np.allclose(N.loss_gradient(net, X, y), grad(N._autograd_loss(net, X, y))(net.theta), atol=1e-13)
    v = np.random.default_rng(2).standard_normal(net.n_params)
    assert np.allclose(N.hessian_operator(net, X, y).matvec(v), H @ v, atol=1e-12)
    assert N.gradient_norms(net, X).theta == pytest.approx(np.sum(G * G, axis=1))


@pytest.mark.parametrize("activation", ["tanh", "softplus", "gelu"])
def test_sup_of_second_derivative_is_attained_and_bounds(activation):
    act = N.ACTIVATIONS[activation]
    z = np.linspace(-30, 30, 600001)
    assert np.max(np.abs(act.d2(z))) == pytest.approx(act.sup_d2, rel=1e-8)


def test_lanczos_lambda_max_matches_dense_eigenvalue():
    net = N.init_net(4, 12, seed=3)
    X, y = _data(1, 10, 4)
    H = N.hessian_exact(net, X, y)
    assert N.lambda_max(N.hessian_operator(net, X, y)) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-9)
    G = N.per_sample_gradients(net, X)
    assert N.lambda_max_gauss_newton(G) == pytest.approx(np.linalg.eigvalsh(G.T @ G / 10)[-1], rel=1e-10)


def test_hutchinson_interval_covers_the_exact_trace():
    net = N.init_net(3, 8, seed=4)
    X, y = _data(2, 9, 3)
    est = N.hutchinson_trace(N.hessian_operator(net, X, y), samples=200, seed=0)
    assert est.contains(N.trace_hessian(net, X, y).total)
    assert est.half_width > 0


@settings(max_examples=20)
@given(interpolating_datasets(two_layer_nets(width=st.integers(1, 4), dim=st.integers(1, 3)), n=st.integers(1, 5)))
def test_gauss_newton_identity_at_exact_interpolants(ex):
    net, X, y = ex
    tr = N.trace_hessian(net, X, y)
    assert abs(tr.residual) <= 1e-12 * max(1.0, tr.gauss_newton)


@settings(max_examples=30)
@given(nets_and_inputs())
def test_multiplicative_identity_pieces(ex):
    net, X = ex
    g = N.gradient_norms(net, X)
    # ‖∇_W f‖_F = ‖δ‖‖x‖ exactly (rank-one gradient)
    G = N.per_sample_gradients(net, X)[:, : net.width * net.dim]
    assert np.allclose(np.sum(G * G, axis=1), g.W, rtol=1e-12, atol=1e-300)


def _brute_force_rho(F, eta, B):
    n, r = F.shape
    Q = np.zeros((r * r, r * r))
    combos = list(itertools.combinations(range(n), B))
    for S in combos:
        A = np.eye(r) - eta * F[list(S)].T @ F[list(S)] / B
        Q += np.kron(A, A)
    return np.max(np.abs(np.linalg.eigvals(Q / len(combos))))


@pytest.mark.parametrize("B", [1, 2, 3])
def test_stability_threshold_on_net_gradients_is_where_the_enumerated_map_has_radius_one(B):
    rng = np.random.default_rng(B)
    G = rng.standard_normal((5, 3))
    F = N.reduced_features(G)
    eta = critical_learning_rate_features(G, B, "without")
    assert _brute_force_rho(F, eta, B) == pytest.approx(1.0, abs=1e-9)
    assert _brute_force_rho(F, 0.97 * eta, B) < 1 < _brute_force_rho(F, 1.03 * eta, B)
    nec = N.sgd_necessary_bounds(G, B)
    assert eta <= nec["trace"] * (1 + 1e-12) and eta <= nec["gd"] * (1 + 1e-12)


def test_full_batch_threshold_is_two_over_lambda_max():
    G = np.random.default_rng(0).standard_normal((6, 4))
    assert critical_learning_rate_features(G, 6, "without") == pytest.approx(2 / N.lambda_max_gauss_newton(G), rel=1e-10)


def test_training_reports_interpolation_and_failure_honestly():
    X, y = _data(3, 8, 3)
    net0 = N.init_net(3, 16, seed=0)
    ok = N.train(net0, X, y, "gd", 0.3, steps=20000, tol=1e-8)
    assert ok.interpolated and ok.train_loss <= 1e-8 and ok.status == "interpolated"
    short = N.train(net0, X, y, "gd", 0.01, steps=5, tol=1e-8)
    assert not short.interpolated and short.status == "max_steps"
    boom = N.train(net0, X, y, "gd", 50.0, steps=200, tol=1e-8)
    assert boom.status == "diverged" and not boom.interpolated
    a = N.train(net0, X, y, "sgd", 0.1, batch=3, seed=5, steps=50)
    b = N.train(net0, X, y, "sgd", 0.1, batch=3, seed=5, steps=50)
    assert np.array_equal(a.net.theta, b.net.theta)


@pytest.mark.parametrize("kw, msg", [
    (dict(optimizer="adam"), "optimizer"), (dict(lr=0.0), "lr"), (dict(lr=-1.0), "lr"), (dict(lr=float("nan")), "lr"),
    (dict(optimizer="sgd", batch=0), "batch"), (dict(optimizer="sgd", batch=99), "batch"),
    (dict(optimizer="sgd"), "batch"), (dict(steps=0), "steps"), (dict(tol=0.0), "tol"),
])
def test_bad_training_settings(kw, msg):
    X, y = _data()
    with pytest.raises(InputError, match=msg):
        N.train(N.init_net(3, 2), X, y, **kw)


@pytest.mark.parametrize("X, y, msg", [
    (np.ones((3, 2)), np.ones(4), "shape"), (np.full((2, 2), np.nan), np.ones(2), "NaN"),
    (np.ones(3), np.ones(3), "shape"), (np.array([["a"]]), np.ones(1), "numeric"),
])
def test_bad_data(X, y, msg):
    with pytest.raises(InputError, match=msg):
        N.validate_data(X, y)


def test_width_zero_and_bad_activation_are_refused():
    with pytest.raises(InputError, match="width"):
        N.init_net(3, 0)
    with pytest.raises(InputError, match="activation"):
        N.init_net(3, 2, activation="sine")
