"""Tests for theorycheck.maths.gradient_field: which terms of GD's modified field are gradients."""

from __future__ import annotations

import pytest
import sympy as sp

from theorycheck.maths import gradient_field
from theorycheck.maths.losses import ZOO, quadratic_loss

ROSEN = ZOO["rosenbrock"]


def test_f2_is_a_gradient_generically_and_f3_is_not():
    assert all(p == 0 for p in gradient_field.generic_asymmetry(2, 1))
    assert any(p != 0 for p in gradient_field.generic_asymmetry(2, 2))
    assert all(p == 0 for p in gradient_field.generic_asymmetry(1, 3))  # d = 1: no antisymmetric part


def test_rosenbrock_f3_asymmetry_at_point():
    p = (sp.Rational(3, 10), sp.Rational(1, 5))
    assert gradient_field.jacobian_asymmetry(ROSEN, 1, p).size == 0.0
    a = gradient_field.jacobian_asymmetry(ROSEN, 2, p)
    assert a.size == pytest.approx(200.1, rel=1e-3) and 0.3 < a.relative < 0.35


def test_separable_loss_has_gradient_terms():
    # sin a cos b + (a²+b²)/4 separates in u = a+b, v = a−b (orthonormal up to scale): every term is a gradient
    for j in (2, 3):
        assert gradient_field.jacobian_asymmetry(ZOO["trig"], j, (0.7, -0.4)).relative < 1e-25


def test_quadratic_terms_are_gradients():
    q = quadratic_loss(sp.Matrix([[2, 1, 0], [1, 3, 1], [0, 1, 1]]))
    for j in (1, 2, 3):
        assert gradient_field.jacobian_asymmetry(q, j, (1, -1, 2)).size == 0.0
