"""Claims of theorycheck.claims.implicit_reg: the published constants pass, mutants with wrong constants are rejected."""

from fractions import Fraction

import pytest

from theorycheck import claims
from theorycheck.claims import RunContext, implicit_reg
from theorycheck.core.evidence import Evidence, Verdict

QUICK = RunContext(quick=True)


def test_area_is_registered():
    assert "theorycheck.claims.implicit_reg" in claims.AREA_MODULES
    ids = {c.id for c in claims.all_claims()}
    for cls in (implicit_reg.EGRCoefficientScan, implicit_reg.EGRTwoLayerNet, implicit_reg.SGDModifiedLossExact, implicit_reg.SGDModifiedLossSampled,
                implicit_reg.LieLogSeries, implicit_reg.HeavyBallModifiedEquation, implicit_reg.SGDMomentumModifiedLoss, implicit_reg.SGDMomentumReshuffled,
                implicit_reg.IGRGradientPenaltyRate, implicit_reg.IGRGradientPenaltyWidth,
                implicit_reg.IGRPathSlope, implicit_reg.IGRTestAccuracy, implicit_reg.IGRNoiseRobustness, implicit_reg.NoiseQuadraticPrediction):
        assert cls.id in ids


def _roundtrip(ev: Evidence) -> None:
    assert Evidence.from_json(ev.to_json()).to_json() == ev.to_json()


# --- explicit GR --------------------------------------------------------------------------

def test_egr_scan_passes_and_wrong_coefficient_fails():
    ev = implicit_reg.EGRCoefficientScan(scan=[0, Fraction(1, 4)]).run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    assert ev.key["order_at_quarter"] == pytest.approx(3, abs=0.2)
    assert ev.figures
    _roundtrip(ev)
    assert implicit_reg.EGRCoefficientScan(coefficient=Fraction(1, 2), scan=[Fraction(1, 4), Fraction(1, 2)]).run(QUICK).verdict \
        is Verdict.FAIL


def test_egr_net_passes_and_mutant_fails():
    assert implicit_reg.EGRTwoLayerNet().run(QUICK).verdict is Verdict.PASS
    assert implicit_reg.EGRTwoLayerNet(coefficient=Fraction(1, 2)).run(QUICK).verdict is Verdict.FAIL


# --- SGD ---------------------------------------------------------------------------------

def test_sgd_exact_passes():
    ev = implicit_reg.SGDModifiedLossExact(instances=[(3, 1)]).run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    _roundtrip(ev)


@pytest.mark.parametrize("kw", [{"coefficient": Fraction(1, 2)}, {"batch_power": 0}, {"expected_order": 2}])
def test_sgd_exact_mutants_fail(kw):
    assert implicit_reg.SGDModifiedLossExact(instances=[(3, 1)], **kw).run(QUICK).verdict is Verdict.FAIL


def test_sgd_sampled_reshuffling_mutant_fails():
    assert implicit_reg.SGDModifiedLossSampled(parts=("c",)).run(QUICK).verdict is Verdict.PASS
    assert implicit_reg.SGDModifiedLossSampled(parts=("c",), sampling="with").run(QUICK).verdict is Verdict.FAIL


def test_sgd_sampled_paired_coefficient_mutant_fails():
    assert implicit_reg.SGDModifiedLossSampled(parts=("a",), pairs=1, coefficient=Fraction(1, 8)).run(QUICK).verdict \
        is Verdict.FAIL


# --- derivative-free route and momentum --------------------------------------------------

def test_lie_passes_and_mutants_fail():
    assert implicit_reg.LieLogSeries().run(QUICK).verdict is Verdict.PASS
    assert implicit_reg.LieLogSeries(terms=(2,), log_coefficients=[1, Fraction(-1, 3)]).run(QUICK).verdict is Verdict.FAIL
    assert implicit_reg.LieLogSeries(terms=(3,), offset=-1).run(QUICK).verdict is Verdict.FAIL


def test_heavy_ball_passes():
    ev = implicit_reg.HeavyBallModifiedEquation().run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    assert ev.key["slow_manifold_limit"] == pytest.approx((1 - 0.5**0.5) ** 2)


def test_heavy_ball_gd_factor_mutant_fails():
    """κ = 1 (GD's regulariser at the effective rate h/(1−β)) instead of Ghosh et al.'s (1+β)/(1−β)."""
    ev = implicit_reg.HeavyBallModifiedEquation(kappa=1).run(QUICK)
    assert ev.verdict is Verdict.FAIL
    assert sum(c.verdict is Verdict.FAIL for c in ev.cases) == 2  # the symbolic identity and the order


def test_sgd_momentum_passes():
    ev = implicit_reg.SGDMomentumModifiedLoss().run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    assert ev.statement_kind == "derived"
    assert 2.8 < ev.key["order_min"] < 3.2
    _roundtrip(ev)


@pytest.mark.parametrize("kw, failing", [
    ({"noise": "amplified"}, 1),       # the extrapolation: the whole SGD regulariser amplified by κ
    ({"noise": 1}, 1),                 # the noise term of SGD at the effective rate, unamplified
    ({"full_factor": 1}, 2),           # κ = 1: also breaks the one-batch identity with Ghosh et al.'s form
    ({"expected_order": 2}, 1),
])
def test_sgd_momentum_mutants_fail(kw, failing):
    ev = implicit_reg.SGDMomentumModifiedLoss(**kw).run(QUICK)
    assert ev.verdict is Verdict.FAIL
    assert sum(c.verdict is Verdict.FAIL for c in ev.cases) == failing, [(c.name, c.verdict) for c in ev.cases]


def test_sgd_momentum_reshuffled_passes():
    ev = implicit_reg.SGDMomentumReshuffled().run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    assert ev.cases[0].measured["order_balance"] == 0
    _roundtrip(ev)


@pytest.mark.parametrize("kw", [{"noise": Fraction(3, 5)},  # the cyclic-order factor ρ₂(¼): the wrong schedule
                                {"noise": 1}, {"expected_order": 2}])
def test_sgd_momentum_reshuffled_mutants_fail(kw):
    ev = implicit_reg.SGDMomentumReshuffled(**kw).run(QUICK)
    assert ev.verdict is Verdict.FAIL
    assert ev.cases[0].verdict is Verdict.FAIL


# --- the four properties --------------------------------------------------------------------

def test_property_claim_passes_and_direction_mutant_fails():
    ev = implicit_reg.IGRGradientPenaltyWidth().run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    _roundtrip(ev)
    assert implicit_reg.IGRGradientPenaltyWidth(direction=-1).run(QUICK).verdict is Verdict.FAIL


def test_property_claim_effect_threshold_mutant_fails():
    assert implicit_reg.IGRGradientPenaltyWidth(min_effect=5.0).run(QUICK).verdict is Verdict.FAIL


def test_noise_robustness_near_edge_and_quadratic_mutant():
    ev = implicit_reg.IGRNoiseRobustness(regimes=(1.9,)).run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    assert implicit_reg.NoiseQuadraticPrediction().run(QUICK).verdict is Verdict.PASS
    assert implicit_reg.NoiseQuadraticPrediction(coefficient=1.0).run(QUICK).verdict is Verdict.FAIL


def test_claims_are_deterministic_in_the_seed():
    a = implicit_reg.IGRPathSlope(regimes=(1.0,), seeds=3).run(RunContext(quick=True, seed=5))
    b = implicit_reg.IGRPathSlope(regimes=(1.0,), seeds=3).run(RunContext(quick=True, seed=5))
    assert a.key == b.key and a.cases[0].data["diffs"] == b.cases[0].data["diffs"]


def test_lie_quadratic_is_an_exact_identity_and_its_mutant_fails():
    assert implicit_reg.LieLogSeries(losses=("quadratic",)).run(QUICK).verdict is Verdict.PASS
    assert implicit_reg.LieLogSeries(losses=("quadratic",), log_coefficients=[1, Fraction(-1, 3), Fraction(1, 3)]).run(QUICK) \
        .verdict is Verdict.FAIL


def test_accuracy_keys_are_compared_to_one_test_point_and_no_finer():
    # an accuracy on 2000 test points moves in steps of 1/2000: CI allows one borderline point to flip, not two
    from theorycheck.reporting.compare import compare
    from theorycheck.reporting.record import RunRecord

    ev = implicit_reg.IGRTestAccuracy(regimes=(1.0,), seeds=3).run(QUICK)
    assert set(ev.key_tolerance) == set(ev.key) and {t["atol"] for t in ev.key_tolerance.values()} == {1 / 2000}
    assert implicit_reg.IGRGradientPenaltyWidth().key_resolution is None

    def run_with(shift):
        moved = Evidence.from_json(ev.to_json())
        moved.key = {k: v + shift for k, v in ev.key.items()}
        return RunRecord(environment={}, settings={"quick": True, "seed": QUICK.seed}, claims=[moved])

    base = run_with(0.0)
    assert not compare(base, run_with(0.9 / 2000))
    assert compare(base, run_with(2 / 2000))
