"""Tests for the `theorycheck` entry point: list, show, run (in-process, via theorycheck.running.cli.main)."""

from __future__ import annotations

import json

import pytest

from theorycheck import claims
from theorycheck.running.cli import main

CHEAP_CLAIM = "quadratic-exact-modified-field"  # symbolic, well under a second in quick mode


def test_list_prints_every_claim(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for c in claims.all_claims():
        assert c.id in out


def test_list_by_tag(capsys):
    assert main(["list", "--tag", "symbolic"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines and all(claims.get(line.split()[0]).tags.count("symbolic") for line in lines)


def test_show(capsys):
    assert main(["show", "igr-local-order"]) == 0
    out = capsys.readouterr().out
    assert "Theorem 3.1" in out and "fails if:" in out


@pytest.mark.parametrize("argv", [
    ["show", "igr-local-ordr"],
    ["show", "no-such-claim"],
    ["run", "--quick", "--claim", "no-such-claim"],
])
def test_unknown_claim_id_is_one_line(argv, capsys, tmp_path):
    if argv[0] == "run":
        argv = argv + ["--out", str(tmp_path / "out")]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "unknown claim id" in err
    assert "Traceback" not in err


def test_unknown_claim_suggests_close_id(capsys):
    main(["show", "igr-local-ordr"])
    assert "igr-local-order" in capsys.readouterr().err


def test_run_writes_results_and_report(capsys, tmp_path):
    out = tmp_path / "rep"
    rc = main(["run", "--quick", "--quiet", "--claim", CHEAP_CLAIM, "--out", str(out)])
    assert rc == 0
    data = json.loads((out / "results.json").read_text())
    assert [c["claim_id"] for c in data["claims"]] == [CHEAP_CLAIM]
    assert data["claims"][0]["verdict"] == "PASS"
    assert (out / "report.md").read_text().strip()


def test_run_prints_summary_table(capsys, tmp_path):
    rc = main(["run", "--quick", "--claim", CHEAP_CLAIM, "--out", str(tmp_path / "o"), "--no-html"])
    out = capsys.readouterr().out
    assert rc == 0
    assert CHEAP_CLAIM in out and "PASS" in out and "report in" in out


def test_no_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_closed_pipe_is_not_a_traceback():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "theorycheck", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes, like `theorycheck list | true`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err


def test_a_named_command_builds_only_its_own_parser():
    from theorycheck.running.cli import COMMAND_MODULES, build_parser

    def commands(parser):
        return set(next(a for a in parser._actions if a.dest == "command").choices)

    everything = {m.rsplit(".", 1)[1].rstrip("_") for m in COMMAND_MODULES}
    assert commands(build_parser()) == commands(build_parser(["--help"])) == everything
    assert commands(build_parser(["orde"])) == everything  # a misspelt name still gets the usage listing them all
    assert commands(build_parser(["order", "--loss", "trig"])) == {"order"}
    assert commands(build_parser(["list"])) == {"list"}


def test_version_prints_the_package_version(capsys):
    import theorycheck

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"theorycheck {theorycheck.__version__}"
