"""Vector fields θ̇ = F(θ; h), defined symbolically once and compiled per backend.

A :class:`Field` holds sympy components in named variables and may depend on
the step size ``h`` (modified fields do). It compiles to

* numpy (float64) via :func:`sympy.lambdify`,
* mpmath (any precision) via :func:`sympy.lambdify` with ``modules="mpmath"``,
* heyoka expressions, with ``h`` as runtime parameter ``par[0]`` and every
  rational constant converted at the working precision.

heyoka's own ``from_sympy`` rejects rationals whose denominator is not a power
of two (1/3, 1/12 ...), which are exactly the constants of modified equations,
so :func:`to_heyoka` does the conversion itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

H = sp.Symbol("h", positive=True)  # the step size symbol shared by every module


@dataclass(frozen=True, eq=False)
class Field:
    """A vector field ``F(θ; h)`` with sympy components.

    Parameters
    ----------
    variables : tuple of sympy.Symbol, shape (d,)
    components : tuple of sympy.Expr, shape (d,)
        ``θ̇_i = components[i]``; may contain the step symbol :data:`H`.
    name : str
        Human-readable label used in evidence ("igr", "modified:3", ...).
    """

    variables: tuple[sp.Symbol, ...]
    components: tuple[sp.Expr, ...]
    name: str = "field"
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if len(self.variables) != len(self.components):
            raise ValueError("a field needs one component per variable")

    @property
    def dim(self) -> int:
        return len(self.variables)

    def jacobian(self) -> sp.Matrix:
        """∂F_i/∂θ_j as a sympy matrix."""
        return sp.Matrix(self.components).jacobian(sp.Matrix(self.variables))

    # --- compiled forms -------------------------------------------------
    @cached_property
    def _np(self) -> Callable[..., Any]:
        return sp.lambdify((self.variables, H), list(self.components), modules="numpy", cse=True)

    @cached_property
    def _mp(self) -> Callable[..., Any]:
        return sp.lambdify((self.variables, H), list(self.components), modules="mpmath", cse=True)

    def numpy(self, theta: Sequence[float], h: float = 0.0) -> np.ndarray:
        """F(θ; h) in float64, shape (d,)."""
        return np.asarray(self._np(tuple(theta), h), dtype=float).reshape(self.dim)

    def mpmath(self, theta: Sequence[Any], h: Any = 0) -> list[Any]:
        """F(θ; h) as mpmath numbers at the current ``mp.prec``."""
        return [sp.N(v) if isinstance(v, sp.Basic) else v for v in self._mp(tuple(theta), h)]

    def heyoka(self, prec: int | None) -> list[Any]:
        """heyoka expressions of the components, ``h`` as ``par[0]``.

        ``prec`` is the bit precision of constants (``None``: double).
        """
        import heyoka as hy

        names = [str(v) for v in self.variables]
        hvars = hy.make_vars(*names) if len(names) > 1 else [hy.make_vars(*names)]
        table: dict[sp.Basic, Any] = {v: hv for v, hv in zip(self.variables, hvars)}
        table[H] = hy.par[0]
        return [to_heyoka(sp.sympify(c), table, prec) for c in self.components]


def expressions_equal(a: Sequence[sp.Expr], b: Sequence[sp.Expr]) -> bool:
    """Exact equality of two lists of sympy expressions (the components of two fields).

    ``expand`` decides most cases; what it leaves is first evaluated at three
    rational points with 50 digits (a nonzero value proves inequality, and
    ``simplify`` on a true mismatch of tanh expressions can take minutes), and
    only a numerically-zero difference goes to ``simplify``.
    """
    for x, y in zip(a, b):
        d = sp.expand(x - y)
        if d == 0:
            continue
        syms = sorted(d.free_symbols, key=str)
        for pt in ((sp.Rational(3, 7), sp.Rational(-2, 5), sp.Rational(1, 3)),
                   (sp.Rational(5, 4), sp.Rational(1, 9), sp.Rational(2, 3)),
                   (sp.Rational(-1, 6), sp.Rational(7, 8), sp.Rational(1, 5))):
            val = d.subs({s: pt[i % 3] for i, s in enumerate(syms)}).evalf(50)
            if abs(val) > sp.Float("1e-30"):
                return False
        if sp.simplify(d) != 0:
            return False
    return True


def _hy_number(x: sp.Expr, prec: int | None) -> Any:
    import heyoka as hy

    if prec is None:
        return hy.expression(float(x))
    if isinstance(x, sp.Integer):
        return hy.expression(hy.real(int(x), prec))
    if isinstance(x, sp.Rational):
        # the division is folded by heyoka in `prec`-bit arithmetic
        return hy.expression(hy.real(int(x.p), prec)) / hy.expression(hy.real(int(x.q), prec))
    digits = int(prec * 0.30103) + 5
    return hy.expression(hy.real(str(sp.N(x, digits)), prec))


def to_heyoka(expr: sp.Expr, table: dict[sp.Basic, Any], prec: int | None) -> Any:
    """Convert a sympy expression to a heyoka expression, constants at ``prec`` bits."""
    import heyoka as hy

    memo: dict[sp.Basic, Any] = {}

    def conv(e: sp.Basic) -> Any:
        if e in memo:
            return memo[e]
        if e in table:
            r = table[e]
        elif e.is_Number or e.is_NumberSymbol:
            r = _hy_number(e, prec)
        elif isinstance(e, sp.Add):
            r = hy.sum([conv(a) for a in e.args])
        elif isinstance(e, sp.Mul):
            r = conv(e.args[0])
            for a in e.args[1:]:
                r = r * conv(a)
        elif isinstance(e, sp.Pow):
            base, ex = e.args
            if ex.is_Integer:
                n = int(ex)
                b = conv(base)
                r = b ** hy.expression(float(n)) if n != -1 else 1.0 / b
            elif ex == sp.Rational(1, 2):
                r = hy.sqrt(conv(base))
            else:
                r = conv(base) ** conv(ex)
        elif isinstance(e, sp.exp):
            r = hy.exp(conv(e.args[0]))
        elif isinstance(e, sp.log):
            r = hy.log(conv(e.args[0]))
        else:
            fn = _HY_FUNCS.get(type(e).__name__)
            if fn is None:
                raise ValueError(f"heyoka backend cannot represent {type(e).__name__}")
            r = getattr(hy, fn)(conv(e.args[0]))
        memo[e] = r
        return r

    return conv(expr)


_HY_FUNCS = {
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "tanh": "tanh",
    "sinh": "sinh",
    "cosh": "cosh",
    "atan": "atan",
    "asin": "asin",
    "acos": "acos",
    "erf": "erf",
    "sigmoid": "sigmoid",
}


__all__ = ["Field", "H", "expressions_equal", "to_heyoka"]
