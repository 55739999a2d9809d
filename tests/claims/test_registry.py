"""The claim registry: registration, lookup, unknown ids, and the run() bookkeeping."""

from dataclasses import dataclass

import pytest

from theorycheck import claims
from theorycheck.claims import Claim, RunContext, registry
from theorycheck.core.errors import UnknownClaimError
from theorycheck.core.evidence import Evidence, Verdict


@dataclass(frozen=True, kw_only=True)
class _Echo(Claim):
    id = "test-echo"
    title = "echo"
    source = "nowhere, Eq. (0)"
    statement = "x equals x"
    falsifier = "x differs from x"
    value: float = 1.0

    def evaluate(self, ctx: RunContext) -> Evidence:
        v = Verdict.PASS if self.value == 1.0 else Verdict.FAIL
        return Evidence(claim_id="", verdict=v, summary=f"value={self.value}", key={"value": self.value})


def test_run_fills_metadata_and_settings():
    ev = _Echo().run(RunContext(quick=True, seed=7))
    assert ev.claim_id == "test-echo"
    assert ev.source == "nowhere, Eq. (0)"
    assert ev.settings["quick"] is True and ev.settings["seed"] == 7
    assert ev.settings["value"] == 1.0  # the constants are recorded with the evidence
    assert ev.elapsed_s >= 0
    assert ev.verdict is Verdict.PASS


def test_mutant_constant_is_rejected():
    assert _Echo(value=2.0).run().verdict is Verdict.FAIL


def test_unknown_claim_id_suggests_close_matches():
    real = claims.all_claims()[0].id
    with pytest.raises(UnknownClaimError) as exc:
        claims.get(real + "x")
    assert real in str(exc.value)


def test_registered_claims_have_complete_metadata():
    ids = [c.id for c in claims.all_claims()]
    assert len(ids) == len(set(ids)), "duplicate claim ids"
    for c in claims.all_claims():
        for attr in ("id", "title", "source", "statement", "falsifier"):
            assert getattr(c, attr).strip(), f"{c.id} has no {attr}"


def test_duplicate_registration_is_refused():
    @dataclass(frozen=True, kw_only=True)
    class A(_Echo):
        id = "test-dup"

    @dataclass(frozen=True, kw_only=True)
    class B(_Echo):
        id = "test-dup"

    claims.register(A)
    try:
        with pytest.raises(RuntimeError, match="two claims have the id"):
            claims.register(B)
        assert A.id == B.id != "test-dup" and A.id.endswith(".test-dup")  # namespaced by the defining module
    finally:
        registry._REGISTRY.pop(A.id, None)


def test_claims_are_frozen_declarations_whose_mutants_are_field_changes():
    from dataclasses import FrozenInstanceError, replace

    echo = _Echo()
    with pytest.raises(FrozenInstanceError):
        echo.value = 3.0  # type: ignore[misc]
    mutant = replace(echo, value=2.0)
    assert mutant.id == echo.id and mutant.run().verdict is Verdict.FAIL


def test_every_registered_claim_is_a_dataclass_with_json_constants():
    import json
    from dataclasses import is_dataclass

    for c in claims.all_claims():
        assert is_dataclass(c), c.id
        json.dumps(c.constants(), allow_nan=False)  # settings are JSON, the same for the same claim


def test_every_registered_claim_declares_its_kind_of_statement():
    from theorycheck.core.evidence import STATEMENT_KINDS

    undeclared = [c.id for c in claims.all_claims() if getattr(c, "statement_kind", None) not in STATEMENT_KINDS]
    assert not undeclared, f"claims without a statement_kind in {sorted(STATEMENT_KINDS)}: {undeclared}"


def test_the_kind_travels_into_the_evidence_and_names_a_fail():
    from theorycheck.core.evidence import failure_label

    @dataclass(frozen=True, kw_only=True)
    class _Theorem(_Echo):
        statement_kind = "theorem"

    ev = _Theorem(value=2.0).run()
    assert ev.statement_kind == "theorem" and ev.verdict is Verdict.FAIL
    assert failure_label(ev.statement_kind) == "contradicted published statement"
    assert failure_label("extrapolation") == "extrapolation not borne out"
    assert Evidence.from_json(ev.to_json()).statement_kind == "theorem"


def test_one_notion_of_area_for_selection_and_the_report():
    from theorycheck.claims import all_claims, area_of, area_of_id
    from theorycheck.reporting import report

    for c in all_claims():
        assert area_of(c) == report.area_of(c.id) == area_of_id(c.id)
    assert {area_of(c) for c in all_claims()} == {"backward-error", "implicit", "nets", "stability"}
    assert area_of_id("gradient-field-terms") == "backward-error" and area_of_id("my_pkg.bound") == "my_pkg"
