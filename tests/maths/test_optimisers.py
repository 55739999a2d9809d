"""Tests for theorycheck.maths.optimisers: the GD map at any precision, iteration, divergence, exact conversions."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck.core.errors import DivergenceError, InputError
from theorycheck.maths.losses import ZOO, parse_loss, quadratic_loss
from theorycheck.maths.numbers import as_fraction, as_mpf, as_mpf_vector
from theorycheck.maths.optimisers import gd, iterate, mean_map


def test_gd_on_a_quadratic_is_the_linear_map_exactly():
    A = [[3, 1], [1, 1]]
    step = gd(quadratic_loss(A))
    with mpmath.workdps(60):
        theta = [mpmath.mpf(7) / 10, mpmath.mpf(-2) / 5]
        h = mpmath.mpf(1) / 8
        out = step(theta, h)
        want = [theta[i] - h * sum(A[i][j] * theta[j] for j in range(2)) for i in range(2)]
        assert max(abs(a - b) for a, b in zip(out, want)) < mpmath.mpf(10) ** -58


def test_gd_constants_follow_the_working_precision():
    # a 1/3 coefficient must be evaluated at 80 digits, not frozen at double precision
    loss = parse_loss("a**2/6 + sin(a)/3")
    step = gd(loss)
    with mpmath.workdps(80):
        a = mpmath.mpf(1) / 7
        out = step([a], Fraction(1, 8))[0]
        want = a - (a / 3 + mpmath.cos(a) / 3) / 8
        assert abs(out - want) < mpmath.mpf(10) ** -78


def test_gd_on_every_zoo_loss_matches_the_sympy_gradient():
    for loss in ZOO.values():
        step = gd(loss)
        point = {v: sp.Rational(3, 10) for v in loss.variables}
        with mpmath.workdps(40):
            out = step([mpmath.mpf(3) / 10] * loss.dim, Fraction(1, 16))
            want = [sp.Rational(3, 10) - sp.Rational(1, 16) * g.subs(point) for g in loss.gradient]
            for o, w in zip(out, want):
                assert abs(o - mpmath.mpf(sp.N(w, 45))) < mpmath.mpf(10) ** -38, loss.name


def test_iterate_composes_the_map():
    step = gd(ZOO["trig"])
    with mpmath.workdps(30):
        theta = as_mpf_vector([0.7, -0.4])
        twice = step(step(theta, Fraction(1, 8)), Fraction(1, 8))
        assert iterate(step, theta, Fraction(1, 8), 2) == twice
        assert iterate(step, theta, Fraction(1, 8), 0) == theta


def test_iterate_stops_on_divergence_with_the_step_index():
    step = gd(parse_loss("a**4"))
    with pytest.raises(DivergenceError, match=r"diverged at step \d+ of 40"):
        iterate(step, [10], 1, 40)


def test_iterate_rejects_complex_iterates():
    step = gd(parse_loss("a*log(a)"))  # ∇L = log(a) + 1 is complex once a < 0
    with pytest.raises(DivergenceError, match="not a finite real"):
        iterate(step, [Fraction(1, 2)], 4, 5)


@pytest.mark.parametrize("n", [-1, 1.5])
def test_iterate_rejects_bad_counts(n):
    with pytest.raises(InputError, match="`n`"):
        iterate(gd(ZOO["trig"]), [0.7, -0.4], 0.125, n)


def test_gd_rejects_wrong_dimension():
    with pytest.raises(InputError, match="2 variables"):
        gd(ZOO["trig"])([0.1, 0.2, 0.3], 0.1)


@pytest.mark.parametrize(
    "x, want",
    [(0.1, Fraction(1, 10)), ("1/8", Fraction(1, 8)), (0.125, Fraction(1, 8)), (3, Fraction(3)),
     (sp.Rational(2, 3), Fraction(2, 3)), (mpmath.mpf(0.375), Fraction(3, 8)), (mpmath.mpf(-0.375), Fraction(-3, 8))],
)
def test_as_fraction_is_exact(x, want):
    assert as_fraction(x) == want


@pytest.mark.parametrize("bad", ["abc", "1/0", None, True, float("nan")])
def test_as_fraction_rejects_non_numbers(bad):
    with pytest.raises(InputError):
        as_fraction(bad)


def test_as_mpf_conversions():
    with mpmath.workdps(50):
        assert as_mpf(Fraction(1, 3)) == mpmath.mpf(1) / 3
        assert as_mpf("0.7") == mpmath.mpf("0.7")
        assert as_mpf(0.7) == mpmath.mpf(0.7)  # the float's exact binary value
        assert as_mpf(sp.Rational(-2, 5)) == mpmath.mpf(-2) / 5
    for bad in ("x", float("inf"), None, True, sp.Symbol("q")):
        with pytest.raises(InputError):
            as_mpf(bad)


def test_mean_map_averages_step_maps_and_refuses_none():
    double = mean_map([lambda th, h: [x + h for x in th], lambda th, h: [x - 3 * h for x in th]])
    assert double([1, 2], 1) == [0, 1]
    with pytest.raises(InputError):
        mean_map([])
