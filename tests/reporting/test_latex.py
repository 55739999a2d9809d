"""The LaTeX table: escaping, one row per claim with kind, verdict, key numbers and source, and it compiles."""

import shutil
import subprocess

import pytest

from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.reporting.latex import escape, render_latex_table

from _synthetic import finding_evidence, record


def test_escape_specials_and_symbols():
    assert escape("50% & x_1 {y} $z #2 ~ ^ \\") == (r"50\% \& x\_1 \{y\} \$z \#2 \textasciitilde{} "
                                                  r"\textasciicircum{} \textbackslash{}")
    assert escape("‖∇L‖²≤η") == r"$\| \nabla$L$\| ^{2} \le \eta$"
    assert escape("✓") == r"\texttt{U+2713}"


def test_table_rows_follow_the_record_with_kinds():
    rec = record()
    tex = render_latex_table(rec, kinds={"synthetic-order": "theorem"})
    rows = [ln for ln in tex.splitlines() if ln.startswith(r"\texttt{")]
    assert len(rows) == len(rec.claims)
    assert rows[0].startswith(r"\texttt{synthetic-order} & theorem & PASS & order = 2.998; worst\_margin = 0.048")
    assert rows[1].split(" & ")[1] == "--"  # no kind recorded
    assert r"\begin{longtable}" in tex and r"\documentclass" not in tex
    assert render_latex_table(rec, standalone=True).startswith(r"\documentclass{article}")


def test_every_builtin_claim_text_becomes_ascii_latex():
    from theorycheck import claims

    for c in claims.all_claims():
        for text in (c.id, c.title, c.source, c.statement, c.falsifier):
            out = escape(text)
            assert out.isascii() and "U+" not in out, (c.id, [ch for ch in text if escape(ch).startswith(r"\texttt{U+")])


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed (apt-get install texlive-latex-base)")
def test_the_standalone_table_compiles(tmp_path):
    from theorycheck import claims

    evs = [Evidence(c.id, Verdict.PASS, "s", source=c.source, key={"x": 1.5, "ok": True, "v": [1, 2]})
           for c in claims.all_claims()]
    (tmp_path / "t.tex").write_text(render_latex_table(record(evs), standalone=True), encoding="utf-8")
    r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"], cwd=tmp_path,
                       capture_output=True, text=True, errors="replace", timeout=300)
    assert r.returncode == 0, r.stdout[-2000:]
    assert (tmp_path / "t.pdf").stat().st_size > 1000


def test_table_command_writes_the_file_and_refuses_a_directory(tmp_path, capsys):
    from theorycheck.reporting.record import save_run
    from theorycheck.running.cli import main

    save_run(record(), tmp_path / "results.json")
    assert main(["table", str(tmp_path / "results.json"), "--out", str(tmp_path / "t.tex"), "--standalone",
                 "--no-entry-points"]) == 0
    assert (tmp_path / "t.tex").read_text().count(r"\texttt{synthetic-") == 5
    assert main(["table", str(tmp_path / "results.json"), "--out", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["table", str(tmp_path / "missing.json")]) == 2


def test_a_declared_finding_is_a_finding_in_the_table_too():
    tex = render_latex_table(record([finding_evidence()]))
    assert r"\texttt{synthetic-finding} & theorem & FINDING &" in tex
