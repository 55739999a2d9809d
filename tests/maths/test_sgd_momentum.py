"""Tests for theorycheck.maths.sgd_momentum: ρ_m(β) against an independent weight sum, limits, the cyclic orbit."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths import fields, momentum, sgd_modified, sgd_momentum

THETA0 = (Fraction(7, 10), Fraction(1, 2))


@pytest.fixture(scope="module")
def batches():
    return sgd_modified.Batches(sgd_modified.random_samples(4, 11), sgd_modified.consecutive_partition(4, 2))


def _noise_factor_by_weight_sum(m: int) -> sp.Expr:
    """ρ_m(β) from the explicit sum over (Hessian step p, gradient step q) of the epoch's second-order term.

    An independent route to the closed form: v_{k+1} = Σ_j β^j g_{a_{k−j}} with a
    period-m past, θ_p − θ₀ = −h Σ_{i<p} v_{i+1} (signed for p < 0), every infinite
    sum reduced by periodicity to a finite one; pairs with p ≡ q (mod m) average to
    ∇R over orderings, the others to (m²H̄ḡ − mΣH_a g_a)/(m(m−1)).
    """
    b = sp.Symbol("beta", positive=True)

    def w(i):
        return {c: b ** ((i - c) % m) / (1 - b**m) for c in range(m)}

    def Q(p):
        acc = dict.fromkeys(range(m), sp.S.Zero)
        span, sign = (range(0, p), 1) if p >= 0 else (range(p, 0), -1)
        for i in span:
            for c, v in w(i).items():
                acc[c] += sign * v
        return acc

    same = other = sp.S.Zero
    for n in range(m):
        for r in range(m):
            q = Q(n - r)
            for c in range(m):
                val = b**r * (q[c] / (1 - b**m) - b**m / ((1 - b) * (1 - b**m) ** 2))
                if (n - r) % m == c:
                    same += val
                else:
                    other += val
    # Φ's coefficient of V (R = ½‖ḡ‖² + ½V) is (same − other/(m−1))/(2m); L̃'s noise term is −(1−β)hΦ
    c_v = (same - other / (m - 1)) / (2 * m)
    return sp.simplify(-4 * (1 - b) ** 2 * c_v), b


@pytest.mark.parametrize("m", [2, 3, 4, 5])
def test_noise_factor_matches_the_weight_sum(m):
    rho, b = _noise_factor_by_weight_sum(m)
    assert sp.simplify(rho - sgd_momentum.noise_factor(b, m)) == 0


def test_noise_factor_limits():
    half = sp.Rational(1, 2)
    assert all(sgd_momentum.noise_factor(0, m) == 1 for m in range(1, 8))
    assert sgd_momentum.noise_factor(half, 2) == (1 - half) / (1 + half)
    assert sgd_momentum.noise_factor(half, 1) == 1
    assert abs(float(sgd_momentum.noise_factor(half, 400)) - 1) < 0.01
    assert all(0 < sgd_momentum.noise_factor(sp.Rational(k, 10), m) < 1 for k in range(1, 10) for m in range(2, 9))
    assert sgd_momentum.amplification(half) == 3


@pytest.mark.parametrize("call", [lambda: sgd_momentum.noise_factor(1, 3), lambda: sgd_momentum.noise_factor(-0.1, 3),
                                  lambda: sgd_momentum.noise_factor(0.5, 0)])
def test_bad_arguments(call):
    with pytest.raises(InputError):
        call()


def test_limits_are_the_published_forms(batches):
    smith = sgd_modified.sgd_modified_field(batches)
    assert fields.expressions_equal(sgd_momentum.sgd_momentum_modified_field(batches, 0).components, smith.components)
    one = sgd_modified.Batches(batches.samples, ((0, 1, 2, 3),))
    ghosh = momentum.ghosh_field(one.loss, sp.Rational(1, 3))
    assert fields.expressions_equal(sgd_momentum.sgd_momentum_modified_field(one, sp.Rational(1, 3)).components,
                                    ghosh.components)
    amplified = sgd_momentum.sgd_momentum_modified_field(batches, sp.Rational(1, 2), noise="amplified")
    assert not fields.expressions_equal(amplified.components,
                                        sgd_momentum.sgd_momentum_modified_field(batches, sp.Rational(1, 2)).components)


def test_periodic_orbit_obeys_the_recursion_and_the_manifold_is_invariant(batches):
    b, h = Fraction(1, 2), Fraction(1, 128)
    grads = [lambda th, k=k: batches.batch_gradient(k, th) for k in (1, 0)]
    with mpmath.workdps(30):
        path = momentum.periodic_slow_orbit(grads, b, THETA0, h, 4)
        assert all(abs(p - mpmath.mpf(t.numerator) / t.denominator) < mpmath.mpf(10) ** -28
                   for p, t in zip(path[0], THETA0))
        hh, bb = mpmath.mpf(1) / 128, mpmath.mpf(1) / 2
        for k in range(1, 4):
            g = grads[k % 2](path[k])
            nxt = [x - hh * gi + bb * (x - y) for x, gi, y in zip(path[k], g, path[k - 1])]
            assert max(abs(u - v) for u, v in zip(nxt, path[k + 1])) < mpmath.mpf(10) ** -27
        # a second shooting from the end of the first epoch lands on the same orbit: the manifold is invariant
        again = momentum.periodic_slow_orbit(grads, b, path[2], h, 2)
        assert max(abs(u - v) for u, v in zip(again[2], path[4])) < mpmath.mpf(10) ** -25


def test_mean_map_averages_the_orderings(batches):
    with mpmath.workdps(30):
        T = Fraction(1, 64)
        mean = sgd_momentum.cyclic_epoch_mean_map(batches, Fraction(1, 2))(THETA0, T)
        each = [sgd_momentum.cyclic_epoch_map(batches, Fraction(1, 2), o)(THETA0, T) for o in ((0, 1), (1, 0))]
        assert max(abs(u - (x + y) / 2) for u, x, y in zip(mean, *each)) < mpmath.mpf(10) ** -28
        assert max(abs(x - y) for x, y in zip(*each)) > mpmath.mpf(10) ** -8  # the order matters at O(h²)


def test_cyclic_maps_refuse_bad_input(batches):
    with pytest.raises(InputError):
        sgd_momentum.cyclic_epoch_map(batches, Fraction(1, 2), (0, 0))
    big = sgd_modified.Batches(sgd_modified.random_samples(6, 1), sgd_modified.consecutive_partition(6, 1))
    with pytest.raises(InputError):
        sgd_momentum.cyclic_epoch_mean_map(big, Fraction(1, 2))


def _reshuffle_factor_by_truncated_sum(m: int, beta: float, epochs: int) -> float:
    """ρ^rr by brute force over absolute steps (p, q), the past cut after ``epochs`` epochs (error ~ β^{m·epochs})."""
    same = other = 0.0
    for n in range(m):
        for p in range(-epochs * m, n + 1):
            span, sign = (range(0, p), 1) if p >= 0 else (range(p, 0), -1)
            for i in span:
                for q in range(-(epochs + 2) * m, i + 1):
                    w = beta ** (n - p) * sign * beta ** (i - q)
                    if p == q:
                        same += w
                    elif p // m == q // m:
                        other += w
    return -2 * (1 - beta) ** 2 * (same - other / (m - 1)) / m


@pytest.mark.parametrize("m, epochs", [(2, 14), (3, 9)])
def test_reshuffle_factor_matches_a_brute_force_sum(m, epochs):
    exact = float(sgd_momentum.reshuffle_noise_factor(sp.Rational(1, 2), m))
    assert exact == pytest.approx(_reshuffle_factor_by_truncated_sum(m, 0.5, epochs), abs=1e-6)


def test_reshuffle_factor_closed_form_and_limits():
    b = sp.Symbol("beta")
    assert sp.simplify(sgd_momentum.reshuffle_noise_factor(b, 2) - (1 - b) * (1 + b**3) / (1 + b**2)) == 0
    assert all(sgd_momentum.reshuffle_noise_factor(0, m) == 1 for m in range(1, 6))
    quarter = sp.Rational(1, 4)
    assert sgd_momentum.reshuffle_noise_factor(quarter, 2) != sgd_momentum.noise_factor(quarter, 2)
    # the batch-noise part is damped under reshuffling too
    assert all(0 < sgd_momentum.reshuffle_noise_factor(sp.Rational(k, 10), m) < 1
               for k in range(1, 10) for m in range(2, 6))


def test_orthogonal_epoch_orders_have_the_pair_statistics_of_reshuffling():
    runs = sgd_momentum.orthogonal_epoch_orders(7)
    assert len(runs) == 8 and all(len(r) == 7 for r in runs)
    assert sgd_momentum.epoch_order_balance(runs) == 0
    assert sgd_momentum.epoch_order_balance(runs[:5]) > 0
    with pytest.raises(InputError):
        sgd_momentum.orthogonal_epoch_orders(0)


def test_reshuffled_map_with_a_repeated_order_is_the_cyclic_map(batches):
    with mpmath.workdps(30):
        T = Fraction(1, 64)
        same = sgd_momentum.reshuffled_epoch_mean_map(batches, Fraction(1, 4), [((1, 0),) * 5])(THETA0, T)
        cyclic = sgd_momentum.cyclic_epoch_map(batches, Fraction(1, 4), (1, 0))(THETA0, T)
        assert max(abs(u - v) for u, v in zip(same, cyclic)) < mpmath.mpf(10) ** -25
        other = sgd_momentum.reshuffled_epoch_mean_map(batches, Fraction(1, 4), [((0, 1),) * 4 + ((1, 0),)])(THETA0, T)
        assert max(abs(u - v) for u, v in zip(other, cyclic)) > mpmath.mpf(10) ** -12  # the history is used
    with pytest.raises(InputError):
        sgd_momentum.reshuffled_epoch_mean_map(batches, Fraction(1, 4), [((0, 0),)])
