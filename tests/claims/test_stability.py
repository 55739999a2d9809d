"""Stability claims: published verdicts (quick mode) and the mutants each check must reject."""

import numpy as np
import pytest

from theorycheck.claims import RunContext, get
from theorycheck.claims import stability as claims_stability
from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.maths.sampling import sampling_factor
from theorycheck.maths.stability import non_uniformity, problem_from_hessians
from theorycheck.numerics.stability import critical_rate, kth_moment_radius

QUICK = RunContext(quick=True)


@pytest.mark.parametrize("claim_id", [
    "stability.gd-threshold", "stability.second-moment-operator", "stability.closed-form",
    "stability.batch-monotone", "stability.full-batch-limit", "stability.wu-ma-e-sufficient",
    "stability.mulayoff-michaeli-necessary", "stability.ma-ying-flatness", "stability.kth-order",
    "stability.monte-carlo",
])
def test_published_claims_pass(claim_id):
    ev = get(claim_id).run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    assert Evidence.from_json(ev.to_json()) == ev


def test_wu_ma_e_nonuniformity_condition_is_not_necessary():
    """A finding: stable SGD can have s > √B/η (Wu–Ma–E's condition is necessary for their sufficient one only)."""
    ev = get("stability.wu-ma-e-necessary").run(QUICK)
    assert ev.verdict is Verdict.FAIL
    ce = ev.counterexample
    assert "nonuniformity" in ce["note"] and "sharpness (" not in ce["note"]
    X = np.array(ce["example"]["features"]) if "features" in ce["example"] else None
    Hs = np.einsum("ni,nj->nij", X, X) if X is not None else np.array(ce["example"]["hessians"])
    B, s = ce["example"]["batch"], ce["example"]["sampling"]
    P = problem_from_hessians(Hs)
    p = sampling_factor(P.n, B, s)
    eta = critical_rate(P, p, rtol=1e-12) * (1 - 1e-6)
    assert non_uniformity(P) * eta * np.sqrt(p) > 1  # condition fails at a stable rate
    assert kth_moment_radius(P, eta, B, s, 2) < 1  # independently: enumerated second moment contracts
    assert ev.settings["status"]["sharpness"]["verdict"].startswith("necessary")


def test_same_seed_same_evidence():
    a = get("stability.closed-form").run(QUICK).to_json()
    b = get("stability.closed-form").run(QUICK).to_json()
    a.pop("elapsed_s"), b.pop("elapsed_s")
    assert a == b


@pytest.mark.parametrize("mutant", [
    claims_stability.GdThreshold(threshold_factor=1.0),  # threshold 1/λ_max
    claims_stability.SecondMomentOperator(batch_factor="with-replacement-always"),  # wrong batch factor without replacement
    claims_stability.SecondMomentOperator(eta2_coefficient=0.0),  # missing η² term
    claims_stability.ClosedFormThreshold(c_scale=1.0),  # C = H⊕H instead of ½(H⊕H)
    claims_stability.BatchMonotone(batch_factor="batch-over-n"),  # noise growing with B
    claims_stability.FullBatchLimit(batch_factor="with-replacement-always"),  # 1/B where (n−B)/(B(n−1)) belongs
    claims_stability.WuMaESufficient(noise_factor=0.0),  # drop the noise term: (I−ηH)² ≤ 1 is not sufficient
    claims_stability.MaYingFlatness(constant=1.0),
    claims_stability.MonteCarloGrowth(batch_factor="with-replacement-always"),
    claims_stability.MonteCarloGrowth(eta2_coefficient=0.0),
], ids=lambda m: type(m).__name__)
def test_mutants_are_rejected(mutant):
    ev = mutant.run(QUICK)
    assert ev.verdict is Verdict.FAIL, ev.summary


def test_quick_claims_are_fast():
    import time

    for cid in ("stability.kth-order", "stability.monte-carlo", "stability.gd-threshold"):
        t = time.perf_counter()
        get(cid).run(QUICK)
        assert time.perf_counter() - t < 10


def test_an_unknown_batch_factor_is_an_input_error():
    from theorycheck.core.errors import InputError

    with pytest.raises(InputError, match="batch_factor"):
        claims_stability.batch_factor("half", 4, 2, "with")
