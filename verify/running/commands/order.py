"""``theorycheck order``: the empirical order of any optimiser against a chosen flow, on any loss.

Example::

    theorycheck order --loss "a**2*b + cos(a) - b/3" --at a=0.7,b=-0.4 --against modified:2 \\
        --steps 1/8,1/16,1/32,1/64,1/128 --json
    theorycheck order --loss quadratic --optimizer adam --beta1 1/4 --beta2 1/2 --eps 1/1000 --against modified:1
    theorycheck order --loss my_loss.py:loss --at a=0.7,b=-0.4 --optimizer my_rule.py:step --against modified:1

``--optimizer`` is a shipped optimiser (``gd``, the default, ``heavy-ball``, ``nesterov``, ``momentum``,
``rmsprop``, ``adam``: shortcuts for the files of :mod:`theorycheck.optimizers`), an installed entry point, or
``FILE.py:NAME`` (:mod:`theorycheck.running.user_code`); its hyper-parameters come from ``--beta``,
``--beta1``, ``--beta2``, ``--eps`` and ``--param NAME=VALUE``. Every optimiser goes through one mechanism: its
modified equation on its slow manifold is derived from its step alone
(:mod:`theorycheck.maths.optimizer_field`), and a rule with state is measured late in training, on that
manifold (θ₀ placed on it by shooting), against ``flow`` (its leading flow, local order 2), ``igr`` (=
``modified:1``) or ``modified:K`` (K ≤ 4). Where the derived θ-map is gradient descent's, ``bernoulli:K`` (GD's
Bernoulli series) and K up to 8 are available too. ``--loss`` is a zoo name, an expression or ``FILE.py:NAME``,
a Python function of named variables.

A GD study on heyoka at explicit ``--digits`` keeps its set-up in the on-disk cache
(:mod:`theorycheck.running.order_setup`): a later run with the same loss and ``--against`` measures from
it and the cached integrator without importing sympy, with the same numbers (it stores data, neither code
nor a result).

Exit status: 0 PASS, 1 FAIL, 3 INCONCLUSIVE, 2 bad input.
"""

from __future__ import annotations

import argparse
import math
import re
from fractions import Fraction
from typing import Any, Sequence

from theorycheck.core.errors import DivergenceError, InputError

NAME = "order"
HELP = ("Measure the local (or global) order of an optimiser (a shipped one or FILE.py:NAME) against flow, igr, "
        "modified:K, bernoulli:K.")
#: Working digits of the slow-manifold studies unless --digits says otherwise (as the claims use).
SLOW_MANIFOLD_DIGITS = 30

KINDS = ("local", "global")
#: GD's default ladder.
GD_STEPS = "1/8,1/16,1/32,1/64,1/128"
EXIT = {"PASS": 0, "FAIL": 1, "INCONCLUSIVE": 3}
MIN_STEPS = 3
#: Largest field (sympy operations over its components) compiled for integration.
MAX_FIELD_OPS = 200_000
#: Wall-clock bound on parsing the loss and building the field against which GD is measured.
SYMBOLIC_SECONDS = 60


def add_arguments(p: argparse.ArgumentParser) -> None:
    from theorycheck.running.user_code import add_hyperparameter_arguments

    p.add_argument("--loss", required=True, metavar="EXPR",
                   help="a zoo loss name (quadratic, rosenbrock, logistic, trig, tiny_net), an expression in named "
                        "variables, or FILE.py:NAME (a Python function of named variables)")
    p.add_argument("--at", metavar="a=0.7,b=-0.4",
                   help="start point, one value per variable (exact decimals or fractions); default: the zoo point")
    p.add_argument("--against", default="igr", metavar="FIELD",
                   help="flow | igr | modified:K | bernoulli:K (default igr)")
    p.add_argument("--steps", default=None, metavar="H1,H2,...",
                   help=f"step-size ladder, at least {MIN_STEPS} positive steps (fractions or decimals); default "
                        "1/8,…,1/128 without state, the slow-manifold ladder of the optimiser with state")
    p.add_argument("--optimizer", default="gd", metavar="OPT",
                   help="gd | heavy-ball | nesterov | momentum | rmsprop | adam | an entry point of "
                        "theorycheck.optimizers | FILE.py:NAME (default gd)")
    add_hyperparameter_arguments(p)
    p.add_argument("--digits", type=str, default=None, metavar="D",
                   help="working precision in significant digits (default: chosen from the smallest error)")
    p.add_argument("--backend", default="heyoka", metavar="B", help="heyoka | mpmath | scipy (default heyoka)")
    p.add_argument("--kind", default="local", metavar="K", help="local (one step) or global (fixed horizon)")
    p.add_argument("--horizon", default="1", metavar="T", help="horizon T for --kind global; every step must divide it")
    p.add_argument("--expected-order", default=None, metavar="P",
                   help="override the theoretical order (default: K+2 local, K+1 global for modified:K; flow K=0, igr K=1)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--no-cache", action="store_true", help="compile the integrator afresh (no on-disk cache)")


# --- validation (each returns the cleaned value or raises InputError naming the argument) ----------

#: Largest magnitude of a number given on the command line: beyond it float64 steps overflow or underflow.
MAX_MAGNITUDE = Fraction(10) ** 100
#: Most working digits: beyond this the integrators run for minutes with nothing more to resolve.
MAX_DIGITS = 300


def _fraction(text: str, what: str, smallest: Fraction | None = None) -> Fraction:
    """An exact rational from ``0.7``, ``1/8`` or ``2e-3`` with magnitude at most 1e100 (and, when nonzero, at
    least ``smallest``); non-finite, non-numeric or out-of-range text is an InputError."""
    t = text.strip()
    # a huge exponent (1e999999999) would make Fraction build a giant integer: refuse it by its text
    m = re.search(r"[eE]([+-]?\d+)$", t)
    if m and abs(int(m.group(1))) > 400:
        raise InputError(f"{what} {t!r} is out of range: magnitudes up to 1e100 are accepted.")
    try:
        fr = Fraction(t)
    except (ValueError, ZeroDivisionError):
        pass
    else:
        if abs(fr) > MAX_MAGNITUDE or (smallest is not None and fr != 0 and abs(fr) < smallest):
            lo = f"{float(smallest):g}" if smallest is not None else "0"
            raise InputError(f"{what} {t!r} is out of range: magnitudes from {lo} to 1e100 are accepted.")
        return fr
    try:
        v: float | None = float(t)
    except ValueError:
        v = None
    if v is not None and not math.isfinite(v):
        raise InputError(f"{what} must be finite, got {t!r}.")
    raise InputError(f"{what} is not a number: {t!r}.")


def parse_point(text: str) -> dict[str, Fraction]:
    """``a=0.7,b=-0.4`` → {"a": 7/10, "b": -2/5} (exact)."""
    out: dict[str, Fraction] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"`--at`: expected NAME=VALUE, got {item!r}.")
        if name in out:
            raise InputError(f"`--at`: variable `{name}` given twice.")
        out[name] = _fraction(value, f"`--at` value of `{name}`")
    if not out:
        raise InputError("`--at` is empty; give one NAME=VALUE per variable.")
    return out


def parse_steps(text: str) -> list[Fraction]:
    """``1/8,1/16,...`` → distinct positive Fractions, largest first."""
    steps = [_fraction(s, "`--steps` entry", smallest=1 / MAX_MAGNITUDE) for s in text.split(",") if s.strip()]
    bad = [s for s in steps if s <= 0]
    if bad:
        raise InputError(f"`--steps` must all be positive, got {bad[0]}.")
    steps = sorted(set(steps), reverse=True)
    if len(steps) < MIN_STEPS:
        raise InputError(f"`--steps` needs at least {MIN_STEPS} distinct step sizes to fit an order, got {len(steps)}.")
    return steps


def parse_digits(text: str | None) -> int | None:
    from theorycheck.running.validate import int_between

    return None if text is None else int_between(text, "--digits", 5, MAX_DIGITS)


def _choice(value: str, allowed: tuple[str, ...], arg: str) -> str:
    if value not in allowed:
        raise InputError(f"`{arg}` must be one of {', '.join(allowed)}, got {value!r}.")
    return value


def optimiser(args: argparse.Namespace, loss: Any, theta0: Sequence[Fraction] | None = None) -> Any:
    """Resolve ``--optimizer`` with its hyper-parameters and set its study up
    (:func:`~theorycheck.numerics.optimizer_order.setup`: one mechanism for every rule)."""
    from theorycheck.numerics.optimizer_order import setup
    from theorycheck.running.user_code import apply_hyperparameters, resolve_optimizer

    rule = apply_hyperparameters(resolve_optimizer(getattr(args, "optimizer", None) or "gd"), args)
    return setup(rule, loss, args.against, theta0)


def check_rule(opt: Any, theta0: Sequence[Fraction], h: Fraction) -> None:
    """One step of the rule at θ₀ on its settled state, in mpmath: a step that raises, returns the wrong length or a
    non-finite value is one InputError naming the optimiser (its file and line when it raised)."""
    import mpmath

    from theorycheck.maths.numbers import as_mpf_vector
    from theorycheck.maths.protocol import mpmath_gradient

    with mpmath.workdps(30):
        th = as_mpf_vector(theta0)
        hh = mpmath.mpf(h.numerator) / h.denominator
        state_at = opt.equation.manifold.state_function()
        state = state_at(th, hh) if state_at is not None else []
        try:
            nxt, st = opt.rule.apply(th, state, mpmath_gradient(opt.equation.loss), hh)
        except (ZeroDivisionError, OverflowError) as exc:
            raise InputError(f"{opt.rule.describe()}: step fails at θ₀ with h = {h} ({type(exc).__name__}); change "
                             "the step or choose another `--at`.") from None
        values = [mpmath.mpmathify(v) for v in [*nxt, *st]]
        if not all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in values):
            raise InputError(f"{opt.rule.describe()}: step returns a value that is not a finite real number at θ₀ "
                             f"(h = {h}); change the step or choose another `--at`.")


def check_defined(loss: Any, field: Any, theta0: Sequence[Fraction], h: Fraction) -> None:
    """Raise InputError unless L, ∇L and the field are finite real numbers at θ₀ (e.g. log(a) at a ≤ 0)."""
    import mpmath
    import sympy as sp

    from theorycheck.maths.numbers import as_mpf_vector

    point = ", ".join(f"{v}={x}" for v, x in zip(loss.variables, theta0))
    with mpmath.workdps(30):
        value: Any = "undefined"
        try:
            value = sp.N(loss.expr.subs({v: sp.Rational(x.numerator, x.denominator)
                                         for v, x in zip(loss.variables, theta0)}), 30)
            real = bool(value.is_real) and bool(value.is_finite)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            real = False
        if not real:
            raise InputError(f"the loss is not a finite real number at {point} (it is {value}); choose another "
                             f"`--at` inside its domain.")
        th = as_mpf_vector(theta0)
        for what, f, args in (("gradient of the loss", loss.gradient_flow(), 0), (f"field {field.name}", field, h)):
            try:
                vals = f.mpmath(th, mpmath.mpf(args.numerator) / args.denominator if isinstance(args, Fraction) else 0)
                # a constant component (the gradient of a + b) comes back as a Python int: a real number too
                nums = [mpmath.mpmathify(v) for v in vals]
                ok = all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in nums)
            except (ZeroDivisionError, OverflowError, ValueError, TypeError):
                ok = False
            if not ok:
                raise InputError(f"the {what} is not a finite real number at {point}; choose another `--at`.")


def _check_field_size(field: Any, spec: str) -> int:
    """Refuse a field too large to compile and integrate in reasonable time (the integrators run it in C++,
    where neither the time limit nor Ctrl-C can stop them); return its operation count."""
    import sympy as sp

    ops = int(sum(sp.count_ops(c) for c in field.components))
    if ops > MAX_FIELD_OPS:
        raise InputError(f"the field `--against {spec}` of this loss has {ops:,} operations, more than "
                         f"{MAX_FIELD_OPS:,} theorycheck compiles; use a smaller K or a simpler loss.")
    return ops


def _expectation(args: argparse.Namespace, kind: str, local_order: int,
                 steps: Sequence[Fraction]) -> tuple[float, Fraction | None]:
    """The expected order (``--expected-order`` or the theory's) and the horizon of a global study."""
    expected: float = local_order if kind == "local" else local_order - 1
    if args.expected_order is not None:
        expected = float(_fraction(args.expected_order, "`--expected-order`"))
        if expected <= 0:
            raise InputError(f"`--expected-order` must be positive (an error that shrinks with h), got "
                             f"{args.expected_order!r}.")
    horizon = None
    if kind == "global":
        horizon = _fraction(args.horizon, "`--horizon`")
        if horizon <= 0:
            raise InputError(f"`--horizon` must be positive, got {args.horizon!r}.")
        bad = [s for s in steps if (horizon / s).denominator != 1]
        if bad:
            raise InputError(f"`--horizon` {horizon} is not a whole number of steps of size {bad[0]}.")
    return expected, horizon


def _info(loss_text: str, variables: Sequence[str], theta0: Sequence[Fraction], against: str, kind: str,
          horizon: Fraction | None, label: str, rule: dict[str, Any]) -> dict[str, Any]:
    return {"loss": loss_text, "variables": list(variables), "at": {v: str(x) for v, x in zip(variables, theta0)},
            "against": against, "kind": kind, "horizon": None if horizon is None else str(horizon), "optimizer": label,
            **rule}


# --- the command ----------------------------------------------------------------------------------

def _study(kind: str, step: Any, field: Any, theta0: Sequence[Fraction], steps: list[Fraction], expected: float,
           backend: str, digits: int | None, horizon: Fraction | None, integrator: Any = None) -> Any:
    from theorycheck.numerics.order import global_error_study, local_error_study

    if kind == "local":
        return local_error_study(step, field, theta0, steps, expected_order=expected, backend=backend, digits=digits,
                                 integrator=integrator)
    return global_error_study(step, field, theta0, steps, horizon=horizon, expected_order=expected, backend=backend,
                              digits=digits, integrator=integrator)


def measure(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Validate the arguments, run the study; return (OrderStudy, description of the run)."""
    from theorycheck.maths.losses import ZOO, ZOO_POINTS, check_function_at
    from theorycheck.numerics.integrate import validate_backend
    from theorycheck.numerics.optimizer_order import default_ladder
    from theorycheck.running.user_code import is_file_spec, resolve_loss

    backend = validate_backend(args.backend, "--backend")
    kind = _choice(args.kind, KINDS, "--kind")
    from theorycheck.running.limits import time_limit

    with time_limit(SYMBOLIC_SECONDS, "parsing `--loss` took more than "
                                      f"{SYMBOLIC_SECONDS} s; simplify the expression"):
        loss = resolve_loss(args.loss)
    if args.at is not None:
        point = loss.point(parse_point(args.at))
    elif args.loss in ZOO:
        point = loss.point(ZOO_POINTS[args.loss])
    else:
        raise InputError(f"`--at` is required for a user loss; the loss has variables "
                         f"{', '.join(map(str, loss.variables))}.")
    theta0 = tuple(x if isinstance(x, Fraction) else Fraction(str(x)) for x in point)
    check_function_at(loss, theta0)
    with time_limit(SYMBOLIC_SECONDS, f"building the field `--against {args.against}` for this loss took more than "
                                      f"{SYMBOLIC_SECONDS} s (the symbolic expansion grows quickly with K); use a "
                                      f"smaller K or a simpler loss"):
        opt = optimiser(args, loss, theta0)
        field, local_order = opt.field, opt.local_order
        ops = _check_field_size(field, args.against)
        if args.steps is None:
            steps = default_ladder(opt, theta0)
        else:
            steps = parse_steps(args.steps)
    check_defined(loss, field, theta0, steps[0])
    check_rule(opt, theta0, steps[0])
    digits = parse_digits(args.digits)
    if digits is None and opt.stateful:
        digits = SLOW_MANIFOLD_DIGITS  # the shooting's transient grows with the digits asked for
    expected, horizon = _expectation(args, kind, local_order, steps)

    from theorycheck.running.limits import status

    label = opt.label
    status(f"{kind} error of {label} against {field.name} at {len(steps)} step sizes…")
    try:
        study = _study(kind, opt.step, field, theta0, steps, expected, backend, digits, horizon)
    except (ZeroDivisionError, OverflowError) as exc:
        raise DivergenceError(f"{label} or the flow of {field.name} left the loss's domain ({type(exc).__name__}); "
                              "try smaller steps or another `--at`.") from None
    if (opt.rule.builtin and opt.equation.is_gradient_descent and not opt.stateful and backend == "heyoka"
            and not is_file_spec(args.loss)):
        _keep_setup(args, loss, field, local_order, ops)
    return study, _info(str(loss.expr), [str(v) for v in loss.variables], theta0, field.name, kind, horizon, label,
                        _rule_info(opt))


def _rule_info(opt: Any) -> dict[str, Any]:
    """The optimiser's part of the output: its hyper-parameters, the derivation's route, whether it has state."""
    return {"hyperparameters": {k: str(v) for k, v in opt.rule.hyperparameters.items()},
            "route": opt.equation.route, "slow_manifold": opt.stateful}


def _keep_setup(args: argparse.Namespace, loss: Any, field: Any, local_order: int, ops: int) -> None:
    """Store the compiled set-up of this GD study (:mod:`theorycheck.running.order_setup`) for later runs."""
    from theorycheck.maths.losses import ZOO, ZOO_POINTS
    from theorycheck.numerics import cache
    from theorycheck.running import order_setup

    if not cache.enabled():
        return
    point = None
    if args.loss in ZOO:
        point = tuple(Fraction(str(x)) for x in loss.point(ZOO_POINTS[args.loss]))
    setup = order_setup.build(loss, field, local_order, ops, point)
    if setup is not None:
        order_setup.store(args.loss, args.against, getattr(args, "optimizer", "gd"), setup)


def measure_from_setup(args: argparse.Namespace) -> tuple[Any, dict[str, Any]] | None:
    """:func:`measure` for GD on heyoka at explicit ``--digits``, from a stored set-up and a cached integrator.

    No sympy is imported: the loss, its gradient and the field come as compiled code
    (:mod:`theorycheck.running.order_setup`), the Taylor integrator from the on-disk cache; the
    errors, the fit and the verdict are computed as by :func:`measure`, from the same numbers.
    None when this does not apply (another optimiser or backend, no digits, the cache off), misses
    (no set-up or integrator stored yet) or meets anything to refuse: :func:`measure` then does the
    whole work and words every refusal.
    """
    from theorycheck.core.errors import TheorycheckError
    from theorycheck.numerics import cache
    from theorycheck.running.user_code import HYPER_FLAGS, is_file_spec

    if (not cache.enabled() or getattr(args, "optimizer", "gd") != "gd" or args.backend != "heyoka"
            or args.digits is None or is_file_spec(args.loss) or getattr(args, "param", None)
            or any(getattr(args, f.lstrip("-"), None) is not None for f in HYPER_FLAGS)):
        return None  # a set-up is kept only for the shipped GD on a zoo loss or an expression (module docstring)
    try:
        return _measure_from_setup(args)
    except (TheorycheckError, ZeroDivisionError, OverflowError):
        return None


def _measure_from_setup(args: argparse.Namespace) -> tuple[Any, dict[str, Any]] | None:
    import mpmath

    from theorycheck.maths.numbers import as_mpf_vector
    from theorycheck.numerics.integrate import HeyokaIntegrator
    from theorycheck.running import order_setup
    from theorycheck.running.limits import status

    kind = _choice(args.kind, KINDS, "--kind")
    digits = parse_digits(args.digits)
    setup = order_setup.load(args.loss, args.against, "gd")
    if setup is None or setup.ops > MAX_FIELD_OPS or digits is None:
        return None
    if args.at is not None:
        given = parse_point(args.at)
        if set(given) != set(setup.variables):
            return None
        theta0 = tuple(given[v] for v in setup.variables)
    elif setup.point is not None:
        theta0 = tuple(Fraction(x) for x in setup.point)
    else:
        return None
    steps = parse_steps(args.steps if args.steps is not None else GD_STEPS)
    gradient = setup.function("gradient")
    with mpmath.workdps(30):  # the check of check_defined, on the compiled functions
        th = as_mpf_vector(theta0)
        try:
            values = [setup.function("loss")(*th), *gradient(*th),
                      *setup.function("field")(tuple(th), mpmath.mpf(steps[0].numerator) / steps[0].denominator)]
            defined = all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in map(mpmath.mpmathify, values))
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            defined = False
    if not defined:
        return None
    expected, horizon = _expectation(args, kind, setup.local_order, steps)
    integ = HeyokaIntegrator.load(setup.field, digits)
    if integ is None:
        return None
    status(f"{kind} error of GD against {setup.field.name} at {len(steps)} step sizes…")
    step = order_setup.CompiledGD(gradient, len(setup.variables), args.loss)
    study = _study(kind, step, None, theta0, steps, expected, "heyoka", digits, horizon, integrator=integ)
    order_setup.STATS["used"] += 1
    return study, _info(setup.loss_text, setup.variables, theta0, setup.field.name, kind, horizon, "gd",
                        {"hyperparameters": {}, "route": "symbolic", "slow_manifold": False})


def to_json(study: Any, info: dict[str, Any]) -> dict[str, Any]:
    from theorycheck.core.evidence import jsonable

    out = {
        "order": study.order,
        "order_ci": list(study.order_ci) if study.order_ci is not None else None,
        "expected_order": study.expected_order,
        "errors": [[float(h), float(e)] for h, e in zip(study.steps, study.errors)],
        "verdict": str(study.verdict),
        "reason": study.reason,
        "digits": study.digits,
        "backend": study.backend,
        "local_slopes": list(study.local_slopes),
        "resolved": list(study.resolved),
        "floor": study.floor,
        "tolerance": study.tolerance,
        **info,
    }
    return jsonable(out)


def table(study: Any, info: dict[str, Any]) -> str:
    lines = [f"{info.get('optimizer', 'gd')} vs {info['against']} ({info['kind']} error) on L = {info['loss']} at "
             + ", ".join(f"{k}={v}" for k, v in info["at"].items()),
             f"{'h':>12}  {'error':>12}  {'slope':>7}"]
    # local slopes join successive *resolved* points: slope k ends at the (k+1)-th resolved point
    resolved_idx = [i for i, r in enumerate(study.resolved) if r]
    slope_at = {i: s for i, s in zip(resolved_idx[1:], study.local_slopes)}
    used = list(getattr(study, "used", [])) or [True] * len(study.steps)
    for i, (h, e) in enumerate(zip(study.steps, study.errors)):
        s = slope_at.get(i)
        mark = ("  (at floor, not fitted)" if not study.resolved[i] else
                "  (pre-asymptotic, not fitted)" if not used[i] else "")
        lines.append(f"{float(h):>12.6g}  {float(e):>12.4e}  {'' if s is None else f'{s:7.3f}':>7}{mark}")
    ci = f" [{study.order_ci[0]:.3f}, {study.order_ci[1]:.3f}]" if study.order_ci else ""
    order = "n/a" if study.order is None else f"{study.order:.3f}"
    lines.append(f"order {order}{ci}, expected {study.expected_order:g}: {study.verdict} "
                 f"({study.reason}; {study.digits} digits, {study.backend})")
    return "\n".join(lines)


def check_applicable(args: argparse.Namespace) -> None:
    """Refuse an option given on the command line that this study would not read (``--horizon`` with a local
    study), rather than ignore it. A hyper-parameter the optimiser does not have is refused by
    :func:`theorycheck.running.user_code.apply_hyperparameters`."""
    given: frozenset[str] = getattr(args, "_given", frozenset())
    if "horizon" in given and args.kind != "global":
        raise InputError("`--horizon` applies to `--kind global` only (a local study measures one step).")


def run(args: argparse.Namespace) -> int:
    check_applicable(args)
    if getattr(args, "no_cache", False):
        from theorycheck.numerics import cache

        cache.set_enabled(False)
    study, info = measure_from_setup(args) or measure(args)
    if args.json:
        from theorycheck.running.output import emit

        emit("order", to_json(study, info))
    else:
        print(table(study, info))
    return EXIT.get(str(study.verdict), 1)


__all__ = [
    "EXIT", "GD_STEPS", "HELP", "KINDS", "MAX_DIGITS", "MAX_FIELD_OPS", "MAX_MAGNITUDE", "MIN_STEPS", "NAME",
    "SLOW_MANIFOLD_DIGITS", "SYMBOLIC_SECONDS", "add_arguments", "check_applicable", "check_defined",
    "check_rule", "measure", "measure_from_setup", "optimiser", "parse_digits", "parse_point", "parse_steps", "run",
    "table", "to_json",
]
