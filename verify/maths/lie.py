"""The derivative-free route to modified equations: h·f̃ = log(1 + Δ) on an optimiser's orbit.

For a near-identity step map Φ_h, the modified field f̃ is defined by
Φ_h^* = exp(h L_f̃) on functions (Lie series: u∘φ_t = exp(t L_f) u). Taking the
logarithm and applying it to the coordinate functions gives, with
Δu = u∘Φ_h − u,

    h f̃(θ) = log(1 + Δ) θ = Σ_{k≥1} (−1)^{k+1}/k · Δ^k θ,
    Δ^k θ = Σ_{j=0}^{k} C(k, j) (−1)^{k−j} Φ_h^j(θ)         (forward differences of the orbit).

Δ^k θ = O(h^k), so keeping K terms gives f̃(θ) up to O(h^K) from K steps of
the optimiser and nothing else: no derivatives, no symbolic algebra
(:func:`log_series_field`). It works for any optimiser map, and cross-checks
the Taylor-matched field of :mod:`theorycheck.maths.modified`.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import mpmath
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.optimisers import StepMap


def log_series_coefficients(terms: int) -> list[Any]:
    """(−1)^{k+1}/k for k = 1..terms (the coefficients of log(1 + x))."""
    return [sp.Rational((-1) ** (k + 1), k) for k in range(1, terms + 1)]


def forward_differences(orbit: Sequence[Sequence[Any]], k: int) -> list[Any]:
    """Δ^k θ = Σ_j C(k, j)(−1)^{k−j} θ_j from the orbit θ_0 … θ_k."""
    if len(orbit) < k + 1:
        raise InputError(f"need {k + 1} orbit points for Δ^{k}, got {len(orbit)}.")
    d = len(orbit[0])
    return [sum(math.comb(k, j) * (-1) ** (k - j) * orbit[j][i] for j in range(k + 1)) for i in range(d)]


def log_series_from_orbit(orbit: Sequence[Sequence[Any]], h: Any, terms: int,
                          coefficients: Sequence[Any] | None = None) -> list[Any]:
    """f̃(θ₀) ≈ (1/h) Σ_{k=1}^{terms} c_k Δ^k θ₀ with c_k = (−1)^{k+1}/k (``coefficients`` for mutants)."""
    if terms < 1:
        raise InputError(f"`terms` must be at least 1, got {terms}.")
    c = log_series_coefficients(terms) if coefficients is None else list(coefficients)
    if len(c) < terms:
        raise InputError(f"need {terms} coefficients, got {len(c)}.")
    d = len(orbit[0])
    acc = [mpmath.mpf(0)] * d
    for k in range(1, terms + 1):
        ck = mpmath.mpf(sp.Rational(c[k - 1]).p) / sp.Rational(c[k - 1]).q
        dk = forward_differences(orbit, k)
        acc = [a + ck * x for a, x in zip(acc, dk)]
    return [a / h for a in acc]


def orbit(step: StepMap, theta: Sequence[Any], h: Any, n: int) -> list[list[Any]]:
    """[θ, Φ_h(θ), …, Φ_h^n(θ)]."""
    out = [list(theta)]
    for _ in range(n):
        out.append(list(step(out[-1], h)))
    return out


def log_series_field(step: StepMap, theta: Sequence[Any], h: Any, terms: int,
                     coefficients: Sequence[Any] | None = None) -> list[Any]:
    """The modified field of a one-step map at θ, derivative-free, error O(h^terms)."""
    return log_series_from_orbit(orbit(step, theta, h, terms), h, terms, coefficients)


__all__ = ["forward_differences", "log_series_coefficients", "log_series_field", "log_series_from_orbit", "orbit"]
