"""Tests for theorycheck.maths.jets: generic modified-equation terms as exact polynomials in the derivatives of L."""

from __future__ import annotations

import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths import jets


def test_one_dimensional_generic_terms():
    # f̃ = −L′ − (h/2)L″L′ − h²((1/12)L‴L′² + (1/3)L″²L′) − h³((1/6)L′²L″L‴ + (1/4)L″³L′)
    T = jets.generic_terms(1, 3, "taylor")
    L1, L2, L3 = (str(s) for s in jets.jet(1, 4).gens[:3])
    exprs = [str(t[0].as_expr()) for t in T]
    assert exprs[0] == f"-{L1}"
    assert exprs[1] == f"-{L1}*{L2}/2"
    assert sp.sympify(exprs[2]) == sp.sympify(f"-{L1}**2*{L3}/12 - {L1}*{L2}**2/3")
    assert sp.sympify(exprs[3]) == sp.sympify(f"-{L1}**2*{L2}*{L3}/6 - {L1}*{L2}**3/4")


# --- the two derivations agree ------------------------------------------------------------------


@pytest.mark.parametrize("d,k", [(1, 5), (2, 4), (3, 3)])
def test_taylor_and_bernoulli_agree_generically(d, k):
    assert jets.generic_agreement(d, k) == [True] * (k + 1)


def test_wrong_bernoulli_coefficient_is_detected():
    # mutant: B₂/2! = 1/6 instead of 1/12
    agree = jets.generic_agreement(2, 3, bernoulli=[1, sp.Rational(-1, 2), sp.Rational(1, 6), 0])
    assert agree[:2] == [True, True] and agree[2] is False


def test_bernoulli_coefficients():
    assert jets.bernoulli_coefficients(6) == [1, sp.Rational(-1, 2), sp.Rational(1, 12), 0, sp.Rational(-1, 720), 0,
                                            sp.Rational(1, 30240)]


def test_bad_route():
    with pytest.raises(InputError):
        jets.generic_terms(2, 2, "euler")


def test_jet_derivative_shifts_multi_index():
    jet = jets.Jet(2, 3)
    g = jet.gradient()
    assert [str(x) for x in g] == ["L_1_0", "L_0_1"]
    L20, L11 = jet.gens[2], jet.gens[3]
    assert [str(x) for x in (L20, L11)] == ["L_2_0", "L_1_1"]
    assert jet.deriv(g[0] * g[1], 0) == L20 * g[1] + g[0] * L11
    top = jet.gens[-1]  # order 3: its derivative is beyond maxorder
    assert jet.deriv(top, 0) == 0
