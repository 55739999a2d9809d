"""The operations an optimiser or a loss written in plain Python may use, on every kind of number.

theorycheck evaluates a user's step (``step(theta, state, grad, h)``) and a
user's loss (``loss(a, b)``) several ways from the same code: on floats, on
mpmath numbers at any precision (the iterates an order study measures), on
sympy symbols (a formula), and on truncated power series in h with exact
coefficients (:mod:`theorycheck.maths.series`, from which the slow manifold and
the modified equation are derived). Python's arithmetic ``+ - * / **`` works
on all of them; the functions below are the elementary functions that do too,
each dispatching on the kind of its argument:

    sqrt, exp, log, log1p, expm1, sin, cos, tan, tanh, sinh, cosh, atan, sigmoid.

A plain Python number (an ``int``, a ``Fraction``, a float) given to one of
them is evaluated in the kind of the current evaluation (:func:`number_kind`),
so ``sqrt(2)`` inside a step is the 30-digit √2 in a 30-digit run and the exact
``sqrt(2)`` in a symbolic one. ``math.sqrt`` or ``numpy.sqrt`` would round to
float64 (or fail on a symbol): a step using them is refused with the line.

Non-smooth operations (:func:`sign`, :func:`maximum`, :func:`minimum`,
:func:`clip`, and Python's ``abs``, ``max``, ``min`` and comparisons) work on
numbers; in a derivation they are decided at the point of the study, and a
value that sits exactly on a kink there has no modified equation
(:class:`~theorycheck.core.errors.InputError` from the derivation).
"""

from __future__ import annotations

import contextvars
import math
from contextlib import contextmanager
from fractions import Fraction
from typing import Any, Iterator

import mpmath

#: The kinds of number an optimiser or a loss is evaluated with.
KINDS = ("float", "mpmath", "sympy", "series")
_KIND: contextvars.ContextVar[str] = contextvars.ContextVar("theorycheck_number_kind", default="float")

#: The elementary functions every kind supports.
FUNCTIONS = ("sqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan", "sigmoid")


def number_kind() -> str:
    """The kind of number the current evaluation uses ("float", "mpmath", "sympy" or "series")."""
    return _KIND.get()


@contextmanager
def evaluating(kind: str) -> Iterator[None]:
    """Evaluate the block with plain Python numbers promoted to ``kind`` by the functions of this module."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    token = _KIND.set(kind)
    try:
        yield
    finally:
        _KIND.reset(token)


def _sympy_function(name: str) -> Any:
    import sympy as sp

    special = {"log1p": lambda x: sp.log(1 + x), "expm1": lambda x: sp.exp(x) - 1,
               "sigmoid": lambda x: 1 / (1 + sp.exp(-x))}
    return special.get(name) or getattr(sp, name)


def _mpmath_function(name: str) -> Any:
    special = {"sigmoid": lambda x: 1 / (1 + mpmath.exp(-x))}
    return special.get(name) or getattr(mpmath, name)


def _math_function(name: str) -> Any:
    special = {"sigmoid": lambda x: 1.0 / (1.0 + math.exp(-x))}
    return special.get(name) or getattr(math, name)


def _is_sympy(x: Any) -> bool:
    return type(x).__module__.startswith("sympy")


def exact(x: Any) -> Any:
    """A plain Python number as an exact sympy number (a float as its exact binary value, as mpmath reads it)."""
    import sympy as sp

    if isinstance(x, bool):
        raise TypeError(f"a boolean is not a number: {x!r}")
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    if isinstance(x, float):
        return sp.Rational(x)
    return sp.sympify(x)


def apply(name: str, x: Any) -> Any:
    """The elementary function ``name`` (one of :data:`FUNCTIONS`) at ``x``, in the kind of ``x``."""
    method = getattr(x, "apply_function", None)
    if method is not None:  # a truncated series in h
        return method(name)
    if _is_sympy(x):
        return _sympy_function(name)(x)
    if isinstance(x, (mpmath.mpf, mpmath.mpc)):
        return _mpmath_function(name)(x)
    kind = _KIND.get()
    if kind == "mpmath":
        return _mpmath_function(name)(mpmath.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else x)
    if kind in ("sympy", "series"):
        return _sympy_function(name)(exact(x))
    return _math_function(name)(float(x))


def sqrt(x: Any) -> Any:
    """√x."""
    return apply("sqrt", x)


def exp(x: Any) -> Any:
    """eˣ."""
    return apply("exp", x)


def log(x: Any) -> Any:
    """ln x."""
    return apply("log", x)


def log1p(x: Any) -> Any:
    """ln(1 + x)."""
    return apply("log1p", x)


def expm1(x: Any) -> Any:
    """eˣ − 1."""
    return apply("expm1", x)


def sin(x: Any) -> Any:
    """sin x."""
    return apply("sin", x)


def cos(x: Any) -> Any:
    """cos x."""
    return apply("cos", x)


def tan(x: Any) -> Any:
    """tan x."""
    return apply("tan", x)


def tanh(x: Any) -> Any:
    """tanh x."""
    return apply("tanh", x)


def sinh(x: Any) -> Any:
    """sinh x."""
    return apply("sinh", x)


def cosh(x: Any) -> Any:
    """cosh x."""
    return apply("cosh", x)


def atan(x: Any) -> Any:
    """arctan x."""
    return apply("atan", x)


def sigmoid(x: Any) -> Any:
    """1/(1 + e^{−x})."""
    return apply("sigmoid", x)


def sign(x: Any) -> Any:
    """−1, 0 or 1 (not smooth at 0: a derivation refuses a point where the argument vanishes)."""
    if _is_sympy(x):
        import sympy as sp

        return sp.sign(x)
    return 1 if x > 0 else -1 if x < 0 else 0


def maximum(a: Any, b: Any) -> Any:
    """The larger of a and b (not smooth where they are equal)."""
    return a if a > b else b


def minimum(a: Any, b: Any) -> Any:
    """The smaller of a and b (not smooth where they are equal)."""
    return a if a < b else b


def clip(x: Any, lo: Any, hi: Any) -> Any:
    """x clipped to [lo, hi] (not smooth at the ends)."""
    return minimum(maximum(x, lo), hi)


__all__ = ["FUNCTIONS", "KINDS", "apply", "atan", "clip", "cos", "cosh", "evaluating", "exact", "exp", "expm1", "log", "log1p",
           "maximum", "minimum", "number_kind", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh"]
