"""Linear stability of GD and SGD at an interpolating minimum: exact second moments, η*(B), k-th moments.

Linearised SGD at θ* with per-sample Hessians Hᵢ (PSD) and batch B:
θ⁺ − θ* = (I − ηĤ)(θ − θ*), Ĥ = (1/B)Σ_{i∈batch} Hᵢ, H = mean Hᵢ. The second
moment M = E[(θ−θ*)(θ−θ*)ᵀ] evolves by the linear map (Ma & Ying, NeurIPS 2021,
Thm. 1; Mulayoff & Michaeli, arXiv:2306.07850, eq. 10)

    Q(M) = M − η(HM + MH) + η² E[ĤMĤ],
    E[ĤMĤ] = HMH + p·(mean HᵢMHᵢ − HMH),
    p = 1/B (with replacement),  p = (n−B)/(B(n−1)) (without replacement).

In Kronecker form Q = I − 2ηC + η²D with C = ½(H⊕H) and
D = (1−p)H⊗H + p·mean(Hᵢ⊗Hᵢ): both symmetric, C ⪰ 0, D ⪰ 0. Q is a sum
Σ wⱼ Aⱼ⊗Aⱼ of Kronecker squares of symmetric matrices, so its dominant
eigenvalue is positive and has a PSD eigenmatrix (Mulayoff & Michaeli Thm. 6;
Krein–Rutman for the PSD cone): stability of the second moment ⇔ ρ(Q) ≤ 1, and

    ρ(Q(η)) ≤ 1  ⇔  η(u·Du) ≤ 2(u·Cu) ∀u  ⇔  η ≤ η* = 2/λ_max(C⁻¹D)

(Mulayoff & Michaeli Thm. 3). We compute λ_max(C⁻¹D) as the top eigenvalue of
the symmetric operator K = C^{-1/2} D C^{-1/2}: in the eigenbasis of H, C is
the Hadamard multiplier ½(λᵢ+λⱼ), so C^{-1/2} is the multiplier √(2/(λᵢ+λⱼ)) and
K is applied matrix-free. With factored Hᵢ = GᵢGᵢᵀ (features: Gᵢ = xᵢ),
HᵢMHᵢ = Gᵢ(GᵢᵀMGᵢ)Gᵢᵀ costs O(d²·rank) per sample, so one application of K is
O(n d² r) and eigsh (Lanczos) needs a few dozen of them; nothing of size d²×d²
is ever formed.

Null directions. If Hv = 0 then every Hᵢv = 0 (PSD), so in the basis
[range(H), null(H)] Q is block diagonal: the range block, the cross block
M ↦ (I−ηH)M (the mean dynamics, |1−ηλᵢ| ≤ 1 iff η ≤ 2/λᵢ) and the identity on
the null block (neutral: ρ = 1 exactly). We therefore define
η* = inf{η > 0 : ρ(Q(η)) > 1}; it equals the threshold of the range block
(η* ≤ 2/λ_max makes the cross block harmless), and ``spectral_radius`` reports
ρ of the full operator, which is ≥ 1 whenever H is singular. If H = 0, η* = ∞.

Higher moments. E[(θ−θ*)^{⊗k}] evolves by T_k = E[(I−ηĤ)^{⊗k}]; for small n,
B and d we evaluate the expectation exactly by enumerating batches and restrict
to symmetric tensors (the moment cone lives there). k = 2 by enumeration is an
independent check of the closed-form batch factor p.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable

import numpy as np
from scipy import linalg as sla
from scipy.optimize import brentq
from scipy.sparse.linalg import LinearOperator, eigsh

from theorycheck.core.errors import InputError

SAMPLINGS = ("with", "without")
#: Eigenvalues of H below RANK_RTOL·λ_max(H) count as null directions.
RANK_RTOL = 1e-12
#: Relative tolerance of the symmetry / PSD checks on user Hessians (rounding of a few ulps per entry).
PSD_RTOL = 1e-10
#: Symmetric-operator dimension up to which K and Q are built densely (exact to rounding) instead of Lanczos.
DENSE_MAX = 400

__all__ = [
    "SAMPLINGS", "StabilityProblem", "sampling_factor", "validate_hessians", "validate_features", "validate_batch",
    "problem_from_hessians", "problem_from_features", "sharpness", "non_uniformity", "critical_learning_rate",
    "critical_learning_rate_features", "spectral_radius", "spectral_radius_features", "critical_rate",
    "critical_rate_bisection", "radius", "top_moment", "apply_second_moment", "dense_second_moment_matrix",
    "enumerate_batches", "moment_operator", "kth_moment_radius", "critical_rate_kth", "wu_ma_e_sufficient_rate",
    "published_conditions", "MonteCarloResult", "monte_carlo_growth",
]


# --------------------------------------------------------------------------- validation


def sampling_factor(n: int, batch: int, sampling: str = "with") -> float:
    """p in E[ĤMĤ] = HMH + p(mean HᵢMHᵢ − HMH): 1/B with replacement, (n−B)/(B(n−1)) without.

    Without replacement the sample mean of B of n items has covariance (n−B)/(B(n−1)) times the
    population covariance (finite-population correction), so B = n gives p = 0: GD.
    """
    validate_batch(batch, n)
    if sampling == "with":
        return 1.0 / batch
    if sampling == "without":
        return 0.0 if n == 1 else (n - batch) / (batch * (n - 1))
    raise InputError(f"`sampling` must be one of {', '.join(SAMPLINGS)}, got {sampling!r}.")


def validate_batch(batch: int, n: int) -> int:
    """Return ``batch`` if it is an integer in 1..n, else raise InputError naming it."""
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)):
        raise InputError(f"`batch` must be an integer, got {batch!r}.")
    if not 1 <= int(batch) <= n:
        raise InputError(f"`batch` must be between 1 and n = {n}, got {batch}.")
    return int(batch)


def _finite_float_array(a: object, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise InputError(f"`{name}` must be a real numeric array, got dtype {arr.dtype}.")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"`{name}` contains NaN or inf.")
    return arr


def validate_hessians(hessians: object, name: str = "hessians") -> np.ndarray:
    """Per-sample Hessians, shape (n, d, d): finite, symmetric, each PSD (an interpolating minimum).

    The second-moment theory needs every Hᵢ ⪰ 0 (Mulayoff & Michaeli Def. 2); an indefinite
    mean H is not a minimum at all, an indefinite Hᵢ with PSD mean is not an interpolating one.
    """
    H = _finite_float_array(hessians, name)
    if H.ndim != 3 or H.shape[1] != H.shape[2] or H.shape[0] < 1 or H.shape[1] < 1:
        raise InputError(f"`{name}` must have shape (n, d, d) with square d×d matrices, got shape {H.shape}.")
    scale = max(float(np.abs(H).max()), np.finfo(float).tiny)
    asym = float(np.abs(H - H.transpose(0, 2, 1)).max())
    if asym > PSD_RTOL * scale:
        i = int(np.argmax(np.abs(H - H.transpose(0, 2, 1)).reshape(len(H), -1).max(axis=1)))
        raise InputError(f"`{name}[{i}]` is not symmetric (max |H − Hᵀ| = {asym:.3g}).")
    H = 0.5 * (H + H.transpose(0, 2, 1))
    w_mean = np.linalg.eigvalsh(H.mean(axis=0))
    tol = PSD_RTOL * scale * H.shape[1]
    if w_mean[0] < -tol:
        raise InputError(f"the mean Hessian is indefinite (smallest eigenvalue {w_mean[0]:.3g}): "
                         "θ* is not a minimum.")
    w = np.linalg.eigvalsh(H)
    bad = np.flatnonzero(w[:, 0] < -tol)
    if bad.size:
        i = int(bad[0])
        raise InputError(f"`{name}[{i}]` is indefinite (smallest eigenvalue {w[i, 0]:.3g}): θ* is not an "
                         "interpolating minimum, and the second-moment theory needs every Hᵢ ⪰ 0.")
    return H


def validate_features(X: object, name: str = "features") -> np.ndarray:
    """Features, shape (n, d), finite: Hᵢ = xᵢxᵢᵀ of the square loss (1/2n)Σ(xᵢ·θ − yᵢ)²."""
    A = _finite_float_array(X, name)
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
        raise InputError(f"`{name}` must be a 2-D array of shape (n, d), got shape {A.shape}.")
    return A


# --------------------------------------------------------------------------- the problem in its own basis


@dataclass(frozen=True)
class StabilityProblem:
    """Per-sample Hessians Hᵢ = GᵢGᵢᵀ expressed in the eigenbasis of H restricted to range(H).

    ``factors`` has shape (n, r, k): Uᵀ Gᵢ with U (d×r) orthonormal, H = U diag(λ) Uᵀ.
    ``lam`` (r,) are the nonzero eigenvalues of H, descending. ``null_dim`` = d − r.
    """

    factors: np.ndarray
    lam: np.ndarray
    basis: np.ndarray
    d: int

    @property
    def n(self) -> int:
        return self.factors.shape[0]

    @property
    def rank(self) -> int:
        return self.lam.shape[0]

    @property
    def null_dim(self) -> int:
        return self.d - self.rank

    def hessians(self) -> np.ndarray:
        """The reduced per-sample Hessians UᵀHᵢU, shape (n, r, r)."""
        return np.einsum("nak,nbk->nab", self.factors, self.factors)


def _from_factors(G: np.ndarray) -> StabilityProblem:
    """G (n, d, k) with Hᵢ = GᵢGᵢᵀ → problem on range(H) (SVD of the stacked factors, accurate for κ ≫ 1)."""
    n, d, k = G.shape
    stacked = G.transpose(1, 0, 2).reshape(d, n * k) / math.sqrt(n)  # H = stacked·stackedᵀ
    U, s, _ = np.linalg.svd(stacked, full_matrices=False)
    lam = s**2
    r = int(np.sum(lam > RANK_RTOL * lam[0])) if lam.size and lam[0] > 0 else 0
    U, lam = U[:, :r], lam[:r]
    return StabilityProblem(np.einsum("dr,ndk->nrk", U, G), lam, U, d)


def problem_from_features(X: object, name: str = "features") -> StabilityProblem:
    """Square loss (1/2n)Σ(xᵢ·θ − yᵢ)²: Hᵢ = xᵢxᵢᵀ, H = XᵀX/n."""
    A = validate_features(X, name)
    return _from_factors(A[:, :, None])


def problem_from_hessians(hessians: object, name: str = "hessians") -> StabilityProblem:
    """Factor each PSD Hᵢ = GᵢGᵢᵀ (eigendecomposition, zero modes dropped, padded to a common rank)."""
    H = validate_hessians(hessians, name)
    w, V = np.linalg.eigh(H)
    w = np.clip(w, 0.0, None)
    w_top = max(float(w.max()), np.finfo(float).tiny)
    k = max(1, int(np.max(np.sum(w > RANK_RTOL * w_top, axis=1))))
    # eigh sorts ascending: the last k columns carry the nonzero modes of every sample
    G = V[:, :, -k:] * np.sqrt(w[:, None, -k:])
    return _from_factors(G)


def _problem(hessians: object) -> StabilityProblem:
    return hessians if isinstance(hessians, StabilityProblem) else problem_from_hessians(hessians)


def sharpness(hessians: object) -> float:
    """Wu–Ma–E sharpness a = λ_max(H), H = mean Hᵢ."""
    P = _problem(hessians)
    return float(P.lam[0]) if P.rank else 0.0


def non_uniformity(hessians: object) -> float:
    """Wu–Ma–E non-uniformity s = λ_max(Σ)^{1/2}, Σ = mean(Hᵢ²) − H² (Wu, Ma & E, NeurIPS 2018, Sec. 3)."""
    P = _problem(hessians)
    if not P.rank:
        return 0.0
    Hs = P.hessians()
    Sigma = np.einsum("nab,nbc->ac", Hs, Hs) / P.n - np.diag(P.lam**2)
    return float(math.sqrt(max(0.0, np.linalg.eigvalsh(0.5 * (Sigma + Sigma.T))[-1])))


# --------------------------------------------------------------------------- the operators, matrix-free


def _noise(P: StabilityProblem, Y: np.ndarray) -> np.ndarray:
    """mean Hᵢ Y Hᵢ with Hᵢ = GᵢGᵢᵀ, O(n r² k): Gᵢ(GᵢᵀYGᵢ)Gᵢᵀ."""
    G = P.factors
    if G.shape[2] == 1:  # features: (xᵢᵀYxᵢ) xᵢxᵢᵀ
        g = G[:, :, 0]
        q = np.einsum("nr,nr->n", g @ Y, g)
        return (g.T * q) @ g / P.n
    YG = np.matmul(Y, G)
    A = np.matmul(G.transpose(0, 2, 1), YG)
    GA = np.matmul(G, A)
    r = P.rank
    return GA.transpose(1, 0, 2).reshape(r, -1) @ G.transpose(1, 0, 2).reshape(r, -1).T / P.n


def apply_D(P: StabilityProblem, Y: np.ndarray, p: float) -> np.ndarray:
    """D(Y) = (1−p) HYH + p·mean HᵢYHᵢ (H diagonal in this basis)."""
    return (1 - p) * np.outer(P.lam, P.lam) * Y + p * _noise(P, Y)


def apply_second_moment(P: StabilityProblem, M: np.ndarray, eta: float, p: float,
                        eta2_coefficient: float = 1.0) -> np.ndarray:
    """Q(M) = M − η(HM + MH) + η²[(1−p)HMH + p·mean HᵢMHᵢ] on range(H) (``eta2_coefficient`` is for mutants)."""
    lam = P.lam
    return M - eta * (lam[:, None] + lam[None, :]) * M + eta2_coefficient * eta**2 * apply_D(P, M, p)


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


def _top_eig(apply: Callable[[np.ndarray], np.ndarray], r: int, tol: float, which: str = "LA",
             v0: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Top (``LA``) or largest-magnitude (``LM``) eigenpair of a self-adjoint map on Sym(r)."""
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


def _generalized_top(P: StabilityProblem, p: float, rtol: float, c_scale: float = 0.5) -> float:
    """λ_max(C⁻¹D) = λ_max(K), K = S∘D(S∘·), S = (c_scale·(λᵢ+λⱼ))^{-1/2} (c_scale = ½: C = ½(H⊕H))."""
    lam = P.lam
    S = 1.0 / np.sqrt(c_scale * (lam[:, None] + lam[None, :]))
    # Mulayoff & Michaeli's test direction u ∝ C^{1/2} vec(I) starts Lanczos inside the PSD cone
    v0 = np.diag(np.sqrt(c_scale * 2 * lam))
    mu, _ = _top_eig(lambda X: S * apply_D(P, S * X, p), P.rank, tol=rtol / 10, v0=v0)
    return mu


def critical_rate(P: StabilityProblem, p: float, rtol: float = 1e-8, c_scale: float = 0.5) -> float:
    """η* = 2/λ_max(C⁻¹D) on range(H) (Mulayoff & Michaeli Thm. 3); ∞ if H = 0.

    ``c_scale`` is the coefficient of C = c·(H⊕H); the published value is ½ (a mutant changes it).
    """
    if P.rank == 0:
        return math.inf
    mu = _generalized_top(P, p, rtol, c_scale)
    return 2.0 / mu if mu > 0 else math.inf


def critical_rate_bisection(P: StabilityProblem, p: float, rtol: float = 1e-10) -> float:
    """η* as the root of g(η) = λ_max(ηD − 2C) (= (ρ(Q(η)) − 1)/η on range(H)), by Brent's method.

    An independent route to :func:`critical_rate`: no C⁻¹, only the operator Q; g is
    increasing (D ⪰ 0), g(0) = −2λ_min(H) < 0 and g(2/λ_max) ≥ 0 (test matrix v_max v_maxᵀ).
    """
    if P.rank == 0:
        return math.inf
    lam = P.lam

    def g(eta: float) -> float:
        return _top_eig(lambda X: eta * apply_D(P, X, p) - (lam[:, None] + lam[None, :]) * X, P.rank,
                        tol=rtol / 10)[0]

    hi = 2.0 / lam[0]
    if g(hi) <= 0:
        return hi
    return float(brentq(g, 0.0, hi, xtol=rtol * hi * 1e-2, rtol=4 * np.finfo(float).eps, maxiter=200))


def radius(P: StabilityProblem, eta: float, p: float, tol: float = 1e-12, eta2_coefficient: float = 1.0) -> float:
    """Spectral radius of Q(η) on the full space of symmetric d×d matrices (see module docstring)."""
    rho = 0.0
    if P.rank:
        rho = abs(_top_eig(lambda X: apply_second_moment(P, X, eta, p, eta2_coefficient), P.rank, tol=tol,
                           which="LM")[0])
    if P.null_dim:
        rho = max(rho, 1.0, float(np.max(np.abs(1 - eta * P.lam))) if P.rank else 1.0)
    return rho


def top_moment(P: StabilityProblem, eta: float, p: float, tol: float = 1e-12) -> tuple[float, np.ndarray]:
    """(ρ_range, M*): top eigenvalue of Q(η) on range(H) and its eigenmatrix in original coordinates.

    M* is PSD (Mulayoff & Michaeli Thm. 6), normalised to unit Frobenius norm with Tr M* > 0.
    Since Q is self-adjoint, E[θₜᵀM*θₜ] = ρ^t E[θ₀ᵀM*θ₀] exactly: what the Monte Carlo check measures.
    """
    if P.rank == 0:
        return 1.0, np.zeros((P.d, P.d))
    rho, Z = _top_eig(lambda X: apply_second_moment(P, X, eta, p), P.rank, tol=tol, which="LA")
    Z = Z / np.linalg.norm(Z)
    if np.trace(Z) < 0:
        Z = -Z
    return rho, P.basis @ Z @ P.basis.T


# --------------------------------------------------------------------------- public API


def critical_learning_rate(hessians: object, batch: int, sampling: str = "with", *, rtol: float = 1e-8) -> float:
    """Critical learning rate η*(B) = inf{η > 0 : ρ(Q(η)) > 1} of SGD's second moment.

    Parameters
    ----------
    hessians : ndarray, shape (n, d, d)
        Per-sample Hessians Hᵢ ⪰ 0 at the minimum (H = mean Hᵢ).
    batch : int
        Batch size B, 1 ≤ B ≤ n.
    sampling : {"with", "without"}
        Batches drawn with or without replacement.
    rtol : float
        Relative accuracy of η* (Lanczos tolerance; small problems are solved densely, to rounding).

    Returns η* = 2/λ_max(C⁻¹D) (Mulayoff & Michaeli, arXiv:2306.07850, Thm. 3), ∞ if H = 0;
    B = n without replacement gives GD's 2/λ_max(H).
    """
    P = problem_from_hessians(hessians)
    return critical_rate(P, sampling_factor(P.n, batch, sampling), rtol)


def critical_learning_rate_features(X: object, batch: int, sampling: str = "with", rtol: float = 1e-8) -> float:
    """η*(B) for the square loss (1/2n)Σ(xᵢ·θ − yᵢ)²: Hᵢ = xᵢxᵢᵀ, H = XᵀX/n; O(n d²) per operator application."""
    P = problem_from_features(X)
    return critical_rate(P, sampling_factor(P.n, batch, sampling), rtol)


def spectral_radius(hessians: object, eta: float, batch: int, sampling: str = "with") -> float:
    """ρ(Q(η)) of the second-moment map on symmetric d×d matrices (≥ 1 when H is singular: neutral directions)."""
    P = problem_from_hessians(hessians)
    return radius(P, float(eta), sampling_factor(P.n, batch, sampling))


def spectral_radius_features(X: object, eta: float, batch: int, sampling: str = "with") -> float:
    """:func:`spectral_radius` for Hᵢ = xᵢxᵢᵀ."""
    P = problem_from_features(X)
    return radius(P, float(eta), sampling_factor(P.n, batch, sampling))


# --------------------------------------------------------------------------- dense and enumerated references


def dense_second_moment_matrix(hessians: np.ndarray, eta: float, p: float) -> np.ndarray:
    """The d²×d² matrix Q = (I−ηH)⊗(I−ηH) + pη²·mean(Hᵢ⊗Hᵢ − H⊗H) (Mulayoff & Michaeli eq. 10).

    Reference only: O(n d⁴) memory-light but d⁴ entries; use for d ≲ 30.
    """
    Hs = np.asarray(hessians, float)
    n, d, _ = Hs.shape
    H = Hs.mean(axis=0)
    A = np.eye(d) - eta * H
    noise = sum(np.kron(Hi, Hi) for Hi in Hs) / n - np.kron(H, H)
    return np.kron(A, A) + p * eta**2 * noise


def dense_critical_rate(hessians: np.ndarray, p: float) -> float:
    """η* from the dense generalized eigenproblem D u = μ C u on R^{d²} (needs H ≻ 0); the benchmark baseline."""
    Hs = np.asarray(hessians, float)
    n, d, _ = Hs.shape
    H = Hs.mean(axis=0)
    I = np.eye(d)
    C = 0.5 * (np.kron(H, I) + np.kron(I, H))
    D = (1 - p) * np.kron(H, H) + p * sum(np.kron(Hi, Hi) for Hi in Hs) / n
    mu = sla.eigh(D, C, eigvals_only=True, subset_by_index=[d * d - 1, d * d - 1])[0]
    return 2.0 / float(mu)


def enumerate_batches(n: int, batch: int, sampling: str) -> list[tuple[float, tuple[int, ...]]]:
    """Every batch with its probability: multisets with multinomial weights (with), subsets (without)."""
    validate_batch(batch, n)
    if sampling == "without":
        subsets = list(itertools.combinations(range(n), batch))
        return [(1.0 / len(subsets), s) for s in subsets]
    if sampling != "with":
        raise InputError(f"`sampling` must be one of {', '.join(SAMPLINGS)}, got {sampling!r}.")
    out = []
    for ms in itertools.combinations_with_replacement(range(n), batch):
        counts = np.bincount(ms, minlength=n)
        w = math.factorial(batch) / math.prod(math.factorial(int(c)) for c in counts) / n**batch
        out.append((w, ms))
    return out


def _batch_hessians(Hs: np.ndarray, batch: int, sampling: str) -> tuple[np.ndarray, np.ndarray]:
    bs = enumerate_batches(len(Hs), batch, sampling)
    w = np.array([b[0] for b in bs])
    Hb = np.stack([Hs[list(b[1])].mean(axis=0) for b in bs])
    return w, Hb


def moment_operator(hessians: np.ndarray, eta: float, batch: int, sampling: str, k: int = 2) -> np.ndarray:
    """T_k = E[(I − ηĤ)^{⊗k}], a d^k×d^k matrix, by exact enumeration of batches (small n, B, d only)."""
    Hs = np.asarray(hessians, float)
    w, Hb = _batch_hessians(Hs, batch, sampling)
    d = Hs.shape[1]
    T = np.zeros((d**k, d**k))
    for wj, Hj in zip(w, Hb):
        A = np.eye(d) - eta * Hj
        Ak = A
        for _ in range(k - 1):
            Ak = np.kron(Ak, A)
        T += wj * Ak
    return T


@lru_cache(maxsize=32)
def _sym_tensor_basis(d: int, k: int) -> np.ndarray:
    """Orthonormal basis (d^k × C(d+k−1, k)) of symmetric k-tensors: normalised symmetrised e_{i₁}⊗…⊗e_{i_k}."""
    cols = []
    for ms in itertools.combinations_with_replacement(range(d), k):
        v = np.zeros(d**k)
        for perm in set(itertools.permutations(ms)):
            v[np.ravel_multi_index(perm, (d,) * k)] = 1.0
        cols.append(v / np.linalg.norm(v))
    return np.stack(cols, axis=1)


def kth_moment_radius(P: StabilityProblem, eta: float, batch: int, sampling: str, k: int) -> float:
    """ρ of T_k = E[(I−ηĤ)^{⊗k}] on symmetric k-tensors over range(H) (exact batch enumeration)."""
    if k < 2 or k % 2:
        raise InputError(f"`k` must be an even integer ≥ 2, got {k}.")
    if P.rank == 0:
        return 1.0
    T = moment_operator(P.hessians(), eta, batch, sampling, k)
    Bs = _sym_tensor_basis(P.rank, k)
    # T is a sum of Kronecker powers of symmetric matrices: symmetric, dominant eigenvalue positive
    Ts = Bs.T @ T @ Bs
    return float(np.max(np.abs(np.linalg.eigvalsh(0.5 * (Ts + Ts.T)))))


def critical_rate_kth(P: StabilityProblem, batch: int, sampling: str, k: int = 4, grid: int = 64,
                      rtol: float = 1e-10) -> float:
    """η*_k = inf{η > 0 : ρ(T_k(η)) > 1}: first crossing on a grid of (0, 2/λ_max], refined by Brent's method.

    E‖θ−θ*‖^k bounded needs the mean bounded, so η*_k ≤ 2/λ_max; we scan (ρ−1)/η, which stays
    resolved as η → 0 where ρ → 1.
    """
    if P.rank == 0:
        return math.inf
    hi = 2.0 / P.lam[0]

    def f(eta: float) -> float:
        return (kth_moment_radius(P, eta, batch, sampling, k) - 1.0) / eta

    etas = hi * np.arange(1, grid + 1) / grid
    prev = hi * 1e-6
    for eta in etas:
        if f(eta) > 0:
            return float(brentq(f, prev, eta, xtol=rtol * eta, maxiter=200))
        prev = eta
    return hi


# --------------------------------------------------------------------------- published conditions


def wu_ma_e_sufficient_rate(P: StabilityProblem, p: float) -> float:
    """Largest η with λ_max{(I−ηH)² + η²pΣ} ≤ 1 (Wu, Ma & E 2018, Sec. 3; sufficient: E‖θ‖² is non-increasing).

    On range(H): ⇔ η ≤ 2/λ_max(H^{-1/2}((1−p)H² + p·mean Hᵢ²)H^{-1/2}).
    """
    if P.rank == 0:
        return math.inf
    Hs = P.hessians()
    W = (1 - p) * np.diag(P.lam**2) + p * np.einsum("nab,nbc->ac", Hs, Hs) / P.n
    s = 1 / np.sqrt(P.lam)
    return 2.0 / float(np.linalg.eigvalsh(s[:, None] * W * s[None, :])[-1])


def published_conditions(P: StabilityProblem, batch: int, sampling: str) -> dict[str, dict[str, object]]:
    """Each published condition as a threshold on η: the largest η at which it holds.

    A *necessary* condition must hold at every stable η, i.e. its threshold must be ≥ η*;
    a *sufficient* one must have threshold ≤ η*. Keys: ``threshold``, ``kind``, ``statement``, ``source``.
    """
    p = sampling_factor(P.n, batch, sampling)
    a = float(P.lam[0]) if P.rank else 0.0
    s = non_uniformity(P)
    Hs = P.hessians()
    trH = float(P.lam.sum())
    fro_i = np.einsum("nab,nab->n", Hs, Hs)
    out: dict[str, dict[str, object]] = {}

    def add(name: str, thr: float, kind: str, statement: str, source: str) -> None:
        out[name] = {"threshold": float(thr), "kind": kind, "statement": statement, "source": source}

    inv = lambda x: math.inf if x <= 0 else 1.0 / x  # noqa: E731
    add("gd_sharpness", 2 * inv(a), "necessary", "a = λ_max(H) ≤ 2/η", "Wu, Ma & E 2018, Sec. 3; GD threshold")
    pname = "√B" if sampling == "with" else "√(B(n−1)/(n−B))"
    add("wu_ma_e_nonuniformity", inv(s * math.sqrt(p)), "necessary", f"s ≤ {pname}/η  (i.e. η s √p ≤ 1)",
        "Wu, Ma & E 2018, Sec. 3 (necessary condition derived from their sufficient condition)")
    add("wu_ma_e_sufficient", wu_ma_e_sufficient_rate(P, p), "sufficient", "λ_max{(I−ηH)² + η²pΣ} ≤ 1",
        "Wu, Ma & E 2018, Sec. 3 (implicit sufficient condition)")
    if P.rank:
        v = np.zeros(P.rank)
        v[0] = 1.0
        rq = Hs[:, 0, 0]  # v_maxᵀHᵢv_max in the eigenbasis
        add("mulayoff_michaeli_15", 2 * a / (a**2 + p * float(np.mean((rq - a) ** 2))), "necessary",
            "η ≤ 2λ_max / (λ_max² + p·mean(v_maxᵀHᵢv_max − λ_max)²)", "Mulayoff & Michaeli, Prop. 3, eq. 15")
        add("mulayoff_michaeli_16", 2 * trH / ((1 - p) * float(np.sum(P.lam**2)) + p * float(fro_i.mean())),
            "necessary", "η ≤ 2 Tr H / ((1−p)‖H‖_F² + p·mean‖Hᵢ‖_F²)", "Mulayoff & Michaeli, Prop. 3, eq. 16")
        add("ma_ying_flatness", 2 * inv(p * trH), "necessary", "Tr H ≤ 2/(ηp)  (= 2B/η with replacement)",
            "Ma & Ying 2021, Sec. 4 (form not verified; follows from eq. 16 + Jensen for rank-one Hᵢ)")
    return out


# --------------------------------------------------------------------------- Monte Carlo


@dataclass(frozen=True)
class MonteCarloResult:
    """Growth of E[θₜᵀM*θₜ] over ``steps`` steps, ``paths`` independent linearised-SGD runs.

    ``rate`` = (mean Yₜ / E Y₀)^{1/t} estimates ρ; ``ci`` its confidence interval (CLT on the mean).
    """

    rate: float
    ci: tuple[float, float]
    steps: int
    paths: int
    seed: int


def monte_carlo_growth(P: StabilityProblem, eta: float, batch: int, sampling: str, M: np.ndarray, *,
                       steps: int = 8, paths: int = 100_000, seed: int = 0, confidence: float = 0.99,
                       chunk: int = 50_000) -> MonteCarloResult:
    """Simulate θ ← (I − ηĤ)θ (vectorised over paths) from θ₀ ~ N(0, I) and estimate E[θₜᵀMθₜ]^{1/t}.

    For M the top eigenmatrix of Q, E[θₜᵀMθₜ] = ρ^t Tr M exactly, so the estimate brackets ρ.
    """
    from scipy import stats

    validate_batch(batch, P.n)
    rng = np.random.default_rng(seed)
    G = P.factors  # work in range coordinates: null directions of H do not move
    Mr = P.basis.T @ M @ P.basis
    r = P.rank
    vals = []
    for start in range(0, paths, chunk):
        m = min(chunk, paths - start)
        th = rng.standard_normal((m, r))
        for _ in range(steps):
            if sampling == "with":
                idx = rng.integers(0, P.n, size=(m, batch))
            else:
                idx = np.argsort(rng.random((m, P.n)), axis=1)[:, :batch]
            Gb = G[idx]  # (m, B, r, k)
            c = np.einsum("mbrk,mr->mbk", Gb, th)
            th = th - eta / batch * np.einsum("mbrk,mbk->mr", Gb, c)
        vals.append(np.einsum("mr,rs,ms->m", th, Mr, th))
    Y = np.concatenate(vals)
    ey0 = float(np.trace(Mr))
    mean, se = float(Y.mean()), float(Y.std(ddof=1) / math.sqrt(len(Y)))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    lo, hi = max(mean - z * se, 0.0), mean + z * se
    root = lambda x: (x / ey0) ** (1.0 / steps)  # noqa: E731
    return MonteCarloResult(root(mean), (root(lo), root(hi)), steps, paths, seed)


def conditions_table(P: StabilityProblem, batches: Iterable[int], sampling: str, rtol: float = 1e-8
                     ) -> list[dict[str, object]]:
    """η*(B) and every published threshold for each B (what the sweep plots)."""
    rows = []
    for B in batches:
        p = sampling_factor(P.n, B, sampling)
        rows.append({"batch": int(B), "eta_star": critical_rate(P, p, rtol),
                     **{k: v["threshold"] for k, v in published_conditions(P, B, sampling).items()}})
    return rows
