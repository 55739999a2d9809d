"""Discrete optimiser maps θ ↦ θ⁺, evaluated in mpmath at the current precision.

A :data:`StepMap` is any callable ``(theta, h) -> theta_next`` on lists of
mpmath numbers. Maps are evaluated in the caller's precision context
(``mpmath.mp``), so the same map serves a 15-digit pilot and a 60-digit
measurement; every number that enters (a float point, a ``Fraction`` step) is
converted once by :func:`as_mpf` so that the map and the integrator it is
compared with see exactly the same inputs.

* :func:`gd` — gradient descent θ⁺ = θ − h ∇L(θ) with the exact gradient
  (Barrett & Dherin, ICLR 2021, §2).
* :func:`iterate` — n steps of a map, stopping with :class:`DivergenceError`
  when the iterate stops being finite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import mpmath

from theorycheck.core.errors import DivergenceError, InputError
from theorycheck.maths.numbers import as_mpf, as_mpf_vector

if TYPE_CHECKING:  # iterate() serves maps built without sympy too (a compiled `theorycheck order` set-up)
    from theorycheck.maths.losses import Loss

StepMap = Callable[[Sequence[Any], Any], list[Any]]


class GradientDescent:
    """θ⁺ = θ − h ∇L(θ) with ∇L exact (sympy, lambdified to mpmath).

    Parameters
    ----------
    loss : Loss
    """

    def __init__(self, loss: Loss) -> None:
        self.loss = loss
        self.name = "gd"
        self.dim = loss.dim

    def gradient(self, theta: Sequence[Any]) -> list[Any]:
        """∇L(θ) at the current precision (an mpc, from the log of a negative number, is left for `iterate`)."""
        return self.loss.gradient_mpmath(theta)

    def __call__(self, theta: Sequence[Any], h: Any) -> list[Any]:
        th = as_mpf_vector(theta)
        if len(th) != self.dim:
            raise InputError(f"`theta` has {len(th)} coordinates, the loss has {self.dim} variables.")
        hh = as_mpf(h, "h")
        return [t - hh * g for t, g in zip(th, self.gradient(th))]

    def __repr__(self) -> str:
        return f"gd({self.loss.name})"


def gd(loss: Loss) -> GradientDescent:
    """The gradient-descent map of ``loss`` (a :data:`StepMap`)."""
    return GradientDescent(loss)


DIVERGENCE_BOUND = 1e100  # mpmath never overflows, so "left every bounded set" needs a bound


def iterate(step: StepMap, theta: Sequence[Any], h: Any, n: int, *, bound: float = DIVERGENCE_BOUND) -> list[Any]:
    """Apply ``step`` ``n`` times from ``theta`` with step ``h``.

    Raises
    ------
    DivergenceError
        When an iterate is not a finite real vector or a coordinate exceeds
        ``bound`` in magnitude (mpmath's exponent range is unbounded, so
        divergence would otherwise only show as ever slower arithmetic); the
        message gives the step index and the step size.
    """
    if int(n) != n or n < 0:
        raise InputError(f"`n` must be a non-negative integer, got {n!r}.")
    th = as_mpf_vector(theta)
    hh = as_mpf(h, "h")
    for k in range(int(n)):
        try:
            th = step(th, hh)
        except (OverflowError, ZeroDivisionError) as exc:
            raise DivergenceError(f"the iteration diverged at step {k + 1} of {n} with h={mpmath.nstr(hh, 8)} ({str(exc) or type(exc).__name__}).") from None
        if not all(isinstance(x, mpmath.mpf) and mpmath.isfinite(x) and abs(x) <= bound for x in th):
            raise DivergenceError(f"the iteration diverged at step {k + 1} of {n} with h={mpmath.nstr(hh, 8)}: "
                                  f"an iterate is not a finite real number of size at most {bound:g}.")
    return th


def mean_map(maps: Sequence[StepMap]) -> StepMap:
    """θ ↦ (1/k) Σ_j M_j(θ, h): the mean of k step maps (e.g. one epoch over several batch orders)."""
    maps = list(maps)
    if not maps:
        raise InputError("no step maps to average.")

    def step(theta: Sequence[Any], h: Any) -> list[Any]:
        acc = list(maps[0](theta, h))
        for f in maps[1:]:
            acc = [a + b for a, b in zip(acc, f(theta, h))]
        return [a / len(maps) for a in acc]

    return step


__all__ = ["DIVERGENCE_BOUND", "GradientDescent", "StepMap", "gd", "iterate", "mean_map"]
