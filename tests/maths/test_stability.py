"""Tests for theorycheck.maths.stability: the second-moment operator against batch enumeration, the definitions."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorycheck.maths.sampling import sampling_factor
from theorycheck.maths.stability import (
    dense_second_moment_matrix,
    moment_operator,
    non_uniformity,
    problem_from_features,
    sharpness,
    validate_hessians,
)
from theorycheck.properties.strategies import feature_matrices, per_sample_hessians

from _synthetic import outer

# --------------------------------------------------------------------------- null directions


# --------------------------------------------------------------------------- published quantities


# --------------------------------------------------------------------------- k-th moments


# --------------------------------------------------------------------------- Monte Carlo


# --------------------------------------------------------------------------- validation


# --------------------------------------------------------------------------- strategies


@pytest.mark.parametrize("sampling,B", [("with", 1), ("with", 3), ("without", 2), ("without", 4)])
def test_closed_form_batch_factor_equals_batch_enumeration(X53, sampling, B):
    Hs = outer(X53)
    Q = dense_second_moment_matrix(Hs, 0.37, sampling_factor(5, B, sampling))
    assert np.allclose(Q, moment_operator(Hs, 0.37, B, sampling, 2), rtol=0, atol=1e-13)


def test_wrong_batch_factor_is_not_the_enumerated_operator(X53):
    Hs = outer(X53)
    T = moment_operator(Hs, 0.37, 2, "without", 2)
    assert not np.allclose(dense_second_moment_matrix(Hs, 0.37, 1 / 2), T, atol=1e-6)


def test_sharpness_and_nonuniformity_definitions(X53):
    Hs = outer(X53)
    H = Hs.mean(0)
    Sigma = np.einsum("nab,nbc->ac", Hs, Hs) / 5 - H @ H
    assert sharpness(Hs) == pytest.approx(np.linalg.eigvalsh(H)[-1])
    assert non_uniformity(Hs) == pytest.approx(math.sqrt(np.linalg.eigvalsh(Sigma)[-1]))


@settings(max_examples=20)
@given(feature_matrices(kind="rank_deficient"))
def test_rank_deficient_features_have_null_directions(X):
    assert problem_from_features(X).null_dim >= 1


@settings(max_examples=20)
@given(feature_matrices(kind="ill_conditioned"))
def test_ill_conditioned_features(X):
    lam = problem_from_features(X).lam
    assert lam[0] / lam[-1] >= 1e6


@settings(max_examples=20)
@given(per_sample_hessians(kind=st.sampled_from(("any", "rank_deficient", "ill_conditioned"))))
def test_per_sample_hessians_are_valid_minima(Hs):
    assert validate_hessians(Hs).shape == Hs.shape
    assert sharpness(Hs) > 0

