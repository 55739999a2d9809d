"""The modified field term by term: gradient-field tests, potentials, and the modified loss where one exists."""

import sympy as sp

from theorycheck.maths.fields import H
from theorycheck.maths.gradient_field import jacobian_asymmetry
from theorycheck.maths.losses import ZOO, parse_loss, quadratic_loss
from theorycheck.maths.modified import igr_loss, quadratic_log_terms
from theorycheck.maths.modified_loss import modified_expansion, potential


def test_quadratic_terms_are_gradients_with_the_log_series_potentials():
    A = sp.Matrix([[3, 1], [1, 1]])
    loss = quadratic_loss(A)
    ex = modified_expansion(loss, 3, point=(1, 1))
    ref = quadratic_log_terms(A, loss.variables, 3)  # -(A^{j+1} θ)/(j+1), an independent construction
    for t, F in zip(ex.terms, ref):
        assert t.gradient is True and t.asymmetry == 0
        assert all(sp.expand(sp.diff(t.potential, x) - Fi) == 0 for x, Fi in zip(loss.variables, F))
    assert ex.loss_order == 3


def test_rosenbrock_has_a_modified_loss_to_first_order_only():
    loss = ZOO["rosenbrock"]
    ex = modified_expansion(loss, 2, point=(sp.Rational(3, 10), sp.Rational(1, 5)))
    assert [t.gradient for t in ex.terms] == [True, True, False]
    assert ex.loss_order == 1
    # L~ to h^1 is the IGR loss L + (h/4)|grad L|^2 of Barrett & Dherin, up to a constant (φ_j(0) = 0 here)
    diff = sp.expand(ex.modified_loss(H) - igr_loss(loss).expr)
    assert diff != 0 and diff.free_symbols <= {H}
    assert all(sp.expand(sp.diff(diff, x)) == 0 for x in loss.variables)
    a = jacobian_asymmetry(loss, 2, (0.3, 0.2))
    assert abs(ex.terms[2].relative - a.relative) < 1e-12 and 0.3 < a.relative < 0.35


def test_one_variable_terms_are_all_gradients():
    loss = parse_loss("a**4/4 + a**2")
    ex = modified_expansion(loss, 3)
    assert ex.loss_order == 3 and all(t.gradient for t in ex.terms)


def test_a_non_gradient_field_gets_no_potential():
    loss = parse_loss("a**2 + b**2")
    a, b = loss.variables
    assert potential(loss, [-b, a]) is None  # a rotation: the line integral exists but is not its potential
    assert sp.expand(potential(loss, [2 * a, 2 * b]) - (a**2 + b**2)) == 0
