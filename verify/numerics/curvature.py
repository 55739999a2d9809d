"""Tr H and λ_max of a network's loss Hessian: exact from per-sample gradients, or estimated from HVPs.

At an interpolating minimum of the square loss L = (1/2n)Σ(f(xᵢ;θ) − yᵢ)² the Hessian is the
Gauss–Newton matrix H = (1/n)GᵀG of the per-sample gradients G (n×P) (Ma & Ying, NeurIPS 2021,
Sec. 4), so

    Tr H = ‖G‖_F²/n = Tr K/n,   λ_max(H) = λ_max(K)/n,   K = GGᵀ (n×n),

exactly, from the n×n Gram matrix: :func:`exact_curvature` (nothing of size P×P, and with K
from :func:`theorycheck.maths.networks.gradient_gram` not even the n×P gradients). Where
neither G nor K is available (P·n too large, or not at interpolation, where H ≠ GᵀG/n),
:func:`estimated_curvature` works from Hessian-vector products only: Tr H by Hutchinson's
Rademacher estimator with a Student-t confidence interval and λ_max by Lanczos
(:mod:`theorycheck.numerics.eigen`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.numbers import finite_float_array
from theorycheck.numerics.eigen import TraceResult, hutchinson_trace, lambda_max

__all__ = ["Curvature", "estimated_curvature", "exact_curvature"]


@dataclass(frozen=True)
class Curvature:
    """Tr H and λ_max(H); ``trace_ci`` the confidence interval of an estimated trace (None when exact)."""

    trace: float
    lambda_max: float
    method: str
    trace_ci: tuple[float, float] | None = None
    confidence: float | None = None
    samples: int | None = None


def exact_curvature(*, gradients: object | None = None, gram: object | None = None, n: int | None = None
                    ) -> Curvature:
    """Exact Tr H and λ_max of H = (1/n)GᵀG from the per-sample gradients G (n, P) or their Gram matrix K = GGᵀ.

    The smaller Gram matrix is used: O(n²P) for G (n < P), O(n²) memory; ``n`` defaults to the rows.
    """
    if (gradients is None) == (gram is None):
        raise InputError("give exactly one of `gradients` (n, P) and `gram` (n, n).")
    if gradients is not None:
        G = finite_float_array(gradients, "gradients")
        if G.ndim != 2 or G.shape[0] < 1:
            raise InputError(f"`gradients` must have shape (n, P), got {G.shape}.")
        K = G @ G.T if G.shape[0] <= G.shape[1] else G.T @ G
        rows = G.shape[0]
    else:
        K = finite_float_array(gram, "gram")
        if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] < 1:
            raise InputError(f"`gram` must be a square (n, n) matrix, got shape {K.shape}.")
        rows = K.shape[0]
    m = rows if n is None else int(n)
    top = float(np.linalg.eigvalsh(0.5 * (K + K.T))[-1]) if K.shape[0] <= 2000 else _top(K)
    return Curvature(trace=float(np.trace(K)) / m, lambda_max=top / m, method="exact (Gram matrix)")


def _top(K: np.ndarray) -> float:
    from scipy import linalg

    r = K.shape[0]
    return float(linalg.eigh(0.5 * (K + K.T), eigvals_only=True, subset_by_index=[r - 1, r - 1])[0])


def estimated_curvature(hvp: Callable[[np.ndarray], np.ndarray], p: int, *, samples: int = 100, seed: int = 0,
                        confidence: float = 0.99, tol: float = 1e-8) -> Curvature:
    """Tr H by Hutchinson (``samples`` Rademacher probes, t-interval at ``confidence``) and λ_max by Lanczos.

    ``hvp`` maps v ∈ R^p to Hv (e.g. :func:`theorycheck.maths.networks.hvp`); nothing but vectors of
    size p is stored. Cost: ``samples`` HVPs for the trace plus a few dozen for λ_max.
    """
    from scipy.sparse.linalg import LinearOperator

    if isinstance(p, bool) or int(p) != p or p < 1:
        raise InputError(f"`p` must be a positive integer, got {p!r}.")
    op = LinearOperator((int(p), int(p)), matvec=hvp, rmatvec=hvp, dtype=float)
    est: TraceResult = hutchinson_trace(op, samples=samples, seed=seed, confidence=confidence)
    return Curvature(trace=est.estimate, lambda_max=lambda_max(op, tol=tol, seed=seed),
                     method="Hutchinson trace + Lanczos λ_max (HVPs)", trace_ci=est.interval,
                     confidence=confidence, samples=samples)
