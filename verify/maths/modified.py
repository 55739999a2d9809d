"""Modified vector fields of gradient descent (backward error analysis), on concrete losses.

GD with step h, θ⁺ = θ − h g(θ), g = ∇L, is (formally) the exact time-h flow of
a modified field

    f̃ = F₀ + h F₁ + h² F₂ + …,   F₀ = −g,
    F₁ = −½ H g = −¼ ∇‖g‖²,   F₂ = −(1/12) T(g, g) − (1/3) H² g,

(H = ∇²L, T = ∇³L; Hairer, Lubich & Wanner, *Geometric Numerical Integration*,
2nd ed., §IX.1, construction of the modified equation; theorem and equation
numbers not checked against the book). The terms come from the generic jets
of :mod:`theorycheck.maths.jets` by two independent recursions, Taylor
matching (:func:`modified_terms`) and the Bernoulli series
θ̇ = −(hD/(e^{hD} − 1)) g (:func:`bernoulli_terms`); :func:`direct_terms`
runs the same recursions with plain ``sympy.diff`` as a reference that shares
no code with the jets.

Truncating after h^K leaves a local error O(h^{K+2}) and a global error
O(h^{K+1}) on a fixed horizon (:func:`against_field`).

The implicit-gradient-regularisation loss L̃ = L + (h/4)‖∇L‖² (Barrett &
Dherin, ICLR 2021, Theorem 3.1) is built directly by :func:`igr_loss`; its
gradient field equals ``modified_field(loss, 1)``. Explicit gradient
regularisation L + μ‖∇L‖² (their Sec. 4) has the field −(g + 2μHg)
(:func:`egr_field`); with μ = c·h one step of its flow for time h is
θ − h g + h²(½ − 2c) Hg + O(h³), so only c = ¼ cancels the h² term.

For a quadratic ½θᵀAθ the exact modified field is
(1/h) log(I − hA) θ = −Σ_{j≥0} h^j A^{j+1} θ/(j+1) (:func:`quadratic_log_terms`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from typing import Any, Sequence

import mpmath
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.constants import IGR_COEFFICIENT
from theorycheck.maths.fields import Field, H
from theorycheck.maths.jets import (
    MAX_ORDER,
    ROUTES,
    bernoulli_coefficients,
    concretise,
    generic_terms,
    jet,
    maxorder_for,
    validate_order,
)
from theorycheck.maths.losses import Loss
from theorycheck.maths.numbers import as_mpf, as_rational


@lru_cache(maxsize=None)
def _terms(loss: Loss, k: int, route: str, bernoulli: tuple[sp.Rational, ...] | None = None
           ) -> tuple[tuple[sp.Expr, ...], ...]:
    mo = maxorder_for(loss, k)
    ring_ = jet(loss.dim, mo)
    generic = generic_terms(loss.dim, k, route, mo, bernoulli=bernoulli)
    # polynomial losses expand cheaply to a canonical form; others stay factored over the shared derivatives
    expand = loss.polynomial_degree is not None
    # F₀ = −∇L exactly as the loss writes it, so modified:0 and the gradient flow are the same field
    # (and share one compiled integrator, whose cache is keyed by the components)
    first = tuple(-g for g in loss.gradient)
    return (first,) + tuple(tuple(concretise(loss, p, ring_, expand) for p in Fj) for Fj in generic[1:])


def modified_terms(loss: Loss, k: int) -> list[list[sp.Expr]]:
    """[F₀, …, F_k] of GD's modified field for ``loss`` (Taylor matching); F_j multiplies h^j.

    ``F[0] = −∇L``, ``F[1] = −½ H∇L``; each F_j a list of d sympy expressions.
    """
    validate_order(k)
    return [list(v) for v in _terms(loss, k, "taylor")]


def bernoulli_terms(loss: Loss, k: int, bernoulli: Sequence[Any] | None = None) -> list[list[sp.Expr]]:
    """[F₀, …, F_k] from the Bernoulli series θ̇ = −(hD/(e^{hD}−1)) g (an independent derivation).

    ``bernoulli`` replaces the coefficients b_m = B_m/m! (a wrong value is a mutant).
    """
    validate_order(k)
    coef = None if bernoulli is None else tuple(sp.Rational(c) for c in bernoulli)
    return [list(v) for v in _terms(loss, k, "bernoulli", coef)]


def _sum_field(loss: Loss, terms: Sequence[Sequence[sp.Expr]], name: str, omit: Sequence[int] = (),
               **meta: Any) -> Field:
    comps = tuple(sp.Add(*[H**j * Fj[i] for j, Fj in enumerate(terms) if j not in omit]) for i in range(loss.dim))
    return Field(loss.variables, comps, name=name, meta={"loss": loss.name, **meta})


def modified_field(loss: Loss, order: int = 1, omit: Sequence[int] = ()) -> Field:
    """GD's modified field truncated after the h^order term, f̃ = Σ_{j≤order} h^j F_j (step symbol :data:`H`).

    ``order=0`` is the gradient flow, ``order=1`` the IGR field. ``omit`` drops
    the listed powers of h (a mutant: ``omit=(2,)`` is modified:2 without its
    h² term). Cached, so repeated calls return the same :class:`Field` and the
    integrators compiled for it are reused.
    """
    validate_order(order)
    return _modified_field(loss, order, tuple(sorted(set(int(j) for j in omit))))


@lru_cache(maxsize=None)
def _modified_field(loss: Loss, order: int, omit: tuple[int, ...]) -> Field:
    name = f"modified:{order}" + "".join(f"-h^{j}" for j in omit)
    return _sum_field(loss, modified_terms(loss, order), name, omit, order=order, route="taylor", omitted=list(omit))


def bernoulli_field(loss: Loss, order: int = 1) -> Field:
    """The Bernoulli-series modified field truncated after h^order (cached)."""
    validate_order(order)
    return _bernoulli_field(loss, order)


@lru_cache(maxsize=None)
def _bernoulli_field(loss: Loss, order: int) -> Field:
    return _sum_field(loss, bernoulli_terms(loss, order), f"bernoulli:{order}", order=order, route="bernoulli")


def igr_loss(loss: Loss, coefficient: Any = IGR_COEFFICIENT) -> Loss:
    """The implicit-gradient-regularisation loss L̃ = L + c·h‖∇L‖², c = ¼ (Barrett & Dherin, ICLR 2021, Thm 3.1).

    The step symbol :data:`H` appears in the expression; the variables are those of ``loss``.
    """
    c = as_rational(coefficient)
    return _penalised(loss, c * H, f"igr({loss.name})", f"{loss.name} + {c}·h‖∇L‖²")


@lru_cache(maxsize=None)
def _penalised(loss: Loss, mu: sp.Expr, name: str, description: str) -> Loss:
    """L + μ‖∇L‖² (one construction for the IGR and the explicit-GR losses)."""
    if mu.free_symbols - {H}:
        raise InputError(f"`mu` may only contain the step symbol h, got {mu}.")
    return Loss(name, loss.expr + mu * sum(gi**2 for gi in loss.gradient), loss.variables, description=description)


def igr_field(loss: Loss, coefficient: Any = IGR_COEFFICIENT) -> Field:
    """θ̇ = −∇L̃ for :func:`igr_loss` (the gradient of the modified loss, built directly); cached."""
    return _igr_field(loss, as_rational(coefficient))


@lru_cache(maxsize=None)
def _igr_field(loss: Loss, c: sp.Rational) -> Field:
    lt = igr_loss(loss, c)
    name = "igr" if c == as_rational(IGR_COEFFICIENT) else f"igr(c={c})"
    return Field(loss.variables, tuple(-gi for gi in lt.gradient), name=name,
                 meta={"loss": loss.name, "coefficient": str(c)})


@lru_cache(maxsize=None)
def gradient_flow_field(loss: Loss) -> Field:
    """θ̇ = −∇L (cached, so integrators compiled for it are reused)."""
    return loss.gradient_flow()


def parse_against(spec: str) -> tuple[str, int]:
    """Parse ``flow``, ``igr``, ``modified:K`` or ``bernoulli:K`` into (family, K); K is 0 for flow, 1 for igr."""
    text = str(spec).strip()
    if text == "flow":
        return "flow", 0
    if text == "igr":
        return "igr", 1
    family, sep, k = text.partition(":")
    if sep and family in ("modified", "bernoulli"):
        try:
            order = int(k)
        except ValueError:
            order = -1
        if 0 <= order <= MAX_ORDER:
            return family, order
        raise InputError(f"`--against {text}`: K must be an integer between 0 and {MAX_ORDER}.")
    raise InputError(f"unknown field {text!r}; expected flow, igr, modified:K or bernoulli:K.")


def against_field(loss: Loss, spec: str) -> tuple[Field, int]:
    """The field named by ``spec`` (see :func:`parse_against`) and GD's local order against it, K + 2.

    Truncating the modified field after h^K leaves a local error O(h^{K+2})
    (HLW, GNI, §IX.1, by construction of the modified equation); global order is K + 1.
    """
    family, k = parse_against(spec)
    if family == "flow":
        return gradient_flow_field(loss), 2
    if family == "igr":
        return igr_field(loss), 3
    if family == "modified":
        return modified_field(loss, k), k + 2
    return bernoulli_field(loss, k), k + 2


def quadratic_log_coefficients(k: int) -> list[sp.Rational]:
    """c_j in (1/h) log(I − hA) = Σ_j c_j h^j A^{j+1}: c_j = −1/(j+1), j = 0..k."""
    return [sp.Rational(-1, j + 1) for j in range(k + 1)]


def quadratic_log_terms(A: sp.Matrix, variables: Sequence[sp.Symbol], k: int,
                        coefficients: Sequence[Any] | None = None) -> list[list[sp.Expr]]:
    """Terms of the exact modified field of GD on ½θᵀAθ: (1/h) log(I − hA) θ = −Σ_j h^j A^{j+1} θ/(j+1).

    From θ⁺ = (I − hA)θ = exp(log(I − hA))θ, valid for h‖A‖ < 1
    (Hairer, Lubich & Wanner, GNI ch. IX, linear case). ``coefficients``
    replaces the c_j of :func:`quadratic_log_coefficients` (for mutants).
    """
    c = quadratic_log_coefficients(k) if coefficients is None else [sp.Rational(x) for x in coefficients]
    A = sp.Matrix(A)
    theta = sp.Matrix(variables)
    out, P = [], sp.eye(A.shape[0])
    for j in range(k + 1):
        P = P * A
        out.append([sp.expand(c[j] * x) for x in P * theta])
    return out


def direct_terms(loss: Loss, k: int, route: str = "bernoulli",
                 bernoulli: Sequence[Any] | None = None) -> list[list[sp.Expr]]:
    """The same recursions as :func:`theorycheck.maths.jets.generic_terms`, run with plain ``sympy.diff`` on the loss.

    A reference implementation that shares no code with the jets (only the
    recursion formulas), used to cross-check them numerically. Expressions
    swell quickly (≈10⁵ operations for F₄ of a logistic loss): keep k ≤ 4.
    """
    validate_order(k)
    if route not in ROUTES:
        raise InputError(f"route must be one of {', '.join(ROUTES)}, got {route!r}.")
    xs, d = loss.variables, loss.dim
    g = list(loss.gradient)
    F: list[list[sp.Expr]] = [[-c for c in g]]
    memo: dict[tuple[int, int], list[sp.Expr]] = {}

    poly = loss.polynomial_degree is not None

    def lie(u: list[sp.Expr], v: list[sp.Expr]) -> list[sp.Expr]:
        out = [sum(sp.diff(ui, xs[j]) * v[j] for j in range(d)) for ui in u]
        return [sp.expand(c) for c in out] if poly else out

    def power(m: int, j: int, seed: list[sp.Expr] | None) -> list[sp.Expr]:
        if m == 0:
            return F[j] if seed is None else (seed if j == 0 else [sp.S.Zero] * d)
        if (m, j) not in memo:
            acc = [sp.S.Zero] * d
            for a in range(j + 1):
                acc = [x + y for x, y in zip(acc, lie(power(m - 1, a, seed), F[j - a]))]
            memo[(m, j)] = acc
        return memo[(m, j)]

    b = bernoulli_coefficients(k) if bernoulli is None else [sp.Rational(c) for c in bernoulli]
    for n in range(1, k + 1):
        if route == "taylor":
            parts = [(-sp.Rational(1, math.factorial(m)), power(m - 1, n + 1 - m, None)) for m in range(2, n + 2)]
        else:
            parts = [(-b[m], power(m, n - m, g)) for m in range(1, n + 1)]
        Fn = [sp.S.Zero] * d
        for c, part in parts:
            Fn = [x + c * y for x, y in zip(Fn, part)]
        F.append(Fn)
    return F


# --- explicit gradient regularisation ----------------------------------------------

def egr_loss(loss: Loss, mu: Any) -> Loss:
    """L_μ = L + μ‖∇L‖²; ``mu`` is a number or a sympy expression (``H/4`` ties it to the step symbol)."""
    mu = sp.sympify(mu)
    return _penalised(loss, mu, f"egr({loss.name}, mu={mu})", f"{loss.name} + ({mu})·‖∇L‖²")


def egr_field(loss: Loss, mu: Any) -> Field:
    """θ̇ = −∇L_μ = −(g + 2μHg), built as −(g + 2μ·Hg) from the exact gradient and Hessian (cached)."""
    return _egr_field(loss, sp.sympify(mu))


@lru_cache(maxsize=None)
def _egr_field(loss: Loss, mu: sp.Expr) -> Field:
    egr_loss(loss, mu)  # validates mu
    g = loss.gradient
    Hg = loss.hessian * g
    return Field(loss.variables, tuple(-(g[i] + 2 * mu * Hg[i]) for i in range(loss.dim)), name=f"egr(mu={mu})",
                 meta={"loss": loss.name, "mu": str(mu)})


def egr_rate_field(loss: Loss, c: Fraction | float | str = IGR_COEFFICIENT) -> Field:
    """The flow of L + c·h‖∇L‖² (μ tied to the step): c = ¼ is the IGR field."""
    return egr_field(loss, as_rational(c) * H)


def matches_igr_field(loss: Loss) -> bool:
    """Exact symbolic identity: ``egr_rate_field(loss, ¼)`` == ``igr_field(loss)`` == ``modified_field(loss, 1)``.

    Three constructions (−(g + ½hHg), −∇(L + ¼h‖g‖²) and the Taylor-matched
    F₀ + hF₁) must give the same field component-wise.
    """
    mine = egr_rate_field(loss).components
    for other in (igr_field(loss).components, modified_field(loss, 1).components):
        if any(sp.simplify(sp.expand(a - b)) != 0 for a, b in zip(mine, other)):
            return False
    return True


def evaluate_terms(loss: Loss, terms: Sequence[Sequence[sp.Expr]], points: Sequence[Sequence[Any]],
                   dps: int = 50) -> list[list[list[Any]]]:
    """The concrete sympy terms evaluated at each point with mpmath at ``dps`` digits (an independent numeric path).

    Returns ``values[p][j][i]``: point p, term j, component i.
    """
    with mpmath.workdps(dps):
        f = sp.lambdify(loss.variables, [list(t) for t in terms], modules="mpmath")
        return [[[mpmath.mpf(c) for c in row] for row in f(*[as_mpf(v) for v in p])] for p in points]


__all__ = [
    "IGR_COEFFICIENT", "MAX_ORDER", "against_field", "bernoulli_field", "bernoulli_terms", "direct_terms",
    "egr_field", "egr_loss", "egr_rate_field", "evaluate_terms", "gradient_flow_field", "igr_field", "igr_loss",
    "matches_igr_field", "modified_field", "modified_terms", "parse_against", "quadratic_log_coefficients",
    "quadratic_log_terms",
]
