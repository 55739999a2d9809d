"""Heavy-ball momentum (Polyak 1964), in the velocity form of PyTorch's SGD with momentum.

    v ← βv + ∇L(θ),   θ ← θ − h v,

the same θ-sequence as θ_{n+1} = θ_n − h∇L(θ_n) + β(θ_n − θ_{n−1}). The velocity starts at 0 and settles by the
factor β per step onto its slow manifold v ≈ ∇L/(1 − β) (Kovachki & Stuart, JMLR 2021).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Sequence


def validate(beta: Fraction = Fraction(1, 2)) -> None:
    """0 ≤ β < 1."""
    if not 0 <= beta < 1:
        raise ValueError(f"beta must lie in [0, 1), got {beta}")


def init_state(theta: Sequence[Any]) -> list[Any]:
    """v = 0."""
    return [0] * len(theta)


def step(theta: Sequence[Any], state: Sequence[Any], grad: Callable[[Sequence[Any]], list[Any]], h: Any,
         beta: Any = Fraction(1, 2)) -> tuple[list[Any], list[Any]]:
    """v⁺ = βv + ∇L(θ), θ⁺ = θ − h v⁺."""
    g = grad(theta)
    v = [beta * vi + gi for vi, gi in zip(state, g)]
    return [t - h * vi for t, vi in zip(theta, v)], v


__all__ = ["init_state", "step", "validate"]
