"""Paper by paper, and findings shown as findings: in the console summary, the headline, the contents and the row."""

import html
import io
import json
import re
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from theorycheck.claims import registry
from theorycheck.core.evidence import Evidence, Verdict, outcome, outcome_counts
from theorycheck.reporting import paper_pages, report
from theorycheck.reporting.record import load_run
from theorycheck.running.commands.run import print_summary

from _synthetic import PAPERS, record_with_papers

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("verdict,expect,shown", [
    (Verdict.FAIL, "finding", "FINDING"), (Verdict.PASS, "finding", "NO LONGER REPRODUCES"),
    (Verdict.INCONCLUSIVE, "finding", "INCONCLUSIVE"), (Verdict.FAIL, "pass", "FAIL"),
    (Verdict.ERROR, "finding", "ERROR"),
])
def test_a_declared_finding_is_shown_apart_from_a_fail(verdict, expect, shown):
    assert outcome(verdict, expect) == shown


def test_the_counts_show_findings_apart_and_which_undecided_claims_are_findings():
    evs = [Evidence(f"c{i}", v, "s", expect=x) for i, (v, x) in enumerate(
        [(Verdict.PASS, "pass")] * 3 + [(Verdict.FAIL, "finding")] * 2 + [(Verdict.INCONCLUSIVE, "finding"),
                                                                          (Verdict.INCONCLUSIVE, "pass")])]
    assert outcome_counts(evs) == "3 PASS, 2 FINDING, 2 INCONCLUSIVE (1 declared finding)"
    assert outcome_counts([]) == "no claims"


@pytest.mark.parametrize("render", [report.render_markdown, report.render_html])
def test_a_finding_reads_as_a_finding_in_headline_contents_and_row(render):
    page = render(record_with_papers(), {})
    assert "6 claims: 2 PASS, 1 FINDING, 1 FAIL, 1 INCONCLUSIVE, 1 ERROR" in page
    row = next(line for line in page.splitlines() if "synthetic-finding" in line and "counterexample" in line
               and ("<tr>" in line or line.startswith("|")))
    assert "FINDING" in row and "contradicted published statement: Ma &amp; Ying 2021, Sec. 3".replace(
        "&amp;", "&" if render is report.render_markdown else "&amp;") in row
    assert "#synthetic-finding-counterexample" in row  # the counterexample one click away
    assert 'id="synthetic-finding-counterexample"' in page


@pytest.mark.parametrize("render", [report.render_markdown, report.render_html])
def test_a_finding_that_passes_says_it_no_longer_reproduces(render):
    page = render(record_with_papers(finding=Verdict.PASS), {})
    assert "1 NO LONGER REPRODUCES" in page and "finding no longer reproduces" in page


@pytest.mark.parametrize("render", [report.render_markdown, report.render_html])
def test_each_paper_lists_its_statements_in_order_with_their_standing(render):
    page = render(record_with_papers(), {})
    ma = page[page.index('id="paper-ma-ying-2021"'):]
    order = [ma.index(t) for t in ("multiplicative inequality", "linear stability", "a necessary condition",
                                   "deeper networks?")]
    assert order == sorted(order)
    for standing in ("not borne out", "undecided", "contradicted", "open question"):
        assert standing in ma
    bd = page[page.index('id="paper-barrett-dherin-2021"'):page.index('id="paper-ma-ying-2021"')]
    assert "not checked: needs ImageNet-scale training" in bd and "(number not checked against the paper)" in bd
    assert "synthetic-missing" in ma and "not in this run" in ma
    # the contents link every paper with its tally, and the claim under no paper gets its own section
    assert "(1 contradicted, 1 not borne out, 1 undecided, 1 open question)" in page
    assert 'paper-none' in page and "Claims under no paper" in page


def test_the_source_is_never_cut_in_the_table_and_is_in_full_in_the_tooltip():
    rec = record_with_papers()
    page = report.render_html(rec, {})
    table = page[page.index('id="all-claims"'):]
    table = table[:table.index("</table>")]
    finding = next(e for e in rec.claims if e.claim_id == "synthetic-finding")
    assert f'title="{html.escape(finding.source, quote=True)}"' in table and "…" not in table
    md = report.render_markdown(rec, {})
    assert "ninety characters)\")" in md


def test_anchors_are_claim_ids_and_every_internal_link_resolves():
    page = report.render_html(record_with_papers(), {})
    ids = set(re.findall(r'id="([^"]+)"', page))
    links = set(re.findall(r'href="#([^"]+)"', page))
    assert "synthetic-order" in ids and not any(re.fullmatch(r"c\d+", i) for i in ids)
    assert links <= ids, sorted(links - ids)
    md = report.render_markdown(record_with_papers(), {})
    assert set(re.findall(r"\]\(#([^) \"]+)", md)) <= set(re.findall(r'<a id="([^"]+)"></a>', md))


def test_standings():
    def row(v, kind="theorem"):
        return paper_pages.ClaimRow("x", Evidence("x", v, "s", statement_kind=kind))

    assert paper_pages.standing([row(Verdict.PASS), row(Verdict.PASS)]) == "holds"
    assert paper_pages.standing([row(Verdict.PASS), row(Verdict.FAIL)]) == "contradicted"
    assert paper_pages.standing([row(Verdict.FAIL, "heuristic")]) == "not borne out"
    assert paper_pages.standing([row(Verdict.INCONCLUSIVE), row(Verdict.PASS)]) == "undecided"
    assert paper_pages.standing([row(Verdict.ERROR), row(Verdict.FAIL)]) == "error"
    assert paper_pages.standing([paper_pages.ClaimRow("x", None)]) == "not run"
    views = paper_pages.paper_views(PAPERS, record_with_papers().claims)
    assert views[0].tally() == {"holds": 1, "not checked": 1}


def test_the_console_summary_shows_the_finding_and_the_report_counts():
    rec = record_with_papers()
    out = io.StringIO()
    with redirect_stdout(out):
        print_summary(rec, "DIR/index.html", "DIR/results.json")
    text = out.getvalue()
    line = next(ln for ln in text.splitlines() if ln.startswith("synthetic-finding"))
    assert "FINDING" in line and "contradicted published statement: Ma & Ying 2021, Sec. 3" in line
    assert "2 PASS, 1 FINDING, 1 FAIL, 1 INCONCLUSIVE, 1 ERROR; report in DIR/index.html" in text
    assert "show --paper NAME --results DIR/results.json" in text


def test_every_declared_finding_of_the_baseline_is_a_finding_in_summary_headline_and_row():
    base = load_run(ROOT / "reports" / "baseline.json")
    findings = {c.id for c in registry.builtin_claims() if c.expect == "finding"}
    failing = [e for e in base.claims if e.claim_id in findings and e.verdict is Verdict.FAIL]
    assert failing and all(e.outcome == "FINDING" for e in failing)
    md = report.render_markdown(base, {})
    headline = next(ln for ln in md.splitlines() if ln.startswith(f"**{len(base.claims)} claims:"))
    assert f"{len(failing)} FINDING" in headline and " FAIL" not in headline.replace("FINDING", "")
    out = io.StringIO()
    with redirect_stdout(out):
        print_summary(base, "x/index.html", "x/results.json")
    for e in failing:
        row = next(ln for ln in md.splitlines() if ln.startswith(f"| [`{e.claim_id}`]"))
        assert "**FINDING**" in row and "counterexample" in row
        assert next(ln for ln in out.getvalue().splitlines() if ln.startswith(e.claim_id + " ")).split()[1] == "FINDING"
    assert json.loads(json.dumps(base.papers)) and not paper_pages.unplaced(base.papers, base.claims)
