"""Evidence schema: round trips, non-finite numbers, versions, validation, atomic saves."""

import json
import os

import numpy as np
import pytest

from theorycheck.claims import RunContext
from theorycheck.core.errors import MalformedFileError
from theorycheck.core.evidence import Case, Evidence, Verdict, combine, jsonable, tightest
from theorycheck.reporting.record import SCHEMA_VERSION, RunRecord, dumps, load_run, loads, save_run
from theorycheck.reporting.schema import SCHEMA, dumps_schema, validate

from _synthetic import ToyMonteCarlo, order_evidence, record


def test_run_round_trips_to_identical_bytes():
    text = dumps(record())
    again = loads(text)
    assert dumps(again) == text
    assert again.by_id()["synthetic-bound"].counterexample["example"] == {"width": 3, "seed": 17}
    assert again.by_id()["synthetic-order"].figures[0].series[0].x[0] == 0.125


def test_non_finite_numbers_survive_json():
    e = Evidence("x", Verdict.PASS, "s", key={"a": float("inf"), "b": float("-inf"), "c": float("nan")},
                 cases=[Case("c", Verdict.PASS, measured={"m": np.float64("nan")}, margin=float("inf"))])
    text = dumps(record([e]))
    assert "NaN" not in text and "Infinity" not in text
    back = loads(text).claims[0]
    assert back.key["a"] == float("inf") and back.key["b"] == float("-inf") and np.isnan(back.key["c"])
    assert back.cases[0].margin == float("inf") and np.isnan(back.cases[0].measured["m"])


def test_key_tolerance_round_trips():
    e = order_evidence()
    e.key_tolerance = {"order": {"rtol": 1e-3}}
    assert loads(dumps(record([e]))).claims[0].key_tolerance == {"order": {"rtol": 1e-3}}


def test_jsonable_handles_numpy_and_mpmath():
    import mpmath

    out = jsonable({"a": np.arange(3), "b": np.float32(0.5), "c": mpmath.mpf("0.25"), "d": (1, Verdict.FAIL)})
    assert out == {"a": [0, 1, 2], "b": 0.5, "c": 0.25, "d": [1, "FAIL"]}


@pytest.mark.parametrize("verdicts, expected", [
    ([], Verdict.INCONCLUSIVE),
    ([Verdict.PASS, Verdict.PASS], Verdict.PASS),
    ([Verdict.PASS, Verdict.INCONCLUSIVE], Verdict.INCONCLUSIVE),
    ([Verdict.INCONCLUSIVE, Verdict.FAIL], Verdict.FAIL),
    ([Verdict.FAIL, Verdict.ERROR], Verdict.ERROR),
])
def test_combine_takes_the_worst(verdicts, expected):
    assert combine(verdicts) is expected


def test_version_1_files_load_and_save_as_current_version():
    doc = record().to_json()
    doc["schema_version"] = 1
    for c in doc["claims"]:
        c.pop("key_tolerance")
    r = loads(json.dumps(doc))
    assert r.claims[0].key_tolerance == {}
    assert json.loads(dumps(r))["schema_version"] == SCHEMA_VERSION


def test_version_2_files_load_with_the_kind_of_statement_unknown():
    doc = record().to_json()
    doc["schema_version"] = 2
    for c in doc["claims"]:
        c.pop("statement_kind", None)
    r = loads(json.dumps(doc))
    assert r.claims[0].statement_kind == ""
    assert json.loads(dumps(r))["schema_version"] == SCHEMA_VERSION == 4


def test_version_3_files_load_with_every_claim_expected_to_pass_and_no_papers():
    doc = record().to_json()
    doc["schema_version"] = 3
    doc.pop("papers", None)
    for c in doc["claims"]:
        c.pop("expect", None)
    r = loads(json.dumps(doc))
    assert {e.expect for e in r.claims} == {"pass"} and r.papers == []
    assert [e.outcome for e in r.claims] == [str(e.verdict) for e in r.claims]


def test_an_unknown_kind_of_statement_is_refused():
    doc = record().to_json()
    doc["claims"][0]["statement_kind"] = "rumour"
    with pytest.raises(MalformedFileError, match="statement_kind"):
        loads(json.dumps(doc))


def _doc(**change):
    doc = record().to_json()
    for path, value in change.items():
        *head, last = path.split("__")
        d = doc
        for p in head:
            d = d[int(p)] if p.isdigit() else d[p]
        if value is KeyError:
            del d[last]
        else:
            d[last] = value
    return json.dumps(doc)


@pytest.mark.parametrize("text, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "top level"),
    (_doc(claims=KeyError), "'claims' is a required property"),
    (_doc(claims__0__verdict="MAYBE"), "claims/0/verdict"),
    (_doc(claims__1__key=[1, 2]), "claims/1/key"),
    (_doc(claims__0__figures__0__kind=KeyError), "claims/0/figures/0"),
    (_doc(claims__0__cases__0__margin="big"), "claims/0/cases/0/margin"),
    (_doc(schema_version="2"), "schema_version"),
    (_doc(schema_version=SCHEMA_VERSION + 1), "upgrade theorycheck"),
])
def test_malformed_runs_get_one_clear_message(text, fragment):
    with pytest.raises(MalformedFileError) as exc:
        loads(text, "baseline 'b.json'")
    msg = str(exc.value)
    assert fragment in msg and "baseline 'b.json'" in msg and "\n" not in msg


def test_load_run_names_missing_files_and_directories(tmp_path):
    with pytest.raises(MalformedFileError, match="does not exist"):
        load_run(tmp_path / "nope.json")
    with pytest.raises(MalformedFileError, match="is a directory"):
        load_run(tmp_path)


def test_save_run_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "baseline.json"
    save_run(record(), path)
    before = path.read_bytes()

    def boom(_record):
        raise RuntimeError("disk full")

    monkeypatch.setattr("theorycheck.reporting.record.dumps", boom)
    with pytest.raises(RuntimeError):
        save_run(record([order_evidence(2.0)]), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["baseline.json"], "temporary file left behind"
    assert os.stat(path).st_mode & 0o044, "saved run not readable by others"


def test_committed_schema_json_is_the_schema():
    from pathlib import Path

    committed = Path(__file__).resolve().parents[2] / "verify" / "reporting" / "schema.json"
    assert committed.read_text(encoding="utf-8") == dumps_schema(), "run `python -m theorycheck.reporting.schema > verify/reporting/schema.json`"
    assert json.loads(committed.read_text())["properties"]["schema_version"]["maximum"] == SCHEMA_VERSION
    assert SCHEMA["$defs"]["verdict"]["enum"] == [v.value for v in Verdict]


def test_every_saved_run_validates():
    validate(json.loads(dumps(record())))


def test_same_seed_gives_same_json_bytes():
    a = RunRecord({}, {}, [ToyMonteCarlo().run(RunContext(seed=3))]).without_timings()
    b = RunRecord({}, {}, [ToyMonteCarlo().run(RunContext(seed=3))]).without_timings()
    c = RunRecord({}, {}, [ToyMonteCarlo().run(RunContext(seed=4))]).without_timings()
    assert dumps(a) == dumps(b) != dumps(c)


def test_tightest_is_the_first_case_of_smallest_margin():
    cases = [Case("a", Verdict.PASS, margin=0.5), Case("b", Verdict.PASS), Case("c", Verdict.FAIL, margin=-1.0),
             Case("d", Verdict.FAIL, margin=-1.0)]
    assert tightest(cases).name == "c"
    assert tightest([Case("b", Verdict.PASS)]) is None
    assert tightest([]) is None
