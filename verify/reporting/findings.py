"""The findings of a run, grouped by what kind of statement failed, as the Markdown of the README's findings section.

A FAIL means different things for different kinds of statement
(:data:`~theorycheck.core.evidence.STATEMENT_KINDS`): a contradicted published
statement when the claim is a ``theorem`` the cited paper makes, an
extrapolation or heuristic not borne out otherwise. :func:`findings_markdown`
lists the FAIL and INCONCLUSIVE claims of a run under those headings, each
with its one-line summary (the numbers), marks a declared finding (a
counterexample reproduced on purpose) as FINDING, and counts the rest with
the same counts line the console and the report print, so the README's
section between the markers :data:`BEGIN` and :data:`END` is the committed
baseline's, never a hand-kept copy: ``python -m theorycheck.reporting.findings
reports/baseline.json README.md`` rewrites it, and a test fails when they differ.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from theorycheck.core.errors import MalformedFileError
from theorycheck.core.evidence import STATEMENT_KINDS, Evidence, Verdict, outcome_counts
from theorycheck.reporting.paper_pages import contradicted_statements
from theorycheck.reporting.record import RunRecord, load_run

BEGIN = "<!-- findings: generated from reports/baseline.json; do not edit by hand -->"
END = "<!-- end of findings -->"

_FAIL_HEADINGS = {
    "theorem": "Contradicted published statements (a theorem of the cited paper FAILs)",
    "extrapolation": "Extrapolations not borne out (the paper does not state them)",
    "heuristic": "Heuristics not borne out (an informal prediction of the paper)",
    "derived": "Derivations not borne out (derived here)",
}


def _item(e: Evidence, papers: list[dict], with_kind: bool = False) -> str:
    parts = [e.statement_kind] if with_kind else []
    if e.expect == "finding" and e.verdict is not Verdict.FAIL:
        parts.append("a declared finding")
    parts += contradicted_statements(papers, e.claim_id)
    paren = f" ({'; '.join(parts)})" if parts else ""
    mark = f"{e.outcome} " if e.verdict is Verdict.FAIL else ""
    return f"- {mark}`{e.claim_id}`{paren}: {e.title}. {e.summary}"


def findings_markdown(record: RunRecord) -> str:
    """The findings section's generated part for ``record`` (text between :data:`BEGIN` and :data:`END`).

    The counts line is the one the console and the report print (:func:`~theorycheck.core.evidence.outcome_counts`);
    each FAIL is marked FINDING when the claim declares it (a counterexample reproduced on purpose) and FAIL
    otherwise, under the heading of its kind of statement, with the paper statements it bears on.
    """
    papers = record.papers
    lines: list[str] = [f"**{len(record.claims)} claims (quick suite): {outcome_counts(record.claims)}.**", ""]
    for kind in STATEMENT_KINDS:
        failed = [e for e in record.claims if e.verdict is Verdict.FAIL and e.statement_kind == kind]
        lines += [f"**{_FAIL_HEADINGS[kind]}:** {len(failed) or 'none'}", ""]
        lines += [_item(e, papers) for e in failed]
        if failed:
            lines.append("")
    unknown = [e for e in record.claims if e.verdict is Verdict.FAIL and e.statement_kind not in STATEMENT_KINDS]
    if unknown:
        lines += ["**FAIL, kind of statement not recorded:**", "", *[_item(e, papers) for e in unknown], ""]
    undecided = [e for e in record.claims if e.verdict is Verdict.INCONCLUSIVE]
    lines += [f"**Undecided (INCONCLUSIVE):** {len(undecided) or 'none'}", ""]
    lines += [_item(e, papers, with_kind=True) for e in undecided]
    if undecided:
        lines.append("")
    lost = [e for e in record.claims if e.outcome == "NO LONGER REPRODUCES"]
    if lost:
        lines += [f"**Declared findings that no longer reproduce (PASS):** {len(lost)}", "",
                  *[_item(e, papers) for e in lost], ""]
    passed = Counter(e.statement_kind or "unrecorded" for e in record.claims if e.verdict is Verdict.PASS)
    errors = [e.claim_id for e in record.claims if e.verdict is Verdict.ERROR]
    lines.append(f"**PASS:** {sum(passed.values())} of {len(record.claims)} claims ("
                 + ", ".join(f"{passed[k]} {k}" for k in (*STATEMENT_KINDS, "unrecorded") if passed[k]) + ")"
                 + (f"; ERROR: {', '.join(errors)}" if errors else "") + ".")
    return "\n".join(lines)


def section_of(text: str) -> str:
    """The generated part of a README: the text between :data:`BEGIN` and :data:`END` (MalformedFileError if absent)."""
    if BEGIN not in text or END not in text:
        raise MalformedFileError("the README has no generated findings section (its begin/end markers are missing).")
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def with_section(text: str, body: str) -> str:
    """``text`` with its generated findings part replaced by ``body``."""
    head, rest = text.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{body}\n{END}{rest.split(END, 1)[1]}"


def main(argv: list[str] | None = None) -> int:
    """``python -m theorycheck.reporting.findings BASELINE README``: rewrite the README's generated findings."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m theorycheck.reporting.findings BASELINE.json README.md", file=sys.stderr)
        return 2
    try:
        record = load_run(args[0], "baseline")
        readme = Path(args[1])
        text = readme.read_text(encoding="utf-8")
        section_of(text)
    except (MalformedFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    readme.write_text(with_section(text, findings_markdown(record)), encoding="utf-8")
    return 0


__all__ = ["BEGIN", "END", "findings_markdown", "main", "section_of", "with_section"]


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
