"""As a user: a throw-away package with its own claim module and entry point, installed into a temporary directory
on the path (the layout pip gives it: the package beside its ``.dist-info`` with ``entry_points.txt``, so nothing is
left in the environment and no build tools are needed), seen by list, run, the report, baseline, compare and pytest;
a mutant of its claim breaks run, pytest and compare."""

import json
import os
import subprocess
import sys

import pytest
from _user_claims import claim_source


def _sh(args, cwd, env, ok=(0,)):
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode in ok, f"{args} -> {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("user")
    site = root / "site"
    (site / "tcbounds").mkdir(parents=True)
    (site / "tcbounds" / "__init__.py").write_text("")
    (site / "tcbounds" / "claims.py").write_text(claim_source())
    info = site / "tcbounds-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tcbounds\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text('[theorycheck.claims]\ntcbounds = tcbounds.claims\n')
    (info / "RECORD").write_text("")
    work = root / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CI", None)
    return site, work, env


def tc(*args):
    return [sys.executable, "-m", "theorycheck", *args]


def test_every_command_and_pytest_see_the_installed_claims_and_a_mutant_breaks_them(installed):
    site, work, env = installed
    cid = "tcbounds.spectral-norm-bound"
    out = _sh(tc("list", "--only-user"), work, env).stdout
    assert out.split()[0] == cid and "(user)" in out
    assert cid in _sh(tc("list"), work, env).stdout  # beside the built-ins
    _sh(tc("run", "--only-user", "--quick", "--quiet", "--out", "rep"), work, env)
    res = json.loads((work / "rep" / "results.json").read_text())
    assert [c["claim_id"] for c in res["claims"]] == [cid] and res["claims"][0]["verdict"] == "PASS"
    assert cid in (work / "rep" / "report.md").read_text() and cid in (work / "rep" / "index.html").read_text()
    _sh(tc("baseline", "--only-user", "--out", "base.json", "--quiet"), work, env)
    assert [c["claim_id"] for c in json.loads((work / "base.json").read_text())["claims"]] == [cid]
    _sh(tc("compare", "base.json", "rep/results.json"), work, env)
    r = _sh([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--theory", "--theory-baseline",
             "base.json"], work, env)
    assert "1 passed" in r.stdout

    # the mutant: the installed claim module with half the bound
    (site / "tcbounds" / "claims.py").write_text(claim_source(factor=0.5))
    r = _sh(tc("run", "--only-user", "--quick", "--quiet", "--out", "rep2"), work, env, ok=(1,))
    assert f"expectation broken: {cid}: expected to PASS, FAILed" in r.stderr
    r = _sh(tc("compare", "base.json", "rep2/results.json"), work, env, ok=(1,))
    assert cid in r.stdout and "PASS" in r.stdout and "FAIL" in r.stdout
    r = _sh([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--theory", "--theory-baseline",
             "base.json"], work, env, ok=(1,))
    assert "1 failed" in r.stdout and "verdict PASS in the baseline, FAIL now" in r.stdout
