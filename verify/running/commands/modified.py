"""``theorycheck modified``: GD's modified field of a loss to h^K, each term tested as a gradient field.

Example::

    theorycheck modified --loss "(1 - a)**2 + 5*(b - a**2)**2" --order 2 --at a=0.3,b=0.2

prints F_0 … F_K of the modified field f̃ = Σ h^j F_j, the modified loss L̃
(f̃ = −∇L̃) as far as the terms are gradients, and for each term at the point
‖J − Jᵀ‖_F and its ratio to ‖J‖_F (see :mod:`theorycheck.maths.modified_loss`).
``--latex`` prints the formulas as LaTeX, ``--json`` one JSON object.
Exit status: 0, or 2 on bad input.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from typing import Any

from theorycheck.core.errors import InputError

NAME = "modified"
HELP = ("Print GD's modified field (and modified loss where one exists) of a loss to h^K, and the gradient-field "
        "test of each term at a point.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--loss", required=True, metavar="EXPR",
                   help="a zoo loss name (quadratic, rosenbrock, logistic, trig, tiny_net) or an expression in named "
                        "variables")
    p.add_argument("--order", required=True, metavar="K", help="the highest power of h (0 to 8; 4 is already slow)")
    p.add_argument("--at", metavar="a=0.3,b=0.2",
                   help="point of the gradient-field test (default: the zoo point, or none for an expression)")
    p.add_argument("--latex", action="store_true", help="formulas as LaTeX")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def _order(text: str) -> int:
    from theorycheck.maths.jets import MAX_ORDER
    from theorycheck.running.validate import int_between

    return int_between(text, "--order", 0, MAX_ORDER)


def expansion(args: argparse.Namespace) -> Any:
    """Validate the arguments and compute the :class:`~theorycheck.maths.modified_loss.Expansion`."""
    from theorycheck.maths.losses import ZOO, ZOO_POINTS, get_loss
    from theorycheck.maths.modified_loss import modified_expansion
    from theorycheck.running.commands.order import parse_point

    k = _order(args.order)
    loss = get_loss(args.loss)
    point = None
    if args.at is not None:
        point = loss.point(parse_point(args.at))
    elif args.loss in ZOO:
        point = loss.point(ZOO_POINTS[args.loss])
    if point is not None:
        point = tuple(x if isinstance(x, Fraction) else Fraction(str(x)) for x in point)
        _check_defined(loss, point)
    return modified_expansion(loss, k, point)


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


def to_json(ex: Any) -> dict[str, Any]:
    import sympy as sp

    from theorycheck.maths.fields import H

    mod = ex.modified_loss(H)
    return {
        "loss": str(ex.loss.expr), "variables": [str(v) for v in ex.loss.variables], "order": ex.order,
        "at": None if ex.point is None else {str(v): str(x) for v, x in zip(ex.loss.variables, ex.point)},
        "terms": [{"power": t.power, "field": [sp.sstr(c) for c in t.field], "latex": [sp.latex(c) for c in t.field],
                   "gradient": t.gradient, "asymmetry": t.asymmetry, "relative_asymmetry": t.relative,
                   "potential": None if t.potential is None else sp.sstr(t.potential)} for t in ex.terms],
        "modified_loss_order": ex.loss_order,
        "modified_loss": None if mod is None else sp.sstr(mod),
        "modified_loss_latex": None if mod is None else sp.latex(mod),
    }


def render(ex: Any, latex: bool = False) -> str:
    """The text report: each term, its gradient-field test, and the modified loss."""
    from theorycheck.maths.fields import H

    names = ", ".join(map(str, ex.loss.variables))
    lines = [f"GD's modified field of L({names}) = {_fmt(ex.loss.expr, latex)} to h^{ex.order}: "
             f"f = F0 + h F1 + ... (step h)"]
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
            lines.append(f"beyond h^{m} GD follows a modified flow, not a modified loss "
                         f"(F{m + 1} is {'not a gradient field' if ex.terms[m + 1].gradient is False else 'without a closed-form potential'}).")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    ex = expansion(args)
    if args.json:
        from theorycheck.running.output import emit

        emit("modified", to_json(ex), ensure_ascii=False, allow_nan=False)
    else:
        print(render(ex, latex=args.latex))
    return 0


__all__ = ["HELP", "NAME", "add_arguments", "expansion", "render", "run", "to_json"]
