"""SGD's modified loss (Smith, Dherin, Barrett & De, ICLR 2021, arXiv:2101.12176).

One epoch of SGD without replacement visits m mini-batches with losses
L̂₀ … L̂_{m−1} (L = (1/m) Σ_k L̂_k) in a random order σ, taking m steps
θ ← θ − h ∇L̂_{σ(k)}(θ). Smith et al. (Sec. 2, main result; equation number not
checked against the paper) state that
the *mean* iterate over orderings satisfies E[θ_m] = θ(mh) + O(m³h³), where
θ(t) is the gradient flow of

    L̃_SGD = L + (h/4m) Σ_k ‖∇L̂_k‖².

Second-order check (by hand): averaging Σ_{j<k} H_{σk} g_{σj} over orderings
gives ½(m² H g − Σ_k H_k g_k), which matches the time-mh flow of L̃_SGD
term by term; so the mean epoch map has *local* order 3 against that flow,
while the plain flow of L (or a wrong constant) leaves order 2.

Everything here is exact or high precision: per-batch gradients are sympy
expressions evaluated in mpmath, and the mean over all m! orderings is
computed exactly by recursion over the set of unvisited batches. For larger m
the mean is sampled with *reversal pairs* (σ together with its reverse):
every pair of batches then appears in both orders equally often, so the
second-order term of the sample mean is exact and the sampled map has the
same modified loss to O(h³) — sampling noise only enters at O(h³).

Step maps follow the contract of ``theorycheck.maths.optimisers``: ``(theta, T) -> theta``,
where T = m·h is the *epoch duration* (so that ``local_error_study`` compares
the epoch with the flow for time T). In that parameterisation the step symbol
:data:`~theorycheck.maths.fields.H` of the modified field stands for T, and
(h/4m) = T/(4m²).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Any, Callable, Sequence

import mpmath
import numpy as np
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.constants import IGR_COEFFICIENT
from theorycheck.maths.fields import Field, H
from theorycheck.maths.losses import Loss
from theorycheck.maths.numbers import as_mpf, as_rational
from theorycheck.maths.optimisers import StepMap, mean_map


@dataclass(frozen=True, eq=False)
class Batches:
    """Per-sample losses ℓᵢ grouped into mini-batches; L̂_k = mean of ℓᵢ over batch k, L = mean of L̂_k.

    Parameters
    ----------
    samples : tuple of Loss
        ℓ₀ … ℓ_{n−1}, all over the same variables.
    partition : tuple of tuple of int
        Disjoint batches of equal size B covering 0..n−1.
    """

    samples: tuple[Loss, ...]
    partition: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        validate_partition(self.partition, len(self.samples))
        vs = {s.variables for s in self.samples}
        if len(vs) != 1:
            raise InputError("all per-sample losses must share the same variables.")

    @property
    def m(self) -> int:
        return len(self.partition)

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        return self.samples[0].variables

    @cached_property
    def batch_losses(self) -> tuple[Loss, ...]:
        return tuple(Loss(f"batch{k}", sp.Add(*[self.samples[i].expr for i in b]) / len(b), self.variables)
                     for k, b in enumerate(self.partition))

    @cached_property
    def loss(self) -> Loss:
        """L = (1/n) Σ ℓᵢ = (1/m) Σ L̂_k (equal batch sizes)."""
        return Loss("mean", sp.Add(*[s.expr for s in self.samples]) / len(self.samples), self.variables)

    def batch_gradient(self, k: int, theta: Sequence[Any]) -> list[Any]:
        """∇L̂_k(θ) in mpmath at the current precision."""
        return self.batch_losses[k].gradient_mpmath(theta)


def validate_partition(partition: Sequence[Sequence[int]], n: int) -> tuple[tuple[int, ...], ...]:
    """Equal-size disjoint batches covering range(n); raises InputError naming the problem."""
    parts = tuple(tuple(int(i) for i in b) for b in partition)
    if not parts or any(len(b) == 0 for b in parts):
        raise InputError("`partition` must contain non-empty batches.")
    if len({len(b) for b in parts}) != 1:
        raise InputError(f"`partition` batches must have equal sizes, got {[len(b) for b in parts]}.")
    flat = sorted(i for b in parts for i in b)
    if flat != list(range(n)):
        raise InputError(f"`partition` must use each of the {n} samples exactly once.")
    return parts


def consecutive_partition(n: int, batch_size: int) -> tuple[tuple[int, ...], ...]:
    """[[0..B−1], [B..2B−1], …]; n must be a multiple of B."""
    if batch_size < 1 or n % batch_size:
        raise InputError(f"`batch_size` must divide n={n}, got {batch_size}.")
    return tuple(tuple(range(k, k + batch_size)) for k in range(0, n, batch_size))


# --------------------------------------------------------------------------
# modified loss and field
# --------------------------------------------------------------------------
def sgd_modified_loss(batches: Batches, coefficient: Any = IGR_COEFFICIENT, batch_power: int = 1) -> Loss:
    """L̃ = L + (c·h/m^p) Σ_k ‖∇L̂_k‖² with h = T/m (T the epoch time, the step symbol H).

    c = ¼ (the coefficient of GD's implicit regulariser, per mini-batch), p = 1 is Smith et al.'s;
    other values are mutants.
    """
    m = batches.m
    c = as_rational(coefficient)
    reg = sp.Add(*[sum(gi**2 for gi in b.gradient) for b in batches.batch_losses])
    expr = batches.loss.expr + c * (H / m) / sp.Integer(m) ** batch_power * reg
    return Loss(f"sgd_modified(c={c},p={batch_power})", expr, batches.variables)


def sgd_modified_field(batches: Batches, coefficient: Any = IGR_COEFFICIENT, batch_power: int = 1) -> Field:
    """θ̇ = −∇L̃_SGD (step symbol H = epoch time T)."""
    lt = sgd_modified_loss(batches, coefficient, batch_power)
    return Field(batches.variables, tuple(-g for g in lt.gradient), name=f"sgd-modified(c={coefficient},p={batch_power})",
                 meta={"m": batches.m})


def full_batch_flow(batches: Batches) -> Field:
    """θ̇ = −∇L (the h → 0 limit)."""
    return batches.loss.gradient_flow()


# --------------------------------------------------------------------------
# epoch maps
# --------------------------------------------------------------------------
def sgd_epoch_map(batches: Batches, ordering: Sequence[int]) -> StepMap:
    """One epoch in a fixed order: m steps θ ← θ − (T/m)∇L̂_{σ(k)}(θ)."""
    order = tuple(int(k) for k in ordering)
    if sorted(order) != list(range(batches.m)):
        raise InputError(f"`ordering` must be a permutation of 0..{batches.m - 1}, got {list(order)}.")

    def step(theta: Sequence[Any], T: Any) -> list[Any]:
        h = as_mpf(T) / batches.m
        th = [as_mpf(x) for x in theta]
        for k in order:
            g = batches.batch_gradient(k, th)
            th = [a - h * b for a, b in zip(th, g)]
        return th

    return step


def sgd_epoch_mean_map(batches: Batches) -> StepMap:
    """The mean of the epoch map over all m! orderings, exactly.

    M(S, θ) = mean_{k∈S} M(S∖{k}, θ − h∇L̂_k(θ)), M(∅, θ) = θ: shared prefixes are
    computed once (Σ_j m!/(m−j)! gradient evaluations instead of m·m!).
    """
    m = batches.m
    if m > 7:
        raise InputError(f"exact averaging over {m}! orderings is too costly; use sampled_epoch_mean_map.")

    def step(theta: Sequence[Any], T: Any) -> list[Any]:
        h = as_mpf(T) / m

        def mean(rest: tuple[int, ...], th: list[Any]) -> list[Any]:
            if not rest:
                return th
            acc = [mpmath.mpf(0)] * len(th)
            for i, k in enumerate(rest):
                g = batches.batch_gradient(k, th)
                sub = mean(rest[:i] + rest[i + 1:], [a - h * b for a, b in zip(th, g)])
                acc = [a + b for a, b in zip(acc, sub)]
            return [a / len(rest) for a in acc]

        return mean(tuple(range(m)), [as_mpf(x) for x in theta])

    return step


def reversal_paired_orderings(m: int, pairs: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """``pairs`` random orderings of 0..m−1, each followed by its reverse (2·pairs orderings)."""
    out = []
    for _ in range(pairs):
        s = tuple(int(i) for i in rng.permutation(m))
        out += [s, s[::-1]]
    return out


def sampled_epoch_mean_map(batches: Batches, orderings: Sequence[Sequence[int]]) -> StepMap:
    """Mean of the epoch map over the given orderings (use :func:`reversal_paired_orderings`)."""
    return mean_map([sgd_epoch_map(batches, o) for o in orderings])


def pair_frequency_defect(orderings: Sequence[Sequence[int]]) -> float:
    """max over batch pairs (a, b) of |P(a before b) − ½| in the sample: 0 exactly for reversal pairs.

    The second-order term of the sample-mean epoch is −h² Σ_{a≠b} P(a before b) H_b g_a,
    so a zero defect is what makes the sampled map inherit L̃_SGD exactly at O(h²).
    """
    if not orderings:
        raise InputError("no orderings given.")
    m = len(orderings[0])
    worst = 0.0
    for a, b in itertools.permutations(range(m), 2):
        p = sum(o.index(a) < o.index(b) for o in map(list, orderings)) / len(orderings)
        worst = max(worst, abs(p - 0.5))
    return worst


# --------------------------------------------------------------------------
# random reshuffling: the expected regulariser over partitions
# --------------------------------------------------------------------------
def partition_regularisers(per_sample_grads: np.ndarray, batch_size: int, draws: int,
                           rng: np.random.Generator) -> np.ndarray:
    """(1/m)Σ_k‖ĝ_k − g‖² for ``draws`` random partitions of the n samples (float64), shape (draws,)."""
    G = np.asarray(per_sample_grads, dtype=float)
    n = G.shape[0]
    if n % batch_size:
        raise InputError(f"`batch_size` must divide n={n}, got {batch_size}.")
    g = G.mean(0)
    out = np.empty(draws)
    for t in range(draws):
        perm = rng.permutation(n)
        gb = G[perm].reshape(n // batch_size, batch_size, -1).mean(1)
        out[t] = float(((gb - g) ** 2).sum(1).mean())
    return out


# --------------------------------------------------------------------------
# a family of small analytic per-sample losses
# --------------------------------------------------------------------------
def tanh_samples(xs: Sequence[Any], ys: Sequence[Any]) -> tuple[Loss, ...]:
    """ℓᵢ(a, b) = ½(b·tanh(a·xᵢ) − yᵢ)² + (a² + b²)/20 for rational data (a two-parameter net per sample)."""
    a, b = sp.symbols("a b", real=True)
    out = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        x, y = sp.Rational(str(x)), sp.Rational(str(y))
        out.append(Loss(f"l{i}", (b * sp.tanh(a * x) - y) ** 2 / 2 + (a**2 + b**2) / 20, (a, b)))
    return tuple(out)


def random_samples(n: int, seed: int) -> tuple[Loss, ...]:
    """n seeded per-sample losses of :func:`tanh_samples` with data on a 1/8 grid in [−2, 2]."""
    rng = np.random.default_rng(seed)
    xs = [Fraction(int(v), 8) for v in rng.integers(-16, 17, n)]
    ys = [Fraction(int(v), 8) for v in rng.integers(-12, 13, n)]
    return tanh_samples(xs, ys)


def per_sample_gradients(samples: Sequence[Loss], theta: Sequence[float]) -> np.ndarray:
    """∇ℓᵢ(θ) for every sample, float64, shape (n, d)."""
    fs = _np_grads(tuple(samples))
    return np.array([np.asarray(f(*theta), dtype=float).ravel() for f in fs])


@lru_cache(maxsize=64)
def _np_grads(samples: tuple[Loss, ...]) -> list[Callable[..., Any]]:
    return [sp.lambdify(s.variables, list(s.gradient), modules="numpy") for s in samples]


__all__ = [
    "Batches", "consecutive_partition", "full_batch_flow", "pair_frequency_defect", "partition_regularisers",
    "per_sample_gradients", "random_samples", "reversal_paired_orderings", "sampled_epoch_mean_map",
    "sgd_epoch_map", "sgd_epoch_mean_map", "sgd_modified_field", "sgd_modified_loss", "tanh_samples",
    "validate_partition",
]
