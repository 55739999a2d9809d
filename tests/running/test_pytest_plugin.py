"""The pytest plugin: claim tests' outcomes against a baseline, and --theory-report."""

import sys
import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]

TEST_FILE = """
import pytest
from theorycheck.running.pytest_plugin import claim_params

@pytest.mark.parametrize("claim", claim_params())
def test_claim(claim, theory):
    theory.check(claim)
"""


@pytest.fixture
def toy_registry(monkeypatch):
    """Replace the registry by three toy claims: one PASS, one FAIL (a finding), one that raises."""
    from theorycheck import claims

    from _synthetic import ToyFail, ToyPass, ToyRaises

    toys = [ToyPass(), ToyFail(), ToyRaises()]
    monkeypatch.setattr(claims, "all_claims", lambda: list(toys))
    return toys


def _baseline(path, verdicts, quick=True):
    from theorycheck.core.evidence import Evidence, Verdict
    from theorycheck.reporting.record import save_run

    from _synthetic import record

    rec = record([Evidence(cid, Verdict(v), "s") for cid, v in verdicts.items()], quick=quick, seed=20211)
    save_run(rec, path)


def _run(pytester, *args):
    pytester.makepyfile(test_toys=TEST_FILE)
    # the plugin arrives through its pytest11 entry point, as in a user's project
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rxXfw", *args)


def test_without_baseline_error_is_red_and_fail_is_a_visible_finding(pytester, toy_registry):
    res = _run(pytester)
    res.assert_outcomes(passed=1, xfailed=1, failed=1)
    res.stdout.fnmatch_lines(["*toy-raises: the check raised: ZeroDivisionError: division by zero in toy check",
                              "XFAIL *test_claim[[]toy-fail[]] - finding: * (value = 2.0)"])


def test_verdict_flip_against_baseline_is_red(pytester, toy_registry):
    _baseline(pytester.path / "base.json", {"toy-pass": "FAIL", "toy-fail": "FAIL", "toy-raises": "PASS"})
    res = _run(pytester, "--theory-baseline", "base.json")
    res.assert_outcomes(xfailed=1, failed=2)
    res.stdout.fnmatch_lines(["*toy-pass: verdict FAIL in the baseline, PASS now*theorycheck baseline*"])


def test_claim_missing_from_baseline_passes_with_a_warning(pytester, toy_registry):
    _baseline(pytester.path / "base.json", {"toy-fail": "FAIL"})
    res = _run(pytester, "--theory-baseline", "base.json", "-k", "toy-pass")
    res.assert_outcomes(passed=1, deselected=2, warnings=1)
    res.stdout.fnmatch_lines(["*toy-pass: not in the baseline*"])


def test_malformed_baseline_fails_claim_tests_with_its_message(pytester, toy_registry):
    (pytester.path / "base.json").write_text("{nope")
    res = _run(pytester, "--theory-baseline", "base.json", "-k", "toy-pass")
    res.assert_outcomes(failed=1, deselected=2)
    res.stdout.fnmatch_lines(["*baseline*is not valid JSON*"])


def test_theory_report_writes_the_whole_registry(pytester, toy_registry):
    res = _run(pytester, "-k", "toy-pass", "--theory-report", "rep")
    res.assert_outcomes(passed=1, deselected=2)
    res.stdout.fnmatch_lines(["theorycheck report: rep/index.html"])
    from theorycheck.reporting.record import load_run

    rec = load_run(pytester.path / "rep" / "results.json")
    assert [e.claim_id for e in rec.claims] == ["toy-pass", "toy-fail", "toy-raises"]  # deselected ones run too
    assert rec.settings["quick"] is True and (pytester.path / "rep" / "index.html").is_file()


def test_entry_point_is_declared_under_the_module_name():
    eps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["pytest11"]
    assert eps == {"theorycheck.running.pytest_plugin": "theorycheck.running.pytest_plugin"}


def test_importing_the_plugin_is_cheap():
    import subprocess

    code = "import sys, theorycheck.running.pytest_plugin; print(sorted(m for m in sys.modules if m.startswith(('theorycheck', 'numpy'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "['theorycheck', 'theorycheck.running', 'theorycheck.running.pytest_plugin']"
