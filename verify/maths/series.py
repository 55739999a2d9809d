"""Truncated power series in the step size h with exact (sympy) coefficients: Taylor-mode arithmetic.

A :class:`Series` a₀ + a₁h + … + a_nhⁿ (+ O(h^{n+1})) behaves like a number:
``+ - * / **``, the elementary functions of :mod:`theorycheck.maths.scalar`
and comparisons, so an optimiser's ``step`` written in plain Python runs on it
unchanged. Running a step on series whose order-0 parts are the symbols θ and
the unknown state gives the coefficients of the step's expansion in h exactly,
order by order, without ever building an expression in h: this is what
:mod:`theorycheck.maths.slow_manifold` solves for the slow manifold.

Products are Cauchy products truncated at n; 1/b, b^p (any exponent p) and
f(b) for an elementary f use the standard recurrences of Taylor-mode
differentiation (Griewank & Walther, *Evaluating Derivatives*, 2nd ed., ch. 13;
section not checked against the book): with b = b₀ + δ, δ = O(h),

    b^p:  c₀ = b₀^p,  c_k = (1/(k b₀)) Σ_{j=1}^{k} (p·j − k + j) b_j c_{k−j},
    f(b) = Σ_{m≤n} f^{(m)}(b₀) δ^m / m!.

Comparisons, ``abs`` and the non-smooth helpers are decided by the sign of the
order-0 part *at the point of the derivation* (:func:`deciding`): near a point
where the compared value is not zero the branch is fixed for small h, so the
expansion holds in a neighbourhood; where it is zero there is no expansion
(:class:`NotSmoothError`). Converting a series to a float (``math.sqrt``,
``float()``, numpy) is :class:`NotSymbolicError`: it would lose exactness.
"""

from __future__ import annotations

import contextvars
import math
from contextlib import contextmanager
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Iterator, Sequence

import mpmath
import sympy as sp
from sympy.core.sympify import CantSympify

from theorycheck.core.errors import InputError
from theorycheck.maths.scalar import FUNCTIONS

_DECIDER: contextvars.ContextVar[Callable[[sp.Expr, bool], int] | None] = contextvars.ContextVar(
    "theorycheck_series_decider", default=None)


class NotSmoothError(InputError):
    """The step is not smooth where it is expanded (a comparison, sign, clipping or root at a kink)."""


class NotSymbolicError(InputError):
    """The step does something that cannot be evaluated exactly (a float conversion, an mpmath number)."""


@contextmanager
def deciding(sign_of: Callable[[sp.Expr, bool], int] | None) -> Iterator[None]:
    """Decide comparisons of series by ``sign_of(order-0 part, guard)`` (−1, 0 or 1 at the point) within the block.

    ``guard`` is True for the check that a root, quotient or logarithm does not meet 0, which may answer 2
    (undecided) instead of finding the state it needs.
    """
    token = _DECIDER.set(sign_of)
    try:
        yield
    finally:
        _DECIDER.reset(token)


def coefficient(x: Any) -> sp.Expr:
    """A constant of a step (int, Fraction, float as its exact binary value, sympy) as a sympy number."""
    if isinstance(x, sp.Basic):
        return x
    if isinstance(x, bool):
        raise NotSymbolicError(f"a boolean ({x!r}) is used as a number")
    if isinstance(x, int):
        return sp.Integer(x)
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise NotSymbolicError(f"the non-finite float {x!r} enters the step")
        return sp.Rational(x)
    if isinstance(x, (mpmath.mpf, mpmath.mpc)):
        raise NotSymbolicError("an mpmath number enters the step (an mpmath function called directly?); use the "
                               "functions of theorycheck.optimizers (sqrt, exp, ...), which follow the evaluation")
    raise NotSymbolicError(f"a {type(x).__name__} enters the step where a number is expected")


def _is_zero(e: sp.Expr) -> bool:
    return e is sp.S.Zero or e == 0


class Series(CantSympify):
    """a₀ + a₁h + … + a_nhⁿ with sympy coefficients; ``order`` n is where it is truncated.

    Parameters
    ----------
    coefficients : sequence of sympy.Expr, shape (n + 1,)
        a₀ … a_n.
    """

    __slots__ = ("c",)
    # CantSympify: a sympy number meeting a series (``beta * v``) returns NotImplemented, so Python asks the series
    __array_priority__ = 1000  # numpy must not take a series apart element-wise

    def __init__(self, coefficients: Sequence[Any]) -> None:
        self.c: tuple[sp.Expr, ...] = tuple(coefficient(x) for x in coefficients)

    # --- construction ----------------------------------------------------------------------------
    @classmethod
    def constant(cls, value: Any, order: int) -> "Series":
        """value + 0·h + … (truncated at ``order``)."""
        return cls([coefficient(value)] + [sp.S.Zero] * order)

    @classmethod
    def variable(cls, order: int) -> "Series":
        """h itself."""
        return cls([sp.S.Zero, sp.S.One] + [sp.S.Zero] * (order - 1)) if order >= 1 else cls([sp.S.Zero])

    @property
    def order(self) -> int:
        return len(self.c) - 1

    def _lift(self, other: Any) -> "Series":
        if isinstance(other, Series):
            if other.order != self.order:
                n = min(self.order, other.order)
                return Series(other.c[: n + 1])
            return other
        return Series.constant(other, self.order)

    def _trunc(self, other: "Series") -> tuple[tuple[sp.Expr, ...], tuple[sp.Expr, ...]]:
        n = min(self.order, other.order)
        return self.c[: n + 1], other.c[: n + 1]

    # --- arithmetic --------------------------------------------------------------------------------
    def __add__(self, other: Any) -> "Series":
        a, b = self._trunc(self._lift(other))
        return Series([x + y for x, y in zip(a, b)])

    __radd__ = __add__

    def __neg__(self) -> "Series":
        return Series([-x for x in self.c])

    def __pos__(self) -> "Series":
        return self

    def __sub__(self, other: Any) -> "Series":
        return self + (-self._lift(other))

    def __rsub__(self, other: Any) -> "Series":
        return self._lift(other) + (-self)

    def __mul__(self, other: Any) -> "Series":
        if not isinstance(other, Series):
            k = coefficient(other)
            return Series([k * x for x in self.c])
        a, b = self._trunc(other)
        out = []
        for k in range(len(a)):
            out.append(sp.Add(*[a[i] * b[k - i] for i in range(k + 1) if not (_is_zero(a[i]) or _is_zero(b[k - i]))]))
        return Series(out)

    __rmul__ = __mul__

    def reciprocal(self) -> "Series":
        """1/b: c₀ = 1/b₀, c_k = −(1/b₀) Σ_{j=1}^{k} b_j c_{k−j}."""
        b = self.c
        self._nonzero_at_point(b[0], "divides by a value that is 0")
        c = [1 / b[0]]
        for k in range(1, len(b)):
            c.append(-sp.Add(*[b[j] * c[k - j] for j in range(1, k + 1) if not _is_zero(b[j])]) / b[0])
        return Series(c)

    def __truediv__(self, other: Any) -> "Series":
        if not isinstance(other, Series):
            return Series([x / coefficient(other) for x in self.c])
        return self * other.reciprocal()

    def __rtruediv__(self, other: Any) -> "Series":
        return self._lift(other) * self.reciprocal()

    def __pow__(self, p: Any) -> "Series":
        if isinstance(p, Series):
            if all(_is_zero(x) for x in p.c[1:]):
                p = p.c[0]
            else:
                return (p * self.apply_function("log")).apply_function("exp")
        pe = coefficient(p)
        if pe.is_Integer and 0 <= int(pe) <= 16:
            n, out, base = int(pe), Series.constant(1, self.order), self
            while n:  # exact and compact for the small powers steps use (g**2)
                if n & 1:
                    out = out * base
                n >>= 1
                if n:
                    base = base * base
            return out
        b = self.c
        self._nonzero_at_point(b[0], f"raises to the power {pe} a value that is 0")
        c = [b[0] ** pe]
        for k in range(1, len(b)):
            c.append(sp.Add(*[(pe * j - k + j) * b[j] * c[k - j] for j in range(1, k + 1) if not _is_zero(b[j])])
                     / (k * b[0]))
        return Series(c)

    def __rpow__(self, base: Any) -> "Series":
        return (self * sp.log(coefficient(base))).apply_function("exp")

    def apply_function(self, name: str) -> "Series":
        """f(b) for an elementary function f (:data:`theorycheck.maths.scalar.FUNCTIONS`)."""
        if name == "sqrt":
            return self ** sp.Rational(1, 2)
        if name not in FUNCTIONS:
            raise NotSymbolicError(f"the function {name!r} has no expansion")
        b0 = self.c[0]
        if name in ("log", "log1p"):
            self._nonzero_at_point(b0 + (1 if name == "log1p" else 0), f"takes {name} of a value that is 0")
        derivs = _derivatives(name, self.order)
        x = _VARIABLE
        out = Series.constant(derivs[0].xreplace({x: b0}), self.order)
        delta = Series([sp.S.Zero, *self.c[1:]])
        power = Series.constant(1, self.order)
        for m in range(1, self.order + 1):
            power = power * delta
            out = out + power * (derivs[m].xreplace({x: b0}) / math.factorial(m))
        return out

    # --- decisions at the point ----------------------------------------------------------------------
    @staticmethod
    def _sign(e: sp.Expr, what: str) -> int:
        if e.is_number:
            v = sp.N(e, 30)
            if v.is_real:
                return 0 if v == 0 else (1 if v > 0 else -1)
        decide = _DECIDER.get()
        if decide is None:
            raise NotSmoothError(f"the step {what}: it is not smooth everywhere, so its expansion needs a point "
                                 "(give the point of the study) where the branch is decided")
        s = decide(e, False)
        if s == 0:
            raise NotSmoothError(f"the step {what} at a value that is 0 at the point: a kink of the step, where no "
                                 "modified equation exists")
        return s

    def _nonzero_at_point(self, e: sp.Expr, what: str) -> None:
        """Refuse a root, quotient or logarithm of a value that vanishes at the point (a guard, not a branch: a value
        that depends on the unknown state is left to the solve)."""
        if _is_zero(e):
            raise NotSmoothError(f"the step {what} at h = 0 (not smooth there)")
        decide = _DECIDER.get()
        if decide is not None and not e.is_number and decide(e, True) == 0:
            raise NotSmoothError(f"the step {what} at the point: not smooth there, so no modified equation exists")

    def _compare(self, other: Any) -> int:
        d = self - self._lift(other)
        return self._sign(d.c[0], "compares values (a comparison, max, min, clip or sign)")

    def __lt__(self, other: Any) -> bool:
        return self._compare(other) < 0

    def __le__(self, other: Any) -> bool:
        return self._compare(other) < 0

    def __gt__(self, other: Any) -> bool:
        return self._compare(other) > 0

    def __ge__(self, other: Any) -> bool:
        return self._compare(other) > 0

    def __abs__(self) -> "Series":
        return self if self._sign(self.c[0], "takes an absolute value") > 0 else -self

    def __eq__(self, other: object) -> bool:  # type: ignore[override]
        raise NotSmoothError("the step tests values for equality, which no smooth step does")

    __ne__ = __eq__  # type: ignore[assignment]
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise NotSmoothError("the step uses a value as a condition (if x: ...), which no smooth step does")

    def _float(self, *_: Any) -> Any:
        raise NotSymbolicError("the step converts a value to a Python float (math.*, float(), int(), numpy): it "
                               "would lose the precision of the evaluation; use the functions of "
                               "theorycheck.optimizers (sqrt, exp, log, ...)")

    __float__ = __int__ = __index__ = __complex__ = __round__ = __trunc__ = __floor__ = __ceil__ = _float

    def __repr__(self) -> str:
        return "Series(" + " + ".join(f"({c})*h^{k}" for k, c in enumerate(self.c)) + ")"


_VARIABLE = sp.Dummy("x")


@lru_cache(maxsize=None)
def _derivatives(name: str, order: int) -> tuple[sp.Expr, ...]:
    from theorycheck.maths.scalar import apply

    f = apply(name, _VARIABLE)
    out = [f]
    for _ in range(order):
        out.append(sp.diff(out[-1], _VARIABLE))
    return tuple(out)


def lift(x: Any, order: int) -> Series:
    """``x`` as a series of ``order`` (a number or expression becomes a constant series)."""
    if isinstance(x, Series):
        return x if x.order == order else Series((x.c + (sp.S.Zero,) * order)[: order + 1])
    return Series.constant(x, order)


__all__ = ["NotSmoothError", "NotSymbolicError", "Series", "coefficient", "deciding", "lift"]
