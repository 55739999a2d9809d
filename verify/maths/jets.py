"""Generic jets: exact polynomial identities in the derivatives of an unspecified loss.

The modified-equation terms of GD are computed once per dimension d as exact
polynomials over ℚ in the symbols L_α = ∂^α L (1 ≤ |α| ≤ k+1), and only then
are the partial derivatives of a concrete loss substituted
(:func:`concretise`). This keeps expressions compact (every derivative of L is
built once and shared), makes two derivations of the same term comparable
*exactly* for every smooth L in d variables (an identity in the ring, with no
evaluation point and no rounding), and gives the gradient-field test in the
same currency.

Two recursions (routes) for the terms F₀, F₁, … of f̃ = Σ h^j F_j:

* **Taylor matching** (``route="taylor"``): the Lie series of the exact
  flow, exp(h L_f̃) id = Σ_m h^m/m! L_f̃^{m−1} f̃ with L_F u = u′F, is matched to
  θ − h g order by order (Hairer, Lubich & Wanner, *Geometric Numerical
  Integration*, 2nd ed., §IX.1; theorem number not checked against the book):
  F_n = −Σ_{m=2}^{n+1} (1/m!) [h^{n+1−m}] L_f̃^{m−1} f̃.
* **Bernoulli series** (``route="bernoulli"``), the operator identity of
  backward error analysis θ̇ = −(hD/(e^{hD} − 1)) g = −Σ_m (B_m/m!) h^m D^m g
  (Barrett & Dherin, ICLR 2021, §2) with D u = u′f̃ the derivative along the
  modified flow itself, solved order by order:
  F_n = −Σ_{m=1}^{n} (B_m/m!) [h^{n−m}] L_f̃^m g   (B₁ = −½).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Sequence

import mpmath
import sympy as sp
from sympy import QQ
from sympy.polys.rings import PolyElement, ring

from theorycheck.core.errors import InputError
from theorycheck.maths.losses import Loss
from theorycheck.maths.numbers import as_mpf

ROUTES = ("taylor", "bernoulli")
MAX_ORDER = 8  # beyond this the generic jets grow past what a check needs (k ≤ 4 is used)

_Vector = list  # a list of d components (PolyElement or sympy.Expr)


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

    def zero(self) -> _Vector:
        return [self.ring.zero] * self.d

    def gradient(self) -> _Vector:
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

    def lie(self, u: _Vector, F: _Vector) -> _Vector:
        """L_F u = u′F, the derivative of u along the field F."""
        return [sum((self.deriv(ui, j) * F[j] for j in range(self.d)), self.ring.zero) for ui in u]

    def jacobian(self, u: _Vector) -> list[list[PolyElement]]:
        """∂u_i/∂θ_j."""
        return [[self.deriv(ui, j) for j in range(self.d)] for ui in u]


def _add(u: _Vector, v: _Vector) -> _Vector:
    return [a + b for a, b in zip(u, v)]


def _scale(c: Any, u: _Vector) -> _Vector:
    return [c * a for a in u]


@lru_cache(maxsize=None)
def bernoulli_coefficients(k: int) -> list[sp.Rational]:
    """b_m = B_m/m! in x/(eˣ − 1) = Σ b_m x^m, m = 0..k (B₁ = −½).

    From (eˣ − 1)/x · Σ b_m x^m = 1: b₀ = 1, b_m = −Σ_{j<m} b_j/(m + 1 − j)!.
    (sympy ≥ 1.12's ``bernoulli(1)`` is +½, the other convention, so it is not used.)
    """
    b = [sp.Rational(1)]
    for m in range(1, k + 1):
        b.append(-sum((b[j] / sp.factorial(m + 1 - j) for j in range(m)), sp.Rational(0)))
    return b


def validate_order(k: int) -> int:
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
    validate_order(k)
    if route not in ROUTES:
        raise InputError(f"route must be one of {', '.join(ROUTES)}, got {route!r}.")
    b = bernoulli_coefficients(k) if bernoulli is None else [sp.Rational(c) for c in bernoulli]
    if len(b) < k + 1:
        raise InputError(f"need {k + 1} Bernoulli coefficients, got {len(b)}.")
    return _generic_terms(int(d), k, route, int(maxorder) if maxorder is not None else k + 1, tuple(b[: k + 1]))


@lru_cache(maxsize=None)
def _generic_terms(d: int, k: int, route: str, maxorder: int,
                   bcoef: tuple[sp.Rational, ...]) -> tuple[tuple[PolyElement, ...], ...]:
    ring_ = jet(d, maxorder)
    F: list[_Vector] = [_scale(-1, ring_.gradient())]
    memo: dict[tuple[int, int], _Vector] = {}

    def power(m: int, j: int, seed: _Vector | None) -> _Vector:
        # [h^j] L_f̃^m u with u = f̃ (seed None, Taylor) or u = g (Bernoulli); needs F_0..F_j only
        if m == 0:
            if seed is None:
                return F[j]
            return seed if j == 0 else ring_.zero()
        if (m, j) not in memo:
            acc = ring_.zero()
            for a in range(j + 1):
                acc = _add(acc, ring_.lie(power(m - 1, a, seed), F[j - a]))
            memo[(m, j)] = acc
        return memo[(m, j)]

    if route == "taylor":
        for n in range(1, k + 1):
            Fn = ring_.zero()
            for m in range(2, n + 2):
                Fn = _add(Fn, _scale(-QQ(1, math.factorial(m)), power(m - 1, n + 1 - m, None)))
            F.append(Fn)
    else:
        b = [QQ(int(c.p), int(c.q)) for c in bcoef]
        g = ring_.gradient()
        for n in range(1, k + 1):
            Fn = ring_.zero()
            for m in range(1, n + 1):
                Fn = _add(Fn, _scale(-b[m], power(m, n - m, g)))
            F.append(Fn)
    return tuple(tuple(v) for v in F)


@lru_cache(maxsize=None)
def jet(d: int, maxorder: int) -> Jet:
    """The (cached) jet ring of a generic L in d variables with derivatives up to ``maxorder``."""
    return Jet(d, maxorder)


def generic_agreement(d: int, k: int, bernoulli: Sequence[Any] | None = None) -> list[bool]:
    """Per power h^j, j = 0..k: do the Taylor and Bernoulli terms coincide as exact polynomials in ∂^αL?

    An exact identity in the jet ring means agreement for *every* smooth loss
    in d variables (no evaluation point, no rounding).
    """
    T = generic_terms(d, k, "taylor")
    B = generic_terms(d, k, "bernoulli", bernoulli=bernoulli)
    return [all(a == b for a, b in zip(t, s)) for t, s in zip(T, B)]


# --- from the generic jet to a concrete loss ---------------------------------------

def maxorder_for(loss: Loss, k: int) -> int:
    """The highest derivative order of ``loss`` that the terms through h^k need (lower for polynomials)."""
    deg = loss.polynomial_degree
    return k + 1 if deg is None else max(1, min(k + 1, deg))


def concretise(loss: Loss, p: PolyElement, ring_: Jet, expand: bool) -> sp.Expr:
    """Substitute ∂^αL of the concrete loss for the generator L_α.

    Polynomial losses go through a polynomial ring in θ (fast and canonical);
    others stay a sum of products of the shared derivative expressions.
    """
    if expand:
        R, *_ = _theta_ring(loss)
        vals = [R(loss.derivative(a)) for a in ring_.alphas]
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
                factor = factor * loss.derivative(ring_.alphas[i]) ** e
        terms.append(factor)
    return sp.Add(*terms)


@lru_cache(maxsize=None)
def _theta_ring(loss: Loss) -> tuple[Any, ...]:
    return ring(list(loss.variables), QQ)


def jet_values(loss: Loss, ring_: Jet, point: Sequence[Any]) -> list[Any]:
    """∂^αL(point) in mpmath for every generator of ``jet`` (at the current mp precision)."""
    f = sp.lambdify(loss.variables, [loss.derivative(a) for a in ring_.alphas], modules="mpmath")
    return [mpmath.mpf(v) for v in f(*[as_mpf(x) for x in point])]


def evaluate(p: PolyElement, vals: Sequence[Any]) -> Any:
    """The jet polynomial p at the derivative values ``vals`` (from :func:`jet_values`), in mpmath."""
    total = mpmath.mpf(0)
    for monom, coeff in p.terms():
        t = mpmath.mpf(int(coeff.numerator)) / int(coeff.denominator)
        for i, e in enumerate(monom):
            if e:
                t *= vals[i] ** e
        total += t
    return total


__all__ = [
    "Jet", "MAX_ORDER", "ROUTES", "bernoulli_coefficients", "concretise", "evaluate", "generic_agreement",
    "generic_terms", "jet", "jet_values", "maxorder_for", "validate_order",
]
