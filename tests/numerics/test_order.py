"""Tests for theorycheck.numerics.order: the fit and its verdict rule, GD orders on zoo losses, floors, precision, mutants."""

from __future__ import annotations

import json
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from theorycheck.core.errors import InputError, PrecisionError
from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.maths.fields import Field, H
from theorycheck.maths.losses import ZOO, ZOO_POINTS, quadratic_loss
from theorycheck.maths.optimisers import gd
from theorycheck.numerics.order import DEFAULT_TOL, OrderStudy, fit_order, global_error_study, local_error_study

LADDER = [Fraction(1, 2**k) for k in range(3, 8)]  # 1/8 … 1/128
POINT = {name: [Fraction(str(x)) for x in p.values()] for name, p in ZOO_POINTS.items()}


def igr_field(loss):
    """−g − (h/4)∇‖g‖² (Barrett & Dherin, ICLR 2021, Thm 3.1), built here so this test needs no modified.py."""
    g = loss.gradient
    n2 = sum(c**2 for c in g)
    return Field(loss.variables, tuple(-g[i] - H / 4 * sp.diff(n2, v) for i, v in enumerate(loss.variables)), "igr")


def second_order_field(loss):
    """f̃ truncated after h²: −g − (h/2)Hg − h²((1/12)T(g,g) + (1/3)H²g) (HLW GNI ch. IX)."""
    g = loss.gradient
    Hm = loss.hessian
    f2 = -loss.third(list(g), list(g)) / 12 - Hm * Hm * g / 3
    return Field(loss.variables, tuple(-g - H / 2 * Hm * g + H**2 * f2), "modified:2")


# --- fit_order on synthetic ladders ------------------------------------------------------------

def _ladder(p, c=3.0, curvature=0.0, n=6):
    hs = [Fraction(1, 2**k) for k in range(3, 3 + n)]
    return hs, [c * float(h) ** p * (1 + curvature * float(h)) for h in hs]


@pytest.mark.parametrize("p", [1, 2, 3, 6])
def test_fit_recovers_a_clean_power_law_and_rejects_neighbours(p):
    hs, es = _ladder(p)
    st = fit_order(hs, es, expected_order=p)
    assert st.verdict is Verdict.PASS and st.order == pytest.approx(p, abs=1e-9)
    for wrong in (p - 1, p + 1):
        assert fit_order(hs, es, expected_order=wrong).verdict is Verdict.FAIL


def test_pre_asymptotic_points_are_dropped_by_the_rule_not_by_the_expectation():
    hs, es = _ladder(2, curvature=12.0)  # local slope ≈ 2 + O(12h): biased by ~0.4 at h = 1/8
    studies = [fit_order(hs, es, expected_order=q) for q in (1, 2, 3)]
    assert all(s.used == studies[0].used for s in studies)  # tail chosen without looking at the expectation
    assert studies[0].used[0] is False and sum(studies[0].used) >= 3
    assert [s.verdict for s in studies] == [Verdict.FAIL, Verdict.PASS, Verdict.FAIL]
    assert abs(studies[1].order - 2) < abs(fit_order(hs[:3], es[:3], expected_order=2).order - 2)


def test_errors_at_the_floor_are_never_fitted():
    hs, es = _ladder(3, c=1.0)
    floor = es[2] * 1.01  # only the two largest steps clear it
    st = fit_order(hs, es, expected_order=3, floor=floor)
    assert st.verdict is Verdict.INCONCLUSIVE and st.order is None and st.order_ci is None
    assert "precision floor" in st.reason and st.resolved == [True, True, False, False, False, False]


def test_floor_points_are_excluded_and_the_rest_fitted():
    hs, es = _ladder(2, c=1.0)
    es[-1] = es[-2] = 1e-40  # noise at the floor: a fit through it would report a nonsense order
    st = fit_order(hs, es, expected_order=2, floor=1e-30)
    assert st.resolved == [True] * 4 + [False] * 2 and st.verdict is Verdict.PASS


@pytest.mark.parametrize("factors", [(1.0, 1.3, 0.8, 1.3, 0.8), (1.0, 4.0, 0.3, 2.0, 1.0)])
def test_unsettled_slopes_are_inconclusive_not_pass(factors):
    hs = [Fraction(1, 2**k) for k in range(3, 8)]
    es = [float(h) ** 2 * f for h, f in zip(hs, factors)]  # slope ≈ 2 on average, but no straight line
    st = fit_order(hs, es, expected_order=2)
    assert st.verdict is Verdict.INCONCLUSIVE, st.reason
    assert all(fit_order(hs, es, expected_order=q).verdict is not Verdict.PASS for q in (1, 3))
    lo, hi = st.order_ci
    assert hi - lo > 2 * DEFAULT_TOL


def test_fit_accepts_high_precision_strings_below_double_range():
    hs = [Fraction(1, 2**k) for k in range(3, 7)]
    es = [f"1e-{400 + 3 * k}" for k in range(3, 7)]  # e ∝ h^{3·log2(10)}: underflows in float64
    st = fit_order(hs, es, expected_order=3 * 3.321928094887362)
    assert st.verdict is Verdict.PASS and st.errors_mp[0].startswith("1.0e-409")


@pytest.mark.parametrize(
    "steps, errors, kw, match",
    [
        ([0.1, 0.05], [1e-2, 1e-3], {}, "at least 3"),
        ([0.1, 0.1, 0.05], [1, 1, 1], {}, "distinct"),
        ([0.1, -0.05, 0.02], [1, 1, 1], {}, "positive"),
        ([0.1, 0.05, 0.02], [1, 1], {}, "differ in length"),
        ([0.1, 0.05, 0.02], [1, 1, 1], {"expected_order": float("nan")}, "expected_order"),
        ([0.1, 0.05, 0.02], [1, 1, 1], {"tolerance": 0}, "tolerance"),
        (["a", 0.05, 0.02], [1, 1, 1], {}, "steps"),
    ],
)
def test_fit_bad_input(steps, errors, kw, match):
    with pytest.raises(InputError, match=match):
        fit_order(steps, errors, **{"expected_order": 2, **kw})


# --- studies: GD against flows (heyoka) ----------------------------------------------------------

def test_gd_vs_gradient_flow_local_order_2_and_mutants():
    loss = ZOO["trig"]
    st = local_error_study(gd(loss), loss.gradient_flow(), POINT["trig"], LADDER, expected_order=2)
    assert st.verdict is Verdict.PASS and abs(st.order - 2) < 0.05, st.reason
    assert st.kind == "local" and st.backend == "heyoka"
    assert min(st.significant_digits) >= 30  # digits chosen for ≥ 30 significant digits per error
    for wrong in (1, 3):
        m = local_error_study(gd(loss), loss.gradient_flow(), POINT["trig"], LADDER, expected_order=wrong)
        assert m.verdict is Verdict.FAIL, (wrong, m.reason)


def test_gd_vs_gradient_flow_global_order_1():
    loss = ZOO["rosenbrock"]
    st = global_error_study(gd(loss), loss.gradient_flow(), POINT["rosenbrock"], LADDER, horizon=1, expected_order=1)
    assert st.verdict is Verdict.PASS and abs(st.order - 1) < 0.1, st.reason
    assert st.horizon == "1"
    assert global_error_study(gd(loss), loss.gradient_flow(), POINT["rosenbrock"], LADDER, horizon=1,
                              expected_order=2).verdict is Verdict.FAIL


@pytest.mark.parametrize("name", ["logistic", "tiny_net"])
def test_gd_vs_igr_local_order_3_global_order_2(name):
    loss = ZOO[name]
    f = igr_field(loss)
    loc = local_error_study(gd(loss), f, POINT[name], LADDER, expected_order=3)
    glo = global_error_study(gd(loss), f, POINT[name], LADDER, horizon=1, expected_order=2)
    assert loc.verdict is Verdict.PASS and abs(loc.order - 3) < 0.05, loc.reason
    assert glo.verdict is Verdict.PASS and abs(glo.order - 2) < 0.05, glo.reason
    assert local_error_study(gd(loss), f, POINT[name], LADDER, expected_order=2).verdict is Verdict.FAIL


def test_wrong_igr_coefficient_drops_the_order_to_2():
    # the h/2 mutant of the IGR field is only as good as gradient flow
    loss = ZOO["trig"]
    g = loss.gradient
    n2 = sum(c**2 for c in g)
    bad = Field(loss.variables, tuple(-g[i] - H / 2 * sp.diff(n2, v) for i, v in enumerate(loss.variables)), "igr/2")
    st = local_error_study(gd(loss), bad, POINT["trig"], LADDER, expected_order=3)
    assert st.verdict is Verdict.FAIL and abs(st.order - 2) < 0.1


def test_second_order_modified_field_gives_local_order_4():
    loss = ZOO["trig"]
    st = local_error_study(gd(loss), second_order_field(loss), POINT["trig"], LADDER, expected_order=4)
    assert st.verdict is Verdict.PASS and abs(st.order - 4) < 0.1, st.reason
    assert min(st.significant_digits) >= 30


def test_exact_modified_field_of_a_quadratic_is_at_the_floor():
    # GD on ½θᵀAθ is exactly the time-h flow of (1/h) log(I − hA)θ: no error to fit
    loss = quadratic_loss([[1, 0], [0, 3]])
    x0, x1 = loss.variables
    exact = Field(loss.variables, (sp.log(1 - H) / H * x0, sp.log(1 - 3 * H) / H * x1), "log")
    st = local_error_study(gd(loss), exact, [Fraction(7, 10), Fraction(-2, 5)], LADDER, expected_order=3)
    assert st.verdict is Verdict.INCONCLUSIVE and st.order is None
    assert not any(st.resolved) and "precision floor" in st.reason
    assert all(e < st.floor for e in st.errors)


def test_scipy_floor_is_inconclusive_not_a_fitted_noise_order():
    loss = ZOO["trig"]
    tiny = [Fraction(1, 2**k) for k in range(8, 14)]  # IGR local errors 1e-9 … 1e-14: below float64's floor
    st = local_error_study(gd(loss), igr_field(loss), POINT["trig"], tiny, expected_order=3, backend="scipy")
    assert st.verdict is Verdict.INCONCLUSIVE and st.digits == 12 and sum(st.resolved) < 3


def test_scipy_resolves_the_large_steps():
    loss = ZOO["trig"]
    st = local_error_study(gd(loss), loss.gradient_flow(), POINT["trig"], LADDER, expected_order=2, backend="scipy")
    assert st.verdict is Verdict.PASS, st.reason


def test_backends_agree_on_the_errors():
    loss = ZOO["quadratic"]
    f = igr_field(loss)
    ladder = LADDER[:3]
    hy = local_error_study(gd(loss), f, POINT["quadratic"], ladder, expected_order=3, digits=30)
    mp = local_error_study(gd(loss), f, POINT["quadratic"], ladder, expected_order=3, digits=30, backend="mpmath")
    sc = local_error_study(gd(loss), f, POINT["quadratic"], ladder, expected_order=3, backend="scipy")
    with mpmath.workdps(50):
        for a, b, c in zip(hy.errors_mp, mp.errors_mp, sc.errors):
            assert abs(mpmath.mpf(a) - mpmath.mpf(b)) < mpmath.mpf(10) ** -30
            assert abs(float(a) - c) < 1e-12


def test_explicit_digits_too_low_raise_precision_error():
    loss = ZOO["trig"]
    with pytest.raises(PrecisionError, match="digits=8 is too low.*use digits >= "):
        local_error_study(gd(loss), igr_field(loss), POINT["trig"], LADDER, expected_order=3, digits=8)


def test_explicit_digits_run_no_pilot(monkeypatch):
    # the digits are given: one measurement at them, no float64 (scipy) pilot to predict the errors
    from theorycheck.numerics import order

    calls = []
    real = order._errors

    def spy(kind, step, against, theta0, hs, horizon, backend, digits, *rest):
        calls.append((backend, digits, len(hs)))
        return real(kind, step, against, theta0, hs, horizon, backend, digits, *rest)

    monkeypatch.setattr(order, "_errors", spy)
    loss = ZOO["trig"]
    st = local_error_study(gd(loss), igr_field(loss), POINT["trig"], LADDER, expected_order=3, digits=30)
    assert st.verdict is Verdict.PASS and calls == [("heyoka", 30, len(LADDER))]
    calls.clear()
    local_error_study(gd(loss), igr_field(loss), POINT["trig"], LADDER, expected_order=3)
    assert calls[0][0] == "scipy" and len(calls) == 2  # digits=None still chooses them from a pilot


def test_explicit_digits_too_low_judged_on_the_measured_errors():
    loss = ZOO["trig"]
    with pytest.raises(PrecisionError, match=r"digits=8 is too low.*only 2 of 5 measured errors.*use digits >= (\d+)") as e:
        local_error_study(gd(loss), igr_field(loss), POINT["trig"], LADDER, expected_order=3, digits=8)
    need = int(e.value.args[0].rsplit(">= ", 1)[1].split()[0])
    # the digits it names resolve the ladder
    st = local_error_study(gd(loss), igr_field(loss), POINT["trig"], LADDER, expected_order=3, digits=need)
    assert all(st.resolved) and st.verdict is Verdict.PASS


def test_explicit_digits_on_an_exact_flow_stay_inconclusive():
    # GD on a linear loss is its gradient flow: every error is zero, which more digits would not change
    loss = ZOO["trig"].__class__("linear", sp.Symbol("a", real=True) + sp.Symbol("b", real=True),
                                 (sp.Symbol("a", real=True), sp.Symbol("b", real=True)))
    st = local_error_study(gd(loss), loss.gradient_flow(), [Fraction(1, 2), Fraction(1)], LADDER, expected_order=2,
                           digits=30)
    assert st.verdict is Verdict.INCONCLUSIVE and not any(st.resolved) and "precision floor" in st.reason


def test_explicit_digits_are_used():
    loss = ZOO["trig"]
    st = local_error_study(gd(loss), loss.gradient_flow(), POINT["trig"], LADDER, expected_order=2, digits=45)
    assert st.digits == 45 and st.verdict is Verdict.PASS


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"steps": [Fraction(1, 8), Fraction(1, 16)]}, "at least 3"),
        ({"horizon": Fraction(1, 3)}, "whole number of steps"),
        ({"horizon": -1}, "positive"),
        ({"backend": "rk4"}, "`backend`"),
        ({"digits": 3}, "`digits`"),
        ({"theta0": [0.1]}, "coordinates"),
        ({"theta0": [0.1, float("inf")]}, "finite"),
    ],
)
def test_study_bad_input(kw, match):
    loss = ZOO["trig"]
    args = {"steps": LADDER, "horizon": 1, "backend": "heyoka", "digits": None, "theta0": POINT["trig"], **kw}
    with pytest.raises(InputError, match=match):
        global_error_study(gd(loss), loss.gradient_flow(), args["theta0"], args["steps"], horizon=args["horizon"],
                           expected_order=1, backend=args["backend"], digits=args["digits"])


def test_case_and_figure_carry_the_report_data():
    hs, es = _ladder(2, curvature=12.0)
    st = fit_order(hs, es, expected_order=2)
    case = st.to_case("synthetic")
    assert case.verdict is Verdict.PASS and case.expected == {"order": 2.0}
    assert case.margin == pytest.approx(DEFAULT_TOL - abs(st.order - 2))
    assert case.data["steps"] == st.steps and case.data["used"] == st.used
    fig = st.figure("ladder")
    labels = [s.label for s in fig.series]
    assert fig.kind == "loglog" and fig.xscale == fig.yscale == "log"
    assert labels[0] == "error" and labels[1].startswith("fit: slope") and labels[2] == "expected slope 2"
    assert fig.annotations["expected_slope"] == 2
    ev = Evidence.from_cases("x", [case], "s", figures=[fig])
    assert Evidence.from_json(json.loads(json.dumps(ev.to_json()))).cases[0].verdict is Verdict.PASS


def test_order_study_fields_follow_the_contract():
    names = set(OrderStudy.__dataclass_fields__)
    assert {"kind", "steps", "errors", "errors_mp", "expected_order", "tolerance", "order", "order_ci",
            "local_slopes", "floor", "resolved", "verdict", "reason", "digits", "backend"} <= names


def test_a_step_outside_the_loss_domain_is_a_clear_error_not_a_traceback():
    from theorycheck.core.errors import DivergenceError
    from theorycheck.maths.losses import parse_loss
    from theorycheck.maths.optimisers import gd

    loss = parse_loss("1/a + b**2")
    with pytest.raises(DivergenceError, match="ZeroDivisionError"):
        local_error_study(gd(loss), loss.gradient_flow(), (0, 1), [Fraction(1, 8), Fraction(1, 16), Fraction(1, 32)],
                          expected_order=2)


def test_float64_local_error_slopes_separate_the_egr_coefficients():
    """Successive log-slopes of the float64 ladder on a tanh net: ≈3 at c = 1/4, ≈2 at c = 0 (the claim fits them)."""
    from theorycheck.maths.datasets import smooth_regression
    from theorycheck.maths.networks import Architecture, regularised_flow
    from theorycheck.numerics.experiments import sharpness
    from theorycheck.numerics.ladders import relative_ladder
    from theorycheck.numerics.order import float64_floor, float64_local_errors

    rng = np.random.default_rng(5)
    X, y = smooth_regression(rng)
    arch = Architecture(2, 3)
    theta = arch.init(rng, bias_scale=0.1)
    steps = relative_ladder(sharpness(arch, theta, X, y), 4, top=0.125)
    slope = {}
    for c in (0.0, 0.25):
        e = float64_local_errors(lambda th, h: th - h * arch.gradient(th, X, y),
                                 lambda h, c=c: regularised_flow(arch, X, y, c * h), theta, steps)
        assert min(e) > float64_floor(theta)
        slope[c] = float(np.log(e[-2] / e[-1]) / np.log(2))
    assert abs(slope[0.25] - 3) < 0.15 and abs(slope[0.0] - 2) < 0.15


def test_adam_n_step_and_global_errors_need_valid_input():
    from fractions import Fraction

    from theorycheck.core.errors import InputError
    from theorycheck.maths.losses import ZOO
    from theorycheck.numerics import adaptive

    with pytest.raises(InputError):
        adaptive.n_step_errors(ZOO["quadratic"], 0.5, 0.5, 0.1, (0.7, -0.4), [Fraction(1, 8)] * 3, 0)
    with pytest.raises(InputError, match="divide"):
        adaptive.global_errors(ZOO["quadratic"], 0.5, 0.5, 0.1, (0.7, -0.4), [Fraction(1, 3)], Fraction(1, 2))
