"""Claims of backward error analysis for gradient descent (implicit gradient regularisation).

Sources: Barrett & Dherin, "Implicit Gradient Regularization", ICLR 2021
(arXiv:2009.11162), Theorem 3.1 and §2 (the seed ``000``); Hairer, Lubich &
Wanner, *Geometric Numerical Integration* (2nd ed., 2006), ch. IX (modified
equations, §IX.1; the local error of the truncated modified equation; theorem numbers not verified).

Each order claim measures, for a step ladder h₀ > h₀/2 > …, the error of GD
against the exact flow of a field (the gradient flow, the IGR flow, or GD's
modified field truncated after h^K) at high precision and fits the log-log
slope (``theorycheck.numerics.order``). It runs on zoo losses and on Hypothesis-generated
random quadratics. Ladders start at the largest power of two h₀ with
h₀·λ_max(∇²L(θ₀)) ≤ 1/4, so that every step is in the asymptotic regime of
the expansion in h (the modified series converges for h‖A‖ < 1 on quadratics);
this is fixed before measuring and never adjusted to make a check pass.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
import sympy as sp

from theorycheck.claims import Claim, RunContext, register
from theorycheck.core.evidence import Case, Evidence, Verdict, combine
from theorycheck.maths.fields import Field
from theorycheck.maths.losses import ZOO, ZOO_POINTS, Loss
from theorycheck.maths import modified as M

BARRETT_DHERIN = "Barrett & Dherin, Implicit Gradient Regularization, ICLR 2021 (arXiv:2009.11162)"
THM31 = (f"{BARRETT_DHERIN}, Theorem 3.1: GD θ⁺ = θ − h∇L follows the flow of the modified loss "
         "L̃ = L + (h/4)‖∇L‖² (written there as L + λR_IG, λ = mh/4, R_IG = (1/m)‖∇L‖²) up to a one-step error O(h³). "
         "Statement as in the seed and DESIGN.md; the theorem's exact wording could not be retrieved with the search tool")
HLW = ("Hairer, Lubich & Wanner, Geometric Numerical Integration, 2nd ed., §IX.1 (modified equations by Taylor "
       "matching; theorem numbers not verified)")
HNW = ("Hairer, Nørsett & Wanner, Solving ODEs I, 2nd ed., §II.3 (explicit Euler has order 1; local O(h^(p+1)) ⇒ "
       "global O(h^p) for one-step methods; theorem number not verified)")

KAPPA = Fraction(1, 4)  # largest h·λ_max(H(θ₀)) on a ladder
LADDER_LENGTH = 6
HORIZON = Fraction(1)
QUICK_LOSSES = ("rosenbrock",)
FULL_LOSSES = ("quadratic", "rosenbrock", "logistic", "trig", "tiny_net")


# --- instances ------------------------------------------------------------------------

def exact_point(loss: Loss, values: Any) -> tuple[Fraction, ...]:
    """A point as exact rationals (0.7 → 7/10), validated by :meth:`Loss.point`."""
    return tuple(Fraction(str(v)) if not isinstance(v, (Fraction, int)) else Fraction(v)
                 for v in loss.point(values))


def curvature(loss: Loss, theta0: Sequence[Any]) -> float:
    """λ_max of |∇²L(θ₀)| (largest absolute eigenvalue), in float64."""
    f = sp.lambdify(loss.variables, loss.hessian, modules="numpy")
    Hm = np.asarray(f(*[float(x) for x in theta0]), dtype=float).reshape(loss.dim, loss.dim)
    return float(np.max(np.abs(np.linalg.eigvalsh((Hm + Hm.T) / 2))))


def step_ladder(loss: Loss, theta0: Sequence[Any], n: int = LADDER_LENGTH, kappa: Fraction = KAPPA) -> list[Fraction]:
    """h₀, h₀/2, …, h₀/2^{n−1} with h₀ = 2^{−m}, m ≥ 3 the least with h₀·λ_max(∇²L(θ₀)) ≤ κ.

    Powers of two divide the horizon T = 1 exactly, so global studies take
    N = T/h whole steps.
    """
    lam = curvature(loss, theta0)
    m = 3 if lam <= 0 else max(3, math.ceil(math.log2(lam / float(kappa))))
    return [Fraction(1, 2 ** (m + i)) for i in range(n)]


def zoo_instances(ctx: RunContext, losses: Sequence[str] | None = None) -> list[tuple[Loss, tuple[Fraction, ...]]]:
    names = losses if losses is not None else (QUICK_LOSSES if ctx.quick else FULL_LOSSES)
    return [(ZOO[n], exact_point(ZOO[n], ZOO_POINTS[n])) for n in names]


def _fmt_point(theta0: Sequence[Any]) -> str:
    return "(" + ", ".join(f"{float(x):.4g}" for x in theta0) + ")"


def _fmt_matrix(A: Any) -> str:
    return "[" + ", ".join("[" + ", ".join(str(x) for x in row) + "]" for row in A.tolist()) + "]"


def _describe_quadratic(example: tuple[Loss, Sequence[Any]]) -> dict[str, Any]:
    loss, theta0 = example
    return {"A": [[str(x) for x in row] for row in loss.hessian.tolist()], "theta0": [str(x) for x in theta0]}


def _quadratics(d_max: int = 3):
    from hypothesis import strategies as st

    # the private module: theorycheck.properties.strategies also imports the nets strategies (scipy.stats, seconds to import)
    from theorycheck.properties._linalg import quadratics

    return quadratics(d=st.integers(1, d_max))


# --- order claims -------------------------------------------------------------------------

class _OrderClaim(Claim):
    """GD against the flow of one field, local or global error, on zoo losses and random quadratics.

    Subclasses set ``kind`` and implement :meth:`fields` (the field(s) to
    compare with and their expected orders).
    """

    kind: str = "local"
    tags = ("backward-error", "order")
    quick_examples = 1  # random quadratics (each compiles its own integrators)
    full_examples = 8

    def __init__(self, expected_order: float | None = None, losses: Sequence[str] | None = None,
                 examples: int | None = None, backend: str = "heyoka") -> None:
        self.expected_order = expected_order
        self.losses = losses
        self.examples = examples
        self.backend = backend

    # subclass hook: [(label, field, expected order)] for one loss
    def fields(self, loss: Loss, ctx: RunContext) -> list[tuple[str, Field, float]]:
        raise NotImplementedError

    def _expected(self, default: float) -> float:
        return default if self.expected_order is None else float(self.expected_order)

    def _study(self, loss: Loss, theta0: Sequence[Any], field: Field, expected: float) -> Any:
        from theorycheck.maths.optimisers import gd
        from theorycheck.numerics.order import global_error_study, local_error_study

        steps = step_ladder(loss, theta0)
        if self.kind == "local":
            return local_error_study(gd(loss), field, theta0, steps, expected_order=expected, backend=self.backend)
        return global_error_study(gd(loss), field, theta0, steps, horizon=HORIZON, expected_order=expected,
                                  backend=self.backend)

    def _cases(self, loss: Loss, theta0: Sequence[Any], prefix: str, ctx: RunContext) -> tuple[list[Case], list[Any]]:
        cases, studies = [], []
        for label, field, expected in self.fields(loss, ctx):
            st = self._study(loss, theta0, field, expected)
            name = f"{prefix} vs {label}"
            cases.append(st.to_case(name))
            studies.append((name, st))
        return cases, studies

    def _run_impl(self, ctx: RunContext) -> Evidence:
        from theorycheck.properties.runner import check_property

        cases: list[Case] = []
        figures = []
        key: dict[str, Any] = {}
        for loss, theta0 in zoo_instances(ctx, self.losses):
            cs, studies = self._cases(loss, theta0, f"{loss.name} at {_fmt_point(theta0)}", ctx)
            cases += cs
            for name, st in studies:
                key[f"order[{name}]"] = st.order
                figures.append(st.figure(f"{self.id}: {name}"))

        def check(example: tuple[Loss, Sequence[Any]]) -> Case:
            loss, theta0 = example
            cs, _ = self._cases(loss, theta0, f"quadratic A={_fmt_matrix(loss.hessian)} at {_fmt_point(theta0)}", ctx)
            worst = min(cs, key=lambda c: (c.verdict is Verdict.PASS, c.margin if c.margin is not None else math.inf))
            return worst

        n_ex = self.examples if self.examples is not None else self.quick_examples if ctx.quick else self.full_examples
        outcome = None
        if n_ex > 0:
            outcome = check_property(f"{self.id} on random quadratics", _quadratics(), check, max_examples=n_ex,
                                     seed=ctx.seed)
            cases += outcome.cases
            if outcome.counterexample is not None:
                cases.append(outcome.counterexample[1])
        orders = [c.measured.get("order") for c in cases if c.measured.get("order") is not None]
        expected = sorted({c.expected.get("order") for c in cases if c.expected.get("order") is not None})
        summary = (f"{self.kind} order {min(orders):.3f}…{max(orders):.3f} over {len(cases)} cases, expected "
                   f"{', '.join(f'{e:g}' for e in expected)}" if orders else f"no resolved {self.kind} order")
        key["min_order"] = min(orders) if orders else None
        key["max_order"] = max(orders) if orders else None
        return Evidence.from_cases(self.id, cases, summary, key=key, figures=figures,
                                   counterexample=outcome.counterexample_json(_describe_quadratic) if outcome else None,
                                   settings={"kind": self.kind, "backend": self.backend,
                                             "ladder": f"h0·λmax ≤ {KAPPA}, {LADDER_LENGTH} halvings",
                                             "examples": n_ex})


@register
class GDFlowLocalOrder(_OrderClaim):
    id = "gd-flow-local-order"
    title = "GD is first order: one-step error against gradient flow is O(h²)"
    source = f"{HNW}; GD as explicit Euler on the gradient flow: {BARRETT_DHERIN}, §2 (seed eq. θ_(t+γ) = θ_t − γg)"
    statement = "‖θ − h∇L(θ) − φ_h^{flow}(θ)‖ = C h² + O(h³): fitted log-log slope 2."
    falsifier = "A fitted local order whose confidence interval excludes 2 on any loss or random quadratic."
    kind = "local"

    def fields(self, loss: Loss, ctx: RunContext) -> list[tuple[str, Field, float]]:
        return [("flow", M.gradient_flow_field(loss), self._expected(2))]


@register
class GDFlowGlobalOrder(_OrderClaim):
    id = "gd-flow-global-order"
    title = "GD converges to gradient flow with global order 1 on a fixed horizon"
    source = f"{HNW}; GD as explicit Euler: {BARRETT_DHERIN}, §2"
    statement = "‖GD^N(θ₀) − φ_T^{flow}(θ₀)‖ = O(h), N = T/h, T = 1: fitted slope 1."
    falsifier = "A fitted global order whose confidence interval excludes 1."
    kind = "global"

    def fields(self, loss: Loss, ctx: RunContext) -> list[tuple[str, Field, float]]:
        return [("flow", M.gradient_flow_field(loss), self._expected(1))]


class _IGRClaim(_OrderClaim):
    def __init__(self, coefficient: Any = M.IGR_COEFFICIENT, expected_order: float | None = None, **kw: Any) -> None:
        super().__init__(expected_order=expected_order, **kw)
        self.coefficient = sp.Rational(coefficient)

    def fields(self, loss: Loss, ctx: RunContext) -> list[tuple[str, Field, float]]:
        f = M.igr_field(loss, self.coefficient)
        return [(f.name, f, self._expected(3 if self.kind == "local" else 2))]


@register
class IGRLocalOrder(_IGRClaim):
    id = "igr-local-order"
    title = "GD follows the IGR flow of L + (h/4)‖∇L‖² with one-step error O(h³)"
    source = THM31
    statement = "‖θ − h∇L(θ) − φ_h^{IGR}(θ)‖ = O(h³), IGR field −∇(L + (h/4)‖∇L‖²): fitted slope 3."
    falsifier = "A fitted local order whose confidence interval excludes 3 (a wrong coefficient such as h/2 gives 2)."
    kind = "local"


@register
class IGRGlobalOrder(_IGRClaim):
    id = "igr-global-order"
    title = "GD tracks the IGR flow with global error O(h²) on a fixed horizon"
    source = f"{THM31}; global order from the local one by {HNW}"
    statement = "‖GD^N(θ₀) − φ_T^{IGR}(θ₀)‖ = O(h²), N = T/h, T = 1: fitted slope 2."
    falsifier = "A fitted global order whose confidence interval excludes 2."
    kind = "global"


@register
class ModifiedTruncationOrder(_OrderClaim):
    id = "modified-truncation-order"
    title = "Truncating GD's modified field after h^k leaves a one-step error O(h^(k+2)), k = 0..4"
    source = f"{HLW}: the modified field is built so that φ_h^{{f̃_k}} − Φ_h = O(h^(k+2))"
    statement = "For k = 0..4, ‖GD(θ) − φ_h^{modified:k}(θ)‖ = O(h^(k+2)): fitted slope k + 2."
    falsifier = "Any k whose fitted local order has a confidence interval excluding k + 2 (a dropped h² term gives 3 at k = 2)."
    kind = "local"

    def __init__(self, orders: Sequence[int] | None = None, omit: Sequence[int] = (), offset: int = 2,
                 **kw: Any) -> None:
        super().__init__(**kw)
        self.orders = tuple(orders) if orders is not None else None
        self.omit = tuple(omit)
        self.offset = offset

    quick_examples = 1
    full_examples = 5  # each random quadratic compiles five fields
    # quick mode: k = 0 and 1 are the gd-flow and igr claims' fields (k = 0 shares their compiled integrator)
    quick_orders: tuple[int, ...] = (0, 2, 4)

    def fields(self, loss: Loss, ctx: RunContext) -> list[tuple[str, Field, float]]:
        out = []
        default = self.quick_orders if ctx.quick else (0, 1, 2, 3, 4)
        for k in self.orders if self.orders is not None else default:
            f = M.modified_field(loss, k, omit=tuple(j for j in self.omit if j <= k))
            out.append((f.name, f, self._expected(k + self.offset)))
        return out


@register
class ModifiedTruncationGlobalOrder(ModifiedTruncationOrder):
    id = "modified-truncation-global-order"
    title = "GD tracks GD's modified field truncated after h^k with global error O(h^(k+1)), k = 0..4"
    source = f"{HLW}; local O(h^(k+2)) ⇒ global O(h^(k+1)) by {HNW}"
    statement = "For k = 0..4, ‖GD^N(θ₀) − φ_T^{modified:k}(θ₀)‖ = O(h^(k+1)), N = T/h, T = 1: fitted slope k + 1."
    falsifier = "Any k whose fitted global order has a confidence interval excluding k + 1."
    kind = "global"
    quick_orders = (2,)  # global runs iterate GD N = T/h times and integrate to T: quick mode checks one truncation

    def __init__(self, orders: Sequence[int] | None = None, omit: Sequence[int] = (), offset: int = 1,
                 **kw: Any) -> None:
        super().__init__(orders=orders, omit=omit, offset=offset, **kw)


# --- symbolic claims ---------------------------------------------------------------------

def _random_points(d: int, n: int, seed: int) -> list[tuple[Fraction, ...]]:
    rng = random.Random(seed)
    return [tuple(Fraction(rng.randint(-90, 90), 100) for _ in range(d)) for _ in range(n)]


def _max_rel_diff(a: Sequence[Sequence[Any]], b: Sequence[Sequence[Any]]) -> float:
    import mpmath

    scale = max([abs(x) for row in b for x in row] + [mpmath.mpf(1)])
    return float(max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb)) / scale)


@register
class BernoulliEqualsTaylor(Claim):
    id = "bernoulli-equals-taylor"
    title = "The seed's Bernoulli series equals the Taylor-matched modified field, term by term (k ≤ 4)"
    source = (f"Seed 000 (§1: θ̇ = −(hD/(e^(hD)−1))g = −(1 − hD/2 + h²D²/12 − h⁴D⁴/720 + …)g), after {BARRETT_DHERIN}, §2; "
              f"Taylor matching: {HLW}")
    statement = ("Solving θ̇ = −Σ_m (B_m/m!) h^m D^m g order by order, D the derivative along the modified flow, gives the same "
                 "F_j as matching exp(h L_f̃) id with θ − hg, for j = 0..4.")
    falsifier = ("A term F_j whose two derivations differ: as exact polynomials in the derivatives of a generic L, or numerically "
                 "(at 50 digits) at a point of a concrete loss.")
    tags = ("backward-error", "symbolic")

    DPS = 50

    def __init__(self, k: int = 4, dims: Sequence[int] = (1, 2, 3), bernoulli: Sequence[Any] | None = None,
                 losses: Sequence[str] | None = None, examples: int | None = None) -> None:
        self.k = k
        self.dims = tuple(dims)
        self.bernoulli = None if bernoulli is None else tuple(sp.Rational(c) for c in bernoulli)
        self.losses = losses
        self.examples = examples

    def _generic_case(self, d: int) -> Case:
        agree = M.generic_agreement(d, self.k, bernoulli=self.bernoulli)
        sizes = [len(p.terms()) for p in (t[0] for t in M.generic_terms(d, self.k, "taylor"))]
        bad = [j for j, ok in enumerate(agree) if not ok]
        return Case(
            name=f"generic L in d={d} (exact polynomial identity in ∂^αL)",
            verdict=Verdict.PASS if not bad else Verdict.FAIL,
            measured={"terms_equal": agree, "monomials_per_term": sizes},
            expected={"terms_equal": [True] * len(agree)},
            note=("all terms identical as polynomials over ℚ" if not bad else
                  f"terms h^{bad} differ as polynomials over ℚ: the derivations disagree for generic L"),
        )

    def _loss_case(self, loss: Loss, k: int, points: Sequence[Sequence[Fraction]]) -> Case:
        direct = M.direct_terms(loss, k, "bernoulli", bernoulli=self.bernoulli)
        taylor = M.modified_terms(loss, k)
        a = M.evaluate_terms(loss, direct, points, self.DPS)
        b = M.evaluate_terms(loss, taylor, points, self.DPS)
        per_term = [max(_max_rel_diff([a[p][j]], [b[p][j]]) for p in range(len(points))) for j in range(k + 1)]
        tol = 10.0 ** (-(self.DPS - 10))
        bad = [j for j, e in enumerate(per_term) if not e <= tol]
        return Case(
            name=f"{loss.name}: direct sympy Bernoulli route vs jet Taylor route, {len(points)} points",
            verdict=Verdict.PASS if not bad else Verdict.FAIL,
            measured={"max_rel_diff_per_term": per_term, "points": [[str(x) for x in p] for p in points]},
            expected={"max_rel_diff": 0.0},
            tolerance={"rel": tol, "dps": self.DPS},
            margin=math.log10(tol) - math.log10(max(max(per_term), 1e-300)),
            note="agree to working precision" if not bad else f"terms h^{bad} differ beyond {tol:.0e}",
        )

    def _run_impl(self, ctx: RunContext) -> Evidence:
        from theorycheck.properties.runner import check_property

        cases = [self._generic_case(d) for d in (self.dims if not ctx.quick else self.dims[:2])]
        names = self.losses if self.losses is not None else (("rosenbrock",) if ctx.quick else FULL_LOSSES)
        for i, name in enumerate(names):
            loss = ZOO[name]
            # the plain-sympy route swells (≈10⁵ operations at h⁴ on transcendental losses): h³ there
            # quick mode checks fewer terms numerically; the generic identity above covers all k
            k = self.k if loss.polynomial_degree is not None and not ctx.quick else min(self.k, 3)
            cases.append(self._loss_case(loss, k, _random_points(loss.dim, 2 if ctx.quick else 3, ctx.seed + i)))

        def check(example: tuple[Loss, Sequence[Any]]) -> Case:
            loss, _ = example
            T = M.modified_terms(loss, self.k)
            B = M.generic_terms(loss.dim, self.k, "bernoulli", maxorder=2, bernoulli=self.bernoulli)
            jet = M._jet(loss.dim, 2)
            Bc = [[M._concretise(loss, p, jet, True) for p in Fj] for Fj in B]
            diff = [[sp.expand(a - b) for a, b in zip(t, s)] for t, s in zip(T, Bc)]
            bad = [j for j, row in enumerate(diff) if any(x != 0 for x in row)]
            return Case(name=f"quadratic d={loss.dim}", verdict=Verdict.PASS if not bad else Verdict.FAIL,
                        measured={"differing_terms": bad}, expected={"differing_terms": []},
                        note="Taylor and Bernoulli terms expand to the same polynomials" if not bad else
                        f"terms h^{bad} differ after expansion")

        n_ex = self.examples if self.examples is not None else (3 if ctx.quick else 20)
        outcome = check_property(f"{self.id} on random quadratics", _quadratics(), check, max_examples=n_ex, seed=ctx.seed)
        cases += outcome.cases + ([outcome.counterexample[1]] if outcome.counterexample else [])
        n_gen = sum(1 for c in cases if c.name.startswith("generic"))
        worst = max((max(c.measured["max_rel_diff_per_term"]) for c in cases if "max_rel_diff_per_term" in c.measured),
                    default=None)
        ok = combine(c.verdict for c in cases) is Verdict.PASS
        summary = (f"{'equal' if ok else 'NOT equal'} through h^{self.k}: exact identity for generic L in "
                   f"{n_gen} dimension(s); worst numeric rel. diff {worst:.1e} at {self.DPS} digits" if worst is not None
                   else f"{'equal' if ok else 'NOT equal'} through h^{self.k}")
        return Evidence.from_cases(self.id, cases, summary, key={"worst_rel_diff": worst, "all_equal": ok},
                                   counterexample=outcome.counterexample_json(_describe_quadratic))


@register
class QuadraticExactModifiedField(Claim):
    id = "quadratic-exact-modified-field"
    title = "On ½θᵀAθ the modified field is (1/h)·log(I − hA)θ"
    source = f"{HLW}, linear case: (I − hA) = exp(log(I − hA)), h‖A‖ < 1"
    statement = "For every term j = 0..k: F_j = −A^(j+1)θ/(j+1), the h^j coefficient of (1/h)log(I − hA)θ."
    falsifier = "A term F_j that is not exactly −A^(j+1)θ/(j+1) for some symmetric A."
    tags = ("backward-error", "symbolic")

    def __init__(self, k: int = 4, coefficients: Sequence[Any] | None = None, examples: int | None = None) -> None:
        self.k = k
        self.coefficients = coefficients
        self.examples = examples

    def _case(self, loss: Loss) -> Case:
        A = loss.hessian
        T = M.modified_terms(loss, self.k)
        E = M.quadratic_log_terms(A, loss.variables, self.k, self.coefficients)
        bad = [j for j in range(self.k + 1) if any(sp.expand(a - b) != 0 for a, b in zip(T[j], E[j]))]
        return Case(name=f"{loss.name} d={loss.dim}", verdict=Verdict.PASS if not bad else Verdict.FAIL,
                    measured={"differing_terms": bad, "A": [[str(x) for x in r] for r in A.tolist()]},
                    expected={"differing_terms": []},
                    note=f"F_0..F_{self.k} equal the log series exactly" if not bad else
                    f"terms h^{bad} differ from the log series")

    def _run_impl(self, ctx: RunContext) -> Evidence:
        from theorycheck.properties.runner import check_property

        cases = [self._case(ZOO["quadratic"])]
        n_ex = self.examples if self.examples is not None else (10 if ctx.quick else 50)
        outcome = check_property(f"{self.id} on random quadratics", _quadratics(), lambda ex: self._case(ex[0]),
                                 max_examples=n_ex, seed=ctx.seed)
        cases += outcome.cases + ([outcome.counterexample[1]] if outcome.counterexample else [])
        ok = combine(c.verdict for c in cases) is Verdict.PASS
        summary = f"{'exact' if ok else 'MISMATCH'} through h^{self.k} on {len(cases)} quadratics"
        return Evidence.from_cases(self.id, cases, summary, key={"all_equal": ok, "k": self.k},
                                   counterexample=outcome.counterexample_json(_describe_quadratic))


@register
class GradientFieldTerms(Claim):
    id = "gradient-field-terms"
    title = "Every term of GD's modified field is a gradient field (a modified loss to all orders)"
    source = (f"Extrapolation of {BARRETT_DHERIN}, Thm 3.1 and the seed §1–2, which write only the h¹ term as a loss, "
              "−¼∇‖∇L‖²; tested here for the h² … h⁴ terms (HLW ch. IX terms)")
    statement = ("For j = 1..4 the h^j term F_j of GD's modified field has a symmetric Jacobian, so that "
                 "f̃ = −∇(L + hL₁ + h²L₂ + …) for some modified loss to every order.")
    falsifier = "A point where ‖J − Jᵀ‖_F of some F_j exceeds rounding (relative 1e-20 at 30 digits)."
    tags = ("backward-error", "symbolic", "finding")

    DPS = 30

    def __init__(self, terms: Sequence[int] = (1, 2, 3, 4), threshold: float = 1e-20, losses: Sequence[str] | None = None,
                 examples: int | None = None) -> None:
        self.terms = tuple(terms)
        self.threshold = threshold
        self.losses = losses
        self.examples = examples

    def _point_case(self, loss: Loss, j: int, point: Sequence[Any]) -> Case:
        a = M.jacobian_asymmetry(loss, j, point, self.DPS)
        sym = a.relative <= self.threshold
        return Case(
            name=f"{loss.name}: f_{j + 1} (h^{j}) at {_fmt_point(point)}",
            verdict=Verdict.PASS if sym else Verdict.FAIL,
            measured={"term": j, "asymmetry": a.size, "relative_asymmetry": a.relative, "jacobian_norm": a.jacobian_norm,
                      "point": [str(x) for x in point]},
            expected={"asymmetry": 0.0},
            tolerance={"relative": self.threshold, "dps": self.DPS},
            margin=math.log10(self.threshold) - math.log10(max(a.relative, 1e-300)),
            note=(f"symmetric Jacobian (‖J−Jᵀ‖ = {a.size:.1e})" if sym else
                  f"not a gradient field: ‖J − Jᵀ‖_F = {a.size:.3e} ({a.relative:.1%} of ‖J‖_F)"),
        )

    def _generic_case(self, d: int, j: int) -> Case:
        asym = M.generic_asymmetry(d, j)
        zero = all(p == 0 for p in asym)
        example = "" if zero else str(asym[0].as_expr())
        return Case(
            name=f"generic L in d={d}: f_{j + 1} (h^{j})",
            verdict=Verdict.PASS if zero else Verdict.FAIL,
            measured={"asymmetry_monomials": [len(p.terms()) for p in asym]},
            expected={"asymmetry_monomials": [0] * len(asym)},
            note=("J − Jᵀ vanishes identically: a gradient field for every L" if zero else
                  f"J − Jᵀ is a nonzero polynomial in ∂^αL, e.g. (J−Jᵀ)_12 = {example[:300]}"),
        )

    def _run_impl(self, ctx: RunContext) -> Evidence:
        from theorycheck.properties.runner import check_property

        terms = self.terms if not ctx.quick else tuple(j for j in self.terms if j <= 3)
        cases = [self._generic_case(2, j) for j in terms]
        names = self.losses if self.losses is not None else (("rosenbrock", "trig") if ctx.quick else FULL_LOSSES)
        for i, name in enumerate(names):
            loss = ZOO[name]
            points = [exact_point(loss, ZOO_POINTS[name])] + _random_points(loss.dim, 0 if ctx.quick else 2, ctx.seed + i)
            for j in terms:
                cases += [self._point_case(loss, j, p) for p in points]

        def check(example: tuple[Loss, Sequence[Any]]) -> Case:
            loss, theta0 = example
            cs = [self._point_case(loss, j, theta0) for j in terms]
            return max(cs, key=lambda c: c.measured["relative_asymmetry"])

        n_ex = self.examples if self.examples is not None else (3 if ctx.quick else 20)
        outcome = check_property(f"{self.id} on random quadratics", _quadratics(), check, max_examples=n_ex, seed=ctx.seed)
        cases += outcome.cases + ([outcome.counterexample[1]] if outcome.counterexample else [])

        failing = [c for c in cases if c.verdict is Verdict.FAIL and "relative_asymmetry" in c.measured]
        # the counterexample: the lowest failing power of h, at its most asymmetric point
        first = min(failing, key=lambda c: (c.measured["term"], -c.measured["relative_asymmetry"])) if failing else None
        gradient_terms = sorted({c.name.split(": ")[1].split(" ")[0] for c in cases if c.name.startswith("generic")
                                 and c.verdict is Verdict.PASS})
        if first is None:
            summary = f"all tested terms symmetric ({', '.join(gradient_terms) or 'none generic'} identically)"
            counter = outcome.counterexample_json(_describe_quadratic)
        else:
            summary = (f"{', '.join(gradient_terms)} gradient for every L; {first.name}: ‖J−Jᵀ‖ = "
                       f"{first.measured['asymmetry']:.2e} ({first.measured['relative_asymmetry']:.0%})")
            counter = {"case": first.name, "measured": first.measured, "note": first.note}
        worst = max((c.measured.get("relative_asymmetry", 0.0) for c in cases), default=0.0)
        return Evidence.from_cases(self.id, cases, summary,
                                   key={"max_relative_asymmetry": worst,
                                        "gradient_terms_generic": gradient_terms},
                                   counterexample=counter)
