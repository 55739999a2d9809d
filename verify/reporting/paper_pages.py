"""The paper-by-paper view of a run: each paper's statements, in its order, with how each stands.

A run's record carries the papers its claims check (``RunRecord.papers``);
:func:`paper_views` pairs every statement with the evidence of its claims and
names its *standing*, which every view (Markdown, HTML, ``theorycheck show
--paper``) prints the same way:

* ``holds``: every claim under it that ran PASSes;
* ``contradicted``: a claim of kind theorem under it FAILs (a declared finding or not);
* ``not borne out``: a claim of another kind (heuristic, extrapolation, derived) FAILs;
* ``undecided``: a claim is INCONCLUSIVE (and none FAILs);
* ``error``: a claim's check raised;
* ``not run``: none of its claims is in this run;
* ``not checked``: no claim checks it (the reason is shown).

An open question gets the standing of its claims (they are extrapolations), shown as an open question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from theorycheck.core.evidence import Evidence, Verdict, failure_label

#: Standings in the order a paper's tally lists them.
STANDINGS = ("holds", "contradicted", "not borne out", "undecided", "error", "not run", "not checked")

#: How a paper's tally names a count of each standing (singular, plural).
_TALLY_WORDS = {"holds": ("holds", "hold"), "contradicted": ("contradicted", "contradicted"),
                "not borne out": ("not borne out", "not borne out"), "undecided": ("undecided", "undecided"),
                "error": ("error", "errors"), "not run": ("not run", "not run"),
                "not checked": ("not checked", "not checked")}


@dataclass
class ClaimRow:
    """One claim under a statement: its evidence in this run, or None when it did not run."""

    claim_id: str
    evidence: Evidence | None

    @property
    def outcome(self) -> str:
        return self.evidence.outcome if self.evidence is not None else "NOT RUN"


@dataclass
class StatementView:
    """A statement of a paper with the claims that check it and its standing (module docstring)."""

    number: int
    where: str
    place: str
    text: str
    status: str
    standing: str
    claims: list[ClaimRow] = field(default_factory=list)
    not_checked: str = ""
    note: str = ""

    @property
    def open_question(self) -> bool:
        return self.status == "open question"

    @property
    def standing_text(self) -> str:
        """The standing as a reader sees it: "holds", "open question (extrapolation holds)", "not checked: …"."""
        if self.standing == "not checked":
            return f"not checked: {self.not_checked}" if self.not_checked else "not checked"
        ran = sum(r.evidence is not None for r in self.claims)
        part = f" ({ran} of {len(self.claims)} claims in this run)" if 0 < ran < len(self.claims) else ""
        if self.open_question:
            return f"open question (checked as an extrapolation: {self.standing}{part})"
        return self.standing + part


@dataclass
class PaperView:
    """A paper of the run with its statements' standings."""

    key: str
    short: str
    citation: str
    url: str
    statements: list[StatementView]

    def tally(self) -> dict[str, int]:
        """How many statements have each standing (open questions counted apart, under ``"open question"``)."""
        out: dict[str, int] = {}
        for s in self.statements:
            k = "open question" if s.open_question else s.standing
            out[k] = out.get(k, 0) + 1
        return out

    def tally_text(self) -> str:
        """``"6 hold, 1 contradicted, 3 not checked, 2 open questions"``."""
        t = self.tally()
        parts = []
        for k in STANDINGS:
            if t.get(k):
                one, many = _TALLY_WORDS[k]
                parts.append(f"{t[k]} {one if t[k] == 1 else many}")
        if t.get("open question"):
            parts.append(f"{t['open question']} open question{'s' if t['open question'] > 1 else ''}")
        return ", ".join(parts)


def standing(rows: Iterable[ClaimRow]) -> str:
    """The standing of a statement checked by ``rows`` (module docstring)."""
    ran = [r.evidence for r in rows if r.evidence is not None]
    if not ran:
        return "not run"
    if any(e.verdict is Verdict.ERROR for e in ran):
        return "error"
    failed = [e for e in ran if e.verdict is Verdict.FAIL]
    if failed:
        return "contradicted" if any(e.statement_kind == "theorem" for e in failed) else "not borne out"
    if any(e.verdict is Verdict.INCONCLUSIVE for e in ran):
        return "undecided"
    return "holds"


def _statement(number: int, s: Mapping[str, Any], by_id: Mapping[str, Evidence]) -> StatementView:
    rows = [ClaimRow(c, by_id.get(c)) for c in s.get("claims", [])]
    where = str(s.get("where", ""))
    place = where if s.get("where_checked") else f"{where} (number not checked against the paper)"
    return StatementView(number=number, where=where, place=place, text=str(s.get("text", "")),
                         status=str(s.get("status", "checked")),
                         standing=standing(rows) if rows else "not checked", claims=rows,
                         not_checked=str(s.get("not_checked", "")), note=str(s.get("note", "")))


def paper_views(papers: Iterable[Mapping[str, Any]], evidence: Iterable[Evidence]) -> list[PaperView]:
    """The papers (JSON of :class:`theorycheck.claims.papers.Paper`, as a run records them) with the standing of
    each statement given ``evidence`` (the run's claims)."""
    by_id = {e.claim_id: e for e in evidence}
    return [PaperView(key=str(p.get("key", "")), short=str(p.get("short", "")), citation=str(p.get("citation", "")),
                      url=str(p.get("url", "")),
                      statements=[_statement(i + 1, s, by_id) for i, s in enumerate(p.get("statements", []))])
            for p in papers]


def unplaced(papers: Iterable[Mapping[str, Any]], evidence: Iterable[Evidence]) -> list[Evidence]:
    """The claims of the run that no statement of ``papers`` names (a user's claims without a paper)."""
    placed = {c for p in papers for s in p.get("statements", []) for c in s.get("claims", [])}
    return [e for e in evidence if e.claim_id not in placed]


def papers_of(papers: Iterable[Mapping[str, Any]], claim_id: str) -> list[tuple[str, str]]:
    """(key, short name) of every paper with a statement that ``claim_id`` checks."""
    return [(str(p.get("key", "")), str(p.get("short", ""))) for p in papers
            if any(claim_id in s.get("claims", []) for s in p.get("statements", []))]


def contradicted_statements(papers: Iterable[Mapping[str, Any]], claim_id: str) -> list[str]:
    """"Paper, where" of each statement ``claim_id`` checks: what its FAIL contradicts or does not bear out."""
    return [f"{p.get('short', '')}, {s.get('where', '')}" for p in papers for s in p.get("statements", [])
            if claim_id in s.get("claims", [])]


def finding_text(e: Evidence, papers: Iterable[Mapping[str, Any]]) -> str:
    """What a FAIL of ``e`` is, and of which statements: "contradicted published statement: Wu, Ma & E 2018, Sec. 3"."""
    where = contradicted_statements(papers, e.claim_id)
    return failure_label(e.statement_kind) + (f": {'; '.join(where)}" if where else "")


__all__ = ["STANDINGS", "ClaimRow", "PaperView", "StatementView", "contradicted_statements", "finding_text",
           "paper_views", "papers_of", "standing", "unplaced"]
