"""A user's model f(params, x): autograd, JAX and PyTorch derivatives against the closed forms of the two-layer
net, and the matrix-free stability, flatness and edge-of-stability measurements (with mutants)."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.maths import networks
from theorycheck.maths.models import model_derivatives
from theorycheck.numerics import models as M

D, WIDTH, N = 3, 5, 7

# torch.func warns about its own use of torch.jit.script: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def _f(lib):
    """The two-layer net f(θ, x) = aᵀ tanh(Wx + b) written in one library (θ = (W row-major, b, a))."""
    def f(theta, x):
        W = theta[: WIDTH * D].reshape(WIDTH, D)
        b, a = theta[WIDTH * D: WIDTH * D + WIDTH], theta[WIDTH * D + WIDTH:]
        return lib.dot(a, lib.tanh(W @ x + b))
    return f


def _backend(name):
    if name == "autograd":
        import autograd.numpy as anp

        return model_derivatives(_f(anp), "autograd")
    if name == "jax":
        jnp = pytest.importorskip("jax.numpy")
        return model_derivatives(_f(jnp), "jax")
    torch = pytest.importorskip("torch")
    return model_derivatives(_f(torch), "torch")


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    net = networks.init_net(D, WIDTH, seed=4, bias=True)
    X, y = rng.standard_normal((N, D)), rng.standard_normal(N)
    return net, X, y


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("backend", ["autograd", "jax", "torch"])
def test_backends_agree_with_the_closed_forms_to_1e_8(problem, backend):
    net, X, y = problem
    md = _backend(backend)
    th = net.theta
    v = np.random.default_rng(5).standard_normal(th.size)
    agree = {
        "outputs": _rel(md.outputs(th, X), net(X)),
        "per_sample_gradients": _rel(md.per_sample_gradients(th, X), networks.per_sample_gradients(net, X)),
        "input_gradients": _rel(md.input_gradients(th, X), networks.input_gradients(net, X)),
        "hvp": _rel(md.hvp(th, X, y, v), networks.hvp(net, X, y)(v)),
        "trace": _rel(M.hessian_trace(md, th, X, y), networks.trace_hessian(net, X, y).total),
    }
    assert max(agree.values()) < 1e-8, agree


def test_measurements_match_the_dense_references(problem):
    net, X, y = problem
    md = _backend("autograd")
    th = net.theta
    H = networks.hessian_exact(net, X, y)
    assert M.top_hessian_eigenvalue(md, th, X, y) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-9)
    assert M.gauss_newton_trace(md, th, X) == pytest.approx(networks.trace_hessian(net, X, y).gauss_newton, rel=1e-12)
    probes = 300
    est = M.hessian_trace(md, th, X, y, probes=probes, seed=1)
    sd = np.sqrt(2 * (np.sum(H**2) - np.sum(np.diag(H) ** 2)) / probes)  # Rademacher Hutchinson's standard error
    assert abs(est - np.trace(H)) < 5 * sd
    eos = M.edge_of_stability_at(md, th, X, y, lr=0.1)
    assert eos["ratio"] == pytest.approx(0.1 * np.linalg.eigvalsh(H)[-1] / 2, rel=1e-9)


def test_stability_at_an_interpolating_point_equals_eta_star_of_the_rank_one_hessians(problem):
    from theorycheck.numerics.stability import critical_learning_rate

    net, X, _ = problem
    md = _backend("autograd")
    y = net(X)  # targets the net fits exactly: the residual term of each Hᵢ vanishes
    st = M.stability_at(md, net.theta, X, y, batch=2)
    G = networks.per_sample_gradients(net, X)
    Hs = np.einsum("ni,nj->nij", G, G)
    assert st["max_abs_residual"] < 1e-12
    assert st["eta_star"] == pytest.approx(critical_learning_rate(Hs, 2), rel=1e-7)
    assert st["conditions"]["gd_sharpness"]["threshold"] >= st["eta_star"] * (1 - 1e-9)  # necessary


def _deep(lib):
    """A three-layer net: the multiplicative structure holds at its first layer whatever follows."""
    def f(theta, x):
        W1 = theta[:12].reshape(4, 3)
        W2 = theta[12:28].reshape(4, 4)
        return lib.dot(theta[28:32], lib.tanh(W2 @ lib.tanh(W1 @ x)))
    return f


def test_multiplicative_inequality_and_sobolev_bound_at_the_first_layer_of_a_deeper_net():
    import autograd.numpy as anp

    md = model_derivatives(_deep(anp), "autograd")
    rng = np.random.default_rng(7)
    th, X = rng.standard_normal(32), rng.standard_normal((9, 3))
    first = M.FirstLayer(0, (4, 3))
    lhs, rhs = M.multiplicative_at(md, th, X, first)
    assert np.all(lhs <= rhs * (1 + 1e-12)) and np.max(lhs / rhs) > 0.1
    # mutant: half the bound fails
    assert np.any(lhs > rhs / 2)
    sob = M.sobolev_at(md, th, X, first)
    assert sob["input_grad_sq_mean"] <= sob["bound"]
    W1 = first.weight(th)
    assert np.linalg.norm(W1, 2) > 1 and sob["input_grad_sq_mean"] > sob["bound"] / np.linalg.norm(W1, 2) ** 2 / 10


def test_bad_models_and_data_are_clear_errors(problem):
    net, X, y = problem
    with pytest.raises(InputError, match="unknown model backend 'tf'"):
        model_derivatives(_f(np), "tf")
    with pytest.raises(InputError, match="must be a function"):
        model_derivatives(3)
    md = _backend("autograd")
    with pytest.raises(InputError, match="one per input row"):
        M.stability_at(md, net.theta, X, y[:3], batch=1)
    with pytest.raises(InputError, match="does not fit"):
        M.multiplicative_at(md, net.theta, X, M.FirstLayer(30, (5, 3)))
