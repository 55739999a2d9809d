"""Worst-case input perturbations of a network, by projected gradient ascent.

For each input x the attack seeks max_{‖u‖ ≤ ε} |f(x + u) − f(x)|, starting
from ±ε∇ₓf/‖∇ₓf‖ and taking steps of ε/2 along the sign-corrected input
gradient, projected back onto the ε-ball. It finds a lower bound on the true
maximum, which is what a check of an *upper* bound on the change needs: any
perturbation it finds that exceeds the bound refutes the bound.
"""

from __future__ import annotations

import math

import numpy as np

from theorycheck.maths.networks import TwoLayerNet, input_gradients


def attack(net: TwoLayerNet, X: np.ndarray, eps: float, steps: int = 20) -> np.ndarray:
    """max over ‖u‖ ≤ ε found of |f(x+u) − f(x)| per row of X, shape (n,)."""
    f0 = net(X)
    g = input_gradients(net, X)
    gn = np.linalg.norm(g, axis=1, keepdims=True)
    d0 = np.where(gn > 0, g / np.where(gn > 0, gn, 1), 1.0 / math.sqrt(X.shape[1]))
    best = np.zeros(len(X))
    for sgn in (1.0, -1.0):
        u = sgn * eps * d0
        for _ in range(steps):
            val = net(X + u) - f0
            gu = input_gradients(net, X + u) * np.sign(val)[:, None]
            u = u + eps * 0.5 * gu / np.maximum(np.linalg.norm(gu, axis=1, keepdims=True), 1e-300)
            u *= np.minimum(1.0, eps / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-300))
        best = np.maximum(best, np.abs(net(X + u) - f0))
    return best


__all__ = ["attack"]
