"""The report shows where a claim breaks: areas with contents, a margins figure for every FAIL/INCONCLUSIVE,
counterexamples as tables and formulas, intervals drawn as intervals, no repeated rows, tracebacks folded."""

from __future__ import annotations

import copy
import html
import re

import matplotlib.pyplot as plt
import pytest
from matplotlib.collections import LineCollection

from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict
from theorycheck.reporting import report
from theorycheck.reporting.figures import render_curve, render_png

from _synthetic import bound_evidence, order_evidence, record


def _ev(cid: str, verdict: Verdict, **kw) -> Evidence:
    return Evidence(cid, verdict, f"{verdict}: summary of {cid}", statement=f"statement {cid}", falsifier="f", **kw)


def test_claims_are_grouped_by_area_with_a_contents_list(tmp_path):
    rec = record([_ev("stability.x", Verdict.PASS), _ev("a-order", Verdict.PASS), _ev("nets.y", Verdict.FAIL),
                  _ev("user.z", Verdict.PASS), _ev("stability.w", Verdict.PASS)])
    page = report.render_html(rec, {})
    heads = re.findall(r'<h2 id="(area-[^"]+)" class="area">([^<]+)</h2>', page)
    assert [t for _, t in heads] == [report.AREAS["backward-error"], report.AREAS["nets"], report.AREAS["stability"], "user"]
    toc = page[page.index('<nav class="toc">'):page.index("</nav>")]
    for anchor, _ in heads:
        assert f'href="#{anchor}"' in toc
    # every claim is linked from the contents by its id, and its section follows its area's heading
    for e in rec.claims:
        assert f'href="#{e.claim_id}"' in toc and f'<section id="{e.claim_id}">' in page
    assert page.index('id="stability.w"') < page.index('id="area-user"')  # stability.w sits with stability.x
    md = report.render_markdown(rec)
    assert "## Contents" in md and md.index(f"## {report.AREAS['nets']}") < md.index(f"## {report.AREAS['stability']}")


def test_the_summary_does_not_repeat_the_verdict():
    assert report.summary_text(_ev("x", Verdict.PASS)) == "summary of x"
    e = Evidence("x", Verdict.FAIL, "PASS: odd but kept")
    assert report.summary_text(e) == "PASS: odd but kept"


@pytest.mark.parametrize("verdict,m,shown", [(Verdict.PASS, -2.2e-16, "≈0 (-2.2e-16, round-off)"),
                                             (Verdict.PASS, 0.25, "0.25"), (Verdict.FAIL, -2.2e-16, "-2.2e-16"),
                                             (Verdict.PASS, -0.1, "-0.1")])
def test_margins_follow_their_sign_convention(verdict, m, shown):
    assert report.margin_text(Case("c", verdict, margin=m)) == shown


def test_repeated_cases_are_shown_once(tmp_path):
    c = Case("pinned", Verdict.FAIL, {"x": 1.0}, {"x": 0.0}, margin=-1.0, note="n")
    e = _ev("x", Verdict.FAIL, cases=[c, Case("other", Verdict.PASS, margin=1.0), copy.deepcopy(c)])
    assert [k.name for k in report.unique_cases(e.cases)] == ["pinned", "other"]
    page = report.render_html(record([e]), {})
    assert page.count("<td>pinned</td>") == 1


def test_every_fail_and_inconclusive_claim_with_margins_gets_a_margins_figure():
    figs = report.render_figures(record([bound_evidence(), order_evidence(),
                                         _ev("u", Verdict.INCONCLUSIVE, cases=[Case("a", Verdict.INCONCLUSIVE,
                                                                                    margin=-0.5)])]))
    kinds = {ci: [rf.figure.kind for rf in rfs] for ci, rfs in figs.items()}
    assert kinds[0][0] == "margins" and "margins" not in kinds[1] and kinds[2] == ["margins"]
    f = figs[0][0].figure
    assert f.annotations["verdicts"].count("FAIL") == 1 and len(f.series[0].y) == 30
    assert figs[0][0].png[:4] == b"\x89PNG"


def test_symbolic_counterexamples_are_formulas_and_code_is_never_read():
    assert report.latex_of("3/10") == r"\frac{3}{10}"
    assert report.latex_of("L_0_1**2*L_1_2 - L_0_2/6") == r"L_{0,1}^{2} L_{1,2} - \frac{L_{0,2}}{6}"
    for text in ("__import__('os').system('x')", "a.__class__", "tanh", "0.5", "(lambda: 1)()", "x" * 500):
        assert report.latex_of(text) is None, text
    e = _ev("x", Verdict.FAIL, counterexample={"note": "J - J^T = a*b/2 - b*a/3 + c**2", "example": {
        "features": [[1.0, 2.0], [3.0, 4.0]], "point": ["3/10", "1/5"], "name": "tanh"}})
    page = report.render_html(record([e]), {})
    cex = page[page.index("Counterexample."):]
    assert '<table class="matrix">' in cex and "<td>4</td>" in cex
    assert html.escape(r"\left(\frac{3}{10}, \frac{1}{5}\right)") in cex  # the point, as a formula image's alt
    assert "<th>example.name</th><td>tanh</td>" in cex
    md = report.render_markdown(record([e]))
    assert r"$\left(\frac{3}{10}, \frac{1}{5}\right)$" in md


def test_a_polynomial_in_a_case_note_is_drawn_as_a_formula():
    note = "J − Jᵀ is a nonzero polynomial, e.g. (J−Jᵀ)_12 = L_0_1*L_0_2*L_1_2/6 - L_0_1**2*L_1_2"
    e = _ev("x", Verdict.FAIL, cases=[Case("generic", Verdict.FAIL, note=note)])
    page = report.render_html(record([e]), {})
    assert 'class="formula"' in page and "L_{0,1}" in html.unescape(page)
    assert "$" in report.render_markdown(record([e]))


def test_an_error_keeps_its_traceback_behind_a_fold():
    e = _ev("x", Verdict.ERROR, reason="ValueError: boom",
            traceback='Traceback (most recent call last):\n  File "a.py", line 1\nValueError: boom\n')
    page = report.render_html(record([e]), {})
    assert re.search(r"<details><summary>Traceback</summary><pre>Traceback \(most recent call last\):", page)
    assert "<details><summary>Traceback</summary>" in report.render_markdown(record([e]))


def test_interval_bounds_are_drawn_as_intervals_not_joined_across_cases():
    fig = Figure("curve", "MC", "case", "rate", series=[
        Series("exact ρ", [1, 2, 3], [1.0, 1.1, 0.9], "points"), Series("MC CI low", [1, 2, 3], [0.9, 1.0, 0.8]),
        Series("MC CI high", [1, 2, 3], [1.1, 1.2, 1.0])])
    ax = plt.figure().add_subplot()
    render_curve(ax, fig)
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert "MC CI low" not in labels and "MC CI high" not in labels
    assert any(isinstance(c, LineCollection) and c.get_label() == "MC CI interval" for c in ax.collections)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    plt.close("all")
    render_png(fig)


def test_the_expected_slope_guide_is_not_hidden_under_the_fit():
    fig = order_evidence().figures[0]
    fig.series.append(Series("expected slope 3", fig.series[1].x, fig.series[1].y, "dashed"))
    ax = plt.figure().add_subplot()
    from theorycheck.reporting.figures import GUIDE_OFFSET, render_loglog

    render_loglog(ax, fig)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    fit = lines["fit"].get_ydata()
    guide = next(v for k, v in lines.items() if k.startswith("expected slope 3")).get_ydata()
    assert list(guide) == pytest.approx([y / GUIDE_OFFSET for y in fit])
    plt.close("all")


def test_a_pinned_counterexample_does_not_repeat_its_case_row():
    c = Case("pinned: n=3", Verdict.FAIL, {"ratio": 0.98}, {"ratio": "≥ 1"}, margin=-0.02)
    e = _ev("x", Verdict.FAIL, cases=[c], counterexample={"case": "pinned: n=3", "measured": {"ratio": 0.98},
                                                          "expected": {"ratio": "≥ 1"}, "example": {"n": 3}})
    rows = dict(report.counterexample_rows(e))
    assert "measured.ratio" not in rows and "expected.ratio" not in rows and rows["example.n"] == 3
    assert "cases table" in rows["case"]
