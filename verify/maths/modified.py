"""Modified vector fields of gradient descent (backward error analysis).

GD with step h, θ⁺ = θ − h g(θ), g = ∇L, is (formally) the exact time-h flow of
a modified field

    f̃ = F₀ + h F₁ + h² F₂ + …,   F₀ = −g,
    F₁ = −½ H g = −¼ ∇‖g‖²,   F₂ = −(1/12) T(g, g) − (1/3) H² g,

(H = ∇²L, T = ∇³L; Hairer, Lubich & Wanner, *Geometric Numerical Integration*,
2nd ed., §IX.1, construction of the modified equation; theorem and equation
numbers not verified). Two independent derivations are implemented:

* **Taylor matching** (:func:`modified_terms`): the Lie series of the exact
  flow, exp(h L_f̃) id = Σ_m h^m/m! L_f̃^{m−1} f̃ with L_F u = u′F, is matched to
  θ − h g order by order, which gives
  F_n = −Σ_{m=2}^{n+1} (1/m!) [h^{n+1−m}] L_f̃^{m−1} f̃.
* **Bernoulli series** (:func:`bernoulli_terms`), the seed's operator identity
  (Barrett & Dherin, ICLR 2021, §2; seed ``000``):
  θ̇ = −(hD/(e^{hD} − 1)) g = −Σ_m (B_m/m!) h^m D^m g with D u = u′f̃ the
  derivative along the modified flow itself, solved order by order:
  F_n = −Σ_{m=1}^{n} (B_m/m!) [h^{n−m}] L_f̃^m g   (B₁ = −½).

Both run on *generic jets*: the terms are computed once per dimension d as
exact polynomials over ℚ in the symbols L_α = ∂^α L (1 ≤ |α| ≤ k+1), and only
then the partial derivatives of a concrete loss are substituted. This keeps
expressions compact (every derivative of L is built once and shared), makes
the two derivations comparable *exactly* for every smooth L in d variables
(:func:`generic_agreement`), and gives the gradient-field test
(:func:`generic_asymmetry`) in the same currency.

Gradient structure (a finding, see the ``gradient-field-terms`` claim): F₁ is a
gradient for every L (J − Jᵀ ≡ 0 in the jet ring), but for d ≥ 2 the
antisymmetric part of J(F₂), J(F₃), J(F₄) is a nonzero polynomial in the
derivatives of L (every monomial carries a third or higher derivative), so the
modified equation is a gradient flow of a modified loss only to first order in
general. It stays one to all orders for quadratics and for losses that
separate in an orthonormal basis (each coordinate is then a 1-D problem).

The IGR modified loss L̃ = L + (h/4)‖∇L‖² (Barrett & Dherin, ICLR 2021,
Theorem 3.1) is built directly by :func:`igr_loss`; its gradient field equals
``modified_field(loss, 1)``. For a quadratic ½θᵀAθ the exact modified field is
(1/h) log(I − hA) θ = −Σ_{j≥0} h^j A^{j+1} θ/(j+1) (:func:`quadratic_log_terms`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Sequence

import mpmath
import sympy as sp
from sympy import QQ
from sympy.polys.rings import PolyElement, ring

from theorycheck.core.errors import InputError
from theorycheck.maths.fields import H, Field
from theorycheck.maths.losses import Loss

ROUTES = ("taylor", "bernoulli")
MAX_ORDER = 8  # beyond this the generic jets grow past what a check needs (k ≤ 4 is used)

Vector = list  # a list of d components (PolyElement or sympy.Expr)


# --- generic jets -----------------------------------------------------------------

def _multi_indices(d: int, n: int) -> list[tuple[int, ...]]:
    """All α ∈ ℕ^d with |α| = n, lexicographically descending."""
    if d == 1:
        return [(n,)]
    return [(i,) + rest for i in range(n, -1, -1) for rest in _multi_indices(d - 1, n - i)]


class Jet:
    """The polynomial ring ℚ[L_α : 1 ≤ |α| ≤ maxorder] of derivatives of an unspecified L(θ₁…θ_d).

    :meth:`deriv` is the total derivative ∂/∂θ_j, acting by L_α ↦ L_{α+e_j}
    (zero above ``maxorder``, which is exact when L is a polynomial of that
    degree, or when no term of interest reaches that order).
    """

    def __init__(self, d: int, maxorder: int) -> None:
        self.d = d
        self.maxorder = maxorder
        self.alphas = [a for n in range(1, maxorder + 1) for a in _multi_indices(d, n)]
        names = ["L_" + "_".join(map(str, a)) for a in self.alphas]
        self.ring, *gens = ring(",".join(names), QQ)
        self.gens: list[PolyElement] = gens
        index = {a: i for i, a in enumerate(self.alphas)}
        self._shift: list[list[PolyElement | None]] = [
            [gens[index[a[:j] + (a[j] + 1,) + a[j + 1:]]] if sum(a) < maxorder else None for j in range(d)]
            for a in self.alphas
        ]
        self._index = index

    def zero(self) -> Vector:
        return [self.ring.zero] * self.d

    def gradient(self) -> Vector:
        """g = (L_{e_1}, …, L_{e_d})."""
        return [self.gens[self._index[tuple(int(i == j) for i in range(self.d))]] for j in range(self.d)]

    def deriv(self, p: PolyElement, j: int) -> PolyElement:
        """∂p/∂θ_j by the chain rule over the generators present in p."""
        used = {i for m in p.itermonoms() for i, e in enumerate(m) if e}
        out = self.ring.zero
        for i in used:
            s = self._shift[i][j]
            if s is not None:
                out += p.diff(self.gens[i]) * s
        return out

    def lie(self, u: Vector, F: Vector) -> Vector:
        """L_F u = u′F, the derivative of u along the field F."""
        return [sum((self.deriv(ui, j) * F[j] for j in range(self.d)), self.ring.zero) for ui in u]

    def jacobian(self, u: Vector) -> list[list[PolyElement]]:
        """∂u_i/∂θ_j."""
        return [[self.deriv(ui, j) for j in range(self.d)] for ui in u]


def _add(u: Vector, v: Vector) -> Vector:
    return [a + b for a, b in zip(u, v)]


def _scale(c: Any, u: Vector) -> Vector:
    return [c * a for a in u]


@lru_cache(maxsize=None)
def _bernoulli_coefficients(k: int) -> list[sp.Rational]:
    """b_m = B_m/m! in x/(eˣ − 1) = Σ b_m x^m, m = 0..k (B₁ = −½).

    From (eˣ − 1)/x · Σ b_m x^m = 1: b₀ = 1, b_m = −Σ_{j<m} b_j/(m + 1 − j)!.
    (sympy ≥ 1.12's ``bernoulli(1)`` is +½, the other convention, so it is not used.)
    """
    b = [sp.Rational(1)]
    for m in range(1, k + 1):
        b.append(-sum((b[j] / sp.factorial(m + 1 - j) for j in range(m)), sp.Rational(0)))
    return b


def _check_order(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_ORDER:
        raise InputError(f"order must be an integer between 0 and {MAX_ORDER}, got {k!r}.")
    return k


def generic_terms(d: int, k: int, route: str = "taylor", maxorder: int | None = None,
                  bernoulli: Sequence[Any] | None = None) -> tuple[tuple[PolyElement, ...], ...]:
    """F₀ … F_k as polynomials in the jet of a generic L in d variables.

    Parameters
    ----------
    d : int
        Number of variables.
    k : int
        Highest power of h kept.
    route : {"taylor", "bernoulli"}
        Which derivation (see the module docstring).
    maxorder : int, optional
        Derivatives of L above this order are zero (a polynomial loss of that
        degree); default k + 1, the highest order F_k involves, i.e. generic.
    bernoulli : sequence of rationals, optional
        b_m in x/(eˣ−1) = Σ b_m x^m for the Bernoulli route (default: the true
        ones, 1, −1/2, 1/12, 0, −1/720, …); a wrong value is a mutant.

    Returns
    -------
    tuple of k+1 tuples of d PolyElements, all in ``jet(d, maxorder).ring``.
    """
    _check_order(k)
    if route not in ROUTES:
        raise InputError(f"route must be one of {', '.join(ROUTES)}, got {route!r}.")
    b = _bernoulli_coefficients(k) if bernoulli is None else [sp.Rational(c) for c in bernoulli]
    if len(b) < k + 1:
        raise InputError(f"need {k + 1} Bernoulli coefficients, got {len(b)}.")
    return _generic_terms(int(d), k, route, int(maxorder) if maxorder is not None else k + 1, tuple(b[: k + 1]))


@lru_cache(maxsize=None)
def _generic_terms(d: int, k: int, route: str, maxorder: int,
                   bcoef: tuple[sp.Rational, ...]) -> tuple[tuple[PolyElement, ...], ...]:
    jet = _jet(d, maxorder)
    F: list[Vector] = [_scale(-1, jet.gradient())]
    memo: dict[tuple[int, int], Vector] = {}

    def power(m: int, j: int, seed: Vector | None) -> Vector:
        # [h^j] L_f̃^m u with u = f̃ (seed None, Taylor) or u = g (Bernoulli); needs F_0..F_j only
        if m == 0:
            if seed is None:
                return F[j]
            return seed if j == 0 else jet.zero()
        if (m, j) not in memo:
            acc = jet.zero()
            for a in range(j + 1):
                acc = _add(acc, jet.lie(power(m - 1, a, seed), F[j - a]))
            memo[(m, j)] = acc
        return memo[(m, j)]

    if route == "taylor":
        for n in range(1, k + 1):
            Fn = jet.zero()
            for m in range(2, n + 2):
                Fn = _add(Fn, _scale(-QQ(1, math.factorial(m)), power(m - 1, n + 1 - m, None)))
            F.append(Fn)
    else:
        b = [QQ(int(c.p), int(c.q)) for c in bcoef]
        g = jet.gradient()
        for n in range(1, k + 1):
            Fn = jet.zero()
            for m in range(1, n + 1):
                Fn = _add(Fn, _scale(-b[m], power(m, n - m, g)))
            F.append(Fn)
    return tuple(tuple(v) for v in F)


@lru_cache(maxsize=None)
def _jet(d: int, maxorder: int) -> Jet:
    return Jet(d, maxorder)


def generic_agreement(d: int, k: int, bernoulli: Sequence[Any] | None = None) -> list[bool]:
    """Per power h^j, j = 0..k: do the Taylor and Bernoulli terms coincide as exact polynomials in ∂^αL?

    An exact identity in the jet ring means agreement for *every* smooth loss
    in d variables (no evaluation point, no rounding).
    """
    T = generic_terms(d, k, "taylor")
    B = generic_terms(d, k, "bernoulli", bernoulli=bernoulli)
    return [all(a == b for a, b in zip(t, s)) for t, s in zip(T, B)]


def generic_asymmetry(d: int, j: int) -> list[PolyElement]:
    """Entries (i < l) of J − Jᵀ of the term F_j for a generic L in d variables (all zero ⇔ F_j is a gradient)."""
    terms = generic_terms(d, j, "taylor", j + 2)  # one order more: the Jacobian differentiates once more
    jet = _jet(d, j + 2)
    J = jet.jacobian(list(terms[j]))
    return [J[i][l] - J[l][i] for i in range(d) for l in range(i + 1, d)]


# --- concrete losses --------------------------------------------------------------

def _maxorder(loss: Loss, k: int) -> int:
    deg = loss.polynomial_degree
    return k + 1 if deg is None else max(1, min(k + 1, deg))


def _concretise(loss: Loss, p: PolyElement, jet: Jet, expand: bool) -> sp.Expr:
    """Substitute ∂^αL of the concrete loss for the generator L_α.

    Polynomial losses go through a polynomial ring in θ (fast and canonical);
    others stay a sum of products of the shared derivative expressions.
    """
    if expand:
        R, *_ = _theta_ring(loss)
        vals = [R(loss.derivative(a)) for a in jet.alphas]
        acc = R.zero
        for monom, coeff in p.terms():
            t = R(coeff)
            for i, e in enumerate(monom):
                if e:
                    t *= vals[i] ** e
            acc += t
        return acc.as_expr()
    terms = []
    for monom, coeff in p.terms():
        factor: sp.Expr = sp.Rational(int(coeff.numerator), int(coeff.denominator))
        for i, e in enumerate(monom):
            if e:
                factor = factor * loss.derivative(jet.alphas[i]) ** e
        terms.append(factor)
    return sp.Add(*terms)


@lru_cache(maxsize=None)
def _theta_ring(loss: Loss) -> tuple[Any, ...]:
    return ring(list(loss.variables), QQ)


@lru_cache(maxsize=None)
def _terms(loss: Loss, k: int, route: str) -> tuple[tuple[sp.Expr, ...], ...]:
    mo = _maxorder(loss, k)
    jet = _jet(loss.dim, mo)
    generic = generic_terms(loss.dim, k, route, mo)
    # polynomial losses expand cheaply to a canonical form; others stay factored over the shared derivatives
    expand = loss.polynomial_degree is not None
    # F₀ = −∇L exactly as the loss writes it, so modified:0 and the gradient flow are the same field
    # (and share one compiled integrator, whose cache is keyed by the components)
    first = tuple(-g for g in loss.gradient)
    return (first,) + tuple(tuple(_concretise(loss, p, jet, expand) for p in Fj) for Fj in generic[1:])


def modified_terms(loss: Loss, k: int) -> list[list[sp.Expr]]:
    """[F₀, …, F_k] of GD's modified field for ``loss`` (Taylor matching); F_j multiplies h^j.

    ``F[0] = −∇L``, ``F[1] = −½ H∇L``; each F_j a list of d sympy expressions.
    """
    _check_order(k)
    return [list(v) for v in _terms(loss, k, "taylor")]


def bernoulli_terms(loss: Loss, k: int) -> list[list[sp.Expr]]:
    """[F₀, …, F_k] from the seed's Bernoulli series θ̇ = −(hD/(e^{hD}−1)) g (independent derivation)."""
    _check_order(k)
    return [list(v) for v in _terms(loss, k, "bernoulli")]


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
    _check_order(order)
    return _modified_field(loss, order, tuple(sorted(set(int(j) for j in omit))))


@lru_cache(maxsize=None)
def _modified_field(loss: Loss, order: int, omit: tuple[int, ...]) -> Field:
    name = f"modified:{order}" + "".join(f"-h^{j}" for j in omit)
    return _sum_field(loss, modified_terms(loss, order), name, omit, order=order, route="taylor", omitted=list(omit))


def bernoulli_field(loss: Loss, order: int = 1) -> Field:
    """The Bernoulli-series modified field truncated after h^order (cached)."""
    _check_order(order)
    return _bernoulli_field(loss, order)


@lru_cache(maxsize=None)
def _bernoulli_field(loss: Loss, order: int) -> Field:
    return _sum_field(loss, bernoulli_terms(loss, order), f"bernoulli:{order}", order=order, route="bernoulli")


IGR_COEFFICIENT = sp.Rational(1, 4)


def igr_loss(loss: Loss, coefficient: Any = IGR_COEFFICIENT) -> Loss:
    """The implicit-gradient-regularisation loss L̃ = L + c·h‖∇L‖², c = ¼ (Barrett & Dherin, ICLR 2021, Thm 3.1).

    The step symbol :data:`H` appears in the expression; the variables are those of ``loss``.
    """
    return _igr_loss(loss, sp.Rational(coefficient))


@lru_cache(maxsize=None)
def _igr_loss(loss: Loss, c: sp.Rational) -> Loss:
    expr = loss.expr + c * H * sum(gi**2 for gi in loss.gradient)
    return Loss(f"igr({loss.name})", expr, loss.variables, description=f"{loss.name} + {c}·h‖∇L‖²")


def igr_field(loss: Loss, coefficient: Any = IGR_COEFFICIENT) -> Field:
    """θ̇ = −∇L̃ for :func:`igr_loss` (the gradient of the modified loss, built directly); cached."""
    return _igr_field(loss, sp.Rational(coefficient))


@lru_cache(maxsize=None)
def _igr_field(loss: Loss, c: sp.Rational) -> Field:
    lt = igr_loss(loss, c)
    name = "igr" if c == IGR_COEFFICIENT else f"igr(c={c})"
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


def log_series_coefficients(k: int) -> list[sp.Rational]:
    """c_j in (1/h) log(I − hA) = Σ_j c_j h^j A^{j+1}: c_j = −1/(j+1)."""
    return [sp.Rational(-1, j + 1) for j in range(k + 1)]


def quadratic_log_terms(A: sp.Matrix, variables: Sequence[sp.Symbol], k: int,
                        coefficients: Sequence[Any] | None = None) -> list[list[sp.Expr]]:
    """Terms of the exact modified field of GD on ½θᵀAθ: (1/h) log(I − hA) θ = −Σ_j h^j A^{j+1} θ/(j+1).

    From θ⁺ = (I − hA)θ = exp(log(I − hA))θ, valid for h‖A‖ < 1
    (Hairer, Lubich & Wanner, GNI ch. IX, linear case). ``coefficients``
    replaces the c_j of :func:`log_series_coefficients` (for mutants).
    """
    c = log_series_coefficients(k) if coefficients is None else [sp.Rational(x) for x in coefficients]
    A = sp.Matrix(A)
    theta = sp.Matrix(variables)
    out, P = [], sp.eye(A.shape[0])
    for j in range(k + 1):
        P = P * A
        out.append([sp.expand(c[j] * x) for x in P * theta])
    return out


def direct_terms(loss: Loss, k: int, route: str = "bernoulli",
                 bernoulli: Sequence[Any] | None = None) -> list[list[sp.Expr]]:
    """The same recursions as :func:`generic_terms`, run with plain ``sympy.diff`` on the concrete loss.

    A reference implementation that shares no code with the jets (only the
    recursion formulas), used to cross-check them numerically. Expressions
    swell quickly (≈10⁵ operations for F₄ of a logistic loss): keep k ≤ 4.
    """
    _check_order(k)
    if route not in ROUTES:
        raise InputError(f"route must be one of {', '.join(ROUTES)}, got {route!r}.")
    xs, d = loss.variables, loss.dim
    g = list(loss.gradient)
    F: list[Vector] = [[-c for c in g]]
    memo: dict[tuple[int, int], Vector] = {}

    poly = loss.polynomial_degree is not None

    def lie(u: Vector, v: Vector) -> Vector:
        out = [sum(sp.diff(ui, xs[j]) * v[j] for j in range(d)) for ui in u]
        return [sp.expand(c) for c in out] if poly else out

    def power(m: int, j: int, seed: Vector | None) -> Vector:
        if m == 0:
            return F[j] if seed is None else (seed if j == 0 else [sp.S.Zero] * d)
        if (m, j) not in memo:
            acc: Vector = [sp.S.Zero] * d
            for a in range(j + 1):
                acc = _add(acc, lie(power(m - 1, a, seed), F[j - a]))
            memo[(m, j)] = acc
        return memo[(m, j)]

    b = _bernoulli_coefficients(k) if bernoulli is None else [sp.Rational(c) for c in bernoulli]
    for n in range(1, k + 1):
        if route == "taylor":
            parts = [_scale(-sp.Rational(1, math.factorial(m)), power(m - 1, n + 1 - m, None)) for m in range(2, n + 2)]
        else:
            parts = [_scale(-b[m], power(m, n - m, g)) for m in range(1, n + 1)]
        Fn: Vector = [sp.S.Zero] * d
        for part in parts:
            Fn = _add(Fn, part)
        F.append(Fn)
    return F


# --- numbers at points ---------------------------------------------------------------

@dataclass
class Asymmetry:
    """‖J − Jᵀ‖_F of the term F_j at a point, with ‖J‖_F for scale."""

    term: int  # power of h
    point: tuple[float, ...]
    size: float
    jacobian_norm: float

    @property
    def relative(self) -> float:
        return self.size / self.jacobian_norm if self.jacobian_norm else 0.0


def _mpf(x: Any) -> Any:
    """An exact rational or a float as an mpmath number at the current precision."""
    if isinstance(x, (sp.Rational, int, Fraction)):
        r = Fraction(int(x.p), int(x.q)) if isinstance(x, sp.Rational) else Fraction(x)
        return mpmath.mpf(r.numerator) / r.denominator
    return mpmath.mpf(x)


def _jet_values(loss: Loss, jet: Jet, point: Sequence[Any]) -> list[Any]:
    """∂^αL(point) in mpmath for every generator of ``jet`` (at the current mp precision)."""
    f = sp.lambdify(loss.variables, [loss.derivative(a) for a in jet.alphas], modules="mpmath")
    return [mpmath.mpf(v) for v in f(*[_mpf(x) for x in point])]


def _eval_poly(p: PolyElement, vals: Sequence[Any]) -> Any:
    total = mpmath.mpf(0)
    for monom, coeff in p.terms():
        t = mpmath.mpf(int(coeff.numerator)) / int(coeff.denominator)
        for i, e in enumerate(monom):
            if e:
                t *= vals[i] ** e
        total += t
    return total


def jacobian_asymmetry(loss: Loss, j: int, point: Sequence[Any], dps: int = 30) -> Asymmetry:
    """‖J − Jᵀ‖_F of F_j (the h^j term) at ``point``; zero for every point iff F_j is a gradient field (d ≥ 2, simply connected domain)."""
    mo = _maxorder(loss, j + 1)
    jet = _jet(loss.dim, mo)
    F = generic_terms(loss.dim, j, "taylor", mo)[j]
    J = jet.jacobian(list(F))
    with mpmath.workdps(dps):
        vals = _jet_values(loss, jet, point)
        Jn = [[_eval_poly(J[i][l], vals) for l in range(loss.dim)] for i in range(loss.dim)]
        asym = mpmath.sqrt(sum((Jn[i][l] - Jn[l][i]) ** 2 for i in range(loss.dim) for l in range(loss.dim)))
        norm = mpmath.sqrt(sum(x**2 for row in Jn for x in row))
        return Asymmetry(j, tuple(float(x) for x in point), float(asym), float(norm))


def evaluate_terms(loss: Loss, terms: Sequence[Sequence[sp.Expr]], points: Sequence[Sequence[Any]],
                   dps: int = 50) -> list[list[list[Any]]]:
    """The concrete sympy terms evaluated at each point with mpmath at ``dps`` digits (an independent numeric path).

    Returns ``values[p][j][i]``: point p, term j, component i.
    """
    with mpmath.workdps(dps):
        f = sp.lambdify(loss.variables, [list(t) for t in terms], modules="mpmath")
        return [[[mpmath.mpf(c) for c in row] for row in f(*[_mpf(v) for v in p])] for p in points]
