"""Claims about the linear stability of GD and SGD at an interpolating minimum.

Sources and what could be verified here
---------------------------------------
* Mulayoff & Michaeli, "Exact Mean Square Linear Stability Analysis for SGD",
  arXiv:2306.07850 (text read: the ICLR 2024 submission). Numbers used: eq. 10 (Q),
  Thm. 2 (= Ma & Ying Thm. 1 + Cor. 3: E‖θ−θ*‖² bounded ⇔ max over PSD Σ of
  ‖Q vec Σ‖/‖Σ‖ ≤ 1), Thm. 3 (η* = 2/λ_max(C⁺D), C = ½H⊕H, D = (1−p)H⊗H + p·mean Hᵢ⊗Hᵢ,
  p = (n−B)/(B(n−1))), Prop. 1 (η* non-decreasing in B), Prop. 3 (eqs. 15, 16),
  Thm. 6 (dominant eigenvector of Q is PSD).
* Wu, Ma & E, NeurIPS 2018 (Sec. 3): sharpness a = λ_max(H), non-uniformity
  s = λ_max(Σ)^{1/2}, Σ = mean Hᵢ² − H² (as in the authors' code, leiwu0/sgd.stability,
  ``eigen_variance``); the *sufficient* condition λ_max{(I−ηH)² + η²(n−B)/(B(n−1))Σ} ≤ 1
  (called "an implicit sufficient condition" by Mulayoff & Michaeli Sec. 5) and the
  conditions 0 ≤ a ≤ 2/η, 0 ≤ s ≤ (1/η)√(B(n−1)/(n−B)) (≈ √B/η) derived from it. The
  paper's full text was not retrievable here: theorem numbers are NOT verified.
* Ma & Ying, NeurIPS 2021 (arXiv:2105.13462): flatness (Tr H) and moments of per-sample
  gradients bounded through η and B by (k-th order) linear stability. The theorem text was
  not retrievable: we check the form Tr H ≤ 2/(ηp) (= 2B/η with replacement) and
  mean‖gᵢ‖^{2k} ≤ (2/(ηp))^k, which is what DESIGN.md summarises; for k = 2 both follow from
  Mulayoff & Michaeli eq. 16 + Jensen, for k = 4 the form is a conjecture of this summary.

Verdict conventions. A condition is turned into a threshold η_c (the largest η at which it
holds, :func:`theorycheck.maths.stability.published_conditions`). Necessary ⇔ η_c ≥ η* on every
instance; sufficient ⇔ η_c ≤ η*; tight ⇔ η_c/η* = 1 on some instance. η* is computed on
these small instances densely (rounding-level accuracy), so comparisons use a relative
slack of ``SLACK`` = 1e-9 for rounding only.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
from hypothesis import strategies as st

from theorycheck.properties.runner import check_property, outcome_evidence
from theorycheck.properties.strategies import feature_matrices, per_sample_hessians, stability_instances
from theorycheck.maths import stability as S
from theorycheck.claims import Claim, RunContext, register
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict, combine

SLACK = 1e-9
MM = "Mulayoff & Michaeli, arXiv:2306.07850"
WME = "Wu, Ma & E, NeurIPS 2018, Sec. 3 (theorem number not verified)"
MY = "Ma & Ying, NeurIPS 2021 (arXiv:2105.13462), Sec. 4 (statement form not verified)"

BatchFactor = Callable[[int, int, str], float]


def published_factor(n: int, batch: int, sampling: str) -> float:
    return S.sampling_factor(n, batch, sampling)


def describe(ex: dict[str, Any]) -> dict[str, Any]:
    """A counterexample as JSON: the Hessians (rounded) or features, batch and sampling."""
    out = {"batch": ex["batch"], "sampling": ex["sampling"], "n": int(ex["hessians"].shape[0]),
           "d": int(ex["hessians"].shape[1])}
    if ex.get("features") is not None:
        out["features"] = np.round(ex["features"], 6).tolist()
    else:
        out["hessians"] = np.round(ex["hessians"], 6).tolist()
    return out


def _problem(ex: dict[str, Any]) -> S.StabilityProblem:
    return S.problem_from_features(ex["features"]) if ex.get("features") is not None \
        else S.problem_from_hessians(ex["hessians"])


def _examples(ctx: RunContext, quick: int = 15, full: int = 120) -> int:
    return quick if ctx.quick else full


def _cell(x: Any) -> Any:
    """A table cell that survives the JSON round trip (annotations keep "inf" as a string)."""
    if isinstance(x, str):
        return x
    v = float(x)
    return v if math.isfinite(v) else str(v)


def _name(ex: dict[str, Any]) -> str:
    n, d = ex["hessians"].shape[:2]
    src = "features" if ex.get("features") is not None else "hessians"
    return f"{src} n={n} d={d} B={ex['batch']} {ex['sampling']}"


# --------------------------------------------------------------------------- 1. GD


@register
class GdThreshold(Claim):
    id = "stability.gd-threshold"
    title = "GD is linearly stable iff η ≤ 2/λ_max(H)"
    source = f"classical; {MM}, Thm. 1 and App. I (B = n recovers GD)"
    statement = "ρ of the GD second-moment map (I−ηH)⊗(I−ηH) is ≤ 1 for η ≤ 2/λ_max and > 1 beyond"
    falsifier = "ρ > 1 just below the threshold, or ρ ≤ 1 just above it"
    tags = ("stability", "gd", "hypothesis")

    def __init__(self, threshold_factor: float = 2.0, rel_step: float = 1e-6):
        self.threshold_factor, self.rel_step = threshold_factor, rel_step

    def _run_impl(self, ctx: RunContext) -> Evidence:
        def check(Hs: np.ndarray) -> Case:
            P = S.problem_from_hessians(Hs)
            thr = self.threshold_factor / P.lam[0]
            below = S.radius(P, thr * (1 - self.rel_step), 0.0)
            above = S.radius(P, thr * (1 + self.rel_step), 0.0)
            ok = below <= 1 + SLACK and above > 1 + SLACK * 0
            return Case(f"n={Hs.shape[0]} d={Hs.shape[1]}", Verdict.PASS if ok else Verdict.FAIL,
                        measured={"rho_below": below, "rho_above": above, "lambda_max": P.lam[0]},
                        expected={"threshold": thr}, tolerance={"rel_step": self.rel_step},
                        margin=min(1 + SLACK - below, above - 1),
                        note=f"ρ(η⁻) = {below:.12g}, ρ(η⁺) = {above:.12g} at η = {self.threshold_factor}/λ_max")

        out = check_property("gd-threshold", per_sample_hessians(n=st.integers(1, 4), d=st.integers(1, 4)), check,
                             max_examples=_examples(ctx, 20, 150), seed=ctx.seed)
        ev = outcome_evidence(out, f"{out.verdict}: ρ crosses 1 at {self.threshold_factor}/λ_max on "
                                   f"{out.examples_tried} instances", lambda H: np.round(H, 6).tolist())
        ev.key = {"examples": out.examples_tried}
        ev.settings = {"threshold_factor": self.threshold_factor}
        return ev


# --------------------------------------------------------------------------- 2. the operator itself


@register
class SecondMomentOperator(Claim):
    id = "stability.second-moment-operator"
    title = "E[ĤMĤ] = HMH + p(mean HᵢMHᵢ − HMH), p = 1/B (with) or (n−B)/(B(n−1)) (without)"
    source = f"Ma & Ying, NeurIPS 2021, Thm. 1; {MM}, eq. 10"
    statement = ("the closed-form second-moment map M ↦ M − η(HM+MH) + η²E[ĤMĤ] equals E[(I−ηĤ)M(I−ηĤ)] "
                 "computed by enumerating every batch")
    falsifier = "any entry of the two d²×d² matrices differing beyond rounding"
    tags = ("stability", "sgd", "operator", "hypothesis")

    def __init__(self, batch_factor: BatchFactor = published_factor, eta2_coefficient: float = 1.0):
        self.batch_factor, self.eta2_coefficient = batch_factor, eta2_coefficient

    def _run_impl(self, ctx: RunContext) -> Evidence:
        def check(ex: tuple[dict[str, Any], float]) -> Case:
            inst, c = ex
            Hs, B, s = inst["hessians"], inst["batch"], inst["sampling"]
            n, d, _ = Hs.shape
            eta = c * 2 / np.linalg.eigvalsh(Hs.mean(0))[-1]
            p = self.batch_factor(n, B, s)
            H = Hs.mean(0)
            I = np.eye(d)
            D = (1 - p) * np.kron(H, H) + p * sum(np.kron(h, h) for h in Hs) / n
            Q = np.eye(d * d) - eta * (np.kron(H, I) + np.kron(I, H)) + self.eta2_coefficient * eta**2 * D
            T = S.moment_operator(Hs, eta, B, s, 2)
            err = float(np.abs(Q - T).max())
            tol = 1e-12 * max(1.0, float(np.abs(T).max()))
            return Case(_name(inst), Verdict.PASS if err <= tol else Verdict.FAIL, measured={"max_abs_diff": err},
                        tolerance={"abs": tol}, margin=tol - err, note=f"max |Q − E[(I−ηĤ)⊗(I−ηĤ)]| = {err:.3g}")

        strat = st.tuples(stability_instances(per_sample_hessians(n=st.integers(1, 5), d=st.integers(1, 3))),
                          st.floats(0.05, 1.0))
        out = check_property("second-moment-operator", strat, check, max_examples=_examples(ctx, 20, 150),
                             seed=ctx.seed)
        worst = out.worst()
        ev = outcome_evidence(out, f"{out.verdict}: closed form vs batch enumeration, worst diff "
                                   f"{worst.measured['max_abs_diff'] if worst else math.nan:.2g} "
                                   f"({out.examples_tried} instances)", lambda x: {**describe(x[0]), "c": x[1]})
        ev.key = {"examples": out.examples_tried}
        ev.settings = {"eta2_coefficient": self.eta2_coefficient}
        return ev


# --------------------------------------------------------------------------- 3. closed form


@register
class ClosedFormThreshold(Claim):
    id = "stability.closed-form"
    title = "η*(B) = 2/λ_max(C⁺D), C = ½(H⊕H) (matrix-free) equals the root of ρ(Q(η)) = 1"
    source = f"{MM}, Thm. 3 (Ma & Ying Thm. 1 + Cor. 3 in closed form)"
    statement = ("the matrix-free generalized eigenvalue 2/λ_max(C⁻¹D) on range(H), the Brent root of "
                 "λ_max(ηD − 2C) and the sign change of ρ of the enumerated E[(I−ηĤ)⊗²] agree to 1e-8")
    falsifier = "relative disagreement above 1e-8 or ρ(enumerated) not crossing 1 at η*"
    tags = ("stability", "sgd", "hypothesis")

    def __init__(self, c_scale: float = 0.5, rtol: float = 1e-8):
        self.c_scale, self.rtol = c_scale, rtol

    def _run_impl(self, ctx: RunContext) -> Evidence:
        table: list[list[Any]] = []

        def check(inst: dict[str, Any]) -> Case:
            P, B, s = _problem(inst), inst["batch"], inst["sampling"]
            p = S.sampling_factor(P.n, B, s)
            e_mf = S.critical_rate(P, p, rtol=1e-12, c_scale=self.c_scale)
            e_root = S.critical_rate_bisection(P, p, rtol=1e-12)
            rel = abs(e_mf / e_root - 1)
            # the enumerated operator must change sign of ρ − 1 across η* (range block only)
            step = 1e-6
            lo = S.kth_moment_radius(P, e_mf * (1 - step), B, s, 2)
            hi = S.kth_moment_radius(P, e_mf * (1 + step), B, s, 2)
            ok = rel <= self.rtol and lo <= 1 + SLACK and hi > 1
            table.append([_name(inst), _cell(e_mf), _cell(e_root), _cell(rel)])
            return Case(_name(inst), Verdict.PASS if ok else Verdict.FAIL,
                        measured={"eta_closed_form": e_mf, "eta_root": e_root, "rel_diff": rel,
                                  "rho_enum_below": lo, "rho_enum_above": hi},
                        tolerance={"rtol": self.rtol}, margin=self.rtol - rel,
                        note=f"η* = {e_mf:.12g} vs root {e_root:.12g}; ρ_enum crosses 1: {lo <= 1 + SLACK < hi}")

        strat = stability_instances(per_sample_hessians(n=st.integers(1, 4), d=st.integers(1, 3)))
        out = check_property("closed-form", strat, check, max_examples=_examples(ctx, 12, 100), seed=ctx.seed)
        rels = [c.measured["rel_diff"] for c in out.cases]
        ev = outcome_evidence(out, f"{out.verdict}: max relative difference {max(rels, default=math.nan):.2g} "
                                   f"over {out.examples_tried} instances", describe)
        ev.figures = [Figure("table", "η*(B): closed form vs root of ρ = 1",
                             annotations={"columns": ["instance", "closed form", "root", "rel. diff"],
                                          "rows": table[:20]})]
        ev.key = {"max_rel_diff": max(rels, default=math.nan)}
        ev.key_tolerance = {"max_rel_diff": {"atol": 1e-9}}
        ev.settings = {"c_scale": self.c_scale}
        return ev


# --------------------------------------------------------------------------- 4–5. batch size


@register
class BatchMonotone(Claim):
    id = "stability.batch-monotone"
    title = "η*(B) is non-decreasing in B and never exceeds GD's 2/λ_max"
    source = f"{MM}, Prop. 1; Thm. 1 (mean stability ⇒ η* ≤ 2/λ_max)"
    statement = "for B = 1..n and both samplings: η*(B) ≤ η*(B+1) and η*(B) ≤ 2/λ_max(H)"
    falsifier = "a decrease of η* with B, or η*(B) > 2/λ_max, beyond rounding"
    tags = ("stability", "sgd", "batch", "hypothesis")

    def __init__(self, batch_factor: BatchFactor = published_factor):
        self.batch_factor = batch_factor

    def _etas(self, P: S.StabilityProblem, sampling: str) -> list[float]:
        return [S.critical_rate(P, self.batch_factor(P.n, B, sampling), rtol=1e-12) for B in range(1, P.n + 1)]

    def _run_impl(self, ctx: RunContext) -> Evidence:
        def check(inst: dict[str, Any]) -> Case:
            P = _problem(inst)
            gd = 2 / P.lam[0]
            cases = {}
            margin = math.inf
            for s in S.SAMPLINGS:
                e = self._etas(P, s)
                drops = [e[i] - e[i + 1] * (1 + SLACK) for i in range(len(e) - 1)]
                margin = min(margin, -max(drops, default=-math.inf), gd * (1 + SLACK) - max(e))
                cases[s] = e
            ok = margin >= 0
            return Case(_name(inst), Verdict.PASS if ok else Verdict.FAIL,
                        measured={f"eta_{s}": v for s, v in cases.items()}, expected={"gd_threshold": gd},
                        margin=margin, note="monotone and ≤ 2/λ_max" if ok else "η*(B) decreases or exceeds GD")

        strat = stability_instances(per_sample_hessians(n=st.integers(2, 6), d=st.integers(1, 3)))
        out = check_property("batch-monotone", strat, check, max_examples=_examples(ctx, 12, 100), seed=ctx.seed)
        ev = outcome_evidence(out, f"{out.verdict}: η*(B) monotone and ≤ 2/λ_max on {out.examples_tried} instances",
                              describe)
        # one fixed instance drawn as the figure: η*(B) for both samplings against 2/λ_max
        X = np.random.default_rng(ctx.seed).standard_normal((8, 3))
        P = S.problem_from_features(X)
        Bs = list(range(1, 9))
        ev.figures = [Figure("curve", "η*(B) for a fixed 8×3 feature matrix", "batch size B", "η*",
                             series=[Series(f"η*(B), {s} replacement", Bs, self._etas(P, s), "line")
                                     for s in S.SAMPLINGS],
                             annotations={"hline": 2 / P.lam[0], "hline_label": "2/λ_max (GD)"})]
        ev.key = {"examples": out.examples_tried}
        return ev


@register
class FullBatchLimit(Claim):
    id = "stability.full-batch-limit"
    title = "Without replacement, η*(B = n) = 2/λ_max(H) (GD)"
    source = f"{MM}, App. I (Thm. 3 recovers GD at B = n); p = (n−B)/(B(n−1)) = 0"
    statement = "η*(n, without replacement) equals 2/λ_max(H) to 1e-9 relative"
    falsifier = "a relative gap above 1e-9"
    tags = ("stability", "gd", "batch", "hypothesis")

    def __init__(self, batch_factor: BatchFactor = published_factor):
        self.batch_factor = batch_factor

    def _run_impl(self, ctx: RunContext) -> Evidence:
        def check(inst: dict[str, Any]) -> Case:
            P = _problem(inst)
            e = S.critical_rate(P, self.batch_factor(P.n, P.n, "without"), rtol=1e-12)
            gd = 2 / P.lam[0]
            rel = abs(e / gd - 1)
            return Case(_name({**inst, "batch": P.n, "sampling": "without"}),
                        Verdict.PASS if rel <= SLACK else Verdict.FAIL, measured={"eta_star": e},
                        expected={"gd_threshold": gd}, tolerance={"rtol": SLACK}, margin=SLACK - rel,
                        note=f"η*(n)·λ_max/2 − 1 = {e / gd - 1:.3g}")

        strat = stability_instances(per_sample_hessians(n=st.integers(2, 6), d=st.integers(1, 3)))
        out = check_property("full-batch-limit", strat, check, max_examples=_examples(ctx, 15, 120), seed=ctx.seed)
        ev = outcome_evidence(out, f"{out.verdict}: η*(n, without) = 2/λ_max on {out.examples_tried} instances",
                              describe)
        ev.key = {"examples": out.examples_tried}
        return ev


# --------------------------------------------------------------------------- 6–9. published conditions


def _condition_study(claim_id: str, ctx: RunContext, names: list[str], kinds: dict[str, str],
                     threshold: Callable[[str, S.StabilityProblem, int, str], float], strat, summary_what: str,
                     pinned: tuple[dict[str, Any], ...] = ()) -> Evidence:
    """Check conditions given as thresholds η_c against η*: necessary ⇔ η_c ≥ η*, sufficient ⇔ η_c ≤ η*."""
    ratios: dict[str, list[float]] = {k: [] for k in names}

    def check(inst: dict[str, Any]) -> Case:
        P, B, s = _problem(inst), inst["batch"], inst["sampling"]
        e = S.critical_rate(P, S.sampling_factor(P.n, B, s), rtol=1e-12)
        measured: dict[str, float] = {"eta_star": e}
        margins = []
        for k in names:
            thr = threshold(k, P, B, s)
            r = thr / e
            measured[f"{k}_ratio"] = r
            ratios[k].append(r)
            margins.append(r - (1 - SLACK) if kinds[k] == "necessary" else (1 + SLACK) - r)
        m = min(margins)
        bad = [k for k, mg in zip(names, margins) if mg < 0]
        return Case(_name(inst), Verdict.PASS if not bad else Verdict.FAIL, measured=measured,
                    expected={k: f"threshold/η* {'≥' if kinds[k] == 'necessary' else '≤'} 1" for k in names},
                    tolerance={"rel": SLACK}, margin=m,
                    note="holds" if not bad else "violated: " + ", ".join(
                        f"{k} (η_c/η* = {measured[k + '_ratio']:.6g}, claimed {kinds[k]})" for k in bad))

    out = check_property(claim_id, strat, check, max_examples=_examples(ctx, 15, 150), seed=ctx.seed)
    # pinned instances (like Hypothesis' @example): earlier shrunk counterexamples stay checked every run
    for inst in pinned:
        case = check(inst)
        case.name = "pinned: " + case.name
        out.cases.append(case)
        if case.verdict is Verdict.FAIL and out.counterexample is None:
            out.counterexample = (inst, case)
    ev = outcome_evidence(out, "", describe)
    status = {}
    every = list(out.cases) + ([out.counterexample[1]] if out.counterexample else [])
    for k in names:
        rs = [c.measured[f"{k}_ratio"] for c in every if f"{k}_ratio" in c.measured]
        if not rs:
            continue
        lo, hi = min(rs), max(rs)
        nec, suf = lo >= 1 - SLACK, hi <= 1 + SLACK
        tight = min(abs(r - 1) for r in rs) <= 1e-7
        status[k] = {"claimed": kinds[k], "min_ratio": _cell(lo), "max_ratio": _cell(hi),
                     "verdict": ("necessary" if nec else "NOT necessary") + ", " +
                                ("sufficient" if suf else "not sufficient") + (", tight" if tight else "")}
    ev.summary = f"{ev.verdict}: " + "; ".join(
        f"{k}: {v['verdict']} (η_c/η* ∈ [{float(v['min_ratio']):.4g}, {float(v['max_ratio']):.4g}])" for k, v in status.items()) \
        + f" — {summary_what}, {out.examples_tried} instances"
    ev.key = {f"{k}_min_ratio": float(v["min_ratio"]) for k, v in status.items()}
    ev.key.update({f"{k}_max_ratio": float(v["max_ratio"]) for k, v in status.items()})
    ev.settings = {"status": status}
    if ev.counterexample is not None:
        ev.reason = f"smallest counterexample: {ev.counterexample['note']}"
    return ev


def _instances(features_only: bool = False):
    if features_only:
        return stability_instances(feature_matrices(n=st.integers(1, 6), d=st.integers(1, 3)).map(
            lambda X: np.einsum("ni,nj->nij", X, X)))
    return stability_instances(per_sample_hessians(n=st.integers(1, 5), d=st.integers(1, 3)))


@register
class WuMaESufficient(Claim):
    id = "stability.wu-ma-e-sufficient"
    title = "Wu–Ma–E: λ_max{(I−ηH)² + η²pΣ} ≤ 1 is sufficient for linear stability"
    source = WME
    statement = "the largest η meeting λ_max{(I−ηH)² + η²pΣ} ≤ 1 is ≤ η*(B) (with p for either sampling)"
    falsifier = "an instance where the condition holds at some η > η*"
    tags = ("stability", "sgd", "wu-ma-e", "hypothesis")

    def __init__(self, noise_factor: float = 1.0):
        self.noise_factor = noise_factor

    def _run_impl(self, ctx: RunContext) -> Evidence:
        def thr(_k: str, P: S.StabilityProblem, B: int, s: str) -> float:
            return S.wu_ma_e_sufficient_rate(P, self.noise_factor * S.sampling_factor(P.n, B, s))

        ev = _condition_study(self.id, ctx, ["wu_ma_e_sufficient"], {"wu_ma_e_sufficient": "sufficient"}, thr,
                              stability_instances(), "sufficient condition vs exact η*")
        ev.settings["noise_factor"] = self.noise_factor
        return ev


# Shrunk by Hypothesis (seed 20211, full run): stable at η* although s·η*·√p = 1.0106 > 1.
_X_CE = np.array([[-0.061623, -0.748871], [0.670839, -0.329571], [1.039389, -1.083924]])
WME_PINNED = ({"hessians": np.einsum("ni,nj->nij", _X_CE, _X_CE), "features": _X_CE, "batch": 1, "sampling": "with"},)


@register
class WuMaENecessary(Claim):
    id = "stability.wu-ma-e-necessary"
    title = "Wu–Ma–E: stability needs 0 ≤ a ≤ 2/η and 0 ≤ s ≤ (1/η)·√(1/p) (√B/η with, √(B(n−1)/(n−B))/η without)"
    source = WME
    statement = "at every stable η (in particular η*): a·η ≤ 2 and s·η·√p ≤ 1, for both samplings"
    falsifier = "an instance with s·η*·√p > 1 (or a·η* > 2): stable although the condition fails"
    tags = ("stability", "sgd", "wu-ma-e", "hypothesis")

    def __init__(self, s_factor: float = 1.0, a_factor: float = 2.0):
        self.s_factor, self.a_factor = s_factor, a_factor

    def _run_impl(self, ctx: RunContext) -> Evidence:
        def thr(k: str, P: S.StabilityProblem, B: int, s: str) -> float:
            if k == "sharpness":
                return self.a_factor / P.lam[0]
            sv, p = S.non_uniformity(P), S.sampling_factor(P.n, B, s)
            return math.inf if sv * p == 0 else self.s_factor / (sv * math.sqrt(p))

        ev = _condition_study(self.id, ctx, ["sharpness", "nonuniformity"],
                              {"sharpness": "necessary", "nonuniformity": "necessary"}, thr,
                              stability_instances(), "necessary conditions vs exact η*", pinned=WME_PINNED)
        ev.settings.update({"s_factor": self.s_factor, "a_factor": self.a_factor})
        return ev


@register
class MulayoffNecessary(Claim):
    id = "stability.mulayoff-michaeli-necessary"
    title = "Mulayoff–Michaeli Prop. 3: two closed-form upper bounds on η*"
    source = f"{MM}, Prop. 3, eqs. 15 and 16"
    statement = ("η* ≤ 2λ_max/(λ_max² + p·mean(v_maxᵀHᵢv_max − λ_max)²) and "
                 "η* ≤ 2 Tr H/((1−p)‖H‖_F² + p·mean‖Hᵢ‖_F²)")
    falsifier = "η* above either bound"
    tags = ("stability", "sgd", "hypothesis")

    def __init__(self, p_scale: float = 1.0):
        self.p_scale = p_scale

    def _run_impl(self, ctx: RunContext) -> Evidence:
        def thr(k: str, P: S.StabilityProblem, B: int, s: str) -> float:
            p = min(1.0, self.p_scale * S.sampling_factor(P.n, B, s))
            a, Hs = P.lam[0], P.hessians()
            if k == "eq15":
                return 2 * a / (a**2 + p * float(np.mean((Hs[:, 0, 0] - a) ** 2)))
            fro = np.einsum("nab,nab->n", Hs, Hs)
            return 2 * float(P.lam.sum()) / ((1 - p) * float(np.sum(P.lam**2)) + p * float(fro.mean()))

        ev = _condition_study(self.id, ctx, ["eq15", "eq16"], {"eq15": "necessary", "eq16": "necessary"}, thr,
                              stability_instances(), "Prop. 3 bounds vs exact η*")
        ev.settings["p_scale"] = self.p_scale
        return ev


@register
class MaYingFlatness(Claim):
    id = "stability.ma-ying-flatness"
    title = "Ma–Ying: linear stability bounds flatness Tr H and mean‖gᵢ‖⁴ through η and B"
    source = MY
    statement = ("square loss at interpolation (Hᵢ = gᵢgᵢᵀ): at every second-order stable η, "
                 "Tr H ≤ c/(ηp) and (mean‖gᵢ‖⁴)^{1/2} ≤ c/(ηp) with c = 2 (p = 1/B with replacement)")
    falsifier = "an instance with Tr H > c/(η*p) or (mean‖gᵢ‖⁴)^{1/2} > c/(η*p)"
    tags = ("stability", "sgd", "ma-ying", "flatness", "hypothesis")

    def __init__(self, constant: float = 2.0):
        self.constant = constant

    def _run_impl(self, ctx: RunContext) -> Evidence:
        def thr(k: str, P: S.StabilityProblem, B: int, s: str) -> float:
            p = S.sampling_factor(P.n, B, s)
            if p == 0:
                return math.inf
            g2 = np.einsum("nrk,nrk->n", P.factors, P.factors)  # ‖gᵢ‖²
            q = float(P.lam.sum()) if k == "flatness" else float(np.sqrt(np.mean(g2**2)))
            return self.constant / (p * q)

        ev = _condition_study(self.id, ctx, ["flatness", "grad_moment4"],
                              {"flatness": "necessary", "grad_moment4": "necessary"}, thr,
                              _instances(features_only=True), "square-loss instances")
        ev.settings["constant"] = self.constant
        return ev


@register
class KthOrderStability(Claim):
    id = "stability.kth-order"
    title = "Fourth-order linear stability (E‖θ−θ*‖⁴ bounded): η*₄ ≤ η*₂ and the k = 4 moment bound"
    source = f"{MY}; moments by exact enumeration of batches"
    statement = ("η*₄ ≤ η*₂ ≤ 2/λ_max, and at η*₄ the per-sample gradient moments obey "
                 "(mean‖gᵢ‖⁸)^{1/4} ≤ c/(η*₄ p), c = 2 (form as summarised in DESIGN.md)")
    falsifier = "η*₄ > η*₂, or (mean‖gᵢ‖⁸)^{1/4} > c/(η*₄ p)"
    tags = ("stability", "sgd", "ma-ying", "higher-moments", "hypothesis")

    def __init__(self, constant: float = 2.0, k: int = 4):
        self.constant, self.k = constant, k

    def _run_impl(self, ctx: RunContext) -> Evidence:
        k = self.k
        rows: list[list[Any]] = []

        def check(inst: dict[str, Any]) -> Case:
            P, B, s = _problem(inst), inst["batch"], inst["sampling"]
            p = S.sampling_factor(P.n, B, s)
            e2 = S.critical_rate(P, p, rtol=1e-12)
            ek = S.critical_rate_kth(P, B, s, k)
            g2 = np.einsum("nrk,nrk->n", P.factors, P.factors)
            mom = float(np.mean(g2**k)) ** (1 / k)
            bound = math.inf if p == 0 else self.constant / (ek * p)
            order_margin = e2 * (1 + SLACK) - ek
            bound_margin = bound / mom - (1 - SLACK)
            rows.append([_name(inst), _cell(e2), _cell(ek), _cell(ek / e2), _cell(bound / mom)])
            bad = []
            if order_margin < 0:
                bad.append(f"η*_{k} = {ek:.6g} > η*₂ = {e2:.6g}")
            if bound_margin < 0:
                bad.append(f"moment bound violated: (mean‖g‖^{2 * k})^(1/{k}) = {mom:.6g} > {bound:.6g}")
            return Case(_name(inst), Verdict.FAIL if bad else Verdict.PASS,
                        measured={"eta2": e2, f"eta{k}": ek, "ratio": ek / e2, "moment": mom, "bound": bound},
                        margin=min(order_margin / e2, bound_margin), note="; ".join(bad) or "holds")

        strat = stability_instances(feature_matrices(n=st.integers(1, 4), d=st.integers(1, 2)).map(
            lambda X: np.einsum("ni,nj->nij", X, X)))
        out = check_property("kth-order", strat, check, max_examples=_examples(ctx, 8, 60), seed=ctx.seed)
        ratios = [c.measured["ratio"] for c in out.cases]
        slack = [c.measured["bound"] / c.measured["moment"] for c in out.cases]
        ev = outcome_evidence(out, f"{out.verdict}: η*₄/η*₂ ∈ [{min(ratios, default=math.nan):.4g}, "
                                   f"{max(ratios, default=math.nan):.4g}], bound/moment ≥ "
                                   f"{min(slack, default=math.nan):.4g} ({out.examples_tried} instances)", describe)
        ev.figures = [Figure("table", f"η*₂ and η*_{k} (exact enumeration)",
                             annotations={"columns": ["instance", "η*₂", f"η*_{k}", "ratio", "bound/moment"],
                                          "rows": rows[:20]})]
        ev.key = {"min_ratio": min(ratios, default=math.nan), "min_bound_slack": min(slack, default=math.nan)}
        ev.settings = {"k": k, "constant": self.constant}
        return ev


# --------------------------------------------------------------------------- 10. Monte Carlo


@register
class MonteCarloGrowth(Claim):
    id = "stability.monte-carlo"
    title = "Simulated linearised SGD: the growth rate of E[θₜᵀM*θₜ] brackets the exact ρ"
    source = f"{MM}, Thm. 6 (PSD dominant eigenmatrix); Ma & Ying Thm. 1"
    statement = ("for η = 0.9η* and 1.05η*, the 99% CI of (mean θₜᵀM*θₜ / Tr M*)^{1/t} over many seeds "
                 "contains the predicted ρ (M* the top eigenmatrix of the predicted Q)")
    falsifier = "a CI excluding the predicted ρ (Bonferroni over the cases)"
    tags = ("stability", "sgd", "monte-carlo", "statistics")

    def __init__(self, batch_factor: BatchFactor = published_factor, eta2_coefficient: float = 1.0,
                 confidence: float = 0.99, max_rel_width: float = 0.2):
        self.batch_factor, self.eta2_coefficient = batch_factor, eta2_coefficient
        self.confidence, self.max_rel_width = confidence, max_rel_width

    def _predicted(self, P: S.StabilityProblem, eta: float, B: int, s: str) -> tuple[float, np.ndarray]:
        p = self.batch_factor(P.n, B, s)
        rho, Z = S._top_eig(lambda X: S.apply_second_moment(P, X, eta, p, self.eta2_coefficient), P.rank,
                            tol=1e-12, which="LM")
        Z = Z / np.linalg.norm(Z)
        Z = -Z if np.trace(Z) < 0 else Z
        return abs(rho), P.basis @ Z @ P.basis.T

    def _run_impl(self, ctx: RunContext) -> Evidence:
        rng = np.random.default_rng(ctx.seed)
        configs = [(5, 3, 2, "with"), (5, 3, 2, "without")] + ([] if ctx.quick else [(6, 2, 1, "with"),
                                                                                   (6, 2, 3, "without")])
        paths = 100_000 if ctx.quick else 400_000
        ncase = 2 * len(configs)
        conf = 1 - (1 - self.confidence) / ncase  # Bonferroni
        cases, series_x, series_y, series_lo, series_hi = [], [], [], [], []
        for j, (n, d, B, s) in enumerate(configs):
            X = rng.standard_normal((n, d))
            P = S.problem_from_features(X)
            e = S.critical_rate(P, S.sampling_factor(n, B, s), rtol=1e-12)
            for f in (0.9, 1.05):
                rho, M = self._predicted(P, f * e, B, s)
                mc = S.monte_carlo_growth(P, f * e, B, s, M, steps=4, paths=paths, seed=ctx.seed + 10 * j + int(f > 1),
                                          confidence=conf)
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
                                        ("" if v is not Verdict.INCONCLUSIVE else " (CI too wide to decide)"))))
                series_x.append(len(series_x) + 1)
                series_y.append(rho)
                series_lo.append(lo)
                series_hi.append(hi)
        fig = Figure("curve", "Monte Carlo growth-rate CI vs exact ρ", "case", "growth rate per step",
                     series=[Series("exact ρ", series_x, series_y, "points"),
                             Series("MC CI low", series_x, series_lo, "dashed"),
                             Series("MC CI high", series_x, series_hi, "dashed")],
                     annotations={"hline": 1.0, "hline_label": "ρ = 1"})
        ev = Evidence.from_cases(self.id, cases, figures=[fig], summary=(
            f"{combine(c.verdict for c in cases)}: {sum(c.verdict is Verdict.PASS for c in cases)}/{len(cases)} "
            f"CIs contain ρ ({paths} paths, 4 steps)"))
        ev.key = {"cases": len(cases)}
        ev.settings = {"paths": paths, "confidence_per_case": conf, "eta2_coefficient": self.eta2_coefficient}
        if ev.verdict is Verdict.INCONCLUSIVE:
            ev.reason = f"a CI wider than {self.max_rel_width:.0%} of the estimate"
        return ev
