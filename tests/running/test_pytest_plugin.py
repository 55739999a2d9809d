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
    import theorycheck
    from theorycheck import claims

    from _synthetic import ToyFail, ToyPass, ToyRaises

    toys = [ToyPass(), ToyFail(), ToyRaises()]
    # pytester restores sys.modules after each in-process run, so the package attribute and the sys.modules entry
    # can be two module objects: patch both
    for mod in {id(m): m for m in (claims, sys.modules["theorycheck.claims"], theorycheck.claims)}.values():
        monkeypatch.setattr(mod, "all_claims", lambda: list(toys))
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


# ----------------------------------------------------------------------------- pytest --theory: a user's claims
@pytest.fixture
def user_project(pytester):
    """A user's project: a claims file, and pytest run in it (in a subprocess, as a user would) with the plugin
    from its entry point."""
    from _user_claims import claim_source

    def write(factor=1.0):
        (pytester.path / "my_bounds.py").write_text(claim_source(factor))

    write()
    return write


def _theory(pytester, *args):
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rxXfw", "--theory", "--theory-claims",
                                        "my_bounds.py", *args)


def test_theory_collects_the_users_claims_and_warns_without_a_baseline(pytester, user_project):
    res = _theory(pytester)
    res.assert_outcomes(passed=1, warnings=1)
    res.stdout.fnmatch_lines(["*no baseline at*verdicts are held to the claims' expectations only*"])
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--theory-claims", "my_bounds.py")
    assert res.ret == pytest.ExitCode.NO_TESTS_COLLECTED  # without --theory nothing is collected


def test_a_failing_user_claim_is_red_with_its_cases_and_counterexample(pytester, user_project):
    user_project(factor=0.5)  # the mutant
    res = _theory(pytester)
    res.assert_outcomes(failed=1, warnings=1)
    res.stdout.fnmatch_lines(["*my_bounds.spectral-norm-bound: expected to PASS, FAILed: worst margin*",
                              "*cases: 8, not passing: *", "*A*: FAIL  measured {'spectral': *}  expected {'bound': *",
                              "*counterexample: {\"note\": \"A*"])


def test_regen_writes_the_baseline_and_a_mutant_then_flips_against_it(pytester, user_project):
    res = _theory(pytester, "--theory-regen", "--theory-baseline", "theory.json")
    res.assert_outcomes(passed=1)
    res.stdout.fnmatch_lines(["theorycheck baseline written: *theory.json (1 claims)"])
    from theorycheck.reporting.record import load_run

    assert [e.claim_id for e in load_run(pytester.path / "theory.json").claims] == ["my_bounds.spectral-norm-bound"]
    _theory(pytester, "--theory-baseline", "theory.json").assert_outcomes(passed=1)  # no warning: the baseline is there
    user_project(factor=0.5)
    res = _theory(pytester, "--theory-baseline", "theory.json")
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["*verdict PASS in the baseline, FAIL now*--theory-regen*"])


def test_theory_fixture_runs_one_claim_in_an_ordinary_test(pytester, user_project):
    pytester.makepyfile(test_mine="""
        def test_bound_has_slack(theory):
            ev = theory.run("my_bounds.spectral-norm-bound")
            assert ev.key["worst_margin"] > 0.1
            theory.check("spectral-norm-bound")  # namespace optional when unambiguous
    """)
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--theory-claims", "my_bounds.py",
                                       "--theory-baseline", "none.json", "-W", "ignore::UserWarning")
    res.assert_outcomes(passed=1)


def test_pyproject_claims_and_builtins_on_request(pytester, user_project):
    (pytester.path / "pyproject.toml").write_text('[tool.theorycheck]\nclaims = ["my_bounds.py"]\n')
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--theory", "--collect-only", "-q")
    assert [ln for ln in res.stdout.lines if ln.startswith("theory::")] == ["theory::my_bounds.spectral-norm-bound"]
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--theory", "--theory-builtins", "--collect-only", "-q")
    import json

    # the built-in registry is the committed baseline's claim set (read from the file: in-process runs of pytester
    # above may leave this process with a second copy of the registry module)
    n = len(json.loads((ROOT / "reports" / "baseline.json").read_text())["claims"])
    ids = [ln for ln in res.stdout.lines if ln.startswith("theory::")]
    assert len(ids) == n + 1 and ids[0] == "theory::gd-flow-local-order" and ids[-1].startswith("theory::my_bounds.")


def test_a_bad_claims_module_is_a_usage_error(pytester, user_project):
    (pytester.path / "bad.py").write_text("1/0\n")
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--theory", "--theory-claims", "bad.py")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*theorycheck: cannot load claims from 'bad.py': ZeroDivisionError*"])
