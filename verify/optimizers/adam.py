"""Adam (Kingma & Ba, ICLR 2015) with bias correction and ε inside the square root (Cattaneo, Klusowski & Shigida).

    m ← βm + (1 − β)g,   v ← ρv + (1 − ρ)g²,   θ ← θ − h·m̂/√(v̂ + ε),
    m̂ = m/(1 − β^{n+1}),   v̂ = v/(1 − ρ^{n+1}),

g = ∇L(θ), per coordinate. The powers β^n and ρ^n are kept in the state (they decay by β and ρ per step, like the
moments), so late in training, on the slow manifold, they are 0 and the bias corrections 1: the state is
(m₁ … m_d, v₁ … v_d, βⁿ, ρⁿ), starting at (0, …, 0, 1, 1).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Sequence

from theorycheck.maths.scalar import sqrt


def validate(beta1: Fraction = Fraction(1, 4), beta2: Fraction = Fraction(1, 2), eps: Fraction = Fraction(1, 1000)
             ) -> None:
    """0 ≤ β < 1, 0 ≤ ρ < 1 and ε > 0."""
    if not 0 <= beta1 < 1:
        raise ValueError(f"beta1 must lie in [0, 1), got {beta1}")
    if not 0 <= beta2 < 1:
        raise ValueError(f"beta2 must lie in [0, 1), got {beta2}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")


def init_state(theta: Sequence[Any]) -> list[Any]:
    """m = v = 0, and the powers β⁰ = ρ⁰ = 1."""
    return [0] * (2 * len(theta)) + [1, 1]


def step(theta: Sequence[Any], state: Sequence[Any], grad: Callable[[Sequence[Any]], list[Any]], h: Any,
         beta1: Any = Fraction(1, 4), beta2: Any = Fraction(1, 2), eps: Any = Fraction(1, 1000)
         ) -> tuple[list[Any], list[Any]]:
    """One bias-corrected Adam step."""
    d = len(theta)
    m, v, power1, power2 = state[:d], state[d:2 * d], state[2 * d], state[2 * d + 1]
    g = grad(theta)
    power1, power2 = beta1 * power1, beta2 * power2
    m = [beta1 * mi + (1 - beta1) * gi for mi, gi in zip(m, g)]
    v = [beta2 * vi + (1 - beta2) * gi * gi for vi, gi in zip(v, g)]
    theta = [t - h * (mi / (1 - power1)) / sqrt(vi / (1 - power2) + eps) for t, mi, vi in zip(theta, m, v)]
    return theta, [*m, *v, power1, power2]


__all__ = ["init_state", "step", "validate"]
