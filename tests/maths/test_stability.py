"""Tests for theorycheck.maths.stability: the second-moment operator against batch enumeration, the definitions."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theorycheck.maths.sampling import sampling_factor
from theorycheck.maths.stability import (
    dense_second_moment_matrix,
    flatness_rate,
    gd_rate,
    gradient_moment_rate,
    moment_operator,
    mulayoff_michaeli_eq15_rate,
    mulayoff_michaeli_eq16_rate,
    non_uniformity,
    problem_from_features,
    problem_from_hessians,
    published_conditions,
    sharpness,
    validate_hessians,
    wu_ma_e_nonuniformity_rate,
)
from theorycheck.properties.strategies import feature_matrices, per_sample_hessians

from _synthetic import outer


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


@pytest.mark.parametrize("sampling,B", [("with", 2), ("without", 2), ("without", 4)])
def test_condition_rates_match_their_formulas_in_the_original_coordinates(X53, sampling, B):
    """The thresholds, computed in the eigenbasis of H, against the published formulas on the d×d matrices."""
    Hs = outer(X53)
    H = Hs.mean(0)
    lam, V = np.linalg.eigh(H)
    a, v = lam[-1], V[:, -1]
    p = sampling_factor(5, B, sampling)
    P = problem_from_features(X53)
    rayleigh = np.einsum("i,nij,j->n", v, Hs, v)
    assert mulayoff_michaeli_eq15_rate(P, p) == pytest.approx(2 * a / (a**2 + p * np.mean((rayleigh - a) ** 2)))
    fro = np.array([np.sum(h * h) for h in Hs])
    assert mulayoff_michaeli_eq16_rate(P, p) == pytest.approx(
        2 * np.trace(H) / ((1 - p) * np.sum(H * H) + p * fro.mean()))
    assert gd_rate(P) == pytest.approx(2 / a)
    assert gd_rate(P, 1.5) == pytest.approx(1.5 / a)
    assert wu_ma_e_nonuniformity_rate(P, p) == pytest.approx(1 / (non_uniformity(Hs) * math.sqrt(p)))
    assert flatness_rate(P, p) == pytest.approx(2 / (p * np.trace(H)))
    g2 = np.sum(X53**2, axis=1)
    assert gradient_moment_rate(P, p, 3.0) == pytest.approx(3.0 / (p * math.sqrt(np.mean(g2**2))))
    conditions = published_conditions(P, B, sampling)
    assert conditions["mulayoff_michaeli_16"]["threshold"] == mulayoff_michaeli_eq16_rate(P, p)
    assert conditions["ma_ying_flatness"]["threshold"] == flatness_rate(P, p)


def test_condition_rates_are_infinite_where_the_condition_cannot_bind(X53):
    zero = problem_from_hessians(np.zeros((3, 2, 2)))
    assert gd_rate(zero) == math.inf
    P = problem_from_features(X53)
    # full batch without replacement: no batch noise, p = 0
    assert flatness_rate(P, 0.0) == gradient_moment_rate(P, 0.0) == wu_ma_e_nonuniformity_rate(P, 0.0) == math.inf


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

