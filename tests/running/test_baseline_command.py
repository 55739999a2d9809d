"""``theorycheck baseline --claim ID`` replaces one entry and keeps what the record says of the papers."""

from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.reporting.record import RunRecord
from theorycheck.running.commands.baseline import _merge


def _record(*ids: str) -> RunRecord:
    return RunRecord(environment={}, settings={"quick": True, "seed": 0},
                     claims=[Evidence(claim_id=i, verdict=Verdict.PASS, summary=i) for i in ids])


def test_a_merged_baseline_lists_the_papers_of_all_its_claims():
    merged = _merge(_record("stability.closed-form", "igr-local-order"), _record("igr-local-order"),
                    ["igr-local-order"])
    assert [e.claim_id for e in merged.claims] == ["stability.closed-form", "igr-local-order"]
    placed = {c for p in merged.papers for s in p["statements"] for c in s["claims"]}
    assert {"stability.closed-form", "igr-local-order"} <= placed
    keys = {p["key"] for p in merged.papers}
    assert "barrett-dherin-2021" in keys and "mulayoff-michaeli-2024" in keys
