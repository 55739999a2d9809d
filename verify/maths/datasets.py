"""Synthetic data sets, seeded and small, so that every experiment reruns bit for bit with nothing downloaded.

* :func:`sine_regression`: x ~ N(0, I_d), y = sin(2x₁) + x₂/2 (the network claims);
* :func:`smooth_regression`: x ~ N(0, I₂), y = sin x₁ + x₂/2 (explicit GR on a network);
* :func:`regression_task` / :func:`classification_task`: train/test splits for
  the implicit-regularisation experiments (a noisy regression, and two
  interleaved classes with flipped training labels);
* :func:`teacher`: a steep random two-layer net whose outputs are the targets
  of the generalisation check.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorycheck.maths.networks import TwoLayerNet, init_net


def sine_regression(seed: int | np.random.Generator, n: int = 12, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """X, shape (n, d), x ~ N(0, I_d); y = sin(2x₁) + x₂/2, shape (n,)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]


def smooth_regression(seed: int | np.random.Generator, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """X, shape (n, 2), x ~ N(0, I₂); y = sin x₁ + x₂/2. A Generator ``seed`` is advanced."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    return X, np.sin(X[:, 0]) + 0.5 * X[:, 1]


@dataclass(frozen=True)
class Task:
    """A synthetic data set with a train/test split; ``kind`` is "regression" or "classification"."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    kind: str


def regression_task(rng: np.random.Generator, n_train: int = 24, n_test: int = 400, noise: float = 0.1) -> Task:
    """y = sin(2x₁)·cos(x₂) + noise, x ~ N(0, I₂)."""
    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, 2))
        return X, np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + noise * rng.standard_normal(n)

    X, y = draw(n_train)
    Xt, yt = draw(n_test)
    return Task(X, y, Xt, yt, "regression")


def classification_task(rng: np.random.Generator, n_train: int = 40, n_test: int = 2000, flip: float = 0.15) -> Task:
    """Two interleaved classes (label sign(sin(2x₁) + x₂)) with a fraction ``flip`` of training labels flipped.

    Labels are ±1 and the network is fitted by square loss; accuracy is the
    fraction with sign f(x) = label. Test labels are clean.
    """
    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, 2))
        return X, np.where(np.sin(2 * X[:, 0]) + X[:, 1] > 0, 1.0, -1.0)

    X, y = draw(n_train)
    y = np.where(rng.random(n_train) < flip, -y, y)
    Xt, yt = draw(n_test)
    return Task(X, y, Xt, yt, "classification")


def teacher(seed: int, d: int = 4, width: int = 8, scale: float = 3.0) -> TwoLayerNet:
    """A steep teacher f*: large first-layer weights make ‖∇f*‖ large."""
    return init_net(d, width, seed=seed, scale=scale)


__all__ = ["Task", "classification_task", "regression_task", "sine_regression", "smooth_regression", "teacher"]
