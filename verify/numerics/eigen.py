"""Eigenvalues and traces of large symmetric operators, without forming them.

* :func:`top_eigenpair`: the top eigenpair of a self-adjoint linear map on
  symmetric r×r matrices (the second-moment operators of linear stability), dense
  for small r, Lanczos (``scipy.sparse.linalg.eigsh``) above.
* :func:`lambda_max`: the largest eigenvalue of a symmetric
  :class:`~scipy.sparse.linalg.LinearOperator` (a Hessian applied through
  Hessian-vector products) by Lanczos; :func:`lambda_max_gauss_newton` the
  same for (1/n)GᵀG from the smaller Gram matrix.
* :func:`hutchinson_trace`: Tr A from Rademacher probes vᵀAv (Hutchinson 1990)
  with a Student-t confidence interval.

Lanczos rather than a hand-written power iteration: power iteration on
Hessians is reported to spread by an order of magnitude between runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from theorycheck.core.errors import InputError

#: Dimension of Sym(r) up to which :func:`top_eigenpair` builds the map densely (exact to rounding) instead of Lanczos.
DENSE_MAX = 400

__all__ = ["DENSE_MAX", "TraceResult", "gauss_newton_operator", "hutchinson_trace", "lambda_max",
           "lambda_max_gauss_newton", "top_eigenpair"]


def _sym_basis(r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthonormal basis of symmetric r×r matrices: index pairs (a ≤ b) and weights 1 or 1/√2."""
    a, b = np.triu_indices(r)
    w = np.where(a == b, 1.0, 1 / math.sqrt(2))
    return a, b, w


def _dense_sym(apply: Callable[[np.ndarray], np.ndarray], r: int) -> np.ndarray:
    """Matrix of a symmetric-matrix map in the orthonormal basis of Sym(r)."""
    a, b, w = _sym_basis(r)
    m = a.size
    out = np.empty((m, m))
    for j in range(m):
        E = np.zeros((r, r))
        E[a[j], b[j]] += w[j]
        E[b[j], a[j]] += w[j] if a[j] != b[j] else 0.0
        Y = apply(E)
        out[:, j] = np.where(a == b, Y[a, b], (Y[a, b] + Y[b, a]) * w)
    return 0.5 * (out + out.T)


def top_eigenpair(apply: Callable[[np.ndarray], np.ndarray], r: int, tol: float, which: str = "LA",
             v0: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Top (``LA``) or largest-magnitude (``LM``) eigenpair of a self-adjoint linear map on Sym(r).

    Parameters
    ----------
    apply : callable
        ``Y ↦ A(Y)`` on symmetric r×r arrays; self-adjoint for the Frobenius inner product.
    r : int
        Size of the matrices; Sym(r) has dimension m = r(r+1)/2.
    tol : float
        Lanczos tolerance (ignored when the map is built densely).
    which : {"LA", "LM"}
        Largest algebraic or largest-magnitude eigenvalue.
    v0 : ndarray, shape (r, r), optional
        Lanczos start (default the identity, which lies inside the PSD cone).

    Returns
    -------
    (float, ndarray of shape (r, r))
        The eigenvalue and a symmetric eigenmatrix. For m ≤ :data:`DENSE_MAX` the
        map is built as an m×m matrix in an orthonormal basis of Sym(r) and solved
        by ``eigh`` (exact to rounding); above, ARPACK ``eigsh`` on a
        :class:`~scipy.sparse.linalg.LinearOperator` (the skew half of the input is
        mapped to zero, so the operator stays self-adjoint on R^{r²}).
    """
    m = r * (r + 1) // 2
    if m <= DENSE_MAX:
        K = _dense_sym(apply, r)
        w, V = np.linalg.eigh(K)
        j = int(np.argmax(np.abs(w))) if which == "LM" else len(w) - 1
        a, b, wt = _sym_basis(r)
        Z = np.zeros((r, r))
        Z[a, b] = V[:, j] * wt
        Z = Z + Z.T - np.diag(np.diag(Z))
        return float(w[j]), Z

    def matvec(x: np.ndarray) -> np.ndarray:
        X = x.reshape(r, r)
        X = 0.5 * (X + X.T)  # the skew half is mapped to 0: keeps the operator self-adjoint on R^{r²}
        return apply(X).ravel()

    op = LinearOperator((r * r, r * r), matvec=matvec, dtype=float)
    start = (np.eye(r) if v0 is None else v0).ravel()
    w, V = eigsh(op, k=1, which=which, tol=tol, v0=start, ncv=min(r * r - 1, 24), maxiter=20 * r * r)
    Z = V[:, 0].reshape(r, r)
    return float(w[0]), 0.5 * (Z + Z.T)


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


@dataclass(frozen=True)
class TraceResult:
    """Tr A with its error: ``half_width`` of the ``confidence`` interval (0 when ``method`` is exact).

    ``products`` counts the operator products behind it (the probes, for Hutchinson's estimator).
    """

    estimate: float
    half_width: float
    confidence: float
    products: int
    method: str

    @property
    def interval(self) -> tuple[float, float]:
        return (self.estimate - self.half_width, self.estimate + self.half_width)

    def contains(self, value: float) -> bool:
        lo, hi = self.interval
        return lo <= value <= hi

    def to_json(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "half_width": self.half_width, "interval": list(self.interval),
                "confidence": self.confidence, "products": self.products, "method": self.method}


def hutchinson_trace(op: LinearOperator, samples: int = 100, seed: int = 0, confidence: float = 0.99) -> TraceResult:
    """Tr A ≈ mean of vᵀAv over Rademacher v (Hutchinson 1990), CI from the t distribution."""
    if samples < 2:
        raise InputError(f"`samples` must be ≥ 2 for a confidence interval, got {samples}.")
    rng = np.random.default_rng(seed)
    p = op.shape[0]
    vals = np.empty(samples)
    for k in range(samples):
        v = rng.choice([-1.0, 1.0], size=p)
        vals[k] = v @ op.matvec(v)
    from scipy import stats  # loaded here: scipy.stats costs ~1 s of start-up that η* never needs

    se = vals.std(ddof=1) / math.sqrt(samples)
    hw = float(stats.t.ppf(0.5 + confidence / 2, samples - 1) * se)
    return TraceResult(float(vals.mean()), hw, confidence, samples, "Hutchinson")
