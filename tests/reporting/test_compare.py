"""Regression of theory: what `compare` reports as a difference, and the CLI's exit codes."""

import copy
import json

import pytest

from theorycheck.core.evidence import Verdict
from theorycheck.reporting.compare import DEFAULT_RTOL, compare, within
from theorycheck.reporting.record import save_run
from theorycheck.running.cli import main

from _synthetic import order_evidence, record


def _lines(base, new, **kw):
    return [str(d) for d in compare(base, new, **kw)]


def test_identical_runs_agree():
    assert compare(record(), record()) == []


def test_verdict_flip_is_a_difference():
    new = record()
    new.claims[0].verdict = Verdict.FAIL
    assert _lines(record(), new) == ["synthetic-order: verdict PASS -> FAIL"]


def test_drifted_order_is_caught_and_round_off_is_not():
    new = record()
    new.claims[0].key["order"] = 2.9
    (line,) = _lines(record(), new)
    assert line.startswith("synthetic-order: key order 2.998 -> 2.9 (relative change 0.033")
    new.claims[0].key["order"] = 2.998 * (1 + 1e-12)
    assert _lines(record(), new) == []


def test_per_key_tolerance_from_the_baseline_wins():
    base, new = record(), record()
    base.claims[0].key_tolerance = {"order": {"rtol": 0.05}}
    new.claims[0].key["order"] = 2.9
    assert _lines(base, new) == []
    assert len(_lines(record(), new, rtol=0.01)) == 1
    assert _lines(record(), new, rtol=0.05) == []


def test_claims_and_keys_added_or_removed_are_differences():
    base, new = record(), record()
    removed = new.claims.pop(1)
    extra = copy.deepcopy(order_evidence())
    extra.claim_id = "brand-new"
    new.claims.append(extra)
    del new.claims[0].key["worst_margin"]
    new.claims[0].key["slope"] = 1.0
    lines = _lines(base, new)
    assert f"{removed.claim_id}: claim removed (baseline verdict PASS)" in lines
    assert "brand-new: claim added (verdict PASS; not in the baseline)" in lines
    assert "synthetic-order: key worst_margin removed (baseline 0.048)" in lines
    assert "synthetic-order: key slope added (1.0)" in lines
    assert len(lines) == 4


def test_settings_that_change_numbers_must_match():
    assert _lines(record(), record(quick=False))[0].startswith("settings: quick True -> False")
    assert _lines(record(), record(executor="dask")) == []  # where it ran does not change the numbers


def test_timings_and_environment_are_never_compared():
    base, new = record(), record()
    new.claims[0].elapsed_s = 99.0
    base.claims[0].key["wall_time_s"], new.claims[0].key["wall_time_s"] = 1.0, 50.0
    new.environment = {"packages": {"numpy": "99"}}
    assert _lines(base, new) == []


@pytest.mark.parametrize("a, b, same", [
    (float("nan"), float("nan"), True), (float("inf"), float("inf"), True), (float("inf"), 1e300, False),
    (float("nan"), 1.0, False), (0.0, 1e-13, True), (1.0, 1.0 + 2 * DEFAULT_RTOL, False),
])
def test_within(a, b, same):
    assert within(a, b, DEFAULT_RTOL, 1e-12) is same


def test_list_and_object_keys_compare_element_by_element():
    base, new = record(), record()
    base.claims[0].key["terms"], new.claims[0].key["terms"] = ["f_2", 1.0, 2.0], ["f_2", 1.0, 2.5]
    base.claims[0].key["per_loss"], new.claims[0].key["per_loss"] = {"quartic": 3.0}, {"quartic": 3.0, "extra": 1}
    base.claims[1].key["ladder"], new.claims[1].key["ladder"] = [1, 2], [1, 2, 3]
    assert _lines(base, new) == [
        "synthetic-order: key per_loss.extra added",
        "synthetic-order: key terms[2] 2 -> 2.5 (relative change 0.25, allowed rtol 1e-06, atol 1e-12)",
        "synthetic-stability: key ladder length 2 -> 3 ([1, 2] -> [1, 2, 3])"]


def test_non_numeric_keys_must_be_equal():
    base, new = record(), record()
    base.claims[0].key["regime"], new.claims[0].key["regime"] = "tight", "loose"
    assert _lines(base, new) == ["synthetic-order: key regime 'tight' -> 'loose'"]


# ----------------------------------------------------------------------------- CLI
@pytest.fixture
def files(tmp_path):
    base = tmp_path / "baseline.json"
    save_run(record(), base)
    return tmp_path, base


def test_cli_exit_0_when_same(files, capsys):
    tmp, base = files
    assert main(["compare", str(base), str(base)]) == 0
    assert "no differences: 5 claims" in capsys.readouterr().out


def test_cli_deliberate_regression_exits_1_one_line_each(files, capsys):
    tmp, base = files
    doc = json.loads(base.read_text())
    doc["claims"][0]["key"]["order"] = 2.5  # an order that drifted
    doc["claims"][2]["verdict"] = "PASS"  # a finding that disappeared
    new = tmp / "new.json"
    new.write_text(json.dumps(doc))
    assert main(["compare", str(base), str(new), "--quiet"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == ["synthetic-order: key order 2.998 -> 2.5 (relative change 0.17, allowed rtol 1e-06, atol 1e-12)",
                   "synthetic-bound: verdict FAIL -> PASS"]


def _write(tmp, name, text):
    p = tmp / name
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("make_args, fragment", [
    (lambda t, b: ["compare", str(t / "missing.json"), b], "baseline"),
    (lambda t, b: ["compare", b, str(t)], "is a directory"),
    (lambda t, b: ["compare", _write(t, "bad.json", "{oops"), b], "not valid JSON"),
    (lambda t, b: ["compare", b, _write(t, "list.json", "[]")], "results file"),
    (lambda t, b: ["compare", b, _write(t, "v.json", json.dumps({"schema_version": 2, "claims": [{"claim_id": "a"}]}))],
     "'verdict' is a required property"),
    (lambda t, b: ["compare", b, b, "--rtol", "-1"], "--rtol"),
    (lambda t, b: ["compare", b, b, "--atol", "nan"], "--atol"),
])
def test_cli_bad_input_is_one_line_and_exit_2(files, capsys, make_args, fragment):
    tmp, base = files
    try:
        rc = main(make_args(tmp, str(base)))
    except SystemExit as exc:  # refused while parsing (a NaN for a number option)
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err, err
