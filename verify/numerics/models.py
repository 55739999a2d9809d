"""Stability, flatness and edge-of-stability measurements of a user's model at θ, streamed to a million parameters.

Everything works from a :class:`~theorycheck.maths.models.ModelPoint` (a model bound to θ and data) and
never holds the n × p per-sample gradients:

* :func:`output_gram` streams the output Gram matrix K = JJᵀ (nk × nk, the empirical NTK) chunk by
  chunk: the diagonal blocks from each chunk's Jacobians J_a (k × p per sample), the blocks below
  them as forward-mode products J_b J_aᵀ of the later samples along the rows of J_a. Memory: one
  chunk of Jacobians and K; time n²p (one pass over every pair of samples) plus one Jacobian per
  sample. :func:`gauss_newton_gram` weights it by the loss, Λ^{1/2} K Λ^{1/2}: the Gram matrix of
  the factors Gᵢ = Jᵢᵀ Λᵢ^{1/2} of the per-sample Gauss–Newton Hessians Hᵢ = Jᵢᵀ Λᵢ Jᵢ.
* :func:`stability_at`: SGD's exact critical rate η*(B) of the second-moment dynamics with those Hᵢ
  (Mulayoff & Michaeli, arXiv:2306.07850, Thm. 3), the Wu–Ma–E sharpness and non-uniformity (NeurIPS
  2018, Sec. 3) and the published conditions, on the span of the gradients (rank ≤ nk). For the
  square loss at an interpolating minimum the Hᵢ are the per-sample Hessians exactly (the residual
  term vanishes); elsewhere, and always for logistic and cross-entropy (ℓ′ ≠ 0), they are the
  Gauss–Newton approximation of them.
* :func:`gauss_newton_trace` Tr GN = (1/n)Σᵢ‖Jᵢᵀ Λᵢ^{1/2}‖_F² exactly, streamed;
  :func:`hessian_trace` Tr H = Tr GN + Tr R, the Gauss–Newton part exact and the residual part
  R = (1/n)Σ ℓ′ᵢ∇²fᵢ exact for small p and by Hutch++ with an interval beyond
  (:func:`theorycheck.numerics.trace.operator_trace`); R = 0 at interpolation, so near a minimum the
  estimate's error is that of a small operator. :func:`top_hessian_eigenvalue` λ_max(H) by Lanczos
  on Hessian-vector products (ARPACK ``eigsh``).
* :func:`multiplicative_at` and :func:`sobolev_at`: when the first layer computes z = W₁x (+ b),
  ∇ₓf = W₁ᵀ∂f/∂z and ∇_{W₁}f = (∂f/∂z)xᵀ, so ‖∇ₓfᵢ‖ ≤ ‖W₁‖₂‖∇_{W₁}fᵢ‖_F/‖xᵢ‖ at any depth
  (Ma & Ying 2021, Sec. 2, multiplicative structure) and (1/n)Σ‖∇ₓfᵢ‖² ≤ ‖W₁‖₂²/minᵢ‖xᵢ‖² ·
  (1/n)Σ‖∇_θfᵢ‖², the last factor being Tr GN of the square loss (= Tr H at an interpolating minimum).
* :func:`edge_of_stability_at`: λ_max(H) against GD's threshold 2/η (Cohen et al., ICLR 2021).
* :func:`flatness_at`: all of the above that need no batch size, as one dict (the ``flatness --model``
  command's numbers); :func:`streaming_memory` the bytes the streamed measurements allocate.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.constants import STABILITY_CONSTANT
from theorycheck.maths.models import ModelError, ModelPoint
from theorycheck.maths.sampling import sampling_factor
from theorycheck.maths.stability import (
    StabilityProblem,
    non_uniformity,
    problem_from_gram,
    published_conditions,
    sharpness,
)
from theorycheck.numerics.eigen import lambda_max
from theorycheck.numerics.trace import EXACT_LIMIT, TraceResult, exact_trace, operator_trace

#: Relative accuracy of λ_max asked of Lanczos by default.
EIGEN_TOL = 1e-10


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

    def check(self, point: ModelPoint) -> np.ndarray:
        """W₁ at the point, after checking that it fits θ and the inputs; one line if not."""
        m, d = self.shape
        if isinstance(self.start, bool) or not isinstance(self.start, (int, np.integer)) or m < 1 or d < 1:
            raise InputError(f"the first layer {self} needs an integer start and a positive shape.")
        if self.start < 0 or self.start + m * d > point.p:
            raise InputError(f"the first layer {self} does not fit in {point.p} parameters.")
        if point.X[0].size != d:
            raise InputError(f"the first layer takes inputs of dimension {d}, the data has {point.X[0].size}.")
        return self.weight(point.theta)


def streaming_memory(n: int, k: int, p: int, chunk: int, gram: bool = True) -> int:
    """Bytes the streamed measurements hold at once, about: what :func:`output_gram` and the products allocate.

    A chunk of per-sample Jacobians (chunk·k·p) three times over (the framework's result, its float64 host
    view, and the tangents of the forward-mode products), a few parameter vectors (Lanczos keeps 20 and
    Hutch++ a sketch of 24 and a probe block), the nk × nk Gram matrix with its eigenvectors when ``gram``.
    Exact integers (no overflow for absurd sizes).
    """
    n, k, p, chunk = int(n), int(k), int(p), int(chunk)
    return 8 * (3 * chunk * k * p + 64 * p + ((3 * (n * k) ** 2) if gram else 0))


def _sweep(point: ModelPoint) -> Iterator[tuple[int, slice, np.ndarray]]:
    """(index, rows, J of those rows (c, k, p)) per chunk, with a progress bar on a terminal for long sweeps."""
    import sys

    from tqdm import tqdm

    bar = tqdm(total=len(point.chunks), desc="per-sample Jacobians", unit="chunk", file=sys.stderr,
               disable=not sys.stderr.isatty() or len(point.chunks) < 4, leave=False)
    try:
        for i, (rows, J) in enumerate(point.jacobians()):
            yield i, rows, J
            bar.update(1)
    finally:
        bar.close()


def output_gram(point: ModelPoint) -> np.ndarray:
    """K = JJᵀ, shape (nk, nk), sample-major (row ik + a is output a of sample i), streamed (module docstring).

    A model with a closed form (:meth:`~theorycheck.maths.models.Model.gram`) gives it directly.
    """
    closed = point.model.gram(point)
    if closed is not None:
        return closed
    n, k, p = point.n, point.k, point.p
    K = np.empty((n * k, n * k))
    chunks = point.chunks
    for a, ra, Ja in _sweep(point):
        Fa = Ja.reshape(-1, p)
        ia = slice(ra.start * k, ra.stop * k)
        K[ia, ia] = Fa @ Fa.T
        for b in range(a + 1, len(chunks)):
            rb = chunks[b]
            ib = slice(rb.start * k, rb.stop * k)
            Kba = point.jacobian_products(b, Fa).reshape((rb.stop - rb.start) * k, Fa.shape[0])
            K[ib, ia] = Kba
            K[ia, ib] = Kba.T
    if not np.all(np.isfinite(K)):
        raise ModelError("the model gave non-finite per-sample gradients (NaN or inf) at these parameters and inputs.")
    return 0.5 * (K + K.T)


def gauss_newton_gram(point: ModelPoint, K: np.ndarray | None = None) -> np.ndarray:
    """Λ^{1/2} K Λ^{1/2} (nk × nk): the Gram matrix of the factor columns of Hᵢ = Jᵢᵀ Λᵢ Jᵢ."""
    K = output_gram(point) if K is None else K
    if point.model.loss.name == "square":
        return K
    n, k = point.n, point.k
    R = point.curvature_root()
    K4 = K.reshape(n, k, n, k)
    out = np.einsum("iab,ibjc,jcd->iajd", R, K4, R).reshape(n * k, n * k)
    return 0.5 * (out + out.T)


def gradient_problem(point: ModelPoint) -> StabilityProblem:
    """The second-moment problem of Hᵢ = Jᵢᵀ Λᵢ Jᵢ on the span of the gradients, from the streamed Gram matrix."""
    return problem_from_gram(gauss_newton_gram(point), d=point.p, name="Gauss–Newton Gram matrix",
                             columns_per_sample=point.k)


def max_abs_residual(point: ModelPoint) -> float | None:
    """max |ℓ′(fᵢ, yᵢ)| (for the square loss max |fᵢ − yᵢ|): 0 exactly at an interpolating minimum; None without y."""
    if point.y is None:
        return None
    return float(np.max(np.abs(point.residual_weights()))) * point.n


def stability_at(point: ModelPoint, batch: int, sampling: str = "with", rtol: float = 1e-8) -> dict[str, Any]:
    """η*(B), sharpness a, non-uniformity s and the published conditions with Hᵢ = Jᵢᵀ Λᵢ Jᵢ at θ.

    Returns a dict with ``eta_star``, ``sharpness``, ``non_uniformity``, ``conditions`` (name → threshold,
    kind, statement, source) and ``max_abs_residual`` (max |ℓ′ᵢ|: how far θ is from interpolating, where
    these Hᵢ are the per-sample Hessians of the square loss exactly).
    """
    from theorycheck.numerics.stability import critical_rate

    P = gradient_problem(point)
    return {
        "eta_star": critical_rate(P, sampling_factor(P.n, batch, sampling), rtol),
        "sharpness": sharpness(P), "non_uniformity": non_uniformity(P),
        "conditions": published_conditions(P, batch, sampling),
        "max_abs_residual": max_abs_residual(point),
    }


@dataclass(frozen=True)
class GradientNorms:
    """Per-sample squared norms from one streamed pass, each shape (n,).

    ``gauss_newton`` = ‖Jᵢᵀ Λᵢ^{1/2}‖_F² (its mean is Tr GN), ``theta`` = ‖Jᵢ‖_F² (= ‖∇_θ fᵢ‖² for a scalar
    model) and ``first_layer`` = ‖∇_{W₁}fᵢ‖_F² (zeros without a first layer).
    """

    gauss_newton: np.ndarray
    theta: np.ndarray
    first_layer: np.ndarray


def gradient_norms(point: ModelPoint, first_layer: FirstLayer | None = None) -> GradientNorms:
    """The per-sample norms of :class:`GradientNorms`, chunk by chunk (no n × p array)."""
    if first_layer is not None:
        first_layer.check(point)
    R = point.curvature_root() if point.model.loss.name != "square" else None
    gn, th, fl = np.empty(point.n), np.empty(point.n), np.zeros(point.n)
    for _, rows, J in _sweep(point):
        th[rows] = np.einsum("ckp,ckp->c", J, J)
        if R is None:
            gn[rows] = th[rows]
        else:
            JR = np.einsum("ckp,cka->cap", J, R[rows])
            gn[rows] = np.einsum("cap,cap->c", JR, JR)
        if first_layer is not None:
            Jw = J[:, :, first_layer.indices()]
            fl[rows] = np.einsum("ckp,ckp->c", Jw, Jw)
    if not (np.all(np.isfinite(gn)) and np.all(np.isfinite(th)) and np.all(np.isfinite(fl))):
        raise ModelError("the model gave non-finite per-sample gradients (NaN or inf) at these parameters and inputs.")
    return GradientNorms(gn, th, fl)


@contextmanager
def _krylov_threads(point: ModelPoint) -> Iterator[None]:
    """NumPy's BLAS on one thread while a Krylov method (Lanczos, Hutch++) drives a framework's products.

    Between two products the host does small work (a p × s sketch, ARPACK's vector updates), and BLAS threads
    that spin on after it take the cores from the framework's own pool: on two cores, a torch MLP's Hutch++
    spent a fifth of its time so. The Gram matrix JJᵀ, a large host product, keeps every thread.
    """
    if not point.model.own_threads:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def gauss_newton_trace(point: ModelPoint) -> float:
    """Tr GN = (1/n)Σᵢ‖Jᵢᵀ Λᵢ^{1/2}‖_F², exact, streamed (for the square loss (1/n)Σ‖∇_θfᵢ‖² = Tr H at interpolation)."""
    return float(gradient_norms(point).gauss_newton.mean())


def hessian_trace(point: ModelPoint, *, rtol: float = 1e-2, confidence: float = 0.95, seed: int = 0,
                  exact_limit: int = EXACT_LIMIT, gauss_newton: float | None = None) -> TraceResult:
    """Tr ∇²L(θ) = Tr GN + Tr R with its error (module docstring).

    Exact (p Hessian-vector products) for p ≤ ``exact_limit``; beyond, Tr GN exactly (``gauss_newton`` if
    already known) plus Hutch++ on the residual part R to ``rtol``·|Tr H| at ``confidence``, and nothing
    to estimate where every ℓ′ᵢ is 0 (R = 0: an exactly interpolating square-loss minimum).
    ``method`` of the result says which.
    """
    if point.p <= exact_limit:
        with _krylov_threads(point):
            return exact_trace(point.hessian())
    gn = gauss_newton_trace(point) if gauss_newton is None else float(gauss_newton)
    if not np.any(point.residual_weights()):
        return TraceResult(gn, 0.0, 1.0, 0, "exact (Gauss–Newton, zero residual)")
    with _krylov_threads(point):
        res = operator_trace(point.residual(), rtol=rtol, confidence=confidence, seed=seed, exact_limit=exact_limit,
                             offset=gn)
    method = "Gauss–Newton exact + residual " + ("exact" if res.method == "exact" else "by Hutch++")
    return TraceResult(gn + res.estimate, res.half_width, res.confidence, res.products, method)


def top_hessian_eigenvalue(point: ModelPoint, tol: float = EIGEN_TOL, seed: int = 0) -> float:
    """λ_max(∇²L(θ)) by Lanczos (ARPACK) on Hessian-vector products."""
    with _krylov_threads(point):
        return lambda_max(point.hessian(), tol=tol, seed=seed)


def edge_of_stability_at(point: ModelPoint, lr: float, lam: float | None = None) -> dict[str, float]:
    """λ_max(H) at θ against GD's threshold 2/η; ``ratio`` = η λ_max / 2 (≈ 1 at the edge of stability)."""
    if isinstance(lr, bool) or not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise InputError(f"the learning rate must be a positive finite number, got {lr!r}.")
    lam = top_hessian_eigenvalue(point) if lam is None else lam
    thr = STABILITY_CONSTANT / lr
    return {"sharpness": lam, "threshold": thr, "ratio": lam / thr}


def multiplicative_at(point: ModelPoint, first_layer: FirstLayer, norms: GradientNorms | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(‖∇ₓfᵢ‖, ‖W₁‖₂‖∇_{W₁}fᵢ‖_F/‖xᵢ‖) per sample, each shape (n,): the first must not exceed the second."""
    W1 = first_layer.check(point)
    norms = gradient_norms(point, first_layer) if norms is None else norms
    lhs = np.linalg.norm(point.input_gradients(), axis=1)
    xn = np.linalg.norm(point.X.reshape(point.n, -1), axis=1)
    with np.errstate(divide="ignore"):
        return lhs, np.linalg.norm(W1, 2) * np.sqrt(norms.first_layer) / xn


def sobolev_at(point: ModelPoint, first_layer: FirstLayer, norms: GradientNorms | None = None,
               input_gradients: np.ndarray | None = None) -> dict[str, float]:
    """(1/n)Σ‖∇ₓfᵢ‖² against the bound ‖W₁‖₂²/minᵢ‖xᵢ‖² · (1/n)Σ‖∇_θfᵢ‖² (flatness bounds input smoothness)."""
    W1 = first_layer.check(point)
    norms = gradient_norms(point, first_layer) if norms is None else norms
    gx = point.input_gradients() if input_gradients is None else input_gradients
    measured = float(np.mean(np.sum(gx**2, axis=1)))
    min_x_sq = float(np.min(np.sum(point.X.reshape(point.n, -1) ** 2, axis=1)))
    bound = math.inf if min_x_sq == 0 else float(np.linalg.norm(W1, 2) ** 2 / min_x_sq * norms.theta.mean())
    return {"input_grad_sq_mean": measured, "bound": bound}


def flatness_at(point: ModelPoint, *, first_layer: FirstLayer | None = None, lr: float | None = None,
                rtol: float = 1e-2, confidence: float = 0.95, seed: int = 0, tol: float = EIGEN_TOL,
                exact_limit: int = EXACT_LIMIT) -> dict[str, Any]:
    """Train loss, Tr H (with its method and interval), Tr GN, λ_max(H), mean ‖∇ₓf‖², the multiplicative bound
    at ``first_layer`` and, with ``lr``, 2/η and the edge-of-stability ratio, as one JSON-ready dict.

    Keys: ``loss``, ``train_loss``, ``max_abs_residual``, ``trace`` (the estimate of Tr H, a number, as the
    built-in net's ``trace``), ``trace_error`` (its :meth:`TraceResult.to_json`: method, interval, products),
    ``gauss_newton_trace``, ``lambda_max``, ``input_grad_sq_mean`` (scalar models) and, as given,
    ``multiplicative`` (``max_ratio``, ``holds``, ``sobolev_bound``), ``lr``, ``threshold`` (2/η) and
    ``eta_lambda_max_over_2``.
    """
    norms = gradient_norms(point, first_layer)
    gn = float(norms.gauss_newton.mean())
    tr = hessian_trace(point, rtol=rtol, confidence=confidence, seed=seed, exact_limit=exact_limit, gauss_newton=gn)
    lam = top_hessian_eigenvalue(point, tol=tol, seed=seed)
    out: dict[str, Any] = {
        "loss": point.model.loss.name, "train_loss": point.value(), "max_abs_residual": max_abs_residual(point),
        "trace": tr.estimate, "trace_error": tr.to_json(), "gauss_newton_trace": gn, "lambda_max": lam,
    }
    if point.k == 1:
        gx = point.input_gradients()
        out["input_grad_sq_mean"] = float(np.mean(np.sum(gx**2, axis=1)))
        if first_layer is not None:
            lhs, rhs = multiplicative_at(point, first_layer, norms)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = float(np.max(np.where(rhs > 0, lhs / rhs, np.where(lhs > 0, np.inf, 0.0))))
            sob = sobolev_at(point, first_layer, norms, gx)
            out["multiplicative"] = {"max_ratio": ratio, "holds": bool(ratio <= 1 + 1e-12),
                                     "sobolev_bound": sob["bound"], "first_layer": {
                                         "start": first_layer.start, "shape": list(first_layer.shape)}}
    if lr is not None:
        eos = edge_of_stability_at(point, lr, lam)
        out.update({"lr": float(lr), "threshold": eos["threshold"], "eta_lambda_max_over_2": eos["ratio"]})
    return out


__all__ = [
    "EIGEN_TOL", "FirstLayer", "GradientNorms", "edge_of_stability_at", "flatness_at", "gauss_newton_gram",
    "gauss_newton_trace", "gradient_norms", "gradient_problem", "hessian_trace", "max_abs_residual",
    "multiplicative_at", "output_gram", "sobolev_at", "stability_at", "streaming_memory", "top_hessian_eigenvalue",
]
