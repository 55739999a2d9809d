"""Tests for theorycheck.maths.sgd_modified: epoch maps, the exact mean over orderings, reversal pairs."""

import itertools

import mpmath
import numpy as np
import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths import sgd_modified
from theorycheck.maths.fields import H


@pytest.fixture(scope="module")
def batches():
    return sgd_modified.Batches(sgd_modified.random_samples(3, 7), sgd_modified.consecutive_partition(3, 1))


def test_mean_map_equals_brute_force_average(batches):
    mean = sgd_modified.sgd_epoch_mean_map(batches)
    with mpmath.workdps(40):
        th, T = [mpmath.mpf("0.7"), mpmath.mpf("0.5")], mpmath.mpf("0.3")
        brute = [sgd_modified.sgd_epoch_map(batches, o)(th, T) for o in itertools.permutations(range(3))]
        ref = [sum(b[i] for b in brute) / len(brute) for i in range(2)]
        got = mean(th, T)
        assert max(abs(a - b) for a, b in zip(got, ref)) < mpmath.mpf(10) ** -35


def test_second_order_term_matches_the_modified_flow(batches):
    """mean epoch − (θ − T∇L̃ + T²/2 ∇L̃'∇L̃) is O(T³): halving T divides it by ≈ 8."""
    mean = sgd_modified.sgd_epoch_mean_map(batches)
    field = sgd_modified.sgd_modified_field(batches)
    J = field.jacobian()
    Jf = sp.lambdify((field.variables, H), J, modules="mpmath")
    with mpmath.workdps(40):
        th = [mpmath.mpf("0.7"), mpmath.mpf("0.5")]
        errs = []
        for T in (mpmath.mpf(1) / 64, mpmath.mpf(1) / 128):
            f = field.mpmath(th, T)
            Jm = mpmath.matrix(Jf(th, T))
            second = Jm * mpmath.matrix(f)
            taylor = [th[i] + T * f[i] + T**2 / 2 * second[i] for i in range(2)]
            errs.append(mpmath.norm(mpmath.matrix([a - b for a, b in zip(mean(th, T), taylor)])))
        assert 7 < errs[0] / errs[1] < 9


def test_modified_loss_expression(batches):
    lt = sgd_modified.sgd_modified_loss(batches)
    m = batches.m
    reg = sum(sum(g**2 for g in b.gradient) for b in batches.batch_losses)
    assert sp.simplify(lt.expr - batches.loss.expr - H / (4 * m * m) * reg) == 0


def test_reversal_pairs_have_exact_pair_frequencies():
    rng = np.random.default_rng(0)
    assert sgd_modified.pair_frequency_defect(sgd_modified.reversal_paired_orderings(6, 5, rng)) == 0.0
    assert sgd_modified.pair_frequency_defect([(0, 1, 2, 3)]) == 0.5


def test_partition_regularisers_are_seeded():
    G = np.random.default_rng(1).standard_normal((6, 3))
    a = sgd_modified.partition_regularisers(G, 2, 10, np.random.default_rng(3))
    b = sgd_modified.partition_regularisers(G, 2, 10, np.random.default_rng(3))
    assert np.array_equal(a, b)


@pytest.mark.parametrize("partition, n", [
    ([[0, 1], [2]], 3),          # unequal sizes
    ([[0, 1], [1, 2]], 4),       # repeated sample
    ([[0], [1]], 3),             # sample left out
    ([], 2),                     # no batches
])
def test_bad_partitions(partition, n):
    with pytest.raises(InputError):
        sgd_modified.validate_partition(partition, n)


@pytest.mark.parametrize("call", [
    lambda b: sgd_modified.sgd_epoch_map(b, [0, 0, 1]),
    lambda b: sgd_modified.consecutive_partition(5, 2),
    lambda b: sgd_modified.pair_frequency_defect([]),
])
def test_bad_arguments(batches, call):
    with pytest.raises(InputError):
        call(batches)


def test_exact_mean_refuses_large_m():
    b = sgd_modified.Batches(sgd_modified.random_samples(8, 1), sgd_modified.consecutive_partition(8, 1))
    with pytest.raises(InputError):
        sgd_modified.sgd_epoch_mean_map(b)
