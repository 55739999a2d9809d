"""Tests for theorycheck.numerics.ladders: step ladders fixed before measuring, inside the asymptotic regime."""

from __future__ import annotations

from fractions import Fraction

import pytest

from theorycheck.core.errors import InputError
from theorycheck.maths.losses import ZOO, ZOO_POINTS, exact_point
from theorycheck.numerics import ladders


@pytest.mark.parametrize("name", list(ZOO))
def test_loss_ladder_is_in_the_asymptotic_regime(name):
    loss = ZOO[name]
    theta0 = exact_point(loss, ZOO_POINTS[name])
    steps = ladders.loss_ladder(loss, theta0)
    assert len(steps) == ladders.LADDER_LENGTH
    assert steps[0] <= Fraction(1, 8) and all(s == steps[0] / 2**i for i, s in enumerate(steps))
    assert steps[0] * loss.curvature(theta0) <= ladders.KAPPA
    assert all((1 / s).denominator == 1 for s in steps)  # whole steps on the horizon T = 1


def test_relative_ladder_validation():
    assert ladders.relative_ladder(2.0, 3) == [0.25, 0.125, 0.0625]
    with pytest.raises(InputError):
        ladders.relative_ladder(0.0, 3)


def test_epoch_ladder():
    assert ladders.epoch_ladder(3) == [Fraction(1, 2), Fraction(1, 4), Fraction(1, 8)]


def test_heavy_ball_ladder_keeps_the_slow_manifold_real():
    from theorycheck.maths.momentum import slow_manifold_limit

    loss = ZOO["tiny_net"]
    theta0 = exact_point(loss, ZOO_POINTS["tiny_net"])
    steps = ladders.heavy_ball_ladder(loss, theta0, Fraction(1, 2), 4)
    assert len(steps) == 4 and steps[0] * loss.curvature(theta0) <= slow_manifold_limit(0.5) / 2
