"""Claims of implicit regularisation beyond GD's order: explicit GR, SGD's modified loss, momentum, IGR's predictions.

Sources
-------
* Barrett & Dherin, "Implicit Gradient Regularization", ICLR 2021
  (arXiv:2009.11162): Theorem 3.1 (modified loss L + (h/4)‖∇L‖²), Sec. 4
  (explicit gradient regularisation), and the four predictions listed in the
  seed ``000`` (numbered 1-4 there; the paper's own numbering not verified).
* Smith, Dherin, Barrett & De, "On the Origin of Implicit Regularization in
  Stochastic Gradient Descent", ICLR 2021 (arXiv:2101.12176), Sec. 2.
* Ghosh, Lyu, Zhang & Wang, "Implicit regularization in Heavy-ball momentum
  accelerated stochastic gradient descent", ICLR 2023 (arXiv:2302.00849).
* Kovachki & Stuart, "Continuous Time Analysis of Momentum Methods", JMLR 22
  (2021); Hairer, Lubich & Wanner, GNI, ch. IX and XV.

Every constant a mutant would change is a constructor argument.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Callable, Sequence

import mpmath
import numpy as np
import sympy as sp
from scipy import stats

from theorycheck.maths import explicit_gr as EG
from theorycheck.numerics import experiments as IP
from theorycheck.maths import lie as LIE
from theorycheck.maths import sgd_modified as SM
from theorycheck.claims import Claim, RunContext, register
from theorycheck.claims.backward_error import curvature, exact_point, step_ladder
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict, combine
from theorycheck.maths.losses import ZOO, ZOO_POINTS, Loss
from theorycheck.maths.optimisers import gd
from theorycheck.numerics.order import OrderStudy, fit_order, local_error_study

BD = "Barrett & Dherin, Implicit Gradient Regularization, ICLR 2021 (arXiv:2009.11162)"
SMITH = ("Smith, Dherin, Barrett & De, On the Origin of Implicit Regularization in Stochastic Gradient Descent, "
         "ICLR 2021 (arXiv:2101.12176), Sec. 2: for SGD with random shuffling, E[θ_m] = θ(mh) + O(m³h³) with θ(t) the "
         "flow of L̃_SGD = L + (h/4m)Σ_k‖∇L̂_k‖² (their Eq. (1) as recalled; equation number not verified with the "
         "search tool, which returned only the abstract)")
GHOSH = ("Ghosh, Lyu, Zhang & Wang, Implicit regularization in Heavy-ball momentum accelerated SGD, ICLR 2023 "
         "(arXiv:2302.00849), main theorem as summarised in the abstract: the implicit regulariser of GD+M is "
         "(1+β)/(1−β) times that of GD (theorem number and exact normalisation not verified)")
KS = ("Kovachki & Stuart, Continuous Time Analysis of Momentum Methods, JMLR 22 (2021) (invariant manifold); "
      "Hairer, Lubich & Wanner, GNI, ch. XV.2 (underlying one-step method of a two-step scheme)")
PREDICTIONS = (f"{BD}, the four predicted properties of IGR (seed 000, items 1-4; Sec. 3 of the paper, numbering "
               "not verified)")

THETA0 = (Fraction(7, 10), Fraction(1, 2))


def _same(a: Sequence[sp.Expr], b: Sequence[sp.Expr]) -> bool:
    """Exact equality of two component lists.

    ``expand`` decides most cases; what it leaves is first evaluated at three
    rational points with 50 digits (a nonzero value proves inequality, and
    ``simplify`` on a true mismatch of tanh expressions can take minutes), and
    only a numerically-zero difference goes to ``simplify``.
    """
    for x, y in zip(a, b):
        d = sp.expand(x - y)
        if d == 0:
            continue
        syms = sorted(d.free_symbols, key=str)
        for pt in ((sp.Rational(3, 7), sp.Rational(-2, 5), sp.Rational(1, 3)), (sp.Rational(5, 4), sp.Rational(1, 9), sp.Rational(2, 3)),
                   (sp.Rational(-1, 6), sp.Rational(7, 8), sp.Rational(1, 5))):
            val = d.subs({s: pt[i % 3] for i, s in enumerate(syms)}).evalf(50)
            if abs(val) > sp.Float("1e-30"):
                return False
        if sp.simplify(d) != 0:
            return False
    return True


def _frac(x: Any) -> Fraction:
    return Fraction(str(x)) if not isinstance(x, (Fraction, int)) else Fraction(x)


def _order_curve(title: str, xs: Sequence[float], studies: Sequence[OrderStudy], label: str, vline: float | None
                 ) -> Figure:
    ann: dict[str, Any] = {}
    if vline is not None:
        ann["vline"] = vline
    return Figure(kind="curve", title=title, xlabel=label, ylabel="measured local order",
                  series=[Series("measured order", list(xs), [s.order if s.order is not None else math.nan
                                                              for s in studies], "points"),
                          Series("expected order", list(xs), [s.expected_order for s in studies], "dashed")],
                  annotations=ann)


def _summary_orders(cases: Sequence[Case]) -> str:
    orders = [c.measured.get("order") for c in cases if c.measured.get("order") is not None]
    return ", ".join(f"{c.name}: {c.measured['order']:.3f}" for c in cases if c.measured.get("order") is not None) \
        if orders else "no order measured"


# ======================================================================================
# explicit gradient regularisation
# ======================================================================================
@register
class EGRCoefficientScan(Claim):
    id = "implicit.egr-coefficient-scan"
    title = "GD tracks the flow of L + μ‖∇L‖² to higher order only at μ = h/4"
    source = f"{BD}, Theorem 3.1 and Sec. 4 (explicit gradient regularisation)"
    statement = ("For μ = c·h, one GD step of rate h differs from the time-h flow of L + μ‖∇L‖² by O(h³) when c = 1/4 "
                 "and by O(h²) (the plain-flow order) for every other c; the flow field −(g + 2μHg) equals the IGR "
                 "field and GD's first-order modified field exactly.")
    falsifier = "A local order other than 3 at c = 1/4, an order above 2 for c ≠ 1/4, or a symbolic mismatch."
    tags = ("implicit", "explicit-gr", "order")

    def __init__(self, coefficient: Any = EG.IGR_C, scan: Sequence[Any] | None = None,
                 losses: Sequence[str] | None = None) -> None:
        self.coefficient = _frac(coefficient)
        self.scan = None if scan is None else [_frac(c) for c in scan]
        self.losses = losses

    def _run_impl(self, ctx: RunContext) -> Evidence:
        names = self.losses or (("rosenbrock",) if ctx.quick else ("quadratic", "rosenbrock", "logistic", "tiny_net"))
        scan = self.scan or ([Fraction(0), Fraction(1, 4), Fraction(1, 2)] if ctx.quick else
                             [Fraction(k, 8) for k in range(5)])
        cases, figures = [], []
        at_c: list[float] = []
        for name in names:
            loss = ZOO[name]
            theta0 = exact_point(loss, ZOO_POINTS[name])
            same = EG.matches_igr_field(loss)
            cases.append(Case(f"{name}: −(g + ½hHg) = igr_field = modified_field(·,1)", Verdict.PASS if same else
                              Verdict.FAIL, measured={"identical": same}, expected={"identical": True},
                              note="exact symbolic comparison of the three constructions"))
            ladder = step_ladder(loss, theta0)
            studies = []
            for c in scan:
                expected = 3 if c == self.coefficient else 2
                st = local_error_study(gd(loss), EG.egr_rate_field(loss, c), theta0, ladder, expected_order=expected)
                studies.append(st)
                cases.append(st.to_case(f"{name}, μ = {c}·h"))
                if c == EG.IGR_C and st.order is not None:
                    at_c.append(st.order)
            figures.append(_order_curve(f"{name}: local order of GD against the flow of L + c·h‖∇L‖²",
                                        [float(c) for c in scan], studies, "c (μ = c·h)", float(self.coefficient)))
            quarter = [s for c, s in zip(scan, studies) if c == EG.IGR_C]
            if quarter:
                figures.append(quarter[0].figure(f"{name}: GD vs flow of L + (h/4)‖∇L‖²"))
        others = [c.measured["order"] for c in cases if c.measured.get("order") is not None and "1/4·h" not in c.name]
        key = {"order_at_quarter": min(at_c) if at_c else None, "max_order_elsewhere": max(others) if others else None}
        summary = (f"order at μ=h/4: {', '.join(f'{o:.3f}' for o in at_c)}; elsewhere ≤ "
                   f"{max(others):.3f}" if at_c and others else _summary_orders(cases))
        return Evidence.from_cases(self.id, cases, summary, figures=figures, key=key,
                                   settings={"scan": [str(c) for c in scan], "losses": list(names)})


@register
class EGRTwoLayerNet(Claim):
    id = "implicit.egr-two-layer-net"
    title = "Explicit GR with μ = h/4 raises GD's local order on a tanh network (float64)"
    source = f"{BD}, Theorem 3.1 and Sec. 4; check in float64 (scipy DOP853, complex-step Hessian-vector products)"
    statement = ("On a 2-input, 3-hidden-unit tanh network (P = 12), one GD step differs from the flow of "
                 "L + c·h‖∇L‖² by O(h³) at c = 1/4 and by O(h²) at c = 0 and c = 1/2.")
    falsifier = "A fitted local order off the expected one by more than the tolerance (0.2) with the interval excluding it."
    tags = ("implicit", "explicit-gr", "order", "nets")

    def __init__(self, coefficient: Any = EG.IGR_C, scan: Sequence[Any] = (0, Fraction(1, 4), Fraction(1, 2)),
                 seeds: int | None = None) -> None:
        self.coefficient = _frac(coefficient)
        self.scan = [_frac(c) for c in scan]
        self.seeds = seeds

    def _run_impl(self, ctx: RunContext) -> Evidence:
        n_seeds = self.seeds or (1 if ctx.quick else 3)
        cases, figures = [], []
        for s in range(n_seeds):
            prob, theta0 = EG.net_problem(ctx.seed + s)
            lam = EG.sharpness_at(prob, theta0)
            steps = EG.relative_steps(lam, 6)
            floor = EG.net_floor(theta0)
            studies = []
            for c in self.scan:
                errs = EG.net_local_errors(prob, theta0, steps, float(c))
                st = fit_order(steps, errs, expected_order=3 if c == self.coefficient else 2, floor=floor)
                st.kind, st.backend, st.against = "local", "scipy", f"egr(c={c})"
                studies.append(st)
                case = st.to_case(f"seed {ctx.seed + s}, μ = {c}·h")
                case.data["lambda_max"] = lam
                cases.append(case)
            figures.append(_order_curve(f"tanh net (seed {ctx.seed + s}): local order vs c", [float(c) for c in self.scan],
                                        studies, "c (μ = c·h)", float(self.coefficient)))
            figures.append(studies[self.scan.index(EG.IGR_C)].figure(
                f"tanh net (seed {ctx.seed + s}): GD vs flow of L + (h/4)‖∇L‖², float64") if EG.IGR_C in self.scan
                else studies[0].figure("tanh net"))
        quarter = [c.measured["order"] for c in cases if "1/4·h" in c.name and c.measured.get("order") is not None]
        return Evidence.from_cases(self.id, cases, f"order at μ=h/4: {', '.join(f'{o:.3f}' for o in quarter)}; "
                                   + _summary_orders([c for c in cases if "1/4·h" not in c.name]),
                                   figures=figures, key={"order_at_quarter": min(quarter) if quarter else None})


# ======================================================================================
# SGD's modified loss
# ======================================================================================
def _epoch_ladder(n: int = 6) -> list[Fraction]:
    """Epoch durations T = m·h: 1/2, 1/4, …"""
    return [Fraction(1, 2 ** (k + 1)) for k in range(n)]


@register
class SGDModifiedLossExact(Claim):
    id = "implicit.sgd-modified-loss-exact"
    title = "The mean SGD epoch over all batch orderings follows L + (h/4m)Σ‖∇L̂_k‖² to O(h³)"
    source = SMITH
    statement = ("Averaging one epoch of m mini-batch steps over all m! orderings gives a map whose distance to the "
                 "time-mh flow of L + (h/4m)Σ_k‖∇L̂_k‖² is O(h³) (local order 3), while the full-batch flow of L is "
                 "only O(h²) away.")
    falsifier = "Local order of the exact mean epoch against the modified flow not 3 (or against the plain flow not 2)."
    tags = ("implicit", "sgd", "order")

    def __init__(self, coefficient: Any = SM.SMITH_C, batch_power: int = 1, expected_order: float = 3,
                 instances: Sequence[tuple[int, int]] | None = None) -> None:
        self.coefficient = _frac(coefficient)
        self.batch_power = int(batch_power)
        self.expected_order = float(expected_order)
        self.instances = instances

    def _run_impl(self, ctx: RunContext) -> Evidence:
        inst = self.instances or ([(4, 1)] if ctx.quick else [(4, 1), (6, 2), (5, 1)])
        cases, figures = [], []
        for n, B in inst:
            bt = SM.Batches(SM.random_samples(n, ctx.seed + n), SM.consecutive_partition(n, B))
            step = SM.sgd_epoch_mean_map(bt)
            tag = f"n={n}, B={B}, m={bt.m}"
            st = local_error_study(step, SM.sgd_modified_field(bt, self.coefficient, self.batch_power), THETA0,
                                   _epoch_ladder(), expected_order=self.expected_order)
            cases.append(st.to_case(f"{tag}: mean epoch vs modified flow"))
            figures.append(st.figure(f"SGD ({tag}): mean over all {math.factorial(bt.m)} orderings vs L̃_SGD flow"))
            if not ctx.quick or (n, B) == inst[0]:
                base = local_error_study(step, SM.full_batch_flow(bt), THETA0, _epoch_ladder(), expected_order=2)
                cases.append(base.to_case(f"{tag}: mean epoch vs full-batch flow (contrast)"))
        main = [c.measured["order"] for c in cases if "modified flow" in c.name and c.measured.get("order") is not None]
        return Evidence.from_cases(self.id, cases, f"local order vs L̃_SGD flow: {', '.join(f'{o:.3f}' for o in main)} "
                                   f"(expected {self.expected_order:g}); x-axis is the epoch time T = m·h",
                                   figures=figures, key={"order_min": min(main) if main else None})


@register
class SGDModifiedLossSampled(Claim):
    id = "implicit.sgd-modified-loss-sampled"
    title = "SGD's modified loss with sampled orderings and random reshuffling"
    source = (f"{SMITH}; the expectation over random partitions of (1/m)Σ‖∇L̂_k − ∇L‖² is (n−B)/(B(n−1))·Γ, "
              "Γ = (1/n)Σ‖∇ℓᵢ − ∇L‖² (finite-population correction; Γ/B for B ≪ n as in Smith et al., Sec. 2)")
    statement = ("(a) For m = 8 batches, the mean epoch over reversal-paired sampled orderings has local order 3 "
                 "against the L̃_SGD flow (pair frequencies are exactly ½). (b) With unpaired random orderings the "
                 "sampled mean is only order-2 close to it at any finite sample size. (c) Over random partitions, "
                 "the regulariser's mean equals (n−B)/(B(n−1))·Γ.")
    falsifier = ("(a) order not 3, (b) order not 2, or (c) the closed form outside the Monte Carlo 99% interval.")
    tags = ("implicit", "sgd", "order", "monte-carlo")

    def __init__(self, coefficient: Any = SM.SMITH_C, sampling: str = "without", expected_order: float = 3,
                 pairs: int | None = None, draws: int | None = None, parts: Sequence[str] = ("a", "b", "c")) -> None:
        self.coefficient = _frac(coefficient)
        self.sampling = sampling
        self.expected_order = float(expected_order)
        self.pairs = pairs
        self.draws = draws
        self.parts = tuple(parts)

    def _run_impl(self, ctx: RunContext) -> Evidence:
        rng = np.random.default_rng(ctx.seed)
        pairs = self.pairs or (4 if ctx.quick else 16)
        n = 8
        bt = SM.Batches(SM.random_samples(n, ctx.seed + 100), SM.consecutive_partition(n, 1))
        orderings = SM.reversal_paired_orderings(bt.m, pairs, rng)
        iid = [tuple(int(i) for i in rng.permutation(bt.m)) for _ in range(2 * pairs)]
        field = SM.sgd_modified_field(bt, self.coefficient)
        cases, figures, key = [], [], {}
        parts = []
        if "a" in self.parts:
            st = local_error_study(SM.sampled_epoch_mean_map(bt, orderings), field, THETA0, _epoch_ladder(),
                                   expected_order=self.expected_order)
            case = st.to_case(f"(a) {2 * pairs} reversal-paired orderings (m=8) vs L̃_SGD flow")
            case.measured["pair_frequency_defect"] = SM.pair_frequency_defect(orderings)
            cases.append(case)
            figures.append(st.figure(f"SGD m=8: mean over {2 * pairs} reversal-paired orderings vs L̃_SGD flow"))
            key["paired_order"] = st.order
            parts.append(f"paired: order {st.order:.3f}" if st.order is not None else "paired: no order")
        if "b" in self.parts:
            st2 = local_error_study(SM.sampled_epoch_mean_map(bt, iid), field, THETA0, _epoch_ladder(8),
                                    expected_order=2)
            case2 = st2.to_case(f"(b) {2 * pairs} unpaired random orderings vs L̃_SGD flow")
            case2.measured["pair_frequency_defect"] = SM.pair_frequency_defect(iid)
            cases.append(case2)
            figures.append(st2.figure(f"SGD m=8: {2 * pairs} unpaired orderings vs L̃_SGD flow (order drops to 2)"))
            key["unpaired_order"] = st2.order
            parts.append(f"unpaired: order {st2.order:.3f}" if st2.order is not None else "unpaired: no order")
        if "c" in self.parts:
            c = self._reshuffling_case(ctx, figures)
            cases.append(c)
            key["reshuffle_ratio"] = c.measured["ratio_to_gamma"]
            parts.append(f"reshuffling E[reg]/Γ = {c.measured['ratio_to_gamma']:.4g} "
                         f"(predicted {c.expected['factor']:.4g})")
        return Evidence.from_cases(self.id, cases, "; ".join(parts), figures=figures, key=key)

    def _reshuffling_case(self, ctx: RunContext, figures: list[Figure]) -> Case:
        n, B = 12, 3
        draws = self.draws or (2000 if ctx.quick else 20000)
        samples = SM.random_samples(n, ctx.seed + 200)
        G = SM.per_sample_gradients(samples, [0.7, 0.5])
        gamma = float(((G - G.mean(0)) ** 2).sum(1).mean())
        reg = SM.partition_regularisers(G, B, draws, np.random.default_rng(ctx.seed + 201))
        lo, hi = (float(v) for v in stats.ttest_1samp(reg, 0.0).confidence_interval(0.99))
        predicted = SM.reshuffling_factor(n, B, self.sampling) * gamma
        ok = lo <= predicted <= hi
        figures.append(Figure(kind="bar", title=f"E over partitions of (1/m)Σ‖∇L̂_k − ∇L‖² (n={n}, B={B})",
                              ylabel="regulariser excess", series=[
                                  Series("Monte Carlo mean", ["MC"], [float(reg.mean())]),
                                  Series("(n−B)/(B(n−1))·Γ", ["MC"], [SM.reshuffling_factor(n, B) * gamma]),
                                  Series("Γ/B (i.i.d. batches)", ["MC"], [gamma / B])],
                              annotations={"ci99": [lo, hi]}))
        return Case(f"(c) reshuffling factor, n={n}, B={B}, {draws} partitions",
                    Verdict.PASS if ok else Verdict.FAIL,
                    measured={"mc_mean": float(reg.mean()), "ci99_lo": lo, "ci99_hi": hi,
                              "ratio_to_gamma": float(reg.mean()) / gamma},
                    expected={"value": predicted, "factor": SM.reshuffling_factor(n, B, self.sampling),
                              "sampling": self.sampling},
                    margin=min(predicted - lo, hi - predicted) / gamma,
                    note=f"closed form {'inside' if ok else 'outside'} the 99% t interval [{lo:.4g}, {hi:.4g}]")


# ======================================================================================
# the derivative-free route and momentum
# ======================================================================================
@register
class LieLogSeries(Claim):
    id = "implicit.lie-log-series"
    title = "log(1+Δ) on GD's orbit reproduces the Taylor-matched modified field"
    source = (f"{BD}, Sec. 2 and DESIGN.md (h·f̃ = log(1+Δ), Lie series); Hairer, Lubich & Wanner, GNI, ch. IX "
              "(modified field by Taylor matching, implemented in theorycheck.maths.modified)")
    statement = ("With K forward differences of the GD orbit, (1/h)Σ_{k≤K}(−1)^{k+1}Δ^kθ/k differs from the "
                 "Taylor-matched modified field truncated after h^{K−1} by O(h^K) (no derivatives used); on a "
                 "quadratic loss the two agree exactly.")
    falsifier = "A fitted order of the difference other than K."
    tags = ("implicit", "lie", "order")

    def __init__(self, terms: Sequence[int] = (2, 3), offset: int = 0, log_coefficients: Sequence[Any] | None = None,
                 losses: Sequence[str] | None = None, dps: int = 50) -> None:
        self.terms = tuple(int(k) for k in terms)
        self.offset = int(offset)
        self.log_coefficients = log_coefficients
        self.losses = losses
        self.dps = int(dps)

    def _run_impl(self, ctx: RunContext) -> Evidence:
        from theorycheck.maths.modified import modified_field

        names = self.losses or (("rosenbrock",) if ctx.quick else ("quadratic", "rosenbrock", "logistic", "trig"))
        cases, figures = [], []
        for name in names:
            loss = ZOO[name]
            theta0 = exact_point(loss, ZOO_POINTS[name])
            ladder = step_ladder(loss, theta0, 6)
            step = gd(loss)
            for K in self.terms:
                ref = modified_field(loss, K - 1 + self.offset)
                errs = []
                with mpmath.workdps(self.dps):
                    th = [mpmath.mpf(x.numerator) / x.denominator for x in theta0]
                    for h in ladder:
                        hh = mpmath.mpf(h.numerator) / h.denominator
                        num = LIE.log_series_field(step, th, hh, K, self.log_coefficients)
                        errs.append(mpmath.sqrt(sum((a - b) ** 2 for a, b in zip(num, ref.mpmath(th, hh)))))
                    # rounding of the orbit (10^-dps) is amplified by 2^K/h in the differences
                    floor = mpmath.mpf(10) ** (3 - self.dps) * 2**K / (mpmath.mpf(ladder[-1].numerator) / ladder[-1].denominator)
                if loss.polynomial_degree == 2:
                    # GD on a quadratic is linear: K terms of log(1+Δ) equal the modified series through h^{K−1}
                    # term by term, so the difference is rounding only (an exact identity, not an order)
                    worst = max(errs)
                    ok = worst <= floor
                    cases.append(Case(f"{name}: K={K} differences vs modified:{K - 1 + self.offset} (linear map: exact)",
                                      Verdict.PASS if ok else Verdict.FAIL,
                                      measured={"max_difference": float(worst)}, expected={"max_difference": 0.0},
                                      tolerance={"floor": float(floor)}, margin=float(floor - worst),
                                      note="identical up to rounding" if ok else "differs beyond rounding"))
                    continue
                st = fit_order(ladder, errs, expected_order=K, floor=floor)
                st.kind, st.backend, st.digits, st.against = "lie", "mpmath", self.dps, ref.name
                cases.append(st.to_case(f"{name}: K={K} differences vs modified:{K - 1 + self.offset}"))
                figures.append(st.figure(f"{name}: log(1+Δ) with K={K} vs Taylor-matched field"))
        return Evidence.from_cases(self.id, cases, _summary_orders(cases), figures=figures,
                                   key={"orders": [c.measured.get("order") for c in cases]})


def _hb_ladder(loss: Loss, theta0: Sequence[Any], beta: Fraction, n: int) -> list[Fraction]:
    """Powers of two with h·λ_max ≤ (1 − √β)²/2 (the slow manifold is real) and N·h ≤ 2.

    N is the transient of the 30-digit shooting (:func:`theorycheck.maths.lie.transient_steps`);
    θ₀'s upstream start must stay within a time of order one, and the stiffest
    direction must not be contracted by more than ≈ e^{−2}, for Newton to invert the run.
    """
    lam = max(curvature(loss, theta0), 1e-3)
    N = LIE.transient_steps(float(beta), 35)
    # the run from θ_s contracts the stiffest direction by ≈ e^{−λNh/(1−β)}: θ_s lies e^{λNh/(1−β)} times
    # farther off the slow valley than θ₀, so keep the exponent ≲ 2 (else Newton chases a far-away start)
    top = min(LIE.slow_manifold_limit(beta) / 2 / lam, 2 / N, 2 * (1 - float(beta)) / (lam * N))
    m = max(4, math.ceil(-math.log2(top)))
    return [Fraction(1, 2 ** (m + i)) for i in range(n)]


@register
class HeavyBallModifiedEquation(Claim):
    id = "implicit.heavy-ball-modified-equation"
    title = "Heavy-ball momentum's modified equation on the slow manifold"
    source = f"{GHOSH}; {KS}"
    statement = ("On the attracting slow manifold, heavy ball θ⁺ = θ − h∇L + β(θ − θ⁻) follows "
                 "ẏ = −(1/(1−β))∇[L + κ·h/(4(1−β))‖∇L‖²] with κ = (1+β)/(1−β) to local order 3 (the plain "
                 "rescaled flow −∇L/(1−β) only to order 2); the series derived from the two-step form reduces to "
                 "GD's exactly at β = 0; log(1+Δ) on the θ-orbit reproduces it without derivatives.")
    falsifier = ("A symbolic mismatch, or a fitted local order off its expected value (3 for the κ-form, 2 for the "
                 "plain flow, K for the derivative-free difference).")
    tags = ("implicit", "momentum", "lie", "order")

    def __init__(self, beta: Any = Fraction(1, 2), kappa: Any | None = None, expected_order: float = 3,
                 losses: Sequence[str] | None = None) -> None:
        self.beta = _frac(beta)
        self.kappa = kappa
        self.expected_order = float(expected_order)
        self.losses = losses

    def _run_impl(self, ctx: RunContext) -> Evidence:
        from theorycheck.maths.modified import modified_terms

        names = self.losses or (("tiny_net",) if ctx.quick else ("tiny_net", "rosenbrock"))
        b = sp.Rational(self.beta.numerator, self.beta.denominator)
        cases, figures = [], []
        for name in names:
            loss = ZOO[name]
            theta0 = exact_point(loss, ZOO_POINTS[name])
            if not ctx.quick:
                same = all(_same(A, B) for A, B in zip(modified_terms(loss, 2), LIE.heavy_ball_terms(loss, 0, 2)))
                cases.append(Case(f"{name}: β=0 terms = GD's Taylor-matched terms (h⁰…h²)", Verdict.PASS if same else
                                  Verdict.FAIL, measured={"identical": same}, expected={"identical": True}))
            gh = LIE.ghosh_field(loss, b, self.kappa)
            hb1 = LIE.heavy_ball_field(loss, b, 1)
            same = _same(gh.components, hb1.components)
            cases.append(Case(f"{name}: closed form (κ={gh.meta['kappa']}) = F₀ + hF₁ of the two-step series",
                              Verdict.PASS if same else Verdict.FAIL, measured={"identical": same},
                              expected={"identical": True}, note=f"β = {b}"))
            ladder = _hb_ladder(loss, theta0, self.beta, 4 if ctx.quick else 5)
            step = LIE.heavy_ball_slow_map(loss, b)
            # the shooting that places θ0 on the manifold works at 30 digits (its fast-mode residual is 1e-30)
            st = local_error_study(step, gh, theta0, ladder, expected_order=self.expected_order, digits=30)
            cases.append(st.to_case(f"{name}: slow-manifold step vs closed-form flow (β={b})"))
            figures.append(st.figure(f"{name}: heavy ball (β={b}) on the slow manifold vs modified flow"))
            if not ctx.quick:
                st0 = local_error_study(step, LIE.heavy_ball_field(loss, b, 0), theta0, ladder, expected_order=2,
                                        digits=30)
                cases.append(st0.to_case(f"{name}: slow-manifold step vs rescaled flow −∇L/(1−β) (contrast)"))
                st2 = local_error_study(step, LIE.heavy_ball_field(loss, b, 2), theta0, ladder, expected_order=4,
                                        digits=30)
                cases.append(st2.to_case(f"{name}: slow-manifold step vs two-step series to h²"))
                cases.append(self._lie_case(loss, b, theta0, ladder, figures))
        main = [c.measured["order"] for c in cases if "closed-form flow" in c.name and c.measured.get("order") is not None]
        return Evidence.from_cases(self.id, cases, f"local order vs κ-form: {', '.join(f'{o:.3f}' for o in main)} "
                                   f"(β={b}); slow manifold real for hλ < {LIE.slow_manifold_limit(self.beta):.4f}",
                                   figures=figures, key={"order_min": min(main) if main else None,
                                                         "slow_manifold_limit": LIE.slow_manifold_limit(self.beta)})

    def _lie_case(self, loss: Loss, b: sp.Rational, theta0: Sequence[Any], ladder: Sequence[Fraction],
                  figures: list[Figure]) -> Case:
        K, dps = 3, 30
        ref = LIE.heavy_ball_field(loss, b, K - 1)
        errs = []
        with mpmath.workdps(dps):
            th = [mpmath.mpf(x.numerator) / x.denominator for x in theta0]
            for h in ladder:
                hh = mpmath.mpf(h.numerator) / h.denominator
                orb = LIE.heavy_ball_orbit(loss, b, th, hh, K)
                num = LIE.log_series_from_orbit(orb, hh, K)
                errs.append(mpmath.sqrt(sum((x - y) ** 2 for x, y in zip(num, ref.mpmath(th, hh)))))
            floor = mpmath.mpf(10) ** (3 - dps) * 2**K / (mpmath.mpf(ladder[-1].numerator) / ladder[-1].denominator)
        st = fit_order(ladder, errs, expected_order=K, floor=floor)
        st.kind, st.backend, st.digits = "lie", "mpmath", dps
        figures.append(st.figure(f"{loss.name}: log(1+Δ) on the heavy-ball θ-orbit vs two-step series"))
        return st.to_case(f"{loss.name}: derivative-free log(1+Δ), K={K}, vs series to h²")


# ======================================================================================
# the four predicted properties of IGR
# ======================================================================================
class _PropertyClaim(Claim):
    """One predicted property: paired experiments per rate regime, each a t-interval verdict on the mean effect."""

    prop: str = ""
    regimes: tuple[float, ...] = IP.RATE_REGIMES
    base: IP.Setup = IP.Setup()

    def __init__(self, direction: int = 1, min_effect: float = 0.0, seeds: int | None = None,
                 regimes: Sequence[float] | None = None) -> None:
        self.direction = int(direction)
        self.min_effect = float(min_effect)
        self.seeds = seeds
        if regimes is not None:
            self.regimes = tuple(float(r) for r in regimes)

    def _setup(self, ctx: RunContext, rate_fraction: float) -> IP.Setup:
        from dataclasses import replace

        seeds = self.seeds or (IP.QUICK_SEEDS if ctx.quick else self.base.seeds)
        return replace(self.base, seeds=seeds, rate_fraction=rate_fraction)

    def _run_impl(self, ctx: RunContext) -> Evidence:
        fn = IP.PROPERTIES[self.prop]
        cases, figures, results = [], [], []
        for rf in self.regimes:
            res = fn(self._setup(ctx, rf), seed=ctx.seed, direction=self.direction, min_effect=self.min_effect)
            results.append((rf, res))
            cases.append(self._case(rf, res))
            figures.append(self._scatter(rf, res))
        figures.append(Figure(kind="interval", title=f"{self.title}: mean effect and {int(100 * results[0][1].effect.confidence)}% CI",
                              ylabel=results[0][1].metric, series=[
                                  Series("mean effect", [f"hλ₀={rf:g}" for rf, _ in results], [r.effect.mean for _, r in results])],
                              annotations={"hline": 0.0, "hline_label": "no effect",
                                           "ci_low": [r.effect.ci[0] for _, r in results],
                                           "ci_high": [r.effect.ci[1] for _, r in results]}))
        summary = "; ".join(f"hλ₀={rf:g}: {r.effect.mean:+.3g} [{r.effect.ci[0]:+.3g}, {r.effect.ci[1]:+.3g}] "
                            f"{r.effect.verdict}" for rf, r in results)
        key = {f"effect_{rf:g}": r.effect.mean for rf, r in results}
        key.update({f"ci_lo_{rf:g}": r.effect.ci[0] for rf, r in results})
        return Evidence.from_cases(self.id, cases, summary, figures=figures, key=key,
                                   settings={"regimes": list(self.regimes), "seeds": results[0][1].effect.n})

    def _case(self, rf: float, res: IP.PropertyResult) -> Case:
        e = res.effect
        return Case(f"large rate h·λ_max(θ₀) = {rf:g}" + (" (moderate)" if rf <= 1 else " (near the stability edge 2)"),
                    e.verdict,
                    measured={"mean_effect": e.mean, "ci_lo": e.ci[0], "ci_hi": e.ci[1], "boot_lo": e.ci_bootstrap[0],
                              "boot_hi": e.ci_bootstrap[1], "cohen_dz": e.cohen_dz, "seeds": e.n},
                    expected={"sign": self.direction, "min_effect": self.min_effect},
                    tolerance={"confidence": e.confidence},
                    margin=(min(self.direction * e.ci[0], self.direction * e.ci[1]) - self.min_effect)
                    if math.isfinite(e.mean) else None,
                    note=f"{res.metric}: {e.reason}",
                    data={"diffs": [r.diff for r in res.records], "seeds": [r.seed for r in res.records],
                          "small": [r.small for r in res.records], "large": [r.large for r in res.records],
                          "excluded": res.excluded,
                          **{k: v for k, v in res.extra.items() if k != "unnormalised"},
                          **({"unnormalised": vars(res.extra["unnormalised"])} if res.extra.get("unnormalised") else {})})

    def _scatter(self, rf: float, res: IP.PropertyResult) -> Figure:
        return Figure(kind="scatter", title=f"{self.title} (hλ₀={rf:g}): paired difference per seed",
                      xlabel="seed index", ylabel=res.metric,
                      series=[Series("paired difference", list(range(len(res.records))), [r.diff for r in res.records])],
                      annotations={"hline": 0.0})


@register
class IGRGradientPenaltyRate(_PropertyClaim):
    id = "implicit.igr-p1-rate"
    title = "Larger learning rate ⇒ smaller ‖∇L‖²/L at matched loss"
    source = PREDICTIONS + " — property 1 (learning rate)"
    statement = ("Training the same tanh network (width 16, 24 points) from the same initialisation by full-batch GD "
                 "with h and h/5, stopped at the first step with L ≤ 0.05·L(θ₀), the large rate ends with the smaller "
                 "‖∇L‖²/L: the mean over seeds of log(ratio small/large) is > 0 (95% t interval).")
    falsifier = "The interval lies below 0 (FAIL); straddling 0 is INCONCLUSIVE."
    tags = ("implicit", "igr-properties", "statistics")
    prop = "p1_rate"


@register
class IGRGradientPenaltyWidth(_PropertyClaim):
    id = "implicit.igr-p1-width"
    title = "Larger model ⇒ smaller R_IG/L at matched loss"
    source = PREDICTIONS + " — property 1 (model size; R_IG = (1/P)‖∇L‖², IGR strength λ = hP/4)"
    statement = ("Width 64 against width 16 at the same rate, stopped at matched loss, gives the smaller "
                 "R_IG/L = ‖∇L‖²/(P·L). The un-normalised ‖∇L‖²/L effect is reported in the case data "
                 "(`unnormalised`), since the 1/P alone contributes log 4 ≈ 1.386 to the paper's form.")
    falsifier = "The 95% interval of the mean log ratio (narrow/wide) lies below 0."
    tags = ("implicit", "igr-properties", "statistics")
    prop = "p1_width"
    regimes = (1.0,)


@register
class IGRPathSlope(_PropertyClaim):
    id = "implicit.igr-p2-slope"
    title = "Larger learning rate ⇒ smoother optimisation (smaller slope along the path)"
    source = PREDICTIONS + " — property 2"
    statement = ("At 8 matched loss levels between L(θ₀)/2 and 0.05·L(θ₀), the loss-surface slope ‖∇L‖ at the first "
                 "crossing is smaller for the larger rate: mean over levels and seeds of log(slope small/large) > 0.")
    falsifier = "The 95% interval lies below 0."
    tags = ("implicit", "igr-properties", "statistics")
    prop = "p2_slope"


@register
class IGRTestAccuracy(_PropertyClaim):
    id = "implicit.igr-p3-accuracy"
    title = "Larger learning rate ⇒ higher test accuracy"
    source = PREDICTIONS + " — property 3"
    statement = ("On a 2-D two-class task with 15% training-label noise (40 training, 2000 clean test points), a tanh "
                 "network trained by GD to L ≤ 0.3·L(θ₀) has higher test accuracy with the larger rate.")
    falsifier = "The 95% interval of the accuracy difference (large − small) lies below 0."
    tags = ("implicit", "igr-properties", "statistics")
    prop = "p3_accuracy"
    base = IP.Setup(target_fraction=0.3)


@register
class IGRNoiseRobustness(_PropertyClaim):
    id = "implicit.igr-p4-noise"
    title = "Larger learning rate ⇒ solutions more robust to parameter noise"
    source = PREDICTIONS + " — property 4"
    statement = ("At matched loss, E[L(θ + σε)] − L(θ) (σ = 0.02, ε ~ N(0, I), antithetic Monte Carlo with common "
                 "random numbers) is smaller for the larger rate: mean log ratio small/large > 0.")
    falsifier = "The 95% interval lies below 0."
    tags = ("implicit", "igr-properties", "statistics")
    prop = "p4_noise"


@register
class NoiseQuadraticPrediction(Claim):
    id = "implicit.igr-p4-quadratic"
    title = "Loss increase under parameter noise equals (σ²/2)·Tr(H) to second order"
    source = PREDICTIONS + " — property 4, compared with the second-order Taylor prediction E[εᵀHε] = Tr H"
    statement = ("For the trained networks of implicit.igr-p4-noise, log(ΔL_MC / (c·σ²·Tr H)) with c = 1/2 has mean "
                 "within ±0.1 (95% t interval; O(σ²) and Monte Carlo error).")
    falsifier = "The interval lies entirely outside ±0.1."
    tags = ("implicit", "igr-properties", "statistics")

    def __init__(self, coefficient: float = 0.5, tolerance: float = 0.1, seeds: int | None = None) -> None:
        self.coefficient = float(coefficient)
        self.tolerance = float(tolerance)
        self.seeds = seeds

    def _run_impl(self, ctx: RunContext) -> Evidence:
        from dataclasses import replace

        setup = replace(IP.Setup(), seeds=self.seeds or (IP.QUICK_SEEDS if ctx.quick else IP.Setup().seeds))
        res = IP.noise_robustness_vs_rate(setup, seed=ctx.seed)
        shift = math.log(0.5 / self.coefficient)  # the experiment records log(ΔL / (½σ²TrH))
        vals = [v + shift for v in res.extra["quadratic_log_ratios"]]
        e = IP.equivalence(vals, self.tolerance)
        quad = [a["quadratic_prediction"] * 2 * self.coefficient for r in res.records for a in (r.small, r.large)]
        meas = [a["loss_increase"] for r in res.records for a in (r.small, r.large)]
        case = Case(f"{len(vals)} trained networks", e.verdict,
                    measured={"mean_log_ratio": e.mean, "ci_lo": e.ci[0], "ci_hi": e.ci[1]},
                    expected={"log_ratio": 0.0, "coefficient": self.coefficient}, tolerance={"abs": self.tolerance},
                    margin=self.tolerance - max(abs(e.ci[0]), abs(e.ci[1])) if math.isfinite(e.mean) else None,
                    note=e.reason, data={"log_ratios": vals})
        fig = Figure(kind="scatter", title="loss increase under N(0, σ²I) noise vs c·σ²·Tr H", xlabel="c·σ²·Tr H",
                     ylabel="Monte Carlo E[L(θ+σε)] − L(θ)", xscale="log", yscale="log",
                     series=[Series("trained nets", quad, meas)], annotations={"diagonal": True})
        return Evidence.from_cases(self.id, [case], f"mean log(ΔL/(c σ² TrH)) = {e.mean:+.4f} "
                                   f"[{e.ci[0]:+.4f}, {e.ci[1]:+.4f}], c={self.coefficient:g}", figures=[fig],
                                   key={"mean_log_ratio": e.mean})
