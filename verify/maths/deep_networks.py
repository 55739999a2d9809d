"""A fully connected tanh network of any depth as a model ``f(params, x)``: the one deep-net model.

f(x) = w_Lᵀ σ(W_{L−1} ⋯ σ(W₁x + b₁) ⋯ + b_{L−1}), σ = tanh, depth L ≥ 2 (L − 1 hidden layers and
a linear output without bias, as in the two-layer net of :mod:`theorycheck.maths.networks`). The
parameters are one flat vector θ = [W₁.ravel(), b₁, W₂.ravel(), b₂, …, w_L] (row-major), so the first
layer's weight W₁ (m₁ × d) is ``θ[:m₁·d]``: what
:class:`theorycheck.numerics.models.FirstLayer` ``(0, (m₁, d))`` names.

The model is written with ``autograd.numpy`` and takes one input x (shape (d,)) or a batch X
(shape (n, d)) alike, so that the model protocol (:func:`theorycheck.maths.models.model`) differentiates it
per sample and :meth:`DeepNet.loss_and_gradient` trains it on the whole batch.

The first layer's multiplicative structure holds at every depth: with z₁ = W₁x + b₁ and
δ = ∂f/∂z₁, ∇ₓf = W₁ᵀδ and ∇_{W₁}f = δxᵀ, so ‖∇ₓf(x)‖ ≤ ‖W₁‖₂‖δ‖ = ‖W₁‖₂‖∇_{W₁}f(x)‖_F/‖x‖
whatever the layers above compute (Ma & Ying, NeurIPS 2021, Sec. 2, state it for the first layer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad

from theorycheck.core.errors import InputError


@dataclass(frozen=True)
class DeepNet:
    """A tanh network with layer widths ``dims = (d, m₁, …, m_{L−1})`` and a scalar linear output.

    Parameters
    ----------
    dims : tuple of int
        Input dimension d, then the width of each hidden layer; depth L = len(dims).
    """

    dims: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.dims) < 2 or any(int(m) < 1 for m in self.dims):
            raise InputError(f"a deep net needs an input dimension and at least one hidden width ≥ 1, got {self.dims}.")

    @property
    def depth(self) -> int:
        """L: the number of weight layers (hidden layers + the output)."""
        return len(self.dims)

    @property
    def shapes(self) -> list[tuple[int, int]]:
        """(out, in) of every weight matrix, the output row (1, m_{L−1}) last."""
        return [(self.dims[i + 1], self.dims[i]) for i in range(len(self.dims) - 1)] + [(1, self.dims[-1])]

    @property
    def n_params(self) -> int:
        hidden = sum(o * i + o for o, i in self.shapes[:-1])
        return hidden + self.dims[-1]

    @property
    def first_layer(self) -> tuple[int, tuple[int, int]]:
        """(start, (m₁, d)): where W₁ sits in θ."""
        return 0, (self.dims[1], self.dims[0])

    def __call__(self, params: Any, x: Any) -> Any:
        """f(θ, x): a number for x of shape (d,), shape (n,) for a batch X of shape (n, d)."""
        h, k = x, 0
        for o, i in self.shapes[:-1]:
            W = anp.reshape(params[k:k + o * i], (o, i))
            k += o * i
            h = anp.tanh(anp.dot(h, W.T) + params[k:k + o])
            k += o
        return anp.dot(h, params[k:k + self.dims[-1]])

    def init(self, seed: int, scale: float = 1.0) -> np.ndarray:
        """θ with weights N(0, scale²/fan-in) and biases N(0, 0.1²), from ``seed``."""
        rng = np.random.default_rng(seed)
        parts = []
        for o, i in self.shapes[:-1]:
            parts += [rng.standard_normal(o * i) * scale / math.sqrt(i), 0.1 * rng.standard_normal(o)]
        parts.append(rng.standard_normal(self.dims[-1]) * scale / math.sqrt(self.dims[-1]))
        return np.concatenate(parts)

    def loss(self, params: Any, X: np.ndarray, y: np.ndarray) -> Any:
        """L(θ) = (1/2n) Σ (f(θ, xᵢ) − yᵢ)² on the whole batch."""
        r = self(params, X) - y
        return 0.5 * anp.mean(r * r)

    def loss_and_gradient(self, X: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """θ ↦ (L(θ), ∇L(θ)) on the batch, by autograd (what a minimiser calls)."""
        vg = value_and_grad(lambda th: self.loss(th, X, y))

        def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
            # a line search may try huge steps: cosh and squares overflow to inf there, whose limits
            # (a zero derivative of tanh, an infinite loss the search backs off from) are the right values
            with np.errstate(over="ignore"):
                v, g = vg(np.asarray(theta, dtype=float))
            return float(v), np.asarray(g, dtype=float)

        return f


__all__ = ["DeepNet"]
