"""``theorycheck show --paper NAME``: a paper statement by statement, with the verdicts of the last run."""

import json

import pytest

from theorycheck.claims import papers
from theorycheck.reporting.record import save_run
from theorycheck.running.cli import main

from _synthetic import record_with_papers

#: The keys of ``show --paper --json`` (one dict, built by commands.show.paper_payload).
PAYLOAD_KEYS = {"schema_version", "paper", "results", "run", "tally", "statements"}
STATEMENT_KEYS = {"number", "where", "place", "text", "status", "standing", "not_checked", "note", "claims"}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no reports/latest/results.json here unless a test writes one
    return tmp_path


def test_without_a_run_the_statements_are_shown_with_their_claims(elsewhere, capsys):
    assert main(["show", "--paper", "ma-ying"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Ma & Ying 2021: ") and "no verdicts: no run found" in out
    statements = papers.get_paper("ma-ying-2021").statements
    assert [ln.split(".")[0].strip() for ln in out.splitlines() if ln[:3].strip().rstrip(".").isdigit()] == [
        str(i + 1) for i in range(len(statements))]
    assert "nets.deep-multiplicative" in out and "open question" in out


def test_the_default_run_gives_the_verdicts(elsewhere, capsys):
    rec = record_with_papers()
    (elsewhere / "reports" / "latest").mkdir(parents=True)
    save_run(rec, elsewhere / "reports" / "latest" / "results.json")
    assert main(["show", "--paper", "barrett-dherin-2021"]) == 0
    out = capsys.readouterr().out
    assert "verdicts from reports/latest/results.json (quick run, seed 1)" in out
    # the built-in paper's statements, with the verdicts the run has for their claims (none here: not run)
    assert "not run" in out


def test_json_is_one_object_with_every_statement(elsewhere, capsys, tmp_path):
    path = tmp_path / "r.json"
    save_run(record_with_papers(), path)
    assert main(["show", "--paper", "Ma & Ying", "--results", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == PAYLOAD_KEYS and doc["paper"]["key"] == "ma-ying-2021" and doc["results"] == str(path)
    assert doc["run"] == {"quick": True, "seed": 1}
    assert all(set(s) == STATEMENT_KEYS for s in doc["statements"])
    assert [s["number"] for s in doc["statements"]] == list(range(1, len(doc["statements"]) + 1))
    assert sum(doc["tally"].values()) == len(doc["statements"])


def test_show_claim_names_its_papers(capsys):
    assert main(["show", "stability.wu-ma-e-necessary"]) == 0
    out = capsys.readouterr().out
    assert "papers:    wu-ma-e-2018" in out and "shown as FINDING" in out


def test_a_stale_default_results_file_is_a_note_not_an_error(elsewhere, capsys):
    (elsewhere / "reports" / "latest").mkdir(parents=True)
    (elsewhere / "reports" / "latest" / "results.json").write_text("{not json")
    assert main(["show", "--paper", "cohen"]) == 0
    out, err = capsys.readouterr()
    assert "no verdicts" in out and len(err.strip().splitlines()) == 1 and "verdicts not shown" in err
