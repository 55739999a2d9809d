"""Report rendering: files, summary table, sections, embedded figures, escaping, atomic writes."""

import base64
import html
import os
import re
import stat

import pytest

from theorycheck.core.errors import InputError
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict
from theorycheck.reporting.record import load_run
from theorycheck.reporting.report import MAX_CASES, render_markdown, write_run

from _synthetic import bound_evidence, order_evidence, record

IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "report"
    rec = record()
    write_run(rec, out)
    return rec, out


def test_writes_results_markdown_html_and_figures(written):
    rec, out = written
    assert sorted(os.listdir(out)) == [".theorycheck-report.json", "figures", "index.html", "report.md", "results.json"]
    assert load_run(out / "results.json").by_id().keys() == rec.by_id().keys()
    md = (out / "report.md").read_text()
    links = re.findall(r"\]\((figures/[^)]+\.png)\)", md)
    # four figures of the evidence and the margins of the FAIL claim
    assert len(links) == 5 and all((out / link).is_file() for link in links)
    assert "figures/02-synthetic-bound-margins.png" in links
    assert stat.S_IMODE(os.stat(out).st_mode) & 0o055, "report directory not readable by others"


def test_html_is_self_contained_with_decodable_figures(written):
    _, out = written
    page = (out / "index.html").read_text()
    imgs = IMG.findall(page)
    assert len(imgs) == 5
    assert all(base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n" for b in imgs)
    assert "<script" not in page and "http://" not in page and "https://" not in page


@pytest.mark.parametrize("doc", ["report.md", "index.html"])
def test_summary_table_then_one_section_per_claim(written, doc):
    rec, out = written
    text = (out / doc).read_text()
    if doc == "index.html":
        text = html.unescape(text)
    first_section = text.index(rec.claims[0].statement)
    for e in rec.claims:
        row = text.index(e.summary)
        assert e.claim_id in text[:first_section] and row < first_section  # in the summary table
        for part in (e.statement, e.falsifier):
            assert part in text
    assert "1/30 instances violate" in text  # the counterexample, as a table of its fields
    assert re.search(r"\| example.seed \| 17 \||<th>example.seed</th><td>17</td>", text)
    assert "ZeroDivisionError: division by zero" in text  # ERROR reason shown
    assert "worst ratio" in text  # the table figure rendered as a table


def test_text_is_escaped_in_html(tmp_path):
    e = Evidence("x", Verdict.PASS, "a <b>bold</b> claim", statement="<script>alert(1)</script>", falsifier="f")
    write_run(record([e]), tmp_path / "r")
    page = (tmp_path / "r" / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_many_cases_are_capped_failures_first():
    cases = [Case(f"c{i}", Verdict.PASS) for i in range(100)] + [Case("the-bad-one", Verdict.FAIL)]
    md = render_markdown(record([Evidence.from_cases("x", cases, "s")]))
    assert "the-bad-one" in md and f"{101 - MAX_CASES} more cases" in md
    assert md.count("| PASS |") == MAX_CASES - 1


def test_a_figure_that_cannot_be_drawn_becomes_a_note(tmp_path, monkeypatch):
    def boom(fig):
        raise OverflowError("cannot draw")

    monkeypatch.setattr("theorycheck.reporting.figures.render_png", boom)
    monkeypatch.setenv("THEORYCHECK_NO_CACHE", "1")  # a PNG drawn earlier in the session must not hide the failure
    write_run(record([order_evidence()]), tmp_path / "r")
    assert "could not be drawn" in (tmp_path / "r" / "index.html").read_text()
    assert "OverflowError: cannot draw" in (tmp_path / "r" / "report.md").read_text()


def test_crash_mid_write_leaves_previous_report_intact(tmp_path, monkeypatch):
    out = tmp_path / "latest"
    write_run(record([order_evidence()]), out)
    before = {p: (out / p).read_bytes() for p in ("results.json", "report.md", "index.html")}

    def crash(*a, **k):
        raise KeyboardInterrupt  # the worst case: not even an Exception

    monkeypatch.setattr("theorycheck.reporting.report.render_html", crash)
    with pytest.raises(KeyboardInterrupt):
        write_run(record([bound_evidence()]), out)
    assert {p: (out / p).read_bytes() for p in before} == before
    assert os.listdir(tmp_path) == ["latest"], "temporary directory left behind"


def test_out_that_is_a_file_is_an_input_error(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="--out"):
        write_run(record(), f)


def test_html_can_be_switched_off(tmp_path):
    write_run(record([Evidence("x", Verdict.PASS, "s", figures=[Figure("curve", "t", series=[Series("a", [1], [2])])])]),
              tmp_path / "r", html=False)
    assert sorted(os.listdir(tmp_path / "r")) == [".theorycheck-report.json", "figures", "report.md", "results.json"]


def test_long_case_tables_fold_unless_a_case_fails():
    from theorycheck.reporting.report import FOLD_CASES, render_html

    calm = Evidence.from_cases("calm", [Case(f"c{i}", Verdict.PASS) for i in range(FOLD_CASES + 1)], "s")
    page = render_html(record([calm]), {})
    assert f"<details><summary>{FOLD_CASES + 1} cases, 0 not PASS</summary>" in page
    page = render_html(record([bound_evidence()]), {})
    assert "<details open><summary>30 cases, 1 not PASS</summary>" in page
