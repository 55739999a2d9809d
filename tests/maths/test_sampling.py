"""Tests for theorycheck.maths.sampling: the batch-noise factor p, exact over all partitions, and its validation."""

import itertools

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.maths.sampling import enumerate_batches, sampling_factor


def test_reshuffling_factor_is_exact_over_all_partitions():
    """Enumerate every ordering of n = 6 samples (so every partition into B = 2) and compare with (n−B)/(B(n−1))·Γ."""
    G = np.random.default_rng(1).standard_normal((6, 3))
    g = G.mean(0)
    gamma = ((G - g) ** 2).sum(1).mean()
    vals = []
    for perm in itertools.permutations(range(6)):
        gb = G[list(perm)].reshape(3, 2, 3).mean(1)
        vals.append(((gb - g) ** 2).sum(1).mean())
    assert np.mean(vals) == pytest.approx(sampling_factor(6, 2, "without") * gamma, rel=1e-12)
    assert sampling_factor(6, 2, "with") == 0.5


def test_single_sample_and_full_batch_are_noise_free():
    assert sampling_factor(1, 1, "without") == 0.0  # one sample: every batch is the whole set
    assert sampling_factor(7, 7, "without") == 0.0
    assert sampling_factor(1, 1, "with") == 1.0


def test_enumerated_batches_are_a_probability_distribution():
    for sampling in ("with", "without"):
        batches = enumerate_batches(4, 2, sampling)
        assert sum(w for w, _ in batches) == pytest.approx(1.0, rel=1e-14)


@pytest.mark.parametrize("args", [(4, 2, "sometimes"), (4, 0, "with"), (4, 5, "without"), (4, 2.5, "with"),
                                  (4, True, "with")])
def test_bad_arguments(args):
    with pytest.raises(InputError):
        sampling_factor(*args)
