"""``theorycheck compare BASELINE.json NEW.json``: regression of theory (see :mod:`theorycheck.reporting.compare`)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from theorycheck.core.errors import InputError
from theorycheck.reporting.compare import DEFAULT_ATOL, DEFAULT_RTOL, compare
from theorycheck.reporting.record import load_run

NAME = "compare"
HELP = ("Compare a run against a baseline: exit 0 when every verdict is the same and every key number is within "
        "tolerance, 1 otherwise (one line per difference), 2 on unreadable files.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("baseline", metavar="BASELINE.json", help="committed baseline, e.g. reports/baseline.json")
    p.add_argument("new", metavar="NEW.json", help="results.json of the run to check")
    p.add_argument("--rtol", type=float, default=DEFAULT_RTOL,
                   help=f"relative tolerance on key numbers without their own (default {DEFAULT_RTOL:g})")
    p.add_argument("--atol", type=float, default=DEFAULT_ATOL,
                   help=f"absolute tolerance floor on key numbers (default {DEFAULT_ATOL:g})")
    p.add_argument("--quiet", action="store_true", help="print differences only, no summary line")
    p.add_argument("--allow-missing", action="store_true",
                   help="exit 0 with a warning when BASELINE.json does not exist (default: exit 2)")


def _tol(name: str, v: float) -> float:
    if not math.isfinite(v) or v < 0:
        raise InputError(f"`--{name}` must be a finite number >= 0, got {v!r}.")
    return v


def declared_tolerances() -> dict[str, dict[str, dict[str, float]]]:
    """Per-key tolerances the registered claims' code declares (``Key.tolerance``), by claim id."""
    from theorycheck import claims

    return {c.id: {k.name: dict(k.tolerance) for k in c.keys if k.tolerance} for c in claims.all_claims()}


def run(args: argparse.Namespace) -> int:
    rtol, atol = _tol("rtol", args.rtol), _tol("atol", args.atol)
    if args.allow_missing and args.baseline and not Path(args.baseline).exists():
        load_run(args.new, "results file")  # a missing baseline is allowed; a missing or broken run is not
        print(f"theorycheck: warning: no baseline {args.baseline!r}; nothing compared (--allow-missing).",
              file=sys.stderr)
        return 0
    base = load_run(args.baseline, "baseline")
    new = load_run(args.new, "results file")
    diffs = compare(base, new, rtol=rtol, atol=atol, declared=declared_tolerances())
    for d in diffs:
        print(d)
    if not args.quiet:
        n = len(base.claims)
        if diffs:
            print(f"{len(diffs)} difference(s) against the baseline ({n} claims); if intended, update the baseline "
                  f"(see README: `theorycheck baseline`).")
        else:
            print(f"no differences: {n} claims, same verdicts, key numbers within rtol {rtol:g}.")
    return 1 if diffs else 0


__all__ = [
    "HELP", "NAME", "add_arguments", "declared_tolerances", "run",
]
