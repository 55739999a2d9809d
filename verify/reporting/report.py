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
import html
import json
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from theorycheck.core.evidence import Case, Evidence, Figure, Verdict
from theorycheck.reporting.record import RunRecord, dumps

if TYPE_CHECKING:
    from theorycheck.reporting.outdir import OutputDir

__all__ = ["dumps", "render_markdown", "render_html", "render_figures", "write_run", "MAX_CASES", "FOLD_CASES", "RenderedFigure"]

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


def render_figures(record: RunRecord) -> dict[int, list[RenderedFigure]]:
    """Render every plot of every claim once (claim index -> figures in order); tables are passed through."""
    from theorycheck.reporting.figures import is_plot, render_png

    out: dict[int, list[RenderedFigure]] = {}
    for ci, e in enumerate(record.claims):
        rendered = []
        for fi, f in enumerate(e.figures):
            if not is_plot(f):
                rendered.append(RenderedFigure(f))
                continue
            name = f"{ci:02d}-{_slug(e.claim_id)}-{fi}.png"
            try:
                rendered.append(RenderedFigure(f, name, render_png(f)))
            except Exception as exc:  # noqa: BLE001 - one bad figure must not lose the report
                rendered.append(RenderedFigure(f, error=f"{type(exc).__name__}: {exc}"))
        out[ci] = rendered
    return out


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
    c = Counter(str(e.verdict) for e in record.claims)
    order = ["PASS", "FAIL", "INCONCLUSIVE", "ERROR"]
    return ", ".join(f"{c[v]} {v}" for v in order if c[v]) or "no claims"


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


# ----------------------------------------------------------------------------- Markdown
def _md(s: Any) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def render_markdown(record: RunRecord, figures: dict[int, list[RenderedFigure]] | None = None,
                    figure_dir: str = "figures") -> str:
    """The Markdown report; figure images are linked from ``figure_dir`` (relative to report.md)."""
    figures = figures or {}
    lines = ["# theorycheck report", "", _meta(record), "", f"**{len(record.claims)} claims: {_counts(record)}**", "",
             "| claim | source | verdict | key number |", "|---|---|---|---|"]
    for e in record.claims:
        lines.append(f"| [`{e.claim_id}`](#{_slug(e.claim_id).lower()}) | {_md(_short(e.source))} | **{e.verdict}** | "
                     f"{_md(e.summary)} |")
    for ci, e in enumerate(record.claims):
        lines += ["", f"<a id=\"{_slug(e.claim_id).lower()}\"></a>", f"## {e.claim_id}: {e.title}", "",
                  f"*Source:* {e.source}", "", f"*Statement:* {e.statement}", "",
                  f"*Verdict:* **{e.verdict}** — {e.summary}"]
        if e.reason:
            lines += ["", f"*Why:* {e.reason}"]
        if e.warnings:
            lines += ["", "*Warnings during the check:* " + "; ".join(f"`{w}`" for w in e.warnings)]
        if e.key:
            lines += ["", "*Key numbers:* " + ", ".join(f"`{k} = {_fmt(v)}`" for k, v in e.key.items())]
        for rf in figures.get(ci, []):
            if rf.png is not None:
                lines += ["", f"![{_md(rf.figure.title)}]({figure_dir}/{rf.filename})"]
            elif rf.error is not None:
                lines += ["", f"*Figure “{rf.figure.title}” could not be drawn:* {rf.error}"]
            else:
                lines += ["", *_md_table(rf.figure)]
        if e.cases:
            shown, left = _shown_cases(e.cases)
            lines += ["", "| case | verdict | measured | expected | margin | note |", "|---|---|---|---|---|---|"]
            for c in shown:
                margin = "" if c.margin is None else _fmt(c.margin)
                lines.append(f"| {_md(c.name)} | {c.verdict} | {_md(_kv(c.measured))} | {_md(_kv(c.expected))} | "
                             f"{margin} | {_md(c.note)} |")
            if left:
                lines += ["", f"… and {left} more cases (all PASS or shown above) in results.json."]
        if e.counterexample:
            lines += ["", "*Counterexample:*", "", "```json", _counterexample_text(e), "```"]
        lines += ["", f"*Would fail if:* {e.falsifier}"]
    lines += ["", "## Environment", "", "```json",
              json.dumps({"environment": record.environment, "settings": record.settings}, indent=1,
                         sort_keys=True, default=str), "```"]
    return "\n".join(lines) + "\n"


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
.label{font-weight:600;color:#57606a}
figure{margin:.6em 1em .6em 0;display:inline-block;vertical-align:top}
figure img{max-width:100%;border:1px solid #d0d7de}
pre{background:#f6f8fa;padding:.6em;overflow:auto;font-size:.8em;max-height:24em}
.key code{background:#f6f8fa;padding:.1em .3em;border-radius:.3em;margin-right:.4em}
.note{color:#57606a;font-size:.85em}
summary{cursor:pointer;color:#57606a;font-size:.9em;margin:.6em 0}
"""


def _h(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _badge(v: Verdict | str) -> str:
    return f'<span class="v {_h(v)}">{_h(v)}</span>'


def render_html(record: RunRecord, figures: dict[int, list[RenderedFigure]] | None = None) -> str:
    """The self-contained HTML report (figures embedded as base64 PNG)."""
    figures = figures if figures is not None else render_figures(record)
    p = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width, initial-scale=1">',
         "<title>theorycheck report</title>", f"<style>{_CSS}</style></head><body>",
         "<h1>theorycheck report</h1>", f'<p class="meta">{_h(_meta(record))}</p>',
         f"<p><strong>{len(record.claims)} claims: {_h(_counts(record))}</strong></p>",
         '<table class="summary"><thead><tr><th>claim</th><th>source</th><th>verdict</th><th>key number</th></tr>'
         "</thead><tbody>"]
    for ci, e in enumerate(record.claims):
        p.append(f'<tr><td><a href="#c{ci}"><code>{_h(e.claim_id)}</code></a></td>'
                 f'<td title="{_h(e.source)}">{_h(_short(e.source))}</td>'
                 f"<td>{_badge(e.verdict)}</td><td>{_h(e.summary)}</td></tr>")
    p.append("</tbody></table>")
    for ci, e in enumerate(record.claims):
        p += [f'<section id="c{ci}"><h2><code>{_h(e.claim_id)}</code> {_h(e.title)}</h2>',
              f'<p><span class="label">Source.</span> {_h(e.source)}</p>',
              f'<p><span class="label">Statement.</span> {_h(e.statement)}</p>',
              f"<p>{_badge(e.verdict)} {_h(e.summary)}</p>"]
        if e.reason:
            p.append(f'<p><span class="label">Why.</span> {_h(e.reason)}</p>')
        if e.warnings:
            p.append('<p class="note"><span class="label">Warnings during the check.</span> '
                     + "; ".join(f"<code>{_h(w)}</code>" for w in e.warnings) + "</p>")
        if e.key:
            p.append('<p class="key"><span class="label">Key numbers.</span> '
                     + "".join(f"<code>{_h(k)} = {_h(_fmt(v))}</code>" for k, v in e.key.items()) + "</p>")
        for rf in figures.get(ci, []):
            if rf.png is not None:
                b64 = base64.b64encode(rf.png).decode("ascii")
                # the title is drawn in the image; alt text repeats it for screen readers
                p.append(f'<figure><img src="data:image/png;base64,{b64}" alt="{_h(rf.figure.title)}"></figure>')
            elif rf.error is not None:
                p.append(f'<p class="note">Figure “{_h(rf.figure.title)}” could not be drawn: {_h(rf.error)}</p>')
            else:
                p.append(_html_table(rf.figure))
        if e.cases:
            shown, left = _shown_cases(e.cases)
            bad = sum(c.verdict is not Verdict.PASS for c in e.cases)
            # long all-PASS tables fold away; a table with a failing case stays open
            fold = len(e.cases) > FOLD_CASES
            if fold:
                p.append(f"<details{' open' if bad else ''}><summary>{len(e.cases)} cases, {bad} not PASS</summary>")
            p.append("<table><thead><tr><th>case</th><th>verdict</th><th>measured</th><th>expected</th>"
                     "<th>margin</th><th>note</th></tr></thead><tbody>")
            for c in shown:
                margin = "" if c.margin is None else _fmt(c.margin)
                p.append(f"<tr><td>{_h(c.name)}</td><td>{_badge(c.verdict)}</td><td class=\"num\">{_h(_kv(c.measured))}"
                         f"</td><td class=\"num\">{_h(_kv(c.expected))}</td><td class=\"num\">{_h(margin)}</td>"
                         f"<td>{_h(c.note)}</td></tr>")
            p.append("</tbody></table>" + ("</details>" if fold else ""))
            if left:
                p.append(f'<p class="note">… and {left} more cases (all PASS or shown above) in results.json.</p>')
        if e.counterexample:
            p.append(f'<p class="label">Counterexample.</p><pre>{_h(_counterexample_text(e))}</pre>')
        p.append(f'<p><span class="label">Would fail if.</span> {_h(e.falsifier)}</p></section>')
    env = json.dumps({"environment": record.environment, "settings": record.settings}, indent=1, sort_keys=True,
                     default=str)
    p += ['<h2>Environment</h2>', f"<pre>{_h(env)}</pre>", "</body></html>"]
    return "\n".join(p) + "\n"


def _html_table(f: Figure) -> str:
    cols = f.annotations.get("columns", [])
    rows = f.annotations.get("rows", [])
    head = "".join(f"<th>{_h(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_h(_fmt(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f'<p class="label">{_h(f.title)}</p><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# ----------------------------------------------------------------------------- writing
def write_run(record: RunRecord, out_dir: "str | os.PathLike[str] | OutputDir", html: bool = True) -> Path:
    """Write results.json, report.md, figures/ and (``html``) index.html into ``out_dir`` crash-safely.

    ``out_dir`` is a path (validated and locked here, waiting for another writer of the same directory) or an
    :class:`~theorycheck.reporting.outdir.OutputDir` already claimed by the caller; see
    :mod:`theorycheck.reporting.outdir` for what may be replaced and how the swap survives a crash.
    """
    from theorycheck.reporting import outdir

    if isinstance(out_dir, outdir.OutputDir):
        return _write_claimed(record, out_dir, html)
    with outdir.claim_output(out_dir, wait=True) as target:
        return _write_claimed(record, target, html)


def _write_claimed(record: RunRecord, target: "OutputDir", html: bool) -> Path:
    from theorycheck.reporting import outdir

    tmp = outdir.new_tree(target.path)
    try:
        (tmp / "results.json").write_text(dumps(record), encoding="utf-8")
        outdir._step("results-written")
        figs = render_figures(record)
        pngs = [rf for rfs in figs.values() for rf in rfs if rf.png is not None]
        if pngs:
            (tmp / "figures").mkdir()
            for rf in pngs:
                (tmp / "figures" / str(rf.filename)).write_bytes(rf.png or b"")
        (tmp / "report.md").write_text(render_markdown(record, figs), encoding="utf-8")
        if html:
            (tmp / "index.html").write_text(render_html(record, figs), encoding="utf-8")
        outdir._step("files-written")
        outdir.write_marker(tmp)
        outdir.swap_in(tmp, target.path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Path(target.shown)
