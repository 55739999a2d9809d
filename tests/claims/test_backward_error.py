"""Tests for theorycheck.claims.backward_error: every claim passes (or reports its finding) and every mutant is rejected."""

from __future__ import annotations

import pytest
import sympy as sp

from theorycheck.claims import RunContext, all_claims, backward_error, get
from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.maths.losses import ZOO

QUICK = RunContext(quick=True)
IDS = ["gd-flow-local-order", "gd-flow-global-order", "igr-local-order", "igr-global-order",
       "modified-truncation-order", "modified-truncation-global-order", "bernoulli-equals-taylor", "quadratic-exact-modified-field", "gradient-field-terms"]


def test_all_claims_registered_with_metadata():
    registered = {c.id for c in all_claims()}
    assert set(IDS) <= registered
    for cid in IDS:
        c = get(cid)
        assert c.title and c.source and c.statement and c.falsifier and "backward-error" in c.tags


# --- instances -------------------------------------------------------------------------------

def test_ladders_divide_the_global_horizon():
    from theorycheck.maths.losses import ZOO_POINTS, exact_point
    from theorycheck.numerics.ladders import loss_ladder

    for name in ZOO:
        steps = loss_ladder(ZOO[name], exact_point(ZOO[name], ZOO_POINTS[name]))
        assert all((backward_error.HORIZON / s).denominator == 1 for s in steps)


# --- symbolic claims -------------------------------------------------------------------------

def test_bernoulli_equals_taylor_passes():
    ev = get("bernoulli-equals-taylor").run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    assert ev.key["all_equal"] is True and ev.key["worst_rel_diff"] < 1e-40
    Evidence.from_json(ev.to_json())


def test_bernoulli_mutant_wrong_coefficient_fails():
    mutant = backward_error.BernoulliEqualsTaylor(bernoulli=[1, sp.Rational(-1, 2), sp.Rational(1, 6), 0, sp.Rational(-1, 720)])
    ev = mutant.run(QUICK)
    assert ev.verdict is Verdict.FAIL
    assert any(c.verdict is Verdict.FAIL and c.name.startswith("generic") for c in ev.cases)
    assert any(c.verdict is Verdict.FAIL and "rosenbrock" in c.name for c in ev.cases)


def test_quadratic_exact_modified_field_passes():
    ev = get("quadratic-exact-modified-field").run(QUICK)
    assert ev.verdict is Verdict.PASS and len(ev.cases) >= 5


def test_quadratic_mutant_exp_series_fails_with_counterexample():
    # coefficients −1/(j+1)! (an exponential series) instead of −1/(j+1)
    mutant = backward_error.QuadraticExactModifiedField(coefficients=[-1, sp.Rational(-1, 2), sp.Rational(-1, 6),
                                                          sp.Rational(-1, 24), sp.Rational(-1, 120)])
    ev = mutant.run(QUICK)
    assert ev.verdict is Verdict.FAIL
    assert ev.counterexample is not None and "A" in ev.counterexample["example"]


def test_gradient_field_terms_finding():
    ev = get("gradient-field-terms").run(QUICK)
    # finding: f₂ is a gradient for every L, f₃ is not (Rosenbrock, with point and size)
    assert ev.verdict is Verdict.FAIL
    assert ev.key["gradient_terms_generic"] == ["f_2"]
    assert "rosenbrock" in ev.counterexample["case"] and "f_3" in ev.counterexample["case"]
    assert ev.counterexample["measured"]["asymmetry"] == pytest.approx(200.1, rel=1e-3)
    by_name = {c.name: c for c in ev.cases}
    assert by_name["generic L in d=2: f_2 (h^1)"].verdict is Verdict.PASS
    assert by_name["generic L in d=2: f_3 (h^2)"].verdict is Verdict.FAIL
    # the separable trig loss is a control: all its terms are gradients
    assert all(c.verdict is Verdict.PASS for c in ev.cases if c.name.startswith("trig"))


def test_gradient_field_terms_first_order_only_passes():
    # restricted to the h¹ term (Barrett & Dherin's modified loss) the claim holds on every loss
    ev = backward_error.GradientFieldTerms(terms=(1,)).run(QUICK)
    assert ev.verdict is Verdict.PASS


def test_gradient_field_terms_quadratics_pass():
    ev = backward_error.GradientFieldTerms(losses=("quadratic", "trig")).run(QUICK)
    assert all(c.verdict is Verdict.PASS for c in ev.cases if not c.name.startswith("generic"))


# --- order claims: pass, and every mutant is rejected ------------------------------------------

ROSEN_ONLY = dict(losses=("rosenbrock",), examples=0)


def _orders(ev):
    return {c.name.split(" vs ")[-1]: c.measured["order"] for c in ev.cases}


@pytest.mark.parametrize("cls,expected", [(backward_error.GDFlowLocalOrder, 2), (backward_error.IGRLocalOrder, 3), (backward_error.IGRGlobalOrder, 2),
                                          (backward_error.GDFlowGlobalOrder, 1)])
def test_order_claim_passes_on_rosenbrock(cls, expected):
    ev = cls(**ROSEN_ONLY).run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    (order,) = _orders(ev).values()
    assert abs(order - expected) < 0.1
    assert ev.figures and ev.figures[0].kind == "loglog"


def test_order_claim_on_random_quadratics():
    ev = backward_error.GDFlowLocalOrder(losses=(), examples=2).run(QUICK)
    assert ev.verdict is Verdict.PASS and len(ev.cases) == 2
    assert all(c.name.startswith("quadratic") for c in ev.cases)


def test_mutant_igr_coefficient_half_fails():
    # h/2 instead of h/4: GD is then only second order against that flow
    ev = backward_error.IGRLocalOrder(coefficient=sp.Rational(1, 2), **ROSEN_ONLY).run(QUICK)
    assert ev.verdict is Verdict.FAIL
    (order,) = _orders(ev).values()
    assert abs(order - 2) < 0.1


def test_mutant_igr_coefficient_fails_on_random_quadratics_with_counterexample():
    ev = backward_error.IGRLocalOrder(coefficient=sp.Rational(1, 2), losses=(), examples=2).run(QUICK)
    assert ev.verdict is Verdict.FAIL and ev.counterexample is not None


def test_mutant_dropped_h2_term_fails():
    ev = backward_error.ModifiedTruncationOrder(orders=(2,), omit=(2,), **ROSEN_ONLY).run(QUICK)
    assert ev.verdict is Verdict.FAIL
    assert abs(_orders(ev)["modified:2-h^2"] - 3) < 0.1


@pytest.mark.parametrize("cls,wrong", [(backward_error.GDFlowLocalOrder, 3), (backward_error.GDFlowGlobalOrder, 2), (backward_error.IGRLocalOrder, 2),
                                       (backward_error.IGRGlobalOrder, 3)])
def test_mutant_wrong_expected_order_fails(cls, wrong):
    assert cls(expected_order=wrong, **ROSEN_ONLY).run(QUICK).verdict is Verdict.FAIL


def test_mutant_wrong_truncation_offset_fails():
    # claiming local order k + 3 for the truncation after h^k
    ev = backward_error.ModifiedTruncationOrder(orders=(1,), offset=3, **ROSEN_ONLY).run(QUICK)
    assert ev.verdict is Verdict.FAIL


def test_truncation_claims_pass():
    ev = backward_error.ModifiedTruncationOrder(orders=(3,), **ROSEN_ONLY).run(QUICK)
    assert ev.verdict is Verdict.PASS and abs(_orders(ev)["modified:3"] - 5) < 0.1
    ev = backward_error.ModifiedTruncationGlobalOrder(orders=(1,), **ROSEN_ONLY).run(QUICK)
    assert ev.verdict is Verdict.PASS and abs(_orders(ev)["modified:1"] - 2) < 0.1


def test_order_evidence_round_trips_through_json():
    ev = backward_error.GDFlowLocalOrder(**ROSEN_ONLY).run(QUICK)
    back = Evidence.from_json(ev.to_json())
    assert back.verdict == ev.verdict and back.key == pytest.approx(ev.key)
