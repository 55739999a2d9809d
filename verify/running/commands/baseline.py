"""``theorycheck baseline``: (re)make the committed regression baseline on purpose.

Runs the quick suite exactly as CI does (``--quick``, default seed), or takes an
existing ``results.json`` with ``--from``, prints what changed against the
current baseline, strips timings and writes ``reports/baseline.json``
atomically. A run with ERROR claims is refused (a broken check is not a
reference) unless ``--allow-error``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from theorycheck.claims import RunContext
from theorycheck.core.errors import MalformedFileError
from theorycheck.core.evidence import Verdict
from theorycheck.reporting.compare import compare
from theorycheck.reporting.record import load_run, save_run
from theorycheck.running.executors import EXECUTORS
from theorycheck.running.loading import add_selection_arguments, selected_from_args

NAME = "baseline"
HELP = "Make reports/baseline.json from the quick suite (or --from RESULTS.json), showing what changed."

DEFAULT_PATH = "reports/baseline.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=DEFAULT_PATH, metavar="FILE", help=f"baseline to write (default {DEFAULT_PATH})")
    p.add_argument("--from", dest="source", metavar="RESULTS.json",
                   help="use this run's results instead of running the quick suite")
    p.add_argument("--executor", choices=EXECUTORS, default="serial", help="where to run the quick suite")
    p.add_argument("--allow-error", action="store_true", help="write the baseline even if some claims are ERROR")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_selection_arguments(p)


def run(args: argparse.Namespace) -> int:
    from theorycheck.running.runner import run_claims

    if args.source:
        record = load_run(args.source, "results file")
    else:
        ctx = RunContext(quick=True, executor=args.executor)
        record = run_claims(selected_from_args(args), ctx, progress=False if args.quiet else None)
    errors = [e.claim_id for e in record.claims if e.verdict is Verdict.ERROR]
    if errors and not args.allow_error:
        print(f"not writing a baseline: {len(errors)} claim(s) are ERROR ({', '.join(errors)}); fix them or pass "
              f"--allow-error.")
        return 1
    out = Path(args.out)
    if out.exists():
        try:
            old = load_run(out, "baseline")
        except MalformedFileError as exc:
            print(f"replacing an unreadable baseline ({exc})")
        else:
            diffs = compare(old, record)
            for d in diffs:
                print(d)
            print(f"{len(diffs)} difference(s) against the previous baseline." if diffs else
                  "same verdicts and key numbers as the previous baseline.")
    save_run(record.without_timings(), out)
    counts = {str(v): sum(e.verdict is v for e in record.claims) for v in Verdict}
    print(f"wrote {out}: {len(record.claims)} claims (" + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
          + "); review `git diff` and commit it with the change that explains it.")
    return 0


__all__ = [
    "DEFAULT_PATH", "HELP", "NAME", "add_arguments", "run",
]
