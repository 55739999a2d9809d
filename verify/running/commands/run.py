"""``theorycheck run``: run every registered claim and write the report."""

from __future__ import annotations

import argparse
import sys

from theorycheck.claims import RunContext
from theorycheck.running.executors import EXECUTORS

NAME = "run"
HELP = "Run all registered claims (or some) and write DIR/results.json, DIR/report.md and DIR/index.html."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="fewer instances per claim (never looser tolerances)")
    p.add_argument("--out", default="reports/latest", metavar="DIR",
                   help="output directory (default: reports/latest); it may be new, empty or a previous report, "
                        "never a directory of other files; a symbolic link is followed")
    p.add_argument("--seed", type=int, default=RunContext.seed, help="master seed for sampled instances")
    p.add_argument("--claim", action="append", metavar="ID", help="run only this claim (repeatable)")
    p.add_argument("--executor", choices=EXECUTORS, default="serial",
                   help="where claims (and their inner sweeps) run: serial, a process pool, or Dask (default serial)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (e.g. tcp://host:8786); default: a LocalCluster on this machine")
    p.add_argument("--html", action=argparse.BooleanOptionalAction, default=True,
                   help="also write the self-contained DIR/index.html (default on)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary table")


def run(args: argparse.Namespace) -> int:
    from theorycheck.reporting.outdir import claim_output
    from theorycheck.reporting.report import write_run
    from theorycheck.running.runner import run_claims
    from theorycheck.running.validate import check_seed, select_claims

    selected = select_claims(args.claim)
    ctx = RunContext(quick=args.quick, seed=check_seed(args.seed), executor=args.executor, scheduler=args.scheduler)
    if args.scheduler and args.executor != "dask":
        from theorycheck.core.errors import InputError

        raise InputError(f"`--scheduler` needs `--executor dask`; got `--executor {args.executor}`.")
    # the output is checked and locked before any claim runs: a bad --out fails now, not after the work
    with claim_output(args.out) as target:
        record = run_claims(selected, ctx, progress=None if not args.quiet else False)
        out = write_run(record, target, html=args.html)
    if not args.quiet:
        width = max((len(e.claim_id) for e in record.claims), default=5)
        print(f"{'claim':<{width}}  {'verdict':<12}  key number")
        for e in record.claims:
            print(f"{e.claim_id:<{width}}  {str(e.verdict):<12}  {e.summary}")
        counts: dict[str, int] = {}
        for e in record.claims:
            counts[str(e.verdict)] = counts.get(str(e.verdict), 0) + 1
        page = "index.html" if args.html else "report.md"
        print(", ".join(f"{n} {v}" for v, n in sorted(counts.items())) + f"; report in {out}/{page}")
    sys.stdout.flush()
    # A FAIL is a finding, not a crash: the run itself succeeded. ERROR means a check broke.
    return 1 if any(str(e.verdict) == "ERROR" for e in record.claims) else 0


__all__ = [
    "HELP", "NAME", "add_arguments", "run",
]
