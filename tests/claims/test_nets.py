"""Claims of theorycheck.claims.nets: published constants pass, mutants are rejected, findings are real."""

import itertools

import numpy as np
import pytest

from theorycheck import claims
from theorycheck.claims import RunContext
from theorycheck.claims import nets as claims_nets
from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.maths import networks
from theorycheck.maths.stability import problem_from_features
from theorycheck.numerics.stability import critical_learning_rate_features, lyapunov_exponent

Q = RunContext(quick=True)


@pytest.mark.parametrize("cls", [claims_nets.MultiplicativeInequality, claims_nets.GaussNewtonTrace, claims_nets.SobolevFlatnessBound,
                                 claims_nets.GdEdgeOfStability, claims_nets.FlatnessVsHyperparameters, claims_nets.AdversarialRobustness,
                                 claims_nets.GeneralisationNearTrainingSet])
def test_published_claims_pass_in_quick_mode(cls):
    ev = cls().run(Q)
    assert ev.verdict is Verdict.PASS, (ev.summary, [c.note for c in ev.cases if c.verdict is not Verdict.PASS])
    assert ev.key and ev.summary
    assert Evidence.from_json(ev.to_json()).to_json() == ev.to_json()


@pytest.mark.parametrize("mutant", [
    claims_nets.MultiplicativeInequality(weight_norm="rms"),  # ‖W‖_F/√min(m,d) < ‖W‖₂: a tighter, wrong constant
    claims_nets.MultiplicativeInequality(x_power=0.0),  # dropped 1/‖x‖ (wrong for ‖x‖ < 1)
    claims_nets.GaussNewtonTrace(coefficient=0.5),
    claims_nets.GaussNewtonTrace(expected_order=2.0),
    claims_nets.SobolevFlatnessBound(weight_norm="rms"),
    claims_nets.SobolevFlatnessBound(x_power=0.0),  # caught on bias-free nets with small inputs
    claims_nets.GdEdgeOfStability(threshold=1.0),  # 1/η instead of 2/η
    claims_nets.SgdLinearStability(threshold=1.0, hypothesis_part=False),
    claims_nets.FlatnessVsHyperparameters(lr_sign=+1),
    claims_nets.FlatnessVsHyperparameters(batch_sign=-1),
    claims_nets.AdversarialRobustness(remainder_factor=0.0),  # no second-order remainder
    claims_nets.GeneralisationNearTrainingSet(teacher_term=0.0),  # forgets the target's gradient
], ids=lambda m: f"{type(m).__name__}{m.__dict__}")
def test_mutants_are_rejected(mutant):
    assert mutant.run(Q).verdict is Verdict.FAIL


@pytest.mark.parametrize("looser", [claims_nets.MultiplicativeInequality(weight_norm="frobenius"),
                                    claims_nets.SobolevFlatnessBound(weight_norm="frobenius")])
def test_frobenius_in_place_of_spectral_is_looser_not_a_mutant(looser):
    # ‖W‖_F ≥ ‖W‖₂: the inequality stays true, so no check can (or should) reject it
    assert looser.run(Q).verdict is Verdict.PASS


def test_sobolev_without_min_x_is_implied_when_biases_are_trained():
    # ∇_b f = δ, so ‖∇ₓf‖² ≤ ‖W‖₂²‖∇_b f‖² ≤ ‖W‖₂² Tr H: dropping 1/min‖x‖² is unrefutable with biases
    assert claims_nets.SobolevFlatnessBound(x_power=0.0, bias_free_examples=False).run(Q).verdict is Verdict.PASS


def test_multiplicative_equality_for_a_single_neuron():
    ev = claims_nets.MultiplicativeInequality().run(Q)
    case = next(c for c in ev.cases if c.name.startswith("single neuron"))
    assert case.measured["min_ratio"] == pytest.approx(1.0, abs=1e-12)
    assert case.measured["max_ratio"] == pytest.approx(1.0, abs=1e-12)


def test_sgd_stable_runs_pass():
    ev = claims_nets.SgdLinearStability(hypothesis_part=False, pinned_runs=False).run(Q)
    assert ev.verdict is Verdict.PASS
    assert 0.5 < ev.key["median_eta_over_eta_star"] <= 1.0


def test_finding_sgd_converges_above_the_mean_square_threshold():
    # The documented counterexample: SGD (η=0.4, B=6 of 12, without replacement) interpolates although
    # the enumerated second-moment map of the linearisation at its limit has spectral radius > 1.
    res, X, y = claims_nets.trained(0, 1, 0.4, 6, steps=8000, tol=1e-12)
    assert res.reached
    G = networks.per_sample_gradients(res.net, X)
    assert 0.4 / critical_learning_rate_features(G, 6, "without") > 1.02
    P = problem_from_features(G)
    F = P.factors[:, :, 0]  # the gradients in an orthonormal basis of their span
    r = F.shape[1]
    Qm = np.zeros((r * r, r * r))
    combos = list(itertools.combinations(range(12), 6))
    for S in combos:
        A = np.eye(r) - 0.4 * F[list(S)].T @ F[list(S)] / 6
        Qm += np.kron(A, A)
    assert np.max(np.abs(np.linalg.eigvals(Qm / len(combos)))) > 1.05
    assert lyapunov_exponent(P, 0.4, 6, 2000, seed=0) < 0


def test_default_claim_reports_the_pinned_counterexample():
    ev = claims_nets.SgdLinearStability(hypothesis_part=False).run(Q)
    assert ev.verdict is Verdict.FAIL
    assert "pinned" in ev.counterexample["case"]
    assert ev.counterexample["measured"]["eta_over_eta_star"] > 1.02


def test_area_is_registered():
    ids = {c.id for c in claims.all_claims()}
    assert {"nets.multiplicative-inequality", "nets.sobolev-flatness", "nets.sgd-linear-stability"} <= ids
