"""The output directory: only a previous report is replaced, the swap survives a death at every step,
leftovers are cleaned, symlinks are followed, and concurrent writers are serialised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from theorycheck.core.errors import InputError
from theorycheck.reporting import outdir
from theorycheck.reporting.record import load_run
from theorycheck.reporting.report import write_run

from _synthetic import bound_evidence, order_evidence, record

TESTS = Path(__file__).resolve().parents[1]
STEPS = ("results-written", "files-written", "before-swap", "between-renames", "swapped", "cleaned")


def _ids(out: Path) -> list[str]:
    return [e.claim_id for e in load_run(out / "results.json").claims]


def _siblings(out: Path) -> list[str]:
    return sorted(x.name for x in out.parent.iterdir() if x.name != out.name)


# ----------------------------------------------------------------------------- what may be replaced
def test_a_directory_of_other_files_is_refused_and_kept(tmp_path):
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes")
    (out / "sub" / "data.csv").write_text("1,2\n")
    with pytest.raises(InputError, match="did not write"):
        write_run(record(), out)
    assert (out / "notes.txt").read_text() == "my notes" and (out / "sub" / "data.csv").exists()
    assert _siblings(out) == []


def test_a_checkouts_reports_folder_is_refused(tmp_path):
    reports = tmp_path / "reports"
    (reports / "example").mkdir(parents=True)
    (reports / "baseline.json").write_text("{}")
    write_run(record(), reports / "example")  # an empty directory may take a report
    with pytest.raises(InputError, match="baseline.json"):
        outdir.validate(reports)
    assert (reports / "baseline.json").read_text() == "{}"


def test_a_previous_report_is_replaced_but_not_a_file_added_to_it(tmp_path):
    out = tmp_path / "r"
    write_run(record([order_evidence()]), out)
    write_run(record([bound_evidence()]), out)
    assert _ids(out) == ["synthetic-bound"]
    (out / "figures" / "my-note.txt").write_text("keep")
    with pytest.raises(InputError, match="my-note.txt"):
        write_run(record(), out)
    assert (out / "figures" / "my-note.txt").read_text() == "keep"


def test_a_report_from_before_the_marker_is_recognised(tmp_path):
    out = tmp_path / "old"
    write_run(record([order_evidence()]), out)
    (out / outdir.MARKER).unlink()
    write_run(record([bound_evidence()]), out)
    assert _ids(out) == ["synthetic-bound"] and (out / outdir.MARKER).exists()


def test_one_commands_output_is_never_replaced_by_anothers(tmp_path):
    trace = tmp_path / "trace"
    written = outdir.write_files(trace, {"sharpness.json": b"{}\n"}, kind="sharpness")
    assert written == [str(trace / "sharpness.json")]
    assert outdir.output_kind(trace) == "sharpness"
    outdir.write_files(trace, {"sharpness.json": b"[]\n"}, kind="sharpness")  # its own kind: replaced
    assert (trace / "sharpness.json").read_bytes() == b"[]\n"
    with pytest.raises(InputError, match="holds theorycheck's sharpness trace, which a run report would replace"):
        write_run(record(), trace)
    with pytest.raises(InputError, match="which a stability sweep would replace"):
        outdir.write_files(trace, {"stability_sweep.json": b"{}"}, kind="stability-sweep")
    assert sorted(p.name for p in trace.iterdir()) == [outdir.MARKER, "sharpness.json"] and _siblings(trace) == []
    report = tmp_path / "report"
    write_run(record([order_evidence()]), report)
    with pytest.raises(InputError, match="holds theorycheck's run report"):
        outdir.validate(report, kind="sharpness")


def test_a_sweep_from_before_the_marker_is_its_own_kind(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    (old / "stability_sweep.json").write_text("{}")
    (old / "stability_sweep.png").write_bytes(b"png")
    assert outdir.foreign_entry(old) is None and outdir.output_kind(old) == "stability-sweep"
    outdir.validate(old, kind="stability-sweep")
    with pytest.raises(InputError, match="stability sweep"):
        outdir.validate(old, kind="report")


@pytest.mark.parametrize("bad", ["", "   "])
def test_an_empty_out_is_refused(bad):
    with pytest.raises(InputError, match="empty"):
        outdir.validate(bad)


def test_unwritable_places_are_refused_before_any_work(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(InputError, match="parent"):
        outdir.validate(f / "sub")
    with pytest.raises(InputError, match="not a directory"):
        outdir.validate(f)
    with pytest.raises(InputError):
        outdir.validate("/proc/theorycheck-report")


def test_a_symlink_is_followed_and_kept(tmp_path):
    target = tmp_path / "real"
    write_run(record([order_evidence()]), target)
    link = tmp_path / "link"
    link.symlink_to(target)
    write_run(record([bound_evidence()]), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert _ids(target) == ["synthetic-bound"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["link", "real"]


# ----------------------------------------------------------------------------- crash safety
_DIE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {tests!r})
    from theorycheck.reporting import outdir
    from theorycheck.reporting.report import write_run
    from _synthetic import bound_evidence, record
    outdir._exchange_ok = {exchange!r}
    def die(name):
        if name == {step!r}:
            os._exit(9)
    outdir._step = die
    write_run(record([bound_evidence()]), {out!r})
""")


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
@pytest.mark.parametrize("step", STEPS)
def test_a_death_at_every_step_leaves_a_whole_report_and_the_next_run_cleans_up(tmp_path, step, exchange):
    out = tmp_path / "latest"
    write_run(record([order_evidence()]), out)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    if exchange and not outdir._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) unavailable here: only the two-rename swap runs")
    a.rmdir(), b.rmdir()
    code = _DIE.format(tests=str(TESTS), exchange=exchange, step=step, out=str(out))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    died = proc.returncode == 9
    reached = {"between-renames": not exchange}.get(step, True)
    assert died == reached, proc.stderr
    # whatever instant it died at, a whole report is at `out` or (between the renames) kept beside it
    if out.exists():
        assert _ids(out) in (["synthetic-order"], ["synthetic-bound"])
    else:
        assert step == "between-renames"
    write_run(record([order_evidence(), bound_evidence()]), out)  # the next run repairs and replaces
    assert _ids(out) == ["synthetic-order", "synthetic-bound"]
    assert _siblings(out) == [], "leftovers of the crashed run remain"


def test_recover_restores_a_report_left_between_the_renames(tmp_path):
    out = tmp_path / "latest"
    write_run(record([order_evidence()]), out)
    os.rename(out, tmp_path / ".latest.old-12345")
    (tmp_path / ".latest.tmp-12345-abcd1234").mkdir()
    with outdir.claim_output(out) as t:
        assert _ids(t.path) == ["synthetic-order"]
        assert _siblings(out) == [".latest.lock"]
    assert _siblings(out) == []


# ----------------------------------------------------------------------------- concurrency
def test_a_second_run_into_the_same_directory_is_refused_while_the_first_writes(tmp_path):
    out = tmp_path / "latest"
    with outdir.claim_output(out):
        with pytest.raises(outdir.BusyError, match="another theorycheck run"):
            outdir.claim_output(out)
    with outdir.claim_output(out):  # released: free again
        pass


def test_concurrent_writers_are_serialised_and_none_is_lost(tmp_path):
    out = tmp_path / "latest"
    errors: list[BaseException] = []
    written: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            ev = order_evidence()
            ev.claim_id = f"c{i}"
            write_run(record([ev]), out, html=False)
            with lock:
                written.append(ev.claim_id)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(written) == 24
    assert _ids(out) == [written[-1]]  # the last writer's report, whole
    assert _siblings(out) == []
    assert json.loads((out / outdir.MARKER).read_text())["tool"] == "theorycheck"
