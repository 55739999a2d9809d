"""Step ladders h₀ > h₀/2 > … chosen before measuring, inside the regime the expansions in h describe.

An order claim is only as good as its ladder: the steps must be small enough
that e(h) ≈ C h^p holds (the modified series converges for h‖A‖ < 1 on
quadratics), and they are fixed by a rule stated in advance, never adjusted to
make a check pass.

* :func:`power_of_two_ladder`: h₀ = 2^{−m}, m ≥ 3 the least with
  h₀·λ ≤ κ; powers of two divide the horizon T = 1 exactly, so global studies
  take N = T/h whole steps;
* :func:`loss_ladder`: the same with λ = λ_max|∇²L(θ₀)| of a loss;
* :func:`epoch_ladder`: epoch durations T = m·h = 1/2, 1/4, … for SGD epochs;
* :func:`relative_ladder`: h_k = top·2^{−k}/λ in float64 (networks);
* :func:`heavy_ball_ladder`: powers of two inside heavy ball's slow-manifold regime;
* :func:`slow_manifold_ladder`: the same for any optimiser with state, from its flow rate and fast factor.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Sequence

from theorycheck.core.errors import InputError
from theorycheck.maths.losses import Loss
from theorycheck.maths.momentum import slow_manifold_limit, transient_steps

#: Largest h·λ_max(∇²L(θ₀)) on a ladder of :func:`loss_ladder`.
KAPPA = Fraction(1, 4)
#: Number of halvings of a ladder.
LADDER_LENGTH = 6


def power_of_two_ladder(lam: float, n: int = LADDER_LENGTH, kappa: Fraction = KAPPA, min_exponent: int = 3
                        ) -> list[Fraction]:
    """h₀, h₀/2, …, h₀/2^{n−1} with h₀ = 2^{−m}, m ≥ ``min_exponent`` the least with h₀·λ ≤ κ."""
    m = min_exponent if lam <= 0 else max(min_exponent, math.ceil(math.log2(lam / float(kappa))))
    return [Fraction(1, 2 ** (m + i)) for i in range(n)]


def loss_ladder(loss: Loss, theta0: Sequence[Any], n: int = LADDER_LENGTH, kappa: Fraction = KAPPA) -> list[Fraction]:
    """:func:`power_of_two_ladder` for λ = λ_max|∇²L(θ₀)| (:meth:`~theorycheck.maths.losses.Loss.curvature`)."""
    return power_of_two_ladder(loss.curvature(theta0), n, kappa)


def epoch_ladder(n: int = 6) -> list[Fraction]:
    """Epoch durations T = m·h: 1/2, 1/4, …, 1/2ⁿ."""
    return [Fraction(1, 2 ** (k + 1)) for k in range(n)]


def relative_ladder(lam: float, count: int, top: float = 0.5) -> list[float]:
    """h_k = top·2^{−k}/λ, k = 0..count−1 (stable, inside the analytic regime hλ < 1)."""
    if lam <= 0 or not math.isfinite(lam):
        raise InputError(f"sharpness must be positive and finite, got {lam!r}.")
    return [top / lam / 2**k for k in range(count)]


def heavy_ball_ladder(loss: Loss, theta0: Sequence[Any], beta: Fraction, n: int, digits: int = 35
                      ) -> list[Fraction]:
    """Powers of two with h·λ_max ≤ (1 − √β)²/2 (the slow manifold is real) and N·h ≤ 2.

    N is the transient of the shooting that places θ₀ on the slow manifold
    (:func:`~theorycheck.maths.momentum.transient_steps` at ``digits``): θ₀'s
    upstream start must stay within a time of order one, and the stiffest
    direction must not be contracted by more than ≈ e^{−2}, for Newton to
    invert the run.
    """
    lam = max(loss.curvature(theta0), 1e-3)
    N = transient_steps(float(beta), digits)
    # the run from θ_s contracts the stiffest direction by ≈ e^{−λNh/(1−β)}: θ_s lies e^{λNh/(1−β)} times
    # farther off the slow valley than θ₀, so keep the exponent ≲ 2 (else Newton chases a far-away start)
    top = min(slow_manifold_limit(beta) / 2 / lam, 2 / N, 2 * (1 - float(beta)) / (lam * N))
    m = max(4, math.ceil(-math.log2(top)))
    return [Fraction(1, 2 ** (m + i)) for i in range(n)]


def slow_manifold_ladder(flow_rate: float, rho: float, n: int, digits: int = 35) -> list[Fraction]:
    """Powers of two inside the slow-manifold regime of any optimiser with state, chosen from two numbers.

    ``flow_rate`` λ_F is the spectral radius of the leading flow's Jacobian ∂F₀/∂θ at θ₀ (the slow mode moves by
    ≈ 1 − hλ_F per step) and ``rho`` the factor ρ by which the state's fast modes decay per step
    (:func:`~theorycheck.maths.slow_manifold.fast_factor`). The largest step is the largest power of two with

        h·λ_F ≤ (1 − √ρ)/(2(1 + √ρ)),   N·h ≤ 2,   N·h·λ_F ≤ 2,

    N the shooting's transient at ``digits`` (:func:`~theorycheck.maths.slow_manifold.transient_steps`): the slow
    and fast modes stay apart, and the start upstream of θ₀ within a time, and a contraction, of order one. For
    heavy ball (λ_F = λ/(1 − β), ρ = β) these are the bounds of :func:`heavy_ball_ladder`, whose first one is
    hλ ≤ (1 − √β)²/2, half the edge of the real slow manifold.
    """
    from theorycheck.maths.slow_manifold import transient_steps as transient

    lam = max(float(flow_rate), 1e-3)
    N = transient(float(rho), digits)
    root = math.sqrt(max(float(rho), 0.0))
    top = min((1 - root) / (2 * (1 + root) * lam), 2 / N, 2 / (lam * N))
    m = max(4, math.ceil(-math.log2(top)))
    return [Fraction(1, 2 ** (m + i)) for i in range(n)]


def sgd_momentum_ladder(batch_losses: Sequence[Loss], theta0: Sequence[Any], beta: Fraction, n: int,
                        digits: int = 35) -> list[Fraction]:
    """Epoch times T = m·h for SGD+M over m batches, h from :func:`heavy_ball_ladder` of the stiffest batch.

    Each step sees one batch's Hessian, so the slow manifold of the cyclic
    schedule needs h·λ small for the stiffest batch loss, not only for L.
    """
    if not batch_losses:
        raise InputError("no batch losses given.")
    stiffest = max(batch_losses, key=lambda loss: loss.curvature(theta0))
    return [len(batch_losses) * h for h in heavy_ball_ladder(stiffest, theta0, beta, n, digits)]


__all__ = ["KAPPA", "LADDER_LENGTH", "epoch_ladder", "heavy_ball_ladder", "loss_ladder", "power_of_two_ladder",
           "relative_ladder", "sgd_momentum_ladder", "slow_manifold_ladder"]
