"""Tests for theorycheck.maths.losses: parsing, the zoo's invariants, exact derivatives, point validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.losses import (
    ZOO,
    ZOO_POINTS,
    Loss,
    get_loss,
    parse_loss,
    quadratic_loss,
)

# --- the zoo: invariants checked for every registered entry ---------------------------------------

@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_entry_invariants(name):
    loss = ZOO[name]
    assert loss.name == name and loss.description
    assert set(ZOO_POINTS[name]) == {str(v) for v in loss.variables}
    assert not loss.expr.has(sp.Float), "coefficients must be exact so every backend sees the same function"
    point = loss.point(ZOO_POINTS[name])
    g = sp.lambdify(loss.variables, list(loss.gradient))(*point)
    # away from minima: the order ladders need a non-negligible gradient
    assert np.linalg.norm(np.asarray(g, dtype=float)) > 1e-2
    Hm = np.asarray(sp.lambdify(loss.variables, loss.hessian)(*point), dtype=float)
    assert np.allclose(Hm, Hm.T) and np.all(np.isfinite(Hm))


def test_zoo_points_cover_zoo():
    assert set(ZOO) == set(ZOO_POINTS)


def test_logistic_samples_are_not_orthogonal():
    # with orthogonal samples the loss separates and every modified term is a gradient (a degenerate zoo entry)
    loss = ZOO["logistic"]
    a, b = loss.variables
    assert sp.diff(loss.expr, a, b) != 0


# --- derivatives -----------------------------------------------------------------------------

def test_gradient_and_hessian():
    loss = parse_loss("a**2*b + b**3")
    a, b = loss.variables
    assert list(loss.gradient) == [2 * a * b, a**2 + 3 * b**2]
    assert loss.hessian == sp.Matrix([[2 * b, 2 * a], [2 * a, 6 * b]])


@pytest.mark.parametrize("alpha", [(0, 0), (1, 0), (2, 1), (0, 3), (3, 2)])
def test_derivative_matches_sympy(alpha):
    loss = ZOO["tiny_net"]
    a, b = loss.variables
    want = loss.expr
    for v, n in zip((a, b), alpha):
        if n:
            want = sp.diff(want, v, n)
    assert sp.simplify(loss.derivative(alpha) - want) == 0


def test_derivative_is_memoised_and_validated():
    loss = ZOO["rosenbrock"]
    assert loss.derivative((2, 1)) is loss.derivative((2, 1))
    assert loss.derivative((2, 1)) == -20
    with pytest.raises(ValueError):
        loss.derivative((1,))
    with pytest.raises(ValueError):
        loss.derivative((-1, 0))


def test_third_contraction_is_gradient_of_bilinear_form():
    loss = ZOO["logistic"]
    u, v = [sp.Rational(1, 3), -2], [sp.Rational(1, 2), 5]
    T = loss.third(u, v)
    uHv = (sp.Matrix(u).T * loss.hessian * sp.Matrix(v))[0]
    assert all(sp.simplify(T[k] - sp.diff(uHv, x)) == 0 for k, x in enumerate(loss.variables))


@pytest.mark.parametrize("name,degree", [("quadratic", 2), ("rosenbrock", 4), ("logistic", None), ("trig", None),
                                         ("tiny_net", None)])
def test_polynomial_degree(name, degree):
    assert ZOO[name].polynomial_degree == degree


def test_gradient_flow():
    f = ZOO["quadratic"].gradient_flow()
    assert f.numpy((1.0, 0.0)).tolist() == [-3.0, -1.0]


# --- parsing ---------------------------------------------------------------------------------

def test_parse_orders_variables_by_name_and_keeps_rationals():
    loss = parse_loss("b/3 + a^2")
    assert [str(v) for v in loss.variables] == ["a", "b"]
    assert loss.expr == loss.variables[0] ** 2 + loss.variables[1] / 3
    assert parse_loss("0.5*a**2").expr == loss.variables[0] ** 2 / 2


def test_parse_with_fixed_variables():
    loss = parse_loss("a", variables=["a", "b"])
    assert loss.dim == 2


@pytest.mark.parametrize("text", ["", "   ", "a +", "foo(a)", "__import__('os')", "a; b", "lambda: 1", "1/0 + a",
                                  "a/0", "2 + 3", "sin(a, b)", "a == b"])
def test_parse_rejects(text):
    with pytest.raises(InputError):
        parse_loss(text)


def test_parse_rejects_variables_outside_given_list():
    with pytest.raises(InputError, match="c"):
        parse_loss("a + c", variables=["a", "b"])


def test_get_loss():
    assert get_loss("rosenbrock") is ZOO["rosenbrock"]
    assert isinstance(get_loss("a**2 + b"), Loss)


# --- points ----------------------------------------------------------------------------------

def test_point_by_name_and_position():
    loss = ZOO["rosenbrock"]
    assert loss.point({"b": 2, "a": 1}) == (1, 2)
    assert loss.point([1, 2]) == (1, 2)


@pytest.mark.parametrize("values,match", [
    ({"a": 1, "b": 2, "c": 3}, "unknown"),
    ({"a": 1}, "no value"),
    ({"a": math.nan, "b": 1}, "finite"),
    ({"a": math.inf, "b": 1}, "finite"),
    ({"a": "x", "b": 1}, "not a number"),
    ([1.0], "coordinates"),
])
def test_point_rejects(values, match):
    with pytest.raises(InputError, match=match):
        ZOO["rosenbrock"].point(values)


def test_quadratic_loss():
    q = quadratic_loss([[2, 1], [1, 3]])
    assert q.hessian == sp.Matrix([[2, 1], [1, 3]])
    with pytest.raises(InputError):
        quadratic_loss([[1, 2], [0, 1]])
    with pytest.raises(InputError):
        quadratic_loss([[1, 2, 3], [2, 1, 0]])


def test_exact_point_keeps_decimals_exact():
    from fractions import Fraction

    from theorycheck.maths.losses import exact_point

    assert exact_point(ZOO["rosenbrock"], {"a": 0.3, "b": 0.2}) == (Fraction(3, 10), Fraction(1, 5))


def test_curvature_is_the_largest_absolute_hessian_eigenvalue():
    # ½θᵀAθ with A = [[3, 1], [1, 1]]: eigenvalues 2 ± √2
    assert ZOO["quadratic"].curvature((0.1, 0.2)) == pytest.approx(2 + 2**0.5, rel=1e-14)
