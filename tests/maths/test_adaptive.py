"""Adam and RMSProp: the map, the bias-corrected memory coefficients, the derived field and its limits."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths import adaptive as ad
from theorycheck.maths.losses import ZOO

Q = ZOO["quadratic"]


def test_memory_coefficient_is_the_mean_age_of_the_bias_corrected_average():
    beta = Fraction(3, 5)
    for n in range(6):
        w = [beta**k for k in range(n + 1)]
        mean_age = sum(k * wk for k, wk in enumerate(w)) / sum(w)
        assert ad.memory_coefficient(beta, n) == sp.Rational(mean_age.numerator, mean_age.denominator)
    assert ad.memory_coefficient(beta, 0) == 0  # the first step sees one gradient: an Euler step
    assert ad.memory_coefficient(beta) == sp.Rational(3, 2)
    assert float(ad.memory_coefficient(beta, 200)) == pytest.approx(1.5, abs=1e-30)
    assert ad.memory_coefficient(0, 5) == 0


def test_first_step_is_exactly_minus_g_over_r_with_bias_correction():
    th, h, eps = [mpmath.mpf("0.7"), mpmath.mpf("-0.4")], mpmath.mpf(1) / 8, Fraction(1, 100)
    g = Q.gradient_mpmath(th)
    one = ad.adam_orbit(Q, Fraction(9, 10), Fraction(99, 100), eps, th, h, 1)[1]
    want = [t - h * gi / mpmath.sqrt(gi**2 + mpmath.mpf(eps.numerator) / eps.denominator) for t, gi in zip(th, g)]
    assert all(abs(a - b) < mpmath.mpf(10) ** -12 for a, b in zip(one, want))
    raw = ad.adam_orbit(Q, Fraction(9, 10), Fraction(99, 100), eps, th, h, 1, bias_correction=False)[1]
    assert max(abs(a - b) for a, b in zip(raw, want)) > 1e-3  # the dropped correction is visible


@pytest.mark.parametrize("b1", [Fraction(1, 4), Fraction(9, 10)])
def test_large_eps_gives_dampened_momentums_field_in_rescaled_time(b1):
    # ε → ∞ with h/√ε fixed, β > 0: θ̇ ≈ −g/√ε − (h/ε)·(1+β)/(2(1−β))·Hg, momentum with dampening β (heavy ball at
    # the step h(1−β)) in time t/√ε, not GD's IGR field (its ½ holds for β = 0 only)
    eps = Fraction(10**8)
    F1, F0 = ad.adam_field(Q, b1, Fraction(1, 2), eps, 1), ad.adam_field(Q, b1, Fraction(1, 2), eps, 0)
    th, h = np.array([0.7, -0.4]), 0.3
    A = np.array([[3.0, 1.0], [1.0, 1.0]])
    term = (F1.numpy(th, h) - F0.numpy(th, h)) / h
    c = float((1 + b1) / (2 * (1 - b1)))
    assert term == pytest.approx(-c * A @ (A @ th) / float(eps), rel=1e-6)
    assert c != pytest.approx(0.5)


def test_large_eps_gives_gds_implicit_regulariser_in_rescaled_time():
    # ε → ∞ with h/√ε fixed and β = 0 (RMSProp): θ̇ ≈ −g/√ε − (h/2ε)Hg, GD's IGR field −∇(L + (ĥ/4)‖∇L‖²) in time t/√ε
    eps = Fraction(10**8)
    F1 = ad.adam_field(Q, 0, Fraction(1, 2), eps, 1)
    F0 = ad.adam_field(Q, 0, Fraction(1, 2), eps, 0)
    th, h = np.array([0.7, -0.4]), 0.3
    A = np.array([[3.0, 1.0], [1.0, 1.0]])
    g = A @ th
    term = (F1.numpy(th, h) - F0.numpy(th, h)) / h
    assert term == pytest.approx(-0.5 * A @ g / float(eps), rel=1e-6)
    assert float(ad.one_norm_coefficient(Fraction(1, 4), Fraction(1, 2), eps, 1)) == pytest.approx(1 / 3 + 0.5)


@pytest.mark.parametrize("b1,b2,sign", [(Fraction(1, 4), Fraction(1, 2), -1), (Fraction(1, 2), Fraction(1, 4), 1),
                                        (Fraction(9, 10), Fraction(999, 1000), -1), (0, Fraction(1, 2), -1)])
def test_sign_of_the_one_norm_term_for_small_eps(b1, b2, sign):
    c = ad.one_norm_coefficient(b1, b2, Fraction(1, 10**6), 1)
    assert np.sign(float(c)) == sign


def test_the_field_is_the_one_of_the_docstring():
    b1, b2, eps = Fraction(1, 4), Fraction(1, 2), Fraction(1, 1000)
    F = ad.adam_field(Q, b1, b2, eps, 1)
    th, h = np.array([0.7, -0.4]), 0.01
    A = np.array([[3.0, 1.0], [1.0, 1.0]])
    g = A @ th
    R = np.sqrt(g**2 + float(eps))
    dN = A @ (g / R)
    c = np.array([float(ad.one_norm_coefficient(b1, b2, eps, sp.nsimplify(x))) for x in g])
    assert F.numpy(th, h) == pytest.approx(-(g + h * c * dN) / R, rel=1e-12)
    wrong = ad.adam_field(Q, b1, b2, eps, 1, sign=-1)
    assert not np.allclose(wrong.numpy(th, h), F.numpy(th, h))


@pytest.mark.parametrize("args", [(1, 0.5, 0.1), (0.5, -0.1, 0.1), (0.5, 0.5, 0), ("x", 0.5, 0.1)])
def test_bad_hyperparameters_are_refused(args):
    with pytest.raises(InputError):
        ad.validate_hyperparameters(*args)


def test_measured_coefficients_need_a_halving_ladder():
    with pytest.raises(InputError, match="half"):
        ad.measured_coefficients(lambda h: ad.adam_slow_orbit(Q, 0, Fraction(1, 2), Fraction(1, 10), [0.7, -0.4],
                                                              h, 3), Q, Fraction(1, 10), [0.7, -0.4],
                                 (Fraction(1, 64), Fraction(1, 100), Fraction(1, 256)))
