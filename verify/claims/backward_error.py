"""Claims of backward error analysis for gradient descent (implicit gradient regularisation).

Sources: Barrett & Dherin, "Implicit Gradient Regularization", ICLR 2021
(arXiv:2009.11162), Theorem 3.1 and §2; Hairer, Lubich & Wanner, *Geometric
Numerical Integration* (2nd ed., 2006), ch. IX (modified equations, §IX.1;
theorem numbers not checked against the book).

Each order claim measures, for a step ladder h₀ > h₀/2 > …, the error of GD
against the exact flow of a field (the gradient flow, the IGR flow, or GD's
modified field truncated after h^K) at high precision and fits the log-log
slope (:mod:`theorycheck.numerics.order`). It runs on zoo losses and on
Hypothesis-generated random quadratics. Ladders start at the largest power of
two h₀ with h₀·λ_max(∇²L(θ₀)) ≤ 1/4 (:func:`~theorycheck.numerics.ladders.loss_ladder`),
so that every step is in the asymptotic regime of the expansion in h (the
modified series converges for h‖A‖ < 1 on quadratics); this is fixed before
measuring and never adjusted to make a check pass.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Iterable, Sequence

import lazy_loader as lazy

from theorycheck import maths, numerics, properties
from theorycheck.claims.base import Checked, Key, RunContext, Sizes
from theorycheck.claims.kinds import Ladder, OrderClaim, PropertyClaim, order_ladder
from theorycheck.claims.registry import register
from theorycheck.claims.sources import BARRETT_DHERIN, BERNOULLI_SERIES, HLW, HNW, IGR_THEOREM
from theorycheck.core.evidence import Case, Evidence, Figure, Verdict
from theorycheck.maths.constants import IGR_COEFFICIENT

sp = lazy.load("sympy")

#: Horizon T of the global studies (every ladder step divides it).
HORIZON = Fraction(1)
LOSSES = Sizes(quick=("rosenbrock",), full=("quadratic", "rosenbrock", "logistic", "trig", "tiny_net"))


# --- instances ------------------------------------------------------------------------


def zoo_instances(names: Sequence[str]) -> list[tuple[Any, tuple[Fraction, ...]]]:
    """(loss, exact start point) of each named zoo loss."""
    zoo, points = maths.losses.ZOO, maths.losses.ZOO_POINTS
    return [(zoo[n], maths.losses.exact_point(zoo[n], points[n])) for n in names]


def format_point(theta0: Sequence[Any]) -> str:
    return "(" + ", ".join(f"{float(x):.4g}" for x in theta0) + ")"


def describe_quadratic(example: tuple[Any, Sequence[Any]]) -> dict[str, Any]:
    """A random quadratic ½θᵀAθ and its start point as JSON (exact rationals as strings)."""
    loss, theta0 = example
    return {"A": [[str(x) for x in row] for row in loss.hessian.tolist()], "theta0": [str(x) for x in theta0]}


def _quadratic_name(loss: Any, theta0: Sequence[Any]) -> str:
    A = "[" + ", ".join("[" + ", ".join(str(x) for x in row) + "]" for row in loss.hessian.tolist()) + "]"
    return f"quadratic A={A} at {format_point(theta0)}"


def _random_points(d: int, n: int, seed: int) -> list[tuple[Fraction, ...]]:
    rng = random.Random(seed)
    return [tuple(Fraction(rng.randint(-90, 90), 100) for _ in range(d)) for _ in range(n)]


# --- order claims -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class GDOrderClaim(OrderClaim):
    """GD against the flow of one or more fields, local or global error, on zoo losses and random quadratics.

    Declare ``kind`` ("local" or "global") and :meth:`fields`: for one loss the
    fields to compare with and GD's expected order against each. Key numbers:
    ``order[<case>]`` for each zoo study, ``min_order`` and ``max_order`` over
    every case.
    """

    kind: ClassVar[str] = "local"
    tags: ClassVar[tuple[str, ...]] = ("backward-error", "order")
    #: Random quadratics (each compiles its own integrators).
    quadratic_examples: ClassVar[Sizes] = Sizes(1, 8)
    expected_order: float | None = None
    losses: tuple[str, ...] | None = None
    examples: int | None = None
    backend: str = "heyoka"

    def fields(self, loss: Any, ctx: RunContext) -> list[tuple[str, Any, float]]:
        """[(label, field, expected order)] for one loss."""
        raise NotImplementedError

    def expected(self, default: float) -> float:
        return default if self.expected_order is None else float(self.expected_order)

    def _ladders(self, loss: Any, theta0: Sequence[Any], prefix: str, ctx: RunContext) -> list[Ladder]:
        steps = numerics.ladders.loss_ladder(loss, theta0)
        step = maths.optimisers.gd(loss)
        out = []
        for label, f, expected in self.fields(loss, ctx):
            name = f"{prefix} vs {label}"
            out.append(order_ladder(name, step, f, theta0, steps, expected_order=expected, kind=self.kind,
                                    horizon=HORIZON, backend=self.backend, figure=f"{self.id}: {name}"))
        return out

    def check(self, ctx: RunContext) -> Iterable[Ladder]:
        for loss, theta0 in zoo_instances(LOSSES.pick(ctx, self.losses)):
            yield from self._ladders(loss, theta0, f"{loss.name} at {format_point(theta0)}", ctx)

    def check_quadratic(self, example: tuple[Any, Sequence[Any]], ctx: RunContext) -> Case:
        """The least favourable case of one random quadratic."""
        loss, theta0 = example
        cases = [lad.study.to_case(lad.name) for lad in self._ladders(loss, theta0, _quadratic_name(loss, theta0), ctx)]
        return min(cases, key=lambda c: (c.verdict is Verdict.PASS, c.margin if c.margin is not None else math.inf))

    def evaluate(self, ctx: RunContext) -> Evidence:
        checked = self.run_studies(ctx)
        n = self.quadratic_examples.pick(ctx, self.examples)
        if n > 0:
            out = properties.runner.check_property(
                f"{self.id} on random quadratics", properties.strategies.quadratics(),
                lambda ex: self.check_quadratic(ex, ctx), max_examples=n, seed=ctx.seed)
            checked.parts["quadratics"] = out.all_cases()
            checked.counterexample = out.counterexample_json(describe_quadratic)
        ladder = f"h0·λmax ≤ {numerics.ladders.KAPPA}, {numerics.ladders.LADDER_LENGTH} halvings"
        checked.settings.update({"kind": self.kind, "examples": n, "ladder": ladder})
        return self.assemble(checked)

    def figures(self, checked: Checked) -> Iterable[Figure]:
        """The ladder of each random quadratic's case too (the zoo ladders drew theirs as they ran)."""
        for c in checked.cases("quadratics"):
            study = numerics.order.OrderStudy.from_case(c)
            if study is not None:
                yield study.figure(f"{self.id}: {c.name}")

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        key: dict[str, Any] = {f"order[{c.name}]": c.measured.get("order") for c in checked.cases("cases")}
        orders = self.measured_orders(checked)
        key["min_order"] = min(orders) if orders else None
        key["max_order"] = max(orders) if orders else None
        return key

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        orders = self.measured_orders(checked)
        cases = checked.cases()
        expected = sorted({c.expected["order"] for c in cases if c.expected.get("order") is not None})
        if not orders:
            return f"no resolved {self.kind} order"
        return (f"{self.kind} order {min(orders):.3f}…{max(orders):.3f} over {len(cases)} cases, expected "
                f"{', '.join(f'{e:g}' for e in expected)}")


@register
@dataclass(frozen=True, kw_only=True)
class GDFlowLocalOrder(GDOrderClaim):
    id = "gd-flow-local-order"
    statement_kind = "theorem"
    title = "GD is first order: one-step error against gradient flow is O(h²)"
    source = f"{HNW}; GD as explicit Euler on the gradient flow: {BARRETT_DHERIN}, §2"
    statement = "‖θ − h∇L(θ) − φ_h^{flow}(θ)‖ = C h² + O(h³): fitted log-log slope 2."
    falsifier = "A fitted local order whose confidence interval excludes 2 on any loss or random quadratic."
    kind = "local"

    def fields(self, loss: Any, ctx: RunContext) -> list[tuple[str, Any, float]]:
        return [("flow", maths.modified.gradient_flow_field(loss), self.expected(2))]


@register
@dataclass(frozen=True, kw_only=True)
class GDFlowGlobalOrder(GDOrderClaim):
    id = "gd-flow-global-order"
    statement_kind = "theorem"
    title = "GD converges to gradient flow with global order 1 on a fixed horizon"
    source = f"{HNW}; GD as explicit Euler: {BARRETT_DHERIN}, §2"
    statement = "‖GD^N(θ₀) − φ_T^{flow}(θ₀)‖ = O(h), N = T/h, T = 1: fitted slope 1."
    falsifier = "A fitted global order whose confidence interval excludes 1."
    kind = "global"

    def fields(self, loss: Any, ctx: RunContext) -> list[tuple[str, Any, float]]:
        return [("flow", maths.modified.gradient_flow_field(loss), self.expected(1))]


@dataclass(frozen=True, kw_only=True)
class IGROrderClaim(GDOrderClaim):
    """GD against the flow of L + c·h‖∇L‖²; c = ¼ is the published coefficient (a mutant changes it)."""

    coefficient: Fraction = IGR_COEFFICIENT

    def fields(self, loss: Any, ctx: RunContext) -> list[tuple[str, Any, float]]:
        f = maths.modified.igr_field(loss, self.coefficient)
        return [(f.name, f, self.expected(3 if self.kind == "local" else 2))]


@register
@dataclass(frozen=True, kw_only=True)
class IGRLocalOrder(IGROrderClaim):
    id = "igr-local-order"
    statement_kind = "theorem"
    title = "GD follows the IGR flow of L + (h/4)‖∇L‖² with one-step error O(h³)"
    source = IGR_THEOREM
    statement = "‖θ − h∇L(θ) − φ_h^{IGR}(θ)‖ = O(h³), IGR field −∇(L + (h/4)‖∇L‖²): fitted slope 3."
    falsifier = "A fitted local order whose confidence interval excludes 3 (a wrong coefficient such as h/2 gives 2)."
    kind = "local"


@register
@dataclass(frozen=True, kw_only=True)
class IGRGlobalOrder(IGROrderClaim):
    id = "igr-global-order"
    statement_kind = "derived"
    title = "GD tracks the IGR flow with global error O(h²) on a fixed horizon"
    source = f"{IGR_THEOREM}; global order from the local one by {HNW}"
    statement = "‖GD^N(θ₀) − φ_T^{IGR}(θ₀)‖ = O(h²), N = T/h, T = 1: fitted slope 2."
    falsifier = "A fitted global order whose confidence interval excludes 2."
    kind = "global"


@register
@dataclass(frozen=True, kw_only=True)
class ModifiedTruncationOrder(GDOrderClaim):
    id = "modified-truncation-order"
    statement_kind = "theorem"
    title = "Truncating GD's modified field after h^k leaves a one-step error O(h^(k+2)), k = 0..4"
    source = f"{HLW}: the modified field is built so that φ_h^{{f̃_k}} − Φ_h = O(h^(k+2))"
    statement = "For k = 0..4, ‖GD(θ) − φ_h^{modified:k}(θ)‖ = O(h^(k+2)): fitted slope k + 2."
    falsifier = ("Any k whose fitted local order has a confidence interval excluding k + 2 (a dropped h² term gives 3 "
                 "at k = 2).")
    kind = "local"
    quadratic_examples = Sizes(1, 5)  # each random quadratic compiles five fields
    # quick mode: k = 0 and 1 are the gd-flow and igr claims' fields (k = 0 shares their compiled integrator)
    truncations: ClassVar[Sizes] = Sizes((0, 2, 4), (0, 1, 2, 3, 4))
    orders: tuple[int, ...] | None = None
    omit: tuple[int, ...] = ()
    offset: int = 2

    def fields(self, loss: Any, ctx: RunContext) -> list[tuple[str, Any, float]]:
        out = []
        for k in self.truncations.pick(ctx, self.orders):
            f = maths.modified.modified_field(loss, k, omit=tuple(j for j in self.omit if j <= k))
            out.append((f.name, f, self.expected(k + self.offset)))
        return out


@register
@dataclass(frozen=True, kw_only=True)
class ModifiedTruncationGlobalOrder(ModifiedTruncationOrder):
    id = "modified-truncation-global-order"
    statement_kind = "theorem"
    title = "GD tracks GD's modified field truncated after h^k with global error O(h^(k+1)), k = 0..4"
    source = f"{HLW}; local O(h^(k+2)) ⇒ global O(h^(k+1)) by {HNW}"
    statement = "For k = 0..4, ‖GD^N(θ₀) − φ_T^{modified:k}(θ₀)‖ = O(h^(k+1)), N = T/h, T = 1: fitted slope k + 1."
    falsifier = "Any k whose fitted global order has a confidence interval excluding k + 1."
    kind = "global"
    # global runs iterate GD N = T/h times and integrate to T: quick mode checks one truncation
    truncations = Sizes((2,), (0, 1, 2, 3, 4))
    offset: int = 1


# --- symbolic claims ---------------------------------------------------------------------


def _max_rel_diff(a: Sequence[Sequence[Any]], b: Sequence[Sequence[Any]]) -> float:
    import mpmath

    scale = max([abs(x) for row in b for x in row] + [mpmath.mpf(1)])
    return float(max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)) / scale)


@dataclass(frozen=True, kw_only=True)
class QuadraticPropertyClaim(PropertyClaim):
    """A property over Hypothesis-generated random quadratics ½θᵀAθ (exact rational A)."""

    tags: ClassVar[tuple[str, ...]] = ("backward-error", "symbolic")

    def strategy(self, ctx: RunContext) -> Any:
        return properties.strategies.quadratics()

    def describe(self, instance: Any) -> Any:
        return describe_quadratic(instance)


@register
@dataclass(frozen=True, kw_only=True)
class BernoulliEqualsTaylor(QuadraticPropertyClaim):
    id = "bernoulli-equals-taylor"
    statement_kind = "derived"
    title = ("The Bernoulli series of backward error analysis equals the Taylor-matched modified field, term by term "
             "(k ≤ 4)")
    source = f"{BERNOULLI_SERIES}; Taylor matching: {HLW}"
    statement = ("Solving θ̇ = −Σ_m (B_m/m!) h^m D^m g order by order, D the derivative along the modified flow, gives "
                 "the same F_j as matching exp(h L_f̃) id with θ − hg, for j = 0..4.")
    falsifier = ("A term F_j whose two derivations differ: as exact polynomials in the derivatives of a generic L, or "
                 "numerically (at 50 digits) at a point of a concrete loss.")
    examples = Sizes(3, 20)
    keys = (Key("worst_rel_diff", "max_rel_diff_per_term", "max"), Key("all_equal", reduce="passes"))
    DPS: ClassVar[int] = 50
    #: random points per zoo loss at which the two routes are compared numerically
    points: ClassVar[Sizes] = Sizes(2, 3)
    k: int = 4
    dims: tuple[int, ...] = (1, 2, 3)
    bernoulli: tuple[Any, ...] | None = None
    losses: tuple[str, ...] | None = None

    def check(self, instance: Any, ctx: RunContext) -> Case:
        loss, _ = instance
        taylor = maths.modified.modified_terms(loss, self.k)
        bern = maths.modified.bernoulli_terms(loss, self.k, bernoulli=self.bernoulli)
        bad = [j for j, (t, s) in enumerate(zip(taylor, bern)) if any(sp.expand(a - b) != 0 for a, b in zip(t, s))]
        return Case(name=f"quadratic d={loss.dim}", verdict=Verdict.pass_if(not bad),
                    measured={"differing_terms": bad}, expected={"differing_terms": []},
                    note="Taylor and Bernoulli terms expand to the same polynomials" if not bad else
                    f"terms h^{bad} differ after expansion")

    def _generic_case(self, d: int) -> Case:
        agree = maths.jets.generic_agreement(d, self.k, bernoulli=self.bernoulli)
        sizes = [len(p.terms()) for p in (t[0] for t in maths.jets.generic_terms(d, self.k, "taylor"))]
        bad = [j for j, ok in enumerate(agree) if not ok]
        return Case(
            name=f"generic L in d={d} (exact polynomial identity in ∂^αL)",
            verdict=Verdict.pass_if(not bad),
            measured={"terms_equal": agree, "monomials_per_term": sizes},
            expected={"terms_equal": [True] * len(agree)},
            note=("all terms identical as polynomials over ℚ" if not bad else
                  f"terms h^{bad} differ as polynomials over ℚ: the derivations disagree for generic L"),
        )

    def _loss_case(self, loss: Any, k: int, points: Sequence[Sequence[Fraction]]) -> Case:
        direct = maths.modified.direct_terms(loss, k, "bernoulli", bernoulli=self.bernoulli)
        taylor = maths.modified.modified_terms(loss, k)
        a = maths.modified.evaluate_terms(loss, direct, points, self.DPS)
        b = maths.modified.evaluate_terms(loss, taylor, points, self.DPS)
        per_term = [max(_max_rel_diff([a[p][j]], [b[p][j]]) for p in range(len(points))) for j in range(k + 1)]
        tol = 10.0 ** (-(self.DPS - 10))
        bad = [j for j, e in enumerate(per_term) if not e <= tol]
        return Case(
            name=f"{loss.name}: direct sympy Bernoulli route vs jet Taylor route, {len(points)} points",
            verdict=Verdict.pass_if(not bad),
            measured={"max_rel_diff_per_term": per_term, "points": [[str(x) for x in p] for p in points]},
            expected={"max_rel_diff": 0.0},
            tolerance={"rel": tol, "dps": self.DPS},
            margin=math.log10(tol) - math.log10(max(max(per_term), 1e-300)),
            note="agree to working precision" if not bad else f"terms h^{bad} differ beyond {tol:.0e}",
        )

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        cases = [self._generic_case(d) for d in Sizes(self.dims[:2], self.dims).pick(ctx)]
        for i, name in enumerate(LOSSES.pick(ctx, self.losses)):
            loss = maths.losses.ZOO[name]
            # the plain-sympy route swells (≈10⁵ operations at h⁴ on transcendental losses): h³ there;
            # quick mode checks fewer terms numerically, the generic identity covers all k
            k = self.k if loss.polynomial_degree is not None and not ctx.quick else min(self.k, 3)
            cases.append(self._loss_case(loss, k, _random_points(loss.dim, self.points.pick(ctx), ctx.seed + i)))
        checked.parts["zoo"] = cases

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        equal = "equal" if key["all_equal"] else "NOT equal"
        n_gen = sum(1 for c in checked.cases("zoo") if c.name.startswith("generic"))
        worst = key["worst_rel_diff"]
        if math.isnan(worst):
            return f"{equal} through h^{self.k}"
        return (f"{equal} through h^{self.k}: exact identity for generic L in {n_gen} dimension(s); worst numeric rel. "
                f"diff {worst:.1e} at {self.DPS} digits")


@register
@dataclass(frozen=True, kw_only=True)
class QuadraticExactModifiedField(QuadraticPropertyClaim):
    id = "quadratic-exact-modified-field"
    statement_kind = "derived"
    title = "On ½θᵀAθ the modified field is (1/h)·log(I − hA)θ"
    source = f"{HLW}, linear case: (I − hA) = exp(log(I − hA)), h‖A‖ < 1"
    statement = "For every term j = 0..k: F_j = −A^(j+1)θ/(j+1), the h^j coefficient of (1/h)log(I − hA)θ."
    falsifier = "A term F_j that is not exactly −A^(j+1)θ/(j+1) for some symmetric A."
    examples = Sizes(10, 50)
    keys = (Key("all_equal", reduce="passes"),)
    k: int = 4
    coefficients: tuple[Any, ...] | None = None

    def check(self, instance: Any, ctx: RunContext) -> Case:
        loss = instance[0]
        A = loss.hessian
        terms = maths.modified.modified_terms(loss, self.k)
        exact = maths.modified.quadratic_log_terms(A, loss.variables, self.k, self.coefficients)
        bad = [j for j in range(self.k + 1) if any(sp.expand(a - b) != 0 for a, b in zip(terms[j], exact[j]))]
        return Case(name=f"{loss.name} d={loss.dim}", verdict=Verdict.pass_if(not bad),
                    measured={"differing_terms": bad, "A": [[str(x) for x in r] for r in A.tolist()]},
                    expected={"differing_terms": []},
                    note=f"F_0..F_{self.k} equal the log series exactly" if not bad else
                    f"terms h^{bad} differ from the log series")

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        checked.parts["zoo"] = [self.check((maths.losses.ZOO["quadratic"], ()), ctx)]

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        return {"k": self.k}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        return f"{'exact' if key['all_equal'] else 'MISMATCH'} through h^{self.k} on {len(checked.cases())} quadratics"


@register
@dataclass(frozen=True, kw_only=True)
class GradientFieldTerms(QuadraticPropertyClaim):
    id = "gradient-field-terms"
    statement_kind = "extrapolation"
    expect = "finding"
    title = "Every term of GD's modified field is a gradient field (a modified loss to all orders)"
    source = (f"Extrapolation of {BARRETT_DHERIN}, Thm 3.1, which writes only the h¹ term as a loss, −¼∇‖∇L‖²; "
              f"tested here for the h² … h⁴ terms ({HLW})")
    statement = ("For j = 1..4 the h^j term F_j of GD's modified field has a symmetric Jacobian, so that "
                 "f̃ = −∇(L + hL₁ + h²L₂ + …) for some modified loss to every order.")
    falsifier = "A point where ‖J − Jᵀ‖_F of some F_j exceeds rounding (relative 1e-20 at 30 digits)."
    tags = ("backward-error", "symbolic", "finding")
    examples = Sizes(3, 20)
    keys = (Key("max_relative_asymmetry", "relative_asymmetry", "max"),)
    DPS: ClassVar[int] = 30
    #: the separable trig loss is the control: all its terms are gradients
    zoo: ClassVar[Sizes] = Sizes(("rosenbrock", "trig"), LOSSES.full)
    #: random points per zoo loss, beside its default point
    random_points: ClassVar[Sizes] = Sizes(0, 2)
    terms: tuple[int, ...] = (1, 2, 3, 4)
    threshold: float = 1e-20
    losses: tuple[str, ...] | None = None

    def _terms(self, ctx: RunContext) -> tuple[int, ...]:
        return self.terms if not ctx.quick else tuple(j for j in self.terms if j <= 3)

    def _point_case(self, loss: Any, j: int, point: Sequence[Any]) -> Case:
        a = maths.gradient_field.jacobian_asymmetry(loss, j, point, self.DPS)
        sym = a.relative <= self.threshold
        return Case(
            name=f"{loss.name}: f_{j + 1} (h^{j}) at {format_point(point)}",
            verdict=Verdict.pass_if(sym),
            measured={"term": j, "asymmetry": a.size, "relative_asymmetry": a.relative,
                      "jacobian_norm": a.jacobian_norm, "point": [str(x) for x in point]},
            expected={"asymmetry": 0.0},
            tolerance={"relative": self.threshold, "dps": self.DPS},
            margin=math.log10(self.threshold) - math.log10(max(a.relative, 1e-300)),
            note=(f"symmetric Jacobian (‖J−Jᵀ‖ = {a.size:.1e})" if sym else
                  f"not a gradient field: ‖J − Jᵀ‖_F = {a.size:.3e} ({a.relative:.1%} of ‖J‖_F)"),
        )

    def _generic_case(self, d: int, j: int) -> Case:
        asym = maths.gradient_field.generic_asymmetry(d, j)
        zero = all(p == 0 for p in asym)
        example = "" if zero else str(asym[0].as_expr())
        return Case(
            name=f"generic L in d={d}: f_{j + 1} (h^{j})",
            verdict=Verdict.pass_if(zero),
            measured={"asymmetry_monomials": [len(p.terms()) for p in asym]},
            expected={"asymmetry_monomials": [0] * len(asym)},
            note=("J − Jᵀ vanishes identically: a gradient field for every L" if zero else
                  f"J − Jᵀ is a nonzero polynomial in ∂^αL, e.g. (J−Jᵀ)_12 = {example[:300]}"),
        )

    def check(self, instance: Any, ctx: RunContext) -> Case:
        loss, theta0 = instance
        cases = [self._point_case(loss, j, theta0) for j in self._terms(ctx)]
        return max(cases, key=lambda c: c.measured["relative_asymmetry"])

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        terms = self._terms(ctx)
        cases = [self._generic_case(2, j) for j in terms]
        for i, name in enumerate(self.zoo.pick(ctx, self.losses)):
            loss = maths.losses.ZOO[name]
            points = [maths.losses.exact_point(loss, maths.losses.ZOO_POINTS[name])] + _random_points(
                loss.dim, self.random_points.pick(ctx), ctx.seed + i)
            for j in terms:
                cases += [self._point_case(loss, j, p) for p in points]
        checked.parts["zoo"] = cases

    def evaluate(self, ctx: RunContext) -> Evidence:
        checked = self.run_properties(ctx)
        failing = [c for c in checked.cases() if c.verdict is Verdict.FAIL and "relative_asymmetry" in c.measured]
        if failing:
            # the counterexample: the lowest failing power of h, at its most asymmetric point
            first = min(failing, key=lambda c: (c.measured["term"], -c.measured["relative_asymmetry"]))
            checked.counterexample = {"case": first.name, "measured": first.measured, "note": first.note}
            checked.extra["first_failing"] = first
        return self.assemble(checked)

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        terms = sorted({c.name.split(": ")[1].split(" ")[0] for c in checked.cases("zoo")
                        if c.name.startswith("generic") and c.verdict is Verdict.PASS})
        return {"gradient_terms_generic": terms}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        terms = key["gradient_terms_generic"]
        first = checked.extra.get("first_failing")
        if first is None:
            return f"all tested terms symmetric ({', '.join(terms) or 'none generic'} identically)"
        return (f"{', '.join(terms)} gradient for every L; {first.name}: ‖J−Jᵀ‖ = "
                f"{first.measured['asymmetry']:.2e} ({first.measured['relative_asymmetry']:.0%})")



__all__ = ["BernoulliEqualsTaylor", "GDFlowGlobalOrder", "GDFlowLocalOrder", "GDOrderClaim", "GradientFieldTerms",
           "HORIZON", "IGRGlobalOrder", "IGRLocalOrder", "IGROrderClaim", "LOSSES", "ModifiedTruncationGlobalOrder",
           "ModifiedTruncationOrder", "QuadraticPropertyClaim", "QuadraticExactModifiedField", "describe_quadratic",
           "format_point", "zoo_instances"]
