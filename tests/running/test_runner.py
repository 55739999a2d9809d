"""Runner and `theorycheck run`: a claim that raises is ERROR and the run goes on; the report is written."""

import json

import pytest

from theorycheck import claims
from theorycheck.claims import RunContext
from theorycheck.core.evidence import Verdict
from theorycheck.reporting.record import load_run
from theorycheck.running.cli import main
from theorycheck.running.executors import default_executor
from theorycheck.running.runner import run_one

from _synthetic import ToyFail, ToyMonteCarlo, ToyPass, ToyRaises


def test_run_one_turns_an_exception_into_error_evidence():
    ev = run_one(ToyRaises(), RunContext(quick=True))
    assert ev.verdict is Verdict.ERROR and ev.claim_id == "toy-raises"
    assert ev.reason == "ZeroDivisionError: division by zero in toy check"
    assert ev.statement == ToyRaises.statement and ev.falsifier == ToyRaises.falsifier


@pytest.fixture
def toys(monkeypatch):
    reg = {c.id: c for c in (ToyPass(), ToyRaises(), ToyFail(), ToyMonteCarlo())}
    monkeypatch.setattr(claims, "all_claims", lambda: list(reg.values()))
    monkeypatch.setattr(claims, "get", lambda cid: reg[cid])
    return reg


def test_run_continues_after_an_error_and_writes_the_report(toys, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["run", "--quick", "--out", str(out)]) == 1  # ERROR: a check broke
    text = capsys.readouterr().out
    assert "toy-raises" in text and "2 PASS, 1 FINDING, 1 ERROR" in text and "index.html" in text
    rec = load_run(out / "results.json")
    assert [str(e.verdict) for e in rec.claims] == ["PASS", "ERROR", "FAIL", "PASS"]
    assert (out / "index.html").is_file() and (out / "report.md").is_file()
    # --executor auto: a process pool for four claims on a multi-core machine
    assert rec.settings == {"quick": True, "seed": RunContext.seed, "executor": default_executor(4)}


def test_a_fail_is_a_finding_not_a_failed_run(toys, tmp_path, capsys):
    assert main(["run", "--claim", "toy-fail", "--claim", "toy-pass", "--out", str(tmp_path / "r"), "--quiet",
                 "--no-html"]) == 0
    assert capsys.readouterr().out == ""
    assert not (tmp_path / "r" / "index.html").exists()


def test_baseline_command_refuses_errors_then_writes_without_timings(toys, tmp_path, capsys):
    base = tmp_path / "baseline.json"
    assert main(["baseline", "--out", str(base), "--quiet"]) == 1
    assert "toy-raises" in capsys.readouterr().err and not base.exists()
    assert main(["baseline", "--out", str(base), "--quiet", "--allow-error"]) == 0
    doc = json.loads(base.read_text())
    assert doc["settings"]["quick"] is True and all(c["elapsed_s"] == 0.0 for c in doc["claims"])
    # again: reports that nothing changed; then from a results file with a drifted number
    assert main(["baseline", "--out", str(base), "--quiet", "--allow-error"]) == 0
    assert "same verdicts and key numbers as the previous baseline" in capsys.readouterr().out
    doc["claims"][0]["key"]["value"] = 1.5
    drifted = tmp_path / "drifted.json"
    drifted.write_text(json.dumps(doc))
    assert main(["baseline", "--out", str(base), "--from", str(drifted), "--allow-error"]) == 0
    assert "toy-pass: key value 1 -> 1.5" in capsys.readouterr().out
    assert load_run(base).claims[0].key["value"] == 1.5


def test_warnings_are_recorded_in_the_evidence_not_printed(capsys):
    import warnings

    class Noisy(ToyPass):
        id = "toy-noisy"

        def evaluate(self, ctx):
            for _ in range(3):
                warnings.warn("overflow encountered in matmul", RuntimeWarning)
            return super().evaluate(ctx)

    ev = run_one(Noisy(), RunContext())
    assert ev.verdict is Verdict.PASS and len(ev.warnings) == 1
    assert ev.warnings[0].startswith("RuntimeWarning: overflow encountered in matmul (test_runner.py:")
    assert capsys.readouterr().err == ""
    from theorycheck.reporting.report import render_markdown

    from _synthetic import record

    assert "overflow encountered in matmul" in render_markdown(record([ev]))


def test_an_error_keeps_its_whole_traceback():
    ev = run_one(ToyRaises(), RunContext(quick=True))
    assert ev.traceback.startswith("Traceback (most recent call last):")
    assert "in evaluate" in ev.traceback and ev.traceback.rstrip().endswith(ev.reason)
