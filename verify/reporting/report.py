"""Render a :class:`~theorycheck.core.evidence.RunRecord` as a report people read.

``write_run(record, DIR)`` writes

- ``DIR/results.json``: the run, in the versioned schema of :mod:`theorycheck.reporting.schema`;
- ``DIR/report.md``: Markdown, with the figure PNGs beside it in ``DIR/figures/``;
- ``DIR/index.html``: one self-contained page (figures embedded as base64 PNG,
  inline CSS, no scripts, nothing fetched), unless ``html=False``.

Both documents have a summary table (claim, source, verdict, key number) and
then one section per claim: statement, verdict and why, key numbers, figures,
the cases table, any counterexample, and what would make the claim fail.

Rendering never computes: every number shown comes from the evidence. The
report is built in a temporary sibling directory and swapped in at the end
(:mod:`theorycheck.reporting.outdir`), so a crash mid-write leaves the previous
report intact, and only a previous report is ever replaced. A figure that cannot be
drawn becomes a one-line note in its section, never a lost report.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theorycheck.claims import registry
from theorycheck.core.evidence import Case, Evidence, Figure, Verdict, failure_label, outcome_counts
from theorycheck.reporting import paper_pages
from theorycheck.reporting.paper_pages import finding_text
from theorycheck.reporting.record import RunRecord, dumps

if TYPE_CHECKING:
    from theorycheck.reporting.outdir import OutputDir

__all__ = ["AREAS", "FIGURE_CACHE_KIND", "FOLD_CASES", "MAX_CASES", "ROUNDOFF_MARGIN", "UNPLACED_ANCHOR", "area_of",
           "area_title", "claim_anchor", "counterexample_rows", "dumps", "expectation_text", "groups", "latex_of",
           "margin_text", "paper_anchor", "render_claim_figures", "render_figures", "render_html", "render_markdown",
           "RenderedFigure", "split_formula", "summary_text", "unique_cases", "violation_figure", "write_run"]

#: Cases shown per claim; the rest stay in results.json (non-PASS cases are shown first).
MAX_CASES = 40
#: HTML case tables longer than this are folded (<details>), open when a case is not PASS.
FOLD_CASES = 12
_MAX_CELL = 160
_VERDICT_COLOURS = {"PASS": "#1a7f37", "FAIL": "#cf222e", "INCONCLUSIVE": "#9a6700", "ERROR": "#6e40c9"}


@dataclass
class RenderedFigure:
    """A figure after rendering: PNG bytes and its file name, or why it could not be drawn."""

    figure: Figure
    filename: str | None = None
    png: bytes | None = None
    error: str | None = None


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", s).strip("-") or "claim"


def render_figures(record: RunRecord,
                   rendered: dict[int, list[RenderedFigure]] | None = None) -> dict[int, list[RenderedFigure]]:
    """Render every plot of every claim once (claim index -> figures in order); tables are passed through.

    ``rendered`` holds claims already drawn (by :func:`render_claim_figures`, e.g. while a run was
    still computing the others); they are reused, not drawn again.
    """
    out: dict[int, list[RenderedFigure]] = {}
    for ci, e in enumerate(record.claims):
        done = (rendered or {}).get(ci)
        out[ci] = done if done is not None else render_claim_figures(ci, e)
    return out


def render_claim_figures(ci: int, e: Evidence) -> list[RenderedFigure]:
    """The figures of claim number ``ci`` of a run, rendered (PNG bytes, or why not).

    A FAIL or INCONCLUSIVE claim's figures start with its margins figure (:func:`violation_figure`).
    """
    from theorycheck.reporting.figures import is_plot, render_png

    rendered = []
    extra = violation_figure(e)
    for fi, f in enumerate(([extra] if extra is not None else []) + list(e.figures)):
        if not is_plot(f):
            rendered.append(RenderedFigure(f))
            continue
        name = f"{ci:02d}-{_slug(e.claim_id)}-{fi}.png" if extra is None else (
            f"{ci:02d}-{_slug(e.claim_id)}-margins.png" if fi == 0 else f"{ci:02d}-{_slug(e.claim_id)}-{fi - 1}.png")
        try:
            rendered.append(RenderedFigure(f, name, _png(f, render_png)))
        except Exception as exc:  # noqa: BLE001 - one bad figure must not lose the report
            rendered.append(RenderedFigure(f, error=f"{type(exc).__name__}: {exc}"))
    return rendered


#: Kind of the on-disk cache entries of rendered figures (:mod:`theorycheck.numerics.cache`).
FIGURE_CACHE_KIND = "figure-png"


@functools.lru_cache(maxsize=1)
def _renderer_digest() -> str:
    """SHA-256 of the figure renderer's source: read once per process, not once per figure."""
    import hashlib

    from theorycheck.reporting import figures

    return hashlib.sha256(Path(figures.__file__).read_bytes()).hexdigest()


def _png(f: Figure, render: Any) -> bytes:
    """``render(f)``, or the PNG drawn earlier for the same figure data, renderer code and matplotlib version.

    A PNG is a pure function of those (the renderer writes no date), so an unchanged claim's figures
    are read back instead of drawn again (about 0.2 s of CPU each).
    """
    import hashlib
    from dataclasses import asdict

    import matplotlib

    from theorycheck.core.evidence import jsonable
    from theorycheck.numerics import cache

    key = {"figure": hashlib.sha256(json.dumps(jsonable(asdict(f)), sort_keys=True, default=str).encode()).hexdigest(),
           "renderer": _renderer_digest(), "matplotlib": matplotlib.__version__}
    png = cache.load(FIGURE_CACHE_KIND, key)
    if png is None or not png.startswith(b"\x89PNG"):
        png = render(f)
        cache.store(FIGURE_CACHE_KIND, key, png)
    return png


# ----------------------------------------------------------------------------- formatting
def _fmt(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        inner = ", ".join(_fmt(x) for x in v[:8])
        return f"[{inner}{', …' if len(v) > 8 else ''}]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt(x)}" for k, x in list(v.items())[:8]) + ("…}" if len(v) > 8 else "}")
    return str(v)


def _kv(d: dict[str, Any]) -> str:
    s = ", ".join(f"{k}={_fmt(v)}" for k, v in d.items())
    return s if len(s) <= _MAX_CELL else s[: _MAX_CELL - 1] + "…"


def _shown_cases(cases: list[Case]) -> tuple[list[Case], int]:
    """At most MAX_CASES cases, the non-PASS ones first when some must be left out."""
    if len(cases) <= MAX_CASES:
        return cases, 0
    ordered = [c for c in cases if c.verdict is not Verdict.PASS] + [c for c in cases if c.verdict is Verdict.PASS]
    return ordered[:MAX_CASES], len(cases) - MAX_CASES


def _counts(record: RunRecord) -> str:
    """The run's counts with declared findings apart (:func:`~theorycheck.core.evidence.outcome_counts`)."""
    return outcome_counts(record.claims)


def claim_anchor(claim_id: str) -> str:
    """The anchor of a claim's section: its id (``#stability.wu-ma-e-necessary``), made URL-safe."""
    return _slug(claim_id).lower()


def paper_anchor(key: str) -> str:
    """The anchor of a paper's section (``#paper-ma-ying-2021``)."""
    return f"paper-{_slug(key).lower()}"


def _meta(record: RunRecord) -> str:
    env, st = record.environment, record.settings
    return (f"theorycheck {env.get('packages', {}).get('theorycheck')} · git {env.get('git_commit')} · "
            f"quick={st.get('quick')} · seed={st.get('seed')} · executor={st.get('executor', 'serial')} · "
            f"schema v{record.schema_version}")


def _short(s: str, n: int = 90) -> str:
    """A long citation cut at a word boundary for the summary table (the section has it in full)."""
    s = " ".join(str(s).split())
    if len(s) <= n:
        return s
    cut = s[:n].rsplit(" ", 1)[0].rstrip(",;:(")
    return cut + " …"


def _counterexample_text(e: Evidence) -> str:
    text = json.dumps(e.counterexample, sort_keys=True, indent=1, default=str, ensure_ascii=False)
    return text if len(text) <= 4000 else text[:4000] + "\n… (truncated; full counterexample in results.json)"


#: Report sections in order (the claim areas of :mod:`theorycheck.claims.registry`).
AREAS = registry.AREAS


def area_of(claim_id: str) -> str:
    """The report section of a claim: :func:`theorycheck.claims.registry.area_of_id`."""
    return registry.area_of_id(claim_id)


def area_title(area: str) -> str:
    return AREAS.get(area, area)


def groups(record: RunRecord) -> list[tuple[str, list[tuple[int, Evidence]]]]:
    """The claims grouped by area (known areas first, in :data:`AREAS` order), each with its index in the run."""
    by: dict[str, list[tuple[int, Evidence]]] = {}
    for ci, e in enumerate(record.claims):
        by.setdefault(area_of(e.claim_id), []).append((ci, e))
    order = [a for a in AREAS if a in by] + [a for a in by if a not in AREAS]
    return [(a, by[a]) for a in order]


def _area_anchor(area: str) -> str:
    return f"area-{_slug(area).lower()}"


def summary_text(e: Evidence) -> str:
    """The summary without a leading repeat of the verdict (the badge beside it already says it)."""
    return re.sub(rf"^\s*{re.escape(str(e.verdict))}\s*[:—-]\s*", "", e.summary)


def _kind_label(e: Evidence) -> str:
    """The kind of statement, and for a FAIL what it is called ("theorem: contradicted published statement")."""
    kind = e.statement_kind or "kind not recorded"
    return f"{kind}: {failure_label(e.statement_kind)}" if e.verdict is Verdict.FAIL else kind


def expectation_text(e: Evidence, papers: list[dict[str, Any]]) -> str:
    """For a declared finding, what it reproduces and what its FAIL contradicts; empty for other claims."""
    if e.outcome == "FINDING":
        return ("declared finding, reproduced on purpose (its FAIL is expected; theorycheck run exits 0) — "
                f"{finding_text(e, papers)}")
    if e.outcome == "NO LONGER REPRODUCES":
        return ("declared finding that no longer reproduces: the claim PASSed although its statement was known to "
                "FAIL (theorycheck run exits 1)")
    if e.expect == "finding" and e.verdict is Verdict.INCONCLUSIVE:
        return "declared finding, undecided in this run (INCONCLUSIVE: the counterexample did not decide)"
    return ""


def _row_note(e: Evidence, papers: list[dict[str, Any]]) -> str:
    """The key-number cell of the summary table: for a FINDING, what it contradicts before the numbers."""
    if e.outcome == "FINDING":
        return f"{finding_text(e, papers)}. {summary_text(e)}"
    if e.outcome == "NO LONGER REPRODUCES":
        return f"finding no longer reproduces. {summary_text(e)}"
    return summary_text(e)


def _jump(e: Evidence) -> str:
    """Where a FINDING's counterexample is: the counterexample table, else the cases, else the claim's section."""
    if e.counterexample:
        return f"{claim_anchor(e.claim_id)}-counterexample"
    return f"{claim_anchor(e.claim_id)}-cases" if e.cases else claim_anchor(e.claim_id)


#: A negative margin this small on a PASS case is round-off in the check's arithmetic, shown as ≈0.
ROUNDOFF_MARGIN = 1e-9


def margin_text(c: Case) -> str:
    """A case's margin in the report's sign convention: ≥ 0 holds, < 0 violated; PASS round-off shown as ≈0."""
    if c.margin is None:
        return ""
    m = c.margin
    if c.verdict is Verdict.PASS and -ROUNDOFF_MARGIN < m < 0:
        return f"≈0 ({m:.2g}, round-off)"
    return _fmt(m)


def unique_cases(cases: list[Case]) -> list[Case]:
    """The cases with exact repeats (same name, verdict, numbers and note) shown once."""
    seen: set[str] = set()
    out = []
    for c in cases:
        sig = json.dumps([c.name, str(c.verdict), c.measured, c.expected, c.margin, c.note], sort_keys=True,
                         default=str)
        if sig not in seen:
            seen.add(sig)
            out.append(c)
    return out


def _margin(c: Case) -> float:
    return float(c.margin) if c.margin is not None else float("nan")


def violation_figure(e: Evidence) -> Figure | None:
    """For a FAIL or INCONCLUSIVE claim: every case's margin as a bar (the violation drawn, not only told).

    Built from the cases' own margins (nothing is computed); None when no case has a margin.
    """
    if e.verdict not in (Verdict.FAIL, Verdict.INCONCLUSIVE):
        return None
    cases = [c for c in unique_cases(e.cases) if c.margin is not None]
    if not cases:
        return None
    bad = [c for c in cases if c.verdict is not Verdict.PASS]
    # many cases: the ones not passing and the tightest passing ones, so the figure stays readable
    keep = bad[:30] + sorted((c for c in cases if c.verdict is Verdict.PASS), key=lambda c: _margin(c))[
        : max(0, 30 - len(bad))]
    keep = [c for c in cases if c in keep]
    from theorycheck.core.evidence import Series

    title = f"{e.claim_id}: margin per case"
    if len(keep) < len(cases):
        title += f" ({len(keep)} of {len(cases)})"
    return Figure("margins", title, "margin: < 0 violated, ≥ 0 holds (symmetric log scale)", "",
                  series=[Series("margin", [c.name for c in keep], [_margin(c) for c in keep], "bar")],
                  annotations={"verdicts": [str(c.verdict) for c in keep]})


_SYMBOLIC = re.compile(r"^[A-Za-z0-9_\s+\-*/^().,]+$")
_SAFE_NAMES = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "atan", "erf", "pi", "E"}


def latex_of(value: Any) -> str | None:
    """LaTeX of a symbolic value of a counterexample (an expression or an exact fraction as text), else None.

    Only plain arithmetic text is read, as sympy symbols and the elementary functions (never evaluated code).
    """
    if not isinstance(value, str) or len(value) > 400 or not _SYMBOLIC.match(value) or "__" in value:
        return None
    if re.search(r"\.[A-Za-z_]", value) or not re.search(r"[*/^()]|\w\s*[+-]\s*\w", value):
        return None  # attribute access is never arithmetic; plain numbers and words stay text
    import sympy as sp
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    if re.fullmatch(r"\s*-?\d{1,60}\s*/\s*\d{1,60}\s*", value):  # an exact fraction
        num, den = value.split("/")
        return str(sp.latex(sp.Rational(int(num), int(den)))) if int(den) else None
    names = set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", value))
    local: dict[str, Any] = {n: sp.Symbol(n) for n in names - _SAFE_NAMES}
    local.update({n: getattr(sp, n) for n in names & _SAFE_NAMES})
    try:
        expr = parse_expr(value.replace("^", "**"), local_dict=local, global_dict={
            n: getattr(sp, n) for n in ("Integer", "Rational", "Float", "Symbol", "Add", "Mul", "Pow")},
                          transformations=standard_transformations, evaluate=False)
        names_tex = {}
        for sym in expr.free_symbols:
            m = re.fullmatch(r"([A-Za-z]+)((?:_\d+)+)", str(sym))
            if m:  # L_0_1: a multi-index, written L_{0,1}
                names_tex[sym] = f"{m.group(1)}_{{{','.join(m.group(2).strip('_').split('_'))}}}"
        tex = str(sp.latex(expr, symbol_names=names_tex, order="none"))
        return re.sub(r"(?<![\d.}])1 \\cdot ", "", tex)  # unevaluated 1/5 is 1·(1/5)
    except Exception:  # noqa: BLE001 - not an expression: shown as text
        return None


def split_formula(note: str) -> tuple[str, str] | None:
    """(text, LaTeX) when a note ends in ``... = <expression>`` (a polynomial a check printed), else None."""
    head, sep, tail = note.rpartition(" = ")
    if not sep or len(tail.strip()) < 12:
        return None
    tex = latex_of(tail.strip())
    return (head + " =", tex) if tex is not None else None


def _flatten(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(d, dict):
        out: list[tuple[str, Any]] = []
        for k, v in d.items():
            out += _flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    return [(prefix or "value", d)]


def counterexample_rows(e: Evidence) -> list[tuple[str, Any]]:
    """The counterexample as (field, value) rows, nested fields joined with dots, the note first.

    When the counterexample is one of the cases, its measured and expected numbers are in that case's row
    already: they are not repeated, and the ``case`` field says where they are.
    """
    cex = dict(e.counterexample or {})
    row = next((c for c in e.cases if c.name == cex.get("case")), None)
    if row is not None:
        for part in ("measured", "expected"):
            if part in cex and cex[part] == getattr(row, part):
                del cex[part]
        cex["case"] = f"{row.name} (its numbers: that row of the cases table)"
    rows = _flatten(cex)
    return sorted(rows, key=lambda r: (r[0] != "note", r[0] != "case"))


def _is_matrix(v: Any) -> bool:
    return (isinstance(v, list) and 0 < len(v) <= 50 and all(isinstance(r, list) and 0 < len(r) <= 20 for r in v)
            and all(isinstance(x, (int, float)) and not isinstance(x, bool) for r in v for x in r))


def _vector_latex(v: Any) -> str | None:
    """LaTeX of a short list of exact values (a point such as ['3/10', '1/5']), else None."""
    if not (isinstance(v, list) and 0 < len(v) <= 12 and all(isinstance(x, str) for x in v)):
        return None
    parts = [latex_of(x) or (x if re.fullmatch(r"-?\d+(\.\d+)?", x) else None) for x in v]
    if any(p is None for p in parts):
        return None
    return r"\left(" + ", ".join(p for p in parts if p is not None) + r"\right)"


# ----------------------------------------------------------------------------- Markdown
def _md(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


#: Anchor of the section of claims that no paper's statement names (a user's claims without a paper).
UNPLACED_ANCHOR = "paper-none"


def _md_papers_cell(e: Evidence, papers: list[dict[str, Any]]) -> str:
    """The paper column of the Markdown table: each paper linked, the full source as the link's title."""
    named = paper_pages.papers_of(papers, e.claim_id)
    title = _md(" ".join(str(e.source).split())).replace('"', "'")
    if not named:
        return f'[{_md(_short(e.source))}](#{UNPLACED_ANCHOR} "{title}")'
    return ", ".join(f'[{_md(short)}](#{paper_anchor(key)} "{title}")' for key, short in named)


def render_markdown(record: RunRecord, figures: dict[int, list[RenderedFigure]] | None = None,
                    figure_dir: str = "figures") -> str:
    """The Markdown report; figure images are linked from ``figure_dir`` (relative to report.md)."""
    figures = figures or {}
    grouped = groups(record)
    views = paper_pages.paper_views(record.papers, record.claims)
    loose = paper_pages.unplaced(record.papers, record.claims)
    lines = ["# theorycheck report", "", _meta(record), "", f"**{len(record.claims)} claims: {_counts(record)}**", "",
             "## Contents", ""]
    if views or loose:
        lines.append("- Paper by paper: which statements hold")
        lines += [f"  - [{_md(v.short)}](#{paper_anchor(v.key)}) ({v.tally_text()})" for v in views]
        if loose:
            lines.append(f"  - [Claims under no paper](#{UNPLACED_ANCHOR}) ({outcome_counts(loose)})")
    lines.append("- [All claims](#all-claims)")
    for area, items in grouped:
        lines.append(f"- [{_md(area_title(area))}](#{_area_anchor(area)}) ({_counts_of([e for _, e in items])})")
        for _, e in items:
            lines.append(f"  - [`{e.claim_id}`](#{claim_anchor(e.claim_id)}) **{e.outcome}**")
    for v in views:
        lines += _md_paper(v)
    if loose:
        lines += ["", f"<a id=\"{UNPLACED_ANCHOR}\"></a>", "## Claims under no paper", "",
                  "No paper's statement names these claims (a paper of your own: "
                  "`theorycheck.claims.papers.register_paper`).", ""]
        lines += [f"- [`{e.claim_id}`](#{claim_anchor(e.claim_id)}) **{e.outcome}** — {_md(e.title)}" for e in loose]
    lines += ["", "<a id=\"all-claims\"></a>", "## All claims", "",
              "| claim | kind | paper | verdict | key number |", "|---|---|---|---|---|"]
    for area, items in grouped:
        lines.append(f"| **{_md(area_title(area))}** | | | | |")
        for _, e in items:
            verdict = f"**{e.outcome}**"
            if e.outcome == "FINDING":
                verdict += f" ([counterexample](#{_jump(e)}))"
            lines.append(f"| [`{e.claim_id}`](#{claim_anchor(e.claim_id)}) | {e.statement_kind} | "
                         f"{_md_papers_cell(e, record.papers)} | {verdict} | {_md(_row_note(e, record.papers))} |")
    for area, items in grouped:
        lines += ["", f"<a id=\"{_area_anchor(area)}\"></a>", f"## {area_title(area)}"]
        for ci, e in items:
            lines += _md_claim(ci, e, figures.get(ci, []), figure_dir, record.papers)
    lines += ["", "## Environment", "", "```json",
              json.dumps({"environment": record.environment, "settings": record.settings}, indent=1,
                         sort_keys=True, default=str), "```"]
    return "\n".join(lines) + "\n"


def _counts_of(evs: list[Evidence]) -> str:
    return outcome_counts(evs)


def _md_paper(v: "paper_pages.PaperView") -> list[str]:
    link = f" [{_md(v.url)}]({v.url})" if v.url else ""
    lines = ["", f"<a id=\"{paper_anchor(v.key)}\"></a>", f"## {_md(v.short)}", "", f"*{_md(v.citation)}*{link}", "",
             f"**{v.tally_text()}**", "", "| # | where | statement | claims | standing |", "|---|---|---|---|---|"]
    for s in v.statements:
        claims = "; ".join(
            (f"[`{r.claim_id}`](#{claim_anchor(r.claim_id)}) **{r.outcome}**" if r.evidence is not None
             else f"`{r.claim_id}` (not in this run)") for r in s.claims) or "—"
        text = s.text + (f" *({s.note})*" if s.note else "")
        lines.append(f"| {s.number} | {_md(s.place)} | {_md(text)} | {claims} | **{_md(s.standing_text)}** |")
    return lines


def _md_claim(ci: int, e: Evidence, rfs: list[RenderedFigure], figure_dir: str,
              papers: list[dict[str, Any]] | None = None) -> list[str]:
    papers = papers or []
    anchor = claim_anchor(e.claim_id)
    named = paper_pages.papers_of(papers, e.claim_id)
    lines = ["", f"<a id=\"{anchor}\"></a>", f"### {e.claim_id}: {e.title}", "",
             f"*Source:* {e.source}", ""]
    if named:
        lines += ["*Papers:* " + ", ".join(f"[{_md(short)}](#{paper_anchor(key)})" for key, short in named), ""]
    lines += [f"*Statement:* {e.statement}", "",
              f"*Verdict:* **{e.outcome}** ({_kind_label(e)}) — {summary_text(e)}"]
    expectation = expectation_text(e, papers)
    if expectation:
        lines += ["", f"*Expectation:* {expectation}"]
    if e.reason:
        lines += ["", f"*Why:* {e.reason}"]
    if e.traceback:
        lines += ["", "<details><summary>Traceback</summary>", "", "```text", e.traceback.rstrip(), "```", "",
                  "</details>"]
    if e.warnings:
        lines += ["", "*Warnings during the check:* " + "; ".join(f"`{w}`" for w in e.warnings)]
    if e.key:
        lines += ["", "*Key numbers:* " + ", ".join(f"`{k} = {_fmt(v)}`" for k, v in e.key.items())]
    for rf in rfs:
        if rf.png is not None:
            lines += ["", f"![{_md(rf.figure.title)}]({figure_dir}/{rf.filename})"]
        elif rf.error is not None:
            lines += ["", f"*Figure “{rf.figure.title}” could not be drawn:* {rf.error}"]
        else:
            lines += ["", *_md_table(rf.figure)]
    cases = unique_cases(e.cases)
    if cases:
        shown, left = _shown_cases(cases)
        lines += ["", f"<a id=\"{anchor}-cases\"></a>", "",
                  "| case | verdict | measured | expected | margin (≥ 0 holds) | note |", "|---|---|---|---|---|---|"]
        for c in shown:
            lines.append(f"| {_md(c.name)} | {c.verdict} | {_md(_kv(c.measured))} | {_md(_kv(c.expected))} | "
                         f"{_md(margin_text(c))} | {_md(_md_note(c.note))} |")
        if left:
            lines += ["", f"… and {left} more cases (all PASS or shown above) in results.json."]
    if e.counterexample:
        lines += ["", f"<a id=\"{anchor}-counterexample\"></a>", "", "*Counterexample:*", "", "| field | value |",
                  "|---|---|"]
        for k, v in counterexample_rows(e):
            lines.append(f"| {_md(k)} | {_md(_md_value(v))} |")
    lines += ["", f"*Would fail if:* {e.falsifier}"]
    return lines


def _md_note(note: str) -> str:
    parts = split_formula(note)
    return note if parts is None else f"{parts[0]} ${parts[1]}$"


def _md_value(v: Any) -> str:
    tex = latex_of(v) or _vector_latex(v)
    if tex is not None:
        return f"${tex}$"
    if _is_matrix(v):
        return "[" + "; ".join(", ".join(_fmt(x) for x in r) for r in v) + "]"
    return _fmt(v)


def _md_table(f: Figure) -> list[str]:
    cols = [str(c) for c in f.annotations.get("columns", [])]
    rows = f.annotations.get("rows", [])
    if not cols:
        return [f"*{f.title}:* (empty table)"]
    out = [f"*{_md(f.title)}*", "", "| " + " | ".join(map(_md, cols)) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_md(_fmt(v)) for v in r) + " |" for r in rows]
    return out


# ----------------------------------------------------------------------------- HTML
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.5em 2em;color:#1f2328;background:#fff}
h1{margin:.2em 0}h2{border-top:1px solid #d0d7de;padding-top:1em;margin-top:2em;font-size:1.25em}
.meta{color:#57606a;font-size:.85em}
table{border-collapse:collapse;margin:.8em 0;font-size:.85em;width:100%}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f6f8fa;white-space:nowrap}
td.num{font-family:ui-monospace,Menlo,monospace;font-size:.92em;overflow-wrap:anywhere;min-width:7em}
table.summary td:first-child{white-space:nowrap}
.v{display:inline-block;white-space:nowrap;padding:.05em .5em;border-radius:1em;color:#fff;font-weight:600;font-size:.85em}
.PASS{background:#1a7f37}.FAIL{background:#cf222e}.INCONCLUSIVE{background:#9a6700}.ERROR{background:#6e40c9}
.FINDING{background:#0969da}.NO-LONGER-REPRODUCES{background:#bc4c00}.NOT-RUN{background:#6e7781}
.standing{font-weight:600}.st-holds{color:#1a7f37}.st-contradicted,.st-not-borne-out{color:#0969da}
.st-undecided{color:#9a6700}.st-error{color:#6e40c9}.st-not-checked,.st-not-run{color:#57606a}
.expect{border-left:4px solid #0969da;padding:.2em .7em;background:#f6f8fa}
table.paper td:first-child{white-space:nowrap}h2.paper{font-size:1.3em}
.label{font-weight:600;color:#57606a}
figure{margin:.6em 1em .6em 0;display:inline-block;vertical-align:top}
figure img{max-width:100%;border:1px solid #d0d7de}
pre{background:#f6f8fa;padding:.6em;overflow:auto;font-size:.8em;max-height:24em}
.key code{background:#f6f8fa;padding:.1em .3em;border-radius:.3em;margin-right:.4em}
.note{color:#57606a;font-size:.85em}
summary{cursor:pointer;color:#57606a;font-size:.9em;margin:.6em 0}
h2.area{font-size:1.4em;border-top:3px solid #1f2328}h3{font-size:1.1em;border-top:1px solid #d0d7de;padding-top:.8em;
margin-top:1.6em}
nav.toc{background:#f6f8fa;border:1px solid #d0d7de;border-radius:.4em;padding:.2em 1em .6em;margin:1em 0}
nav.toc h2{border:0;margin:.4em 0;padding:0;font-size:1.05em}nav.toc ul{list-style:none;padding-left:1em;columns:2}
nav.toc li{margin:.1em 0}tr.area th{background:#eaeef2;text-align:left}
table.cex{width:auto}table.cex th{text-align:right;white-space:nowrap}
table.matrix{width:auto;margin:0;font-family:ui-monospace,Menlo,monospace}table.matrix td{border:0;border-left:1px solid
#d0d7de;padding:.05em .5em}img.formula{vertical-align:middle;border:0;max-width:none}
.fwrap{max-width:30em;overflow-x:auto;padding:.1em 0}
"""


def _h(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _badge(v: Verdict | str) -> str:
    """A verdict or outcome as a coloured badge (FINDING apart from FAIL)."""
    return f'<span class="v {_h(str(v).replace(" ", "-"))}">{_h(v)}</span>'


def _standing(text: str, standing: str) -> str:
    return f'<span class="standing st-{_h(standing.replace(" ", "-"))}">{_h(text)}</span>'


def _html_papers_cell(e: Evidence, papers: list[dict[str, Any]]) -> str:
    """The paper column: each paper linked to its section; the full source in the tooltip (never cut)."""
    named = paper_pages.papers_of(papers, e.claim_id)
    if not named:
        return f'<td title="{_h(e.source)}"><a href="#{UNPLACED_ANCHOR}">{_h(_short(e.source))}</a></td>'
    links = ", ".join(f'<a href="#{paper_anchor(key)}">{_h(short)}</a>' for key, short in named)
    return f'<td title="{_h(e.source)}">{links}</td>'


def _html_paper(v: "paper_pages.PaperView") -> list[str]:
    link = f' <a href="{_h(v.url)}">{_h(v.url)}</a>' if v.url else ""
    p = [f'<section id="{paper_anchor(v.key)}"><h2 class="paper">{_h(v.short)}</h2>',
         f'<p class="meta">{_h(v.citation)}{link}</p>', f"<p><strong>{_h(v.tally_text())}</strong></p>",
         '<table class="paper"><thead><tr><th>#</th><th>where</th><th>statement</th><th>claims</th>'
         "<th>standing</th></tr></thead><tbody>"]
    for s in v.statements:
        claims = "<br>".join(
            (f'{_badge(r.outcome)} <a href="#{claim_anchor(r.claim_id)}"><code>{_h(r.claim_id)}</code></a>'
             if r.evidence is not None else f"<code>{_h(r.claim_id)}</code> (not in this run)") for r in s.claims)
        note = f'<br><span class="note">{_h(s.note)}</span>' if s.note else ""
        p.append(f"<tr><td>{s.number}</td><td>{_h(s.place)}</td><td>{_h(s.text)}{note}</td><td>{claims or '—'}</td>"
                 f"<td>{_standing(s.standing_text, s.standing)}</td></tr>")
    p.append("</tbody></table></section>")
    return p


def render_html(record: RunRecord, figures: dict[int, list[RenderedFigure]] | None = None) -> str:
    """The self-contained HTML report (figures and formulas embedded as base64 PNG, no scripts)."""
    figures = figures if figures is not None else render_figures(record)
    grouped = groups(record)
    views = paper_pages.paper_views(record.papers, record.claims)
    loose = paper_pages.unplaced(record.papers, record.claims)
    p = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         "<title>theorycheck report</title>", f"<style>{_CSS}</style></head><body>",
         "<h1>theorycheck report</h1>", f'<p class="meta">{_h(_meta(record))}</p>',
         f"<p><strong>{len(record.claims)} claims: {_h(_counts(record))}</strong></p>",
         '<nav class="toc"><h2>Contents</h2><ol>']
    if views or loose:
        p.append('<li>Paper by paper: which statements hold<ul>')
        p += [f'<li><a href="#{paper_anchor(v.key)}">{_h(v.short)}</a> <span class="note">({_h(v.tally_text())})'
              "</span></li>" for v in views]
        if loose:
            p.append(f'<li><a href="#{UNPLACED_ANCHOR}">Claims under no paper</a> '
                     f'<span class="note">({_h(outcome_counts(loose))})</span></li>')
        p.append("</ul></li>")
    p.append('<li><a href="#all-claims">All claims</a></li>')
    for area, items in grouped:
        p.append(f'<li><a href="#{_area_anchor(area)}">{_h(area_title(area))}</a> '
                 f'<span class="note">({_h(_counts_of([e for _, e in items]))})</span><ul>')
        p += [f'<li>{_badge(e.outcome)} <a href="#{claim_anchor(e.claim_id)}"><code>{_h(e.claim_id)}</code></a></li>'
              for ci, e in items]
        p.append("</ul></li>")
    p.append("</ol></nav>")
    if views:
        p.append('<h2 class="area">Paper by paper</h2>')
    for v in views:
        p += _html_paper(v)
    if loose:
        p.append(f'<section id="{UNPLACED_ANCHOR}"><h2 class="paper">Claims under no paper</h2><p class="note">No '
                 "paper's statement names these claims (a paper of your own: "
                 "<code>theorycheck.claims.papers.register_paper</code>).</p><ul>")
        p += [f'<li>{_badge(e.outcome)} <a href="#{claim_anchor(e.claim_id)}"><code>{_h(e.claim_id)}</code></a> '
              f"{_h(e.title)}</li>" for e in loose]
        p.append("</ul></section>")
    p.append('<h2 id="all-claims" class="area">All claims</h2>')
    p.append('<table class="summary"><thead><tr><th>claim</th><th>kind</th><th>paper</th><th>verdict</th>'
             "<th>key number</th></tr></thead><tbody>")
    for area, items in grouped:
        p.append(f'<tr class="area"><th colspan="5">{_h(area_title(area))}</th></tr>')
        for ci, e in items:
            verdict = _badge(e.outcome)
            if e.outcome == "FINDING":
                verdict += f' <a href="#{_jump(e)}">counterexample</a>'
            p.append(f'<tr><td><a href="#{claim_anchor(e.claim_id)}"><code>{_h(e.claim_id)}</code></a></td>'
                     f"<td>{_h(e.statement_kind)}</td>{_html_papers_cell(e, record.papers)}"
                     f"<td>{verdict}</td><td>{_h(_row_note(e, record.papers))}</td></tr>")
    p.append("</tbody></table>")
    for area, items in grouped:
        p.append(f'<h2 id="{_area_anchor(area)}" class="area">{_h(area_title(area))}</h2>')
        for ci, e in items:
            p += _html_claim(ci, e, figures.get(ci, []), record.papers)
    env = json.dumps({"environment": record.environment, "settings": record.settings}, indent=1, sort_keys=True,
                     default=str)
    p += ['<h2>Environment</h2>', f"<pre>{_h(env)}</pre>", "</body></html>"]
    return "\n".join(p) + "\n"


def _img(png: bytes, alt: str, cls: str = "") -> str:
    b64 = base64.b64encode(png).decode("ascii")
    c = f' class="{cls}"' if cls else ""
    return f'<img{c} src="data:image/png;base64,{b64}" alt="{_h(alt)}" title="{_h(alt)}">'


def _html_value(v: Any) -> str:
    """A counterexample value: a formula as an image (its LaTeX as alt text), a matrix as a table, else text."""
    tex = latex_of(v) or _vector_latex(v)
    if tex is not None:
        from theorycheck.reporting.figures import formula_png

        try:
            return f'<div class="fwrap">{_img(formula_png(tex), tex, "formula")}</div>'

        except Exception:  # noqa: BLE001 - mathtext cannot draw every LaTeX: the source then
            return f"<code>{_h(tex)}</code>"
    if _is_matrix(v):
        rows = "".join("<tr>" + "".join(f"<td>{_h(_fmt(x))}</td>" for x in r) + "</tr>" for r in v)
        return f'<table class="matrix"><tbody>{rows}</tbody></table>'
    return _h(_fmt(v))


def _html_note(note: str) -> str:
    parts = split_formula(note)
    if parts is None:
        return _h(note)
    from theorycheck.reporting.figures import formula_png

    try:
        img = _img(formula_png(parts[1], fontsize=9), parts[1], "formula")
        return f'{_h(parts[0])} <div class="fwrap">{img}</div>'

    except Exception:  # noqa: BLE001 - mathtext cannot draw every LaTeX: the text then
        return _h(note)


def _html_claim(ci: int, e: Evidence, rfs: list[RenderedFigure], papers: list[dict[str, Any]] | None = None
                ) -> list[str]:
    papers = papers or []
    anchor = claim_anchor(e.claim_id)
    named = paper_pages.papers_of(papers, e.claim_id)
    p = [f'<section id="{anchor}"><h3><code>{_h(e.claim_id)}</code> {_h(e.title)}</h3>',
         f'<p><span class="label">Source.</span> {_h(e.source)}</p>']
    if named:
        p.append('<p><span class="label">Papers.</span> '
                 + ", ".join(f'<a href="#{paper_anchor(key)}">{_h(short)}</a>' for key, short in named) + "</p>")
    p += [f'<p><span class="label">Statement.</span> {_h(e.statement)}</p>',
          f"<p>{_badge(e.outcome)} ({_h(_kind_label(e))}) {_h(summary_text(e))}</p>"]
    expectation = expectation_text(e, papers)
    if expectation:
        p.append(f'<p class="expect"><span class="label">Expectation.</span> {_h(expectation)}</p>')
    if e.reason:
        p.append(f'<p><span class="label">Why.</span> {_h(e.reason)}</p>')
    if e.traceback:
        p.append(f"<details><summary>Traceback</summary><pre>{_h(e.traceback)}</pre></details>")
    if e.warnings:
        p.append('<p class="note"><span class="label">Warnings during the check.</span> '
                 + "; ".join(f"<code>{_h(w)}</code>" for w in e.warnings) + "</p>")
    if e.key:
        p.append('<p class="key"><span class="label">Key numbers.</span> '
                 + "".join(f"<code>{_h(k)} = {_h(_fmt(v))}</code>" for k, v in e.key.items()) + "</p>")
    for rf in rfs:
        if rf.png is not None:
            # the title is drawn in the image; alt text repeats it for screen readers
            p.append(f"<figure>{_img(rf.png, rf.figure.title)}</figure>")
        elif rf.error is not None:
            p.append(f'<p class="note">Figure “{_h(rf.figure.title)}” could not be drawn: {_h(rf.error)}</p>')
        else:
            p.append(_html_table(rf.figure))
    if e.counterexample:
        rows = "".join(f"<tr><th>{_h(k)}</th><td>{_html_value(v)}</td></tr>" for k, v in counterexample_rows(e))
        p.append(f'<p class="label" id="{anchor}-counterexample">Counterexample.</p><table class="cex"><tbody>{rows}'
                 "</tbody></table>")
    cases = unique_cases(e.cases)
    if cases:
        shown, left = _shown_cases(cases)
        bad = sum(c.verdict is not Verdict.PASS for c in cases)
        # long all-PASS tables fold away; a table with a failing case stays open
        fold = len(cases) > FOLD_CASES
        p.append(f'<div id="{anchor}-cases"></div>')
        if fold:
            p.append(f"<details{' open' if bad else ''}><summary>{len(cases)} cases, {bad} not PASS</summary>")
        p.append("<table><thead><tr><th>case</th><th>verdict</th><th>measured</th><th>expected</th>"
                 '<th title="≥ 0: the statement holds with this much room; < 0: violated">margin (≥ 0 holds)</th>'
                 "<th>note</th></tr></thead><tbody>")
        for c in shown:
            p.append(f"<tr><td>{_h(c.name)}</td><td>{_badge(c.verdict)}</td><td class=\"num\">{_h(_kv(c.measured))}"
                     f"</td><td class=\"num\">{_h(_kv(c.expected))}</td><td class=\"num\">{_h(margin_text(c))}</td>"
                     f"<td>{_html_note(c.note)}</td></tr>")
        p.append("</tbody></table>" + ("</details>" if fold else ""))
        if left:
            p.append(f'<p class="note">… and {left} more cases (all PASS or shown above) in results.json.</p>')
    p.append(f'<p><span class="label">Would fail if.</span> {_h(e.falsifier)}</p></section>')
    return p


def _html_table(f: Figure) -> str:
    cols = f.annotations.get("columns", [])
    rows = f.annotations.get("rows", [])
    head = "".join(f"<th>{_h(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_h(_fmt(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f'<p class="label">{_h(f.title)}</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ----------------------------------------------------------------------------- writing
def write_run(record: RunRecord, out_dir: "str | os.PathLike[str] | OutputDir", html: bool = True,
              rendered: dict[int, list[RenderedFigure]] | None = None) -> Path:
    """Write results.json, report.md, figures/ and (``html``) index.html into ``out_dir`` crash-safely.

    ``rendered``: figures already drawn, by claim index (see :func:`render_figures`).

    ``out_dir`` is a path (validated and locked here, waiting for another writer of the same directory) or an
    :class:`~theorycheck.reporting.outdir.OutputDir` already claimed by the caller; see
    :mod:`theorycheck.reporting.outdir` for what may be replaced and how the swap survives a crash.
    """
    from theorycheck.reporting import outdir

    if isinstance(out_dir, outdir.OutputDir):
        return _write_claimed(record, out_dir, html, rendered)
    with outdir.claim_output(out_dir, wait=True) as target:
        return _write_claimed(record, target, html, rendered)


def _write_claimed(record: RunRecord, target: "OutputDir", html: bool,
                   rendered: dict[int, list[RenderedFigure]] | None) -> Path:
    from theorycheck.reporting import outdir

    with outdir.staged(target) as tmp:
        (tmp / "results.json").write_text(dumps(record), encoding="utf-8")
        outdir._step("results-written")
        figs = render_figures(record, rendered)
        pngs = [rf for rfs in figs.values() for rf in rfs if rf.png is not None]
        if pngs:
            (tmp / "figures").mkdir()
            for rf in pngs:
                (tmp / "figures" / str(rf.filename)).write_bytes(rf.png or b"")
        (tmp / "report.md").write_text(render_markdown(record, figs), encoding="utf-8")
        if html:
            (tmp / "index.html").write_text(render_html(record, figs), encoding="utf-8")
        outdir._step("files-written")
    return Path(target.shown)
