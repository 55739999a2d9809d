"""Tests for theorycheck.numerics.stability: η*(B) by three routes, null directions, k = 4, Monte Carlo, net gradients."""

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import brentq

from theorycheck.core.errors import InputError
from theorycheck.maths.sampling import SAMPLINGS, sampling_factor
from theorycheck.maths.stability import (
    dense_second_moment_matrix,
    non_uniformity,
    problem_from_features,
    published_conditions,
    wu_ma_e_sufficient_rate,
)
from theorycheck.numerics.eigen import DENSE_MAX, lambda_max_gauss_newton
from theorycheck.numerics.stability import (
    critical_learning_rate,
    critical_learning_rate_features,
    critical_rate,
    critical_rate_bisection,
    critical_rate_kth,
    dense_critical_rate,
    kth_moment_radius,
    monte_carlo_growth,
    spectral_radius,
    spectral_radius_features,
    top_moment,
)

from _synthetic import outer

# --------------------------------------------------------------------------- null directions


# --------------------------------------------------------------------------- published quantities


# --------------------------------------------------------------------------- k-th moments


# --------------------------------------------------------------------------- Monte Carlo


# --------------------------------------------------------------------------- validation


# --------------------------------------------------------------------------- strategies


@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_three_routes_agree_for_every_batch(X53, sampling):
    Hs = outer(X53)
    P = problem_from_features(X53)
    for B in range(1, 6):
        p = sampling_factor(5, B, sampling)
        e = critical_rate(P, p, rtol=1e-12)
        assert critical_rate_bisection(P, p, rtol=1e-12) == pytest.approx(e, rel=1e-10)
        assert dense_critical_rate(Hs, p) == pytest.approx(e, rel=1e-10)
        assert critical_learning_rate(Hs, B, sampling) == pytest.approx(e, rel=1e-10)
        # ρ of the exactly enumerated E[(I−ηĤ)⊗(I−ηĤ)] crosses 1 at η*
        assert kth_moment_radius(P, e * (1 - 1e-7), B, sampling, 2) < 1
        assert kth_moment_radius(P, e * (1 + 1e-7), B, sampling, 2) > 1


def test_full_batch_without_replacement_is_gd(X53):
    P = problem_from_features(X53)
    assert critical_learning_rate_features(X53, 5, "without") == pytest.approx(2 / P.lam[0], rel=1e-12)
    assert critical_learning_rate_features(X53, 5, "with") < 2 / P.lam[0]


def test_threshold_mutant_scales_eta_star():
    """C = H⊕H instead of ½(H⊕H) halves λ_max(C⁻¹D): the wrong scaling is visible."""
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    P = problem_from_features(X)
    assert critical_rate(P, 0.0) == pytest.approx(2 / P.lam[0])
    assert critical_rate(P, 0.0, c_scale=1.0) == pytest.approx(4 / P.lam[0])


def test_matrix_free_lanczos_path_matches_dense():
    """r = 30 has r(r+1)/2 = 465 > DENSE_MAX, so this goes through eigsh."""
    X = np.random.default_rng(1).standard_normal((40, 30))
    P = problem_from_features(X)
    assert P.rank * (P.rank + 1) // 2 > DENSE_MAX
    e = critical_rate(P, 1 / 4, rtol=1e-10)
    assert e == pytest.approx(dense_critical_rate(outer(X), 1 / 4), rel=1e-8)


def test_spectral_radius_is_one_at_eta_star(X53):
    e = critical_learning_rate_features(X53, 2, "with", rtol=1e-12)
    assert spectral_radius_features(X53, e, 2, "with") == pytest.approx(1.0, abs=1e-9)
    assert spectral_radius(outer(X53), 0.5 * e, 2, "with") < 1


def test_hessians_and_features_routes_agree(X53):
    for B, s in ((1, "with"), (3, "without")):
        assert critical_learning_rate(outer(X53), B, s) == pytest.approx(
            critical_learning_rate_features(X53, B, s), rel=1e-10)


def test_general_rank_hessians_against_dense():
    rng = np.random.default_rng(4)
    F = rng.standard_normal((4, 3, 2))
    Hs = np.einsum("nak,nbk->nab", F, F)
    for B, s in ((1, "with"), (2, "without")):
        p = sampling_factor(4, B, s)
        assert critical_learning_rate(Hs, B, s, rtol=1e-12) == pytest.approx(dense_critical_rate(Hs, p),
                                                                                rel=1e-10)


def test_rank_deficient_null_directions_are_neutral():
    """Features in a 2-D subspace of R⁴: ρ = 1 exactly below η* (null block), > 1 above; η* = that of the subspace."""
    rng = np.random.default_rng(2)
    A, Bm = rng.standard_normal((5, 2)), np.linalg.qr(rng.standard_normal((4, 2)))[0].T
    X = A @ Bm  # rows in span(Bm)
    P = problem_from_features(X)
    assert (P.rank, P.null_dim) == (2, 2)
    e = critical_learning_rate_features(X, 2, "without", rtol=1e-12)
    assert e == pytest.approx(critical_learning_rate_features(A, 2, "without", rtol=1e-12), rel=1e-10)
    p = sampling_factor(5, 2, "without")
    for f, expect in ((0.5, "one"), (1 - 1e-6, "one"), (1 + 1e-6, "above")):
        rho = spectral_radius_features(X, f * e, 2, "without")
        dense = np.max(np.abs(np.linalg.eigvals(dense_second_moment_matrix(outer(X), f * e, p))))
        assert rho == pytest.approx(dense, abs=1e-10)
        assert (rho == pytest.approx(1.0, abs=1e-12)) if expect == "one" else rho > 1


def test_zero_hessian_is_neutrally_stable_for_every_rate():
    Z = np.zeros((3, 2, 2))
    assert critical_learning_rate(Z, 1, "with") == math.inf
    assert spectral_radius(Z, 10.0, 2, "without") == 1.0


def test_ill_conditioned_matches_dense():
    X = np.random.default_rng(3).standard_normal((6, 3)) * np.array([1, 1e-3, 1e-5])
    for s in SAMPLINGS:
        p = sampling_factor(6, 2, s)
        P = problem_from_features(X)
        assert P.rank == 3
        assert critical_rate(P, p) == pytest.approx(dense_critical_rate(outer(X), p), rel=1e-9)


def test_wu_ma_e_sufficient_condition_is_exact_in_one_dimension():
    X = np.array([[0.5], [1.0], [2.0]])
    P = problem_from_features(X)
    for B, s in ((1, "with"), (2, "without")):
        p = sampling_factor(3, B, s)
        assert wu_ma_e_sufficient_rate(P, p) == pytest.approx(critical_rate(P, p), rel=1e-12)


def test_wu_ma_e_nonuniformity_counterexample_is_stable_beyond_the_condition():
    """The instance Hypothesis shrank to: s·η·√p > 1 at a rate where the enumerated ρ is still < 1."""
    X = np.array([[-0.061623, -0.748871], [0.670839, -0.329571], [1.039389, -1.083924]])
    P = problem_from_features(X)
    e = critical_rate(P, 1.0, rtol=1e-12)
    eta = 0.999 * e
    assert non_uniformity(P) * eta > 1.009  # the condition s ≤ √B/η (B = 1) fails ...
    assert kth_moment_radius(P, eta, 1, "with", 2) < 1  # ... yet the second moment contracts


def test_fourth_moment_threshold_in_one_dimension_matches_the_scalar_polynomial():
    h = np.array([0.5, 1.0, 3.0])
    P = problem_from_features(np.sqrt(h)[:, None])
    e4 = critical_rate_kth(P, 1, "with", 4)
    exact = brentq(lambda eta: np.mean((1 - eta * h) ** 4) - 1, 1e-3, 2 / h.mean())
    assert e4 == pytest.approx(exact, rel=1e-9)
    assert e4 <= critical_rate(P, 1.0)


def test_fourth_order_is_stricter_than_second(X53):
    P = problem_from_features(X53[:4, :2])
    for B, s in ((1, "with"), (2, "without")):
        p = sampling_factor(4, B, s)
        assert critical_rate_kth(P, B, s, 4) <= critical_rate(P, p) * (1 + 1e-9)
        assert critical_rate_kth(P, B, s, 2) == pytest.approx(critical_rate(P, p), rel=1e-8)


def test_odd_k_is_rejected(X53):
    with pytest.raises(InputError, match="even"):
        kth_moment_radius(problem_from_features(X53), 0.1, 1, "with", 3)


@pytest.mark.parametrize("sampling", SAMPLINGS)
def test_monte_carlo_brackets_rho(X53, sampling):
    P = problem_from_features(X53)
    p = sampling_factor(5, 2, sampling)
    e = critical_rate(P, p)
    for f in (0.9, 1.05):
        rho, M = top_moment(P, f * e, p)
        mc = monte_carlo_growth(P, f * e, 2, sampling, M, steps=4, paths=40_000, seed=7, confidence=0.999)
        assert mc.ci[0] <= rho <= mc.ci[1]
        assert (rho < 1) == (f < 1)


def test_top_moment_is_psd(X53):
    P = problem_from_features(X53)
    _, M = top_moment(P, 0.3, 0.5)
    assert np.linalg.eigvalsh(M).min() > -1e-10


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
        critical_learning_rate(bad, 1)


@pytest.mark.parametrize("batch", [0, 6, 2.5, True])
def test_bad_batch_is_rejected(X53, batch):
    with pytest.raises(InputError, match="batch"):
        critical_learning_rate_features(X53, batch, "with")


def test_bad_sampling_is_rejected(X53):
    with pytest.raises(InputError, match="sampling"):
        critical_learning_rate_features(X53, 1, "sometimes")


def _brute_force_rho(F, eta, B):
    n, r = F.shape
    Q = np.zeros((r * r, r * r))
    combos = list(itertools.combinations(range(n), B))
    for S in combos:
        A = np.eye(r) - eta * F[list(S)].T @ F[list(S)] / B
        Q += np.kron(A, A)
    return np.max(np.abs(np.linalg.eigvals(Q / len(combos))))


@pytest.mark.parametrize("B", [1, 2, 3])
def test_stability_threshold_on_net_gradients_is_where_the_enumerated_map_has_radius_one(B):
    rng = np.random.default_rng(B)
    G = rng.standard_normal((5, 3))
    P = problem_from_features(G)
    F = P.factors[:, :, 0]  # the gradients in an orthonormal basis of their span
    eta = critical_learning_rate_features(G, B, "without")
    assert _brute_force_rho(F, eta, B) == pytest.approx(1.0, abs=1e-9)
    assert _brute_force_rho(F, 0.97 * eta, B) < 1 < _brute_force_rho(F, 1.03 * eta, B)
    conditions = published_conditions(P, B, "without")
    assert eta <= conditions["mulayoff_michaeli_16"]["threshold"] * (1 + 1e-12)
    assert eta <= conditions["gd_sharpness"]["threshold"] * (1 + 1e-12)


def test_full_batch_threshold_is_two_over_lambda_max():
    G = np.random.default_rng(0).standard_normal((6, 4))
    assert critical_learning_rate_features(G, 6, "without") == pytest.approx(2 / lambda_max_gauss_newton(G), rel=1e-10)
