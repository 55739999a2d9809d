"""Tests for theorycheck.numerics.statistics: effect sizes, equivalence, trend and log-log fits."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.core.evidence import Verdict
from theorycheck.numerics import statistics


@pytest.mark.parametrize("diffs, direction, verdict", [
    ([1.0, 1.2, 0.9, 1.1, 1.05], 1, Verdict.PASS),
    ([1.0, 1.2, 0.9, 1.1, 1.05], -1, Verdict.FAIL),
    ([-1.0, -1.2, -0.9, -1.1], 1, Verdict.FAIL),
    ([1.0, -1.0, 0.5, -0.4, 0.1], 1, Verdict.INCONCLUSIVE),
    ([1.0, 2.0], 1, Verdict.INCONCLUSIVE),
    ([1.0, float("nan"), 2.0], 1, Verdict.INCONCLUSIVE),
])
def test_effect_size_verdicts(diffs, direction, verdict):
    e = statistics.effect_size(diffs, direction=direction)
    assert e.verdict is verdict
    if e.n >= 3:
        assert e.ci[0] <= e.mean <= e.ci[1]


def test_effect_size_min_effect_threshold_is_a_mutant_knob():
    d = [0.10, 0.12, 0.11, 0.09, 0.10, 0.11]
    assert statistics.effect_size(d).verdict is Verdict.PASS
    assert statistics.effect_size(d, min_effect=1.0).verdict is Verdict.FAIL


def test_effect_size_intervals_are_seeded():
    d = list(np.random.default_rng(0).normal(0.3, 1.0, 12))
    a, b = statistics.effect_size(d, seed=4), statistics.effect_size(d, seed=4)
    assert a.ci_bootstrap == b.ci_bootstrap


@pytest.mark.parametrize("kw", [{"direction": 0}, {"confidence": 1.5}])
def test_effect_size_bad_arguments(kw):
    with pytest.raises(InputError):
        statistics.effect_size([1.0, 2.0, 3.0], **kw)


def test_equivalence_verdicts():
    assert statistics.equivalence([0.01, -0.02, 0.0, 0.015], 0.1).verdict is Verdict.PASS
    assert statistics.equivalence([0.7, 0.69, 0.71, 0.7], 0.1).verdict is Verdict.FAIL
    assert statistics.equivalence([0.0, 0.3, -0.2, 0.25], 0.1).verdict is Verdict.INCONCLUSIVE


def test_loglog_fit_recovers_a_power_law():
    x = np.geomspace(1e-4, 1e-1, 9)
    slope, stderr = statistics.loglog_fit(x, 3.0 * x**1.5)
    assert slope == pytest.approx(1.5, abs=1e-12) and stderr < 1e-10


def test_loglog_fit_gives_linregress_numbers_on_noisy_data():
    from scipy import stats

    x = np.geomspace(1e-4, 1e-1, 9)
    y = 3.0 * x**1.5 * np.exp(np.random.default_rng(0).normal(0.0, 0.1, x.size))
    slope, stderr = statistics.loglog_fit(x, y)
    ref = stats.linregress(np.log(x), np.log(y))
    assert slope == pytest.approx(ref.slope, rel=1e-12) and stderr == pytest.approx(ref.stderr, rel=1e-9)
    assert statistics.loglog_fit([1e-2, 1e-1], [1e-4, 1e-2]) == pytest.approx((2.0, 0.0))


def test_trend_pvalues_see_the_direction():
    rows = [[1.0, 2.0, 3.0], [1.5, 2.5, 3.5], [0.5, 1.0, 4.0], [1.0, 1.1, 1.2]]
    up, down = statistics.trend_pvalues(rows)
    assert up < 0.01 < down
