"""Synthetic evidence and toy claims for the report, compare, executor and plugin tests.

The numbers are made up but shaped like the real areas' evidence: an order
ladder (loglog), a rho(eta) curve (curve), a bound-vs-measured scatter, a
bar chart and a table, plus FAIL, INCONCLUSIVE and ERROR claims. Kept in an
importable module (not a fixture) so spawned worker processes can unpickle the
toy claims.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorycheck.claims import Claim, RunContext
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict
from theorycheck.reporting.record import RunRecord
from theorycheck.running.executors import parallel_map


def order_evidence(order: float = 2.998, verdict: Verdict = Verdict.PASS) -> Evidence:
    hs = [1 / 8, 1 / 16, 1 / 32, 1 / 64, 1 / 128]
    errs = [0.3 * h**order for h in hs]
    fit = [0.3 * h**order for h in hs]
    return Evidence(
        claim_id="synthetic-order", verdict=verdict, summary=f"fitted order {order:.3f} (expected 3)",
        title="Modified flow has local error O(h^3)", source="Barrett & Dherin 2021, Thm 3.1",
        statement="GD follows the modified flow of L + (h/4)|grad L|^2 with local error O(h^3).",
        falsifier="fitted order below 2.9", key={"order": order, "worst_margin": 0.048},
        cases=[Case("quartic", verdict, measured={"order": order}, expected={"order": 3.0},
                    tolerance={"order": 0.05}, margin=0.05 - abs(order - 3), note="fit over 5 steps")],
        figures=[Figure("loglog", "local error vs step", "h", "error", "log", "log",
                        [Series("quartic", hs, errs, "points"), Series("fit", hs, fit, "dashed")],
                        {"expected_slope": 3, "fitted_slope": {"quartic": order}})],
        settings={"backend": "mpmath", "digits": 50},
    )


def stability_evidence(eta_star: float = 0.4123) -> Evidence:
    etas = list(np.linspace(0.05, 0.6, 23))
    rho = [abs(1 - e / eta_star * 2) ** 0.5 + e for e in etas]
    return Evidence(
        claim_id="synthetic-stability", verdict=Verdict.PASS, summary=f"eta* = {eta_star:.4f}",
        title="SGD linear stability threshold", source="Ma & Ying 2021, Thm 1",
        statement="SGD is second-order stable iff rho(eta) <= 1.", falsifier="eta* differs from the closed form",
        key={"eta_star": eta_star},
        figures=[Figure("curve", "spectral radius", "eta", "rho", series=[Series("B=4", etas, rho)],
                        annotations={"vline": eta_star, "vline_label": f"eta* = {eta_star:.4f}", "hline": 1.0})],
    )


def bound_evidence() -> Evidence:
    rng = np.random.default_rng(0)
    bound = list(rng.uniform(0.1, 2.0, 30))
    measured = [b * u for b, u in zip(bound, rng.uniform(0.2, 1.0, 30))]
    measured[3] = bound[3] * 1.3  # one violation
    cx = {"example": {"width": 3, "seed": 17}, "measured": measured[3], "bound": bound[3]}
    return Evidence(
        claim_id="synthetic-bound", verdict=Verdict.FAIL, summary="1/30 instances violate the bound (ratio 1.30)",
        title="Input gradient bounded by parameter gradient", source="Ma & Ying 2021, Lemma 2",
        statement="|grad_x f| <= |W| |grad_W f| / |x|", falsifier="a network with measured > bound",
        key={"worst_ratio": 1.3, "violations": 1},
        cases=[Case(f"net {i}", Verdict.FAIL if m > b else Verdict.PASS, {"measured": m}, {"bound": b},
                    margin=b - m) for i, (m, b) in enumerate(zip(measured, bound))],
        figures=[Figure("scatter", "bound vs measured", "bound", "measured", series=[Series("nets", bound, measured,
                                                                                                 "points")],
                        annotations={"diagonal": True}),
                 Figure("bar", "violations by width", "width", "count",
                        series=[Series("violations", ["w=2", "w=4", "w=8"], [1, 0, 0], "bar")]),
                 Figure("table", "summary by width", annotations={"columns": ["width", "n", "worst ratio"],
                                                                  "rows": [[2, 10, 1.3], [4, 10, 0.97]]})],
        counterexample=cx,
    )


def inconclusive_evidence() -> Evidence:
    return Evidence(claim_id="synthetic-floor", verdict=Verdict.INCONCLUSIVE, summary="errors at precision floor",
                    title="Order at the floor", source="toy, Eq. (4)", statement="e(h) ~ h^4",
                    falsifier="slope below 3.9", reason="smallest error 1e-49 is below 10 ulps of 50 digits",
                    key={"order": "nan"})


def error_evidence() -> Evidence:
    return Evidence(claim_id="synthetic-error", verdict=Verdict.ERROR, summary="check raised ZeroDivisionError",
                    title="Broken check", source="nowhere", statement="s", falsifier="f",
                    reason="ZeroDivisionError: division by zero")


def record(claims: list[Evidence] | None = None, **settings: object) -> RunRecord:
    claims = claims if claims is not None else [order_evidence(), stability_evidence(), bound_evidence(),
                                                inconclusive_evidence(), error_evidence()]
    env = {"python": "3.11", "platform": "test", "packages": {"theorycheck": "0.1.0", "numpy": "2"},
           "git_commit": None}
    return RunRecord(environment=env, settings={"quick": True, "seed": 1, "executor": "serial", **settings},
                     claims=claims)


def finding_evidence(verdict: Verdict = Verdict.FAIL) -> Evidence:
    """A declared finding: a published condition the numbers contradict on purpose (FAIL expected)."""
    cx = {"case": "pinned", "note": "η_c/η* = 0.99 < 1", "features": [[1.0, 0.0], [0.0, 2.0]]}
    return Evidence(
        claim_id="synthetic-finding", verdict=verdict, summary="condition NOT necessary (η_c/η* ∈ [0.99, inf])",
        title="A necessary condition that is not necessary", statement_kind="theorem", expect="finding",
        source="Wu, Ma & E 2018, Sec. 3 (a long citation that the summary table would cut off, theorem number not "
               "checked against the paper, with more words after it to pass ninety characters)",
        statement="s ≤ √B/η at every stable η", falsifier="a stable η with s·η > √B",
        cases=[Case("pinned", verdict, {"ratio": 0.99}, {"ratio_at_least": 1.0}, margin=-0.01)],
        counterexample=cx if verdict is Verdict.FAIL else None, key={"min_ratio": 0.99})


#: Two papers over the synthetic claims: statements checked, not checked, an open question, in paper order.
PAPERS = [
    {"key": "barrett-dherin-2021", "short": "Barrett & Dherin 2021", "citation": "Barrett & Dherin, IGR, ICLR 2021",
     "url": "https://arxiv.org/abs/2009.11162", "statements": [
         {"where": "Theorem 3.1", "where_checked": True, "text": "GD follows L + (h/4)‖∇L‖² to O(h³)",
          "claims": ["synthetic-order"], "status": "checked", "not_checked": "", "note": ""},
         {"where": "Sec. 4", "where_checked": False, "text": "EGR improves test accuracy", "claims": [],
          "status": "not checked", "not_checked": "needs ImageNet-scale training", "note": ""}]},
    {"key": "ma-ying-2021", "short": "Ma & Ying 2021", "citation": "Ma & Ying, NeurIPS 2021",
     "url": "", "statements": [
         {"where": "Sec. 2", "where_checked": False, "text": "multiplicative inequality",
          "claims": ["synthetic-bound"], "status": "checked", "not_checked": "", "note": ""},
         {"where": "Thm. 1", "where_checked": True, "text": "linear stability", "claims": ["synthetic-stability",
                                                                                          "synthetic-floor"],
          "status": "checked", "not_checked": "", "note": ""},
         {"where": "Sec. 3", "where_checked": True, "text": "a necessary condition",
          "claims": ["synthetic-finding"], "status": "checked", "not_checked": "", "note": ""},
         {"where": "talk", "where_checked": True, "text": "deeper networks?", "claims": ["synthetic-missing"],
          "status": "open question", "not_checked": "", "note": "left open"}]},
]


def record_with_papers(finding: Verdict = Verdict.FAIL) -> RunRecord:
    """:func:`record` plus a declared finding, with :data:`PAPERS` (synthetic-error is under no paper)."""
    r = record([order_evidence(), stability_evidence(), bound_evidence(), inconclusive_evidence(), error_evidence(),
                finding_evidence(finding)])
    r.papers = [dict(p) for p in PAPERS]
    return r


def outer(X: np.ndarray) -> np.ndarray:
    """Per-sample Hessians xᵢxᵢᵀ of the square loss on features X, shape (n, d, d)."""
    return np.einsum("ni,nj->nij", X, X)


# ----------------------------------------------------------------------------- toy claims
def _mc_mean(item: tuple[int, int]) -> float:
    """A seeded Monte Carlo estimate: the sort of inner sweep item a claim hands to parallel_map."""
    seed, n = item
    return float(np.random.default_rng(seed).standard_normal(n).mean())


@dataclass(frozen=True, kw_only=True)
class ToyMonteCarlo(Claim):
    """A claim whose numbers depend only on ctx.seed, with an inner parallel sweep."""

    id = "toy-mc"
    title = "Mean of standard normals is near zero"
    source = "toy, Eq. (1)"
    statement = "|mean| <= 4/sqrt(n)"
    falsifier = "|mean| > 4/sqrt(n)"
    n: int = 2000
    k: int = 6

    def evaluate(self, ctx: RunContext) -> Evidence:
        seeds = [(ctx.seed * 1000 + i, self.n) for i in range(self.k)]
        means = parallel_map(_mc_mean, seeds, ctx)
        bound = 4 / np.sqrt(self.n)
        cases = [Case(f"seed {s}", Verdict.PASS if abs(m) <= bound else Verdict.FAIL, {"mean": m},
                      {"bound": bound}, margin=bound - abs(m)) for (s, _), m in zip(seeds, means)]
        return Evidence.from_cases("", cases, f"max |mean| = {max(map(abs, means)):.4g}",
                                   key={"max_abs_mean": max(map(abs, means))})


@dataclass(frozen=True, kw_only=True)
class ToyMonteCarloSmall(ToyMonteCarlo):
    id = "toy-mc-2"
    n: int = 500
    k: int = 3


class ToyRaises(Claim):
    id = "toy-raises"
    title = "A check that breaks"
    source = "toy"
    statement = "never evaluated"
    falsifier = "n/a"

    def evaluate(self, ctx: RunContext) -> Evidence:
        raise ZeroDivisionError("division by zero in toy check")


@dataclass(frozen=True, kw_only=True)
class ToyPass(Claim):
    id = "toy-pass"
    title = "One equals one"
    source = "toy, Eq. (2)"
    statement = "1 == 1"
    falsifier = "1 != 1"
    value: float = 1.0

    def evaluate(self, ctx: RunContext) -> Evidence:
        v = Verdict.PASS if self.value == 1.0 else Verdict.FAIL
        return Evidence("", v, f"value = {self.value}", key={"value": self.value})


@dataclass(frozen=True, kw_only=True)
class ToyFail(ToyPass):
    """A published claim the numbers contradict: a finding, not a bug."""

    id = "toy-fail"
    title = "One equals two"
    expect = "finding"
    value: float = 2.0
