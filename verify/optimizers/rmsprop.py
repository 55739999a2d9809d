"""RMSProp (Tieleman & Hinton 2012) with ε inside the square root, as Cattaneo, Klusowski & Shigida (ICML 2024) write it.

    v ← ρv + (1 − ρ)g²,   θ ← θ − h g/√(v + ε),   g = ∇L(θ) (squares and roots per coordinate).

The hyper-parameter ρ is called ``beta2``, as Adam's second-moment factor.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Sequence

from theorycheck.maths.scalar import sqrt


def validate(beta2: Fraction = Fraction(1, 2), eps: Fraction = Fraction(1, 1000)) -> None:
    """0 ≤ ρ < 1 and ε > 0."""
    if not 0 <= beta2 < 1:
        raise ValueError(f"beta2 must lie in [0, 1), got {beta2}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")


def init_state(theta: Sequence[Any]) -> list[Any]:
    """v = 0."""
    return [0] * len(theta)


def step(theta: Sequence[Any], state: Sequence[Any], grad: Callable[[Sequence[Any]], list[Any]], h: Any,
         beta2: Any = Fraction(1, 2), eps: Any = Fraction(1, 1000)) -> tuple[list[Any], list[Any]]:
    """v⁺ = ρv + (1 − ρ)g², θ⁺ = θ − h g/√(v⁺ + ε)."""
    g = grad(theta)
    v = [beta2 * vi + (1 - beta2) * gi * gi for vi, gi in zip(state, g)]
    return [t - h * gi / sqrt(vi + eps) for t, gi, vi in zip(theta, g, v)], v


__all__ = ["init_state", "step", "validate"]
