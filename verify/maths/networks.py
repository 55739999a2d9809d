"""Two-layer networks f(x) = Σⱼ aⱼ σ(wⱼ·x + bⱼ): derivatives, curvature and training.

Everything the network claims need, in float64:

* per-sample parameter gradients ∇_θ f(xᵢ) and input gradients ∇ₓ f(xᵢ) in
  closed form, vectorised over samples. With z = Wx + b, h = σ(z) and
  δ = a ⊙ σ′(z) = ∂f/∂z:  ∂f/∂a = h,  ∂f/∂b = δ,  ∂f/∂W = δ xᵀ,  ∇ₓ f = Wᵀ δ
  (the multiplicative structure of the first layer, Ma & Ying, NeurIPS 2021, Sec. 2);
* the loss L(θ) = (1/2n) Σ (f(xᵢ) − yᵢ)², its Hessian H exactly (autograd, small
  nets), Hessian-vector products (autograd, any size), Tr(H) exactly in closed form
  and by Hutchinson with a confidence interval, λ_max(H) by Lanczos (``eigsh``) on a
  :class:`~scipy.sparse.linalg.LinearOperator` of HVPs;
* training by GD or SGD to interpolation, with an honest ``interpolated`` flag.

Closed forms are cross-checked against autograd in ``tests/test_nets.py``; autograd
is the independent route, the closed forms are the fast one.

Exact trace (no approximation anywhere)::

    Tr H = (1/n) Σᵢ ‖∇_θ fᵢ‖² + (1/n) Σᵢ rᵢ Tr ∇²_θ fᵢ,   rᵢ = fᵢ − yᵢ,
    ‖∇_θ fᵢ‖² = ‖δᵢ‖² (‖xᵢ‖² + β) + ‖hᵢ‖²,   Tr ∇²_θ fᵢ = Σⱼ aⱼ σ″(zᵢⱼ) (‖xᵢ‖² + β),

with β = 1 when the biases are trained and 0 otherwise. The first sum is the
Gauss–Newton trace; the second vanishes at interpolation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import autograd.numpy as anp
import numpy as np
from autograd import grad, hessian
from scipy import stats
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from theorycheck.core.errors import InputError

# --------------------------------------------------------------------------- activations


def _sigmoid(z):
    # tanh form: no overflow warnings for large |z|, and autograd-differentiable
    return 0.5 * (anp.tanh(0.5 * z) + 1.0)


_GELU_K = 1.702  # σ(z) = z·sigmoid(1.702 z): the sigmoid approximation of GELU (Hendrycks & Gimpel 2016)


@dataclass(frozen=True)
class Activation:
    """An activation with closed-form first and second derivatives.

    ``fn`` is written with ``autograd.numpy`` so autograd can differentiate it
    (the cross-check route). ``sup_d2`` = sup_z |σ″(z)| bounds the input Hessian
    of the network; ``None`` for ReLU, which is not twice differentiable.
    """

    name: str
    fn: Callable
    d1: Callable[[np.ndarray], np.ndarray]
    d2: Callable[[np.ndarray], np.ndarray]
    sup_d2: float | None

    @property
    def smooth(self) -> bool:
        return self.sup_d2 is not None


def _tanh_d1(z):
    t = np.tanh(z)
    return 1.0 - t * t


def _tanh_d2(z):
    t = np.tanh(z)
    return -2.0 * t * (1.0 - t * t)


def _softplus_d2(z):
    s = _sigmoid(z)
    return s * (1.0 - s)


def _gelu_d1(z):
    s = _sigmoid(_GELU_K * z)
    return s + _GELU_K * z * s * (1.0 - s)


def _gelu_d2(z):
    s = _sigmoid(_GELU_K * z)
    return _GELU_K * s * (1.0 - s) * (2.0 + _GELU_K * z * (1.0 - 2.0 * s))


ACTIVATIONS: dict[str, Activation] = {
    # sup|tanh″| = 4/(3√3), attained at tanh z = 1/√3
    "tanh": Activation("tanh", anp.tanh, _tanh_d1, _tanh_d2, 4.0 / (3.0 * math.sqrt(3.0))),
    # softplus″ = s(1−s) ≤ 1/4
    "softplus": Activation("softplus", lambda z: anp.logaddexp(0.0, z), _sigmoid, _softplus_d2, 0.25),
    # sup|σ″| = k/2, attained at z = 0 (checked on a dense grid in tests/test_nets.py)
    "gelu": Activation("gelu", lambda z: z * _sigmoid(_GELU_K * z), _gelu_d1, _gelu_d2, _GELU_K / 2),
    "relu": Activation("relu", lambda z: anp.maximum(z, 0.0), lambda z: (z > 0).astype(float),
                       lambda z: np.zeros_like(z), None),
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise InputError(f"`activation` must be one of {', '.join(ACTIVATIONS)}, got {name!r}.") from None


# --------------------------------------------------------------------------- the network


@dataclass(frozen=True, eq=False)
class TwoLayerNet:
    """f(x) = Σⱼ aⱼ σ(wⱼ·x + bⱼ).

    Parameters
    ----------
    W : ndarray, shape (m, d)
    b : ndarray, shape (m,)
        Fixed at zero and excluded from θ when ``bias`` is False.
    a : ndarray, shape (m,)
    activation : str
        A key of :data:`ACTIVATIONS`.
    bias : bool
        Whether b is a trained parameter.

    θ is flattened as ``[W.ravel(), b, a]`` (``[W.ravel(), a]`` without bias).
    """

    W: np.ndarray
    b: np.ndarray
    a: np.ndarray
    activation: str = "tanh"
    bias: bool = True

    def __post_init__(self) -> None:
        W = np.asarray(self.W, dtype=float)
        if W.ndim != 2 or W.shape[0] == 0 or W.shape[1] == 0:
            raise InputError(f"`W` must have shape (width ≥ 1, dim ≥ 1), got {W.shape}.")
        m = W.shape[0]
        b = np.zeros(m) if self.b is None else np.asarray(self.b, dtype=float)
        a = np.asarray(self.a, dtype=float)
        if b.shape != (m,) or a.shape != (m,):
            raise InputError(f"`b` and `a` must have shape ({m},), got {b.shape} and {a.shape}.")
        for name, v in (("W", W), ("b", b), ("a", a)):
            if not np.all(np.isfinite(v)):
                raise InputError(f"`{name}` contains NaN or inf.")
        get_activation(self.activation)
        object.__setattr__(self, "W", W)
        object.__setattr__(self, "b", b if self.bias else np.zeros(m))
        object.__setattr__(self, "a", a)

    @property
    def width(self) -> int:
        return self.W.shape[0]

    @property
    def dim(self) -> int:
        return self.W.shape[1]

    @property
    def n_params(self) -> int:
        return self.width * (self.dim + 1 + int(self.bias))

    @property
    def act(self) -> Activation:
        return ACTIVATIONS[self.activation]

    @property
    def theta(self) -> np.ndarray:
        parts = [self.W.ravel()] + ([self.b] if self.bias else []) + [self.a]
        return np.concatenate(parts)

    def with_theta(self, theta: np.ndarray) -> "TwoLayerNet":
        W, b, a = unflatten(theta, self.width, self.dim, self.bias)
        return TwoLayerNet(W, b, a, self.activation, self.bias)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """f(X), shape (n,)."""
        return self.act.fn(np.asarray(X, float) @ self.W.T + self.b) @ self.a

    def to_json(self) -> dict:
        return {"W": self.W.tolist(), "b": self.b.tolist(), "a": self.a.tolist(),
                "activation": self.activation, "bias": self.bias}


def unflatten(theta: np.ndarray, m: int, d: int, bias: bool = True):
    """Split a flat θ into (W, b, a); works on autograd boxes too."""
    k = m * d
    W = anp.reshape(theta[:k], (m, d))
    if bias:
        return W, theta[k:k + m], theta[k + m:k + 2 * m]
    return W, anp.zeros(m), theta[k:k + m]


def init_net(dim: int, width: int, seed: int = 0, activation: str = "tanh", bias: bool = True,
             scale: float = 1.0) -> TwoLayerNet:
    """A random net: W ~ N(0, scale²/d), b ~ N(0, scale²/4), a ~ N(0, 1/m) (mean-field-ish output scale)."""
    if width < 1:
        raise InputError(f"`width` must be a positive integer, got {width}.")
    if dim < 1:
        raise InputError(f"`dim` must be a positive integer, got {dim}.")
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((width, dim)) * scale / math.sqrt(dim)
    b = rng.standard_normal(width) * scale / 2 if bias else np.zeros(width)
    a = rng.standard_normal(width) / math.sqrt(width)
    return TwoLayerNet(W, b, a, activation, bias)


# --------------------------------------------------------------------------- data validation


def validate_data(X: np.ndarray, y: np.ndarray | None = None, dim: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Return float64 copies of (X, y) or raise :class:`InputError` naming the rule broken."""
    X = np.asarray(X)
    if X.dtype.kind not in "fiu":
        raise InputError(f"features must be a numeric array, got dtype {X.dtype}.")
    X = X.astype(float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"features must have shape (n ≥ 1, d ≥ 1), got {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise InputError("features contain NaN or inf.")
    if dim is not None and X.shape[1] != dim:
        raise InputError(f"features have {X.shape[1]} columns but the net has input dimension {dim}.")
    if y is None:
        return X, None
    y = np.asarray(y)
    if y.dtype.kind not in "fiu":
        raise InputError(f"targets must be a numeric array, got dtype {y.dtype}.")
    y = y.astype(float)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InputError(f"targets must have shape ({X.shape[0]},) to match features {X.shape}, got {y.shape}.")
    if not np.all(np.isfinite(y)):
        raise InputError("targets contain NaN or inf.")
    return X, y


# --------------------------------------------------------------------------- closed-form derivatives


@dataclass
class Pieces:
    """Per-sample intermediate quantities, shapes (n, m) except ``f`` and ``xsq`` (n,)."""

    z: np.ndarray
    h: np.ndarray
    delta: np.ndarray  # ∂f/∂z = a ⊙ σ′(z)
    f: np.ndarray
    xsq: np.ndarray  # ‖xᵢ‖²


def pieces(net: TwoLayerNet, X: np.ndarray) -> Pieces:
    z = X @ net.W.T + net.b
    h = net.act.fn(z)
    delta = net.act.d1(z) * net.a
    return Pieces(z=z, h=h, delta=delta, f=h @ net.a, xsq=np.einsum("ij,ij->i", X, X))


def input_gradients(net: TwoLayerNet, X: np.ndarray) -> np.ndarray:
    """∇ₓ f(xᵢ) = Wᵀ δᵢ, shape (n, d)."""
    return pieces(net, X).delta @ net.W


def per_sample_gradients(net: TwoLayerNet, X: np.ndarray) -> np.ndarray:
    """∇_θ f(xᵢ) as rows, shape (n, p), in the order of :attr:`TwoLayerNet.theta`."""
    P = pieces(net, X)
    n = X.shape[0]
    gW = (P.delta[:, :, None] * X[:, None, :]).reshape(n, -1)
    parts = [gW] + ([P.delta] if net.bias else []) + [P.h]
    return np.concatenate(parts, axis=1)


@dataclass
class GradNorms:
    """Squared norms of the per-sample gradient blocks, each shape (n,).

    ``W`` = ‖∇_W f‖_F² = ‖δ‖²‖x‖²; ``b`` = ‖δ‖² (0 without bias); ``a`` = ‖h‖²;
    ``theta`` = their sum = ‖∇_θ f‖².
    """

    W: np.ndarray
    b: np.ndarray
    a: np.ndarray

    @property
    def theta(self) -> np.ndarray:
        return self.W + self.b + self.a


def gradient_norms(net: TwoLayerNet, X: np.ndarray) -> GradNorms:
    """Per-sample gradient block norms without forming the (n, p) matrix."""
    P = pieces(net, X)
    dsq = np.einsum("ij,ij->i", P.delta, P.delta)
    return GradNorms(W=dsq * P.xsq, b=dsq if net.bias else np.zeros_like(dsq), a=np.einsum("ij,ij->i", P.h, P.h))


def loss(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> float:
    """L = (1/2n) Σ (f(xᵢ) − yᵢ)²."""
    r = net(X) - y
    return 0.5 * float(r @ r) / len(y)


def loss_gradient(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∇_θ L = (1/n) Σ rᵢ ∇_θ fᵢ, flat shape (p,), in closed form."""
    P = pieces(net, X)
    r = (P.f - y) / len(y)
    rd = r[:, None] * P.delta
    parts = [(rd.T @ X).ravel()] + ([rd.sum(0)] if net.bias else []) + [P.h.T @ r]
    return np.concatenate(parts)


@dataclass
class TraceParts:
    """Tr H = ``gauss_newton`` + ``residual`` (closed form, exact)."""

    gauss_newton: float  # (1/n) Σ ‖∇_θ fᵢ‖²
    residual: float  # (1/n) Σ rᵢ Tr ∇²_θ fᵢ

    @property
    def total(self) -> float:
        return self.gauss_newton + self.residual


def trace_hessian(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> TraceParts:
    """Exact Tr ∇²L split into its Gauss–Newton and residual parts (module docstring)."""
    P = pieces(net, X)
    beta = 1.0 if net.bias else 0.0
    dsq = np.einsum("ij,ij->i", P.delta, P.delta)
    gn = dsq * (P.xsq + beta) + np.einsum("ij,ij->i", P.h, P.h)
    tr_d2f = (net.act.d2(P.z) @ net.a) * (P.xsq + beta)
    r = P.f - y
    return TraceParts(gauss_newton=float(gn.mean()), residual=float((r * tr_d2f).mean()))


# --------------------------------------------------------------------------- autograd route


def _autograd_loss(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> Callable:
    m, d, bias, fn = net.width, net.dim, net.bias, net.act.fn

    def L(theta):
        W, b, a = unflatten(theta, m, d, bias)
        r = anp.dot(fn(anp.dot(X, W.T) + b), a) - y
        return 0.5 * anp.mean(r * r)

    return L


def autograd_output(net: TwoLayerNet) -> Callable:
    """θ, x ↦ f(x; θ) for a single input, differentiable by autograd in both arguments."""
    m, d, bias, fn = net.width, net.dim, net.bias, net.act.fn

    def f(theta, x):
        W, b, a = unflatten(theta, m, d, bias)
        return anp.dot(fn(anp.dot(W, x) + b), a)

    return f


def hessian_exact(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The full p×p Hessian of L by autograd. Memory p²; meant for p ≲ 2000."""
    H = hessian(_autograd_loss(net, X, y))(net.theta)
    return 0.5 * (H + H.T)


def hvp(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """v ↦ H v by forward-over-reverse-free double reverse mode: ∇_θ (∇_θ L · v)."""
    L = _autograd_loss(net, X, y)
    g = grad(L)
    gv = grad(lambda th, v: anp.dot(g(th), v))
    theta = net.theta
    return lambda v: gv(theta, np.asarray(v, float).ravel())


def hessian_operator(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> LinearOperator:
    """H as a symmetric :class:`LinearOperator` of autograd HVPs."""
    f = hvp(net, X, y)
    p = net.n_params
    return LinearOperator((p, p), matvec=f, rmatvec=f, dtype=float)


def gauss_newton_operator(G: np.ndarray) -> LinearOperator:
    """(1/n) GᵀG as a :class:`LinearOperator`, G the (n, p) per-sample gradients."""
    n, p = G.shape
    mv = lambda v: G.T @ (G @ np.ravel(v)) / n  # noqa: E731
    return LinearOperator((p, p), matvec=mv, rmatvec=mv, dtype=float)


def lambda_max(op: LinearOperator | np.ndarray, tol: float = 1e-10, seed: int = 0) -> float:
    """Largest algebraic eigenvalue by Lanczos (ARPACK ``eigsh``, which='LA'), dense ``eigvalsh`` when tiny."""
    if isinstance(op, np.ndarray):
        return float(np.linalg.eigvalsh(0.5 * (op + op.T))[-1])
    p = op.shape[0]
    if p <= 3:
        M = np.column_stack([op.matvec(e) for e in np.eye(p)])
        return float(np.linalg.eigvalsh(0.5 * (M + M.T))[-1])
    v0 = np.random.default_rng(seed).standard_normal(p)
    try:
        return float(eigsh(op, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0])
    except ArpackNoConvergence as exc:  # pragma: no cover - reported, not hidden
        if len(exc.eigenvalues):
            return float(np.max(exc.eigenvalues))
        raise


def lambda_max_gauss_newton(G: np.ndarray) -> float:
    """λ_max((1/n)GᵀG) = σ_max(G)²/n, via the smaller of the two Gram matrices."""
    n, p = G.shape
    K = G @ G.T if n <= p else G.T @ G
    return float(np.linalg.eigvalsh(K)[-1] / n)


@dataclass
class TraceEstimate:
    """Hutchinson estimate of a trace with a Student-t confidence interval."""

    estimate: float
    half_width: float
    confidence: float
    samples: int

    @property
    def interval(self) -> tuple[float, float]:
        return (self.estimate - self.half_width, self.estimate + self.half_width)

    def contains(self, value: float) -> bool:
        lo, hi = self.interval
        return lo <= value <= hi


def hutchinson_trace(op: LinearOperator, samples: int = 100, seed: int = 0, confidence: float = 0.99) -> TraceEstimate:
    """Tr A ≈ mean of vᵀAv over Rademacher v (Hutchinson 1990), CI from the t distribution."""
    if samples < 2:
        raise InputError(f"`samples` must be ≥ 2 for a confidence interval, got {samples}.")
    rng = np.random.default_rng(seed)
    p = op.shape[0]
    vals = np.empty(samples)
    for k in range(samples):
        v = rng.choice([-1.0, 1.0], size=p)
        vals[k] = v @ op.matvec(v)
    se = vals.std(ddof=1) / math.sqrt(samples)
    hw = float(stats.t.ppf(0.5 + confidence / 2, samples - 1) * se)
    return TraceEstimate(float(vals.mean()), hw, confidence, samples)


# --------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    """Outcome of a training run; ``interpolated`` is True only if train loss ≤ ``tol``.

    ``status`` is ``"interpolated"``, ``"max_steps"`` (did not reach tol) or
    ``"diverged"`` (loss above ``divergence`` or non-finite; ``net`` is then the
    last finite iterate).
    """

    net: TwoLayerNet
    train_loss: float
    interpolated: bool
    status: str
    steps: int
    optimizer: str
    lr: float
    batch: int
    seed: int
    tol: float
    history: list[tuple[int, float]] = field(default_factory=list)


def validate_training(optimizer: str, lr: float, batch: int | None, n: int, steps: int, tol: float) -> int:
    """Check training settings; return the batch size actually used."""
    if optimizer not in ("gd", "sgd"):
        raise InputError(f"`optimizer` must be 'gd' or 'sgd', got {optimizer!r}.")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise InputError(f"`lr` must be a positive finite number, got {lr!r}.")
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise InputError(f"`steps` must be a positive integer, got {steps!r}.")
    if not (math.isfinite(tol) and tol > 0):
        raise InputError(f"`tol` must be a positive finite number, got {tol!r}.")
    if optimizer == "gd":
        if batch is not None and batch != n:
            raise InputError(f"`batch` must be omitted or equal n={n} for gd, got {batch}.")
        return n
    if batch is None:
        raise InputError("`batch` is required for sgd.")
    if not (1 <= batch <= n):
        raise InputError(f"`batch` must be in 1..{n} (the number of samples), got {batch}.")
    return int(batch)


def _flat_loss_and_grad(net: TwoLayerNet):
    """Closed-form (L, ∇L) on a flat θ without building net objects: the training hot loop."""
    m, d, bias = net.width, net.dim, net.bias
    act = net.act
    k = m * d

    def split(theta):
        W = theta[:k].reshape(m, d)
        if bias:
            return W, theta[k:k + m], theta[k + m:]
        return W, 0.0, theta[k:]

    def grad_loss(theta, X, y):
        W, b, a = split(theta)
        z = X @ W.T + b
        h = act.fn(z)
        r = (h @ a - y) / len(y)
        rd = r[:, None] * (act.d1(z) * a)
        parts = [(rd.T @ X).ravel()] + ([rd.sum(0)] if bias else []) + [h.T @ r]
        return np.concatenate(parts)

    def full_loss(theta, X, y):
        W, b, a = split(theta)
        r = act.fn(X @ W.T + b) @ a - y
        return 0.5 * float(r @ r) / len(y)

    return grad_loss, full_loss


def train(net: TwoLayerNet, X: np.ndarray, y: np.ndarray, optimizer: str = "gd", lr: float = 0.1,
          batch: int | None = None, seed: int = 0, steps: int = 10_000, tol: float = 1e-10,
          divergence: float = 1e8, check_every: int = 10, record_every: int = 0) -> TrainResult:
    """Train by GD (full batch) or SGD (batches of B drawn without replacement each step).

    SGD step: θ ← θ − η ∇L_batch(θ), ∇L_batch = (1/B) Σ_{i∈batch} rᵢ∇fᵢ. Stops when the
    full-batch train loss ≤ ``tol`` (checked every ``check_every`` steps), after
    ``steps`` steps, or on divergence. Never raises for a run that fails to
    interpolate: that is an outcome, reported in the result.
    """
    X, y = validate_data(X, y, net.dim)
    n = len(y)
    B = validate_training(optimizer, lr, batch, n, steps, tol)
    rng = np.random.default_rng(seed)
    grad_loss, full_loss = _flat_loss_and_grad(net)
    theta = net.theta
    history: list[tuple[int, float]] = []
    status = "max_steps"
    t = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            if B == n:
                g = grad_loss(theta, X, y)
            else:
                idx = rng.choice(n, size=B, replace=False)
                g = grad_loss(theta, X[idx], y[idx])
            new = theta - lr * g
            if not np.all(np.isfinite(new)):
                status = "diverged"
                break
            theta = new
            if t % check_every == 0 or t == steps:
                L = full_loss(theta, X, y)
                if record_every and t % record_every == 0:
                    history.append((t, L))
                if not math.isfinite(L) or L > divergence:
                    status = "diverged"
                    break
                if L <= tol:
                    status = "interpolated"
                    break
    cur = net.with_theta(theta)
    L = loss(cur, X, y)
    if status == "max_steps" and L <= tol:
        status = "interpolated"
    return TrainResult(net=cur, train_loss=L, interpolated=status == "interpolated", status=status, steps=t,
                       optimizer=optimizer, lr=float(lr), batch=B, seed=seed, tol=tol, history=history)


# --------------------------------------------------------------------------- flatness summary


def spectral_norm(A: np.ndarray) -> float:
    return float(np.linalg.norm(A, 2))


@dataclass
class FlatnessReport:
    """Every number of the flatness–Sobolev chain for one net on one data set."""

    train_loss: float
    trace_hessian: float
    gauss_newton_trace: float
    residual_trace: float
    lambda_max: float
    input_grad_sq_mean: float  # (1/n) Σ ‖∇ₓ f(xᵢ)‖²
    w_spectral_sq: float  # ‖W‖₂²
    min_x_sq: float  # minᵢ ‖xᵢ‖²
    sobolev_bound: float  # ‖W‖₂² / minᵢ‖xᵢ‖² · Tr H   (Ma & Ying; valid at interpolation)
    sobolev_bound_gn: float  # same with the Gauss–Newton trace (valid for every θ)
    sobolev_bound_bias: float  # ‖W‖₂² / (1 + minᵢ‖xᵢ‖²) · Tr GN  (with trained biases; tighter)

    def to_json(self) -> dict:
        from theorycheck.core.evidence import jsonable

        return jsonable(self.__dict__)


def flatness_report(net: TwoLayerNet, X: np.ndarray, y: np.ndarray, lanczos_tol: float = 1e-10,
                    seed: int = 0) -> FlatnessReport:
    """Compute the quantities of the flatness → Sobolev chain (see :mod:`theorycheck.claims.nets`)."""
    X, y = validate_data(X, y, net.dim)
    tr = trace_hessian(net, X, y)
    gx = input_gradients(net, X)
    w2 = spectral_norm(net.W) ** 2
    mx = float(np.min(np.einsum("ij,ij->i", X, X)))
    lam = lambda_max(hessian_operator(net, X, y), tol=lanczos_tol, seed=seed)
    ratio = w2 / mx if mx > 0 else math.inf
    beta = 1.0 if net.bias else 0.0
    return FlatnessReport(
        train_loss=loss(net, X, y), trace_hessian=tr.total, gauss_newton_trace=tr.gauss_newton,
        residual_trace=tr.residual, lambda_max=lam, input_grad_sq_mean=float(np.mean(np.sum(gx * gx, axis=1))),
        w_spectral_sq=w2, min_x_sq=mx, sobolev_bound=ratio * tr.total, sobolev_bound_gn=ratio * tr.gauss_newton,
        sobolev_bound_bias=(w2 / (beta + mx) if beta + mx > 0 else math.inf) * tr.gauss_newton,
    )


def require_smooth(net: TwoLayerNet, what: str) -> Activation:
    """Return the activation, or raise if ``what`` needs σ″ and the activation has none."""
    act = net.act
    if act.name == "relu":
        raise InputError(f"{what} needs a twice-differentiable activation; relu is not.")
    return act


__all__ = [
    "ACTIVATIONS", "Activation", "FlatnessReport", "GradNorms", "Pieces", "TraceEstimate",
    "TraceParts", "TrainResult", "TwoLayerNet", "autograd_output", "flatness_report", "gauss_newton_operator",
    "get_activation", "gradient_norms", "hessian_exact", "hessian_operator", "hutchinson_trace", "hvp", "init_net",
    "input_gradients", "lambda_max", "lambda_max_gauss_newton", "loss", "loss_gradient", "per_sample_gradients",
    "pieces", "require_smooth", "spectral_norm", "train", "trace_hessian", "unflatten", "validate_data",
    "validate_training", "reduced_features", "sgd_necessary_bounds",
]


# --------------------------------------------------------------------------- SGD linear stability at interpolation


def reduced_features(G: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Rows ĝᵢ ∈ R^r of G expressed in an orthonormal basis of its row space (r = rank G).

    Every Hᵢ = gᵢgᵢᵀ lives on that row space; the null directions (the zero-loss
    manifold) are neutral for the linearised dynamics and are projected out, as in
    the Moore–Penrose form of Mulayoff & Michaeli (ICLR 2024), Thm. 3.
    """
    U, s, _ = np.linalg.svd(G, full_matrices=False)
    r = int(np.sum(s > rtol * s[0])) if s.size and s[0] > 0 else 0
    return U[:, :r] * s[:r]


def sgd_necessary_bounds(G: np.ndarray, batch: int, sampling: str = "without") -> dict[str, float]:
    """Closed-form necessary conditions on η*(B) at interpolation (Mulayoff & Michaeli, arXiv:2306.07850, Prop. 3).

    ``trace``: η* ≤ 2 Tr H / ((1−p)‖H‖_F² + p·mean‖Hᵢ‖_F²)   (their eq. 16), with ‖Hᵢ‖_F = ‖gᵢ‖²;
    ``gd``:    η* ≤ 2/λ_max(H) (mean stability);
    ``flatness``: the consequence Tr H ≤ 2/(η p) (Jensen on mean‖gᵢ‖⁴ ≥ (Tr H)²), returned as the
    largest Tr H allowed per unit 1/η, i.e. 2/p.
    """
    from theorycheck.maths.stability import sampling_factor

    n = G.shape[0]
    p = sampling_factor(n, batch, sampling)
    sq = np.einsum("ij,ij->i", G, G)
    trH = float(sq.mean())
    F = reduced_features(G)
    H = F.T @ F / n
    fro2 = float(np.sum(H * H))
    lam = float(np.linalg.eigvalsh(H)[-1]) if H.size else 0.0
    denom = (1 - p) * fro2 + p * float(np.mean(sq**2))
    return {"trace": 2 * trH / denom if denom > 0 else math.inf, "gd": 2 / lam if lam > 0 else math.inf,
            "flatness": 2 / p if p > 0 else math.inf, "p": p}
