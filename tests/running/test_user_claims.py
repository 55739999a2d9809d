"""User claims: loaded from a file, a module and pyproject.toml, namespaced, selected, and judged by `run`'s exit."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _user_claims import claim_source, clean_registry, three_claims

from theorycheck.claims import registry
from theorycheck.core.errors import ClaimCollisionError, InputError
from theorycheck.running import loading
from theorycheck.running.cli import main

THEORYCHECK = [sys.executable, "-m", "theorycheck"]


@pytest.fixture(autouse=True)
def _registry(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with clean_registry():
        yield
    for name in ("my_bounds", "other_bounds", "mypkg", "mypkg.claims", "three_claims", "norm_helpers", "wf_claims"):
        sys.modules.pop(name, None)


def _file(tmp_path, name="my_bounds.py", factor=1.0):
    p = tmp_path / name
    p.write_text(claim_source(factor))
    return p


def test_a_file_loads_under_its_namespace_and_is_selected_alone(tmp_path, capsys):
    _file(tmp_path)
    assert main(["list", "--claims", "my_bounds.py", "--only-user", "--no-entry-points"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("my_bounds.spectral-norm-bound ") and out[0].endswith("(user)")
    c = loading.resolve("spectral-norm-bound")  # unambiguous without its namespace
    assert c.id == "my_bounds.spectral-norm-bound" and not registry.is_builtin(c) and registry.area_of(c) == "my_bounds"


def test_run_exits_nonzero_when_a_user_claim_expected_to_pass_fails(tmp_path, capsys):
    _file(tmp_path)
    assert main(["run", "--claims", "my_bounds.py", "--only-user", "--quick", "--quiet", "--out", "ok"]) == 0
    _file(tmp_path, "other_bounds.py", factor=0.5)  # the mutant: half the bound
    rc = main(["run", "--claims", "other_bounds.py", "--only-user", "--quick", "--quiet", "--out", "bad"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "expectation broken: other_bounds.spectral-norm-bound: expected to PASS, FAILed" in err
    from theorycheck.reporting.record import load_run

    rec = load_run(tmp_path / "bad" / "results.json")
    assert [e.claim_id for e in rec.claims] == ["other_bounds.spectral-norm-bound"]
    assert rec.claims[0].counterexample and str(rec.claims[0].verdict) == "FAIL"


def test_pyproject_tool_table_and_module_names_load(tmp_path, capsys):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "claims.py").write_text(claim_source())
    (tmp_path / "pyproject.toml").write_text('[tool.theorycheck]\nclaims = ["mypkg.claims"]\n')
    assert main(["list", "--only-user", "--no-entry-points"]) == 0
    assert capsys.readouterr().out.startswith("mypkg.spectral-norm-bound ")
    assert main(["show", "mypkg.spectral-norm-bound", "--no-entry-points"]) == 0
    assert "expect:    pass" in capsys.readouterr().out


def test_selection_by_tag_area_and_id(tmp_path, capsys):
    _file(tmp_path)
    loading.load_user_claims(["my_bounds.py"], entry_points=False)
    assert [c.id for c in loading.select(tags=["linear-algebra"])] == ["my_bounds.spectral-norm-bound"]
    assert [c.id for c in loading.select(areas=["my_bounds"])] == ["my_bounds.spectral-norm-bound"]
    stab = loading.select(areas=["stability"])
    assert stab and all(c.id.startswith("stability.") for c in stab)
    assert [c.id for c in loading.select(ids=["stability.closed-form"])] == ["stability.closed-form"]
    with pytest.raises(InputError, match="--only-user.*stability.closed-form"):
        loading.select(ids=["stability.closed-form"], only_user=True)
    with pytest.raises(InputError, match="unknown area"):
        loading.select(areas=["nope"])
    with pytest.raises(InputError, match="no claim carries this tag"):
        loading.select(tags=["no-such-tag"])


def test_two_claims_under_one_id_are_a_clear_error(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _file(a)
    _file(b)  # same namespace (the file stem), same id, another file
    loading.import_claims(str(a / "my_bounds.py"))
    with pytest.raises(InputError, match="already loaded"):
        loading.import_claims(str(b / "my_bounds.py"))
    # two classes under one id in one module
    (tmp_path / "other_bounds.py").write_text(claim_source() + textwrap.dedent('''
        @register
        @dataclass(frozen=True, kw_only=True)
        class Again(SpectralNormBound):
            pass
    '''))
    with pytest.raises(ClaimCollisionError, match="two claims have the id 'other_bounds.spectral-norm-bound'"):
        loading.import_claims("other_bounds.py")
    with pytest.raises(ClaimCollisionError):
        registry.register(type("X", (registry.get("stability.closed-form").__class__,), {"__module__": "theorycheck.x"}))


@pytest.mark.parametrize("content, message", [
    ("import no_such_module_xyz\n", "cannot load claims from 'broken.py': ModuleNotFoundError: No module named "
                                    "'no_such_module_xyz' (broken.py:1)"),
    ("x = 1/0\n", "ZeroDivisionError: division by zero (broken.py:1)"),
    ("def f(:\n", "SyntaxError"),
    ("from theorycheck import Claim, register\n@register\nclass C(Claim):\n    id = 'c'\n    title = source = "
     "statement = falsifier = 'x'\n    expect = 'maybe'\n    def evaluate(self, ctx): pass\n",
     "`expect` must be one of pass, finding, got 'maybe'"),
])
def test_a_broken_claims_file_is_one_line_on_stderr(tmp_path, content, message):
    (tmp_path / "broken.py").write_text(content)
    r = subprocess.run([*THEORYCHECK, "list", "--claims", "broken.py"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert message in r.stderr


def test_missing_module_and_file_and_bad_pyproject(tmp_path, capsys):
    assert main(["list", "--claims", "no_such_pkg_xyz.claims"]) == 2
    assert "no module named 'no_such_pkg_xyz'" in capsys.readouterr().err
    assert main(["list", "--claims", "gone.py"]) == 2
    assert "claims file 'gone.py' does not exist" in capsys.readouterr().err
    assert main(["list", "--claims", str(tmp_path) + "/"]) == 2
    assert "is a directory, not a .py file" in capsys.readouterr().err
    (tmp_path / "pyproject.toml").write_text("[tool.theorycheck]\nclaims = 3\n")
    assert main(["list"]) == 2
    assert "must be a list" in capsys.readouterr().err


def test_builtin_findings_are_the_baselines_fails_and_hold_their_expectation():
    from theorycheck.core.evidence import Verdict
    from theorycheck.reporting.record import load_run

    base = load_run(Path(__file__).resolve().parents[2] / "reports" / "baseline.json")
    findings = {c.id for c in registry.builtin_claims() if c.expect == "finding"}
    verdict = {e.claim_id: e.verdict for e in base.claims}
    # every FAIL of the quick suite is a finding; a finding the quick suite's few seeds cannot decide (it FAILs
    # on the full suite's) is INCONCLUSIVE there, never PASS
    assert {cid for cid, v in verdict.items() if v is Verdict.FAIL} <= findings
    assert all(verdict[cid] in (Verdict.FAIL, Verdict.INCONCLUSIVE) for cid in findings)
    by_id = {c.id: c for c in registry.builtin_claims()}
    assert not [e.claim_id for e in base.claims if by_id[e.claim_id].broken_expectation(e.verdict)]
    f = by_id["stability.wu-ma-e-necessary"]
    assert f.broken_expectation(Verdict.PASS) and f.broken_expectation(Verdict.ERROR)
    assert not f.broken_expectation(Verdict.FAIL) and not f.broken_expectation(Verdict.INCONCLUSIVE)


def _three(tmp_path, **kw):
    """Three claims and their sibling helpers in ``tmp_path/proj``; commands run from ``tmp_path/elsewhere``."""
    proj, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    proj.mkdir()
    elsewhere.mkdir()
    os.chdir(elsewhere)
    return three_claims(proj, **kw)


def _verdicts(results):
    from theorycheck.reporting.record import load_run

    return [(e.claim_id, str(e.verdict)) for e in load_run(results).claims]


THREE_PASS = [("three_claims.tall", "PASS"), ("three_claims.square", "PASS"), ("three_claims.wide", "PASS")]


@pytest.mark.parametrize("executor", ["auto", "serial", "dask"])
def test_three_claims_with_a_sibling_import_pass_under_run_on_every_executor(tmp_path, executor):
    path = _three(tmp_path)
    rc = main(["run", "--claims", str(path), "--only-user", "--quick", "--quiet", "--no-html", "--no-entry-points",
               "--executor", executor, "--out", str(tmp_path / "out")])
    assert rc == 0 and _verdicts(tmp_path / "out" / "results.json") == THREE_PASS


def test_the_mutant_of_the_three_claims_fails_in_the_workers(tmp_path, capsys):
    path = _three(tmp_path, factor=0.5)
    rc = main(["run", "--claims", str(path), "--only-user", "--quick", "--quiet", "--no-html", "--no-entry-points",
               "--executor", "process", "--out", str(tmp_path / "out")])
    assert rc == 1 and {v for _, v in _verdicts(tmp_path / "out" / "results.json")} == {"FAIL"}
    assert capsys.readouterr().err.count("expected to PASS, FAILed") == 3


def test_three_claims_with_a_sibling_import_under_baseline_show_and_pytest(tmp_path, capsys):
    path = _three(tmp_path)
    assert main(["baseline", "--claims", str(path), "--only-user", "--no-entry-points", "--quiet",
                 "--out", str(tmp_path / "base.json")]) == 0
    assert _verdicts(tmp_path / "base.json") == THREE_PASS
    assert main(["show", "three_claims.square", "--claims", str(path), "--no-entry-points"]) == 0
    assert "spectral <= Frobenius, square matrices" in capsys.readouterr().out
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--theory",
                        "--theory-claims", str(path)], capture_output=True, text=True, cwd=tmp_path / "elsewhere")
    assert r.returncode == 0 and "3 passed" in r.stdout, r.stdout + r.stderr


def test_a_claim_a_worker_cannot_import_says_why_and_where(tmp_path, capsys, monkeypatch):
    proj = tmp_path / "proj"
    proj.mkdir()
    # imports a module that exists for the parent process only (as a file on a path only the parent has would)
    source = three_claims(proj).read_text().replace(
        "import numpy as np\n",
        "import os\n\nimport numpy as np\n\nif os.environ.get('TC_PARENT') != str(os.getpid()):\n"
        "    import only_in_the_parent  # noqa: F401\n", 1)
    (proj / "wf_claims.py").write_text(source)
    monkeypatch.setenv("TC_PARENT", str(os.getpid()))
    rc = main(["run", "--claims", str(proj / "wf_claims.py"), "--only-user", "--quick", "--quiet", "--no-html",
               "--no-entry-points", "--executor", "process", "--out", str(tmp_path / "out")])
    assert rc == 1
    from theorycheck.reporting.record import load_run

    ev = load_run(tmp_path / "out" / "results.json").claims[0]
    assert ev.summary == "claim not importable in the worker" and "worker failed" not in ev.reason
    assert "ModuleNotFoundError: No module named 'only_in_the_parent'" in ev.reason
    line = source.splitlines().index("    import only_in_the_parent  # noqa: F401") + 1
    assert f"while importing 'wf_claims' from {proj / 'wf_claims.py'} (line {line})" in ev.reason
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all("only_in_the_parent" in line for line in err)


@pytest.mark.parametrize("folder_mode, file_mode, needle", [
    (0o777, 0o644, "its folder"),
    (0o755, 0o666, "chmod go-w"),
])
def test_a_claims_file_another_user_could_change_is_not_imported(tmp_path, capsys, folder_mode, file_mode, needle):
    shared = tmp_path / "shared"
    shared.mkdir()
    path = three_claims(shared)
    os.chmod(path, file_mode)
    os.chmod(shared, folder_mode)
    try:
        assert main(["list", "--claims", str(path), "--no-entry-points"]) == 2
    finally:
        os.chmod(shared, 0o755)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could have been changed by another user" in err[0] and needle in err[0]
    assert "three_claims" not in sys.modules and "norm_helpers" not in sys.modules  # nothing of it ran
