"""Executors: serial, process pool and Dask give identical evidence; failures stay per item; CLI flags."""

import pytest

from theorycheck.claims import RunContext
from theorycheck.core.errors import InputError
from theorycheck.core.evidence import Verdict
from theorycheck.reporting.record import dumps
from theorycheck.running.cli import main
from theorycheck.running.executors import DaskExecutor, SerialExecutor, get_executor, parallel_map
from theorycheck.running.runner import run_claims

from _synthetic import ToyMonteCarlo, ToyMonteCarloSmall, ToyRaises

CLAIMS = [ToyMonteCarlo(), ToyRaises(), ToyMonteCarloSmall()]


def _json(executor=None, name="serial", scheduler=None):
    rec = run_claims(CLAIMS, RunContext(quick=True, seed=5, executor=name, scheduler=scheduler), progress=False,
                     executor=executor)
    rec.settings["executor"] = "any"  # where it ran is recorded, but is the only thing allowed to differ
    return dumps(rec.without_timings())


@pytest.fixture(scope="module")
def serial_json():
    return _json()


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=50) as c:
        yield c


def test_serial_run_records_errors_and_continues(serial_json):
    rec = run_claims(CLAIMS, RunContext(quick=True, seed=5), progress=False)
    assert [e.verdict for e in rec.claims] == [Verdict.PASS, Verdict.ERROR, Verdict.PASS]
    assert rec.claims[1].reason == "ZeroDivisionError: division by zero in toy check"
    assert rec.claims[1].source == "toy" and rec.environment["precision"]["eps"] == 2.0**-52


def test_process_pool_is_identical_to_serial(serial_json):
    with get_executor("process", max_workers=2) as ex:
        assert _json(ex, "process") == serial_json


def test_dask_local_cluster_is_identical_to_serial(serial_json):
    with get_executor("dask", max_workers=1) as ex:
        assert _json(ex, "dask") == serial_json


def test_dask_scheduler_address_is_identical_to_serial(serial_json, cluster):
    # runner opens the executor itself from ctx: the `--scheduler ADDRESS` path
    assert _json(None, "dask", cluster.scheduler_address) == serial_json


def test_parallel_map_keeps_order_and_ships_closures():
    offset = 10
    ctx = RunContext(executor="process")
    with get_executor("process", max_workers=2):
        assert parallel_map(lambda x: x * x + offset, range(7), ctx) == [x * x + offset for x in range(7)]
    assert parallel_map(lambda x: -x, [1, 2], RunContext()) == [-1, -2]


def test_item_failures_are_outcomes_and_map_reraises():
    def f(x):
        if x == 2:
            raise ValueError("two")
        return x

    outs = SerialExecutor().map_outcomes(f, [1, 2, 3])
    assert [o.ok for o in outs] == [True, False, True] and outs[1].error == "ValueError: two"
    with pytest.raises(ValueError, match="two"):
        SerialExecutor().map(f, [1, 2, 3])


def test_no_progress_output_when_not_a_tty(capsys):
    run_claims(CLAIMS[:1], RunContext(quick=True))
    assert capsys.readouterr().err == ""


def test_unknown_executor_and_stray_scheduler_are_input_errors():
    with pytest.raises(InputError, match="--executor"):
        get_executor("threads")
    with pytest.raises(InputError, match="--scheduler"):
        get_executor("process", scheduler="tcp://x:1")


def test_unreachable_scheduler_is_one_clear_error():
    with pytest.raises(InputError, match="cannot connect to a Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", connect_timeout=1)


def _exit_code(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse usage errors
        return exc.code


@pytest.mark.parametrize("argv, fragment", [
    (["run", "--executor", "threads"], "invalid choice"),
    (["run", "--executor", "process", "--scheduler", "tcp://x:1"], "--scheduler"),
    (["run", "--claim", "no-such-claim-id"], "unknown claim id"),
])
def test_run_cli_bad_input_is_one_line(argv, fragment, capsys, tmp_path):
    assert _exit_code(argv + ["--out", str(tmp_path / "r"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1, err
