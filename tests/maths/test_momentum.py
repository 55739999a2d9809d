"""Tests for theorycheck.maths.momentum: heavy ball's modified terms, the closed form, the slow-manifold orbit."""

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths import momentum
from theorycheck.maths.losses import ZOO
from theorycheck.maths.modified import modified_terms


def test_heavy_ball_terms_reduce_to_gd_at_beta_zero():
    loss = ZOO["rosenbrock"]
    for A, B in zip(modified_terms(loss, 3), momentum.heavy_ball_terms(loss, 0, 3)):
        assert all(sp.expand(a - b) == 0 for a, b in zip(A, B))


def test_first_heavy_ball_term_closed_form():
    loss = ZOO["rosenbrock"]
    beta = sp.Rational(1, 3)
    F = momentum.heavy_ball_terms(loss, beta, 1)
    Hg = loss.hessian * loss.gradient
    assert all(sp.expand(F[1][i] + (1 + beta) / (2 * (1 - beta) ** 3) * Hg[i]) == 0 for i in range(2))
    assert all(sp.expand(F[0][i] + loss.gradient[i] / (1 - beta)) == 0 for i in range(2))


def test_ghosh_factor_mutant_differs():
    loss = ZOO["quadratic"]
    b = Fraction(1, 2)
    good = momentum.ghosh_field(loss, b).components
    hb = momentum.heavy_ball_field(loss, b, 1).components
    bad = momentum.ghosh_field(loss, b, factor=1).components
    assert all(sp.expand(x - y) == 0 for x, y in zip(good, hb))
    assert any(sp.expand(x - y) != 0 for x, y in zip(bad, hb))


def test_slow_manifold_orbit_lands_on_theta0_and_obeys_the_recursion():
    loss = ZOO["quadratic"]
    b = Fraction(1, 2)
    with mpmath.workdps(30):
        th = [mpmath.mpf("0.7"), mpmath.mpf("-0.4")]
        h = mpmath.mpf(1) / 128
        orb = momentum.heavy_ball_orbit(loss, b, th, h, 3, digits=20)
        assert max(abs(a - c) for a, c in zip(orb[0], th)) < mpmath.mpf(10) ** -18
        # θ2 = θ1 − h∇L(θ1) + β(θ1 − θ0)
        g1 = [3 * orb[1][0] + orb[1][1], orb[1][0] + orb[1][1]]
        pred = [orb[1][i] - h * g1[i] + mpmath.mpf(1) / 2 * (orb[1][i] - orb[0][i]) for i in range(2)]
        assert max(abs(a - c) for a, c in zip(pred, orb[2])) < mpmath.mpf(10) ** -25


def test_slow_manifold_limit_and_transient_validation():
    assert momentum.slow_manifold_limit(0.25) == pytest.approx(0.25)
    assert momentum.transient_steps(0.5, 10) >= 34
    with pytest.raises(InputError):
        momentum.transient_steps(1.0, 10)
    with pytest.raises(InputError):
        momentum.heavy_ball_terms(ZOO["quadratic"], Fraction(1, 2), 9)
