"""``theorycheck table --out``: replaces a table it wrote, refuses any other file unless --force (as baseline does)."""

from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.reporting.record import RunRecord, save_run
from theorycheck.running.cli import main
from theorycheck.running.commands.table import MARKER


def _results(tmp_path):
    evs = [Evidence(f"user.c{i}", Verdict.PASS, "s", source="a paper", key={"x": 1.0 + i}) for i in range(3)]
    path = tmp_path / "results.json"
    save_run(RunRecord(environment={}, settings={"quick": True}, claims=evs), path)
    return path


def test_out_does_not_replace_a_file_theorycheck_did_not_write(tmp_path, capsys):
    results, mine = _results(tmp_path), tmp_path / "existing.txt"
    mine.write_text("my notes, not a table\n")
    assert main(["table", str(results), "--out", str(mine), "--no-entry-points"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"theorycheck: error: `--out` {str(mine)!r} exists and was not written by theorycheck table; "
                   "not replacing it without --force."]
    assert mine.read_text() == "my notes, not a table\n"
    assert main(["table", str(results), "--out", str(mine), "--force", "--no-entry-points"]) == 0
    assert mine.read_text().startswith(MARKER) and r"\texttt{user.c2}" in mine.read_text()


def test_out_replaces_a_table_it_wrote_and_the_text_on_stdout_is_the_same_table(tmp_path, capsys):
    results, tex = _results(tmp_path), tmp_path / "claims.tex"
    assert main(["table", str(results), "--out", str(tex), "--no-entry-points"]) == 0
    first = tex.read_text()
    assert main(["table", str(results), "--out", str(tex), "--standalone", "--no-entry-points"]) == 0
    assert tex.read_text() != first and r"\documentclass{article}" in tex.read_text()
    capsys.readouterr()
    assert main(["table", str(results), "--no-entry-points"]) == 0
    printed = capsys.readouterr().out
    assert printed == first  # `table R > claims.tex` writes what --out writes, so --out may later replace it
