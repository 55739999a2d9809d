"""Adam from its initialisation against its step-dependent modified flow: n-step and global errors.

With bias correction Adam's modified field changes from step to step
(:func:`theorycheck.maths.adaptive.adam_field` at ``step=k``): the flow that
tracks it is piecewise, the field of step k over [kh, (k+1)h]. The errors here
compare Adam's iterates θ_n (mpmath, from m = v = 0) with that piecewise flow
(scipy DOP853 in float64, each segment one integration; the step-k field equals
the late-training one to float64 once β^k, ρ^k < 1e-17, so it is then reused).

* :func:`n_step_errors`: θ_n for a fixed small n against the composed flow; each
  step contributes O(h³), so the error is O(h³) (order 3) against the right
  fields and O(h²) with the bias correction dropped from the fields.
* :func:`global_errors`: θ_{T/h} on a fixed horizon T, O(h²) (global order 2;
  against the plain field F₀ order 1).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import mpmath

from theorycheck.core.errors import InputError
from theorycheck.maths.adaptive import adam_field, adam_orbit
from theorycheck.maths.losses import Loss
from theorycheck.maths.numbers import as_mpf
from theorycheck.numerics.integrate import flow

#: Float64 resolves the composed flows to about this relative error; errors below it are not fitted.
FLOOR_RTOL = 1e-11


def _settled_step(beta1: Any, beta2: Any) -> int:
    """The first step k at which β^k and ρ^k are below 1e-17 (the step-k field is then the late one in float64)."""
    top = max(float(beta1), float(beta2))
    return 0 if top == 0 else int(math.ceil(17 * math.log(10) / -math.log(top)))


def piecewise_flow(loss: Loss, beta1: Any, beta2: Any, eps: Any, theta0: Sequence[Any], h: Any, n: int, *,
                   order: int = 1, bias_correction: bool = True, scale: Any = 1, sign: int = 1) -> list[Any]:
    """The flow of the step-k modified field over [kh, (k+1)h] for k = 0..n−1, composed, from θ₀."""
    settled = _settled_step(beta1, beta2)
    th = list(theta0)
    hh = as_mpf(h, "h")
    for k in range(n):
        step = k if (bias_correction and k < settled) else None
        field = adam_field(loss, beta1, beta2, eps, order, step=step, bias_correction=bias_correction,
                           scale=scale, sign=sign)
        th = flow(field, th, hh, h=hh, backend="scipy")
    return th


def _distance(a: Sequence[Any], b: Sequence[Any]) -> Any:
    return mpmath.sqrt(sum((mpmath.mpf(x) - mpmath.mpf(y)) ** 2 for x, y in zip(a, b)))


def n_step_errors(loss: Loss, beta1: Any, beta2: Any, eps: Any, theta0: Sequence[Any], ladder: Sequence[Any],
                  n: int, **field_options: Any) -> tuple[list[Any], float]:
    """‖θ_n − piecewise flow(nh)‖ on the ladder (Adam from m = v = 0 with bias correction), and the float64 floor."""
    if n < 1:
        raise InputError(f"`n` must be at least 1, got {n!r}.")
    errs = []
    with mpmath.workdps(30):
        th0 = [as_mpf(x, "theta0") for x in theta0]
        for h in ladder:
            adam = adam_orbit(loss, beta1, beta2, eps, th0, h, n)[-1]
            errs.append(_distance(adam, piecewise_flow(loss, beta1, beta2, eps, th0, h, n, **field_options)))
        scale = max(1.0, max(abs(float(x)) for x in th0))
    return errs, FLOOR_RTOL * scale * n


def global_errors(loss: Loss, beta1: Any, beta2: Any, eps: Any, theta0: Sequence[Any], ladder: Sequence[Any],
                  horizon: Any, **field_options: Any) -> tuple[list[Any], float]:
    """‖θ_{T/h} − piecewise flow(T)‖ on the ladder (every h must divide T), and the float64 floor."""
    from fractions import Fraction

    T = Fraction(str(horizon)) if not isinstance(horizon, Fraction) else horizon
    out = []
    with mpmath.workdps(30):
        th0 = [as_mpf(x, "theta0") for x in theta0]
        for h in ladder:
            steps = T / Fraction(h)
            if steps.denominator != 1:
                raise InputError(f"step {h} does not divide the horizon {T}.")
            n = int(steps)
            adam = adam_orbit(loss, beta1, beta2, eps, th0, h, n)[-1]
            out.append(_distance(adam, piecewise_flow(loss, beta1, beta2, eps, th0, h, n, **field_options)))
        scale = max(1.0, max(abs(float(x)) for x in th0))
    return out, FLOOR_RTOL * scale * int(T / Fraction(ladder[-1]))


__all__ = ["FLOOR_RTOL", "global_errors", "n_step_errors", "piecewise_flow"]
