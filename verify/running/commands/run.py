"""``theorycheck run``: run every registered claim and write the report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from theorycheck.claims import RunContext
from theorycheck.running.executors import AUTO, EXECUTORS, default_executor
from theorycheck.running.loading import add_selection_arguments, selected_from_args

NAME = "run"
HELP = ("Run all registered claims (or some) and write DIR/results.json, DIR/report.md and DIR/index.html; "
        "exit 1 when a claim breaks its expectation (FAIL or ERROR of a claim expected to pass, PASS or ERROR of "
        "a finding).")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="fewer instances per claim (never looser tolerances)")
    p.add_argument("--out", default="reports/latest", metavar="DIR",
                   help="output directory (default: reports/latest); it may be new, empty or a previous report, "
                        "never a directory of other files; a symbolic link is followed")
    p.add_argument("--seed", type=int, default=RunContext.seed, help="master seed for sampled instances")
    add_selection_arguments(p)
    p.add_argument("--executor", choices=(AUTO, *EXECUTORS), default=AUTO,
                   help="where claims (and their inner sweeps) run: serial, a process pool, or Dask (default auto: "
                        "a process pool when more than one claim and more than one core, else serial)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (e.g. tcp://host:8786); default: a LocalCluster on this machine")
    p.add_argument("--html", action=argparse.BooleanOptionalAction, default=True,
                   help="also write the self-contained DIR/index.html (default on)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary table")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the on-disk cache of compiled integrators and claim timings")


def print_summary(record: Any, page: str, results: str) -> None:
    """The console summary: one line per claim (a declared finding shows as FINDING, with what it
    contradicts), the counts as the report's headline gives them, and where the report and its pages are."""
    from theorycheck.core.evidence import outcome_counts
    from theorycheck.reporting.paper_pages import finding_text

    width = max((len(e.claim_id) for e in record.claims), default=5)
    vw = max([12] + [len(e.outcome) for e in record.claims])
    print(f"{'claim':<{width}}  {'verdict':<{vw}}  key number")
    for e in record.claims:
        note = f"{finding_text(e, record.papers)}. " if e.outcome == "FINDING" else ""
        print(f"{e.claim_id:<{width}}  {e.outcome:<{vw}}  {note}{e.summary}")
    print(f"{outcome_counts(record.claims)}; report in {page}")
    if record.papers:
        from theorycheck.running.commands.show import DEFAULT_RESULTS

        where = "" if Path(results) == Path(DEFAULT_RESULTS) else f" --results {results}"
        print(f"paper by paper (which statements hold): `theorycheck show --paper NAME{where}`, NAME one of "
              f"{', '.join(p['key'] for p in record.papers)}; or the report's contents")


def run(args: argparse.Namespace) -> int:
    from theorycheck.reporting.outdir import claim_output
    from theorycheck.reporting.report import render_claim_figures, write_run
    from theorycheck.running.runner import run_claims
    from theorycheck.running.validate import check_seed

    if args.no_cache:
        from theorycheck.numerics import cache

        cache.set_enabled(False)  # through the environment, so the workers see it too
    selected = selected_from_args(args)
    executor = args.executor
    if executor == AUTO:
        executor = "dask" if args.scheduler else default_executor(len(selected))
    ctx = RunContext(quick=args.quick, seed=check_seed(args.seed), executor=executor, scheduler=args.scheduler)
    if args.scheduler and executor != "dask":
        from theorycheck.core.errors import InputError

        raise InputError(f"`--scheduler` needs `--executor dask`; got `--executor {args.executor}`.")
    rendered: dict[int, Any] = {}

    def draw(ev: Any) -> None:
        # while the workers compute the other claims, this process draws the finished one's figures
        i = next((i for i, c in enumerate(selected) if c.id == ev.claim_id and i not in rendered), None)
        if i is not None:
            rendered[i] = render_claim_figures(i, ev)

    # the output is checked and locked before any claim runs: a bad --out fails now, not after the work
    with claim_output(args.out) as target:
        record = run_claims(selected, ctx, progress=None if not args.quiet else False, on_done=draw)
        out = write_run(record, target, html=args.html, rendered=rendered)
    if not args.quiet:
        print_summary(record, f"{out}/{'index.html' if args.html else 'report.md'}", f"{out}/results.json")
    sys.stdout.flush()
    # A finding (a published claim the numbers contradict) FAILs as expected; a claim expected to PASS that FAILs,
    # a finding that PASSes, and a check that raised break the run.
    # an ERROR says why (the exception, or the module a worker could not import) on the same line
    broken = [(e.claim_id, c.broken_expectation(e.verdict), e.reason if str(e.verdict) == "ERROR" else "")
              for c, e in zip(selected, record.claims)]
    broken = [(cid, f"{why} ({reason})" if reason else why) for cid, why, reason in broken if why]
    for cid, why in broken:
        print(f"theorycheck: expectation broken: {cid}: {why}", file=sys.stderr)
    return 1 if broken else 0


__all__ = [
    "HELP", "NAME", "add_arguments", "print_summary", "run",
]
