"""Exact conversions of the numbers every high-precision computation starts from.

A point, a step size or a constant enters theorycheck once, through these
functions, so that a map and the integrator it is compared with see exactly
the same inputs: decimals and fractions stay exact rationals until they are
rounded, once, to the working precision of the caller's ``mpmath`` context.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, Sequence

import lazy_loader as lazy
import mpmath

from theorycheck.core.errors import InputError

# loaded on first use: the float-array helpers below serve commands that never touch sympy
if TYPE_CHECKING:
    import sympy as sp
else:
    sp = lazy.load("sympy")


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


def as_rational(x: Any, name: str = "coefficient") -> sp.Rational:
    """``x`` as an exact sympy Rational, through :func:`as_fraction` (so ``0.25`` and ``"1/4"`` are 1/4)."""
    f = as_fraction(x, name)
    return sp.Rational(f.numerator, f.denominator)


def finite_float_array(a: object, name: str) -> Any:
    """``a`` as a float64 array, or :class:`InputError` if it is not real and numeric or holds NaN or inf."""
    import numpy as np

    arr = np.asarray(a)
    if arr.dtype == object or arr.dtype.kind not in "fiu":
        raise InputError(f"`{name}` must be a real numeric array, got dtype {arr.dtype}.")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"`{name}` contains NaN or inf.")
    return arr


__all__ = ["as_fraction", "as_mpf", "as_mpf_vector", "as_rational", "finite_float_array"]
