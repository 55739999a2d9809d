"""Losses of a model's outputs: square, logistic and cross-entropy, with the curvature their Gauss–Newton part needs.

A model maps θ and an input xᵢ to outputs fᵢ ∈ R^k (k = 1 for a scalar model).
Its training loss is the mean of a per-sample loss ℓ(fᵢ, yᵢ),

    L(θ) = (1/n) Σᵢ ℓ(fᵢ(θ), yᵢ),

and its Hessian splits into the Gauss–Newton part and the residual part
(Schraudolph 2002; Martens 2020, "New insights and perspectives on the natural
gradient method", JMLR 21, Sec. 8):

    ∇²L = (1/n) Σᵢ Jᵢᵀ Λᵢ Jᵢ  +  (1/n) Σᵢ Σₐ (∂ℓ/∂f_a)(fᵢ, yᵢ) ∇²_θ f_{i,a},
          Gauss–Newton GN            residual R

with Jᵢ = ∂fᵢ/∂θ (k × p) and Λᵢ = ∂²ℓ/∂f² (k × k, PSD for the three losses
here). The per-sample Gauss–Newton Hessian Jᵢᵀ Λᵢ Jᵢ = GᵢGᵢᵀ has the factor
Gᵢ = Jᵢᵀ Λᵢ^{1/2} (p × k), which is what the stability problem is built from.

* ``square``: ℓ = ½‖f − y‖², Λ = I. At an interpolating minimum (f = y) the
  residual part vanishes and H = GN exactly, the case of Ma & Ying's theory.
* ``logistic``: one output, labels y ∈ {0, 1}, ℓ = log(1 + e^f) − y f,
  ℓ′ = σ(f) − y, Λ = σ(f)(1 − σ(f)).
* ``cross-entropy``: k ≥ 2 logits, integer class labels y ∈ {0, …, k−1},
  ℓ = log Σₐ e^{f_a} − f_y, ℓ′ = s − e_y (s the softmax), Λ = diag(s) − ssᵀ
  (rank k − 1: the constant direction is null).

For logistic and cross-entropy ℓ′ never vanishes at finite f, so no finite θ
interpolates: H ≠ GN, and the Gauss–Newton quantities (Tr GN, η*(B) from
Hᵢ = GᵢGᵢᵀ) describe the Gauss–Newton approximation, not the Hessian itself.

Each loss is written once over a small table of array operations
(:class:`ArrayOps`) so that autograd, JAX and torch differentiate the same
formula; ℓ′ and Λ^{1/2} are evaluated in float64 numpy from the outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from theorycheck.core.errors import InputError

#: Names accepted by :func:`get_output_loss`, in the order the command line lists them.
OUTPUT_LOSSES = ("square", "logistic", "cross-entropy")


@dataclass(frozen=True)
class ArrayOps:
    """The operations a loss formula needs, from one array library (autograd.numpy, jax.numpy or torch)."""

    sum_last: Callable[[Any], Any]  # Σ over the output axis, keeping the sample axis
    logsumexp_last: Callable[[Any], Any]
    softplus: Callable[[Any], Any]  # log(1 + eᶻ), stable
    take_last: Callable[[Any, Any], Any]  # f[i, y_i] for integer labels y (n,)


@dataclass(frozen=True)
class OutputLoss:
    """A per-sample loss ℓ(f, y) of outputs f (n, k) and targets y (module docstring).

    ``value(ops, f, y)`` returns the n per-sample losses in the array library of ``ops``;
    :meth:`first_derivative` gives ℓ′ (n, k) and :meth:`curvature_root` Λ^{1/2} (n, k, k), both numpy.
    """

    name: str
    value: Callable[[ArrayOps, Any, Any], Any]
    _first: Callable[[np.ndarray, np.ndarray], np.ndarray]
    _curvature: Callable[[np.ndarray], np.ndarray]
    interpolates: bool  # whether ℓ′ = 0 is reachable (then H = GN at a minimum)

    def check_targets(self, y: np.ndarray, n: int, k: int) -> np.ndarray:
        """Targets as this loss reads them: (n, k) floats for square, (n,) labels otherwise; one line if not."""
        y = np.asarray(y, dtype=float)
        if self.name == "square":
            if y.ndim == 1 and k == 1:
                y = y[:, None]
            if y.shape != (n, k):
                raise InputError(f"square-loss targets must have shape ({n},) or ({n}, {k}) for a model with {k} "
                                 f"output(s), got {y.shape}.")
            return y
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.shape != (n,):
            raise InputError(f"{self.name} targets must be one label per sample, shape ({n},), got {y.shape}.")
        if self.name == "logistic":
            if k != 1:
                raise InputError(f"the logistic loss needs a model with one output (a logit), this one has {k}.")
            if not np.all((y == 0) | (y == 1)):
                raise InputError("logistic targets must be labels 0 or 1.")
            return y
        if k < 2:
            raise InputError("the cross-entropy loss needs a model with k ≥ 2 outputs (logits), this one has 1.")
        if not np.all((y == np.round(y)) & (y >= 0) & (y < k)):
            raise InputError(f"cross-entropy targets must be integer class labels 0..{k - 1}.")
        return y

    def first_derivative(self, f: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∂ℓ/∂f per sample, shape (n, k): the weights of the residual part R."""
        return self._first(np.asarray(f, dtype=float), y)

    def curvature_root(self, f: np.ndarray) -> np.ndarray:
        """Λᵢ^{1/2} = (∂²ℓ/∂f²)^{1/2} per sample, shape (n, k, k), symmetric PSD."""
        return self._curvature(np.asarray(f, dtype=float))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def _softmax(f: np.ndarray) -> np.ndarray:
    e = np.exp(f - f.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _square_curvature(f: np.ndarray) -> np.ndarray:
    n, k = f.shape
    return np.broadcast_to(np.eye(k), (n, k, k)).copy()


def _logistic_curvature(f: np.ndarray) -> np.ndarray:
    s = _sigmoid(f[:, 0])
    return np.sqrt(s * (1.0 - s))[:, None, None]


def _cross_entropy_curvature(f: np.ndarray) -> np.ndarray:
    s = _softmax(f)
    lam = np.einsum("na,ab->nab", s, np.eye(f.shape[1])) - s[:, :, None] * s[:, None, :]
    w, V = np.linalg.eigh(lam)
    return np.einsum("nab,nb,ncb->nac", V, np.sqrt(np.clip(w, 0.0, None)), V)


def _one_hot(y: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[y.astype(int)]


LOSSES: dict[str, OutputLoss] = {
    "square": OutputLoss(
        "square", lambda ops, f, y: 0.5 * ops.sum_last((f - y) ** 2),
        lambda f, y: f - y, _square_curvature, True),
    "logistic": OutputLoss(
        "logistic", lambda ops, f, y: ops.softplus(f[:, 0]) - y * f[:, 0],
        lambda f, y: _sigmoid(f) - y[:, None], _logistic_curvature, False),
    "cross-entropy": OutputLoss(
        "cross-entropy", lambda ops, f, y: ops.logsumexp_last(f) - ops.take_last(f, y),
        lambda f, y: _softmax(f) - _one_hot(y, f.shape[1]), _cross_entropy_curvature, False),
}


def get_output_loss(name: str | OutputLoss) -> OutputLoss:
    """The loss called ``name`` (:data:`OUTPUT_LOSSES`), or one :class:`InputError` listing them."""
    if isinstance(name, OutputLoss):
        return name
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise InputError(f"the loss must be one of {', '.join(OUTPUT_LOSSES)}, got {name!r}.") from None


__all__ = ["ArrayOps", "LOSSES", "OUTPUT_LOSSES", "OutputLoss", "get_output_loss"]
