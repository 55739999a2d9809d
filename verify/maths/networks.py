"""Two-layer networks f(x) = Σⱼ aⱼ σ(wⱼ·x + bⱼ): the one network model, its derivatives and its bounds.

Square loss L(θ) = (1/2n) Σ (f(xᵢ) − yᵢ)². With z = Wx + b, h = σ(z) and
δ = a ⊙ σ′(z) = ∂f/∂z, the per-sample derivatives are, in closed form and
vectorised over samples,

    ∂f/∂a = h,   ∂f/∂b = δ,   ∂f/∂W = δ xᵀ,   ∇ₓ f = Wᵀ δ,

the multiplicative structure of the first layer (Ma & Ying, NeurIPS 2021,
Sec. 2): ‖∇ₓf‖ ≤ ‖W‖₂‖δ‖ = ‖W‖₂‖∇_W f‖_F/‖x‖.

Exact trace, no approximation anywhere::

    Tr H = (1/n) Σᵢ ‖∇_θ fᵢ‖² + (1/n) Σᵢ rᵢ Tr ∇²_θ fᵢ,   rᵢ = fᵢ − yᵢ,
    ‖∇_θ fᵢ‖² = ‖δᵢ‖² (‖xᵢ‖² + β) + ‖hᵢ‖²,   Tr ∇²_θ fᵢ = Σⱼ aⱼ σ″(zᵢⱼ) (‖xᵢ‖² + β),

with β = 1 when the biases are trained and 0 otherwise. The first sum is the
Gauss–Newton trace; the second vanishes at interpolation.

Two views of the same model:

* :class:`TwoLayerNet`, one parameter point (W, b, a), for the per-sample
  quantities above;
* :class:`Architecture` (input dimension, width, activation, bias), the same
  formulas as functions of a flat parameter vector θ = [W.ravel(), b, a]
  (b omitted without bias): loss, gradient, complex-step Hessian-vector products
  and batched losses, for training loops that take thousands of steps.

autograd is the reference for derivatives (:func:`hessian_exact`,
:meth:`Architecture.autograd_loss`); the closed forms and the complex-step
derivatives are the fast routes, and the tests hold each of them to autograd.
:class:`TwoLayerModel` is the net as one instance of the model protocol of
:mod:`theorycheck.maths.models`, so every streamed measurement of
:mod:`theorycheck.numerics.models` runs on it through its closed forms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, overload

import autograd.numpy as anp
import numpy as np
from autograd import hessian

from theorycheck.core.errors import InputError
from theorycheck.maths.models import Model
from theorycheck.maths.numbers import finite_float_array

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
    # sup|σ″| = k/2, attained at z = 0 (checked on a dense grid in the tests)
    "gelu": Activation("gelu", lambda z: z * _sigmoid(_GELU_K * z), _gelu_d1, _gelu_d2, _GELU_K / 2),
    "relu": Activation("relu", lambda z: anp.maximum(z, 0.0), lambda z: (z > 0).astype(float),
                       lambda z: np.zeros_like(z), None),
}

#: Activations with a bounded second derivative (every bound that uses σ″ needs one).
SMOOTH_ACTIVATIONS = tuple(k for k, v in ACTIVATIONS.items() if v.smooth)


def get_activation(name: str) -> Activation:
    """The activation called ``name``, or :class:`InputError` listing the known ones."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise InputError(f"`activation` must be one of {', '.join(ACTIVATIONS)}, got {name!r}.") from None


# --------------------------------------------------------------------------- the model as a function of θ


@dataclass(frozen=True)
class Architecture:
    """The shape of a two-layer net, and its loss as a function of the flat parameter vector θ.

    Parameters
    ----------
    dim : int
        Input dimension d.
    width : int
        Hidden units m.
    activation : str
        A key of :data:`ACTIVATIONS`.
    bias : bool
        Whether the first-layer biases b are trained (part of θ).

    θ is ``[W.ravel(), b, a]`` (``[W.ravel(), a]`` without bias), shape (P,),
    P = m(d + 1 + bias). Every method also accepts a complex θ (no conjugation
    anywhere), which is what the complex-step derivatives use.
    """

    dim: int
    width: int
    activation: str = "tanh"
    bias: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.dim, bool) or not isinstance(self.dim, (int, np.integer)) or self.dim < 1:
            raise InputError(f"`dim` must be a positive integer, got {self.dim!r}.")
        if isinstance(self.width, bool) or not isinstance(self.width, (int, np.integer)) or self.width < 1:
            raise InputError(f"`width` must be a positive integer, got {self.width!r}.")
        get_activation(self.activation)

    @property
    def n_params(self) -> int:
        return self.width * (self.dim + 1 + int(self.bias))

    @property
    def act(self) -> Activation:
        return ACTIVATIONS[self.activation]

    def split(self, theta: Any) -> tuple[Any, Any, Any]:
        """(W, b, a) from θ (b is 0.0 without bias); works on autograd boxes too."""
        m, d = self.width, self.dim
        k = m * d
        W = anp.reshape(theta[:k], (m, d))
        if self.bias:
            return W, theta[k:k + m], theta[k + m:]
        return W, 0.0, theta[k:]

    def net(self, theta: np.ndarray) -> "TwoLayerNet":
        """The :class:`TwoLayerNet` at θ."""
        W, b, a = self.split(np.asarray(theta, dtype=float))
        return TwoLayerNet(W, b if self.bias else np.zeros(self.width), a, self.activation, self.bias)

    def init(self, seed: int | np.random.Generator = 0, scale: float = 1.0, bias_scale: float | None = None
             ) -> np.ndarray:
        """Random θ: W ~ N(0, scale²/d), b ~ N(0, bias_scale²) (default scale/2), a ~ N(0, 1/m).

        ``seed`` may be a Generator, which is then advanced (W first, then b, then a).
        """
        rng = np.random.default_rng(seed)
        m, d = self.width, self.dim
        W = rng.standard_normal((m, d)) * scale / math.sqrt(d)
        parts = [W.ravel()]
        if self.bias:
            parts.append(rng.standard_normal(m) * (scale / 2 if bias_scale is None else bias_scale))
        parts.append(rng.standard_normal(m) / math.sqrt(m))
        return np.concatenate(parts)

    def predict(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """f(X; θ), shape (n,)."""
        W, b, a = self.split(theta)
        return self.act.fn(X @ W.T + b) @ a

    def loss(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        """L(θ) = (1/2n) Σ (f(xᵢ) − yᵢ)²."""
        r = self.predict(theta, X) - y
        return 0.5 * float(r @ r) / len(y)

    def _backward(self, theta: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
        W, b, a = self.split(theta)
        z = X @ W.T + b
        h = self.act.fn(z)
        res = h @ a - y
        delta = (res[:, None] * a) * self.act.d1(z)
        parts = [(delta.T @ X).ravel()] + ([delta.sum(0)] if self.bias else []) + [h.T @ res]
        return res, np.concatenate(parts) / len(y)

    def gradient(self, theta: Any, X: np.ndarray, y: np.ndarray) -> Any:
        """∇L(θ) = (1/n) Σ rᵢ ∇_θ fᵢ by backpropagation, shape (P,)."""
        return self._backward(theta, X, y)[1]

    def loss_and_gradient(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """(L(θ), ∇L(θ)) from one forward and one backward pass."""
        res, g = self._backward(theta, X, y)
        return 0.5 * float(res @ res) / len(y), g

    def hvp(self, theta: np.ndarray, v: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """H(θ)v = Im ∇L(θ + iεv)/ε, ε = 1e-100: the complex-step derivative of the analytic gradient.

        Exact to rounding for a real-analytic loss (no subtractive cancellation;
        Squire & Trapp, SIAM Review 40, 1998); the tests hold it to autograd.
        """
        eps = 1e-100
        return self.gradient(theta + 1j * eps * np.asarray(v, dtype=float), X, y).imag / eps

    def hessian(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∇²L(θ), shape (P, P): complex-step columns H eⱼ, symmetrised (fast for P ≲ 100)."""
        eps = 1e-100
        cols = [self.gradient(theta + 1j * eps * e, X, y).imag / eps for e in np.eye(len(theta))]
        Hm = np.array(cols)
        return 0.5 * (Hm + Hm.T)

    def losses(self, thetas: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """L at many parameter vectors at once: ``thetas`` shape (S, P) → shape (S,)."""
        m, d = self.width, self.dim
        k = m * d
        W = thetas[:, :k].reshape(-1, m, d)
        b = thetas[:, k:k + m] if self.bias else np.zeros((len(thetas), m))
        a = thetas[:, k + m:] if self.bias else thetas[:, k:]
        r = np.einsum("snk,sk->sn", self.act.fn(np.einsum("nd,skd->snk", X, W) + b[:, None, :]), a) - y
        return (r * r).sum(1) / (2 * len(y))

    def autograd_loss(self, X: np.ndarray, y: np.ndarray) -> Callable[[Any], Any]:
        """θ ↦ L(θ) written with ``autograd.numpy``: the reference route for every derivative."""
        fn = self.act.fn

        def L(theta: Any) -> Any:
            W, b, a = self.split(theta)
            r = anp.dot(fn(anp.dot(X, W.T) + b), a) - y
            return 0.5 * anp.mean(r * r)

        return L

    def autograd_output(self) -> Callable[[Any, Any], Any]:
        """θ, x ↦ f(x; θ) for a single input, differentiable by autograd in both arguments."""
        fn = self.act.fn

        def f(theta: Any, x: Any) -> Any:
            W, b, a = self.split(theta)
            return anp.dot(fn(anp.dot(W, x) + b), a)

        return f


# --------------------------------------------------------------------------- one parameter point


@dataclass(frozen=True, eq=False)
class TwoLayerNet:
    """f(x) = Σⱼ aⱼ σ(wⱼ·x + bⱼ) at one parameter point.

    Parameters
    ----------
    W : ndarray, shape (m, d)
    b : ndarray, shape (m,)
        Fixed at zero (None is taken as zeros) and excluded from θ when ``bias`` is False.
    a : ndarray, shape (m,)
    activation : str
        A key of :data:`ACTIVATIONS`.
    bias : bool
        Whether b is a trained parameter.
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
        return self.architecture.n_params

    @property
    def act(self) -> Activation:
        return ACTIVATIONS[self.activation]

    @property
    def architecture(self) -> Architecture:
        return Architecture(self.dim, self.width, self.activation, self.bias)

    @property
    def theta(self) -> np.ndarray:
        """The flat parameter vector, in the order of :class:`Architecture`."""
        parts = [self.W.ravel()] + ([self.b] if self.bias else []) + [self.a]
        return np.concatenate(parts)

    def with_theta(self, theta: np.ndarray) -> "TwoLayerNet":
        return self.architecture.net(theta)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """f(X), shape (n,)."""
        return self.act.fn(np.asarray(X, float) @ self.W.T + self.b) @ self.a

    def to_json(self) -> dict:
        return {"W": self.W.tolist(), "b": self.b.tolist(), "a": self.a.tolist(),
                "activation": self.activation, "bias": self.bias}

    @classmethod
    def from_json(cls, d: dict) -> "TwoLayerNet":
        """Inverse of :meth:`to_json`."""
        return cls(np.array(d["W"], dtype=float), np.array(d["b"], dtype=float), np.array(d["a"], dtype=float),
                   d.get("activation", "tanh"), bool(d.get("bias", True)))


def init_net(dim: int, width: int, seed: int | np.random.Generator = 0, activation: str = "tanh",
             bias: bool = True, scale: float = 1.0, bias_scale: float | None = None) -> TwoLayerNet:
    """A random net (see :meth:`Architecture.init`): W ~ N(0, scale²/d), b ~ N(0, (scale/2)²), a ~ N(0, 1/m)."""
    arch = Architecture(dim, width, activation, bias)
    return arch.net(arch.init(seed, scale, bias_scale))


# --------------------------------------------------------------------------- data validation


@overload
def validate_data(X: np.ndarray, y: np.ndarray, dim: int | None = None) -> tuple[np.ndarray, np.ndarray]: ...


@overload
def validate_data(X: np.ndarray, y: None = None, dim: int | None = None) -> tuple[np.ndarray, None]: ...


def validate_data(X: np.ndarray, y: np.ndarray | None = None, dim: int | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Return float64 copies of (X, y) or raise :class:`InputError` naming the rule broken.

    X has shape (n, d), y shape (n,) (or (n, 1)); both finite.
    """
    X = finite_float_array(X, "features")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"`features` must have shape (n ≥ 1, d ≥ 1), got {X.shape}.")
    if dim is not None and X.shape[1] != dim:
        raise InputError(f"`features` have {X.shape[1]} columns but the net has input dimension {dim}.")
    if y is None:
        return X, None
    y = finite_float_array(y, "targets")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise InputError(f"`targets` must have shape ({X.shape[0]},) to match features {X.shape}, got {y.shape}.")
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
    """∇_θ f(xᵢ) as rows, shape (n, P), in the order of :attr:`TwoLayerNet.theta`."""
    P = pieces(net, X)
    n = X.shape[0]
    gW = (P.delta[:, :, None] * X[:, None, :]).reshape(n, -1)
    parts = [gW] + ([P.delta] if net.bias else []) + [P.h]
    return np.concatenate(parts, axis=1)


def gradient_gram(net: TwoLayerNet, X: np.ndarray) -> np.ndarray:
    """The Gram (empirical NTK) matrix K = GGᵀ of the per-sample gradients G, shape (n, n), without forming G.

    With ∇_W fᵢ = δᵢxᵢᵀ, ∇_b fᵢ = δᵢ and ∇_a fᵢ = hᵢ:
    Kᵢⱼ = (δᵢ·δⱼ)(xᵢ·xⱼ + β) + hᵢ·hⱼ, β = 1 with a bias, 0 without; O(n²(m + d)) time and n² memory,
    where G itself would take n·P (P = m(d + 2) parameters).
    """
    P = pieces(net, X)
    beta = 1.0 if net.bias else 0.0
    K = (P.delta @ P.delta.T) * (X @ X.T + beta) + P.h @ P.h.T
    return 0.5 * (K + K.T)


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
    """Per-sample gradient block norms without forming the (n, P) matrix."""
    P = pieces(net, X)
    dsq = np.einsum("ij,ij->i", P.delta, P.delta)
    return GradNorms(W=dsq * P.xsq, b=dsq if net.bias else np.zeros_like(dsq), a=np.einsum("ij,ij->i", P.h, P.h))


def loss(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> float:
    """L = (1/2n) Σ (f(xᵢ) − yᵢ)²."""
    r = net(X) - y
    return 0.5 * float(r @ r) / len(y)


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


# --------------------------------------------------------------------------- autograd: the reference route


def hessian_exact(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The full P×P Hessian of L by autograd. Memory P²; meant for P ≲ 2000."""
    H = hessian(net.architecture.autograd_loss(X, y))(net.theta)
    return 0.5 * (H + H.T)


# --------------------------------------------------------------------------- the net as a model of the protocol


class TwoLayerModel(Model):
    """The two-layer net as an instance of the model protocol (:mod:`theorycheck.maths.models`), in closed form.

    Backend ``"closed-form"``, square loss, flat θ in the order of :class:`Architecture`: per-sample
    gradients and input gradients from the formulas of the module docstring, Hessian-vector products in
    closed form from σ′ and σ″ (the Gauss–Newton part GᵀwGv plus Σᵢwᵢrᵢ∇²fᵢv), and the Gram matrix in
    closed form (:func:`gradient_gram`), so that the streamed measurements take the fast route; the
    tests hold it to autograd, JAX and torch.
    """

    backend = "closed-form"

    def __init__(self, architecture: Architecture) -> None:
        super().__init__("square", "cpu")
        self.architecture = architecture

    def flatten(self, params: Any) -> np.ndarray:
        theta = np.asarray(params, dtype=float).ravel()
        if theta.size != self.architecture.n_params:
            raise InputError(f"the net has {self.architecture.n_params} parameters, got {theta.size}.")
        return theta

    def _device(self, a: np.ndarray) -> Any:
        return a

    def _net(self, th: np.ndarray) -> TwoLayerNet:
        return self.architecture.net(th)

    def _outputs(self, th: Any, Xc: Any) -> Any:
        return self.architecture.predict(th, Xc)[:, None]

    def _jacobian(self, th: Any, Xc: Any) -> Any:
        return per_sample_gradients(self._net(th), Xc)[:, None, :]

    def _jvp(self, th: Any, Xc: Any, V: Any) -> Any:
        return np.einsum("cp,bp->bc", per_sample_gradients(self._net(th), Xc), V)[:, :, None]

    def _vjp(self, th: Any, Xc: Any, U: Any) -> Any:
        return self._weighted_output_gradient(th, Xc, U[:, 0])

    def _weighted_output_gradient(self, th: Any, Xc: np.ndarray, c: Any) -> Any:
        """Σᵢ cᵢ ∇_θ fᵢ(θ) by backpropagation; θ and c may be complex (the complex-step route)."""
        arch = self.architecture
        W, b, a = arch.split(th)
        z = Xc @ W.T + b
        h = arch.act.fn(z)
        delta = (c[:, None] * a) * arch.act.d1(z)
        return np.concatenate([(delta.T @ Xc).ravel()] + ([delta.sum(0)] if arch.bias else []) + [h.T @ c])

    def _loss_grad(self, th: Any, Xc: Any, yc: Any, wc: Any) -> tuple[Any, Any]:
        r = self.architecture.predict(th, Xc) - yc[:, 0]
        return 0.5 * float(np.sum(wc * r * r)), self._weighted_output_gradient(th, Xc, wc * r)

    def _output_hvp(self, th: np.ndarray, Xc: np.ndarray, c: np.ndarray, V: np.ndarray) -> np.ndarray:
        """Σᵢ cᵢ ∇²_θ fᵢ v for each row v of V (b, p), from σ′ and σ″ in closed form.

        Along v = (dW, db, da): dz = dW x + db, and the derivatives of ∂f/∂a = σ(z), ∂f/∂b = a σ′(z),
        ∂f/∂W = a σ′(z) xᵀ are σ′ dz, da σ′ + a σ″ dz and (da σ′ + a σ″ dz) xᵀ.
        """
        arch = self.architecture
        W, b, a = arch.split(th)
        z = Xc @ W.T + b
        d1, d2 = arch.act.d1(z), arch.act.d2(z)
        out = np.empty((V.shape[0], th.size))
        for j, v in enumerate(V):
            dW, db, da = arch.split(v)
            dz = Xc @ dW.T + db
            inner = c[:, None] * (da * d1 + a * d2 * dz)  # (c, m)
            parts = [(inner.T @ Xc).ravel()] + ([inner.sum(0)] if arch.bias else []) + [(c[:, None] * d1 * dz).sum(0)]
            out[j] = np.concatenate(parts)
        return out

    def _hvp(self, th: Any, Xc: Any, yc: Any, wc: Any, V: Any) -> Any:
        G = per_sample_gradients(self._net(th), Xc)
        r = self.architecture.predict(th, Xc) - yc[:, 0]
        return (V @ G.T * wc) @ G + self._output_hvp(th, Xc, wc * r, V)

    def _residual_hvp(self, th: Any, Xc: Any, Wc: Any, V: Any) -> Any:
        return self._output_hvp(th, Xc, Wc[:, 0], V)

    def _input_gradients(self, th: Any, Xc: Any) -> Any:
        return input_gradients(self._net(th), Xc)

    def gram(self, point: Any) -> np.ndarray:
        return gradient_gram(self._net(point.theta), point.X)


def two_layer_model(net: TwoLayerNet | Architecture) -> TwoLayerModel:
    """The :class:`TwoLayerModel` of a net's architecture (bind it with ``.at(net.theta, X, y)``)."""
    return TwoLayerModel(net.architecture if isinstance(net, TwoLayerNet) else net)


def hvp(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """v ↦ H v at the net's parameters: a thin name for ``two_layer_model(net).at(net.theta, X, y).hvp``."""
    return two_layer_model(net).at(net.theta, X, y).hvp


def hessian_operator(net: TwoLayerNet, X: np.ndarray, y: np.ndarray) -> Any:
    """H as a symmetric ``LinearOperator``: a thin name for ``two_layer_model(net).at(net.theta, X, y).hessian()``."""
    return two_layer_model(net).at(net.theta, X, y).hessian()


# --------------------------------------------------------------------------- the flatness → Sobolev chain


def spectral_norm(A: np.ndarray) -> float:
    """‖A‖₂, the largest singular value."""
    return float(np.linalg.norm(A, 2))


WEIGHT_NORMS = ("spectral", "frobenius", "rms")


def weight_factor(W: np.ndarray, kind: str = "spectral") -> float:
    """c(W) in the multiplicative inequality: ‖W‖₂ (the paper), ‖W‖_F (looser, still true) or
    ‖W‖_F/√min(m, d) (the mean squared singular value: smaller than ‖W‖₂, a refutable constant)."""
    if kind == "spectral":
        return spectral_norm(W)
    if kind == "frobenius":
        return float(np.linalg.norm(W))
    if kind == "rms":
        return float(np.linalg.norm(W) / math.sqrt(min(W.shape)))
    raise InputError(f"weight_norm={kind!r}; expected one of {', '.join(WEIGHT_NORMS)}.")


def multiplicative_ratios(net: TwoLayerNet, X: np.ndarray, weight_norm: str = "spectral",
                          x_power: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(LHS, RHS) per sample of ‖∇ₓf(xᵢ)‖ ≤ c(W)·‖∇_W f(xᵢ)‖_F / ‖xᵢ‖^x_power, each shape (n,)."""
    lhs = np.linalg.norm(input_gradients(net, X), axis=1)
    gw = np.sqrt(gradient_norms(net, X).W)
    xn = np.linalg.norm(X, axis=1)
    return lhs, weight_factor(net.W, weight_norm) * gw / xn**x_power


@dataclass
class SobolevChain:
    """Every link of (1/n)Σ‖∇ₓfᵢ‖² ≤ c(W)²/minᵢ‖xᵢ‖^p · Tr H at one parameter point.

    With the paper's constants (c(W) = ‖W‖₂, p = 2, coefficient 1)::

        input_grad_sq_mean  = (1/n) Σ ‖∇ₓ fᵢ‖²
        ≤ multiplicative_step = ‖W‖₂² (1/n) Σ ‖δᵢ‖²              (∇ₓf = Wᵀδ)
        ≤ min_x_step          = ‖W‖₂²/minᵢ‖xᵢ‖² · (1/n) Σ ‖∇_W fᵢ‖²
        ≤ gauss_newton_step   = ‖W‖₂²/minᵢ‖xᵢ‖² · Tr GN              (valid at every θ)
        =  bound              = c(W)²/minᵢ‖xᵢ‖^p · Tr H · coefficient   (at interpolation Tr H = Tr GN)

    and, with trained biases (∇_b f = δ), the sharper
    ``bias_augmented_bound`` = ‖W‖₂²/(1 + minᵢ‖xᵢ‖²) · Tr GN.
    """

    input_grad_sq_mean: float
    multiplicative_step: float
    min_x_step: float
    gauss_newton_step: float
    bound: float
    bias_augmented_bound: float
    trace: float
    gauss_newton_trace: float
    residual_trace: float
    share_W_in_trace: float
    w_spectral_sq: float
    min_x_sq: float

    def to_json(self) -> dict[str, float]:
        return dict(vars(self))


def sobolev_chain(net: TwoLayerNet, X: np.ndarray, y: np.ndarray, weight_norm: str = "spectral",
                  x_power: float = 2.0, coefficient: float = 1.0) -> SobolevChain:
    """The flatness → Sobolev chain of :class:`SobolevChain` (Ma & Ying, NeurIPS 2021, Sec. 2).

    ``weight_norm``, ``x_power`` and ``coefficient`` change the constant of the
    final bound only (the intermediate links keep ‖W‖₂ and ‖x‖²), so that a
    wrong constant shows as a bound that the measured left side exceeds.
    """
    gx = input_gradients(net, X)
    g = gradient_norms(net, X)
    xsq = np.sum(X * X, axis=1)
    w = weight_factor(net.W, weight_norm) ** 2
    tr = trace_hessian(net, X, y)
    mx = float(xsq.min())
    w2 = spectral_norm(net.W) ** 2
    if mx <= 0:  # an input at the origin: every bound with 1/minᵢ‖xᵢ‖ is infinite
        pref = per_x = math.inf
        per_sample = math.inf
    else:
        pref, per_x = w / mx ** (x_power / 2), w2 / mx
        per_sample = float(w2 * np.mean(g.W / xsq))
    beta_mx = (1.0 if net.bias else 0.0) + mx
    return SobolevChain(
        input_grad_sq_mean=float(np.mean(np.sum(gx * gx, axis=1))),
        multiplicative_step=per_sample,
        min_x_step=float(per_x * np.mean(g.W)),
        gauss_newton_step=float(per_x * tr.gauss_newton),
        bound=coefficient * pref * tr.total,
        bias_augmented_bound=float(w2 / beta_mx * tr.gauss_newton) if beta_mx > 0 else math.inf,
        trace=tr.total, gauss_newton_trace=tr.gauss_newton, residual_trace=tr.residual,
        share_W_in_trace=float(np.mean(g.W) / tr.gauss_newton) if tr.gauss_newton > 0 else math.nan,
        w_spectral_sq=w2, min_x_sq=mx,
    )


def require_smooth(net: TwoLayerNet, what: str) -> float:
    """sup_z |σ″(z)| of the net's activation, or :class:`InputError` if ``what`` needs σ″ and there is none."""
    if net.act.sup_d2 is None:
        raise InputError(f"{what} needs a twice-differentiable activation; {net.activation} is not.")
    return net.act.sup_d2


def input_curvature_bound(net: TwoLayerNet) -> float:
    """K ≥ sup_x ‖∇²ₓ f(x)‖₂, from ∇²ₓ f = Wᵀ diag(a ⊙ σ″(z)) W: min(‖W‖₂² max|aⱼ|, Σ|aⱼ|‖wⱼ‖²)·sup|σ″|."""
    s2 = require_smooth(net, "the second-order remainder")
    return s2 * min(spectral_norm(net.W) ** 2 * float(np.max(np.abs(net.a))),
                    float(np.sum(np.abs(net.a) * np.sum(net.W**2, axis=1))))


def regularised_flow(arch: Architecture, X: np.ndarray, y: np.ndarray, mu: float
                     ) -> Callable[[float, np.ndarray], np.ndarray]:
    """t, θ ↦ −∇(L + μ‖∇L‖²)(θ) = −(g + 2μHg): the explicit-GR flow of the network loss (``solve_ivp`` form).

    Hg by the complex-step derivative (:meth:`Architecture.hvp`); μ = 0 is the gradient flow.
    """
    def rhs(_t: float, theta: np.ndarray) -> np.ndarray:
        g = arch.gradient(theta, X, y)
        return -(g + 2.0 * mu * arch.hvp(theta, g, X, y)) if mu else -g

    return rhs


__all__ = [
    "ACTIVATIONS", "Activation", "Architecture", "GradNorms", "Pieces", "SMOOTH_ACTIVATIONS", "SobolevChain",
    "TraceParts", "TwoLayerModel", "TwoLayerNet", "WEIGHT_NORMS", "get_activation", "gradient_gram", "gradient_norms", "hessian_exact",
    "hessian_operator", "hvp", "init_net", "input_curvature_bound", "input_gradients", "loss",
    "multiplicative_ratios", "per_sample_gradients", "pieces", "regularised_flow", "require_smooth",
    "sobolev_chain", "spectral_norm", "trace_hessian", "two_layer_model", "validate_data", "weight_factor",
]
