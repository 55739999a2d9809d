"""Training a two-layer net by GD or SGD until a target loss, with an honest outcome.

One loop serves every experiment: the network claims train to interpolation
(loss ≤ 1e-10), the implicit-regularisation experiments train to a *matched*
loss (the first step with L ≤ a fraction of the initial loss) and record the
slope ‖∇L‖ at a ladder of loss levels on the way.

GD:  θ ← θ − η ∇L(θ);
SGD: θ ← θ − η ∇L_batch(θ), ∇L_batch = (1/B) Σ_{i∈batch} rᵢ ∇fᵢ, each batch
     drawn without replacement, a fresh one every step.

The loss is checked on the full training set every ``check_every`` steps (and
at the start and the last step); a run that does not reach the target is an
outcome reported in :class:`TrainResult`, never an exception.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.networks import TwoLayerNet, validate_data

OPTIMIZERS = ("gd", "sgd")
STATUSES = ("reached", "max_steps", "diverged")


@dataclass
class TrainResult:
    """Outcome of a training run.

    ``status`` is ``"reached"`` (train loss ≤ ``tol``; ``reached`` is True only
    then), ``"max_steps"`` (did not reach it) or ``"diverged"`` (loss above
    ``divergence`` or non-finite; ``net`` is then the last finite iterate).
    ``steps`` counts the updates made; ``grad_sq`` is ‖∇L‖² on the full
    training set at the final point (NaN after a divergence). With ``levels``,
    ``level_slopes[j]`` is ‖∇L‖ at the first checked step with L ≤ levels[j]
    (NaN if never reached).
    """

    net: TwoLayerNet
    train_loss: float
    status: str
    steps: int
    optimizer: str
    lr: float
    batch: int
    seed: int
    tol: float
    grad_sq: float = math.nan
    levels: list[float] = field(default_factory=list)
    level_slopes: list[float] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        return self.status == "reached"

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"


def validate_training(optimizer: str, lr: float, batch: int | None, n: int, steps: int, tol: float) -> int:
    """Check training settings; return the batch size actually used."""
    if optimizer not in OPTIMIZERS:
        raise InputError(f"`optimizer` must be 'gd' or 'sgd', got {optimizer!r}.")
    if isinstance(lr, bool) or not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise InputError(f"`lr` must be a positive finite number, got {lr!r}.")
    if isinstance(steps, bool) or not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise InputError(f"`steps` must be a positive integer, got {steps!r}.")
    if not (math.isfinite(tol) and tol > 0):
        raise InputError(f"`tol` must be a positive finite number, got {tol!r}.")
    if optimizer == "gd":
        if batch is not None and batch != n:
            raise InputError(f"`batch` must be omitted or equal n={n} for gd, got {batch}.")
        return n
    if batch is None:
        raise InputError("`batch` is required for sgd.")
    if not (1 <= batch <= n):
        raise InputError(f"`batch` must be in 1..{n} (the number of samples), got {batch}.")
    return int(batch)


def train(net: TwoLayerNet, X: np.ndarray, y: np.ndarray, optimizer: str = "gd", lr: float = 0.1,
          batch: int | None = None, seed: int = 0, steps: int = 10_000, tol: float = 1e-10,
          divergence: float = 1e8, check_every: int = 10, levels: Sequence[float] = ()) -> TrainResult:
    """Train ``net`` on (X, y) from its parameters (see the module docstring).

    Parameters
    ----------
    net : TwoLayerNet
        The starting point (and the architecture).
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,)
    optimizer : {"gd", "sgd"}
    lr : float
        Learning rate η > 0.
    batch : int, optional
        Batch size for SGD (1 ≤ B ≤ n); GD uses every sample.
    seed : int
        Seed of the batch draws.
    steps : int
        Maximum number of updates.
    tol : float
        Target train loss; the run stops at the first checked step with L ≤ tol.
    divergence : float
        A train loss above this counts as divergence.
    check_every : int
        Check the full train loss every this many steps (every step when ``levels`` are given).
    levels : sequence of float
        Loss levels at which to record the slope ‖∇L‖ (GD only).

    Returns
    -------
    TrainResult
    """
    X, y = validate_data(X, y, net.dim)
    n = len(y)
    B = validate_training(optimizer, lr, batch, n, steps, tol)
    levels = sorted((float(v) for v in levels), reverse=True)
    if levels and B != n:
        raise InputError("loss levels are recorded for full-batch GD only.")
    every = 1 if levels else max(1, int(check_every))
    arch = net.architecture
    rng = np.random.default_rng(seed)
    theta = net.theta
    slopes = [math.nan] * len(levels)
    nxt = 0
    status, t, L = "max_steps", 0, math.nan
    with np.errstate(over="ignore", invalid="ignore"):
        while True:
            checked = t % every == 0 or t == steps
            g: np.ndarray | None = None
            if checked:
                if B == n:
                    L, g = arch.loss_and_gradient(theta, X, y)
                else:
                    L = arch.loss(theta, X, y)
                if not math.isfinite(L) or L > divergence:
                    status = "diverged"
                    break
                if levels and g is not None:  # levels imply full batch, so g is the full gradient here
                    slope = math.sqrt(float(g @ g))
                    while nxt < len(levels) and L <= levels[nxt]:
                        slopes[nxt] = slope
                        nxt += 1
                if L <= tol:
                    status = "reached"
                    break
            if t == steps:
                break
            if B == n:
                if g is None:
                    g = arch.gradient(theta, X, y)
            else:
                idx = rng.choice(n, size=B, replace=False)
                g = arch.gradient(theta, X[idx], y[idx])
            new = theta - lr * g
            t += 1
            if not np.all(np.isfinite(new)):
                status = "diverged"
                break
            theta = new
        if status == "diverged":
            grad_sq = math.nan
            L = arch.loss(theta, X, y)
        else:
            L, g_end = arch.loss_and_gradient(theta, X, y)
            grad_sq = float(g_end @ g_end)
    return TrainResult(net=arch.net(theta), train_loss=L, status=status, steps=t, optimizer=optimizer, lr=float(lr),
                       batch=B, seed=seed, tol=tol, grad_sq=grad_sq, levels=levels, level_slopes=slopes)


__all__ = ["OPTIMIZERS", "STATUSES", "TrainResult", "train", "validate_training"]
