"""Claims about the linear stability of GD and SGD at an interpolating minimum.

Sources and what was checked
----------------------------
* Mulayoff & Michaeli, "Exact Mean Square Linear Stability Analysis for SGD",
  arXiv:2306.07850 (the ICLR 2024 submission text). Numbers used: eq. 10 (Q),
  Thm. 2 (= Ma & Ying Thm. 1 + Cor. 3: E‖θ−θ*‖² bounded ⇔ max over PSD Σ of
  ‖Q vec Σ‖/‖Σ‖ ≤ 1), Thm. 3 (η* = 2/λ_max(C⁺D), C = ½H⊕H, D = (1−p)H⊗H + p·mean Hᵢ⊗Hᵢ,
  p = (n−B)/(B(n−1))), Prop. 1 (η* non-decreasing in B), Prop. 3 (eqs. 15, 16),
  Thm. 6 (dominant eigenvector of Q is PSD).
* Wu, Ma & E, NeurIPS 2018 (Sec. 3): sharpness a = λ_max(H), non-uniformity
  s = λ_max(Σ)^{1/2}, Σ = mean Hᵢ² − H² (as in the authors' code, leiwu0/sgd.stability,
  ``eigen_variance``); the *sufficient* condition λ_max{(I−ηH)² + η²(n−B)/(B(n−1))Σ} ≤ 1
  (called "an implicit sufficient condition" by Mulayoff & Michaeli Sec. 5) and the
  conditions 0 ≤ a ≤ 2/η, 0 ≤ s ≤ (1/η)√(B(n−1)/(n−B)) (≈ √B/η) derived from it.
  Theorem numbers not checked against the paper.
* Ma & Ying, NeurIPS 2021 (arXiv:2105.13462): flatness (Tr H) and moments of per-sample
  gradients bounded through η and B by (k-th order) linear stability. Checked here in the
  form Tr H ≤ 2/(ηp) (= 2B/η with replacement) and mean‖gᵢ‖^{2k} ≤ (2/(ηp))^k (statement
  form not checked against the paper); for k = 2 both follow from Mulayoff & Michaeli
  eq. 16 + Jensen, for k = 4 the form is a conjecture tested here.

Verdict conventions: see :class:`~theorycheck.claims.kinds.ConditionClaim`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import lazy_loader as lazy

from theorycheck import maths, numerics, properties
from theorycheck.claims.base import Checked, Claim, Key, RunContext, Sizes
from theorycheck.claims.kinds import (
    CONDITION_SLACK,
    ConditionClaim,
    PropertyClaim,
    describe_instance,
    instance_name,
    instance_problem,
    table_cell,
)
from theorycheck.claims.registry import register
from theorycheck.claims.sources import MA_YING, MA_YING_STABILITY, MULAYOFF_MICHAELI, WU_MA_E
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict, tightest
from theorycheck.maths.constants import FLATNESS_CONSTANT, KRONECKER_SUM_SCALE, STABILITY_CONSTANT

np = lazy.load("numpy")

#: Relative slack for rounding in the comparisons below (η* is computed to ~1e-12 on these small instances).
SLACK = CONDITION_SLACK


def _published(n: int, batch: int, sampling: str) -> float:
    return maths.sampling.sampling_factor(n, batch, sampling)


#: The batch-noise factor p by name: the published one, and the mutants that a check must reject.
BATCH_FACTORS: dict[str, Callable[[int, int, str], float]] = {
    "published": _published,
    "with-replacement-always": lambda n, batch, sampling: 1.0 / batch,  # 1/B even without replacement
    "batch-over-n": lambda n, batch, sampling: batch / n,  # noise growing with B
}


def batch_factor(name: str, n: int, batch: int, sampling: str) -> float:
    """p under the rule ``name`` of :data:`BATCH_FACTORS`."""
    try:
        return BATCH_FACTORS[name](n, batch, sampling)
    except KeyError:
        from theorycheck.core.errors import InputError

        raise InputError(f"`batch_factor` must be one of {', '.join(BATCH_FACTORS)}, got {name!r}.") from None


def _hessian_instances(n: tuple[int, int], d: tuple[int, int]) -> Any:
    from hypothesis import strategies as st

    return properties.strategies.stability_instances(
        properties.strategies.per_sample_hessians(n=st.integers(*n), d=st.integers(*d)))


def _feature_instances(n: tuple[int, int], d: tuple[int, int]) -> Any:
    """Square-loss instances: features X and Hᵢ = xᵢxᵢᵀ."""
    from hypothesis import strategies as st

    return properties.strategies.stability_instances(properties.strategies.feature_matrices(
        n=st.integers(*n), d=st.integers(*d)).map(lambda X: np.einsum("ni,nj->nij", X, X)))


@dataclass(frozen=True, kw_only=True)
class StabilityProperty(PropertyClaim):
    """A property over stability instances (per-sample Hessians or features, a batch size, a sampling)."""

    tags: ClassVar[tuple[str, ...]] = ("stability", "sgd", "hypothesis")

    def describe(self, instance: Any) -> Any:
        return describe_instance(instance)

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        return {"examples": checked.examples}


# --------------------------------------------------------------------------- 1. GD


@register
@dataclass(frozen=True, kw_only=True)
class GdThreshold(StabilityProperty):
    id = "stability.gd-threshold"
    statement_kind = "theorem"
    title = "GD is linearly stable iff η ≤ 2/λ_max(H)"
    source = f"classical; {MULAYOFF_MICHAELI}, Thm. 1 and App. I (B = n recovers GD)"
    statement = "ρ of the GD second-moment map (I−ηH)⊗(I−ηH) is ≤ 1 for η ≤ 2/λ_max and > 1 beyond"
    falsifier = "ρ > 1 just below the threshold, or ρ ≤ 1 just above it"
    tags = ("stability", "gd", "hypothesis")
    examples = Sizes(20, 150)
    summary = "{verdict}: ρ crosses 1 at {threshold_factor}/λ_max on {examples} instances"
    threshold_factor: float = STABILITY_CONSTANT
    rel_step: float = 1e-6

    def strategy(self, ctx: RunContext) -> Any:
        from hypothesis import strategies as st

        return properties.strategies.per_sample_hessians(n=st.integers(1, 4), d=st.integers(1, 4))

    def describe(self, instance: Any) -> Any:
        return np.round(instance, 6).tolist()

    def check(self, Hs: Any, ctx: RunContext) -> Case:
        P = maths.stability.problem_from_hessians(Hs)
        thr = maths.stability.gd_rate(P, self.threshold_factor)
        below = numerics.stability.radius(P, thr * (1 - self.rel_step), 0.0)
        above = numerics.stability.radius(P, thr * (1 + self.rel_step), 0.0)
        ok = below <= 1 + SLACK and above > 1
        return Case(f"n={Hs.shape[0]} d={Hs.shape[1]}", Verdict.pass_if(ok),
                    measured={"rho_below": below, "rho_above": above, "lambda_max": P.lam[0]},
                    expected={"threshold": thr}, tolerance={"rel_step": self.rel_step},
                    margin=min(1 + SLACK - below, above - 1),
                    note=f"ρ(η⁻) = {below:.12g}, ρ(η⁺) = {above:.12g} at η = {self.threshold_factor}/λ_max")


# --------------------------------------------------------------------------- 2. the operator itself


@register
@dataclass(frozen=True, kw_only=True)
class SecondMomentOperator(StabilityProperty):
    id = "stability.second-moment-operator"
    statement_kind = "theorem"
    title = "E[ĤMĤ] = HMH + p(mean HᵢMHᵢ − HMH), p = 1/B (with) or (n−B)/(B(n−1)) (without)"
    source = f"{MA_YING}, Thm. 1; {MULAYOFF_MICHAELI}, eq. 10"
    statement = ("the closed-form second-moment map M ↦ M − η(HM+MH) + η²E[ĤMĤ] equals E[(I−ηĤ)M(I−ηĤ)] "
                 "computed by enumerating every batch")
    falsifier = "any entry of the two d²×d² matrices differing beyond rounding"
    tags = ("stability", "sgd", "operator", "hypothesis")
    examples = Sizes(20, 150)
    batch_factor: str = "published"
    eta2_coefficient: float = 1.0

    def strategy(self, ctx: RunContext) -> Any:
        from hypothesis import strategies as st

        return st.tuples(_hessian_instances((1, 5), (1, 3)), st.floats(0.05, 1.0))

    def describe(self, instance: Any) -> Any:
        return {**describe_instance(instance[0]), "c": instance[1]}

    def check(self, instance: Any, ctx: RunContext) -> Case:
        inst, c = instance
        Hs, B, s = inst["hessians"], inst["batch"], inst["sampling"]
        n, d, _ = Hs.shape
        eta = c * 2 / np.linalg.eigvalsh(Hs.mean(0))[-1]
        p = batch_factor(self.batch_factor, n, B, s)
        H = Hs.mean(0)
        I = np.eye(d)  # noqa: E741
        D = (1 - p) * np.kron(H, H) + p * sum(np.kron(h, h) for h in Hs) / n
        Q = np.eye(d * d) - eta * (np.kron(H, I) + np.kron(I, H)) + self.eta2_coefficient * eta**2 * D
        T = maths.stability.moment_operator(Hs, eta, B, s, 2)
        err = float(np.abs(Q - T).max())
        tol = 1e-12 * max(1.0, float(np.abs(T).max()))
        return Case(instance_name(inst), Verdict.pass_if(err <= tol), measured={"max_abs_diff": err},
                    tolerance={"abs": tol}, margin=tol - err, note=f"max |Q − E[(I−ηĤ)⊗(I−ηĤ)]| = {err:.3g}")

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        tight = tightest(checked.cases("generated"))
        worst = tight.measured["max_abs_diff"] if tight is not None else math.nan
        return (f"{verdict}: closed form vs batch enumeration, worst diff {worst:.2g} "
                f"({checked.examples} instances)")


# --------------------------------------------------------------------------- 3. closed form


@register
@dataclass(frozen=True, kw_only=True)
class ClosedFormThreshold(StabilityProperty):
    id = "stability.closed-form"
    statement_kind = "theorem"
    title = "η*(B) = 2/λ_max(C⁺D), C = ½(H⊕H) (matrix-free) equals the root of ρ(Q(η)) = 1"
    source = f"{MULAYOFF_MICHAELI}, Thm. 3 (Ma & Ying Thm. 1 + Cor. 3 in closed form)"
    statement = ("the matrix-free generalized eigenvalue 2/λ_max(C⁻¹D) on range(H), the Brent root of "
                 "λ_max(ηD − 2C) and the sign change of ρ of the enumerated E[(I−ηĤ)⊗²] agree to 1e-8")
    falsifier = "relative disagreement above 1e-8 or ρ(enumerated) not crossing 1 at η*"
    examples = Sizes(12, 100)
    keys = (Key("max_rel_diff", "rel_diff", "max", part="generated", tolerance={"atol": 1e-9}),)
    summary = "{verdict}: max relative difference {max_rel_diff:.2g} over {examples} instances"
    c_scale: float = KRONECKER_SUM_SCALE
    rtol: float = 1e-8

    def strategy(self, ctx: RunContext) -> Any:
        return _hessian_instances((1, 4), (1, 3))

    def check(self, inst: Any, ctx: RunContext) -> Case:
        P, B, s = instance_problem(inst), inst["batch"], inst["sampling"]
        p = maths.sampling.sampling_factor(P.n, B, s)
        e_mf = numerics.stability.critical_rate(P, p, rtol=1e-12, c_scale=self.c_scale)
        e_root = numerics.stability.critical_rate_bisection(P, p, rtol=1e-12)
        rel = abs(e_mf / e_root - 1)
        # the enumerated operator must change sign of ρ − 1 across η* (range block only)
        step = 1e-6
        lo = numerics.stability.kth_moment_radius(P, e_mf * (1 - step), B, s, 2)
        hi = numerics.stability.kth_moment_radius(P, e_mf * (1 + step), B, s, 2)
        ok = rel <= self.rtol and lo <= 1 + SLACK and hi > 1
        return Case(instance_name(inst), Verdict.pass_if(ok),
                    measured={"eta_closed_form": e_mf, "eta_root": e_root, "rel_diff": rel,
                              "rho_enum_below": lo, "rho_enum_above": hi},
                    tolerance={"rtol": self.rtol}, margin=self.rtol - rel,
                    note=f"η* = {e_mf:.12g} vs root {e_root:.12g}; ρ_enum crosses 1: {lo <= 1 + SLACK < hi}")

    def figures(self, checked: Checked) -> list[Figure]:
        rows = [[c.name, table_cell(c.measured["eta_closed_form"]), table_cell(c.measured["eta_root"]),
                 table_cell(c.measured["rel_diff"])] for c in checked.cases("generated")[:20]]
        return [Figure("table", "η*(B): closed form vs root of ρ = 1",
                       annotations={"columns": ["instance", "closed form", "root", "rel. diff"], "rows": rows})]

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        return {}


# --------------------------------------------------------------------------- 4–5. batch size


@register
@dataclass(frozen=True, kw_only=True)
class BatchMonotone(StabilityProperty):
    id = "stability.batch-monotone"
    statement_kind = "theorem"
    title = "η*(B) is non-decreasing in B and never exceeds GD's 2/λ_max"
    source = f"{MULAYOFF_MICHAELI}, Prop. 1; Thm. 1 (mean stability ⇒ η* ≤ 2/λ_max)"
    statement = "for B = 1..n and both samplings: η*(B) ≤ η*(B+1) and η*(B) ≤ 2/λ_max(H)"
    falsifier = "a decrease of η* with B, or η*(B) > 2/λ_max, beyond rounding"
    tags = ("stability", "sgd", "batch", "hypothesis")
    examples = Sizes(12, 100)
    summary = "{verdict}: η*(B) monotone and ≤ 2/λ_max on {examples} instances"
    batch_factor: str = "published"

    def _etas(self, P: Any, sampling: str) -> list[float]:
        return [numerics.stability.critical_rate(P, batch_factor(self.batch_factor, P.n, B, sampling), rtol=1e-12)
                for B in range(1, P.n + 1)]

    def strategy(self, ctx: RunContext) -> Any:
        return _hessian_instances((2, 6), (1, 3))

    def check(self, inst: Any, ctx: RunContext) -> Case:
        P = instance_problem(inst)
        gd = maths.stability.gd_rate(P)
        etas = {}
        margin = math.inf
        for s in maths.sampling.SAMPLINGS:
            e = self._etas(P, s)
            drops = [e[i] - e[i + 1] * (1 + SLACK) for i in range(len(e) - 1)]
            margin = min(margin, -max(drops, default=-math.inf), gd * (1 + SLACK) - max(e))
            etas[s] = e
        ok = margin >= 0
        return Case(instance_name(inst), Verdict.pass_if(ok),
                    measured={f"eta_{s}": v for s, v in etas.items()}, expected={"gd_threshold": gd},
                    margin=margin, note="monotone and ≤ 2/λ_max" if ok else "η*(B) decreases or exceeds GD")

    def evaluate(self, ctx: RunContext) -> Evidence:
        checked = self.run_properties(ctx)
        # one fixed instance drawn as the figure: η*(B) for both samplings against 2/λ_max
        X = np.random.default_rng(ctx.seed).standard_normal((8, 3))
        P = maths.stability.problem_from_features(X)
        batches = list(range(1, 9))
        checked.figures.append(Figure("curve", "η*(B) for a fixed 8×3 feature matrix", "batch size B", "η*",
                                      series=[Series(f"η*(B), {s} replacement", batches, self._etas(P, s), "line")
                                              for s in maths.sampling.SAMPLINGS],
                                      annotations={"hline": maths.stability.gd_rate(P),
                                                   "hline_label": "2/λ_max (GD)"}))
        return self.assemble(checked)


@register
@dataclass(frozen=True, kw_only=True)
class FullBatchLimit(StabilityProperty):
    id = "stability.full-batch-limit"
    statement_kind = "theorem"
    title = "Without replacement, η*(B = n) = 2/λ_max(H) (GD)"
    source = f"{MULAYOFF_MICHAELI}, App. I (Thm. 3 recovers GD at B = n); p = (n−B)/(B(n−1)) = 0"
    statement = "η*(n, without replacement) equals 2/λ_max(H) to 1e-9 relative"
    falsifier = "a relative gap above 1e-9"
    tags = ("stability", "gd", "batch", "hypothesis")
    examples = Sizes(15, 120)
    summary = "{verdict}: η*(n, without) = 2/λ_max on {examples} instances"
    batch_factor: str = "published"

    def strategy(self, ctx: RunContext) -> Any:
        return _hessian_instances((2, 6), (1, 3))

    def check(self, inst: Any, ctx: RunContext) -> Case:
        P = instance_problem(inst)
        e = numerics.stability.critical_rate(P, batch_factor(self.batch_factor, P.n, P.n, "without"), rtol=1e-12)
        gd = maths.stability.gd_rate(P)
        rel = abs(e / gd - 1)
        return Case(instance_name({**inst, "batch": P.n, "sampling": "without"}),
                    Verdict.pass_if(rel <= SLACK), measured={"eta_star": e},
                    expected={"gd_threshold": gd}, tolerance={"rtol": SLACK}, margin=SLACK - rel,
                    note=f"η*(n)·λ_max/2 − 1 = {e / gd - 1:.3g}")


# --------------------------------------------------------------------------- 6–9. published conditions


@register
@dataclass(frozen=True, kw_only=True)
class WuMaESufficient(ConditionClaim):
    id = "stability.wu-ma-e-sufficient"
    statement_kind = "theorem"
    title = "Wu–Ma–E: λ_max{(I−ηH)² + η²pΣ} ≤ 1 is sufficient for linear stability"
    source = WU_MA_E
    statement = "the largest η meeting λ_max{(I−ηH)² + η²pΣ} ≤ 1 is ≤ η*(B) (with p for either sampling)"
    falsifier = "an instance where the condition holds at some η > η*"
    tags = ("stability", "sgd", "wu-ma-e", "hypothesis")
    conditions = {"wu_ma_e_sufficient": "sufficient"}
    summary_what = "sufficient condition vs exact η*"
    noise_factor: float = 1.0

    def threshold(self, name: str, P: Any, batch: int, sampling: str) -> float:
        p = self.noise_factor * maths.sampling.sampling_factor(P.n, batch, sampling)
        return maths.stability.wu_ma_e_sufficient_rate(P, p)


#: Shrunk by Hypothesis (seed 20211, full run): stable at η* although s·η*·√p = 1.0106 > 1.
WME_COUNTEREXAMPLE = ((-0.061623, -0.748871), (0.670839, -0.329571), (1.039389, -1.083924))


@register
@dataclass(frozen=True, kw_only=True)
class WuMaENecessary(ConditionClaim):
    id = "stability.wu-ma-e-necessary"
    statement_kind = "theorem"
    expect = "finding"
    title = ("Wu–Ma–E: stability needs 0 ≤ a ≤ 2/η and 0 ≤ s ≤ (1/η)·√(1/p) (√B/η with, √(B(n−1)/(n−B))/η "
             "without)")
    source = WU_MA_E
    statement = "at every stable η (in particular η*): a·η ≤ 2 and s·η·√p ≤ 1, for both samplings"
    falsifier = "an instance with s·η*·√p > 1 (or a·η* > 2): stable although the condition fails"
    tags = ("stability", "sgd", "wu-ma-e", "hypothesis")
    conditions = {"sharpness": "necessary", "nonuniformity": "necessary"}
    summary_what = "necessary conditions vs exact η*"
    s_factor: float = 1.0
    a_factor: float = STABILITY_CONSTANT

    def threshold(self, name: str, P: Any, batch: int, sampling: str) -> float:
        if name == "sharpness":
            return maths.stability.gd_rate(P, self.a_factor)
        p = maths.sampling.sampling_factor(P.n, batch, sampling)
        return maths.stability.wu_ma_e_nonuniformity_rate(P, p, self.s_factor)

    def pinned(self) -> tuple[Any, ...]:
        X = np.array(WME_COUNTEREXAMPLE)
        return ({"hessians": np.einsum("ni,nj->nij", X, X), "features": X, "batch": 1, "sampling": "with"},)


@register
@dataclass(frozen=True, kw_only=True)
class MulayoffNecessary(ConditionClaim):
    id = "stability.mulayoff-michaeli-necessary"
    statement_kind = "theorem"
    title = "Mulayoff–Michaeli Prop. 3: two closed-form upper bounds on η*"
    source = f"{MULAYOFF_MICHAELI}, Prop. 3, eqs. 15 and 16"
    statement = ("η* ≤ 2λ_max/(λ_max² + p·mean(v_maxᵀHᵢv_max − λ_max)²) and "
                 "η* ≤ 2 Tr H/((1−p)‖H‖_F² + p·mean‖Hᵢ‖_F²)")
    falsifier = "η* above either bound"
    conditions = {"eq15": "necessary", "eq16": "necessary"}
    summary_what = "Prop. 3 bounds vs exact η*"
    p_scale: float = 1.0

    def threshold(self, name: str, P: Any, batch: int, sampling: str) -> float:
        p = min(1.0, self.p_scale * maths.sampling.sampling_factor(P.n, batch, sampling))
        if name == "eq15":
            return maths.stability.mulayoff_michaeli_eq15_rate(P, p)
        return maths.stability.mulayoff_michaeli_eq16_rate(P, p)


@register
@dataclass(frozen=True, kw_only=True)
class MaYingFlatness(ConditionClaim):
    id = "stability.ma-ying-flatness"
    statement_kind = "theorem"
    title = "Ma–Ying: linear stability bounds flatness Tr H and mean‖gᵢ‖⁴ through η and B"
    source = MA_YING_STABILITY
    statement = ("square loss at interpolation (Hᵢ = gᵢgᵢᵀ): at every second-order stable η, "
                 "Tr H ≤ c/(ηp) and (mean‖gᵢ‖⁴)^{1/2} ≤ c/(ηp) with c = 2 (p = 1/B with replacement)")
    falsifier = "an instance with Tr H > c/(η*p) or (mean‖gᵢ‖⁴)^{1/2} > c/(η*p)"
    tags = ("stability", "sgd", "ma-ying", "flatness", "hypothesis")
    conditions = {"flatness": "necessary", "grad_moment4": "necessary"}
    summary_what = "square-loss instances"
    constant: float = FLATNESS_CONSTANT

    def strategy(self, ctx: RunContext) -> Any:
        return _feature_instances((1, 6), (1, 3))

    def threshold(self, name: str, P: Any, batch: int, sampling: str) -> float:
        p = maths.sampling.sampling_factor(P.n, batch, sampling)
        if name == "flatness":
            return maths.stability.flatness_rate(P, p, self.constant)
        return maths.stability.gradient_moment_rate(P, p, self.constant)


@register
@dataclass(frozen=True, kw_only=True)
class KthOrderStability(StabilityProperty):
    id = "stability.kth-order"
    statement_kind = "extrapolation"
    title = "Fourth-order linear stability (E‖θ−θ*‖⁴ bounded): η*₄ ≤ η*₂ and the k = 4 moment bound"
    source = f"{MA_YING_STABILITY}; moments by exact enumeration of batches"
    statement = ("η*₄ ≤ η*₂ ≤ 2/λ_max, and at η*₄ the per-sample gradient moments obey "
                 "(mean‖gᵢ‖⁸)^{1/4} ≤ c/(η*₄ p), c = 2 (the k-th order form is a conjecture tested here)")
    falsifier = "η*₄ > η*₂, or (mean‖gᵢ‖⁸)^{1/4} > c/(η*₄ p)"
    tags = ("stability", "sgd", "ma-ying", "higher-moments", "hypothesis")
    examples = Sizes(8, 60)
    keys = (Key("min_ratio", "ratio", "min", part="generated"),
            Key("min_bound_slack", "bound_over_moment", "min", part="generated"))
    summary = ("{verdict}: η*₄/η*₂ ∈ [{min_ratio:.4g}, {max_ratio:.4g}], bound/moment ≥ {min_bound_slack:.4g} "
               "({examples} instances)")
    constant: float = FLATNESS_CONSTANT
    k: int = 4

    def strategy(self, ctx: RunContext) -> Any:
        return _feature_instances((1, 4), (1, 2))

    def check(self, inst: Any, ctx: RunContext) -> Case:
        k = self.k
        P, B, s = instance_problem(inst), inst["batch"], inst["sampling"]
        p = maths.sampling.sampling_factor(P.n, B, s)
        e2 = numerics.stability.critical_rate(P, p, rtol=1e-12)
        ek = numerics.stability.critical_rate_kth(P, B, s, k)
        mom = float(np.mean(maths.stability.gradient_sq_norms(P) ** k)) ** (1 / k)
        bound = math.inf if p == 0 else self.constant / (ek * p)
        order_margin = e2 * (1 + SLACK) - ek
        bound_margin = bound / mom - (1 - SLACK)
        bad = []
        if order_margin < 0:
            bad.append(f"η*_{k} = {ek:.6g} > η*₂ = {e2:.6g}")
        if bound_margin < 0:
            bad.append(f"moment bound violated: (mean‖g‖^{2 * k})^(1/{k}) = {mom:.6g} > {bound:.6g}")
        return Case(instance_name(inst), Verdict.pass_if(not bad),
                    measured={"eta2": e2, f"eta{k}": ek, "ratio": ek / e2, "moment": mom, "bound": bound,
                              "bound_over_moment": bound / mom},
                    margin=min(order_margin / e2, bound_margin), note="; ".join(bad) or "holds")

    def figures(self, checked: Checked) -> list[Figure]:
        k = self.k
        rows = [[c.name] + [table_cell(c.measured[m]) for m in ("eta2", f"eta{k}", "ratio", "bound_over_moment")]
                for c in checked.cases("generated")[:20]]
        return [Figure("table", f"η*₂ and η*_{k} (exact enumeration)",
                       annotations={"columns": ["instance", "η*₂", f"η*_{k}", "ratio", "bound/moment"],
                                    "rows": rows})]

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        return {}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        ratios = checked.values("ratio", "generated")
        return self.summary.format(verdict=verdict, min_ratio=key["min_ratio"],
                                   max_ratio=max(ratios, default=math.nan), min_bound_slack=key["min_bound_slack"],
                                   examples=checked.examples)


# --------------------------------------------------------------------------- 10. Monte Carlo


@register
@dataclass(frozen=True, kw_only=True)
class MonteCarloGrowth(Claim):
    id = "stability.monte-carlo"
    statement_kind = "derived"
    title = "Simulated linearised SGD: the growth rate of E[θₜᵀM*θₜ] brackets the exact ρ"
    source = f"{MULAYOFF_MICHAELI}, Thm. 6 (PSD dominant eigenmatrix); Ma & Ying Thm. 1"
    statement = ("for η = 0.9η* and 1.05η*, the 99% CI of (mean θₜᵀM*θₜ / Tr M*)^{1/t} over many seeds "
                 "contains the predicted ρ (M* the top eigenmatrix of the predicted Q)")
    falsifier = "a CI excluding the predicted ρ (Bonferroni over the cases)"
    tags = ("stability", "sgd", "monte-carlo", "statistics")
    #: (n, d, B, sampling) of the simulated problems.
    configs: ClassVar[Sizes] = Sizes([(5, 3, 2, "with"), (5, 3, 2, "without")],
                                     [(5, 3, 2, "with"), (5, 3, 2, "without"), (6, 2, 1, "with"),
                                      (6, 2, 3, "without")])
    paths: ClassVar[Sizes] = Sizes(100_000, 400_000)
    summary = "{verdict}: {passed}/{cases} CIs contain ρ ({paths} paths, 4 steps)"
    batch_factor: str = "published"
    eta2_coefficient: float = 1.0
    confidence: float = 0.99
    max_rel_width: float = 0.2

    def _predicted(self, P: Any, eta: float, B: int, s: str) -> tuple[float, Any]:
        p = batch_factor(self.batch_factor, P.n, B, s)
        rho, Z = numerics.eigen.top_eigenpair(
            lambda X: maths.stability.apply_second_moment(P, X, eta, p, self.eta2_coefficient), P.rank, tol=1e-12,
            which="LM")
        Z = Z / np.linalg.norm(Z)
        Z = -Z if np.trace(Z) < 0 else Z
        return abs(rho), P.basis @ Z @ P.basis.T

    def evaluate(self, ctx: RunContext) -> Evidence:
        rng = np.random.default_rng(ctx.seed)
        configs, paths = self.configs.pick(ctx), self.paths.pick(ctx)
        conf = 1 - (1 - self.confidence) / (2 * len(configs))  # Bonferroni over the cases
        cases: list[Case] = []
        xs: list[int] = []
        rhos: list[float] = []
        lows: list[float] = []
        highs: list[float] = []
        for j, (n, d, B, s) in enumerate(configs):
            P = maths.stability.problem_from_features(rng.standard_normal((n, d)))
            e = numerics.stability.critical_rate(P, maths.sampling.sampling_factor(n, B, s), rtol=1e-12)
            for f in (0.9, 1.05):
                rho, M = self._predicted(P, f * e, B, s)
                mc = numerics.stability.monte_carlo_growth(P, f * e, B, s, M, steps=4, paths=paths,
                                                           seed=ctx.seed + 10 * j + int(f > 1), confidence=conf)
                lo, hi = mc.ci
                width = (hi - lo) / mc.rate
                if lo <= rho <= hi:
                    v = Verdict.PASS if width <= self.max_rel_width else Verdict.INCONCLUSIVE
                else:
                    v = Verdict.FAIL
                cases.append(Case(f"n={n} d={d} B={B} {s}, η = {f}η*", v,
                                  measured={"rate": mc.rate, "ci_low": lo, "ci_high": hi},
                                  expected={"rho": rho}, tolerance={"confidence": conf},
                                  margin=min(rho - lo, hi - rho) / rho,
                                  note=(f"ρ = {rho:.5f}, MC {mc.rate:.5f} [{lo:.5f}, {hi:.5f}]" +
                                        ("" if v is not Verdict.INCONCLUSIVE else
                                         f" (CI wider than {self.max_rel_width:.0%} of the estimate)"))))
                xs.append(len(xs) + 1)
                rhos.append(rho)
                lows.append(lo)
                highs.append(hi)
        fig = Figure("curve", "Monte Carlo growth-rate CI vs exact ρ", "case", "growth rate per step",
                     series=[Series("exact ρ", xs, rhos, "points"), Series("MC CI low", xs, lows, "dashed"),
                             Series("MC CI high", xs, highs, "dashed")],
                     annotations={"hline": 1.0, "hline_label": "ρ = 1"})
        checked = Checked(parts={"cases": cases}, figures=[fig],
                          extra={"passed": sum(c.verdict is Verdict.PASS for c in cases), "paths": paths})
        checked.settings.update({"paths": paths, "confidence_per_case": conf})
        return self.assemble(checked)

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        return {"cases": len(checked.cases())}


__all__ = ["BATCH_FACTORS", "BatchMonotone", "ClosedFormThreshold", "FullBatchLimit", "GdThreshold",
           "KthOrderStability", "MaYingFlatness", "MonteCarloGrowth", "MulayoffNecessary", "SecondMomentOperator",
           "StabilityProperty", "WME_COUNTEREXAMPLE", "WuMaENecessary", "WuMaESufficient", "batch_factor", "SLACK"]
