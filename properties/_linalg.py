"""Strategies for matrices and quadratic losses (the public names are re-exported by ``theorycheck.properties.strategies``)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from theorycheck.core.errors import InputError
from theorycheck.properties._draws import value

SPECTRA = ("any", "rank_deficient", "ill_conditioned")


@st.composite
def orthogonal_matrices(draw: st.DrawFn, d: int) -> np.ndarray:
    """A d×d orthogonal matrix: QR of a Gaussian matrix seeded by Hypothesis (so it shrinks to simple seeds)."""
    seed = draw(st.integers(0, 2**32 - 1))
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q * np.sign(np.diag(r))


@st.composite
def spectra(draw: st.DrawFn, d: int, spectrum: str = "any", max_eig: float = 10.0) -> np.ndarray:
    """Non-negative eigenvalues, shape (d,), sorted descending, largest ≥ 1e-2.

    ``spectrum``: ``"any"`` (positive, moderate condition), ``"rank_deficient"``
    (at least one exact zero), ``"ill_conditioned"`` (condition number ≥ 1e6).
    """
    if spectrum not in SPECTRA:
        raise InputError(f"spectrum={spectrum!r}; expected one of {', '.join(SPECTRA)}.")
    top = draw(st.floats(1e-2, max_eig, allow_nan=False))
    if spectrum == "ill_conditioned":
        rest = draw(st.lists(st.floats(1e-9, 1e-6), min_size=d - 1, max_size=d - 1)) if d > 1 else []
        eig = np.array([top] + [top * r for r in rest])
    else:
        rest = draw(st.lists(st.floats(0.01, 1.0), min_size=d - 1, max_size=d - 1))
        eig = np.array([top] + [top * r for r in rest])
        if spectrum == "rank_deficient":
            if d == 1:
                eig = np.array([0.0])
            else:
                k = draw(st.integers(1, d - 1))
                eig[-k:] = 0.0
    return np.sort(eig)[::-1]


@st.composite
def psd_matrices(draw: st.DrawFn, d: int | st.SearchStrategy[int] = st.integers(1, 4), spectrum: str = "any",
                 max_eig: float = 10.0) -> np.ndarray:
    """A symmetric positive semi-definite matrix, shape (d, d), with a chosen kind of spectrum."""
    dd = value(draw, d)
    eig = draw(spectra(dd, spectrum, max_eig))
    q = draw(orthogonal_matrices(dd))
    a = (q * eig) @ q.T
    return (a + a.T) / 2


@st.composite
def quadratics(draw: st.DrawFn, d: int | st.SearchStrategy[int] = st.integers(1, 3), max_eig: float = 4.0):
    """A random quadratic loss ½θᵀAθ with exact rational A (positive definite) and a start point.

    Returns ``(loss, theta0)`` with ``loss`` a :class:`theorycheck.maths.losses.Loss`.
    Entries are small rationals so every backend sees the same function.
    """
    import sympy as sp

    from theorycheck.maths.losses import quadratic_loss

    dd = value(draw, d)
    # A = BᵀB/k + εI with small-integer B: exact, positive definite, bounded spectrum
    ints = st.integers(-3, 3)
    B = sp.Matrix(dd, dd, [draw(ints) for _ in range(dd * dd)])
    A = B.T * B
    scale = max(1, max(abs(x) for x in A)) * dd
    A = A * sp.Rational(int(max_eig), scale) + sp.eye(dd) * sp.Rational(draw(st.integers(1, 10)), 10)
    theta0 = tuple(sp.Rational(draw(st.integers(-10, 10)), 10) or sp.Rational(1, 2) for _ in range(dd))
    return quadratic_loss(A), theta0


__all__ = [
    "SPECTRA", "orthogonal_matrices", "psd_matrices", "quadratics", "spectra",
]
