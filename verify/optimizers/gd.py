"""Gradient descent, θ ← θ − h∇L(θ) (no state): the map of Barrett & Dherin's backward error analysis (ICLR 2021)."""

from __future__ import annotations

from typing import Any, Callable, Sequence


def step(theta: Sequence[Any], state: Sequence[Any], grad: Callable[[Sequence[Any]], list[Any]], h: Any
         ) -> tuple[list[Any], list[Any]]:
    """θ⁺ = θ − h∇L(θ); the state stays empty."""
    g = grad(theta)
    return [t - h * gi for t, gi in zip(theta, g)], list(state)


__all__ = ["step"]
