"""Analytic losses, defined once as sympy expressions, with exact derivatives.

A :class:`Loss` is an expression in named variables. Its gradient g = ∇L,
Hessian H = ∇²L and third-derivative contraction T(u, v)_k = Σ_ij ∂³L/∂θ_i∂θ_j∂θ_k u_i v_j
are exact (symbolic); :meth:`Loss.gradient_flow` is the field θ̇ = −g that the
rest of the pipeline (modified fields, integrators, order fits) starts from.

The zoo (:data:`ZOO`) holds the built-in losses; :func:`parse_loss` accepts any
user expression such as ``"a**2*b + cos(a) - b/3"``.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any, Iterator, Mapping, Sequence

import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.fields import Field
from theorycheck.maths.numbers import as_fraction

#: Largest decimal exponent of a number literal in a loss (``1e400``): sympy makes literals exact rationals.
MAX_LITERAL_EXPONENT = 400
#: Names that read as non-finite numbers: refused as variables of a loss.
_NON_FINITE_NAMES = frozenset({"nan", "inf", "infinity", "oo", "zoo"})
_ALLOWED_FUNCS = {
    name: getattr(sp, name)
    for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "atan", "erf", "pi", "E")
}


@dataclass(frozen=True, eq=False)
class Loss:
    """A scalar loss L(θ) over ordered named variables.

    Parameters
    ----------
    name : str
    expr : sympy.Expr
    variables : tuple of sympy.Symbol, shape (d,)
    description : str
    """

    name: str
    expr: sp.Expr
    variables: tuple[sp.Symbol, ...]
    description: str = ""
    #: The Python function the loss was built from (:func:`loss_from_function`), None for an expression.
    function: Any = None

    @property
    def dim(self) -> int:
        return len(self.variables)

    @cached_property
    def gradient(self) -> sp.Matrix:
        """g = ∇L, a d×1 sympy matrix."""
        return sp.Matrix([sp.diff(self.expr, v) for v in self.variables])

    @cached_property
    def hessian(self) -> sp.Matrix:
        """H = ∇²L, a d×d sympy matrix."""
        return sp.hessian(self.expr, self.variables)

    def third(self, u: Sequence[sp.Expr], v: Sequence[sp.Expr]) -> sp.Matrix:
        """T(u, v) = Σ_ij ∂³L/∂θ_i∂θ_j∂θ_k u_i v_j, a d×1 matrix (= ∇_θ (uᵀ H v) at fixed u, v)."""
        Hm = self.hessian
        return sp.Matrix(
            [sum(sp.diff(Hm[i, j], vk) * u[i] * v[j] for i in range(self.dim) for j in range(self.dim)) for vk in self.variables]
        )

    @cached_property
    def _derivatives(self) -> dict[tuple[int, ...], sp.Expr]:
        return {(0,) * self.dim: self.expr}

    def derivative(self, alpha: Sequence[int]) -> sp.Expr:
        """∂^α L for a multi-index α (one non-negative order per variable), exact and memoised.

        Built from the memoised derivative one order lower, so the whole jet of
        a loss up to order n costs one ``sympy.diff`` per multi-index.
        """
        alpha = tuple(int(a) for a in alpha)
        if len(alpha) != self.dim or min(alpha) < 0:
            raise ValueError(f"multi-index {alpha} does not fit a loss in {self.dim} variables")
        memo = self._derivatives
        if alpha not in memo:
            i = max(j for j, a in enumerate(alpha) if a > 0)
            lower = alpha[:i] + (alpha[i] - 1,) + alpha[i + 1:]
            memo[alpha] = sp.diff(self.derivative(lower), self.variables[i])
        return memo[alpha]

    @cached_property
    def polynomial_degree(self) -> int | None:
        """Total degree if L is a polynomial in its variables, else ``None`` (derivatives above it vanish)."""
        if not self.expr.is_polynomial(*self.variables):
            return None
        return int(sp.Poly(self.expr, *self.variables).total_degree())

    @cached_property
    def _gradient_mp(self):
        # lambdify prints rationals as mpf(p)/mpf(q), evaluated at call time,
        # so constants follow the caller's working precision
        return sp.lambdify(self.variables, list(self.gradient), modules="mpmath", cse=True)

    def gradient_mpmath(self, theta: Sequence[object]) -> list[object]:
        """∇L(θ) as mpmath numbers at the current precision (θ: mpmath numbers, in variable order).

        A constant component (``a**2 + b`` has ∂/∂b = 1) comes back from sympy as an exact number and is
        converted too; a complex value (log of a negative number) is left for the caller to reject.
        """
        import mpmath

        out = []
        for v in self._gradient_mp(*theta):
            if isinstance(v, sp.Basic):
                v = mpmath.mpf(sp.N(v, mpmath.mp.dps + 5))
            elif not isinstance(v, (mpmath.mpf, mpmath.mpc)):
                v = mpmath.mpf(v)
            out.append(v)
        return out

    @cached_property
    def _hessian_float(self):
        return sp.lambdify(self.variables, self.hessian, modules="numpy")

    def curvature(self, point: Sequence[float]) -> float:
        """λ_max of |∇²L(θ)| (the largest absolute Hessian eigenvalue) at ``point``, in float64."""
        import numpy as np

        Hm = np.asarray(self._hessian_float(*[float(x) for x in point]), dtype=float).reshape(self.dim, self.dim)
        return float(np.max(np.abs(np.linalg.eigvalsh((Hm + Hm.T) / 2))))

    def gradient_flow(self) -> Field:
        """θ̇ = −∇L."""
        return Field(self.variables, tuple(-c for c in self.gradient), name="flow")

    def point(self, values: Mapping[str, float | Fraction] | Sequence[float | Fraction]) -> tuple[float | Fraction, ...]:
        """Validate a point given by name (``{"a": 0.7}``) or position; return it in variable order."""
        names = [str(v) for v in self.variables]
        if isinstance(values, Mapping):
            unknown = sorted(set(values) - set(names))
            if unknown:
                raise InputError(f"unknown variable(s) {', '.join(unknown)}; the loss has {', '.join(names)}.")
            missing = [n for n in names if n not in values]
            if missing:
                raise InputError(f"no value given for variable(s) {', '.join(missing)}.")
            seq = [values[n] for n in names]
        else:
            seq = list(values)
            if len(seq) != self.dim:
                raise InputError(f"point has {len(seq)} coordinates, the loss has {self.dim} variables ({', '.join(names)}).")
        out = []
        for n, x in zip(names, seq):
            try:
                fx = float(x)
            except (TypeError, ValueError):
                raise InputError(f"value of `{n}` is not a number: {x!r}.") from None
            if not math.isfinite(fx):
                raise InputError(f"value of `{n}` must be finite, got {x!r}.")
            out.append(x)
        return tuple(out)


#: Longest loss expression accepted (characters); longer ones are refused before parsing.
MAX_EXPRESSION_CHARS = 4000
#: Largest magnitude of a constant exponent: a**(10**10**10) would build a number with 10**10 digits.
MAX_EXPONENT = 1000


def _constant(node: Any) -> float | None:
    """The float value of a constant arithmetic subtree (None if it has names or calls); OverflowError if huge."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _constant(node.operand)
        return None if v is None else (-v if isinstance(node.op, ast.USub) else v)
    if isinstance(node, ast.BinOp):
        a, b = _constant(node.left), _constant(node.right)
        if a is None or b is None:
            return None
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b,
               ast.Div: lambda: a / b if b else math.inf, ast.Pow: lambda: math.pow(a, b) if abs(b) <= 1e4 else math.inf}
        fn = ops.get(type(node.op))
        if fn is None:
            return None
        try:
            return fn()
        except (OverflowError, ValueError, ZeroDivisionError):
            return math.inf
    return None


def check_size(text: str) -> None:
    """Refuse, before sympy sees it, an expression too long or with a constant exponent too large to expand."""
    import ast

    if len(text) > MAX_EXPRESSION_CHARS:
        raise InputError(f"the loss expression has {len(text)} characters; at most {MAX_EXPRESSION_CHARS} are "
                         f"accepted (a longer one takes too long to differentiate).")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):  # sympy would join "a\nb" into one symbol `ab`
        raise InputError("the loss expression holds a line break or another control character; write it on one line.")
    for m in re.finditer(r"(?<=[0-9.])[eE][+-]?([0-9]+)", text):
        if int(m.group(1)) > MAX_LITERAL_EXPONENT:  # 1e999999999 would become an exact integer of a billion digits
            raise InputError(f"the loss expression has the number literal exponent {m.group(0)[:20]}; exponents up "
                             f"to {MAX_LITERAL_EXPONENT} are accepted.")
    try:
        tree = ast.parse(text.replace("^", "**").strip(), mode="eval")
    except SyntaxError:
        return  # sympy gives the parse error
    except (RecursionError, MemoryError, ValueError):
        raise InputError("the loss expression is nested too deeply to parse.") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            e = _constant(node.right)
            if e is not None and not abs(e) <= MAX_EXPONENT:
                raise InputError(f"the loss expression has the exponent {ast.unparse(node.right)[:40]}, larger than "
                                 f"{MAX_EXPONENT} in magnitude; it cannot be expanded exactly.")


def parse_loss(text: str, variables: Sequence[str] | None = None, name: str | None = None) -> Loss:
    """Parse a user expression into a :class:`Loss`.

    Variables are the free symbols of the expression, sorted by name unless
    ``variables`` fixes the order. Only arithmetic and the functions in
    ``_ALLOWED_FUNCS`` are accepted; anything else is an :class:`InputError`.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("the loss expression is empty.")
    if re.search(r"__|\blambda\b|\bimport\b|;", text):
        raise InputError(f"cannot parse loss expression {text!r}: only arithmetic and elementary functions are allowed.")
    check_size(text)
    names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", text)) - set(_ALLOWED_FUNCS)
    spelt = sorted(n for n in names if n.lower() in _NON_FINITE_NAMES)
    if spelt:  # `nan` or `inf` as a variable is a number the shell or a script printed, not a parameter
        raise InputError(f"loss expression {text!r} is not a finite scalar expression: {spelt[0]!r} reads as a "
                         f"non-finite number (name the variables otherwise).")
    # every identifier that is not an allowed function becomes a symbol, so an
    # unknown function call `foo(a)` fails as "Symbol is not callable"
    local = {n: sp.Symbol(n, real=True) for n in names}
    local.update(_ALLOWED_FUNCS)
    try:
        expr = sp.sympify(text.replace("^", "**"), locals=local, rational=True)
    except (sp.SympifyError, SyntaxError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"cannot parse loss expression {text!r}: {exc.__class__.__name__}.") from None
    if not isinstance(expr, sp.Expr) or expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise InputError(f"loss expression {text!r} is not a finite scalar expression.")
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    if variables is not None:
        by_name = {s.name: s for s in free}
        extra = sorted(set(by_name) - set(variables))
        if extra:
            raise InputError(f"loss uses variable(s) {', '.join(extra)} not among {', '.join(variables)}.")
        order = tuple(by_name.get(v, sp.Symbol(v, real=True)) for v in variables)
    else:
        order = tuple(free)
    if not order:
        raise InputError(f"loss expression {text!r} has no variables.")
    return Loss(name or text, expr, order, description=f"user loss {text}")


def _loss(name: str, text: str, description: str, variables: Sequence[str]) -> Loss:
    loss = parse_loss(text, variables=variables, name=name)
    return Loss(loss.name, loss.expr, loss.variables, description)


class _Zoo(Mapping[str, Loss]):
    """The zoo as a read-only mapping name → :class:`Loss`, each loss parsed when first looked up.

    Parsing all of them at import took a tenth of a second that a process measuring one loss
    (``theorycheck order --loss trig``) does not need; a looked-up loss is kept, so every lookup
    of a name returns the same object.
    """

    def __init__(self, definitions: dict[str, tuple[str, str, tuple[str, ...]]]) -> None:
        self._definitions = definitions
        self._parsed: dict[str, Loss] = {}
        self._lock = threading.Lock()  # two threads looking up one name get one object

    def __getitem__(self, name: str) -> Loss:
        loss = self._parsed.get(name)
        if loss is None:
            text, description, variables = self._definitions[name]  # KeyError for an unknown name, as a dict
            with self._lock:
                loss = self._parsed.get(name)
                if loss is None:
                    loss = self._parsed[name] = _loss(name, text, description, variables)
        return loss

    def __iter__(self) -> Iterator[str]:
        return iter(self._definitions)

    def __len__(self) -> int:
        return len(self._definitions)

    def __repr__(self) -> str:
        return f"ZOO({', '.join(self._definitions)})"


# The zoo: small analytic losses with different structure (polynomial,
# exponential, trigonometric, compositional). Coefficients are rational so
# that every backend sees the same exact function.
ZOO: Mapping[str, Loss] = _Zoo({
    "quadratic": ("(3*a**2 + 2*a*b + b**2)/2", "convex quadratic ½θᵀAθ, A = [[3,1],[1,1]]", ("a", "b")),
    "rosenbrock": ("(1 - a)**2 + 5*(b - a**2)**2", "Rosenbrock with curvature 5", ("a", "b")),
    "logistic": ("log(1 + exp(-(a + 2*b))) + log(1 + exp(a - b)) + (a**2 + b**2)/10",
                 "two-sample logistic regression with L2 (samples (1, 2), (−1, 1): not orthogonal, so not separable)",
                 ("a", "b")),
    "trig": ("sin(a)*cos(b) + (a**2 + b**2)/4", "trigonometric landscape with a quadratic wall", ("a", "b")),
    "tiny_net": ("((b*tanh(a*1) - 1)**2 + (b*tanh(a*(-1)/2) + 1/2)**2)/4",
                 "two-parameter net f(x) = b·tanh(a·x) on (1, 1), (−½, −½), square loss", ("a", "b")),
})

# A default point per zoo loss: away from minima (so ‖g‖ is not tiny) and
# where the GD step sizes of the ladders (h ≤ 1/8) are stable.
ZOO_POINTS: dict[str, dict[str, float]] = {
    "quadratic": {"a": 0.7, "b": -0.4},
    "rosenbrock": {"a": 0.3, "b": 0.2},
    "logistic": {"a": 0.7, "b": -0.4},
    "trig": {"a": 0.7, "b": -0.4},
    "tiny_net": {"a": 0.7, "b": 0.5},
}


def exact_point(loss: Loss, values: Mapping[str, float] | Sequence[float]) -> tuple[Fraction, ...]:
    """A point of ``loss`` as exact rationals (0.7 → 7/10), validated by :meth:`Loss.point`."""
    return tuple(as_fraction(v, str(name)) for name, v in zip(loss.variables, loss.point(values)))


def get_loss(name_or_expr: str) -> Loss:
    """A zoo loss by name, or a user expression parsed with :func:`parse_loss`."""
    if name_or_expr in ZOO:
        return ZOO[name_or_expr]
    return parse_loss(name_or_expr)


def _user_line(exc: BaseException, fn: Any) -> str:
    """`` (file.py, line N)`` of the innermost frame of ``fn``'s file in the traceback of ``exc``."""
    import inspect
    import traceback
    from pathlib import Path

    try:
        src = Path(inspect.getsourcefile(fn) or "").resolve()
    except TypeError:
        return ""
    for fr in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(fr.filename).resolve() == src:
            return f" ({src.name}, line {fr.lineno})"
    return ""


def loss_from_function(fn: Any, name: str | None = None) -> Loss:
    """A :class:`Loss` from a Python function of named variables, ``def loss(a, b): return ...``.

    The function is evaluated once on sympy symbols named after its parameters (in their order), so it may use
    plain arithmetic and the functions of :mod:`theorycheck.maths.scalar` (``exp``, ``log``, ``sin``, ...), which
    follow the evaluation; the expression it returns is the loss, exact, as a zoo loss or a parsed expression.
    :func:`check_function_at` evaluates the function itself with mpmath at a point.

    Raises
    ------
    InputError
        The function takes no named variables, raises (its file and line named), or returns something other than
        a finite real scalar expression of its variables.
    """
    import inspect

    from theorycheck.maths.scalar import evaluating

    label = str(name or getattr(fn, "__name__", "loss"))
    if not callable(fn):
        raise InputError(f"loss {label}: not a function of named variables (got {type(fn).__name__}).")
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        raise InputError(f"loss {label}: its signature cannot be read; write it as def loss(a, b): ...") from None
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.KEYWORD_ONLY) for p in params) or not params:
        raise InputError(f"loss {label}: write it as a function of named variables, def loss(a, b): ... (one "
                         "parameter per variable).")
    symbols = tuple(sp.Symbol(p.name, real=True) for p in params)
    try:
        with evaluating("sympy"):
            value = fn(*symbols)
    except Exception as exc:  # noqa: BLE001 - the user's code: one line
        hint = ""
        if isinstance(exc, TypeError):
            hint = ("; evaluate it with plain arithmetic and theorycheck.optimizers' functions (exp, log, sin, ...), "
                    "not math or numpy, and without branching on the variables")
        raise InputError(f"loss {label}: calling it on symbols raised {type(exc).__name__}: {exc}"
                         f"{_user_line(exc, fn)}{hint}.") from None
    if isinstance(value, (list, tuple, dict, set)) or getattr(value, "shape", None) not in (None, ()):
        raise InputError(f"loss {label}: returns a {type(value).__name__}, not a scalar; return one number.")
    try:
        expr = sp.sympify(value)
    except (sp.SympifyError, TypeError):
        raise InputError(f"loss {label}: returns a {type(value).__name__}, not a scalar expression.") from None
    if not isinstance(expr, sp.Expr) or expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise InputError(f"loss {label}: returns a non-finite or non-scalar value ({str(expr)[:60]}).")
    extra = sorted(str(x) for x in expr.free_symbols - set(symbols))
    if extra:
        raise InputError(f"loss {label}: its value depends on {', '.join(extra)}, which are not its parameters.")
    return Loss(label, expr, symbols, description=f"Python function {label}", function=fn)


def check_function_at(loss: Loss, point: Sequence[Any], dps: int = 30) -> None:
    """Evaluate a loss built by :func:`loss_from_function` with mpmath at ``point`` and compare with its expression.

    Raises InputError when the function raises there, returns a non-finite or non-real value, or a value other
    than its expression's (a function that branches on its arguments is not one expression).
    """
    import mpmath

    from theorycheck.maths.numbers import as_mpf, as_rational
    from theorycheck.maths.scalar import evaluating

    fn = loss.function
    if fn is None:
        return
    with mpmath.workdps(dps):
        x = [as_mpf(v, str(n)) for n, v in zip(loss.variables, point)]
        at = ", ".join(f"{n}={v}" for n, v in zip(loss.variables, point))
        try:
            with evaluating("mpmath"):
                value = fn(*x)
        except Exception as exc:  # noqa: BLE001
            raise InputError(f"loss {loss.name}: raised {type(exc).__name__} at {at}: {exc}{_user_line(exc, fn)}; "
                             "choose another `--at` inside its domain.") from None
        try:
            v = mpmath.mpmathify(value)
        except (TypeError, ValueError):
            raise InputError(f"loss {loss.name}: returns a {type(value).__name__} at {at}, not a number.") from None
        if not (isinstance(v, mpmath.mpf) and mpmath.isfinite(v)):
            raise InputError(f"loss {loss.name}: its value at {at} is not a finite real number ({mpmath.nstr(v, 8)}); "
                             "choose another `--at` inside its domain.")
        ref = mpmath.mpf(sp.N(loss.expr.xreplace({s: as_rational(p, str(s)) for s, p in zip(loss.variables, point)}),
                              dps + 5))
        if abs(v - ref) > mpmath.mpf(10) ** (5 - dps) * max(1, abs(ref)):
            raise InputError(f"loss {loss.name}: on mpmath numbers it gives {mpmath.nstr(v, 12)} at {at}, on symbols "
                             f"{mpmath.nstr(ref, 12)}: it must compute one expression (no branching on the values, no "
                             "math or numpy functions).")


def quadratic_loss(A: Sequence[Sequence[sp.Rational]] | sp.Matrix, name: str = "quadratic") -> Loss:
    """L(θ) = ½ θᵀ A θ for a symmetric matrix A (entries kept exact)."""
    A = sp.Matrix(A)
    if A.shape[0] != A.shape[1] or A != A.T:
        raise InputError("a quadratic loss needs a symmetric square matrix.")
    xs = tuple(sp.Symbol(f"x{i}", real=True) for i in range(A.shape[0]))
    v = sp.Matrix(xs)
    return Loss(name, sp.expand((v.T * A * v)[0] / 2), xs, description=f"½θᵀAθ, A={A.tolist()}")


__all__ = ["Loss", "MAX_EXPONENT", "MAX_EXPRESSION_CHARS", "MAX_LITERAL_EXPONENT", "ZOO", "check_function_at",
           "check_size", "ZOO_POINTS", "exact_point", "get_loss", "loss_from_function", "parse_loss", "quadratic_loss"]
