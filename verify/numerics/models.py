"""Stability, flatness and edge-of-stability measurements at a user's trained parameters, matrix-free.

Everything here works from a model's :class:`~theorycheck.maths.models.ModelDerivatives`
(per-sample gradients G, shape (n, p), and Hessian-vector products of the
square loss L = (1/2n)Σ(f(θ, xᵢ) − yᵢ)²); no p×p matrix is formed.

* :func:`stability_at`: at an interpolating minimum the per-sample Hessians
  are Hᵢ = gᵢgᵢᵀ (the residual term vanishes), so SGD's exact critical rate
  η*(B) (Mulayoff & Michaeli, arXiv:2306.07850, Thm. 3), the Wu–Ma–E
  sharpness and non-uniformity (NeurIPS 2018, Sec. 3) and the published
  conditions of :func:`theorycheck.maths.stability.published_conditions` are
  computed on the range of G (rank ≤ n), as
  :func:`theorycheck.maths.stability.problem_from_gradients` does (through the
  n×n Gram matrix when p ≫ n);
* :func:`top_hessian_eigenvalue` (λ_max by Lanczos on v ↦ Hv) and
  :func:`hessian_trace` (Tr H exactly from p products with basis vectors, or
  Hutchinson's estimate with Rademacher probes), beside
  :func:`gauss_newton_trace` = (1/n)Σ‖gᵢ‖²;
* :func:`multiplicative_at` and :func:`sobolev_at`: when the first layer
  computes z = W₁x (+ b) with W₁ (m × d) a block of θ, ∇ₓf = W₁ᵀ∂f/∂z and
  ∇_{W₁}f = (∂f/∂z)xᵀ, so ‖∇ₓfᵢ‖ ≤ ‖W₁‖₂‖∇_{W₁}fᵢ‖_F/‖xᵢ‖ at any depth
  (Ma & Ying 2021, Sec. 2, multiplicative structure) and
  (1/n)Σ‖∇ₓfᵢ‖² ≤ ‖W₁‖₂²/minᵢ‖xᵢ‖² · Tr GN;
* :func:`edge_of_stability_at`: λ_max(H) against GD's threshold 2/η.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.constants import STABILITY_CONSTANT
from theorycheck.maths.models import ModelDerivatives
from theorycheck.maths.sampling import sampling_factor
from theorycheck.maths.stability import non_uniformity, problem_from_gradients, published_conditions, sharpness

#: Above this many parameters :func:`hessian_trace` defaults to Hutchinson's estimate.
EXACT_TRACE_LIMIT = 2000


@dataclass(frozen=True)
class FirstLayer:
    """Where the first-layer weight W₁ (shape (m, d), row-major) sits in θ: ``theta[start:start + m*d]``."""

    start: int
    shape: tuple[int, int]

    def indices(self) -> slice:
        m, d = self.shape
        return slice(self.start, self.start + m * d)

    def weight(self, theta: np.ndarray) -> np.ndarray:
        return np.asarray(theta, dtype=float)[self.indices()].reshape(self.shape)


def _data(theta: Any, X: Any, y: Any | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    th = np.asarray(theta, dtype=float).ravel()
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim != 2 or not np.all(np.isfinite(Xa)):
        raise InputError(f"inputs must be a finite (n, d) array, got shape {Xa.shape}.")
    ya = np.zeros(0)  # no targets given (the measurements that need none)
    if y is not None:
        ya = np.asarray(y, dtype=float).ravel()
        if ya.shape != (Xa.shape[0],) or not np.all(np.isfinite(ya)):
            raise InputError(f"targets must be finite, one per input row: got {ya.shape} for {Xa.shape[0]} inputs.")
    if not np.all(np.isfinite(th)):
        raise InputError("parameters must be finite.")
    return th, Xa, ya


def hessian_operator(md: ModelDerivatives, theta: Any, X: Any, y: Any) -> Any:
    """∇²L(θ) as a scipy ``LinearOperator`` (p × p), applied by Hessian-vector products."""
    from scipy.sparse.linalg import LinearOperator

    th, Xa, ya = _data(theta, X, y)
    p = th.size
    return LinearOperator((p, p), matvec=lambda v: md.hvp(th, Xa, ya, np.asarray(v, dtype=float).ravel()),
                          dtype=float)


def top_hessian_eigenvalue(md: ModelDerivatives, theta: Any, X: Any, y: Any, tol: float = 1e-10) -> float:
    """λ_max(∇²L(θ)) by Lanczos (ARPACK) on Hessian-vector products."""
    from scipy.sparse.linalg import eigsh

    op = hessian_operator(md, theta, X, y)
    if op.shape[0] == 1:
        return float(op.matvec(np.ones(1))[0])
    v0 = np.random.default_rng(0).standard_normal(op.shape[0])
    return float(eigsh(op, k=1, which="LA", tol=tol, v0=v0, return_eigenvectors=False)[0])


def hessian_trace(md: ModelDerivatives, theta: Any, X: Any, y: Any, probes: int | None = None,
                  seed: int = 0) -> float:
    """Tr ∇²L(θ): exactly (Σⱼ eⱼᵀHeⱼ, p products) when ``probes`` is None and p ≤ :data:`EXACT_TRACE_LIMIT`,
    else Hutchinson's mean of zᵀHz over ``probes`` Rademacher vectors (default 200)."""
    th, Xa, ya = _data(theta, X, y)
    p = th.size
    if probes is None and p <= EXACT_TRACE_LIMIT:
        return float(sum(md.hvp(th, Xa, ya, e)[j] for j, e in enumerate(np.eye(p))))
    rng = np.random.default_rng(seed)
    zs = rng.choice([-1.0, 1.0], size=(probes or 200, p))
    return float(np.mean([z @ md.hvp(th, Xa, ya, z) for z in zs]))


def gauss_newton_trace(md: ModelDerivatives, theta: Any, X: Any) -> float:
    """Tr of the Gauss–Newton part GᵀG/n = (1/n) Σ‖∇_θ f(θ, xᵢ)‖² (= Tr H at an interpolating minimum)."""
    th, Xa, _ = _data(theta, X)
    G = md.per_sample_gradients(th, Xa)
    return float(np.einsum("ij,ij->", G, G) / Xa.shape[0])


def gradient_problem(md: ModelDerivatives, theta: Any, X: Any, y: Any | None = None,
                     what: str = "per-sample gradients") -> tuple[Any, float | None]:
    """The second-moment problem of Hᵢ = gᵢgᵢᵀ (gᵢ = ∇_θ f(θ, xᵢ), shape (n, p)) and max |f(θ, xᵢ) − yᵢ|.

    Through the n×n Gram matrix when p ≫ n (:func:`~theorycheck.maths.stability.problem_from_gradients`);
    the residual (None without targets) says how far θ is from the interpolating minimum where the
    per-sample Hessians are exactly gᵢgᵢᵀ. ``what`` names the gradients in error messages.
    """
    th, Xa, ya = _data(theta, X, y)
    G = np.asarray(md.per_sample_gradients(th, Xa), dtype=float)
    if G.shape != (Xa.shape[0], th.size):
        raise InputError(f"the model gave per-sample gradients of shape {G.shape}, expected ({Xa.shape[0]}, "
                         f"{th.size}): f(params, x) must return one number per input.")
    residual = None
    if y is not None:
        r = np.asarray(md.outputs(th, Xa), dtype=float).ravel() - ya
        residual = float(np.max(np.abs(r))) if r.size else 0.0
    return problem_from_gradients(G, what), residual  # no p×p object


def stability_at(md: ModelDerivatives, theta: Any, X: Any, y: Any, batch: int, sampling: str = "with",
                 rtol: float = 1e-8) -> dict[str, Any]:
    """η*(B), sharpness a, non-uniformity s and the published conditions at an interpolating minimum θ.

    Returns a dict with ``eta_star``, ``sharpness``, ``non_uniformity``, ``conditions`` (name → threshold, kind,
    statement, source) and ``max_abs_residual`` (how far θ is from interpolating: Hᵢ = gᵢgᵢᵀ needs it ≈ 0).
    """
    from theorycheck.numerics.stability import critical_rate

    P, residual = gradient_problem(md, theta, X, y)
    return {
        "eta_star": critical_rate(P, sampling_factor(P.n, batch, sampling), rtol),
        "sharpness": sharpness(P), "non_uniformity": non_uniformity(P),
        "conditions": published_conditions(P, batch, sampling),
        "max_abs_residual": residual,
    }


def _first(first_layer: FirstLayer, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, d = first_layer.shape
    if X.shape[1] != d:
        raise InputError(f"the first layer takes inputs of dimension {d}, the data has {X.shape[1]}.")
    if first_layer.start < 0 or first_layer.start + m * d > theta.size:
        raise InputError(f"the first layer {first_layer} does not fit in {theta.size} parameters.")
    return first_layer.weight(theta), first_layer.indices()  # type: ignore[return-value]


def multiplicative_at(md: ModelDerivatives, theta: Any, X: Any, first_layer: FirstLayer) -> tuple[np.ndarray, np.ndarray]:
    """(‖∇ₓfᵢ‖, ‖W₁‖₂‖∇_{W₁}fᵢ‖_F/‖xᵢ‖) per sample, each shape (n,): the first must not exceed the second."""
    th, Xa, _ = _data(theta, X)
    W1, idx = _first(first_layer, th, Xa)
    lhs = np.linalg.norm(md.input_gradients(th, Xa), axis=1)
    gw = np.linalg.norm(md.per_sample_gradients(th, Xa)[:, idx], axis=1)
    return lhs, np.linalg.norm(W1, 2) * gw / np.linalg.norm(Xa, axis=1)


def sobolev_at(md: ModelDerivatives, theta: Any, X: Any, first_layer: FirstLayer) -> dict[str, float]:
    """(1/n)Σ‖∇ₓfᵢ‖² against the bound ‖W₁‖₂²/minᵢ‖xᵢ‖² · Tr GN (flatness bounds input smoothness)."""
    th, Xa, _ = _data(theta, X)
    W1, _ = _first(first_layer, th, Xa)
    measured = float(np.mean(np.sum(md.input_gradients(th, Xa) ** 2, axis=1)))
    bound = float(np.linalg.norm(W1, 2) ** 2 / np.min(np.sum(Xa**2, axis=1)) * gauss_newton_trace(md, th, Xa))
    return {"input_grad_sq_mean": measured, "bound": bound}


def edge_of_stability_at(md: ModelDerivatives, theta: Any, X: Any, y: Any, lr: float) -> dict[str, float]:
    """λ_max(H) at θ against GD's threshold 2/η; ``ratio`` = η λ_max / 2 (≈ 1 at the edge of stability)."""
    if not lr > 0:
        raise InputError(f"the learning rate must be positive, got {lr!r}.")
    lam = top_hessian_eigenvalue(md, theta, X, y)
    thr = STABILITY_CONSTANT / lr
    return {"sharpness": lam, "threshold": thr, "ratio": lam / thr}


__all__ = [
    "EXACT_TRACE_LIMIT", "FirstLayer", "edge_of_stability_at", "gauss_newton_trace", "gradient_problem", "hessian_operator",
    "hessian_trace", "multiplicative_at", "sobolev_at", "stability_at", "top_hessian_eigenvalue",
]
