"""Linear stability of SGD at an interpolating minimum: the second-moment operator and the published conditions.

Linearised SGD at θ* with per-sample Hessians Hᵢ (PSD) and batch B:
θ⁺ − θ* = (I − ηĤ)(θ − θ*), Ĥ = (1/B)Σ_{i∈batch} Hᵢ, H = mean Hᵢ. The second
moment M = E[(θ−θ*)(θ−θ*)ᵀ] evolves by the linear map (Ma & Ying, NeurIPS 2021,
Thm. 1; Mulayoff & Michaeli, arXiv:2306.07850, eq. 10)

    Q(M) = M − η(HM + MH) + η² E[ĤMĤ],
    E[ĤMĤ] = HMH + p·(mean HᵢMHᵢ − HMH),

with the batch-noise factor p of :func:`theorycheck.maths.sampling.sampling_factor`
(1/B with replacement, (n−B)/(B(n−1)) without).

In Kronecker form Q = I − 2ηC + η²D with C = ½(H⊕H) and
D = (1−p)H⊗H + p·mean(Hᵢ⊗Hᵢ): both symmetric, C ⪰ 0, D ⪰ 0. Q is a sum
Σ wⱼ Aⱼ⊗Aⱼ of Kronecker squares of symmetric matrices, so its dominant
eigenvalue is positive and has a PSD eigenmatrix (Mulayoff & Michaeli Thm. 6;
Krein–Rutman for the PSD cone): stability of the second moment ⇔ ρ(Q) ≤ 1, and

    ρ(Q(η)) ≤ 1  ⇔  η(u·Du) ≤ 2(u·Cu) ∀u  ⇔  η ≤ η* = 2/λ_max(C⁻¹D)

(Mulayoff & Michaeli Thm. 3). This module holds the operators themselves,
applied matrix-free: in the eigenbasis of H (:class:`StabilityProblem`), C is
the Hadamard multiplier ½(λᵢ+λⱼ), and with factored Hᵢ = GᵢGᵢᵀ (features:
Gᵢ = xᵢ) HᵢMHᵢ = Gᵢ(GᵢᵀMGᵢ)Gᵢᵀ costs O(d²·rank) per sample, so one application
is O(n d² r); nothing of size d²×d² is formed. The eigenvalue problems on them
(η*, ρ, the k-th moments) are solved in :mod:`theorycheck.numerics.stability`.

Null directions. If Hv = 0 then every Hᵢv = 0 (PSD), so in the basis
[range(H), null(H)] Q is block diagonal: the range block, the cross block
M ↦ (I−ηH)M (the mean dynamics, |1−ηλᵢ| ≤ 1 iff η ≤ 2/λᵢ) and the identity on
the null block (neutral: ρ = 1 exactly). The problem is therefore kept on
range(H) only.

Higher moments. E[(θ−θ*)^{⊗k}] evolves by T_k = E[(I−ηĤ)^{⊗k}]; for small n,
B and d :func:`moment_operator` evaluates the expectation exactly by
enumerating batches; k = 2 by enumeration is an independent check of the
closed-form batch factor p.

Published conditions are each written as a threshold on η, the largest
rate at which the condition holds (one ``*_rate`` function each, collected
by :func:`published_conditions`): Wu, Ma & E
(NeurIPS 2018, Sec. 3: sharpness a = λ_max(H), non-uniformity
s = λ_max(Σ)^{1/2}, Σ = mean Hᵢ² − H², and their sufficient condition),
Mulayoff & Michaeli Prop. 3 (eqs. 15, 16) and the flatness bound
Tr H ≤ 2/(ηp) (Ma & Ying, Sec. 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.constants import FLATNESS_CONSTANT, STABILITY_CONSTANT
from theorycheck.maths.numbers import finite_float_array
from theorycheck.maths.sampling import SAMPLINGS, enumerate_batches, sampling_factor

#: Eigenvalues of H below RANK_RTOL·λ_max(H) count as null directions.
RANK_RTOL = 1e-12
#: Relative tolerance of the symmetry / PSD checks on user Hessians (rounding of a few ulps per entry).
PSD_RTOL = 1e-10

__all__ = [
    "GRAM_MIN_WORK", "PSD_RTOL", "RANK_RTOL", "SAMPLINGS", "StabilityProblem", "apply_D", "apply_second_moment",
    "dense_second_moment_matrix", "flatness_rate", "gd_rate", "gradient_moment_rate", "gradient_sq_norms",
    "moment_operator", "mulayoff_michaeli_eq15_rate", "mulayoff_michaeli_eq16_rate", "non_uniformity",
    "problem_from_features", "problem_from_gradients", "problem_from_gram", "problem_from_hessians", "published_conditions", "sampling_factor", "sharpness",
    "validate_features", "validate_hessians", "wu_ma_e_nonuniformity_rate", "wu_ma_e_sufficient_rate",
]


# --------------------------------------------------------------------------- validation

def validate_hessians(hessians: object, name: str = "hessians") -> np.ndarray:
    """Per-sample Hessians, shape (n, d, d): finite, symmetric, each PSD (an interpolating minimum).

    The second-moment theory needs every Hᵢ ⪰ 0 (Mulayoff & Michaeli Def. 2); an indefinite
    mean H is not a minimum at all, an indefinite Hᵢ with PSD mean is not an interpolating one.
    """
    H = finite_float_array(hessians, name)
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
    A = finite_float_array(X, name)
    if A.ndim != 2 or A.shape[0] < 1 or A.shape[1] < 1:
        raise InputError(f"`{name}` must be a 2-D array of shape (n, d), got shape {A.shape}.")
    return A



# --------------------------------------------------------------------------- the problem in its own basis

@dataclass(frozen=True)
class StabilityProblem:
    """Per-sample Hessians Hᵢ = GᵢGᵢᵀ expressed in the eigenbasis of H restricted to range(H).

    ``factors`` has shape (n, r, k): Uᵀ Gᵢ with U (d×r) orthonormal, H = U diag(λ) Uᵀ.
    ``lam`` (r,) are the nonzero eigenvalues of H, descending. ``null_dim`` = d − r.
    ``basis_source`` is U itself, or ``(B, V, μ)`` with U = B V M^{-1/2} when the problem was
    reduced through the Gram matrix (:func:`problem_from_gradients`): then U (d×r, large when
    d is) is formed only if :attr:`basis` is asked for.
    """

    factors: np.ndarray
    lam: np.ndarray
    basis_source: Any
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

    @cached_property
    def basis(self) -> np.ndarray:
        """U (d×r): orthonormal basis of range(H), H = U diag(λ) Uᵀ."""
        src = self.basis_source
        if isinstance(src, np.ndarray):
            return src
        if src is None:
            raise InputError("this problem was built from a Gram matrix only: it has no basis of R^d.")
        B, V, mu = src
        return (B @ V) / np.sqrt(mu)

    def hessians(self) -> np.ndarray:
        """The reduced per-sample Hessians UᵀHᵢU, shape (n, r, r) (for small problems: n r² numbers)."""
        return np.matmul(self.factors, self.factors.transpose(0, 2, 1))

    @cached_property
    def mean_squared_hessian(self) -> np.ndarray:
        """mean Hᵢ² in this basis (r×r), from the factors: Hᵢ² = Gᵢ(GᵢᵀGᵢ)Gᵢᵀ, O(n r² k); no (n, r, r) tensor.

        Rank one (Hᵢ = gᵢgᵢᵀ): Hᵢ² = ‖gᵢ‖² gᵢgᵢᵀ, so mean Hᵢ² = Fᵀ diag(‖fᵢ‖²) F / n.
        """
        F = self.factors
        n, r, k = F.shape
        if k == 1:
            f = F[:, :, 0]
            W = (f.T * np.einsum("nr,nr->n", f, f)) @ f / n
        else:
            FA = np.matmul(F, np.matmul(F.transpose(0, 2, 1), F))  # Gᵢ(GᵢᵀGᵢ), (n, r, k)
            W = FA.transpose(1, 0, 2).reshape(r, n * k) @ F.transpose(1, 0, 2).reshape(r, n * k).T / n
        return 0.5 * (W + W.T)

    @cached_property
    def hessian_sq_frobenius(self) -> np.ndarray:
        """‖Hᵢ‖_F² = ‖GᵢᵀGᵢ‖_F² per sample, shape (n,) (‖gᵢ‖⁴ for rank one)."""
        F = self.factors
        small = np.matmul(F.transpose(0, 2, 1), F)  # (n, k, k)
        return np.einsum("nab,nab->n", small, small)

    def top_direction_curvatures(self) -> np.ndarray:
        """v_maxᵀHᵢv_max = ‖Gᵢᵀv_max‖² per sample, shape (n,) (v_max is the first basis vector)."""
        return np.einsum("nk,nk->n", self.factors[:, 0, :], self.factors[:, 0, :])



#: Size d·m·min(d, m) (m = n·k factor columns) above which ``method="auto"`` takes the Gram route: an
#: SVD of the d×m stacked factors costs several times the eigendecomposition of the smaller Gram matrix.
GRAM_MIN_WORK = 5e8


def _stacked(G: np.ndarray) -> np.ndarray:
    """B (d, n·k) with H = B Bᵀ/n: the factors side by side (a view of G for k = 1)."""
    n, d, k = G.shape
    return G[:, :, 0].T if k == 1 else G.transpose(1, 0, 2).reshape(d, n * k)


def _rank(lam: np.ndarray) -> int:
    return int(np.sum(lam > RANK_RTOL * lam[0])) if lam.size and lam[0] > 0 else 0


def _factors_in(U: np.ndarray, G: np.ndarray) -> np.ndarray:
    """Uᵀ Gᵢ for every sample, shape (n, r, k)."""
    if G.shape[2] == 1:
        return (G[:, :, 0] @ U)[:, :, None]
    return np.matmul(U.T, G)


def _from_factors(G: np.ndarray, method: str = "auto") -> StabilityProblem:
    """G (n, d, k) with Hᵢ = GᵢGᵢᵀ → problem on range(H).

    ``method``: ``"svd"`` (SVD of the stacked factors B, H = BBᵀ/n: accurate for κ ≫ 1), ``"gram"``
    (eigendecomposition of the smaller of the Gram matrices BᵀB/n, m×m, and H = BBᵀ/n, d×d; when m < d
    range(H) is the span of the m factor columns and the problem is solved in it without any d×d or
    d×r array; eigenvalues below ~10⁻¹⁴·λ_max are then rounding), or ``"auto"`` (Gram above
    :data:`GRAM_MIN_WORK`).
    """
    n, d, k = G.shape
    m = n * k
    if method == "auto":
        method = "gram" if float(d) * m * min(d, m) >= GRAM_MIN_WORK else "svd"
    if method not in ("svd", "gram"):
        raise InputError(f"`method` must be auto, svd or gram, got {method!r}.")
    B = _stacked(G)
    if method == "gram" and m < d:
        lam, V = np.linalg.eigh(B.T @ B / n)
        lam, V = lam[::-1], V[:, ::-1]
        r = _rank(lam)
        lam, V = lam[:r], np.ascontiguousarray(V[:, :r])
        # with K = BᵀB/n = VΛVᵀ, U = BVΛ^{-1/2}/√n and Uᵀ Gᵢ = Λ^{-1/2}Vᵀ(BᵀB[:, cols i])/√n = √n Λ^{1/2}V[cols i, :]ᵀ
        F = (V * np.sqrt(lam)) * math.sqrt(n)
        factors = F.reshape(n, k, r).transpose(0, 2, 1)
        return StabilityProblem(np.ascontiguousarray(factors), lam, (B, V, lam * n), d)
    if method == "gram":
        lam, U = np.linalg.eigh(B @ B.T / n)
        lam, U = np.clip(lam[::-1], 0.0, None), U[:, ::-1]
    else:
        U, sv, _ = np.linalg.svd(B / math.sqrt(n), full_matrices=False)
        lam = sv**2
    r = _rank(lam)
    U, lam = np.ascontiguousarray(U[:, :r]), lam[:r]
    return StabilityProblem(_factors_in(U, G), lam, U, d)



def problem_from_features(X: object, name: str = "features") -> StabilityProblem:
    """Square loss (1/2n)Σ(xᵢ·θ − yᵢ)²: Hᵢ = xᵢxᵢᵀ, H = XᵀX/n."""
    A = validate_features(X, name)
    return _from_factors(A[:, :, None])



def problem_from_gradients(G: object, name: str = "gradients", method: str = "auto") -> StabilityProblem:
    """Rank-one Hᵢ = gᵢgᵢᵀ from per-sample gradients G (n, p) at an interpolating minimum of the square loss.

    H = GᵀG/n has range span{gᵢ} of dimension r ≤ n. For p ≫ n the problem is reduced through the
    Gram (NTK) matrix GGᵀ/n (``method="gram"``):
    O(n² p) time, O(n²) extra memory and no p×p (nor p×r) array, so a network with p = 10⁵ parameters
    and n = 10³ samples gives η*(B) from a 10³-dimensional problem (``method="auto"`` does so for
    large sizes, see :func:`_from_factors`). ``method="svd"`` is the full-space reference.
    """
    A = validate_features(G, name)
    return _from_factors(A[:, :, None], method)



def problem_from_gram(K: object, d: int, name: str = "gram", columns_per_sample: int = 1) -> StabilityProblem:
    """Rank-one Hᵢ = gᵢgᵢᵀ given only their Gram matrix Kᵢⱼ = gᵢ·gⱼ (n×n), gᵢ ∈ R^d.

    With ``columns_per_sample`` = k > 1, Hᵢ = GᵢGᵢᵀ with Gᵢ (d × k) and K (nk × nk) the Gram matrix of all
    nk columns, sample-major (column a of sample i at row ik + a): the per-sample Gauss–Newton Hessians
    Jᵢᵀ Λᵢ Jᵢ of a model with k outputs, Gᵢ = Jᵢᵀ Λᵢ^{1/2}.

    Everything the second-moment problem needs lives in span{gᵢ}: with K/n = VΛVᵀ the reduced
    factors are √n Λ^{1/2}V[i, :] (as in the Gram route of :func:`problem_from_gradients`), so η*(B),
    ρ and the published conditions follow from K alone, e.g. from a network's empirical NTK in
    closed form (:func:`theorycheck.maths.networks.gradient_gram`) without the n×d gradients. The
    problem has no basis of R^d (:attr:`StabilityProblem.basis` raises).
    """
    Km = finite_float_array(K, name)
    if Km.ndim != 2 or Km.shape[0] != Km.shape[1] or Km.shape[0] < 1:
        raise InputError(f"`{name}` must be a square (n, n) matrix, got shape {Km.shape}.")
    if isinstance(d, bool) or int(d) != d or d < 1:
        raise InputError(f"`d` must be a positive integer, got {d!r}.")
    k = columns_per_sample
    if isinstance(k, bool) or int(k) != k or k < 1 or Km.shape[0] % int(k):
        raise InputError(f"`columns_per_sample` must be a positive integer dividing {Km.shape[0]}, got {k!r}.")
    k = int(k)
    n = Km.shape[0] // k
    scale = max(float(np.abs(Km).max()), np.finfo(float).tiny)
    if float(np.abs(Km - Km.T).max()) > PSD_RTOL * scale:
        raise InputError(f"`{name}` is not symmetric.")
    lam, V = np.linalg.eigh(0.5 * (Km + Km.T) / n)
    if lam[0] < -PSD_RTOL * scale * n:
        raise InputError(f"`{name}` is not positive semidefinite (smallest eigenvalue {lam[0] * n:.3g}).")
    lam, V = lam[::-1], V[:, ::-1]
    r = _rank(lam)
    if r > d:
        raise InputError(f"`{name}` has rank {r} > d = {d}: it is not a Gram matrix of vectors in R^{d}.")
    lam, V = lam[:r], V[:, :r]
    factors = ((V * np.sqrt(lam)) * math.sqrt(n)).reshape(n, k, r).transpose(0, 2, 1)
    return StabilityProblem(np.ascontiguousarray(factors), lam, None, int(d))



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
    """Wu–Ma–E non-uniformity s = λ_max(Σ)^{1/2}, Σ = mean(Hᵢ²) − H² (Wu, Ma & E, NeurIPS 2018, Sec. 3).

    Σ is formed on range(H) from the factors of the Hᵢ (:attr:`StabilityProblem.mean_squared_hessian`).
    """
    P = _problem(hessians)
    if not P.rank:
        return 0.0
    Sigma = P.mean_squared_hessian - np.diag(P.lam**2)
    return float(math.sqrt(max(0.0, _top_eigenvalue(Sigma))))


def _top_eigenvalue(S: np.ndarray) -> float:
    """λ_max of a symmetric matrix (only the top eigenvalue is computed)."""
    r = S.shape[0]
    return float(np.linalg.eigvalsh(S)[-1]) if r <= 64 else float(
        _sla().eigh(S, eigvals_only=True, subset_by_index=[r - 1, r - 1])[0])


def _sla() -> Any:
    from scipy import linalg

    return linalg



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



# --------------------------------------------------------------------------- published conditions

def wu_ma_e_sufficient_rate(P: StabilityProblem, p: float) -> float:
    """Largest η with λ_max{(I−ηH)² + η²pΣ} ≤ 1 (Wu, Ma & E 2018, Sec. 3; sufficient: E‖θ‖² is non-increasing).

    On range(H): ⇔ η ≤ 2/λ_max(H^{-1/2}((1−p)H² + p·mean Hᵢ²)H^{-1/2}).
    """
    if P.rank == 0:
        return math.inf
    W = (1 - p) * np.diag(P.lam**2) + p * P.mean_squared_hessian
    s = 1 / np.sqrt(P.lam)
    return 2.0 / _top_eigenvalue(s[:, None] * W * s[None, :])



def gd_rate(P: StabilityProblem, factor: float = STABILITY_CONSTANT) -> float:
    """Largest η with a·η ≤ ``factor``, a = λ_max(H): GD's threshold 2/λ_max (necessary for SGD); ∞ for H = 0."""
    return factor / float(P.lam[0]) if P.rank else math.inf


def wu_ma_e_nonuniformity_rate(P: StabilityProblem, p: float, factor: float = 1.0) -> float:
    """Largest η with s·η·√p ≤ ``factor`` (Wu, Ma & E 2018, Sec. 3: s ≤ √B/η with replacement); ∞ where s·p = 0."""
    s = non_uniformity(P)
    return math.inf if s * p == 0 else factor / (s * math.sqrt(p))


def mulayoff_michaeli_eq15_rate(P: StabilityProblem, p: float) -> float:
    """η ≤ 2λ_max/(λ_max² + p·mean(v_maxᵀHᵢv_max − λ_max)²) (Mulayoff & Michaeli, Prop. 3, eq. 15); H ≠ 0."""
    a = P.lam[0]
    return float(2 * a / (a**2 + p * float(np.mean((P.top_direction_curvatures() - a) ** 2))))


def mulayoff_michaeli_eq16_rate(P: StabilityProblem, p: float) -> float:
    """η ≤ 2 Tr H/((1−p)‖H‖_F² + p·mean‖Hᵢ‖_F²) (Mulayoff & Michaeli, Prop. 3, eq. 16); H ≠ 0."""
    return 2 * float(P.lam.sum()) / ((1 - p) * float(np.sum(P.lam**2)) + p * float(P.hessian_sq_frobenius.mean()))


def gradient_sq_norms(P: StabilityProblem) -> np.ndarray:
    """‖gᵢ‖² of rank-one Hᵢ = gᵢgᵢᵀ (square loss at interpolation), shape (n,)."""
    return np.einsum("nrk,nrk->n", P.factors, P.factors)


def flatness_rate(P: StabilityProblem, p: float, constant: float = FLATNESS_CONSTANT) -> float:
    """Largest η with Tr H ≤ c/(ηp) (Ma & Ying 2021, Sec. 4; form not checked against the paper); ∞ for p = 0."""
    return math.inf if p == 0 else constant / (p * float(P.lam.sum()))


def gradient_moment_rate(P: StabilityProblem, p: float, constant: float = FLATNESS_CONSTANT) -> float:
    """Largest η with (mean‖gᵢ‖⁴)^{1/2} ≤ c/(ηp), Hᵢ = gᵢgᵢᵀ (Ma & Ying 2021's moment bound, k = 2); ∞ for p = 0."""
    if p == 0:
        return math.inf
    return constant / (p * float(np.sqrt(np.mean(gradient_sq_norms(P) ** 2))))


def published_conditions(P: StabilityProblem, batch: int, sampling: str) -> dict[str, dict[str, Any]]:
    """Each published condition as a threshold on η: the largest η at which it holds.

    A *necessary* condition must hold at every stable η, i.e. its threshold must be ≥ η*;
    a *sufficient* one must have threshold ≤ η*. Keys: ``threshold``, ``kind``, ``statement``, ``source``.
    """
    p = sampling_factor(P.n, batch, sampling)
    out: dict[str, dict[str, Any]] = {}

    def add(name: str, thr: float, kind: str, statement: str, source: str) -> None:
        out[name] = {"threshold": float(thr), "kind": kind, "statement": statement, "source": source}

    add("gd_sharpness", gd_rate(P), "necessary", "a = λ_max(H) ≤ 2/η", "Wu, Ma & E 2018, Sec. 3; GD threshold")
    pname = "√B" if sampling == "with" else "√(B(n−1)/(n−B))"
    add("wu_ma_e_nonuniformity", wu_ma_e_nonuniformity_rate(P, p), "necessary",
        f"s ≤ {pname}/η  (i.e. η s √p ≤ 1)",
        "Wu, Ma & E 2018, Sec. 3 (necessary condition derived from their sufficient condition)")
    add("wu_ma_e_sufficient", wu_ma_e_sufficient_rate(P, p), "sufficient", "λ_max{(I−ηH)² + η²pΣ} ≤ 1",
        "Wu, Ma & E 2018, Sec. 3 (implicit sufficient condition)")
    if P.rank:
        add("mulayoff_michaeli_15", mulayoff_michaeli_eq15_rate(P, p), "necessary",
            "η ≤ 2λ_max / (λ_max² + p·mean(v_maxᵀHᵢv_max − λ_max)²)", "Mulayoff & Michaeli, Prop. 3, eq. 15")
        add("mulayoff_michaeli_16", mulayoff_michaeli_eq16_rate(P, p),
            "necessary", "η ≤ 2 Tr H / ((1−p)‖H‖_F² + p·mean‖Hᵢ‖_F²)", "Mulayoff & Michaeli, Prop. 3, eq. 16")
        add("ma_ying_flatness", flatness_rate(P, p), "necessary", "Tr H ≤ 2/(ηp)  (= 2B/η with replacement)",
            "Ma & Ying 2021, Sec. 4 (form not checked against the paper; follows from eq. 16 + Jensen for rank-one Hᵢ)")
    return out
