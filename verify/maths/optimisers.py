"""Discrete optimiser maps θ ↦ θ⁺, evaluated in mpmath at the current precision.

A :data:`StepMap` is any callable ``(theta, h) -> theta_next`` on lists of
mpmath numbers. Maps are evaluated in the caller's precision context
(``mpmath.mp``), so the same map serves a 15-digit pilot and a 60-digit
measurement; every number that enters (a float point, a ``Fraction`` step) is
converted once by :func:`as_mpf` so that the map and the integrator it is
compared with see exactly the same inputs.

* :func:`gd` — gradient descent θ⁺ = θ − h ∇L(θ) with the exact gradient
  (Barrett & Dherin, ICLR 2021, eq. (1)).
* :func:`iterate` — n steps of a map, stopping with :class:`DivergenceError`
  when the iterate stops being finite.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Sequence

import mpmath
import sympy as sp

from theorycheck.core.errors import DivergenceError, InputError
from theorycheck.maths.losses import Loss

StepMap = Callable[[Sequence[Any], Any], list[Any]]


def as_mpf(x: Any, name: str = "value") -> Any:
    """``x`` as an mpmath number at the current precision, exactly where possible.

    Floats are taken as their exact binary value, ``Fraction`` and ``int``
    as exact rationals (rounded once to the current precision), strings are
    parsed in decimal at the current precision (``"0.7"`` is 7/10 to working
    precision, not the float nearest 0.7).
    """
    if isinstance(x, mpmath.mpf):
        return +x  # round to the current precision
    if isinstance(x, bool):
        raise InputError(f"`{name}` must be a number, got {x!r}.")
    if isinstance(x, Fraction):
        return mpmath.mpf(x.numerator) / x.denominator
    if isinstance(x, sp.Rational):
        return mpmath.mpf(int(x.p)) / int(x.q)
    if isinstance(x, sp.Basic):
        if not x.is_number:
            raise InputError(f"`{name}` must be a number, got {x!r}.")
        return mpmath.mpf(sp.N(x, mpmath.mp.dps + 5))
    try:
        v = mpmath.mpf(x)
    except (TypeError, ValueError):
        raise InputError(f"`{name}` must be a number, got {x!r}.") from None
    if not mpmath.isfinite(v):
        raise InputError(f"`{name}` must be finite, got {x!r}.")
    return v


def as_mpf_vector(theta: Sequence[Any], name: str = "theta") -> list[Any]:
    """Each coordinate of ``theta`` through :func:`as_mpf`."""
    try:
        items = list(theta)
    except TypeError:
        raise InputError(f"`{name}` must be a sequence of numbers, got {theta!r}.") from None
    return [as_mpf(x, f"{name}[{i}]") for i, x in enumerate(items)]


def as_fraction(x: Any, name: str = "h") -> Fraction:
    """A step size as an exact rational.

    Floats go through their shortest decimal repr, so ``0.1`` is 1/10 and
    ``0.125`` is 1/8; strings may be ``"1/8"`` or ``"0.125"``.
    """
    if isinstance(x, bool):
        raise InputError(f"`{name}` must be a number, got {x!r}.")
    try:
        if isinstance(x, Fraction):
            f = x
        elif isinstance(x, int):
            f = Fraction(x)
        elif isinstance(x, sp.Rational):
            f = Fraction(int(x.p), int(x.q))
        elif isinstance(x, float):
            f = Fraction(repr(x))
        elif isinstance(x, str):
            f = Fraction(x.strip())
        elif isinstance(x, mpmath.mpf):
            man, exp = x.man_exp  # exact binary value; man_exp drops the sign
            man = -man if x < 0 else man
            f = Fraction(man) * Fraction(2) ** exp
        else:
            f = Fraction(str(x))
    except (ValueError, ZeroDivisionError, TypeError, OverflowError):
        raise InputError(f"`{name}` must be a finite rational number, got {x!r}.") from None
    return f


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
        # lambdify prints rationals as mpf(p)/mpf(q), evaluated at call time,
        # so constants follow the caller's working precision
        self._grad = sp.lambdify(loss.variables, list(loss.gradient), modules="mpmath", cse=True)

    def gradient(self, theta: Sequence[Any]) -> list[Any]:
        """∇L(θ) at the current precision."""
        out = []
        for v in self._grad(*theta):
            if isinstance(v, sp.Basic):  # a constant component comes back symbolic
                v = mpmath.mpf(sp.N(v, mpmath.mp.dps + 5))
            elif not isinstance(v, (mpmath.mpf, mpmath.mpc)):
                v = mpmath.mpf(v)
            out.append(v)  # an mpc (log of a negative number) is left for `iterate` to reject
        return out

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
