"""The model protocol on every backend: autograd, JAX, torch and the closed-form two-layer net held to each other
and to dense references, for the square, logistic and cross-entropy losses; the streamed Gram matrix, η*(B),
traces and bounds built on it (with mutants)."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.maths import networks
from theorycheck.maths.models import ModelError, model
from theorycheck.numerics import models as M

D, WIDTH, N = 3, 5, 7

# torch.func warns about its own use of torch.jit.script: not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")


def _f(lib, outputs=1):
    """aᵀ tanh(Wx + b) (θ = (W row-major, b, a)); with ``outputs`` = k > 1, k linear read-outs A tanh(Wx + b)."""
    def f(theta, x):
        W = theta[: WIDTH * D].reshape(WIDTH, D)
        b, a = theta[WIDTH * D: WIDTH * D + WIDTH], theta[WIDTH * D + WIDTH:]
        h = lib.tanh(W @ x + b)
        return lib.dot(a, h) if outputs == 1 else a.reshape(outputs, WIDTH) @ h
    return f


def _lib(name):
    if name == "autograd":
        import autograd.numpy as anp

        return anp
    return pytest.importorskip("jax.numpy" if name == "jax" else "torch")


BACKENDS = ["autograd", "jax", "torch"]


def _module(outputs=1):
    """``_f`` as a torch ``nn.Module`` on a batch (parameters W, b, a in θ's order): the module route of the torch
    backend (plain autograd on the batch) against the function route (torch.func, one sample at a time)."""
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.W = torch.nn.Parameter(torch.zeros(WIDTH, D))
            self.b = torch.nn.Parameter(torch.zeros(WIDTH))
            self.a = torch.nn.Parameter(torch.zeros(outputs, WIDTH) if outputs > 1 else torch.zeros(WIDTH))

        def forward(self, x):
            h = torch.tanh(x @ self.W.T + self.b)
            return h @ self.a.T if outputs > 1 else h @ self.a

    return Net()


def _backend_model(backend, outputs=1, loss="square"):
    if backend == "torch-module":
        return model(_module(outputs), "torch", loss)
    return model(_f(_lib(backend), outputs), backend, loss)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    net = networks.init_net(D, WIDTH, seed=4, bias=True)
    X, y = rng.standard_normal((N, D)), rng.standard_normal(N)
    return net, X, y


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("backend", BACKENDS + ["torch-module", "closed-form"])
@pytest.mark.parametrize("chunk", [None, 3])
def test_backends_agree_with_the_closed_forms_and_autograd(problem, backend, chunk):
    net, X, y = problem
    m = networks.two_layer_model(net) if backend == "closed-form" else _backend_model(backend)
    pt = m.at(net.theta, X, y, chunk=chunk)
    H = networks.hessian_exact(net, X, y)  # autograd, dense: the reference
    G = networks.per_sample_gradients(net, X)
    v = np.random.default_rng(5).standard_normal(net.n_params)
    V = np.random.default_rng(6).standard_normal((net.n_params, 40))  # more than one block of products
    agree = {
        "outputs": _rel(pt.outputs()[:, 0], net(X)), "loss": _rel(pt.value(), networks.loss(net, X, y)),
        "gradient": _rel(pt.gradient(), net.architecture.gradient(net.theta, X, y)),
        "per_sample_gradients": _rel(pt.per_sample_gradients(), G),
        "input_gradients": _rel(pt.input_gradients(), networks.input_gradients(net, X)),
        "hvp": _rel(pt.hvp(v), H @ v), "hvp_block": _rel(pt.hvp(V), H @ V),
        "gauss_newton": _rel(pt.gauss_newton_vp(v), G.T @ (G @ v) / N),
        "residual": _rel(pt.residual_hvp(v), H @ v - G.T @ (G @ v) / N),
        "gram": _rel(M.output_gram(pt), G @ G.T),
        "jacobian_operator": _rel(pt.jacobian_operator().rmatvec(np.arange(N, dtype=float)), G.T @ np.arange(N)),
    }
    assert max(agree.values()) < 1e-10, agree


@pytest.mark.parametrize("backend", BACKENDS + ["torch-module"])
@pytest.mark.parametrize("loss,outputs", [("logistic", 1), ("cross-entropy", 3)])
def test_classification_losses_split_the_hessian_into_gauss_newton_and_residual(backend, loss, outputs):
    """H = GN + R against autograd's dense Hessian of the mean loss, for logistic and cross-entropy."""
    import autograd.numpy as anp
    from autograd import hessian
    from autograd.scipy.special import logsumexp

    rng = np.random.default_rng(8)
    p = WIDTH * D + WIDTH + WIDTH * outputs
    theta, X = rng.standard_normal(p), rng.standard_normal((N, D))
    y = rng.integers(0, 2 if loss == "logistic" else outputs, N).astype(float)
    f = _f(anp, outputs)

    def L(th):  # the loss written out by hand, independently of theorycheck's loss table
        F = anp.stack([anp.reshape(f(th, x), (-1,)) for x in X])
        if loss == "logistic":
            return anp.mean(anp.logaddexp(0.0, F[:, 0]) - y * F[:, 0])
        return anp.mean(logsumexp(F, axis=1) - F[np.arange(N), y.astype(int)])

    H = hessian(L)(theta)
    pt = _backend_model(backend, outputs, loss).at(theta, X, y, chunk=4)
    v = rng.standard_normal(p)
    assert _rel(pt.value(), L(theta)) < 1e-12
    assert _rel(pt.hvp(v), H @ v) < 1e-10
    assert _rel(pt.gauss_newton_vp(v) + pt.residual_hvp(v), H @ v) < 1e-10
    GNm = np.column_stack([pt.gauss_newton_vp(e) for e in np.eye(p)])
    assert np.linalg.eigvalsh(0.5 * (GNm + GNm.T))[0] > -1e-12  # PSD
    assert M.gauss_newton_trace(pt) == pytest.approx(np.trace(GNm), rel=1e-10)
    # the factors' Gram matrix carries GN: its trace is n·Tr GN and its top eigenvalue n·λ_max(GN)
    K = M.gauss_newton_gram(pt)
    assert np.trace(K) / N == pytest.approx(np.trace(GNm), rel=1e-10)
    assert np.linalg.eigvalsh(K)[-1] / N == pytest.approx(np.linalg.eigvalsh(GNm)[-1], rel=1e-10)
    # mutant: the square loss's Λ = I in place of the loss's curvature misses GN (the check can fail)
    wrong = np.trace(M.output_gram(pt)) / N
    assert abs(wrong - np.trace(GNm)) > 0.1 * np.trace(GNm)


def test_the_streamed_gram_matrix_and_eta_star_match_the_dense_route(problem):
    from theorycheck.numerics.stability import critical_learning_rate

    net, X, _ = problem
    y = net(X)  # targets the net fits exactly: the residual term of each Hᵢ vanishes
    G = networks.per_sample_gradients(net, X)
    Hs = np.einsum("ni,nj->nij", G, G)
    eta = critical_learning_rate(Hs, 2)
    for backend in BACKENDS:
        pt = model(_f(_lib(backend)), backend).at(net.theta, X, y, chunk=2)  # 4 chunks: blocks below the diagonal
        st = M.stability_at(pt, batch=2)
        assert st["max_abs_residual"] < 1e-12
        assert st["eta_star"] == pytest.approx(eta, rel=1e-7), backend
        assert st["conditions"]["gd_sharpness"]["threshold"] >= st["eta_star"] * (1 - 1e-9)  # necessary


def test_traces_and_lambda_max_match_the_dense_hessian(problem):
    net, X, y = problem
    pt = model(_f(_lib("jax")), "jax").at(net.theta, X, y)
    H = networks.hessian_exact(net, X, y)
    assert M.top_hessian_eigenvalue(pt) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-9)
    exact = M.hessian_trace(pt)
    assert exact.method == "exact" and exact.estimate == pytest.approx(np.trace(H), rel=1e-12)
    # beyond the exact limit: Gauss–Newton exactly, the residual part by Hutch++ with an interval
    est = M.hessian_trace(pt, exact_limit=0, rtol=1e-3)
    assert est.half_width >= 0 and abs(est.estimate - np.trace(H)) <= max(est.half_width, 1e-12)
    eos = M.edge_of_stability_at(pt, lr=0.1)
    assert eos["ratio"] == pytest.approx(0.1 * np.linalg.eigvalsh(H)[-1] / 2, rel=1e-9)
    # at an interpolating point R = 0 and nothing is estimated
    at_min = pt.moved(net.theta)
    at_min = model(_f(_lib("jax")), "jax").at(net.theta, X, at_min.outputs())  # its own outputs: ℓ′ = 0 exactly
    zero = M.hessian_trace(at_min, exact_limit=0)
    assert zero.method.startswith("exact") and zero.estimate == pytest.approx(M.gauss_newton_trace(at_min), rel=1e-12)


def _deep(lib):
    """A three-layer net: the multiplicative structure holds at its first layer whatever follows."""
    def f(theta, x):
        W1 = theta[:12].reshape(4, 3)
        W2 = theta[12:28].reshape(4, 4)
        return lib.dot(theta[28:32], lib.tanh(W2 @ lib.tanh(W1 @ x)))
    return f


def test_multiplicative_inequality_and_sobolev_bound_at_the_first_layer_of_a_deeper_net():
    import autograd.numpy as anp

    rng = np.random.default_rng(7)
    th, X = rng.standard_normal(32), rng.standard_normal((9, 3))
    pt = model(_deep(anp), "autograd").at(th, X, chunk=4)
    first = M.FirstLayer(0, (4, 3))
    lhs, rhs = M.multiplicative_at(pt, first)
    assert np.all(lhs <= rhs * (1 + 1e-12)) and np.max(lhs / rhs) > 0.1
    assert np.any(lhs > rhs / 2)  # mutant: half the bound fails
    sob = M.sobolev_at(pt, first)
    assert sob["input_grad_sq_mean"] <= sob["bound"]
    W1 = first.weight(th)
    assert np.linalg.norm(W1, 2) > 1 and sob["input_grad_sq_mean"] > sob["bound"] / np.linalg.norm(W1, 2) ** 2 / 10
    flat = M.flatness_at(model(_deep(anp), "autograd").at(th, X, pt.outputs()), first_layer=first, lr=0.1)
    assert flat["multiplicative"]["holds"] and flat["input_grad_sq_mean"] == pytest.approx(sob["input_grad_sq_mean"])


def test_a_jax_pytree_and_a_torch_module_are_the_same_model():
    import jax.numpy as jnp
    torch = pytest.importorskip("torch")

    rng = np.random.default_rng(2)
    W, a, X = rng.standard_normal((WIDTH, D)), rng.standard_normal(WIDTH), rng.standard_normal((N, D))
    y = rng.standard_normal(N)
    jax_pt = model(lambda prm, x: jnp.dot(prm["a"], jnp.tanh(prm["W"] @ x)), "jax").at({"W": W, "a": a}, X, y)
    module = torch.nn.Sequential(torch.nn.Linear(D, WIDTH, bias=False), torch.nn.Tanh(),
                                 torch.nn.Linear(WIDTH, 1, bias=False))
    state = {"0.weight": torch.tensor(W), "2.weight": torch.tensor(a[None, :])}
    torch_pt = model(module, "torch").at(state, X, y)
    # ravel_pytree orders a dict by key ("W" before "a"), the module by named_parameters: the same order here
    assert np.allclose(jax_pt.theta, torch_pt.theta)
    v = rng.standard_normal(jax_pt.p)
    assert _rel(jax_pt.hvp(v), torch_pt.hvp(v)) < 1e-12
    assert M.top_hessian_eigenvalue(jax_pt) == pytest.approx(M.top_hessian_eigenvalue(torch_pt), rel=1e-10)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")  # the NaN model, on purpose
def test_bad_models_and_data_are_one_clear_error(problem):
    import autograd.numpy as anp

    net, X, y = problem
    with pytest.raises(InputError, match="unknown model backend 'tf'"):
        model(_f(np), "tf")
    with pytest.raises(InputError, match="must be a function"):
        model(3)
    m = model(_f(anp))
    with pytest.raises(InputError, match="targets must have shape"):
        m.at(net.theta, X, y[:3])
    with pytest.raises(InputError, match="does not fit"):
        M.multiplicative_at(m.at(net.theta, X), M.FirstLayer(30, (5, 3)))
    with pytest.raises(ModelError, match="failed while computing the outputs .*: IndexError"):
        model(lambda th, x: th[99] * x[0]).at(net.theta, X)
    with pytest.raises(ModelError, match="a number or a vector"):
        model(lambda th, x: anp.outer(th, x)).at(net.theta, X)
    with pytest.raises(ModelError, match="non-finite outputs"):
        model(lambda th, x: anp.log(-anp.abs(th[0])) * x[0]).at(net.theta, X)
    with pytest.raises(InputError, match="labels 0 or 1"):
        model(_f(anp), "autograd", "logistic").at(net.theta, X, y)
    with pytest.raises(InputError, match="k ≥ 2 outputs"):
        model(_f(anp), "autograd", "cross-entropy").at(net.theta, X, np.zeros(N))
    with pytest.raises(InputError, match="CPU only"):
        model(_f(anp), device="cuda")
