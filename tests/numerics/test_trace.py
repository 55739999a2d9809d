"""Traces from products: exact for small p, Hutch++ whose interval covers the trace at the requested accuracy
with far fewer than p products; the sketch is what makes it cheap (a mutant without it needs many more)."""

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

from theorycheck.core.errors import InputError
from theorycheck.numerics.trace import exact_trace, operator_trace


def _psd(p, decay, seed=0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    lam = 1.0 / (1.0 + np.arange(p)) ** decay
    return (Q * lam) @ Q.T


def test_small_operators_get_the_exact_trace():
    A = _psd(40, 1.0)
    res = operator_trace(aslinearoperator(A))
    assert res.method == "exact" and res.half_width == 0 and res.estimate == pytest.approx(np.trace(A), rel=1e-13)
    assert exact_trace(aslinearoperator(A), block=7).estimate == pytest.approx(np.trace(A), rel=1e-13)


@pytest.mark.parametrize("seed", range(6))
def test_hutchpp_interval_covers_the_trace_with_fewer_products_than_p(seed):
    A = _psd(1500, 1.5, seed)
    res = operator_trace(aslinearoperator(A), rtol=1e-2, seed=seed, exact_limit=100)
    assert res.method == "Hutch++" and res.products < 1500 / 3
    assert res.half_width <= 1e-2 * abs(res.estimate) * (1 + 1e-12)
    assert res.contains(np.trace(A)), (res, np.trace(A))


def test_the_sketch_is_what_makes_it_cheap():
    A = _psd(1500, 1.5, 1)
    res = operator_trace(aslinearoperator(A), rtol=5e-3, exact_limit=100, sketch=4)  # the sketch grows as needed
    assert res.method == "Hutch++" and res.contains(np.trace(A))
    # mutant: no deflation (plain Hutchinson); the probes its t interval would need for the same half-width
    z = np.random.default_rng(0).choice([-1.0, 1.0], size=(1500, 200))
    sd = np.einsum("pm,pm->m", z, A @ z).std(ddof=1)
    plain = (1.96 * sd / (5e-3 * np.trace(A))) ** 2
    assert res.products * 3 < plain


def test_bad_settings_are_refused():
    op = aslinearoperator(np.eye(3))
    with pytest.raises(InputError, match="confidence"):
        operator_trace(op, confidence=1.5)
    with pytest.raises(InputError, match="rtol"):
        operator_trace(op, rtol=0.0)


def test_the_interval_is_relative_to_the_offset_plus_the_trace():
    A = -_psd(1500, 1.5, 2)  # a negative part beside a known positive one: c + Tr A is smaller than c
    c = 1.5 * abs(np.trace(A))
    res = operator_trace(aslinearoperator(A), rtol=1e-2, exact_limit=100, offset=c)
    assert res.half_width <= 1e-2 * abs(c + res.estimate) * (1 + 1e-12) and res.contains(np.trace(A))
    # mutant: the target relative to the offset alone, as Tr GN was once used for Tr H = Tr GN + Tr R; its
    # interval is wider than the requested 1% of the sum
    loose = operator_trace(aslinearoperator(A), rtol=1e-2, atol=1e-2 * c, exact_limit=100)
    assert loose.half_width > 1e-2 * abs(c + loose.estimate)


def test_a_sketch_that_outgrows_the_rank_stays_orthonormal():
    rng = np.random.default_rng(4)
    p = 1200
    U, _ = np.linalg.qr(rng.standard_normal((p, 6)))
    A = (U * np.array([50.0, 40, -30, 20, 10, -5])) @ U.T  # rank 6: a sketch of 8 has two columns of rounding only
    seen = []

    class Counted:
        shape = A.shape

        def matmat(self, Z):
            seen.append(Z.shape[1])
            return A @ Z

    res = operator_trace(Counted(), rtol=1e-6, exact_limit=100, sketch=4)
    assert res.estimate == pytest.approx(np.trace(A), rel=1e-10) and res.products == sum(seen) < p // 4, (res, seen)
