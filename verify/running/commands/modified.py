"""``theorycheck modified``: an optimiser's modified field of a loss to h^K, each term tested as a gradient field.

Example::

    theorycheck modified --loss "(1 - a)**2 + 5*(b - a**2)**2" --order 2 --at a=0.3,b=0.2
    theorycheck modified --optimizer nesterov --beta 1/2 --loss logistic --order 1 --latex
    theorycheck modified --optimizer my_rule.py:step --loss my_loss.py:loss --at a=0.7,b=-0.4 --order 2 --json

prints F_0 … F_K of the modified field f̃ = Σ h^j F_j (time in units of h; for an optimiser with state, on its
slow manifold, :mod:`theorycheck.maths.optimizer_field`), the modified loss L̃ (f̃ = −∇L̃) as far as the terms
are gradients, and for each term at the point ‖J − Jᵀ‖_F and its ratio to ‖J‖_F (see
:mod:`theorycheck.maths.modified_loss`). ``--optimizer`` is any optimiser ``order`` takes (default ``gd``).
``--route`` chooses how the terms are found: ``symbolic`` (formulas), ``log-series`` (their values at ``--at``,
derivative-free, from log(1 + Δ) on the slow orbit) or ``auto`` (symbolic unless the terms exceed
:data:`MAX_TERM_OPS` operations, then log-series); the route taken is reported. ``--latex`` prints the formulas as
LaTeX, ``--json`` one JSON object. Exit status: 0, or 2 on bad input.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from theorycheck.core.errors import InputError

NAME = "modified"
HELP = ("Print an optimiser's modified field (GD's by default; and modified loss where one exists) of a loss to "
        "h^K, and the gradient-field test of each term at a point.")
ROUTE_CHOICES = ("auto", "symbolic", "log-series")
#: Above this many operations in the terms, ``--route auto`` measures them at the point instead of printing them.
MAX_TERM_OPS = 20_000
#: Wall-clock bound on the derivation and the gradient-field tests.
SYMBOLIC_SECONDS = 60


def add_arguments(p: argparse.ArgumentParser) -> None:
    from theorycheck.running.user_code import add_hyperparameter_arguments

    p.add_argument("--loss", required=True, metavar="EXPR",
                   help="a zoo loss name (quadratic, rosenbrock, logistic, trig, tiny_net), an expression in named "
                        "variables, or FILE.py:NAME (a Python function of named variables)")
    p.add_argument("--order", required=True, metavar="K", help="the highest power of h (0 to 8 for gd, to 4 "
                                                               "otherwise; 4 is already slow)")
    p.add_argument("--at", metavar="a=0.3,b=0.2",
                   help="point of the gradient-field test (default: the zoo point, or none for an expression)")
    p.add_argument("--optimizer", default="gd", metavar="OPT",
                   help="gd | heavy-ball | nesterov | momentum | rmsprop | adam | an entry point | FILE.py:NAME "
                        "(default gd)")
    add_hyperparameter_arguments(p)
    p.add_argument("--route", default="auto", metavar="R",
                   help="auto | symbolic | log-series (default auto: symbolic unless the terms are too large)")
    p.add_argument("--latex", action="store_true", help="formulas as LaTeX")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _order(text: str) -> int:
    from theorycheck.maths.jets import MAX_ORDER
    from theorycheck.running.validate import int_between

    return int_between(text, "--order", 0, MAX_ORDER)


@dataclass
class Result:
    """What the command prints: the optimiser, its derivation, and the terms (an Expansion or measured values).

    ``expansion`` is a :class:`~theorycheck.maths.modified_loss.Expansion` (route "symbolic"), ``measured`` a
    :class:`~theorycheck.maths.optimizer_field.MeasuredTerms` (route "log-series"); ``gd`` marks a θ-map that is
    gradient descent's, whose terms are GD's.
    """

    rule: Any
    loss: Any
    order: int
    point: tuple[Fraction, ...] | None
    route: str
    gd: bool
    slow_manifold: bool
    expansion: Any = None
    measured: Any = None


def expansion(args: argparse.Namespace) -> Result:
    """Validate the arguments, derive the optimiser's modified equation and test its terms."""
    import sympy as sp

    from theorycheck.maths.losses import ZOO, ZOO_POINTS, check_function_at
    from theorycheck.maths.modified_loss import modified_expansion
    from theorycheck.maths.optimizer_field import MAX_ORDER as RULE_MAX
    from theorycheck.maths.optimizer_field import derive, log_series_terms
    from theorycheck.running.commands.order import parse_point
    from theorycheck.running.limits import time_limit
    from theorycheck.running.user_code import apply_hyperparameters, resolve_loss, resolve_optimizer

    k = _order(args.order)
    route = getattr(args, "route", "auto")
    if route not in ROUTE_CHOICES:
        raise InputError(f"`--route` must be one of {', '.join(ROUTE_CHOICES)}, got {route!r}.")
    loss = resolve_loss(args.loss)
    point = None
    if args.at is not None:
        point = loss.point(parse_point(args.at))
    elif args.loss in ZOO:
        point = loss.point(ZOO_POINTS[args.loss])
    if point is not None:
        point = tuple(x if isinstance(x, Fraction) else Fraction(str(x)) for x in point)
        check_function_at(loss, point)
        _check_defined(loss, point)
    rule = apply_hyperparameters(resolve_optimizer(getattr(args, "optimizer", None) or "gd"), args)
    with time_limit(SYMBOLIC_SECONDS, f"deriving the modified field to h^{k} took more than {SYMBOLIC_SECONDS} s; "
                                      "use a smaller --order, a simpler loss, or --route log-series with --at"):
        eq = derive(rule, loss, k, point)
        stateful = eq.manifold.state_size > 0
        if eq.is_gradient_descent:
            return Result(rule, loss, k, point, "symbolic", True, stateful, expansion=modified_expansion(loss, k, point))
        if k > RULE_MAX:
            raise InputError(f"`--order {k}`: the modified field of {rule.label} is derived up to h^{RULE_MAX}; use a "
                             "smaller K.")
        if route != "log-series":
            ops = sum(sp.count_ops(c) for F in eq.generic for c in F)
            if route == "symbolic" or ops <= MAX_TERM_OPS:
                return Result(rule, loss, k, point, "symbolic", False, stateful,
                              expansion=modified_expansion(loss, k, point, terms=eq.terms))
        if point is None:
            raise InputError("the log-series route measures the terms at a point: give `--at`.")
    measured = log_series_terms(rule, loss, point, k, manifold=eq.manifold if stateful else None)
    return Result(rule, loss, k, point, "log-series", False, stateful, measured=measured)


def _check_defined(loss: Any, point: tuple[Fraction, ...]) -> None:
    import mpmath

    with mpmath.workdps(30):
        try:
            vals = loss.gradient_flow().mpmath([mpmath.mpf(x.numerator) / x.denominator for x in point])
            ok = all(isinstance(v, mpmath.mpf) and mpmath.isfinite(v) for v in vals)
        except (ZeroDivisionError, OverflowError, ValueError, TypeError):
            ok = False
    if not ok:
        at = ", ".join(f"{v}={x}" for v, x in zip(loss.variables, point))
        raise InputError(f"the gradient of the loss is not a finite real number at {at}; choose another `--at`.")


def _fmt(expr: Any, latex: bool) -> str:
    import sympy as sp

    return sp.latex(expr) if latex else sp.sstr(expr)


def to_json(res: Result) -> dict[str, Any]:
    """The one JSON object of ``--json``."""
    import mpmath
    import sympy as sp

    from theorycheck.maths.fields import H

    loss = res.loss
    out: dict[str, Any] = {
        "loss": str(loss.expr), "variables": [str(v) for v in loss.variables], "order": res.order,
        "at": None if res.point is None else {str(v): str(x) for v, x in zip(loss.variables, res.point)},
        "optimizer": res.rule.label, "hyperparameters": {k: str(v) for k, v in res.rule.hyperparameters.items()},
        "route": res.route, "slow_manifold": res.slow_manifold,
    }
    if res.expansion is not None:
        ex = res.expansion
        mod = ex.modified_loss(H)
        out.update({
            "terms": [{"power": t.power, "field": [sp.sstr(c) for c in t.field], "latex": [sp.latex(c) for c in t.field],
                       "gradient": t.gradient, "asymmetry": t.asymmetry, "relative_asymmetry": t.relative,
                       "potential": None if t.potential is None else sp.sstr(t.potential)} for t in ex.terms],
            "modified_loss_order": ex.loss_order,
            "modified_loss": None if mod is None else sp.sstr(mod),
            "modified_loss_latex": None if mod is None else sp.latex(mod),
        })
    else:
        m = res.measured
        out.update({
            "terms": [{"power": j, "value": [mpmath.nstr(v, 20) for v in m.values[j]],
                       "significant_digits": min(m.significant_digits(j), 99.0)} for j in range(res.order + 1)],
            "modified_loss_order": None, "modified_loss": None, "modified_loss_latex": None,
            "log_series_steps": [str(h) for h in m.steps], "digits": m.digits,
        })
    return out


def _header(res: Result, latex: bool) -> str:
    names = ", ".join(map(str, res.loss.variables))
    body = f"L({names}) = {_fmt(res.loss.expr, latex)} to h^{res.order}"
    if res.gd and not res.slow_manifold:  # the θ-map is θ − h∇L: GD's terms
        return f"GD's modified field of {body}: f = F0 + h F1 + ... (step h)"
    where = "on its slow manifold, " if res.slow_manifold else ""
    return (f"modified field of {res.rule.label} on {body}: f = F0 + h F1 + ... ({where}time in units of h; route: "
            f"{res.route})")


def render(res: Result, latex: bool = False) -> str:
    """The text report: each term, its gradient-field test, and the modified loss (or the measured values)."""
    import mpmath

    from theorycheck.maths.fields import H

    lines = [_header(res, latex)]
    if res.measured is not None:
        m = res.measured
        lines.append("measured at " + ", ".join(f"{v}={x}" for v, x in zip(res.loss.variables, res.point or ()))
                     + f" without derivatives: log(1 + Δ) on the slow orbit at h = {m.steps[0]} … {m.steps[-1]}, "
                       f"{m.digits} digits")
        for j in range(res.order + 1):
            lines.append(f"F{j}:")
            for v, c in zip(res.loss.variables, m.values[j]):
                lines.append(f"  [{v}]  {mpmath.nstr(c, 15)}")
            lines.append(f"  about {min(m.significant_digits(j), 99.0):.0f} significant digits")
        return "\n".join(lines)
    ex = res.expansion
    if ex.point is not None:
        lines.append("gradient-field test at " + ", ".join(f"{v}={x}" for v, x in zip(ex.loss.variables, ex.point))
                     + ": ||J - J^T||_F of each term (0 for a gradient field), and its ratio to ||J||_F")
    for t in ex.terms:
        lines.append(f"F{t.power}:")
        for v, c in zip(ex.loss.variables, t.field):
            lines.append(f"  [{v}]  {_fmt(c, latex)}")
        verdict = {True: "a gradient field", False: "NOT a gradient field", None: "undecided"}[t.gradient]
        test = f"  {verdict}"
        if t.asymmetry is not None:
            test += f"; ||J - J^T||_F = {t.asymmetry:.6g} ({t.relative:.3g} of ||J||_F)"
        if t.potential is not None:
            test += f"; F{t.power} = grad({_fmt(t.potential, latex)})"
        lines.append(test)
    mod = ex.modified_loss(H)
    m = ex.loss_order
    if mod is None:
        lines.append("modified loss: none found")
    else:
        lines.append(f"modified loss (f = -grad L~ to h^{m}): L~ = {_fmt(mod, latex)} + O(h^{m + 1})")
        if m < ex.order:
            who = "GD" if res.gd else res.rule.label
            lines.append(f"beyond h^{m} {who} follows a modified flow, not a modified loss "
                         f"(F{m + 1} is {'not a gradient field' if ex.terms[m + 1].gradient is False else 'without a closed-form potential'}).")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    res = expansion(args)
    if args.json:
        from theorycheck.running.output import emit

        emit("modified", to_json(res), ensure_ascii=False, allow_nan=False)
    else:
        print(render(res, latex=args.latex))
    return 0


__all__ = ["HELP", "MAX_TERM_OPS", "NAME", "ROUTE_CHOICES", "Result", "SYMBOLIC_SECONDS", "add_arguments", "expansion",
           "render", "run", "to_json"]
