"""The open-question claims: the published-style forms pass, their mutants FAIL, the pinned minimum is real."""

import numpy as np
import pytest

from theorycheck.claims import RunContext
from theorycheck.claims import open_questions as oq
from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.maths import networks

Q = RunContext(quick=True)


@pytest.mark.parametrize("cls", [oq.DeepFirstLayerBound, oq.SobolevNonInterpolating])
def test_the_extrapolations_pass_in_quick_mode(cls):
    ev = cls().run(Q)
    assert ev.verdict is Verdict.PASS, [(c.name, c.note) for c in ev.cases if c.verdict is not Verdict.PASS]
    assert ev.statement_kind == "extrapolation" and ev.key
    assert Evidence.from_json(ev.to_json()).to_json() == ev.to_json()


@pytest.mark.parametrize("mutant", [
    oq.DeepFirstLayerBound(weight_norm="rms"),  # ‖W₁‖_F/√min(m,d) < ‖W₁‖₂: a tighter, wrong constant
    oq.DeepFirstLayerBound(x_power=0.0),  # dropped 1/‖x‖: wrong at the probes of 0.1× the input norm
    oq.SobolevNonInterpolating(residual_coefficient=0.0),  # the interpolation form, R dropped
    oq.SobolevNonInterpolating(residual_coefficient=-1.0),  # R added instead of subtracted
], ids=lambda m: f"{type(m).__name__}{m.constants()}")
def test_each_open_question_mutant_fails(mutant):
    assert mutant.run(Q).verdict is Verdict.FAIL


def test_frobenius_in_place_of_spectral_is_looser_not_a_mutant_at_depth():
    assert oq.DeepFirstLayerBound(weight_norm="frobenius").run(Q).verdict is Verdict.PASS


def test_depth_is_measured_and_the_first_layer_width_one_net_attains_the_bound():
    ev = oq.DeepFirstLayerBound().run(Q)
    assert set(ev.key["share_by_depth"]) == {"2", "3", "4"}
    assert all(0 < v < 1 for v in ev.key["share_by_depth"].values())
    eq = next(c for c in ev.cases if "width 1" in c.name)
    assert eq.measured["min_ratio"] == pytest.approx(1.0, abs=1e-12)
    assert {c.data["depth"] for c in ev.cases if "multiplicative" in c.name} == {2, 3, 4}


def test_the_pinned_minimum_is_strict_does_not_interpolate_and_needs_the_residual_term():
    (net, X, y), = oq.SobolevNonInterpolating().pinned()
    H = networks.hessian_exact(net, X, y)
    assert np.linalg.norm(net.architecture.gradient(net.theta, X, y)) < 1e-9
    assert np.linalg.eigvalsh(H)[0] > 1e-4  # strictly positive definite
    ch = networks.sobolev_chain(net, X, y)
    assert np.sqrt(np.mean((net(X) - y) ** 2)) > 1 and ch.residual_trace < 0
    const = ch.w_spectral_sq / ch.min_x_sq
    assert ch.input_grad_sq_mean > const * np.trace(H)  # the interpolation form is exceeded
    assert ch.input_grad_sq_mean <= const * (np.trace(H) - ch.residual_trace)  # the form with R holds
    assert np.trace(H) == pytest.approx(ch.gauss_newton_trace + ch.residual_trace, rel=1e-12)


def test_a_point_that_is_no_minimum_is_undecided_not_a_pass():
    net = networks.init_net(2, 2, seed=0)
    X = np.random.default_rng(0).standard_normal((9, 2))
    case = oq.SobolevNonInterpolating().check((net, X, net(X) + 1.0), Q)  # ∇L ≠ 0 there
    assert case.verdict is Verdict.INCONCLUSIVE and "not a strict minimum" in case.note
