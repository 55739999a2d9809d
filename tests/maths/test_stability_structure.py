"""The stability operators use the factors of the Hᵢ: the reduced (Gram) route and the full SVD route agree.

Both routes, and the per-sample Hessians themselves, must give the same sharpness, non-uniformity,
published thresholds and critical rate; the operators never build an (n, d, d) tensor.
"""

import numpy as np
import pytest

from theorycheck.maths import stability as ms
from theorycheck.maths.sampling import sampling_factor
from theorycheck.numerics.stability import critical_rate, dense_critical_rate

from _synthetic import outer


def _all(P, B, sampling):
    p = sampling_factor(P.n, B, sampling)
    conds = {k: v["threshold"] for k, v in ms.published_conditions(P, B, sampling).items()}
    return {"eta": critical_rate(P, p, rtol=1e-12), "a": ms.sharpness(P), "s": ms.non_uniformity(P), **conds}


@pytest.mark.parametrize("n,d,B,sampling", [(6, 3, 2, "with"), (5, 12, 1, "with"), (8, 30, 3, "without"),
                                            (40, 9, 4, "without")])
def test_gram_and_svd_routes_and_the_hessians_agree(n, d, B, sampling):
    G = np.random.default_rng(n * d).standard_normal((n, d)) * (1 + np.arange(d)) ** -0.5
    svd = ms.problem_from_gradients(G, method="svd")
    gram = ms.problem_from_gradients(G, method="gram")
    full = ms.problem_from_hessians(outer(G))
    assert svd.rank == gram.rank == full.rank == min(n, d)
    ref = _all(full, B, sampling)
    cov = ms.problem_from_hessians(outer(G)) if n <= d else ms.problem_from_gradients(G, method="gram")
    for P in (svd, gram, cov):
        got = _all(P, B, sampling)
        assert got.keys() == ref.keys()
        for k in ref:
            assert got[k] == pytest.approx(ref[k], rel=1e-9), k
    # same H on range(H) from the lazily formed basis of the Gram route
    H = G.T @ G / n
    for P in (svd, gram):
        assert np.allclose(P.basis @ np.diag(P.lam) @ P.basis.T, H, atol=1e-12 * np.abs(H).max())
        assert np.allclose(P.basis.T @ P.basis, np.eye(P.rank), atol=1e-10)


def test_reduced_eta_matches_the_dense_d2_operator_where_it_fits():
    n, d, B = 7, 5, 2
    G = np.random.default_rng(3).standard_normal((n, d))
    p = sampling_factor(n, B, "with")
    dense = dense_critical_rate(outer(G), p)
    assert critical_rate(ms.problem_from_gradients(G, method="gram"), p, rtol=1e-12) == pytest.approx(dense, rel=1e-9)


def test_factored_hessians_of_higher_rank_give_the_same_moments():
    rng = np.random.default_rng(5)
    n, d, k = 6, 4, 2
    F = rng.standard_normal((n, d, k))
    Hs = np.matmul(F, F.transpose(0, 2, 1))
    P = ms.problem_from_hessians(Hs)
    U = P.basis
    W = np.einsum("nab,nbc->ac", Hs, Hs) / n
    assert np.allclose(P.mean_squared_hessian, U.T @ W @ U, atol=1e-12)
    assert np.allclose(P.hessian_sq_frobenius, np.einsum("nab,nab->n", Hs, Hs))
    v = U[:, 0]
    assert np.allclose(P.top_direction_curvatures(), np.einsum("a,nab,b->n", v, Hs, v))


def test_the_conditions_never_form_the_per_sample_hessians(monkeypatch):
    G = np.random.default_rng(1).standard_normal((50, 20))
    P = ms.problem_from_gradients(G)

    def refuse(self):
        raise AssertionError("an (n, r, r) tensor was formed")

    monkeypatch.setattr(ms.StabilityProblem, "hessians", refuse)
    ms.published_conditions(P, 4, "with")
    ms.non_uniformity(P)
    critical_rate(P, sampling_factor(50, 4, "with"))


def test_auto_route_is_gram_only_for_large_problems(monkeypatch):
    G = np.random.default_rng(2).standard_normal((10, 200))
    assert isinstance(ms.problem_from_gradients(G).basis_source, np.ndarray)  # small: the SVD
    monkeypatch.setattr(ms, "GRAM_MIN_WORK", 1.0)
    assert not isinstance(ms.problem_from_gradients(G).basis_source, np.ndarray)  # n < d: the span of the gᵢ
    tall = ms.problem_from_gradients(G[:, :4].repeat(3, axis=0) + 0.01 * np.arange(4), method="gram")
    assert tall.rank == 4 and isinstance(tall.basis_source, np.ndarray)  # n > d: eigenvectors of H
    with pytest.raises(ms.InputError, match="method"):
        ms.problem_from_gradients(G, method="qr")
