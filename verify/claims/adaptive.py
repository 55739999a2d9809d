"""Adam and RMSProp: their modified equation late in training, and with bias correction from initialisation.

The field is derived in :mod:`theorycheck.maths.adaptive` (Taylor matching of
the bias-corrected averages) and checked three ways: the local order of
late-training Adam on its slow manifold against F₀ + hF₁ (3, and 2 against F₀),
the coefficient of the one-norm term recovered without derivatives from
log(1+Δ) on the orbit, and, from initialisation, the n-step and global orders
against the step-dependent (bias-corrected) fields. The hyper-parameters span
the regimes of Cattaneo, Klusowski & Shigida: ρ > β with small ε (the one-norm
term anti-penalises), β > ρ (it penalises), large ε (GD-like, penalises), and
RMSProp (β = 0).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Iterable

import mpmath
import numpy as np

from theorycheck import maths, numerics
from theorycheck.claims.base import Checked, Claim, RunContext, Sizes
from theorycheck.claims.kinds import Ladder, OrderClaim, order_ladder
from theorycheck.claims.registry import register
from theorycheck.claims.sources import CATTANEO, HLW
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict

#: (label, β, ρ, ε): the regimes, each named by the predicted sign of the one-norm term at the default points.
REGIMES: tuple[tuple[str, Fraction, Fraction, Fraction], ...] = (
    ("Adam ρ>β, small ε (anti-penalises)", Fraction(1, 4), Fraction(1, 2), Fraction(1, 1000)),
    ("Adam β>ρ, small ε (penalises)", Fraction(1, 2), Fraction(1, 4), Fraction(1, 1000)),
    ("Adam large ε (penalises, GD-like)", Fraction(1, 4), Fraction(1, 2), Fraction(4)),
    ("RMSProp β=0, small ε (anti-penalises)", Fraction(0), Fraction(1, 2), Fraction(1, 1000)),
)

#: Relative agreement asked of the derivative-free coefficient: its Richardson residual is O(h³), ≈ 1e-7·C here.
COEFFICIENT_RTOL = 1e-3


def _random_quadratic(seed: int) -> tuple[Any, tuple[Fraction, ...]]:
    """½θᵀAθ with A = [[a, c], [c, b]] positive definite, exact rationals, and a start point with |g_j| ≥ 1/2."""
    rng = random.Random(seed)
    a, b = Fraction(rng.randint(10, 30), 10), Fraction(rng.randint(5, 20), 10)
    c = Fraction(rng.randint(-5, 5), 10)
    loss = maths.losses.quadratic_loss([[a, c], [c, b]], name=f"random quadratic (seed {seed})")
    while True:
        th = (Fraction(rng.randint(-10, 10), 10), Fraction(rng.randint(-10, 10), 10))
        g = (a * th[0] + c * th[1], c * th[0] + b * th[1])
        if min(abs(x) for x in g) >= Fraction(1, 2):
            return loss, th


def _zoo(name: str) -> tuple[Any, tuple[Fraction, ...]]:
    loss = maths.losses.ZOO[name]
    return loss, maths.losses.exact_point(loss, maths.losses.ZOO_POINTS[name])


def _instance(name: str) -> tuple[Any, tuple[Fraction, ...]]:
    """A zoo loss at its point, or ``random:SEED``: a random quadratic (:func:`_random_quadratic`)."""
    return _random_quadratic(int(name.split(":")[1])) if name.startswith("random:") else _zoo(name)


#: Losses whose gradient at the default point is small (|∂_jL| ≈ 0.15–0.27 for tiny_net): the expansion is in
#: h‖H‖/R_j, so their ladder starts one halving lower for the asymptotic range to be reached.
LADDER_SHIFT: dict[str, int] = {"tiny_net": 1}


def _mp(x: Fraction) -> Any:
    return mpmath.mpf(x.numerator) / x.denominator


@register
@dataclass(frozen=True, kw_only=True)
class AdamModifiedEquation(OrderClaim):
    """Late-training Adam and RMSProp against the derived field θ̇_j = −(1/R_j)[∂_jL + h·c_j·∂_j‖∇L‖_{1,ε}].

    Derivation: :mod:`theorycheck.maths.adaptive` (module docstring), with
    c_j = β/(1−β) − ρ/(1−ρ) + (ρ/(1−ρ) + ½)·ε/R_j², R_j = √((∂_jL)² + ε).
    Mutants: ``scale`` (a wrong coefficient), ``sign`` (the wrong sign of the
    one-norm term), ``half`` (a wrong Euler term ½).
    """

    id = "implicit.adam-modified-equation"
    statement_kind = "derived"
    title = "Adam and RMSProp follow −(1/R)[∇L + h·c⊙∇‖∇L‖_{1,ε}] to local order 3 late in training"
    source = (f"{CATTANEO}; derived here by matching the bias-corrected moment averages with the flow "
              f"({HLW}), and without derivatives by log(1+Δ) on the slow-manifold orbit")
    statement = ("On the slow manifold (bias corrections decayed), one Adam step (β, ρ, ε inside the root) differs "
                 "from the time-h flow of θ̇_j = −(1/R_j)[∂_jL + h·c_j·∂_j‖∇L‖_{1,ε}], c_j = β/(1−β) − ρ/(1−ρ) + "
                 "(ρ/(1−ρ) + ½)ε/R_j², by O(h³) (local order 3; the plain field −∇L/R only O(h²)), in regimes "
                 "where c < 0 (anti-penalising: ρ > β, small ε; RMSProp) and c > 0 (penalising: β > ρ, or large "
                 "ε); log(1+Δ) on the orbit recovers c_j to 1e-3.")
    falsifier = ("A local order off 3 against the derived field (or off 2 against −∇L/R), or a derivative-free "
                 "coefficient that differs from c_j by more than 1e-3 relative or in sign.")
    tags = ("implicit", "adam", "rmsprop", "lie", "order")
    losses_sizes: ClassVar[Sizes] = Sizes(("quadratic",), ("quadratic", "logistic", "tiny_net", "random:1",
                                                         "random:2"))
    #: 1/64 … 1/512: the fast moments need N ≈ 50 steps to decay (maths.adaptive.fast_steps); N·h stays ≤ 1.
    ladder: ClassVar[tuple[Fraction, ...]] = tuple(Fraction(1, 2**k) for k in range(6, 10))
    DIGITS: ClassVar[int] = 30
    expected_order: float = 3.0
    scale: Fraction = Fraction(1)
    sign: int = 1
    half: Fraction = Fraction(1, 2)
    regimes: tuple[tuple[str, Fraction, Fraction, Fraction], ...] = REGIMES
    losses: tuple[str, ...] | None = None

    def check(self, ctx: RunContext) -> Iterable[Ladder | Case | Figure]:
        ad = maths.adaptive
        names = self.losses_sizes.pick(ctx, self.losses)
        coefficient_rows: list[tuple[str, list[float], list[float]]] = []
        for li, name in enumerate(names):
            loss, theta0 = _instance(name)
            ladder = [h / 2 ** LADDER_SHIFT.get(name, 0) for h in self.ladder]
            for ri, (label, b1, b2, eps) in enumerate(self.regimes):
                step = ad.adam_slow_map(loss, b1, b2, eps)
                field = ad.adam_field(loss, b1, b2, eps, 1, scale=self.scale, sign=self.sign, half=self.half)
                yield order_ladder(f"{loss.name}, {label}: step vs F₀ + hF₁", step, field, theta0, ladder,
                                   expected_order=self.expected_order, digits=self.DIGITS,
                                   figure=f"{loss.name}, {label} (β={b1}, ρ={b2}, ε={eps}): late-training step vs "
                                          "derived flow")
                if not ctx.quick or ri == 0:
                    yield order_ladder(f"{loss.name}, {label}: step vs −∇L/R (contrast)", step,
                                       ad.adam_field(loss, b1, b2, eps, 0), theta0, ladder, expected_order=2,
                                       digits=self.DIGITS)
                if li == 0:
                    case, row = self._coefficients(loss, theta0, label, b1, b2, eps)
                    coefficient_rows.append(row)
                    yield case
        if coefficient_rows:
            yield Figure("bar", "one-norm coefficient c_j: closed form vs derivative-free log(1+Δ) (coordinate 1)",
                         ylabel="c₁ (> 0 penalises ‖∇L‖_{1,ε}, < 0 anti-penalises)",
                         series=[Series("closed form", [r[0] for r in coefficient_rows],
                                        [r[1][0] for r in coefficient_rows], "bar"),
                                 Series("log(1+Δ) on the orbit", [r[0] for r in coefficient_rows],
                                        [r[2][0] for r in coefficient_rows], "bar")],
                         annotations={"hline": 0.0})

    def _coefficients(self, loss: Any, theta0: tuple[Fraction, ...], label: str, b1: Fraction, b2: Fraction,
                      eps: Fraction) -> tuple[Case, tuple[str, list[float], list[float]]]:
        ad = maths.adaptive
        hs = (Fraction(1, 256), Fraction(1, 512), Fraction(1, 1024))
        with mpmath.workdps(self.DIGITS):
            th = [_mp(x) for x in theta0]
            measured = ad.measured_coefficients(lambda h: ad.adam_slow_orbit(loss, b1, b2, eps, th, h, 3),
                                                loss, eps, th, hs)
            g = loss.gradient_mpmath(th)
            closed = [float(self.scale * self.sign * ad.one_norm_coefficient(
                b1, b2, eps, Fraction(str(mpmath.nstr(gj, 25))), half=self.half)) for gj in g]
        meas = [float(m) for m in measured]
        rel = max(abs(m - c) / max(abs(c), 1e-12) for m, c in zip(meas, closed))
        same_sign = all((m > 0) == (c > 0) for m, c in zip(meas, closed))
        ok = rel <= COEFFICIENT_RTOL and same_sign
        case = Case(f"{loss.name}, {label}: coefficient c from log(1+Δ) (h = 1/256 … 1/1024, Richardson)",
                    Verdict.pass_if(ok), measured={"c_measured": meas, "relative_difference": rel},
                    expected={"c_closed_form": closed, "sign": "penalises" if closed[0] > 0 else "anti-penalises"},
                    tolerance={"rtol": COEFFICIENT_RTOL}, margin=COEFFICIENT_RTOL - rel,
                    note=("agrees" if ok else "differs") + f" (max relative difference {rel:.2e})")
        return case, (label.split(" (")[0], closed, meas)

    def _main(self, checked: Checked) -> list[float]:
        return self.measured_orders(checked, lambda c: "F₀ + hF₁" in c.name)

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        main = self._main(checked)
        coef = [c for c in checked.cases() if "coefficient" in c.name]
        return {"order_min": min(main) if main else None, "order_max": max(main) if main else None,
                "coefficient_relative_difference_max": max(c.measured["relative_difference"] for c in coef)
                if coef else None}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        if key["order_min"] is None:
            return "no order measured"
        coef = [c for c in checked.cases() if "coefficient" in c.name]
        signs = ", ".join(f"c₁ = {c.measured['c_measured'][0]:+.4g}" for c in coef)
        return (f"local order vs derived field {key['order_min']:.3f}…{key['order_max']:.3f} over "
                f"{len(self._main(checked))} cases (expected {self.expected_order:g}); derivative-free {signs} "
                f"(max rel. diff. {key['coefficient_relative_difference_max']:.1e})")


@register
@dataclass(frozen=True, kw_only=True)
class AdamBiasCorrection(OrderClaim):
    """Adam from initialisation against the step-dependent fields: bias correction enters as b_n, r_n.

    b_n = β/(1−β) − (n+1)β^{n+1}/(1−β^{n+1}) (the mean age of the bias-corrected average, derivation in
    :mod:`theorycheck.maths.adaptive`). Mutant: ``bias_correction=False`` uses the late-training
    coefficients from step 0.
    """

    id = "implicit.adam-bias-correction"
    statement_kind = "derived"
    title = "Adam with bias correction from m = v = 0: step-dependent modified fields, n-step order 3, global order 2"
    source = (f"{CATTANEO} (their ODE for Adam carries the bias corrections; its coefficients not checked against "
              "the paper); derived here: b_n = β/(1−β) − (n+1)β^{n+1}/(1−β^{n+1}), r_n likewise with ρ")
    statement = ("From m = v = 0, the first n = 3 bias-corrected Adam steps differ from the composed flows of the "
                 "step-k fields (b_k, r_k) by O(h³) (order 3), and the late-training coefficients instead give only "
                 "O(h²); on a fixed horizon T = 1/8, Adam tracks the piecewise flow with global order 2 (−∇L/R: 1).")
    falsifier = "A fitted order off its expected value: 3 (n steps, bias-corrected fields), 2 (global), 1 (global, F₀)."
    tags = ("implicit", "adam", "order", "bias-correction")
    #: the zoo quadratic's point has ∂_bL = 0.3, which Adam drives through 0 within T (where R → √ε and the
    #: expansion in h‖H‖/R fails), so the full run adds a random quadratic whose gradient stays away from 0
    losses_sizes: ClassVar[Sizes] = Sizes(("logistic",), ("logistic", "random:1"))
    regime_sizes: ClassVar[Sizes] = Sizes(REGIMES[:2], REGIMES + (
        ("Adam β=0.9, ρ=0.99 (anti-penalises)", Fraction(9, 10), Fraction(99, 100), Fraction(1, 1000)),))
    n_ladder: ClassVar[tuple[Fraction, ...]] = tuple(Fraction(1, 2**k) for k in range(6, 10))
    #: 1/128 … 1/1024: the expansion is in h‖H‖/R_j, and Adam moves at unit speed, so the ladder starts small.
    global_ladder: ClassVar[tuple[Fraction, ...]] = tuple(Fraction(1, 2**k) for k in range(7, 11))
    horizon: ClassVar[Fraction] = Fraction(1, 8)
    steps: int = 3
    bias_correction: bool = True
    expected_order: float = 3.0

    def check(self, ctx: RunContext) -> Iterable[Ladder | Case | Figure]:
        na = numerics.adaptive
        for li, name in enumerate(self.losses_sizes.pick(ctx)):
            loss, theta0 = _instance(name)
            for ri, (label, b1, b2, eps) in enumerate(self.regime_sizes.pick(ctx)):
                errs, floor = na.n_step_errors(loss, b1, b2, eps, theta0, self.n_ladder, self.steps,
                                               bias_correction=self.bias_correction)
                st = numerics.order.fit_order(self.n_ladder, errs, expected_order=self.expected_order, floor=floor)
                yield Ladder(f"{loss.name}, {label}: {self.steps} steps from m = v = 0 vs step-k fields", st,
                             f"{loss.name}, {label}: first {self.steps} Adam steps vs bias-corrected fields")
                if ri == 0 and (li == 0 or not ctx.quick):
                    if not ctx.quick:
                        errs, floor = na.n_step_errors(loss, b1, b2, eps, theta0, self.n_ladder, self.steps,
                                                       bias_correction=False)
                        st = numerics.order.fit_order(self.n_ladder, errs, expected_order=2, floor=floor)
                        yield Ladder(f"{loss.name}, {label}: {self.steps} steps vs late-training fields (contrast)",
                                     st)
                    errs, floor = na.global_errors(loss, b1, b2, eps, theta0, self.global_ladder, self.horizon,
                                                   bias_correction=self.bias_correction)
                    st = numerics.order.fit_order(self.global_ladder, errs, expected_order=self.expected_order - 1,
                                                  floor=floor)
                    yield Ladder(f"{loss.name}, {label}: global, T = {self.horizon}, vs piecewise flow", st,
                                 f"{loss.name}, {label}: Adam from initialisation, global error on T = "
                                 f"{self.horizon}")
                    errs, floor = na.global_errors(loss, b1, b2, eps, theta0, self.global_ladder, self.horizon,
                                                   order=0)
                    st = numerics.order.fit_order(self.global_ladder, errs, expected_order=1, floor=floor)
                    yield Ladder(f"{loss.name}, {label}: global vs −∇L/R (contrast)", st)

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        n = self.measured_orders(checked, lambda c: "step-k fields" in c.name)
        g = self.measured_orders(checked, lambda c: "vs piecewise flow" in c.name)
        return {"n_step_order_min": min(n) if n else None, "global_order_min": min(g) if g else None}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        def f(x: Any) -> str:
            return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3f}"

        return (f"{self.steps}-step order vs bias-corrected fields ≥ {f(key['n_step_order_min'])} (expected "
                f"{self.expected_order:g}); global order ≥ {f(key['global_order_min'])} (expected "
                f"{self.expected_order - 1:g})")




#: (label, β, ρ, ε) of the network experiment: h = 0.002 over T = 0.1 (50 steps).
NETWORK_REGIMES: tuple[tuple[str, float, float, float], ...] = (
    ("Adam β=0.9, ρ=0.5 (penalises)", 0.9, 0.5, 1e-3),
    ("Adam β=0.5, ρ=0.9 (anti-penalises where |g_j| ≫ √ε)", 0.5, 0.9, 1e-3),
    ("RMSProp ρ=0.9 (anti-penalises where |g_j| ≫ √ε)", 0.0, 0.9, 1e-3),
)


@register
@dataclass(frozen=True, kw_only=True)
class AdamOneNormSign(Claim):
    """The sign of the one-norm term, tested statistically on small networks against its first-order prediction.

    Per seed (a random regression task of 16 points, a width-8 tanh network, its initialisation θ₀):
    D = N(θ_n) − N(φ_T(θ₀)), Adam's n = T/h bias-corrected iterates against the h → 0 flow −∇L/R, and
    P = −hT·Σ_j c_j(∂_jN)²/R_j at θ₀, N = ‖∇L‖_{1,ε}: the first-order change the term h·c⊙∇N/R predicts
    (:mod:`theorycheck.maths.adaptive`). The claim is that D has P's sign: the mean of D/P is > 0.
    ``sign=-1`` (the opposite sign of the term) is the mutant.
    """

    id = "implicit.adam-one-norm-sign"
    statement_kind = "derived"
    title = "On small networks Adam moves ‖∇L‖_{1,ε} the way the sign of its one-norm term predicts"
    source = (f"{CATTANEO}; prediction derived here from the field of maths/adaptive.py; regime: small h, full "
              "batch, a short horizon (the expansion parameter h‖H‖/R_j is reported per seed)")
    statement = ("For Adam and RMSProp with h = 0.002 over T = 0.1 from a random initialisation, the change of "
                 "‖∇L‖_{1,ε} relative to the h → 0 flow has the sign of the first-order prediction "
                 "−hT·Σ_j c_j(∂_j‖∇L‖_{1,ε})²/R_j: the mean over seeds of the ratio D/P is > 0 (95% t interval), in "
                 "a penalising (β > ρ) and in anti-penalising (ρ > β, RMSProp) settings.")
    falsifier = "The interval of the mean ratio D/P lies below 0 in some setting (straddling 0 is INCONCLUSIVE)."
    tags = ("implicit", "adam", "rmsprop", "statistics", "nets")
    seed_sizes: ClassVar[Sizes] = Sizes(6, 24)
    rate: float = 0.002
    horizon: float = 0.1
    sign: int = 1
    seeds: int | None = None

    def evaluate(self, ctx: RunContext) -> Evidence:
        seeds = self.seed_sizes.pick(ctx, self.seeds)
        cases, results = [], []
        for label, b1, b2, eps in NETWORK_REGIMES:
            res = numerics.adaptive.one_norm_vs_flow(b1, b2, eps, seeds=seeds, seed=ctx.seed, rate=self.rate,
                                                     horizon=self.horizon, sign=self.sign)
            e = res.effect
            anti = sum(r["predicted_sign"] == "anti-penalises" for r in res.records)
            expansion = float(np.median([r["expansion"] for r in res.records])) if res.records else math.nan
            cases.append(Case(
                f"{label}, ε={eps:g}", e.verdict,
                measured={"mean_ratio": e.mean, "ci_lo": e.ci[0], "ci_hi": e.ci[1], "boot_lo": e.ci_bootstrap[0],
                          "boot_hi": e.ci_bootstrap[1], "cohen_dz": e.cohen_dz, "seeds": e.n,
                          "predicted_anti_penalising_seeds": anti, "median_expansion": expansion},
                expected={"sign_of_mean_ratio": 1}, tolerance={"confidence": e.confidence},
                margin=min(e.ci) if math.isfinite(e.mean) else None,
                note=(f"{e.reason}; the net predicted effect anti-penalises in {anti} of {len(res.records)} seeds; "
                      f"median h‖H‖/min R_j = {expansion:.3g}"),
                data={"ratios": res.ratios, "records": res.records, "excluded": res.excluded}))
            results.append((label, res))
        fig = Figure(kind="interval", title="D/P: measured over predicted one-norm change, mean and 95% CI",
                     ylabel="D/P (> 0: the predicted sign)",
                     series=[Series("mean ratio", [lab.split(" (")[0] for lab, _ in results],
                                    [r.effect.mean for _, r in results])],
                     annotations={"hline": 0.0, "hline_label": "no agreement",
                                  "ci_low": [r.effect.ci[0] for _, r in results],
                                  "ci_high": [r.effect.ci[1] for _, r in results]})
        return self.assemble(Checked(parts={"settings": cases}, figures=[fig], settings={"seeds": seeds}))

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        return {"mean_ratios": [c.measured["mean_ratio"] for c in checked.cases()],
                "ci_lo": [c.measured["ci_lo"] for c in checked.cases()]}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        return "; ".join(f"{c.name.split(' (')[0]}: D/P = {c.measured['mean_ratio']:+.3g} [{c.measured['ci_lo']:+.3g}, "
                         f"{c.measured['ci_hi']:+.3g}] {c.verdict}" for c in checked.cases())


__all__ = ["COEFFICIENT_RTOL", "LADDER_SHIFT", "NETWORK_REGIMES", "REGIMES", "AdamBiasCorrection", "AdamModifiedEquation",
           "AdamOneNormSign"]
