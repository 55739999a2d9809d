"""Claims of the optimiser protocol: one mechanism derives every optimiser's modified equation.

The shipped optimisers (:mod:`theorycheck.optimizers`) are plain step files; their slow manifold and modified
field come from the step alone (:mod:`theorycheck.maths.slow_manifold`, :mod:`theorycheck.maths.optimizer_field`).
These claims hold that mechanism to the hand derivations of :mod:`theorycheck.maths.modified`,
:mod:`theorycheck.maths.momentum` and :mod:`theorycheck.maths.adaptive` (which stay independent), and reproduce
published results with it:

* Kovachki & Stuart (JMLR 2021): fixed-momentum heavy ball and Nesterov follow a time-rescaled gradient flow;
  the first-order modified flow of Nesterov's method (the closed form derived here);
* Ghosh, Lyu, Zhang & Wang (ICLR 2023): heavy ball's implicit regulariser h(1+β)/(4(1−β)³)‖∇L‖² beside L/(1−β);
* Cattaneo, Klusowski & Shigida (ICML 2024): the first-order terms of Adam and RMSProp (the closed form of
  :mod:`theorycheck.maths.adaptive`).

Every constant a mutant would change is a field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Iterable, Sequence

import lazy_loader as lazy

from theorycheck import maths, numerics
from theorycheck.claims.adaptive import REGIMES
from theorycheck.claims.base import Checked, RunContext, Sizes
from theorycheck.claims.kinds import Ladder, OrderClaim, order_ladder
from theorycheck.claims.registry import register
from theorycheck.claims.sources import (
    CATTANEO,
    GHOSH_REGULARISER,
    HLW,
    KOVACHKI_STUART_FLOW,
    KOVACHKI_STUART_MODIFIED,
    SUTSKEVER,
)
from theorycheck.core.evidence import Case, Figure, Verdict

sp = lazy.load("sympy")
mpmath = lazy.load("mpmath")

#: The digits the general route must share with a hand derivation at a test point.
AGREEMENT_DIGITS = 30
#: Working digits of the comparisons.
COMPARISON_DPS = 60


def _beta() -> Any:
    """The symbolic momentum factor β of the identities that hold for every β (sympy loaded on first use)."""
    return sp.Symbol("beta", positive=True)


def _zoo(name: str) -> tuple[Any, tuple[Fraction, ...]]:
    loss = maths.losses.ZOO[name]
    return loss, maths.losses.exact_point(loss, maths.losses.ZOO_POINTS[name])


def builtin(name: str, **hyper: Any) -> Any:
    """The shipped optimiser ``name`` (:data:`theorycheck.optimizers.BUILTIN`) with ``hyper``."""
    import importlib

    from theorycheck.optimizers import BUILTIN

    rule = maths.protocol.as_optimizer(importlib.import_module(f"theorycheck.optimizers.{BUILTIN[name]}"), name,
                                       builtin=True)
    return rule.with_hyperparameters(**hyper) if hyper else rule


def agreement_digits(loss: Any, ours: Any, theirs: Sequence[Sequence[Any]], point: Sequence[Any],
                     dps: int = COMPARISON_DPS) -> list[float]:
    """Per term, −log₁₀ of the largest difference of the components relative to the term's size, at ``point`` in
    mpmath at ``dps`` digits (``dps`` when the two agree to the last digit). ``ours`` is a
    :class:`~theorycheck.maths.optimizer_field.ModifiedEquation` (evaluated from its generic terms), ``theirs`` the
    hand derivation's terms (sympy, in the loss's variables)."""
    out = []
    with mpmath.workdps(dps + 10):
        x = [mpmath.mpf(p.numerator) / p.denominator for p in point]
        mine = ours.values_at(point, dps + 10)
        for A, B in zip(mine, theirs):
            fb = sp.lambdify(loss.variables, list(B), modules="mpmath", cse=True)(*x)
            diff = max(abs(a - mpmath.mpmathify(b)) for a, b in zip(A, fb))
            size = max([abs(mpmath.mpmathify(b)) for b in fb] + [mpmath.mpf(10) ** -dps])
            out.append(float(dps) if diff == 0 else max(0.0, min(float(dps), float(-mpmath.log10(diff / size)))))
    return out


def _h_terms(field: Any, k: int) -> list[list[Any]]:
    """[h^0 … h^k] coefficients of a field's components (a closed form written with the step symbol h), by
    differentiating in h at 0."""
    H = maths.fields.H
    out, comps = [], list(field.components)
    for j in range(k + 1):
        out.append([c.subs(H, 0) / math.factorial(j) for c in comps])
        comps = [sp.diff(c, H) for c in comps]
    return out


def _slow_map(rule: Any, loss: Any, theta0: Sequence[Fraction], order: int = 1) -> tuple[Any, Any]:
    """(the rule's slow-manifold map, its derivation to h^order) at θ₀."""
    eq = maths.optimizer_field.derive(rule, loss, order, theta0)
    return maths.slow_manifold.SlowMap(rule, loss, manifold=eq.manifold), eq


def rule_ladder(rule: Any, eq: Any, theta0: Sequence[Fraction], n: int = 4) -> list[Fraction]:
    """The slow-manifold ladder of ``rule`` at θ₀, fixed before measuring from the leading flow's rate and the fast
    factor (:func:`~theorycheck.numerics.optimizer_order.default_ladder`)."""
    s = numerics.optimizer_order.Setup(rule, eq, None, None, 0)
    return numerics.optimizer_order.default_ladder(s, theta0, n)


def _orders(checked: Checked, needle: str) -> list[float]:
    return [c.measured["order"] for c in checked.cases() if needle in c.name and c.measured.get("order") is not None]


def _identity_case(name: str, ours: Sequence[Sequence[Any]], theirs: Sequence[Sequence[Any]], note: str) -> Case:
    same = all(sp.simplify(sp.expand(a - b)) == 0 for A, B in zip(ours, theirs) for a, b in zip(A, B))
    return Case(name, Verdict.pass_if(same), measured={"identical": same}, expected={"identical": True}, note=note)


# ============================================================================ the general route vs the hand derivations
@register
@dataclass(frozen=True, kw_only=True)
class ProtocolHandDerivations(OrderClaim):
    """The modified field derived from each shipped optimiser file equals that optimiser's hand derivation.

    Hand derivations, each independent of the general route: GD's Taylor matching over generic jets
    (:func:`~theorycheck.maths.modified.modified_terms`), heavy ball's two-step series
    (:func:`~theorycheck.maths.momentum.heavy_ball_terms`), momentum with dampening as heavy ball with the step
    h(1 − τ) (:func:`~theorycheck.maths.momentum.dampened_terms`), Nesterov's first-order closed form
    (:func:`~theorycheck.maths.momentum.nesterov_field`) and the moment matching of RMSProp and Adam
    (:func:`~theorycheck.maths.adaptive.adam_field`). Mutants: ``nesterov_factor`` (heavy ball's factor for
    Nesterov), ``dampening_offset`` (the power (1 − τ)^j instead of (1 − τ)^{j+1}).
    """

    id = "implicit.optimizer-protocol-hand-derivations"
    statement_kind = "derived"
    title = "One mechanism: each optimiser file's derived modified field equals its hand derivation (≥ 30 digits)"
    source = (f"derived here: the slow manifold of the step and Taylor matching of the θ-map on it ({HLW}; "
              f"{KOVACHKI_STUART_MODIFIED}); hand derivations of GD, heavy ball, Nesterov, dampened momentum, RMSProp "
              f"and Adam ({CATTANEO})")
    statement = ("For gd, heavy-ball (β=1/2), momentum (β=1/3, dampening 1/4) to h², and nesterov (β=1/2), rmsprop "
                 "(ρ=1/2, ε=1/1000), adam (β=1/4, ρ=1/2, ε=1/1000) to h¹, the terms F_j derived from the optimiser "
                 "file alone agree with the hand derivation at the zoo point to at least 30 significant digits.")
    falsifier = "A term F_j (j ≤ 2) of some optimiser that differs from its hand derivation in the first 30 digits."
    tags = ("implicit", "optimizers", "momentum", "adam", "symbolic")
    losses_sizes: ClassVar[Sizes] = Sizes(("logistic",), ("logistic", "rosenbrock", "tiny_net"))
    min_digits: float = AGREEMENT_DIGITS
    nesterov_factor: Any = None
    dampening_offset: int = 1
    losses: tuple[str, ...] | None = None

    def _pairs(self, loss: Any) -> Iterable[tuple[str, Any, int, list[list[Any]]]]:
        """(label, rule, K, hand terms F₀ … F_K)."""
        mom, ad = maths.momentum, maths.adaptive
        half, third, quarter = Fraction(1, 2), Fraction(1, 3), Fraction(1, 4)
        eps = Fraction(1, 1000)
        yield "gd", builtin("gd"), 2, maths.modified.modified_terms(loss, 2)
        yield "heavy-ball β=1/2", builtin("heavy-ball", beta=half), 2, mom.heavy_ball_terms(loss, half, 2)
        damp = [[(1 - sp.Rational(1, 4)) ** (j + self.dampening_offset) * c for c in F]
                for j, F in enumerate(mom.heavy_ball_terms(loss, third, 2))]
        yield "momentum β=1/3, τ=1/4", builtin("momentum", beta=third, dampening=quarter), 2, damp
        yield ("nesterov β=1/2", builtin("nesterov", beta=half), 1,
               _h_terms(mom.nesterov_field(loss, half, self.nesterov_factor), 1))
        yield ("rmsprop ρ=1/2, ε=1/1000", builtin("rmsprop", beta2=half, eps=eps), 1,
               _h_terms(ad.adam_field(loss, 0, half, eps, 1), 1))
        yield ("adam β=1/4, ρ=1/2, ε=1/1000", builtin("adam", beta1=quarter, beta2=half, eps=eps), 1,
               _h_terms(ad.adam_field(loss, quarter, half, eps, 1), 1))

    def check(self, ctx: RunContext) -> Iterable[Ladder | Case | Figure]:
        for name in self.losses_sizes.pick(ctx, self.losses):
            loss, theta0 = _zoo(name)
            for label, rule, K, hand in self._pairs(loss):
                eq = maths.optimizer_field.derive(rule, loss, K)
                digits = agreement_digits(loss, eq, hand, theta0)
                for j, dg in enumerate(digits):
                    ok = dg >= self.min_digits
                    yield Case(f"{name}: {label}, F{j}", Verdict.pass_if(ok), measured={"digits": dg},
                               expected={"digits_at_least": self.min_digits}, margin=dg - self.min_digits,
                               note=(f"agree to {dg:.0f} digits" if ok else f"differ after {dg:.1f} digits")
                               + f" at {tuple(str(p) for p in theta0)}")

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        return {"min_digits": min(c.measured["digits"] for c in checked.cases())}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        bad = [c.name for c in checked.cases() if c.verdict is not Verdict.PASS]
        return (f"{len(checked.cases())} terms agree to ≥ {key['min_digits']:.0f} digits"
                if not bad else f"{len(bad)} term(s) differ: {', '.join(bad[:3])}")


# ============================================================================ Kovachki & Stuart: the rescaled flow
@register
@dataclass(frozen=True, kw_only=True)
class MomentumRescaledFlow(OrderClaim):
    """Fixed-momentum methods follow the time-rescaled gradient flow ẏ = −((1 − τ)/(1 − β))∇L to first order.

    Measured on the slow manifold of each shipped file, against the rescaled flow built directly from the loss
    (not from the derivation). Mutant: ``rescaling=1`` (GD's own gradient flow), which the iterates follow only to
    local order 1.
    """

    id = "implicit.momentum-rescaled-flow"
    statement_kind = "theorem"
    title = "Heavy ball and Nesterov with fixed β follow the rescaled gradient flow −∇L/(1−β) (local order 2)"
    source = f"{KOVACHKI_STUART_FLOW}; Nesterov in the look-ahead form of {SUTSKEVER}"
    statement = ("On their slow manifold (late in training), one step of heavy ball and of Nesterov's method with "
                 "fixed momentum β = 1/2 differs from the time-h flow of ẏ = −∇L/(1−β) by O(h²) (local order 2); "
                 "with dampening τ the rescaling is (1−τ)/(1−β).")
    falsifier = "A local order off 2 against the rescaled flow (the unrescaled gradient flow gives order 1)."
    tags = ("implicit", "momentum", "optimizers", "order")
    losses_sizes: ClassVar[Sizes] = Sizes(("logistic",), ("logistic", "tiny_net"))
    rules_sizes: ClassVar[Sizes] = Sizes(("heavy-ball", "nesterov"), ("heavy-ball", "nesterov", "momentum"))
    DIGITS: ClassVar[int] = 30
    beta: Fraction = Fraction(1, 2)
    dampening: Fraction = Fraction(1, 4)
    rescaling: Any = None
    expected_order: float = 2.0
    losses: tuple[str, ...] | None = None

    def check(self, ctx: RunContext) -> Iterable[Ladder | Case | Figure]:
        for name in self.losses_sizes.pick(ctx, self.losses):
            loss, theta0 = _zoo(name)
            for rule_name in self.rules_sizes.pick(ctx):
                hyper: dict[str, Any] = {"beta": self.beta}
                tau = Fraction(0)
                if rule_name == "momentum":
                    hyper["dampening"] = tau = self.dampening
                rule = builtin(rule_name, **hyper)
                step, eq = _slow_map(rule, loss, theta0)
                c = (1 - tau) / (1 - self.beta) if self.rescaling is None else Fraction(self.rescaling)
                flow = maths.fields.Field(loss.variables, tuple(-sp.Rational(c.numerator, c.denominator) * g
                                                                for g in loss.gradient), name=f"rescaled flow ×{c}")
                yield order_ladder(f"{name}: {rule.label} vs −{c}·∇L", step, flow, theta0,
                                   rule_ladder(rule, eq, theta0), expected_order=self.expected_order,
                                   digits=self.DIGITS, figure=f"{name}: {rule.label} on its slow manifold vs the "
                                                              f"rescaled gradient flow −{c}·∇L")

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        orders = self.measured_orders(checked)
        return {"order_min": min(orders) if orders else None, "order_max": max(orders) if orders else None}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        if key["order_min"] is None:
            return "no order measured"
        return (f"local order vs the rescaled flow {key['order_min']:.3f}…{key['order_max']:.3f} over "
                f"{len(checked.cases())} cases (expected {self.expected_order:g})")


# ============================================================================ Nesterov's first-order modified flow
@register
@dataclass(frozen=True, kw_only=True)
class NesterovModifiedFlow(OrderClaim):
    """Nesterov's method with constant β follows −(1/(1−β))∇[L + κ₁h/(4(1−β))‖∇L‖²], κ₁ = (1 − β + 2β²)/(1 − β).

    κ₁ is derived by hand in :func:`~theorycheck.maths.momentum.regulariser_factor` (two-step matching with the
    look-ahead gradient); the general route derives F₁ from the nesterov file. Both must agree for every β (a
    symbolic identity in β over a generic loss), and the iterates must follow the closed form to local order 3.
    Mutant: ``factor`` = heavy ball's (1 + β)/(1 − β), which Nesterov's iterates follow only to order 2.
    """

    id = "implicit.nesterov-modified-flow"
    statement_kind = "derived"
    title = "Nesterov with fixed β: first-order modified flow with regulariser factor (1 − β + 2β²)/(1 − β)"
    source = (f"{KOVACHKI_STUART_MODIFIED}; derived here (maths/momentum.py, regulariser_factor); the look-ahead "
              f"form of {SUTSKEVER}")
    statement = ("For every β, the general route's F₀ + hF₁ of the nesterov file is −(1/(1−β))∇[L + κ₁h/(4(1−β))‖∇L‖²] "
                 "with κ₁ = (1−β+2β²)/(1−β) (an identity over a generic loss in two variables), and at β = 1/2 its "
                 "iterates on the slow manifold follow that flow to local order 3, heavy ball's first-order flow "
                 "(κ = (1+β)/(1−β)) only to order 2.")
    falsifier = "A symbolic mismatch, a local order off 3 against the κ₁ flow, or off 2 against heavy ball's flow."
    tags = ("implicit", "momentum", "nesterov", "optimizers", "order")
    losses_sizes: ClassVar[Sizes] = Sizes(("logistic",), ("logistic", "tiny_net"))
    DIGITS: ClassVar[int] = 30
    beta: Fraction = Fraction(1, 2)
    factor: Any = None
    expected_order: float = 3.0
    losses: tuple[str, ...] | None = None

    def _kappa(self, b: Any) -> Any:
        """κ at β = b: the derived κ₁, or the mutant's ``factor`` (a number or an expression in ``beta``)."""
        if self.factor is None:
            return maths.momentum.regulariser_factor(b, 1)
        return sp.sympify(self.factor, locals={"beta": sp.Symbol("beta")}).subs(sp.Symbol("beta"), b)

    def check(self, ctx: RunContext) -> Iterable[Ladder | Case | Figure]:
        b = _beta()
        yield _first_order_identity("nesterov", self._kappa(b),
                                    "generic loss, every β: F₀, F₁ of the nesterov file = closed form with κ₁")
        beta = self.beta
        for name in self.losses_sizes.pick(ctx, self.losses):
            loss, theta0 = _zoo(name)
            rule = builtin("nesterov", beta=beta)
            step, eq = _slow_map(rule, loss, theta0)
            ladder = rule_ladder(rule, eq, theta0)
            bq = sp.Rational(beta.numerator, beta.denominator)
            yield order_ladder(f"{name}: nesterov (β={beta}) vs the κ₁ flow", step,
                               maths.momentum.nesterov_field(loss, bq, self._kappa(bq)), theta0, ladder,
                               expected_order=self.expected_order, digits=self.DIGITS,
                               figure=f"{name}: Nesterov (β={beta}) on its slow manifold vs its first-order flow")
            yield order_ladder(f"{name}: nesterov (β={beta}) vs heavy ball's first-order flow (contrast)", step,
                               maths.momentum.ghosh_field(loss, bq), theta0, ladder, expected_order=2,
                               digits=self.DIGITS)

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        main = _orders(checked, "κ₁ flow")
        return {"order_min": min(main) if main else None,
                "kappa_at_half": float(maths.momentum.regulariser_factor(sp.Rational(1, 2), 1))}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        main, contrast = _orders(checked, "κ₁ flow"), _orders(checked, "contrast")
        return (f"local order vs κ₁ flow {', '.join(f'{o:.3f}' for o in main)} (expected {self.expected_order:g}); "
                f"vs heavy ball's {', '.join(f'{o:.3f}' for o in contrast)}; κ₁(1/2) = {key['kappa_at_half']:g}")


def _first_order_identity(rule_name: str, kappa: Any, name: str) -> Case:
    """Whether the general route's F₀, F₁ of a momentum file with symbolic β are −∇[L/(1−β) + h·κ/(4(1−β)²)‖∇L‖²],
    i.e. F₀ = −g/(1−β) and F₁ = −κ/(2(1−β)²)·Hg, exactly, for a generic loss in two variables (jet symbols)."""
    b = _beta()
    eq = maths.optimizer_field.derive(builtin(rule_name, beta=b), maths.losses.ZOO["logistic"], 1)
    g, H = _generic_gradient_hessian(2)
    closed = [[-x / (1 - b) for x in g], [-kappa / (2 * (1 - b) ** 2) * x for x in _matvec(H, g)]]
    return _identity_case(name, eq.generic, closed, f"κ = {sp.simplify(kappa)}")


def _generic_gradient_hessian(d: int) -> tuple[list[Any], list[list[Any]]]:
    """The jet symbols of ∇L and ∇²L of a generic loss in d variables."""
    def e(*idx: int) -> tuple[int, ...]:
        a = [0] * d
        for i in idx:
            a[i] += 1
        return tuple(a)

    js = maths.slow_manifold.jet_symbol
    return [js(e(i)) for i in range(d)], [[js(e(i, j)) for j in range(d)] for i in range(d)]


def _matvec(A: Sequence[Sequence[Any]], v: Sequence[Any]) -> list[Any]:
    return [sum(a * x for a, x in zip(row, v)) for row in A]


# ============================================================================ Ghosh et al.: heavy ball's regulariser
@register
@dataclass(frozen=True, kw_only=True)
class GhoshHeavyBallRegulariser(OrderClaim):
    """Heavy ball follows −∇L̃, L̃ = L/(1−β) + h(1+β)/(4(1−β)³)‖∇L‖², derived from the heavy-ball file alone.

    Normalisation: time in units of h, θ_n ≈ y(nh). In the time t/(1 − β) the same flow is the gradient flow of
    L + κ·(h/(1 − β))/4·‖∇L‖², GD's implicit regulariser at the effective rate h/(1 − β) times κ = (1 + β)/(1 − β).
    Mutant: ``kappa=1`` (no amplification).
    """

    id = "implicit.ghosh-heavy-ball-regulariser"
    statement_kind = "theorem"
    title = "Heavy ball's implicit regulariser h(1+β)/(4(1−β)³)‖∇L‖² beside L/(1−β), from its step file alone"
    source = f"{GHOSH_REGULARISER}; derived with the general route ({KOVACHKI_STUART_MODIFIED})"
    statement = ("For every β the heavy-ball file's F₀ + hF₁ is −∇[L/(1−β) + h(1+β)/(4(1−β)³)‖∇L‖²] (an identity over a "
                 "generic loss in two variables), and at β = 1/2 its iterates on the slow manifold follow that flow "
                 "to local order 3.")
    falsifier = "A symbolic mismatch, or a local order off 3 against the flow of L̃."
    tags = ("implicit", "momentum", "optimizers", "order")
    losses_sizes: ClassVar[Sizes] = Sizes(("tiny_net",), ("tiny_net", "logistic"))
    DIGITS: ClassVar[int] = 30
    beta: Fraction = Fraction(1, 2)
    kappa: Any = None
    expected_order: float = 3.0
    losses: tuple[str, ...] | None = None

    def check(self, ctx: RunContext) -> Iterable[Ladder | Case | Figure]:
        b = _beta()
        kappa = (1 + b) / (1 - b) if self.kappa is None else sp.sympify(self.kappa, locals={"beta": b})
        yield _first_order_identity("heavy-ball", kappa,
                                    "generic loss, every β: F₀ + hF₁ of the heavy-ball file = −∇L̃")
        for name in self.losses_sizes.pick(ctx, self.losses):
            loss, theta0 = _zoo(name)
            rule = builtin("heavy-ball", beta=self.beta)
            step, eq = _slow_map(rule, loss, theta0)
            bq = sp.Rational(self.beta.numerator, self.beta.denominator)
            factor = None if self.kappa is None else sp.sympify(self.kappa, locals={"beta": b}).subs(b, bq)
            yield order_ladder(f"{name}: heavy-ball file (β={self.beta}) vs flow of L̃", step,
                               maths.momentum.ghosh_field(loss, bq, factor), theta0, rule_ladder(rule, eq, theta0),
                               expected_order=self.expected_order, digits=self.DIGITS,
                               figure=f"{name}: heavy-ball file (β={self.beta}) on its slow manifold vs −∇L̃")

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        main = _orders(checked, "flow of L̃")
        return {"order_min": min(main) if main else None}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        ident = [c for c in checked.cases() if "generic" in c.name]
        same = "identical" if ident and ident[0].verdict is Verdict.PASS else "NOT identical"
        return (f"general route {same} to −∇L̃ for every β; local order "
                f"{', '.join(f'{o:.3f}' for o in _orders(checked, 'flow of L̃'))} (expected {self.expected_order:g})")


# ============================================================================ Cattaneo et al.: Adam and RMSProp
@register
@dataclass(frozen=True, kw_only=True)
class CattaneoAdaptiveFirstOrder(OrderClaim):
    """The adam and rmsprop files' general-route F₀ + hF₁ equal the derived −(1/R)[∇L + h·c⊙∇‖∇L‖_{1,ε}].

    The closed form (:func:`~theorycheck.maths.adaptive.adam_field`, moment matching by hand) against the
    derivation from the step files (Adam with its bias corrections kept as decaying powers in the state, so late
    training is its slow manifold). Checked at three points per regime to 40 digits, by the sign of the one-norm
    coefficient recovered from the general route, and by the local order of the files' iterates. Mutant:
    ``sign=-1`` (the one-norm term with the wrong sign).
    """

    id = "implicit.cattaneo-adaptive-first-order"
    statement_kind = "derived"
    title = "Adam's and RMSProp's first-order term from their step files: −(h/R)·c⊙∇‖∇L‖_{1,ε}, penalising or not"
    source = (f"{CATTANEO}; the closed form derived in maths/adaptive.py, reproduced from the step files by the "
              "general route")
    statement = ("In the regimes ρ > β (small ε), β > ρ, large ε and RMSProp, the first two terms of the modified field "
                 "derived from the adam and rmsprop files agree with −(1/R_j)[∂_jL + h·c_j·∂_j‖∇L‖_{1,ε}], c_j = "
                 "β/(1−β) − ρ/(1−ρ) + (ρ/(1−ρ) + ½)ε/R_j², to 40 digits at three points, with the sign of c_j "
                 "(penalising or anti-penalising the perturbed one-norm), and the files' iterates on the slow manifold "
                 "follow that flow to local order 3.")
    falsifier = "A disagreement beyond 40 digits, a different sign of c_j, or a local order off 3."
    tags = ("implicit", "adam", "rmsprop", "optimizers", "order")
    #: Indices into :data:`theorycheck.claims.adaptive.REGIMES` (ρ > β, β > ρ, large ε, RMSProp).
    regimes_sizes: ClassVar[Sizes] = Sizes((0, 3), (0, 1, 2, 3))
    POINTS: ClassVar[tuple[tuple[Fraction, Fraction], ...]] = ((Fraction(7, 10), Fraction(-2, 5)),
                                                               (Fraction(-1, 3), Fraction(5, 4)),
                                                               (Fraction(6, 5), Fraction(1, 7)))
    DIGITS: ClassVar[int] = 30
    min_digits: float = 40
    sign: int = 1
    expected_order: float = 3.0

    def check(self, ctx: RunContext) -> Iterable[Ladder | Case | Figure]:
        loss, theta0 = _zoo("quadratic")
        for idx in self.regimes_sizes.pick(ctx):
            label, b1, b2, eps = REGIMES[idx]
            rule = (builtin("rmsprop", beta2=b2, eps=eps) if b1 == 0 else
                    builtin("adam", beta1=b1, beta2=b2, eps=eps))
            closed = maths.adaptive.adam_field(loss, b1, b2, eps, 1, sign=self.sign)
            eq = maths.optimizer_field.derive(rule, loss, 1)
            digits = min(min(agreement_digits(loss, eq, _h_terms(closed, 1), p)) for p in self.POINTS)
            ok = digits >= self.min_digits
            yield Case(f"{label}: {rule.name} file's F₀, F₁ = closed form (3 points)", Verdict.pass_if(ok),
                       measured={"digits": digits}, expected={"digits_at_least": self.min_digits},
                       margin=digits - self.min_digits, note=f"agree to {digits:.0f} digits" if ok else
                       f"differ after {digits:.1f} digits")
            yield self._sign_case(label, loss, theta0, eq, b1, b2, eps)
            step, eq1 = _slow_map(rule, loss, theta0)
            yield order_ladder(f"{label}: {rule.name} file vs closed form F₀ + hF₁", step, closed, theta0,
                               rule_ladder(rule, eq1, theta0), expected_order=self.expected_order, digits=self.DIGITS,
                               figure=f"{label}: the {rule.name} file on its slow manifold vs −(1/R)[∇L + h·c⊙∇N]")

    def _sign_case(self, label: str, loss: Any, theta0: Sequence[Fraction], eq: Any, b1: Fraction, b2: Fraction,
                   eps: Fraction) -> Case:
        """c_j recovered from the general route's F₁: c_j = −F₁_j·R_j/∂_j‖∇L‖_{1,ε}, against the closed form's sign."""
        with mpmath.workdps(40):
            g, R, dN = maths.adaptive.one_norm_gradient(loss, theta0, eps)
            F1 = eq.values_at(theta0, 40)[1]
            measured = [float(-f * r / dn) for f, r, dn in zip(F1, R, dN)]
        closed = [float(self.sign * maths.adaptive.one_norm_coefficient(b1, b2, eps, sp.Rational(str(mpmath.nstr(gj, 30)))))
                  for gj in g]
        same = all((m > 0) == (c > 0) for m, c in zip(measured, closed))
        word = "penalises" if closed[0] > 0 else "anti-penalises"
        return Case(f"{label}: sign of the one-norm coefficient c from the file's F₁", Verdict.pass_if(same),
                    measured={"c_general_route": measured}, expected={"c_closed_form": closed, "sign": word},
                    note=("same sign" if same else "opposite sign") + f": the term {word} ‖∇L‖_{{1,ε}}")

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        main = _orders(checked, "closed form F₀ + hF₁")
        dg = [c.measured["digits"] for c in checked.cases() if "digits" in c.measured]
        return {"order_min": min(main) if main else None, "min_digits": min(dg) if dg else None}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        signs = [c for c in checked.cases() if "sign" in c.name]
        return (f"files = closed form to ≥ {key['min_digits']:.0f} digits; sign of c matches in "
                f"{sum(c.verdict is Verdict.PASS for c in signs)}/{len(signs)} regimes; local order ≥ "
                f"{key['order_min']:.3f}" if key["order_min"] is not None and key["min_digits"] is not None
                else "no order measured")


__all__ = [
    "AGREEMENT_DIGITS", "COMPARISON_DPS", "CattaneoAdaptiveFirstOrder", "GhoshHeavyBallRegulariser",
    "MomentumRescaledFlow", "NesterovModifiedFlow", "ProtocolHandDerivations", "agreement_digits", "builtin",
    "rule_ladder",
]
