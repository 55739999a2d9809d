"""``theorycheck show CLAIM_ID`` or ``theorycheck show --paper NAME``: one claim, or one paper statement by statement.

``show CLAIM_ID`` prints a claim's kind of statement, source, statement, falsifier and the papers it checks.
``show --paper NAME`` prints the paper's statements in its own order, each with the claims that check it, or why
none does, or that it is an open question; with the verdicts and each statement's standing (holds, contradicted,
not borne out, undecided, not checked) from a run's ``results.json`` (``--results FILE``; by default
``reports/latest/results.json`` when it exists, which ``theorycheck run`` writes). ``--json`` prints the same as
one JSON object (:func:`paper_payload`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from theorycheck.claims import registry
from theorycheck.core.errors import InputError
from theorycheck.core.evidence import failure_label
from theorycheck.running.loading import add_loading_arguments, load_from_args, resolve
from theorycheck.running.output import emit

NAME = "show"
HELP = "Show one claim (source, statement, what would make it fail), or with --paper one paper statement by statement."

#: Where ``show --paper`` looks for verdicts when ``--results`` is not given (``theorycheck run``'s default output).
DEFAULT_RESULTS = "reports/latest/results.json"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("claim_id", nargs="?", help="the claim to show (or give --paper)")
    p.add_argument("--paper", metavar="NAME",
                   help="show a paper's statements in its order, each with its claims and how it stands "
                        "(NAME: its key, e.g. ma-ying-2021, or a unique prefix such as ma-ying)")
    p.add_argument("--results", metavar="FILE",
                   help=f"with --paper: the verdicts of this run's results.json (default: {DEFAULT_RESULTS} when it "
                        "exists)")
    p.add_argument("--json", action="store_true", help="with --paper: print one JSON object instead of text")
    add_loading_arguments(p)


def run(args: argparse.Namespace) -> int:
    load_from_args(args)
    if (args.claim_id is None) == (args.paper is None):
        raise InputError("give a claim id or `--paper NAME` (one of the two).")
    if args.paper is None:
        if args.results is not None or args.json:
            raise InputError("`--results` and `--json` go with `--paper NAME`.")
        return _show_claim(args.claim_id)
    return _show_paper(args.paper, args.results, args.json)


def _show_claim(claim_id: str) -> int:
    from theorycheck.claims.papers import papers_of

    c = resolve(claim_id)
    print(f"{c.id}: {c.title}")
    print(f"kind:      {c.statement_kind} (a FAIL is reported as: {failure_label(c.statement_kind)})")
    print(f"source:    {c.source}")
    print(f"statement: {c.statement}")
    print(f"fails if:  {c.falsifier}")
    if c.tags:
        print(f"tags:      {', '.join(c.tags)}")
    print(f"area:      {registry.area_of(c)}")
    print(f"expect:    {c.expect}" + (" (a declared finding: its FAIL is shown as FINDING)" if c.expect == "finding"
                                       else ""))
    papers = papers_of(c.id)
    if papers:
        print(f"papers:    {', '.join(p.key for p in papers)} (theorycheck show --paper NAME)")
    return 0


def _results(path: str | None) -> tuple[Any, str | None]:
    """(run record or None, the file it came from): an explicit file must load; the default one may be absent."""
    from theorycheck.core.errors import MalformedFileError
    from theorycheck.reporting.record import load_run

    if path is not None:
        return load_run(path, "results file"), path
    if not Path(DEFAULT_RESULTS).is_file():
        return None, None
    try:
        return load_run(DEFAULT_RESULTS, "results file"), DEFAULT_RESULTS
    except MalformedFileError as exc:  # a stale or foreign default file: say so, show the statements alone
        print(f"theorycheck: note: verdicts not shown: {exc}", file=sys.stderr)
        return None, None


def paper_payload(view: Any, results: str | None, record: Any) -> dict[str, Any]:
    """The JSON of ``show --paper``: the paper, where the verdicts came from, its tally and its statements."""
    settings = record.settings if record is not None else {}
    return {
        "paper": {"key": view.key, "short": view.short, "citation": view.citation, "url": view.url},
        "results": results,
        "run": {"quick": settings.get("quick"), "seed": settings.get("seed")} if record is not None else None,
        "tally": view.tally(),
        "statements": [{
            "number": s.number, "where": s.where, "place": s.place, "text": s.text, "status": s.status,
            "standing": s.standing, "not_checked": s.not_checked, "note": s.note,
            "claims": [{"id": r.claim_id, "outcome": r.outcome,
                        "verdict": str(r.evidence.verdict) if r.evidence is not None else None,
                        "statement_kind": r.evidence.statement_kind if r.evidence is not None else None,
                        "summary": r.evidence.summary if r.evidence is not None else None} for r in s.claims],
        } for s in view.statements],
    }


def _show_paper(name: str, results_path: str | None, as_json: bool) -> int:
    from theorycheck.claims.papers import get_paper
    from theorycheck.reporting.paper_pages import paper_views

    paper = get_paper(name)
    record, results = _results(results_path)
    view = paper_views([paper.to_json()], record.claims if record is not None else [])[0]
    if as_json:
        emit("show", paper_payload(view, results, record), indent=1, ensure_ascii=False)
        return 0
    print(f"{view.short}: {view.citation}")
    if view.url:
        print(view.url)
    if record is None:
        print("no verdicts: no run found (`theorycheck run` writes reports/latest/results.json; or --results FILE)")
    else:
        mode = "quick" if record.settings.get("quick") else "full"
        print(f"verdicts from {results} ({mode} run, seed {record.settings.get('seed')})")
    print(view.tally_text())
    for s in view.statements:
        print()
        print(f"{s.number:>2}. {s.place}")
        print(f"    {s.text}")
        if s.note:
            print(f"    ({s.note})")
        print(f"    → {s.standing_text}")
        for r in s.claims:
            tail = f": {r.evidence.summary}" if r.evidence is not None else ""
            print(f"      {r.outcome:<20} {r.claim_id}{tail}")
    return 0


__all__ = [
    "DEFAULT_RESULTS", "HELP", "NAME", "add_arguments", "paper_payload", "run",
]
