"""The recurring shapes of a claim, each a base class that does the run once.

* :class:`PropertyClaim`: a Hypothesis property over generated instances
  (plus pinned and fixed ones). The claim declares a ``strategy`` and one
  ``check(instance, ctx) -> Case``; the kind draws the examples, lets Hypothesis
  shrink a failing one into the counterexample, and assembles the evidence.
* :class:`ConditionClaim`: a published stability condition, written as a
  threshold η_c on the learning rate, compared with the exact critical rate η*
  on generated instances. The claim declares its conditions (necessary or
  sufficient) and one ``threshold``; the kind reports where each is tight,
  loose or violated.
* :class:`OrderClaim`: order studies. The claim's ``check`` yields
  :class:`Ladder` s (an :class:`~theorycheck.numerics.order.OrderStudy` with
  its name and figure) and plain cases; the kind turns them into cases and
  log-log figures.
* :class:`EffectClaim`: a predicted effect over seeds, measured by paired
  experiments in one or more regimes; the claim names its experiment, the
  kind turns each regime's confidence interval into a case.

Each kind keeps the claim module a list of declarations: the constants a
mutant changes are dataclass fields, the key numbers are :class:`Key`
declarations. Lower layers are loaded on first use, so that importing the
claims (``theorycheck list``) stays cheap.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable

from theorycheck import maths, numerics, properties
from theorycheck.claims.base import Checked, Claim, Key, RunContext, Sizes
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict

#: Relative slack for rounding when a condition's threshold is compared with η* (both computed to ~1e-12).
CONDITION_SLACK = 1e-9


# =============================================================================== properties


@dataclass(frozen=True, kw_only=True)
class PropertyClaim(Claim):
    """A Hypothesis property: ``check(instance) -> Case`` on generated, pinned and fixed instances.

    Declare ``strategy(ctx)`` and ``check(instance, ctx)``; optionally ``examples``
    (quick/full sizes), ``pinned()`` instances (checked every run, like
    Hypothesis' ``@example``; earlier shrunk counterexamples stay here),
    ``describe(instance)`` (the counterexample as JSON), ``fixed(ctx, checked)``
    (further parts of cases, e.g. trained networks) and ``more_properties(ctx)``.

    Cases are grouped in parts: ``"generated"`` (the examples, and the shrunk
    counterexample once), ``"pinned"``, and the parts of :meth:`fixed`.
    """

    examples: ClassVar[Sizes] = Sizes(15, 120)
    #: Shrink failing examples in quick mode too (off where each example re-trains a network).
    shrink_in_quick: ClassVar[bool] = True
    #: Overrides the number of generated examples (tests use it to keep mutant runs short).
    max_examples: int | None = None

    @abstractmethod
    def strategy(self, ctx: RunContext) -> Any:
        """The Hypothesis strategy of the instances."""

    @abstractmethod
    def check(self, instance: Any, ctx: RunContext) -> Case:
        """The property on one instance: a Case whose verdict is PASS, FAIL or INCONCLUSIVE."""

    def describe(self, instance: Any) -> Any:
        """An instance as JSON, for the counterexample."""
        return instance

    def pinned(self) -> tuple[Any, ...]:
        """Instances checked in every run, like Hypothesis' ``@example`` (earlier shrunk counterexamples stay here)."""
        return ()

    def more_properties(self, ctx: RunContext) -> list[tuple[str, Any, int]]:
        """Further properties ``(part, strategy, seed offset)``, run while no counterexample is found."""
        return []

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        """Add the cases that are not drawn by Hypothesis (trained networks, zoo losses) to ``checked`` as parts."""

    def evaluate(self, ctx: RunContext) -> Evidence:
        return self.assemble(self.run_properties(ctx))

    def run_properties(self, ctx: RunContext) -> Checked:
        """Draw and check the examples, then the pinned and fixed instances."""
        n = self.examples.pick(ctx, self.max_examples)
        shrink = self.shrink_in_quick or not ctx.quick
        checked = Checked()
        def check(instance: Any) -> Case:
            return self.check(instance, ctx)

        out = properties.runner.check_property(self.id, self.strategy(ctx), check, max_examples=n, seed=ctx.seed,
                                             shrink=shrink)
        checked.parts["generated"] = out.all_cases()
        checked.counterexample = out.counterexample_json(self.describe)
        checked.examples = out.examples_tried
        for part, strategy, offset in self.more_properties(ctx):
            if checked.counterexample is not None:
                break
            more = properties.runner.check_property(f"{self.id}: {part}", strategy, check, max_examples=n,
                                                  seed=ctx.seed + offset, shrink=shrink)
            checked.parts[part] = more.all_cases()
            checked.counterexample = more.counterexample_json(self.describe)
        pinned = self.pinned()
        if pinned:
            checked.parts["pinned"] = []
            for instance in pinned:
                case = self.check(instance, ctx)
                case.name = "pinned: " + case.name
                checked.parts["pinned"].append(case)
                if case.verdict is Verdict.FAIL and checked.counterexample is None:
                    checked.counterexample = properties.runner.counterexample_json(self.describe(instance), case)
        self.fixed(ctx, checked)
        return checked


#: Relative slack for float64 rounding in an inequality between O(1) norms computed by a handful of BLAS
#: reductions: a few hundred ulps.
ROUNDING = 1e-10


def inequality_case(name: str, lhs: Any, rhs: Any, extra: dict[str, Any] | None = None,
                    rounding: float = ROUNDING) -> Case:
    """A case for lhs ≤ rhs elementwise (arrays of the same shape), judged with a relative rounding slack.

    ``max_ratio`` is the largest lhs/rhs (∞ where rhs = 0 < lhs); ``margin`` = 1 − max_ratio; ``data``
    keeps the quantiles of the ratios.
    """
    import numpy as np

    lhs, rhs = np.asarray(lhs, dtype=float), np.asarray(rhs, dtype=float)
    ok = rhs > 0
    ratio = np.where(ok, lhs / np.where(ok, rhs, 1.0), np.where(lhs > 0, np.inf, 0.0))
    worst = float(ratio.max()) if ratio.size else 0.0
    bad = worst > 1 + rounding
    q = np.quantile(ratio, [0.0, 0.5, 0.9, 1.0]) if ratio.size else [math.nan] * 4
    return Case(name=name, verdict=Verdict.pass_if(not bad),
                measured={"max_ratio": worst, **(extra or {})}, expected={"max_ratio_at_most": 1.0},
                tolerance={"relative_rounding": rounding}, margin=1.0 - worst,
                note=(f"LHS exceeds RHS by a factor {worst:.6g}" if bad else f"tightest ratio LHS/RHS = {worst:.6g}"),
                data={"ratios": {"min": float(q[0]), "median": float(q[1]), "q90": float(q[2]), "max": float(q[3])}})


# =============================================================================== published conditions


def instance_name(instance: dict[str, Any]) -> str:
    """``features n=3 d=2 B=1 with`` for a stability instance."""
    n, d = instance["hessians"].shape[:2]
    src = "features" if instance.get("features") is not None else "hessians"
    return f"{src} n={n} d={d} B={instance['batch']} {instance['sampling']}"


def describe_instance(instance: dict[str, Any]) -> dict[str, Any]:
    """A stability instance as JSON: the features (or Hessians) rounded to 6 digits, batch and sampling."""
    import numpy as np

    out = {"batch": instance["batch"], "sampling": instance["sampling"], "n": int(instance["hessians"].shape[0]),
           "d": int(instance["hessians"].shape[1])}
    if instance.get("features") is not None:
        out["features"] = np.round(instance["features"], 6).tolist()
    else:
        out["hessians"] = np.round(instance["hessians"], 6).tolist()
    return out


def instance_problem(instance: dict[str, Any]) -> Any:
    """The :class:`~theorycheck.maths.stability.StabilityProblem` of a stability instance."""
    if instance.get("features") is not None:
        return maths.stability.problem_from_features(instance["features"])
    return maths.stability.problem_from_hessians(instance["hessians"])


@dataclass(frozen=True, kw_only=True)
class ConditionClaim(PropertyClaim):
    """Published conditions on η, each a threshold η_c, against the exact critical rate η*(B).

    A condition "holds for η ≤ η_c". It is *necessary* for second-moment
    stability iff η_c ≥ η* on every instance, *sufficient* iff η_c ≤ η*, and
    *tight* where η_c/η* = 1 on some instance. Declare ``conditions``
    (name → "necessary" or "sufficient") and one ``threshold``; η* is computed
    densely on these small instances (rounding-level accuracy), so comparisons
    allow a relative slack of :data:`CONDITION_SLACK` for rounding only.
    Key numbers: ``{name}_min_ratio`` and ``{name}_max_ratio`` of η_c/η*.
    """

    conditions: ClassVar[dict[str, str]] = {}
    summary_what: ClassVar[str] = "conditions vs exact η*"
    examples: ClassVar[Sizes] = Sizes(15, 150)

    @abstractmethod
    def threshold(self, name: str, problem: Any, batch: int, sampling: str) -> float:
        """η_c of condition ``name`` on a problem: the largest η at which it holds."""

    def strategy(self, ctx: RunContext) -> Any:
        return properties.strategies.stability_instances()

    def describe(self, instance: Any) -> Any:
        return describe_instance(instance)

    def check(self, instance: dict[str, Any], ctx: RunContext) -> Case:
        P, B, s = instance_problem(instance), instance["batch"], instance["sampling"]
        eta = numerics.stability.critical_rate(P, maths.stability.sampling_factor(P.n, B, s), rtol=1e-12)
        measured: dict[str, float] = {"eta_star": eta}
        margins = []
        for k, kind in self.conditions.items():
            r = self.threshold(k, P, B, s) / eta
            measured[f"{k}_ratio"] = r
            margins.append(r - (1 - CONDITION_SLACK) if kind == "necessary" else (1 + CONDITION_SLACK) - r)
        bad = [k for k, mg in zip(self.conditions, margins) if mg < 0]
        return Case(instance_name(instance), Verdict.pass_if(not bad), measured=measured,
                    expected={k: f"threshold/η* {'≥' if kind == 'necessary' else '≤'} 1"
                              for k, kind in self.conditions.items()},
                    tolerance={"rel": CONDITION_SLACK}, margin=min(margins),
                    note="holds" if not bad else "violated: " + ", ".join(
                        f"{k} (η_c/η* = {measured[k + '_ratio']:.6g}, claimed {self.conditions[k]})" for k in bad))

    def status(self, checked: Checked) -> dict[str, dict[str, Any]]:
        """Per condition: the range of η_c/η* and whether it is necessary, sufficient, tight."""
        out = {}
        for k, kind in self.conditions.items():
            rs = checked.values(f"{k}_ratio")
            if not rs:
                continue
            lo, hi = min(rs), max(rs)
            nec, suf = lo >= 1 - CONDITION_SLACK, hi <= 1 + CONDITION_SLACK
            tight = min(abs(r - 1) for r in rs) <= 1e-7
            out[k] = {"claimed": kind, "min_ratio": table_cell(lo), "max_ratio": table_cell(hi),
                      "verdict": ("necessary" if nec else "NOT necessary") + ", " +
                                 ("sufficient" if suf else "not sufficient") + (", tight" if tight else "")}
        return out

    def evaluate(self, ctx: RunContext) -> Evidence:
        checked = self.run_properties(ctx)
        checked.settings["status"] = self.status(checked)
        return self.assemble(checked)

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        status = checked.settings["status"]
        key = {f"{k}_min_ratio": float(v["min_ratio"]) for k, v in status.items()}
        key.update({f"{k}_max_ratio": float(v["max_ratio"]) for k, v in status.items()})
        return key

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        status = checked.settings["status"]
        return f"{verdict}: " + "; ".join(
            f"{k}: {v['verdict']} (η_c/η* ∈ [{float(v['min_ratio']):.4g}, {float(v['max_ratio']):.4g}])"
            for k, v in status.items()) + f" — {self.summary_what}, {checked.examples} instances"


def table_cell(x: Any) -> Any:
    """A number that survives the JSON round trip inside settings and annotations ("inf" stays a string)."""
    if isinstance(x, str):
        return x
    v = float(x)
    return v if math.isfinite(v) else str(v)


# =============================================================================== order studies


@dataclass(frozen=True)
class Ladder:
    """An order study to report: the case name, the :class:`~theorycheck.numerics.order.OrderStudy`, the figure title.

    ``figure`` None draws no figure for this study.
    """

    name: str
    study: Any
    figure: str | None = None


def order_ladder(name: str, step: Any, field: Any, theta0: Any, steps: Any, *, expected_order: float,
                 kind: str = "local", horizon: Any = None, digits: int | None = None, backend: str = "heyoka",
                 figure: str | None = None) -> Ladder:
    """The order study of one step map against one field, as a :class:`Ladder` (the pattern of every order claim).

    ``kind`` "local" is :func:`~theorycheck.numerics.order.local_error_study`, "global" its global study on
    ``horizon``; ``figure`` is the title of the log-log figure (None: no figure).
    """
    if kind == "local":
        study = numerics.order.local_error_study(step, field, theta0, steps, expected_order=expected_order,
                                                 backend=backend, digits=digits)
    else:
        study = numerics.order.global_error_study(step, field, theta0, steps, horizon=horizon,
                                                  expected_order=expected_order, backend=backend, digits=digits)
    return Ladder(name, study, figure)


@dataclass(frozen=True, kw_only=True)
class OrderClaim(Claim):
    """Order studies: ``check(ctx)`` yields :class:`Ladder` s (and plain cases, e.g. symbolic identities).

    Every ladder becomes a case (measured order, its interval, the verdict of
    :func:`~theorycheck.numerics.order.fit_order`) and, with a title, a log-log
    figure of its errors with the fitted and the expected slope.
    """

    @abstractmethod
    def check(self, ctx: RunContext) -> Iterable[Ladder | Case | Figure]:
        """The studies (and other cases or figures) of this claim."""

    def evaluate(self, ctx: RunContext) -> Evidence:
        return self.assemble(self.run_studies(ctx))

    def run_studies(self, ctx: RunContext) -> Checked:
        checked = Checked(parts={"cases": []})
        for item in self.check(ctx):
            if isinstance(item, Ladder):
                checked.parts["cases"].append(item.study.to_case(item.name))
                if item.figure is not None:
                    checked.figures.append(item.study.figure(item.figure))
            elif isinstance(item, Figure):
                checked.figures.append(item)
            else:
                checked.parts["cases"].append(item)
        return checked

    def measured_orders(self, checked: Checked, where: Callable[[Case], bool] = lambda c: True) -> list[float]:
        """The measured orders of the cases that satisfy ``where``."""
        return [c.measured["order"] for c in checked.cases() if c.measured.get("order") is not None and where(c)]


def order_curve(title: str, xs: Iterable[float], studies: Iterable[Any], xlabel: str, vline: float | None) -> Figure:
    """Measured and expected local order against a parameter (e.g. the coefficient c of μ = c·h)."""
    studies = list(studies)
    ann: dict[str, Any] = {} if vline is None else {"vline": vline}
    return Figure(kind="curve", title=title, xlabel=xlabel, ylabel="measured local order",
                  series=[Series("measured order", list(xs), [s.order if s.order is not None else math.nan
                                                              for s in studies], "points"),
                          Series("expected order", list(xs), [s.expected_order for s in studies], "dashed")],
                  annotations=ann)


# =============================================================================== effects over seeds


def regime_label(rate_fraction: float, short: bool = False) -> str:
    """Where h·λ_max(θ₀) = ``rate_fraction`` lies relative to the regime backward-error analysis covers.

    The analysis is an expansion in small h: for a quadratic, GD's modified field −log(1 − hλ)/h·(θ−θ*) is a
    power series in hλ that converges only for hλ < 1 (for hλ > 1 the factor 1 − hλ is negative and no real
    flow passes through GD's iterates along that direction), so hλ₀ < 1 is inside the analysed regime,
    hλ₀ = 1 its edge, and hλ₀ > 1 (up to GD's stability edge 2) is tested outside it.
    """
    r = float(rate_fraction)
    if r < 1:
        return "inside" if short else "inside the regime of the backward-error analysis, hλ < 1"
    if r == 1:
        return "edge" if short else "at the edge of the analysed regime: the series converges for hλ < 1"
    return ("outside" if short else
            "outside the regime of the backward-error analysis (hλ > 1), near GD's stability edge 2")



@dataclass(frozen=True, kw_only=True)
class EffectClaim(Claim):
    """A predicted effect, measured by paired experiments over seeds in each regime.

    Declare ``experiment`` (a name in :data:`theorycheck.numerics.experiments.EXPERIMENTS`)
    and ``setup`` (overrides of :class:`~theorycheck.numerics.experiments.Setup`).
    Fields: the predicted sign ``direction``, the smallest effect ``min_effect``
    that counts, ``seeds``, and the ``regimes`` (values of h·λ_max(θ₀) for the
    large rate). Each regime gives one case: PASS when the whole
    confidence interval of the mean paired difference lies on the predicted
    side, FAIL on the other, INCONCLUSIVE when it straddles.
    Key numbers ``effect_{regime}`` and ``ci_lo_{regime}``.
    """

    experiment: ClassVar[str]
    setup: ClassVar[dict[str, Any]] = {}
    direction: int = 1
    min_effect: float = 0.0
    seeds: int | None = None
    #: h·λ_max(θ₀) of the large rate (see :func:`regime_label`): 1.0 is the edge of the regime the
    #: backward-error analysis covers, 1.9 lies outside it, near GD's stability edge 2.
    regimes: tuple[float, ...] = (1.0, 1.9)
    #: The step of a metric that moves in quanta (an accuracy on n test points moves by 1/n): CI compares the
    #: key numbers to this absolute tolerance, since a point on the decision boundary may fall on either side
    #: after thousands of GD steps whose last bits depend on the BLAS kernels of the machine. None: exact.
    key_resolution: ClassVar[float | None] = None

    def evaluate(self, ctx: RunContext) -> Evidence:
        from dataclasses import replace

        base = numerics.experiments.Setup(**self.setup)
        seeds = Sizes(numerics.experiments.QUICK_SEEDS, base.seeds).pick(ctx, self.seeds)
        results = []
        for rf in self.regimes:
            run = numerics.experiments.EXPERIMENTS[self.experiment]
            results.append((rf, run(replace(base, seeds=seeds, rate_fraction=rf), seed=ctx.seed,
                                    direction=self.direction, min_effect=self.min_effect)))
        checked = Checked(parts={"regimes": [self._case(rf, r) for rf, r in results]},
                          figures=[self._scatter(rf, r) for rf, r in results], extra={"results": results},
                          settings={"regimes": list(self.regimes), "seeds": results[0][1].effect.n})
        return self.assemble(checked)

    def figures(self, checked: Checked) -> Iterable[Figure]:
        results = checked.extra["results"]
        yield Figure(kind="interval", title=f"{self.title}: mean effect and "
                                            f"{int(100 * results[0][1].effect.confidence)}% CI",
                     ylabel=results[0][1].metric,
                     series=[Series("mean effect", [f"hλ₀={rf:g}" for rf, _ in results],
                                    [r.effect.mean for _, r in results])],
                     annotations={"hline": 0.0, "hline_label": "no effect",
                                  "ci_low": [r.effect.ci[0] for _, r in results],
                                  "ci_high": [r.effect.ci[1] for _, r in results]})

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        results = checked.extra["results"]
        key = {f"effect_{rf:g}": r.effect.mean for rf, r in results}
        key.update({f"ci_lo_{rf:g}": r.effect.ci[0] for rf, r in results})
        return key

    def assemble(self, checked: Checked) -> Evidence:
        ev = super().assemble(checked)
        if self.key_resolution is not None:
            ev.key_tolerance.update({k: {"atol": self.key_resolution} for k in ev.key})
        return ev

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        return "; ".join(f"hλ₀={rf:g} ({regime_label(rf, short=True)}): {r.effect.mean:+.3g} "
                         f"[{r.effect.ci[0]:+.3g}, {r.effect.ci[1]:+.3g}] {r.effect.verdict}"
                         for rf, r in checked.extra["results"])

    def _case(self, rf: float, res: Any) -> Case:
        e = res.effect
        return Case(f"large rate h·λ_max(θ₀) = {rf:g} ({regime_label(rf)})",
                    e.verdict,
                    measured={"mean_effect": e.mean, "ci_lo": e.ci[0], "ci_hi": e.ci[1], "boot_lo": e.ci_bootstrap[0],
                              "boot_hi": e.ci_bootstrap[1], "cohen_dz": e.cohen_dz, "seeds": e.n},
                    expected={"sign": self.direction, "min_effect": self.min_effect},
                    tolerance={"confidence": e.confidence},
                    margin=(min(self.direction * e.ci[0], self.direction * e.ci[1]) - self.min_effect)
                    if math.isfinite(e.mean) else None,
                    note=f"{res.metric}: {e.reason}; bootstrap interval [{e.ci_bootstrap[0]:+.3g}, "
                         f"{e.ci_bootstrap[1]:+.3g}] (the verdict uses the t interval)",
                    data={"diffs": [r.diff for r in res.records], "seeds": [r.seed for r in res.records],
                          "small": [r.small for r in res.records], "large": [r.large for r in res.records],
                          "excluded": res.excluded,
                          **{k: v for k, v in res.extra.items() if k != "unnormalised"},
                          **({"unnormalised": vars(res.extra["unnormalised"])} if res.extra.get("unnormalised")
                             else {})})

    def _scatter(self, rf: float, res: Any) -> Figure:
        return Figure(kind="scatter", title=f"{self.title} (hλ₀={rf:g}): paired difference per seed",
                      xlabel="seed index", ylabel=res.metric,
                      series=[Series("paired difference", list(range(len(res.records))),
                                     [r.diff for r in res.records])],
                      annotations={"hline": 0.0})


__all__ = ["CONDITION_SLACK", "ConditionClaim", "EffectClaim", "Key", "Ladder", "OrderClaim", "PropertyClaim",
           "ROUNDING", "Sizes", "describe_instance", "inequality_case", "instance_name", "instance_problem",
           "order_curve", "order_ladder", "regime_label", "table_cell"]
