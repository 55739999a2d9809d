"""η*(B), ρ and the higher moments of linearised SGD: the eigenvalue problems on the second-moment operator.

The operators are those of :mod:`theorycheck.maths.stability`. Here they are
solved:

* η* = 2/λ_max(C⁻¹D) (Mulayoff & Michaeli, arXiv:2306.07850, Thm. 3) as the
  top eigenvalue of the symmetric operator K = C^{-1/2} D C^{-1/2}: C^{-1/2} is
  the Hadamard multiplier √(2/(λᵢ+λⱼ)) in the eigenbasis of H, so K is applied
  matrix-free and Lanczos (``eigsh``) needs a few dozen applications
  (:func:`critical_rate`); an independent route finds the root of
  λ_max(ηD − 2C) (:func:`critical_rate_bisection`);
* the spectral radius of Q(η) on the full space of symmetric d×d matrices
  (:func:`radius`), which is ≥ 1 whenever H is singular (neutral directions),
  so η* = inf{η > 0 : ρ(Q(η)) > 1} is the threshold of the range block;
* k-th moments by exact enumeration of batches on symmetric tensors
  (:func:`kth_moment_radius`, :func:`critical_rate_kth`);
* a Monte Carlo simulation of linearised SGD whose growth rate must bracket ρ
  (:func:`monte_carlo_growth`), and the top Lyapunov exponent of a typical
  trajectory (:func:`lyapunov_exponent`), which can be negative where the
  second moment grows (stability in probability).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.constants import KRONECKER_SUM_SCALE
from theorycheck.maths.sampling import sampling_factor, validate_batch
from theorycheck.maths.stability import (
    StabilityProblem,
    apply_D,
    apply_second_moment,
    gd_rate,
    moment_operator,
    problem_from_features,
    problem_from_hessians,
)
from theorycheck.numerics.eigen import top_eigenpair

__all__ = [
    "MonteCarloResult", "critical_learning_rate", "critical_learning_rate_features",
    "critical_rate", "critical_rate_bisection", "critical_rate_kth", "dense_critical_rate", "kth_moment_radius",
    "lyapunov_exponent", "monte_carlo_growth", "radius", "spectral_radius", "spectral_radius_features", "stability_memory",
    "top_moment",
]


def stability_memory(n: int, d: int, k: int = 1, gram: bool = False) -> int:
    """Bytes that building the problem of n per-sample factors Gᵢ (d × k) and solving for η*(B) allocate, about.

    The sizes of what :func:`theorycheck.maths.stability.problem_from_features` (``gram=False``: the
    stacked factors, their SVD or Gram eigendecomposition) or ``problem_from_gram`` (``gram=True``: the
    nk × nk matrix and its eigenvectors) hold, then the factors in the basis of range(H) (n·r·k), and
    :func:`critical_rate`'s Lanczos vectors and products on r × r matrices (r = rank ≤ min(d, nk)),
    which dominate for large r. Exact integers: a 400-digit size gives a 400-digit estimate, no overflow.
    """
    n, d, k = int(n), int(d), int(k)
    m = n * k
    r = min(d, m)
    build = 3 * m * m if gram else n * d * k + 2 * d * m + d * r + (2 * m * m if m < d else 2 * d * d)
    return 8 * (build + 5 * n * r * k + 32 * r * r)


# --------------------------------------------------------------------------- η* and ρ on range(H)

def _generalized_top(P: StabilityProblem, p: float, rtol: float, c_scale: float = KRONECKER_SUM_SCALE) -> float:
    """λ_max(C⁻¹D) = λ_max(K), K = S∘D(S∘·), S = (c_scale·(λᵢ+λⱼ))^{-1/2} (c_scale = ½: C = ½(H⊕H))."""
    lam = P.lam
    S = 1.0 / np.sqrt(c_scale * (lam[:, None] + lam[None, :]))
    # Mulayoff & Michaeli's test direction u ∝ C^{1/2} vec(I) starts Lanczos inside the PSD cone
    v0 = np.diag(np.sqrt(c_scale * 2 * lam))
    mu, _ = top_eigenpair(lambda X: S * apply_D(P, S * X, p), P.rank, tol=rtol / 10, v0=v0)
    return mu



def critical_rate(P: StabilityProblem, p: float, rtol: float = 1e-8, c_scale: float = KRONECKER_SUM_SCALE) -> float:
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
        return top_eigenpair(lambda X: eta * apply_D(P, X, p) - (lam[:, None] + lam[None, :]) * X, P.rank,
                        tol=rtol / 10)[0]

    hi = 2.0 / lam[0]
    if g(hi) <= 0:
        return hi
    from scipy.optimize import brentq

    return float(brentq(g, 0.0, hi, xtol=rtol * hi * 1e-2, rtol=4 * np.finfo(float).eps, maxiter=200))



def radius(P: StabilityProblem, eta: float, p: float, tol: float = 1e-12, eta2_coefficient: float = 1.0) -> float:
    """Spectral radius of Q(η) on the full space of symmetric d×d matrices (see module docstring)."""
    rho = 0.0
    if P.rank:
        rho = abs(top_eigenpair(lambda X: apply_second_moment(P, X, eta, p, eta2_coefficient), P.rank, tol=tol,
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
    rho, Z = top_eigenpair(lambda X: apply_second_moment(P, X, eta, p), P.rank, tol=tol, which="LA")
    Z = Z / np.linalg.norm(Z)
    if np.trace(Z) < 0:
        Z = -Z
    return rho, P.basis @ Z @ P.basis.T



# --------------------------------------------------------------------------- from Hessians or features

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



# --------------------------------------------------------------------------- references and higher moments

def dense_critical_rate(hessians: np.ndarray, p: float) -> float:
    """η* from the dense generalized eigenproblem D u = μ C u on R^{d²} (needs H ≻ 0); the benchmark baseline."""
    Hs = np.asarray(hessians, float)
    n, d, _ = Hs.shape
    H = Hs.mean(axis=0)
    I = np.eye(d)
    C = 0.5 * (np.kron(H, I) + np.kron(I, H))
    D = (1 - p) * np.kron(H, H) + p * sum(np.kron(Hi, Hi) for Hi in Hs) / n
    from scipy import linalg as sla

    mu = sla.eigh(D, C, eigvals_only=True, subset_by_index=[d * d - 1, d * d - 1])[0]
    return 2.0 / float(mu)



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
    hi = gd_rate(P)

    def f(eta: float) -> float:
        return (kth_moment_radius(P, eta, batch, sampling, k) - 1.0) / eta

    from scipy.optimize import brentq

    etas = hi * np.arange(1, grid + 1) / grid
    prev = hi * 1e-6
    for eta in etas:
        if f(eta) > 0:
            return float(brentq(f, prev, eta, xtol=rtol * eta, maxiter=200))
        prev = eta
    return hi



# --------------------------------------------------------------------------- simulation

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



def lyapunov_exponent(P: StabilityProblem, eta: float, batch: int, steps: int, seed: int,
                      sampling: str = "without") -> float:
    """Top Lyapunov exponent per step of linearised SGD x ← (I − ηĤ)x, estimated along one trajectory.

    λ₁ = lim (1/t) log‖xₜ‖ (renormalised every step). A negative λ₁ means a
    typical trajectory of the linearisation contracts almost surely even where
    the second moment grows (ρ(Q) > 1): the minimum is stable in probability
    although not in mean square (Ziyin et al., arXiv:2303.13093; the Lyapunov
    criterion of Chemnitz & Engel, arXiv:2407.20209). Works on range(H): null
    directions of H do not move.
    """
    validate_batch(batch, P.n)
    rng = np.random.default_rng(seed)
    G = P.factors
    x = rng.standard_normal(P.rank)
    x /= np.linalg.norm(x)
    acc = 0.0
    for _ in range(steps):
        idx = rng.choice(P.n, size=batch, replace=sampling == "with")
        Gb = G[idx]  # (B, r, k)
        x = x - eta * np.einsum("brk,bsk,s->r", Gb, Gb, x) / batch
        nx = np.linalg.norm(x)
        acc += math.log(nx)
        x /= nx
    return acc / steps
