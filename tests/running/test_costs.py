"""Claim costs from the last run order a parallel run (longest first); the default executor; --no-cache."""

import json

import pytest

from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.numerics import cache
from theorycheck.running import costs
from theorycheck.running.cli import main
from theorycheck.running.executors import ProcessExecutor, default_executor, submission_order


@pytest.fixture
def cdir(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(cache.ENV_OFF, "0")  # on; teardown restores the caller's setting
    return tmp_path


def _table():
    """The stored cost table, read through the cache (None when there is none)."""
    payload = cache.load(costs.CACHE_KIND, costs.CACHE_KEY)
    return None if payload is None else json.loads(payload)


def _ev(cid, s):
    return Evidence(claim_id=cid, verdict=Verdict.PASS, summary="", elapsed_s=s)


def test_submission_order_is_longest_first_with_unknown_costs_first():
    assert submission_order(4, None) == [0, 1, 2, 3]
    assert submission_order(4, [1.0, 5.0, None, 5.0]) == [2, 1, 3, 0]


def test_costs_are_recorded_per_mode_and_read_back(cdir):
    assert costs.expected_costs(["a", "b"], quick=True) == [None, None]
    costs.record_costs([_ev("a", 2.5), _ev("b", 0.0)], quick=True)
    assert costs.expected_costs(["a", "b"], quick=True) == [2.5, None]
    assert costs.expected_costs(["a"], quick=False) == [None]
    cache.store(costs.CACHE_KIND, costs.CACHE_KEY, b"{not json")
    assert costs.expected_costs(["a"], quick=True) == [None]  # an unreadable table only loses the order
    costs.record_costs([_ev("a", 1.0)], quick=False)
    assert _table() == {"full": {"a": 1.0}}


def test_process_pool_keeps_input_order_whatever_the_start_order():
    with ProcessExecutor(max_workers=2) as ex:
        outs = ex.map_outcomes(lambda x: x * x, [1, 2, 3, 4], costs=[0.1, 9.0, None, 3.0])
    assert [o.value for o in outs] == [1, 4, 9, 16]


def test_default_executor_is_a_pool_only_where_it_pays():
    assert default_executor(40, cpus=2) == "process"
    assert default_executor(1, cpus=2) == "serial"
    assert default_executor(40, cpus=1) == "serial"


def test_run_no_cache_writes_nothing_to_the_cache(cdir, tmp_path, monkeypatch):
    assert main(["run", "--quick", "--quiet", "--no-html", "--no-cache", "--claim", "stability.closed-form",
                 "--out", str(tmp_path / "r")]) == 0
    assert not (cdir / costs.CACHE_KIND).exists()
    monkeypatch.setenv(cache.ENV_OFF, "0")
    assert main(["run", "--quick", "--quiet", "--no-html", "--claim", "stability.closed-form",
                 "--out", str(tmp_path / "r")]) == 0
    assert "stability.closed-form" in _table()["quick"]


def test_a_run_in_a_cache_directory_others_can_write_warns_once_for_all_its_workers(cdir, tmp_path, capsys):
    import os

    os.chmod(cdir, 0o777)
    try:
        assert main(["run", "--quick", "--quiet", "--no-html", "--executor", "process", "--claim",
                     "stability.closed-form", "--claim", "stability.gd-threshold", "--out", str(tmp_path / "r")]) == 0
    finally:
        os.chmod(cdir, 0o700)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "not using the cache" in err[0] and str(cdir) in err[0]
    assert os.listdir(cdir) == ["r"]  # nothing was cached (the report's own folder lives here too)
