"""The optimiser protocol: an update rule written once in plain Python, run on every kind of number.

An optimiser is

* ``step(theta, state, grad, h) -> (theta_next, state_next)``: ``theta`` and
  ``state`` are sequences of scalars, ``grad`` a callable the tool hands in
  (``grad(point)`` is ∇L at any point, as a list), ``h`` the step size;
* optionally ``init_state(theta) -> state`` (no state when absent: ``[]``);
* optionally ``validate(**hyper)``, raising ``ValueError`` with a message to
  refuse hyper-parameters.

Hyper-parameters are the parameters of ``step`` after the first four, with
their defaults (``step(theta, state, grad, h, beta=Fraction(1, 2))``);
``init_state`` receives those it declares. They are held exactly (a decimal
is its decimal value, ``0.9`` is 9/10) and handed to the step in the kind of
number of the evaluation, so one step runs on floats, on mpmath numbers at any
precision, on sympy symbols and on the truncated series in h
(:mod:`theorycheck.maths.series`) from which its slow manifold and modified
equation are derived. Inside the step, plain arithmetic works on all of them,
and the elementary functions are those of :mod:`theorycheck.maths.scalar`
(re-exported by :mod:`theorycheck.optimizers`); ``math`` and ``numpy`` would
round to float64 and are refused with the file and line. This is the
``(init, update)`` pair of optax, made exact.

:func:`as_optimizer` accepts a step function (its module's ``init_state`` and
``validate`` found beside it), a module defining ``step``, or an object with
``step`` and ``init_state`` (or ``init``) methods. Every error raised by the
user's code is one :class:`~theorycheck.core.errors.InputError` naming the
optimiser, its file and the line.
"""

from __future__ import annotations

import inspect
import traceback
import types
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import mpmath

from theorycheck.core.errors import DivergenceError, InputError, TheorycheckError
from theorycheck.maths.scalar import evaluating

#: Coordinates of magnitude above this count as diverged (mpmath's exponent range is unbounded).
DIVERGENCE_BOUND = 1e100


def exact_value(value: Any, name: str) -> Any:
    """A hyper-parameter as an exact number: a Fraction (from an int, Fraction, decimal string or float's repr), or a
    sympy expression kept as is (a symbolic hyper-parameter); anything else is not a number (InputError)."""
    if isinstance(value, bool):
        raise InputError(f"hyper-parameter `{name}` must be a number, got {value!r}.")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, (float, str)):
        try:
            fr = Fraction(repr(value) if isinstance(value, float) else value.strip())
        except (ValueError, ZeroDivisionError):
            raise InputError(f"hyper-parameter `{name}` must be a number, got {value!r}.") from None
        return fr
    if type(value).__module__.startswith("sympy"):
        if getattr(value, "is_Rational", False):
            return Fraction(int(value.p), int(value.q))
        return value
    raise InputError(f"hyper-parameter `{name}` must be a number, got {type(value).__name__} {value!r}.")


def _in_kind(value: Any, kind: str, name: str) -> Any:
    if isinstance(value, Fraction):
        if kind == "float":
            return float(value)
        if kind == "mpmath":
            return mpmath.mpf(value.numerator) / value.denominator
        import sympy as sp

        return sp.Rational(value.numerator, value.denominator)
    if kind in ("float", "mpmath"):  # a symbolic value
        raise InputError(f"hyper-parameter `{name}` is symbolic ({value}); give it a number to run the optimiser.")
    return value


@lru_cache(maxsize=1024)
def _hyper_names(fn: Callable[..., Any], skip: int) -> dict[str, Any]:
    """The parameters of ``fn`` after its first ``skip`` positional ones, with their defaults (cached per function)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return {}
    out, seen = {}, 0
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if seen < skip and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            seen += 1
            continue
        out[p.name] = p.default
    return out


def _positional_count(fn: Callable[..., Any]) -> int | None:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in sig.parameters.values()):
        return None
    return sum(1 for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def _source_file(fn: Any) -> str | None:
    try:
        return inspect.getsourcefile(fn)
    except TypeError:
        return None


@dataclass(frozen=True, eq=False)
class Optimizer:
    """An update rule of the protocol (module docstring), with its hyper-parameters held exactly.

    Parameters
    ----------
    name : str
        How messages and reports name it (``nesterov``, ``my_rule.py:step``).
    step : callable
        ``step(theta, state, grad, h, **hyper) -> (theta_next, state_next)``.
    init_state : callable, optional
        ``init_state(theta, **hyper) -> state``; absent: no state.
    validate : callable, optional
        ``validate(**hyper)`` raising ValueError to refuse hyper-parameters.
    values : dict
        The hyper-parameters (name → exact value), defaults of ``step`` unless replaced.
    source : str, optional
        The file the step is defined in (for messages).
    builtin : bool
        Whether it is one of the optimisers shipped in :mod:`theorycheck.optimizers`.
    """

    name: str
    step: Callable[..., Any]
    init_state: Callable[..., Any] | None = None
    validate: Callable[..., Any] | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    source: str | None = None
    builtin: bool = False

    # --- hyper-parameters ---------------------------------------------------------------------
    @property
    def hyperparameters(self) -> dict[str, Any]:
        """The numeric hyper-parameters (name → exact value)."""
        return {k: v for k, v in self.values.items() if isinstance(v, Fraction) or type(v).__module__.startswith("sympy")}

    def with_hyperparameters(self, **values: Any) -> "Optimizer":
        """The same rule with some hyper-parameters replaced (exactly); unknown names and refused values are InputError."""
        unknown = sorted(set(values) - set(self.hyperparameters))
        if unknown:
            have = ", ".join(sorted(self.hyperparameters)) or "none"
            raise InputError(f"{self.describe()} has no hyper-parameter {', '.join(unknown)} (it has: {have}).")
        new = dict(self.values)
        new.update({k: exact_value(v, k) for k, v in values.items()})
        out = replace(self, values=new)
        out.check()
        return out

    def check(self) -> None:
        """Run ``validate`` on the hyper-parameters (exact Fractions; symbolic ones are not validated)."""
        if self.validate is None:
            return
        hyper = self.hyperparameters
        if any(not isinstance(v, Fraction) for v in hyper.values()):
            return
        names = _hyper_names(self.validate, 0)
        self._call(self.validate, (), {k: v for k, v in hyper.items() if k in names or not names}, "validate", None)

    @property
    def label(self) -> str:
        """``name(beta=1/2, ...)``."""
        hyper = self.hyperparameters
        return self.name + (f"({', '.join(f'{k}={v}' for k, v in hyper.items())})" if hyper else "")

    def describe(self) -> str:
        """``optimizer NAME (FILE)``, for messages."""
        where = ""
        if self.source and not self.builtin:
            where = f" ({self.source})"
        return f"optimizer {self.name}{where}"

    # --- calling the user's code ---------------------------------------------------------------
    def _where(self, exc: BaseException, fn: Callable[..., Any]) -> str:
        src = _source_file(fn)
        frames = traceback.extract_tb(exc.__traceback__)
        chosen = None
        for fr in reversed(frames):
            if src and Path(fr.filename).resolve() == Path(src).resolve():
                chosen = fr
                break
        if chosen is None:
            for fr in reversed(frames):
                if "theorycheck" not in Path(fr.filename).parts[-3:-1] and "verify" not in Path(fr.filename).parts[-3:-1]:
                    chosen = fr
                    break
        return f" ({Path(chosen.filename).name}, line {chosen.lineno})" if chosen is not None else ""

    def _call(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], what: str,
              kind: str | None) -> Any:
        try:
            if kind is None:
                return fn(*args, **kwargs)
            with evaluating(kind):
                return fn(*args, **kwargs)
        except TheorycheckError as exc:
            where = self._where(exc, fn)
            raise InputError(f"{self.describe()}: {what}{where}: {exc}") from None
        except (ZeroDivisionError, OverflowError):
            if kind in ("float", "mpmath"):
                raise  # a numeric run that left the domain: the caller words it as a divergence
            raise InputError(f"{self.describe()}: {what} divides by zero in its expansion (not smooth there).") from None
        except Exception as exc:  # noqa: BLE001 - the user's code: one line, not a traceback
            where = self._where(exc, fn)
            hint = ""
            if kind in ("series", "sympy") and isinstance(exc, (TypeError, AttributeError)):
                hint = ("; the step must run on mpmath numbers and on symbols: use plain arithmetic and the functions "
                        "of theorycheck.optimizers (sqrt, exp, log, ...), not math or numpy")
            if what == "validate" and isinstance(exc, ValueError):
                raise InputError(f"{self.describe()}: {exc}") from None
            raise InputError(f"{self.describe()}: {what} raised {type(exc).__name__}: {exc}{where}{hint}.") from None

    def _hyper_for(self, fn: Callable[..., Any], skip: int, kind: str) -> dict[str, Any]:
        names = _hyper_names(fn, skip)
        return {k: _in_kind(v, kind, k) if k in self.hyperparameters else v
                for k, v in self.values.items() if k in names}

    def initial_state(self, theta: Sequence[Any], kind: str = "mpmath") -> list[Any]:
        """``init_state(theta)`` as a list (``[]`` without one), evaluated in ``kind``."""
        if self.init_state is None:
            return []
        out = self._call(self.init_state, (list(theta),), self._hyper_for(self.init_state, 1, kind), "init_state",
                         kind)
        try:
            return list(out)
        except TypeError:
            raise InputError(f"{self.describe()}: init_state returned a {type(out).__name__}, not a sequence of "
                             "scalars; return a list (one entry per state variable).") from None

    def apply(self, theta: Sequence[Any], state: Sequence[Any], grad: Callable[[Sequence[Any]], list[Any]], h: Any,
              kind: str = "mpmath") -> tuple[list[Any], list[Any]]:
        """One step in ``kind``: (θ⁺, state⁺), with the lengths checked against θ and the state."""
        out = self._call(self.step, (list(theta), list(state), grad, h), self._hyper_for(self.step, 4, kind), "step",
                         kind)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise InputError(f"{self.describe()}: step returned {type(out).__name__} "
                             f"{'of length ' + str(len(out)) if isinstance(out, (tuple, list)) else ''}, not the pair "
                             "(theta_next, state_next); return both, e.g. `return theta, state`.")
        th, st = out
        try:
            th, st = list(th), list(st if st is not None else [])
        except TypeError:
            raise InputError(f"{self.describe()}: step must return two sequences of scalars (theta_next, "
                             "state_next).") from None
        if len(th) != len(theta):
            raise InputError(f"{self.describe()}: step returned {len(th)} coordinates of theta for {len(theta)}; "
                             "return one per coordinate of theta.")
        if len(st) != len(state):
            raise InputError(f"{self.describe()}: step returned a state of {len(st)} entries for {len(state)} "
                             "(init_state's length); keep the state's length fixed.")
        return th, st

    def __repr__(self) -> str:
        return f"Optimizer({self.label})"


def _from_parts(step: Any, init: Any, validate: Any, name: str, builtin: bool) -> Optimizer:
    if not callable(step):
        raise InputError(f"optimizer {name}: `step` is not callable.")
    count = _positional_count(step)
    if count is not None and count < 4:
        raise InputError(f"optimizer {name}: step takes {count} positional argument(s); the protocol is "
                         "step(theta, state, grad, h) -> (theta_next, state_next).")
    if init is not None and not callable(init):
        raise InputError(f"optimizer {name}: `init_state` is not callable.")
    values: dict[str, Any] = {}
    for fn, skip in ((step, 4), (init, 1)):
        if fn is None:
            continue
        for k, v in _hyper_names(fn, skip).items():
            if v is inspect.Parameter.empty:
                raise InputError(f"optimizer {name}: parameter `{k}` of {getattr(fn, '__name__', 'step')} has no "
                                 "default; hyper-parameters need one (e.g. beta=Fraction(1, 2)).")
            if k not in values:
                try:
                    values[k] = exact_value(v, k)
                except InputError:
                    values[k] = v  # a non-numeric option, passed through as written
    src = _source_file(step)
    opt = Optimizer(name=name, step=step, init_state=init, validate=validate if callable(validate) else None,
                    values=values, source=src, builtin=builtin)
    opt.check()
    return opt


def as_optimizer(obj: Any, name: str | None = None, *, builtin: bool = False) -> Optimizer:
    """An :class:`Optimizer` from a step function, a module defining ``step``, or an object with ``step`` and
    ``init_state`` (or ``init``) methods.

    Parameters
    ----------
    obj : callable, module or object
        The rule (module docstring).
    name : str, optional
        How messages name it (default: the function's or module's name).
    builtin : bool
        Marks the optimisers shipped with theorycheck.
    """
    if isinstance(obj, Optimizer):
        return obj
    if isinstance(obj, types.ModuleType):
        label = name or obj.__name__.rpartition(".")[2]
        if not hasattr(obj, "step"):
            raise InputError(f"optimizer {label}: the module defines no `step(theta, state, grad, h)`.")
        return _from_parts(obj.step, getattr(obj, "init_state", None), getattr(obj, "validate", None), label, builtin)
    if not isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)) and callable(
            getattr(obj, "step", None)):
        label = name or type(obj).__name__
        init = getattr(obj, "init_state", None) or getattr(obj, "init", None)
        return _from_parts(obj.step, init, getattr(obj, "validate", None), label, builtin)
    if callable(obj):
        label = str(name or getattr(obj, "__name__", "step"))
        glb = getattr(obj, "__globals__", {})
        return _from_parts(obj, glb.get("init_state"), glb.get("validate"), label, builtin)
    raise InputError(f"optimizer {name or obj!r}: not a step function, a module with `step`, or an object with "
                     "init_state/step methods.")


# --- running it --------------------------------------------------------------------------------------------


def mpmath_gradient(loss: Any) -> Callable[[Sequence[Any]], list[Any]]:
    """``grad(point)`` for the mpmath evaluation: ∇L at the current precision (the length checked)."""
    d = loss.dim

    def grad(point: Sequence[Any]) -> list[Any]:
        x = list(point)
        if len(x) != d:
            raise InputError(f"grad(point) needs {d} coordinates, got {len(x)}.")
        return loss.gradient_mpmath(x)

    return grad


def _finite(values: Sequence[Any], bound: float = DIVERGENCE_BOUND) -> bool:
    return all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) and abs(v) <= bound
               for v in (mpmath.mpmathify(x) for x in values))


@dataclass
class Trajectory:
    """θ₀ … θ_n and the states s₀ … s_n of a run (mpmath numbers)."""

    thetas: list[list[Any]]
    states: list[list[Any]]


def iterates(optimizer: Any, loss: Any, theta0: Sequence[Any], h: Any, n: int, *, state: Sequence[Any] | None = None,
             digits: int | None = None) -> Trajectory:
    """``n`` steps of ``optimizer`` on ``loss`` from θ₀ (and ``state``, default ``init_state(θ₀)``), in mpmath.

    Parameters
    ----------
    optimizer : Optimizer or anything :func:`as_optimizer` accepts
    loss : Loss
    theta0 : sequence of d numbers
    h : number
        The step size (a Fraction or decimal string stays exact until rounded to the precision).
    n : int
        Number of steps.
    digits : int, optional
        Working precision (default: the caller's ``mpmath.mp.dps``).

    Raises
    ------
    DivergenceError
        An iterate or a state is not a finite real number of size at most 1e100.
    """
    from theorycheck.maths.numbers import as_mpf, as_mpf_vector

    opt = as_optimizer(optimizer)
    with mpmath.workdps(int(mpmath.mp.dps) if digits is None else int(digits)):
        th = as_mpf_vector(theta0, "theta0")
        if len(th) != loss.dim:
            raise InputError(f"`theta0` has {len(th)} coordinates, the loss has {loss.dim} variables.")
        hh = as_mpf(h, "h")
        st = opt.initial_state(th) if state is None else [as_mpf(x, "state") for x in state]
        grad = mpmath_gradient(loss)
        thetas, states = [th], [st]
        for k in range(int(n)):
            try:
                th, st = opt.apply(th, st, grad, hh)
            except (ZeroDivisionError, OverflowError) as exc:
                raise DivergenceError(f"{opt.describe()} diverged at step {k + 1} of {n} with h={mpmath.nstr(hh, 8)} "
                                      f"({type(exc).__name__}).") from None
            if not (_finite(th) and _finite(st)):
                raise DivergenceError(f"{opt.describe()} diverged at step {k + 1} of {n} with h={mpmath.nstr(hh, 8)}: "
                                      "an iterate or its state is not a finite real number of size at most 1e100.")
            thetas.append(th)
            states.append(st)
    return Trajectory(thetas, states)


__all__ = ["DIVERGENCE_BOUND", "Optimizer", "Trajectory", "as_optimizer", "exact_value", "iterates", "mpmath_gradient"]
