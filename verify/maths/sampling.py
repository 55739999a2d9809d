"""How mini-batches are drawn: the batch-noise factor p and the exact list of batches.

A batch of B of the n samples, drawn with or without replacement, has mean
Ĥ = (1/B) Σ_{i∈batch} Hᵢ whose covariance is p times the population covariance
of the Hᵢ:

    p = 1/B                  (with replacement: i.i.d. draws),
    p = (n − B)/(B(n − 1))   (without replacement: the finite-population correction).

So B = n without replacement gives p = 0 (full-batch GD). The same factor
scales the second moment of linearised SGD (Ma & Ying, NeurIPS 2021, Thm. 1;
Mulayoff & Michaeli, arXiv:2306.07850, eq. 10) and the expected SGD
regulariser over random partitions (Smith, Dherin, Barrett & De, ICLR 2021,
Sec. 2, whose expectation carries the factor (N − B)/(N − 1) and tends to
Γ/B for B ≪ N); :func:`sampling_factor` is the one definition both use.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from theorycheck.core.errors import InputError

SAMPLINGS = ("with", "without")


def validate_batch(batch: int, n: int) -> int:
    """Return ``batch`` if it is an integer in 1..n, else raise :class:`InputError` naming it."""
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)):
        raise InputError(f"`batch` must be an integer, got {batch!r}.")
    if not 1 <= int(batch) <= n:
        raise InputError(f"`batch` must be between 1 and n = {n}, got {batch}.")
    return int(batch)


def validate_sampling(sampling: str) -> str:
    """Return ``sampling`` if it is one of :data:`SAMPLINGS`, else raise :class:`InputError`."""
    if sampling not in SAMPLINGS:
        raise InputError(f"`sampling` must be one of {', '.join(SAMPLINGS)}, got {sampling!r}.")
    return sampling


def sampling_factor(n: int, batch: int, sampling: str = "with") -> float:
    """The batch-noise factor p: 1/B with replacement, (n − B)/(B(n − 1)) without.

    Parameters
    ----------
    n : int
        Number of samples.
    batch : int
        Batch size B, 1 ≤ B ≤ n.
    sampling : {"with", "without"}
        Batches drawn with or without replacement.

    Returns
    -------
    float
        p; 0 for B = n without replacement (and for n = 1, where every batch is the whole set).
    """
    validate_batch(batch, n)
    if validate_sampling(sampling) == "with":
        return 1.0 / batch
    return 0.0 if n == 1 else (n - batch) / (batch * (n - 1))


def enumerate_batches(n: int, batch: int, sampling: str) -> list[tuple[float, tuple[int, ...]]]:
    """Every batch with its probability: multisets with multinomial weights (with), subsets (without)."""
    validate_batch(batch, n)
    if validate_sampling(sampling) == "without":
        subsets = list(itertools.combinations(range(n), batch))
        return [(1.0 / len(subsets), s) for s in subsets]
    out = []
    for ms in itertools.combinations_with_replacement(range(n), batch):
        counts = np.bincount(ms, minlength=n)
        w = math.factorial(batch) / math.prod(math.factorial(int(c)) for c in counts) / n**batch
        out.append((w, ms))
    return out


__all__ = ["SAMPLINGS", "enumerate_batches", "sampling_factor", "validate_batch", "validate_sampling"]
