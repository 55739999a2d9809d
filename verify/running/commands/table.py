"""``theorycheck table RESULTS.json``: a run's claims as a LaTeX table (claim, kind, verdict, key numbers, source).

Example::

    theorycheck run --claims my_bounds.py --only-user --quick --out report
    theorycheck table report/results.json --claims my_bounds.py --out claims.tex --standalone

``--standalone`` writes a complete document that compiles with ``pdflatex``;
without it the ``longtable`` to ``\\input`` into a paper (packages longtable
and amssymb). The text starts with the TeX comment :data:`MARKER`: ``--out``
replaces a file that starts with it (a table theorycheck wrote) and refuses
any other existing file unless ``--force``, as ``baseline`` does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from theorycheck.running.loading import add_loading_arguments, load_from_args

NAME = "table"
HELP = "Write a run's claims (results.json) as a LaTeX table: claim, kind, verdict, key numbers, source."
#: First line of every table written: how ``--out`` recognises a file it may replace.
MARKER = "% written by theorycheck table"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", metavar="RESULTS.json", help="results.json of a run (e.g. reports/latest/results.json)")
    p.add_argument("--out", metavar="FILE.tex",
                   help="write here (default: standard output); replaces only a table theorycheck wrote, never a "
                        "directory")
    p.add_argument("--force", action="store_true", help="replace `--out` even if theorycheck did not write it")
    p.add_argument("--standalone", action="store_true", help="a complete document (compiles with pdflatex)")
    p.add_argument("--caption", default="Claims checked numerically with theorycheck.", metavar="TEXT",
                   help="the table's caption")
    add_loading_arguments(p)


def kinds_of(claim_ids: list[str]) -> dict[str, str]:
    """The kind of statement of each registered claim (empty where a claim declares none or is not loaded)."""
    from theorycheck import claims

    registered = {c.id: c for c in claims.all_claims()}
    return {cid: getattr(registered.get(cid), "statement_kind", "") or "" for cid in claim_ids}


def written_by_table(path: Path) -> bool:
    """Whether ``path`` starts with :data:`MARKER` (unreadable counts as not)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MARKER)) == MARKER.encode()
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    from theorycheck.core.errors import InputError
    from theorycheck.reporting.latex import render_latex_table
    from theorycheck.reporting.record import load_run

    record = load_run(args.results, "results file")
    load_from_args(args)
    text = f"{MARKER} from {Path(args.results).name}; `theorycheck table --out` replaces it\n" + render_latex_table(
        record, kinds=kinds_of([e.claim_id for e in record.claims]), standalone=args.standalone, caption=args.caption)
    if not args.out:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    if out.is_dir():
        raise InputError(f"`--out` {str(out)!r} is a directory; give a file name such as claims.tex.")
    if not out.parent.is_dir():
        raise InputError(f"`--out`: the directory {str(out.parent)!r} does not exist.")
    if out.exists() and not args.force and not written_by_table(out):
        raise InputError(f"`--out` {str(out)!r} exists and was not written by theorycheck table; not replacing it "
                         f"without --force.")
    from theorycheck.core.files import write_atomically

    try:
        write_atomically(out, text.encode("utf-8"))  # a crash never leaves half a table over a good one
    except OSError as exc:
        raise InputError(f"cannot write `--out` {str(out)!r}: {exc.strerror or exc}.") from None
    print(f"wrote {out}: {len(record.claims)} claims")
    return 0


__all__ = ["HELP", "MARKER", "NAME", "add_arguments", "kinds_of", "run", "written_by_table"]
