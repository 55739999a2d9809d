"""Statistics of paired experiments: mean effects with confidence intervals, and the verdicts they imply.

A prediction of the form "the effect is positive" becomes a verdict on the
mean of paired differences (one per seed): PASS when the whole Student-t
interval lies on the predicted side of ``min_effect``, FAIL when it lies
entirely on the other side, INCONCLUSIVE when it straddles (or when there are
fewer than three finite differences). A BCa bootstrap interval is reported
beside the t interval. An equivalence statement ("within ±tol of 0") is judged
the same way, by the inclusion of the t interval in (−tol, tol).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats

from theorycheck.core.errors import InputError
from theorycheck.core.evidence import Verdict


def mean_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The Student-t confidence interval of the mean of ``values`` (at least two of them)."""
    lo, hi = stats.ttest_1samp(np.asarray(values, dtype=float), 0.0).confidence_interval(confidence)
    return float(lo), float(hi)


@dataclass
class EffectSize:
    """Mean paired difference with confidence intervals and the verdict they imply.

    ``direction`` is the predicted sign (+1: the prediction says the
    difference is positive). ``ci`` is the t interval (the verdict uses it);
    ``ci_bootstrap`` a BCa bootstrap interval shown alongside; ``cohen_dz`` =
    mean/sd of the differences.
    """

    mean: float
    ci: tuple[float, float]
    ci_bootstrap: tuple[float, float]
    n: int
    cohen_dz: float
    direction: int
    confidence: float
    verdict: Verdict
    reason: str


def effect_size(diffs: Sequence[float], direction: int = 1, confidence: float = 0.95, seed: int = 0,
                min_effect: float = 0.0) -> EffectSize:
    """Verdict on paired differences: is their mean on the predicted side of ``min_effect``·direction?

    PASS: the whole t interval for direction·mean lies above ``min_effect``;
    FAIL: it lies entirely below it (a mutant claiming the wrong sign, or a
    too-large effect, lands here); INCONCLUSIVE: it straddles, or fewer than
    three finite differences.
    """
    if direction not in (1, -1):
        raise InputError(f"`direction` must be +1 or -1, got {direction!r}.")
    if not 0 < confidence < 1:
        raise InputError(f"`confidence` must lie in (0, 1), got {confidence!r}.")
    x = np.asarray([d for d in diffs if math.isfinite(d)], dtype=float)
    n = len(x)
    if n < 3:
        return EffectSize(math.nan, (math.nan, math.nan), (math.nan, math.nan), n, math.nan, direction, confidence,
                          Verdict.INCONCLUSIVE, f"only {n} finite paired differences (need ≥ 3)")
    mean = float(x.mean())
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        lo = hi = mean
        blo = bhi = mean
    else:
        lo, hi = mean_interval(x, confidence)
        bs = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=2000, method="BCa",
                             random_state=np.random.default_rng(seed))
        blo, bhi = float(bs.confidence_interval.low), float(bs.confidence_interval.high)
    # work on the predicted-direction scale: the claim is direction·mean > min_effect
    slo, shi = sorted((direction * lo, direction * hi))
    if slo > min_effect:
        v, why = Verdict.PASS, f"{confidence:.0%} CI of the signed effect [{slo:.3g}, {shi:.3g}] lies above {min_effect:g}"
    elif shi < min_effect:
        v, why = Verdict.FAIL, f"{confidence:.0%} CI of the signed effect [{slo:.3g}, {shi:.3g}] lies below {min_effect:g}"
    else:
        v, why = Verdict.INCONCLUSIVE, (f"{confidence:.0%} CI of the signed effect [{slo:.3g}, {shi:.3g}] "
                                        f"straddles {min_effect:g}")
    dz = mean / sd if sd > 0 else math.copysign(math.inf, mean) if mean else 0.0
    return EffectSize(mean, (lo, hi), (blo, bhi), n, dz, direction, confidence, v, why)


def equivalence(values: Sequence[float], tolerance: float, confidence: float = 0.95) -> EffectSize:
    """Is the mean of ``values`` within ±``tolerance`` of 0? (two one-sided tests, as a CI inclusion).

    PASS: the t interval lies inside (−tol, tol); FAIL: it lies entirely
    outside; INCONCLUSIVE otherwise. Used to compare the measured loss
    increase with the quadratic prediction (σ²/2)·Tr H on a log scale.
    """
    x = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if len(x) < 3:
        return EffectSize(math.nan, (math.nan, math.nan), (math.nan, math.nan), len(x), math.nan, 1, confidence,
                          Verdict.INCONCLUSIVE, f"only {len(x)} finite values (need ≥ 3)")
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    lo, hi = (mean, mean) if sd == 0 else mean_interval(x, confidence)
    if -tolerance < lo and hi < tolerance:
        v, why = Verdict.PASS, f"CI [{lo:.3g}, {hi:.3g}] inside ±{tolerance:g}"
    elif hi < -tolerance or lo > tolerance:
        v, why = Verdict.FAIL, f"CI [{lo:.3g}, {hi:.3g}] entirely outside ±{tolerance:g}"
    else:
        v, why = Verdict.INCONCLUSIVE, f"CI [{lo:.3g}, {hi:.3g}] overlaps the edge of ±{tolerance:g}"
    return EffectSize(mean, (lo, hi), (lo, hi), len(x), mean / sd if sd else math.inf, 1, confidence, v, why)


def loglog_fit(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """(slope, standard error) of the least-squares line log y = a + slope·log x over the positive pairs.

    The standard error is √(s²/Σ(uᵢ − ū)²), s² the residual variance on m − 2 degrees of freedom, taken from
    the residuals themselves (``numpy.polyfit``'s covariance) rather than from 1 − r², which cancels to
    ~1e-8 for an exact power law; 0 for two points, as ``scipy.stats.linregress`` gives.
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    good = (xs > 0) & (ys > 0)
    u, v = np.log(xs[good]), np.log(ys[good])
    if u.size <= 2:
        return float(stats.linregress(u, v).slope), 0.0
    coef, cov = np.polyfit(u, v, 1, cov=True)
    return float(coef[0]), float(np.sqrt(max(cov[0, 0], 0.0)))


def trend_pvalues(rows: Sequence[Sequence[float]]) -> tuple[float, float]:
    """Page's L test for an ordered trend across the columns of repeated measures (one row per block).

    Returns (p of an increasing trend, p of a decreasing trend). Blocks (e.g. one
    per seed) absorb the differences between runs, so the test sees the
    within-block ordering only.
    """
    p_up = float(stats.page_trend_test(rows).pvalue)
    p_down = float(stats.page_trend_test([list(r)[::-1] for r in rows]).pvalue)
    return p_up, p_down


__all__ = ["EffectSize", "effect_size", "equivalence", "loglog_fit", "mean_interval", "trend_pvalues"]
