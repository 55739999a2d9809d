"""``theorycheck baseline``: (re)make the committed regression baseline on purpose.

Runs the quick suite exactly as CI does (``--quick``, default seed), or takes an
existing ``results.json`` with ``--from``, prints what changed against the
current baseline, strips timings and writes ``reports/baseline.json``
atomically. A run with ERROR claims is refused (a broken check is not a
reference) unless ``--allow-error``; so is a run whose mode (``quick``), seed
or claim set differs from the current baseline, unless ``--force`` (claims
named with ``--claim`` are rerun and their entries replaced or added, the
others kept). The default file is ``reports/baseline.json`` under the project
root (the nearest directory holding ``pyproject.toml`` or ``.git``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from theorycheck.claims import RunContext
from theorycheck.core.errors import InputError, MalformedFileError
from theorycheck.core.evidence import Verdict, outcome_counts
from theorycheck.reporting.compare import COMPARED_SETTINGS, compare
from theorycheck.reporting.record import RunRecord, load_run, save_run
from theorycheck.running.executors import EXECUTORS
from theorycheck.running.loading import add_selection_arguments, load_from_args, selected_from_args

NAME = "baseline"
HELP = ("Make reports/baseline.json (under the project root) from the quick suite, the selected claims or "
        "--from RESULTS.json, showing what changed.")

DEFAULT_PATH = "reports/baseline.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=None, metavar="FILE",
                   help=f"baseline to write (default {DEFAULT_PATH} under the project root: the nearest directory "
                        f"with pyproject.toml or .git)")
    p.add_argument("--from", dest="source", metavar="RESULTS.json",
                   help="use this run's results instead of running the quick suite")
    p.add_argument("--executor", choices=EXECUTORS, default="serial", help="where to run the quick suite")
    p.add_argument("--allow-error", action="store_true", help="write the baseline even if some claims are ERROR")
    p.add_argument("--force", action="store_true",
                   help="write even if the claim set, the mode (quick) or the seed differs from the current baseline")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    # --claim / --tag / --area narrow the run to some claims and update only their entries (the others are kept);
    # --only-user (with --claims or the entry points) makes the user's claims the whole baseline
    add_selection_arguments(p)


def _new_record(args: argparse.Namespace) -> RunRecord:
    from theorycheck.running.runner import run_claims

    if args.source is not None:
        if not args.source.strip():
            raise InputError("`--from` is empty; give a results.json, or leave `--from` out to run the quick suite.")
        if _narrowed(args):
            raise InputError("give either `--from` or `--claim`/`--tag`/`--area`, not both.")
        load_from_args(args)  # `--claims` is honoured (and checked) with `--from` too
        return load_run(args.source, "results file")
    ctx = RunContext(quick=True, executor=args.executor)
    return run_claims(selected_from_args(args), ctx, progress=False if args.quiet else None)


def _narrowed(args: argparse.Namespace) -> bool:
    """Whether the command line picks some claims of the baseline (whose other entries are then kept)."""
    return bool(args.claim or args.tag or args.area)


def _merge(old: RunRecord | None, new: RunRecord, selected: list[str]) -> RunRecord:
    """``old`` with the entries of the claims in ``selected`` replaced (or added) by ``new``'s, in old order."""
    if old is None or not selected:
        return new
    from theorycheck.claims.papers import papers_json

    fresh = new.by_id()
    claims_ = [fresh.pop(e.claim_id, e) for e in old.claims] + list(fresh.values())
    return RunRecord(environment=new.environment, settings=new.settings, claims=claims_,
                     papers=papers_json(e.claim_id for e in claims_))


def refusals(old: RunRecord, new: RunRecord, selected: list[str]) -> list[str]:
    """Why ``new`` may not replace ``old`` without ``--force``: another mode, seed or claim set."""
    why = []
    for s in COMPARED_SETTINGS:
        if old.settings.get(s) != new.settings.get(s):
            why.append(f"{s} {old.settings.get(s)!r} -> {new.settings.get(s)!r}")
    before, after = [e.claim_id for e in old.claims], [e.claim_id for e in new.claims]
    removed = [c for c in before if c not in after]
    added = [c for c in after if c not in before and c not in selected]
    if removed:
        why.append(f"{len(removed)} claim(s) removed ({', '.join(removed[:5])}{', …' if len(removed) > 5 else ''})")
    if added:
        why.append(f"{len(added)} claim(s) added ({', '.join(added[:5])}{', …' if len(added) > 5 else ''})")
    return why


def run(args: argparse.Namespace) -> int:
    from theorycheck.running.project import default_path

    if args.out is not None and not args.out.strip():
        raise InputError("`--out` is empty; give the baseline file to write.")
    out = Path(args.out) if args.out is not None else default_path(DEFAULT_PATH)
    if out.is_dir():
        raise InputError(f"`--out` {str(out)!r} is a directory; give the baseline file to write.")
    old: RunRecord | None = None
    if out.exists():
        try:
            old = load_run(out, "baseline")
        except MalformedFileError as exc:
            if not args.force:
                raise MalformedFileError(f"{exc} Not replacing it without --force.") from None
            print(f"replacing an unreadable baseline ({exc})")
    new = _new_record(args)
    selected = [e.claim_id for e in new.claims] if _narrowed(args) else []
    record = _merge(old, new, selected)
    errors = [e.claim_id for e in record.claims if e.verdict is Verdict.ERROR]
    if errors and not args.allow_error:
        print(f"not writing a baseline: {len(errors)} claim(s) are ERROR ({', '.join(errors)}); fix them or pass "
              f"--allow-error.", file=sys.stderr)
        return 1
    if old is not None:
        why = refusals(old, record, selected)
        if why and not args.force:
            print(f"theorycheck: error: not replacing {out}: the new run differs from it in {'; '.join(why)}; "
                  f"pass --force if that is intended.", file=sys.stderr)
            return 1
        diffs = compare(old, record)
        for d in diffs:
            print(d)
        print(f"{len(diffs)} difference(s) against the previous baseline." if diffs else
              "same verdicts and key numbers as the previous baseline.")
    try:
        save_run(record.without_timings(), out)
    except OSError as exc:
        raise InputError(f"cannot write the baseline {str(out)!r}: {exc.strerror or exc}.") from None
    print(f"wrote {out}: {len(record.claims)} claims ({outcome_counts(record.claims)}); review `git diff` and "
          "commit it with the change that explains it.")
    return 0


__all__ = [
    "DEFAULT_PATH", "HELP", "NAME", "add_arguments", "refusals", "run",
]
