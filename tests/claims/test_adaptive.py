"""Adam and RMSProp claims: the derived field passes, and its mutants are rejected."""

from fractions import Fraction

import pytest

from theorycheck.claims import RunContext, adaptive
from theorycheck.core.evidence import Verdict

QUICK = RunContext(quick=True)
ONE = adaptive.REGIMES[:1]
LARGE_EPS = adaptive.REGIMES[2:3]


def test_derived_field_passes_in_every_regime():
    ev = adaptive.AdamModifiedEquation().run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    assert ev.statement_kind == "derived"
    assert 2.9 < ev.key["order_min"] and ev.key["coefficient_relative_difference_max"] < adaptive.COEFFICIENT_RTOL
    assert any(f.kind == "loglog" for f in ev.figures) and any(f.kind == "bar" for f in ev.figures)


@pytest.mark.parametrize("mutant,regimes", [
    ({"sign": -1}, ONE),                    # the wrong sign of the one-norm term
    ({"scale": Fraction(2)}, ONE),          # a wrong coefficient
    ({"half": Fraction(0)}, LARGE_EPS),     # a wrong Euler term: visible where ε/R² is not small
], ids=["wrong-sign", "wrong-coefficient", "wrong-euler-term"])
def test_mutants_of_the_field_are_rejected(mutant, regimes):
    ev = adaptive.AdamModifiedEquation(regimes=regimes, **mutant).run(QUICK)
    assert ev.verdict is Verdict.FAIL, ev.summary


def test_bias_correction_passes_and_dropping_it_is_rejected():
    assert adaptive.AdamBiasCorrection().run(QUICK).verdict is Verdict.PASS
    ev = adaptive.AdamBiasCorrection(bias_correction=False).run(QUICK)
    assert ev.verdict is Verdict.FAIL, ev.summary
    assert ev.key["n_step_order_min"] < 2.5


def test_one_norm_sign_on_networks_and_its_mutant():
    ev = adaptive.AdamOneNormSign().run(QUICK)
    assert ev.verdict is Verdict.PASS, ev.summary
    pen, anti, rms = ev.cases
    # the settings are what their labels say: the net predicted effect penalises, resp. anti-penalises, in each seed
    assert pen.measured["predicted_anti_penalising_seeds"] == 0
    assert anti.measured["predicted_anti_penalising_seeds"] == anti.measured["seeds"]
    assert all(c.measured["median_expansion"] < 1 for c in ev.cases)  # inside the small-h regime
    assert adaptive.AdamOneNormSign(sign=-1).run(QUICK).verdict is Verdict.FAIL
