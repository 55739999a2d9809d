"""theorycheck.maths.stability: the exact second-moment operator, η*(B) by three routes, null directions, k = 4, Monte Carlo."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from theorycheck.properties.strategies import feature_matrices, per_sample_hessians
from theorycheck.maths import stability as S
from theorycheck.core.errors import InputError


def outer(X):
    return np.einsum("ni,nj->nij", X, X)


@pytest.fixture(scope="module")
def X53():
    return np.random.default_rng(0).standard_normal((5, 3))


@pytest.mark.parametrize("sampling", S.SAMPLINGS)
def test_three_routes_agree_for_every_batch(X53, sampling):
    Hs = outer(X53)
    P = S.problem_from_features(X53)
    for B in range(1, 6):
        p = S.sampling_factor(5, B, sampling)
        e = S.critical_rate(P, p, rtol=1e-12)
        assert S.critical_rate_bisection(P, p, rtol=1e-12) == pytest.approx(e, rel=1e-10)
        assert S.dense_critical_rate(Hs, p) == pytest.approx(e, rel=1e-10)
        assert S.critical_learning_rate(Hs, B, sampling) == pytest.approx(e, rel=1e-10)
        # ρ of the exactly enumerated E[(I−ηĤ)⊗(I−ηĤ)] crosses 1 at η*
        assert S.kth_moment_radius(P, e * (1 - 1e-7), B, sampling, 2) < 1
        assert S.kth_moment_radius(P, e * (1 + 1e-7), B, sampling, 2) > 1


@pytest.mark.parametrize("sampling,B", [("with", 1), ("with", 3), ("without", 2), ("without", 4)])
def test_closed_form_batch_factor_equals_batch_enumeration(X53, sampling, B):
    Hs = outer(X53)
    Q = S.dense_second_moment_matrix(Hs, 0.37, S.sampling_factor(5, B, sampling))
    assert np.allclose(Q, S.moment_operator(Hs, 0.37, B, sampling, 2), rtol=0, atol=1e-13)


def test_wrong_batch_factor_is_not_the_enumerated_operator(X53):
    Hs = outer(X53)
    T = S.moment_operator(Hs, 0.37, 2, "without", 2)
    assert not np.allclose(S.dense_second_moment_matrix(Hs, 0.37, 1 / 2), T, atol=1e-6)


def test_full_batch_without_replacement_is_gd(X53):
    P = S.problem_from_features(X53)
    assert S.critical_learning_rate_features(X53, 5, "without") == pytest.approx(2 / P.lam[0], rel=1e-12)
    assert S.critical_learning_rate_features(X53, 5, "with") < 2 / P.lam[0]


def test_threshold_mutant_scales_eta_star():
    """C = H⊕H instead of ½(H⊕H) halves λ_max(C⁻¹D): the wrong scaling is visible."""
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    P = S.problem_from_features(X)
    assert S.critical_rate(P, 0.0) == pytest.approx(2 / P.lam[0])
    assert S.critical_rate(P, 0.0, c_scale=1.0) == pytest.approx(4 / P.lam[0])


def test_matrix_free_lanczos_path_matches_dense():
    """r = 30 has r(r+1)/2 = 465 > DENSE_MAX, so this goes through eigsh."""
    X = np.random.default_rng(1).standard_normal((40, 30))
    P = S.problem_from_features(X)
    assert P.rank * (P.rank + 1) // 2 > S.DENSE_MAX
    e = S.critical_rate(P, 1 / 4, rtol=1e-10)
    assert e == pytest.approx(S.dense_critical_rate(outer(X), 1 / 4), rel=1e-8)


def test_spectral_radius_is_one_at_eta_star(X53):
    e = S.critical_learning_rate_features(X53, 2, "with", rtol=1e-12)
    assert S.spectral_radius_features(X53, e, 2, "with") == pytest.approx(1.0, abs=1e-9)
    assert S.spectral_radius(outer(X53), 0.5 * e, 2, "with") < 1


def test_hessians_and_features_routes_agree(X53):
    for B, s in ((1, "with"), (3, "without")):
        assert S.critical_learning_rate(outer(X53), B, s) == pytest.approx(
            S.critical_learning_rate_features(X53, B, s), rel=1e-10)


def test_general_rank_hessians_against_dense():
    rng = np.random.default_rng(4)
    F = rng.standard_normal((4, 3, 2))
    Hs = np.einsum("nak,nbk->nab", F, F)
    for B, s in ((1, "with"), (2, "without")):
        p = S.sampling_factor(4, B, s)
        assert S.critical_learning_rate(Hs, B, s, rtol=1e-12) == pytest.approx(S.dense_critical_rate(Hs, p),
                                                                                rel=1e-10)


# --------------------------------------------------------------------------- null directions


def test_rank_deficient_null_directions_are_neutral():
    """Features in a 2-D subspace of R⁴: ρ = 1 exactly below η* (null block), > 1 above; η* = that of the subspace."""
    rng = np.random.default_rng(2)
    A, Bm = rng.standard_normal((5, 2)), np.linalg.qr(rng.standard_normal((4, 2)))[0].T
    X = A @ Bm  # rows in span(Bm)
    P = S.problem_from_features(X)
    assert (P.rank, P.null_dim) == (2, 2)
    e = S.critical_learning_rate_features(X, 2, "without", rtol=1e-12)
    assert e == pytest.approx(S.critical_learning_rate_features(A, 2, "without", rtol=1e-12), rel=1e-10)
    p = S.sampling_factor(5, 2, "without")
    for f, expect in ((0.5, "one"), (1 - 1e-6, "one"), (1 + 1e-6, "above")):
        rho = S.spectral_radius_features(X, f * e, 2, "without")
        dense = np.max(np.abs(np.linalg.eigvals(S.dense_second_moment_matrix(outer(X), f * e, p))))
        assert rho == pytest.approx(dense, abs=1e-10)
        assert (rho == pytest.approx(1.0, abs=1e-12)) if expect == "one" else rho > 1


def test_zero_hessian_is_neutrally_stable_for_every_rate():
    Z = np.zeros((3, 2, 2))
    assert S.critical_learning_rate(Z, 1, "with") == math.inf
    assert S.spectral_radius(Z, 10.0, 2, "without") == 1.0


def test_ill_conditioned_matches_dense():
    X = np.random.default_rng(3).standard_normal((6, 3)) * np.array([1, 1e-3, 1e-5])
    for s in S.SAMPLINGS:
        p = S.sampling_factor(6, 2, s)
        P = S.problem_from_features(X)
        assert P.rank == 3
        assert S.critical_rate(P, p) == pytest.approx(S.dense_critical_rate(outer(X), p), rel=1e-9)


# --------------------------------------------------------------------------- published quantities


def test_sharpness_and_nonuniformity_definitions(X53):
    Hs = outer(X53)
    H = Hs.mean(0)
    Sigma = np.einsum("nab,nbc->ac", Hs, Hs) / 5 - H @ H
    assert S.sharpness(Hs) == pytest.approx(np.linalg.eigvalsh(H)[-1])
    assert S.non_uniformity(Hs) == pytest.approx(math.sqrt(np.linalg.eigvalsh(Sigma)[-1]))


def test_wu_ma_e_sufficient_condition_is_exact_in_one_dimension():
    X = np.array([[0.5], [1.0], [2.0]])
    P = S.problem_from_features(X)
    for B, s in ((1, "with"), (2, "without")):
        p = S.sampling_factor(3, B, s)
        assert S.wu_ma_e_sufficient_rate(P, p) == pytest.approx(S.critical_rate(P, p), rel=1e-12)


def test_wu_ma_e_nonuniformity_counterexample_is_stable_beyond_the_condition():
    """The instance Hypothesis shrank to: s·η·√p > 1 at a rate where the enumerated ρ is still < 1."""
    X = np.array([[-0.061623, -0.748871], [0.670839, -0.329571], [1.039389, -1.083924]])
    P = S.problem_from_features(X)
    e = S.critical_rate(P, 1.0, rtol=1e-12)
    eta = 0.999 * e
    assert S.non_uniformity(P) * eta > 1.009  # the condition s ≤ √B/η (B = 1) fails ...
    assert S.kth_moment_radius(P, eta, 1, "with", 2) < 1  # ... yet the second moment contracts


# --------------------------------------------------------------------------- k-th moments


def test_fourth_moment_threshold_in_one_dimension_matches_the_scalar_polynomial():
    h = np.array([0.5, 1.0, 3.0])
    P = S.problem_from_features(np.sqrt(h)[:, None])
    e4 = S.critical_rate_kth(P, 1, "with", 4)
    exact = brentq(lambda eta: np.mean((1 - eta * h) ** 4) - 1, 1e-3, 2 / h.mean())
    assert e4 == pytest.approx(exact, rel=1e-9)
    assert e4 <= S.critical_rate(P, 1.0)


def test_fourth_order_is_stricter_than_second(X53):
    P = S.problem_from_features(X53[:4, :2])
    for B, s in ((1, "with"), (2, "without")):
        p = S.sampling_factor(4, B, s)
        assert S.critical_rate_kth(P, B, s, 4) <= S.critical_rate(P, p) * (1 + 1e-9)
        assert S.critical_rate_kth(P, B, s, 2) == pytest.approx(S.critical_rate(P, p), rel=1e-8)


def test_odd_k_is_rejected(X53):
    with pytest.raises(InputError, match="even"):
        S.kth_moment_radius(S.problem_from_features(X53), 0.1, 1, "with", 3)


# --------------------------------------------------------------------------- Monte Carlo


@pytest.mark.parametrize("sampling", S.SAMPLINGS)
def test_monte_carlo_brackets_rho(X53, sampling):
    P = S.problem_from_features(X53)
    p = S.sampling_factor(5, 2, sampling)
    e = S.critical_rate(P, p)
    for f in (0.9, 1.05):
        rho, M = S.top_moment(P, f * e, p)
        mc = S.monte_carlo_growth(P, f * e, 2, sampling, M, steps=4, paths=40_000, seed=7, confidence=0.999)
        assert mc.ci[0] <= rho <= mc.ci[1]
        assert (rho < 1) == (f < 1)


def test_top_moment_is_psd(X53):
    P = S.problem_from_features(X53)
    _, M = S.top_moment(P, 0.3, 0.5)
    assert np.linalg.eigvalsh(M).min() > -1e-10


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("bad,match", [
    (np.zeros((2, 2, 3)), "square"),
    (np.zeros((2, 2)), "shape"),
    (np.array([[[1.0, 2.0], [0.0, 1.0]]]), "not symmetric"),
    (np.array([[[np.nan, 0.0], [0.0, 1.0]]]), "NaN"),
    (np.array([[[1.0, 0.0], [0.0, -1.0]]]), "not a minimum"),
    (np.array([[[1.0, 0.0], [0.0, -1.0]], [[1.0, 0.0], [0.0, 3.0]]]), "not an interpolating minimum"),
    (np.array([[["a", "b"], ["c", "d"]]]), "numeric"),
])
def test_bad_hessians_are_rejected(bad, match):
    with pytest.raises(InputError, match=match):
        S.critical_learning_rate(bad, 1)


@pytest.mark.parametrize("batch", [0, 6, 2.5, True])
def test_bad_batch_is_rejected(X53, batch):
    with pytest.raises(InputError, match="batch"):
        S.critical_learning_rate_features(X53, batch, "with")


def test_bad_sampling_is_rejected(X53):
    with pytest.raises(InputError, match="sampling"):
        S.critical_learning_rate_features(X53, 1, "sometimes")


# --------------------------------------------------------------------------- strategies


@settings(max_examples=20)
@given(feature_matrices(kind="rank_deficient"))
def test_rank_deficient_features_have_null_directions(X):
    assert S.problem_from_features(X).null_dim >= 1


@settings(max_examples=20)
@given(feature_matrices(kind="ill_conditioned"))
def test_ill_conditioned_features(X):
    lam = S.problem_from_features(X).lam
    assert lam[0] / lam[-1] >= 1e6


@settings(max_examples=20)
@given(per_sample_hessians(kind=st.sampled_from(("any", "rank_deficient", "ill_conditioned"))))
def test_per_sample_hessians_are_valid_minima(Hs):
    assert S.validate_hessians(Hs).shape == Hs.shape
    assert S.sharpness(Hs) > 0
