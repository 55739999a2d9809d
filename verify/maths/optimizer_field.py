"""The modified equation of any optimiser of the protocol, to order K: symbolically, or derivative-free.

On its slow manifold an optimiser moves θ by the near-identity map
Ψ_h(θ) = θ + Σ_{k≥1} h^k ψ_k(θ) (:mod:`theorycheck.maths.slow_manifold`). Its
modified field f̃ = F₀ + hF₁ + h²F₂ + … (time in units of h: θ_n ≈ y(nh) with
ẏ = f̃(y)) is the field whose exact time-h flow is Ψ_h. Matching the Lie series
of that flow, exp(h L_f̃) θ = Σ_m (h^m/m!) L_f̃^{m−1} f̃ with L_F u = u′F, with
Ψ_h order by order (Hairer, Lubich & Wanner, GNI, §IX.1, for one-step methods;
here the one-step method is Ψ_h):

    F_n = ψ_{n+1} − Σ_{m=2}^{n+1} (1/m!) [h^{n+1−m}] L_f̃^{m−1} f̃,

so F₀ = ψ₁ (the leading flow), F₁ = ψ₂ − ½F₀′F₀, and F_K needs ψ up to
ψ_{K+1}. For gradient descent (ψ₁ = −∇L, no other term) this is the Taylor
matching of :mod:`theorycheck.maths.modified`; for heavy ball it reproduces the
two-step series of :mod:`theorycheck.maths.momentum`, for RMSProp and Adam the
field of :mod:`theorycheck.maths.adaptive` (tests hold both to 30 digits).
The terms are generic in the derivatives of the loss (jet symbols L_α) until
:attr:`ModifiedEquation.terms` substitutes the concrete loss: :func:`derive`
(route "symbolic").

Where the symbolic terms grow too large, or as an independent check,
:func:`log_series_terms` measures F₀(θ₀) … F_K(θ₀) at a point without any
derivative (route "log-series"): h·f̃ = log(1 + Δ) θ₀ = Σ_k (−1)^{k+1} Δ^kθ₀/k
on the slow orbit (:mod:`theorycheck.maths.lie`) at several step sizes, each
value a polynomial Σ_j h^j F_j(θ₀) + O(h^M) in h, whose coefficients are
recovered by interpolation at high precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Sequence

import mpmath
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.fields import Field, H
from theorycheck.maths.protocol import Optimizer, as_optimizer
from theorycheck.maths.slow_manifold import SlowManifold, concrete, expand, jet_symbol, total_derivative

#: Routes of a derivation.
ROUTES = ("symbolic", "log-series")
#: The largest K derived symbolically for a rule other than gradient descent (the terms grow quickly beyond).
MAX_ORDER = 4


def match_terms(psi: Sequence[Sequence[sp.Expr]], variables: Sequence[sp.Symbol], order: int) -> list[list[sp.Expr]]:
    """F₀ … F_order from the coefficients ψ₀ = θ, ψ₁, … of a near-identity map (module docstring).

    Parameters
    ----------
    psi : sequence of order + 2 lists of d sympy expressions
        ψ_k, the h^k coefficients of Ψ_h(θ) (jet symbols allowed).
    variables : sequence of d sympy symbols
        θ.
    order : int
        K.
    """
    if len(psi) < order + 2:
        raise InputError(f"F_{order} needs ψ up to ψ_{order + 1}, got {len(psi) - 1} terms.")
    d = len(variables)
    F: list[list[sp.Expr]] = []
    memo: dict[tuple[int, int], list[sp.Expr]] = {}

    def lie(u: Sequence[sp.Expr], v: Sequence[sp.Expr]) -> list[sp.Expr]:
        return [sp.Add(*[total_derivative(ui, j, variables) * v[j] for j in range(d) if v[j] != 0]) for ui in u]

    def power(m: int, j: int) -> list[sp.Expr]:
        # [h^j] L_f̃^m f̃ (needs F_0 … F_j)
        if m == 0:
            return F[j]
        if (m, j) not in memo:
            acc = [sp.S.Zero] * d
            for a in range(j + 1):
                acc = [x + y for x, y in zip(acc, lie(power(m - 1, a), F[j - a]))]
            memo[(m, j)] = acc
        return memo[(m, j)]

    for n in range(order + 1):
        Fn = list(psi[n + 1])
        for m in range(2, n + 2):
            c = sp.Rational(1, math.factorial(m))
            Fn = [x - c * y for x, y in zip(Fn, power(m - 1, n + 1 - m))]
        F.append(Fn)
    return F


@dataclass
class ModifiedEquation:
    """The modified field of an optimiser on a loss, term by term.

    Attributes
    ----------
    optimizer : Optimizer
    loss : Loss
    order : int
        K: the terms F₀ … F_K.
    manifold : SlowManifold
        The expansion the terms come from (ψ up to h^{K+1}).
    route : str
        "symbolic" (the terms are formulas).
    """

    optimizer: Optimizer
    loss: Any
    order: int
    manifold: SlowManifold
    route: str = "symbolic"
    _fields: dict[tuple[int, str | None], Field] = field(default_factory=dict, repr=False)

    @cached_property
    def generic(self) -> list[list[sp.Expr]]:
        """F₀ … F_K for a generic loss (jet symbols L_α), by :func:`match_terms` on the first use."""
        if self.order > MAX_ORDER and not self.is_gradient_descent:
            raise InputError(f"the modified field of {self.optimizer.label} is derived symbolically up to "
                             f"h^{MAX_ORDER}; got order {self.order}.")
        return match_terms(self.manifold.psi, self.loss.variables, self.order)

    @cached_property
    def terms(self) -> list[list[sp.Expr]]:
        """F₀ … F_K of the concrete loss (d components each)."""
        return [[concrete(c, self.loss) for c in F] for F in self.generic]

    def values_at(self, point: Sequence[Any], dps: int = 50) -> list[list[Any]]:
        """F₀(θ) … F_K(θ) at ``point`` in mpmath at ``dps`` digits, from the generic terms and ∂^αL at the point
        (much cheaper than compiling the concrete terms)."""
        from theorycheck.maths.numbers import as_mpf
        from theorycheck.maths.slow_manifold import jet_index

        xs = list(self.loss.variables)
        flat = [c for F in self.generic for c in F]
        jets = sorted({s for c in flat for s in c.free_symbols if jet_index(s) is not None}, key=str)
        with mpmath.workdps(dps):
            x = [as_mpf(p, "point") for p in point]
            derivs = sp.lambdify(xs, [self.loss.derivative(jet_index(s)) for s in jets], modules="mpmath")(*x)
            values = sp.lambdify(jets + xs, flat, modules="mpmath", cse=True)(*derivs, *x)
            d = self.loss.dim
            return [[mpmath.mpmathify(v) for v in values[j * d:(j + 1) * d]] for j in range(len(self.generic))]

    @property
    def is_gradient_descent(self) -> bool:
        """Whether the θ-map is θ − h∇L(θ) to the order derived (ψ₁ = −∇L, ψ₂ = … = 0)."""
        d = self.loss.dim
        psi = self.manifold.psi
        if list(psi[1]) != [-jet_symbol(tuple(int(k == i) for k in range(d))) for i in range(d)]:
            return False
        return all(c == 0 for p in psi[2:] for c in p)

    def field(self, order: int | None = None, name: str | None = None) -> Field:
        """Σ_{j≤order} h^j F_j as a :class:`~theorycheck.maths.fields.Field` (default: all K terms; cached)."""
        k = self.order if order is None else int(order)
        if not 0 <= k <= self.order:
            raise InputError(f"order must lie in [0, {self.order}], got {order!r}.")
        key = (k, name)
        if key not in self._fields:
            comps = tuple(sp.Add(*[H**j * self.terms[j][i] for j in range(k + 1)]) for i in range(self.loss.dim))
            label = name or (f"{self.optimizer.label} flow" if k == 0 else f"{self.optimizer.label} modified:{k}")
            self._fields[key] = Field(self.loss.variables, comps, name=label,
                                      meta={"optimizer": self.optimizer.label, "order": k, "route": self.route})
        return self._fields[key]


def derive(optimizer: Any, loss: Any, order: int, point: Sequence[Any] | None = None) -> ModifiedEquation:
    """The terms F₀ … F_order of the modified field of ``optimizer`` on ``loss``, symbolically.

    Parameters
    ----------
    optimizer : Optimizer or anything :func:`~theorycheck.maths.protocol.as_optimizer` accepts
    loss : Loss
    order : int
        K ≥ 0 (at most :data:`MAX_ORDER` unless the rule is gradient descent).
    point : sequence of d numbers, optional
        Where the comparisons of a non-smooth step are decided (:func:`~theorycheck.maths.slow_manifold.expand`).

    Raises
    ------
    InputError
        The step cannot be expanded (named with its file and line), is not smooth at the point, or its state does
        not settle onto a slow manifold.
    """
    opt = as_optimizer(optimizer)
    k = int(order)
    if k < 0:
        raise InputError(f"order must be ≥ 0, got {order!r}.")
    if k > MAX_ORDER and not ModifiedEquation(opt, loss, 1, expand(opt, loss, 2, point)).is_gradient_descent:
        # refused before the long expansion: only gradient descent's terms go beyond (its map has no h² term)
        raise InputError(f"the modified field of {opt.label} is derived symbolically up to h^{MAX_ORDER}; got "
                         f"order {k}.")
    return ModifiedEquation(opt, loss, k, expand(opt, loss, k + 1, point))


# --- the derivative-free route -------------------------------------------------------------------------------


@dataclass
class MeasuredTerms:
    """F₀(θ₀) … F_K(θ₀) measured by log(1 + Δ) on the slow orbit, with an estimate of their accuracy.

    Attributes
    ----------
    values : list of list of mpf
        ``values[j][i]``: component i of F_j at θ₀.
    errors : list of float
        Per term, the largest change of a component when one fewer step size is used (an accuracy estimate).
    steps : list of Fraction
        The step sizes of the orbits.
    digits : int
        Working precision.
    """

    values: list[list[Any]]
    errors: list[float]
    steps: list[Any]
    digits: int
    route: str = "log-series"

    def significant_digits(self, j: int) -> float:
        """−log₁₀(error/‖F_j‖) of term j (∞ when the estimate is 0)."""
        size = max(abs(float(v)) for v in self.values[j]) or 1.0
        return math.inf if self.errors[j] == 0 else -math.log10(self.errors[j] / size)


def _interpolated(hs: Sequence[Any], values: Sequence[Sequence[Any]], degree: int) -> list[list[Any]]:
    """Coefficients c_0 … c_degree of the polynomial through (h_i, V_i), i ≤ degree, per component."""
    n = degree + 1
    A = mpmath.matrix(n, n)
    for i in range(n):
        for j in range(n):
            A[i, j] = hs[i] ** j
    out = []
    for comp in range(len(values[0])):
        sol = mpmath.lu_solve(A, mpmath.matrix([values[i][comp] for i in range(n)]))
        out.append([sol[j] for j in range(n)])
    return [[out[c][j] for c in range(len(out))] for j in range(n)]


def log_series_terms(optimizer: Any, loss: Any, theta0: Sequence[Any], order: int, *, terms: int | None = None,
                     largest_step: Any = None, digits: int = 60, manifold: SlowManifold | None = None
                     ) -> MeasuredTerms:
    """F₀(θ₀) … F_order(θ₀) without derivatives: log(1 + Δ) on slow orbits, interpolated in h (module docstring).

    Parameters
    ----------
    optimizer, loss
        The rule and the loss.
    theta0 : sequence of d numbers
        The point.
    order : int
        K.
    terms : int, optional
        M, the number of terms of log(1 + Δ) (default K + 6): each value is Σ_{j<M} h^j F_j + O(h^M).
    largest_step : number, optional
        h₀ of the steps h₀, h₀/2, … (default 1/64, inside the slow-manifold regime of the built-in examples).
    digits : int
        Working precision of the orbits.
    """
    from fractions import Fraction

    from theorycheck.maths.lie import log_series_from_orbit
    from theorycheck.maths.numbers import as_mpf
    from theorycheck.maths.slow_manifold import SlowMap

    opt = as_optimizer(optimizer)
    K = int(order)
    M = K + 6 if terms is None else int(terms)
    if M < K + 2:
        raise InputError(f"`terms` must be at least order + 2 = {K + 2}, got {M}.")
    h0 = Fraction(1, 64) if largest_step is None else Fraction(str(largest_step))
    steps = [h0 / 2**i for i in range(M + 1)]
    slow = SlowMap(opt, loss, digits, manifold)
    with mpmath.workdps(digits):
        th = [as_mpf(x, "theta0") for x in theta0]
        hs = [as_mpf(h) for h in steps]
        values = [log_series_from_orbit(slow.orbit(th, hh, M), hh, M) for hh in hs]
        # the M points with the smallest steps, and the M − 1 beside them: their difference estimates the error
        best = _interpolated(hs[1:], values[1:], M - 1)
        rough = _interpolated(hs[2:], values[2:], M - 2)
        errors = [float(max(abs(a - b) for a, b in zip(best[j], rough[j]))) for j in range(K + 1)]
        return MeasuredTerms([list(best[j]) for j in range(K + 1)], errors, steps[1:], digits)


__all__ = ["MAX_ORDER", "MeasuredTerms", "ModifiedEquation", "ROUTES", "derive", "log_series_terms", "match_terms"]
