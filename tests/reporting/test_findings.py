"""The README's findings section is the committed baseline's, grouped by the kind of statement that failed."""

from pathlib import Path

import pytest

from theorycheck.core.errors import MalformedFileError
from theorycheck.core.evidence import Verdict
from theorycheck.reporting import findings
from theorycheck.reporting.record import load_run

from _synthetic import record

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_findings_are_the_baselines():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = findings.findings_markdown(load_run(ROOT / "reports" / "baseline.json"))
    assert findings.section_of(readme) == expected, (
        "README findings differ from reports/baseline.json; run "
        "`python -m theorycheck.reporting.findings reports/baseline.json README.md`")


def test_a_fail_is_named_by_its_kind_of_statement():
    r = record()
    e = r.claims[0]
    e.verdict, e.statement_kind = Verdict.FAIL, "extrapolation"
    text = findings.findings_markdown(r)
    assert "**Extrapolations not borne out (the paper does not state them):** 1" in text
    assert "**Contradicted published statements (a theorem of the cited paper FAILs):** none" in text
    assert f"`{e.claim_id}`" in text and e.summary in text
    e.statement_kind = "theorem"
    assert "**Contradicted published statements (a theorem of the cited paper FAILs):** 1" in \
        findings.findings_markdown(r)


def test_a_drifted_readme_is_caught_and_rewritten(tmp_path):
    base = tmp_path / "b.json"
    from theorycheck.reporting.record import save_run

    save_run(record(), base)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{findings.BEGIN}\nhand-kept and stale\n{findings.END}\ntail\n", encoding="utf-8")
    assert findings.section_of(readme.read_text()) != findings.findings_markdown(record())
    assert findings.main([str(base), str(readme)]) == 0
    text = readme.read_text()
    assert findings.section_of(text) == findings.findings_markdown(load_run(base))
    assert text.startswith("intro\n") and text.endswith("tail\n")


def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("no markers", encoding="utf-8")
    assert findings.main([str(tmp_path / "missing.json"), str(readme)]) == 2
    assert findings.main(["only-one"]) == 2
    with pytest.raises(MalformedFileError):
        findings.section_of("no markers")
    assert readme.read_text() == "no markers"
