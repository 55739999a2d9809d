"""Nesterov's accelerated gradient with constant momentum β, gradient taken at the look-ahead point.

    v ← βv + ∇L(θ − hβv),   θ ← θ − h v,

i.e. θ_{n+1} = θ_n + β(θ_n − θ_{n−1}) − h∇L(θ_n + β(θ_n − θ_{n−1})) (Sutskever, Martens, Dahl & Hinton, ICML 2013,
in velocity units of the gradient; the constant-momentum NAG of Kovachki & Stuart, JMLR 2021). PyTorch's
``nesterov=True`` iterates the look-ahead point θ − hβv of this rule instead of θ.
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
    """v⁺ = βv + ∇L(θ − hβv), θ⁺ = θ − h v⁺."""
    ahead = [t - h * beta * vi for t, vi in zip(theta, state)]
    g = grad(ahead)
    v = [beta * vi + gi for vi, gi in zip(state, g)]
    return [t - h * vi for t, vi in zip(theta, v)], v


__all__ = ["init_state", "step", "validate"]
