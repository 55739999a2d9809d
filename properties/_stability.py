"""Strategies for linear-stability instances (re-exported by ``theorycheck.properties.strategies``).

Random objects come from a Hypothesis-drawn integer seed plus a few drawn sizes and
scales, so shrinking moves towards few samples, low dimension and small seeds.
``kind`` selects the spectrum of H = mean Hᵢ: ``"any"`` (generic, full rank),
``"rank_deficient"`` (a common null direction of every Hᵢ) or
``"ill_conditioned"`` (condition number of H between 1e6 and about 1e11, above the rank cut
``theorycheck.maths.stability.RANK_RTOL`` = 1e-12).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from theorycheck.core.errors import InputError
from theorycheck.properties._draws import value

STABILITY_KINDS = ("any", "rank_deficient", "ill_conditioned")
SAMPLING_NAMES = ("with", "without")


def _kind(draw: st.DrawFn, kind) -> str:
    k = value(draw, kind)
    if k not in STABILITY_KINDS:
        raise InputError(f"kind={k!r}; expected one of {', '.join(STABILITY_KINDS)}.")
    return k


def _column_map(rng: np.random.Generator, d: int, kind: str, draw: st.DrawFn) -> np.ndarray:
    """A d×d map applied to raw Gaussian directions to impose the requested spectrum of H."""
    if kind == "rank_deficient":
        k = draw(st.integers(1, d - 1))
        return rng.standard_normal((d, k)) @ rng.standard_normal((k, d)) / np.sqrt(k)
    if kind == "ill_conditioned":
        q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        exps = [0.0] + draw(st.lists(st.floats(3.01, 5.5), min_size=d - 1, max_size=d - 1))
        return np.diag(10.0 ** -np.asarray(exps)) @ q
    return np.eye(d)


@st.composite
def feature_matrices(draw: st.DrawFn, n: int | st.SearchStrategy[int] = st.integers(1, 6),
                     d: int | st.SearchStrategy[int] = st.integers(1, 4),
                     kind: str | st.SearchStrategy[str] = st.sampled_from(STABILITY_KINDS),
                     scale: tuple[float, float] = (0.2, 3.0)) -> np.ndarray:
    """Features X, shape (n, d), for the square loss: Hᵢ = xᵢxᵢᵀ, H = XᵀX/n.

    Rank-deficient instances have d ≥ 2 and rows in a proper subspace; ill-conditioned ones
    have n ≥ d (so H is invertible) and singular values spread over ≥ 3 decades.
    """
    k = _kind(draw, kind)
    nn, dd = value(draw, n), value(draw, d)
    if k == "rank_deficient":
        dd = max(dd, 2)
    if k == "ill_conditioned":
        dd = max(dd, 2)
        nn = max(nn, dd)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if k == "ill_conditioned":  # X = U diag(σ) Vᵀ exactly, so κ(H) = (σ₁/σ_d)² ≥ 1e6
        U = np.linalg.qr(rng.standard_normal((nn, dd)))[0]
        V = np.linalg.qr(rng.standard_normal((dd, dd)))[0]
        exps = [0.0] + draw(st.lists(st.floats(3.01, 5.5), min_size=dd - 1, max_size=dd - 1))
        X = (U * 10.0 ** -np.asarray(exps)) @ V.T
    else:
        X = rng.standard_normal((nn, dd)) @ _column_map(rng, dd, k, draw)
    top = np.linalg.norm(X, 2) / np.sqrt(nn)
    if top == 0:  # a degenerate draw: fall back to a generic one
        X, top = rng.standard_normal((nn, dd)), 1.0
    return X * (draw(st.floats(*scale)) / top)


@st.composite
def per_sample_hessians(draw: st.DrawFn, n: int | st.SearchStrategy[int] = st.integers(1, 5),
                        d: int | st.SearchStrategy[int] = st.integers(1, 3),
                        kind: str | st.SearchStrategy[str] = st.sampled_from(STABILITY_KINDS),
                        scale: tuple[float, float] = (0.2, 3.0)) -> np.ndarray:
    """Per-sample Hessians Hᵢ = FᵢFᵢᵀ ⪰ 0, shape (n, d, d), each of drawn rank 1..d, λ_max(H) in ``scale``."""
    k = _kind(draw, kind)
    nn, dd = value(draw, n), value(draw, d)
    if k != "any":
        dd = max(dd, 2)
    if k == "ill_conditioned":
        nn = max(nn, dd)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ranks = draw(st.lists(st.integers(1, dd), min_size=nn, max_size=nn))
    Mc = _column_map(rng, dd, k, draw)
    Hs = np.zeros((nn, dd, dd))
    for i, r in enumerate(ranks):
        F = Mc.T @ rng.standard_normal((dd, r))
        Hs[i] = F @ F.T
    Hs = 0.5 * (Hs + Hs.transpose(0, 2, 1))
    top = np.linalg.eigvalsh(Hs.mean(axis=0))[-1]
    if top <= 0:
        Hs[0] = np.eye(dd)
        top = np.linalg.eigvalsh(Hs.mean(axis=0))[-1]
    return Hs * (draw(st.floats(*scale)) / top)


@st.composite
def stability_instances(draw: st.DrawFn, hessians: st.SearchStrategy[np.ndarray] | None = None,
                        sampling: str | st.SearchStrategy[str] = st.sampled_from(SAMPLING_NAMES)) -> dict:
    """``{"hessians", "features" (or None), "batch", "sampling"}``: features and general Hessians, any batch 1..n."""
    if hessians is None:
        src = draw(st.sampled_from(("features", "hessians")))
        if src == "features":
            X = draw(feature_matrices())
            Hs, feats = np.einsum("ni,nj->nij", X, X), X
        else:
            Hs, feats = draw(per_sample_hessians()), None
    else:
        Hs, feats = draw(hessians), None
    n = Hs.shape[0]
    return {"hessians": Hs, "features": feats, "batch": draw(st.integers(1, n)), "sampling": value(draw, sampling)}


__all__ = [
    "SAMPLING_NAMES", "STABILITY_KINDS", "feature_matrices", "per_sample_hessians", "stability_instances",
]
