"""Momentum with dampening τ, as ``torch.optim.SGD(momentum=β, dampening=τ)`` after its first step.

    v ← βv + (1 − τ)∇L(θ),   θ ← θ − h v.

τ = 0 is heavy ball; τ = β the exponential moving average of the gradients. On the slow manifold it is heavy ball
with the step h(1 − τ): its modified field is (1 − τ)^{j+1} times heavy ball's h^j term.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Sequence


def validate(beta: Fraction = Fraction(1, 2), dampening: Fraction = Fraction(1, 2)) -> None:
    """0 ≤ β < 1 and 0 ≤ τ < 1."""
    if not 0 <= beta < 1:
        raise ValueError(f"beta must lie in [0, 1), got {beta}")
    if not 0 <= dampening < 1:
        raise ValueError(f"dampening must lie in [0, 1), got {dampening}")


def init_state(theta: Sequence[Any]) -> list[Any]:
    """v = 0."""
    return [0] * len(theta)


def step(theta: Sequence[Any], state: Sequence[Any], grad: Callable[[Sequence[Any]], list[Any]], h: Any,
         beta: Any = Fraction(1, 2), dampening: Any = Fraction(1, 2)) -> tuple[list[Any], list[Any]]:
    """v⁺ = βv + (1 − τ)∇L(θ), θ⁺ = θ − h v⁺."""
    g = grad(theta)
    v = [beta * vi + (1 - dampening) * gi for vi, gi in zip(state, g)]
    return [t - h * vi for t, vi in zip(theta, v)], v


__all__ = ["init_state", "step", "validate"]
