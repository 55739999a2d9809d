"""Traces of symmetric operators known only through products: exact for small p, Hutch++ with an interval beyond.

:func:`operator_trace` returns Tr A for a ``scipy.sparse.linalg.LinearOperator`` A (p × p):

* **exact** when p ≤ ``exact_limit`` (Σⱼ eⱼᵀAeⱼ from p products, in blocks), or whenever estimating
  would take as many products as that;
* otherwise **Hutch++** (Meyer, Musco, Musco & Woodruff, "Hutch++: Optimal Stochastic Trace
  Estimation", SOSA 2021, Alg. 1): a sketch Q = orth(AS) of s Rademacher vectors takes the top of the
  spectrum exactly, Tr(QᵀAQ), and Hutchinson's estimator (Hutchinson 1990) on the deflated
  operator (I − QQᵀ)A(I − QQᵀ) takes the rest. For PSD A, O(1/ε) products give relative error ε
  (their Thm. 1), against O(1/ε²) for plain Hutchinson.

The numbers of products are chosen from the requested accuracy, in the spirit of the adaptive
variant of Persson, Cortinovis & Kressner (SIAM J. Matrix Anal. Appl. 43, 2022): after a first
batch of residual probes, the sample variance says how many the Student-t interval needs to reach
``max(atol, rtol·|Tr A|)``; while that is more than twice the sketch, the sketch is doubled (a
larger Q takes more of the spectrum exactly and leaves a residual of smaller variance; the new
columns are orthonormalised against the old ones, so no product is spent twice), and otherwise
that many probes are drawn. The interval is over the residual probes only (the sketched part is
exact given Q), at ``confidence``; it rests on the central limit theorem, so it is approximate for
few probes, which is why at least :data:`MIN_PROBES` are drawn.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.numerics.eigen import TraceResult

#: Sizes up to which the trace is computed exactly (p products) unless asked otherwise.
EXACT_LIMIT = 256
#: Fewest residual probes behind an interval.
MIN_PROBES = 16
#: Default sketch size s of Hutch++ (2s products).
SKETCH = 24
#: Columns per batched product when the trace is computed exactly.
EXACT_BLOCK = 256


def exact_trace(op: Any, block: int = EXACT_BLOCK) -> TraceResult:
    """Σⱼ eⱼᵀAeⱼ from p products (``block`` columns at a time)."""
    p = op.shape[0]
    total = 0.0
    for s in range(0, p, block):
        E = np.zeros((p, min(block, p - s)))
        E[np.arange(s, s + E.shape[1]), np.arange(E.shape[1])] = 1.0
        total += float(np.trace(np.asarray(op.matmat(E))[s:s + E.shape[1]]))
    return TraceResult(total, 0.0, 1.0, p, "exact")


def operator_trace(op: Any, *, rtol: float = 1e-2, atol: float = 0.0, confidence: float = 0.95, seed: int = 0,
                   exact_limit: int = EXACT_LIMIT, sketch: int = SKETCH, max_probes: int = 100_000,
                   offset: float = 0.0) -> TraceResult:
    """Tr A of a symmetric ``LinearOperator`` to ``max(atol, rtol·|offset + Tr A|)`` at ``confidence`` (module
    docstring).

    Parameters
    ----------
    op : LinearOperator, shape (p, p)
        Symmetric; ``matmat`` is used for blocks of probes.
    rtol : float
        Requested half-width of the interval, relative to ``offset`` + the estimate.
    atol : float
        Requested half-width, absolute (the larger of the two is the target).
    confidence : float in (0, 1)
    seed : int
        Seed of the Rademacher probes.
    exact_limit : int
        p up to which the trace is exact (p products).
    sketch : int
        Hutch++ sketch size s (2s products).
    offset : float
        A known part of the quantity wanted, c + Tr A, whose relative accuracy ``rtol`` asks for (e.g. the exact
        Gauss–Newton trace beside an estimated residual part: a residual of the opposite sign makes the sum
        smaller than either part, and the interval must be relative to the sum).

    Returns
    -------
    TraceResult
        ``method`` is ``"exact"`` or ``"Hutch++"``; ``products`` counts the operator products used.
    """
    if not (0 < confidence < 1):
        raise InputError(f"`confidence` must lie in (0, 1), got {confidence!r}.")
    if not (rtol >= 0 and atol >= 0 and (rtol > 0 or atol > 0)) or not (math.isfinite(rtol) and math.isfinite(atol)):
        raise InputError(f"give a finite positive `rtol` or `atol`, got rtol={rtol!r}, atol={atol!r}.")
    p = op.shape[0]
    if p <= max(exact_limit, 2 * sketch + MIN_PROBES):
        return exact_trace(op)
    from scipy.special import stdtrit  # the t quantile without scipy.stats' second of start-up

    rng = np.random.default_rng(seed)
    Q = np.empty((p, 0))  # orthonormal basis of the sketch's range A·S, grown block by block
    top = 0.0  # Tr(QᵀAQ), accumulated over the blocks
    s = min(sketch, p // 4)
    products = 0
    while True:  # one sketch size after another: deflate more while the residual probes would cost more
        # A larger sketch adds columns to Q: only the new block of A·S is projected out of Q and orthonormalised,
        # and only its A·Q computed (Tr(QᵀAQ) of the old columns is kept), so growing the sketch costs no
        # product twice. Projected twice and normalised twice, the new columns are orthonormal to Q to rounding
        # even where A·S is rank deficient (any orthonormal Q leaves the estimator unbiased, a skewed one does not).
        probes = rng.choice([-1.0, 1.0], size=(p, s - Q.shape[1]))
        added = np.array(op.matmat(probes), dtype=float)  # a copy: updated in place
        for _ in range(2):
            for _ in range(2):
                added -= Q @ (Q.T @ added)
            added, _ = np.linalg.qr(added)
        top += float(np.einsum("pm,pm->", added, np.asarray(op.matmat(added))))
        Q = np.hstack([Q, added])
        products += 2 * added.shape[1]
        samples: list[np.ndarray] = []
        want = MIN_PROBES
        while True:
            Z = rng.choice([-1.0, 1.0], size=(p, want))
            Z -= Q @ (Q.T @ Z)
            samples.append(np.einsum("pm,pm->m", Z, np.asarray(op.matmat(Z))))
            products += want
            x = np.concatenate(samples)
            m = x.size
            est = top + float(x.mean())
            t = float(stdtrit(m - 1, 0.5 + confidence / 2))
            sd = float(x.std(ddof=1))
            half = t * sd / math.sqrt(m)
            target = max(atol, rtol * abs(offset + est))
            if half <= target or sd == 0.0:
                return TraceResult(est, half, confidence, products, "Hutch++")
            more = (math.ceil((t * sd / target) ** 2) if target > 0 else max_probes) - m
            if more > 2 * s and 4 * s <= p:  # probes would dominate: a sketch twice as large takes more of the trace
                s *= 2
                break
            if products + more >= p or m + more > max_probes:  # estimating would cost more than the exact trace
                exact = exact_trace(op)
                return TraceResult(exact.estimate, 0.0, 1.0, products + exact.products, "exact")
            want = max(8, more)


__all__ = ["EXACT_BLOCK", "EXACT_LIMIT", "MIN_PROBES", "SKETCH", "TraceResult", "exact_trace", "operator_trace"]
