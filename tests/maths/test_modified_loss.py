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
    # L~ to h^1 is the IGR loss L + (h/4)|grad L|^2 of Barrett & Dherin, exactly (its potential is tried first)
    assert sp.expand(ex.modified_loss(H) - igr_loss(loss).expr) == 0
    a = jacobian_asymmetry(loss, 2, (0.3, 0.2))
    assert abs(ex.terms[2].relative - a.relative) < 1e-12 and 0.3 < a.relative < 0.35


def test_the_igr_potential_is_found_where_the_line_integral_has_no_closed_form():
    loss = parse_loss("a**2*b + sin(b)")
    ex = modified_expansion(loss, 1)
    assert ex.loss_order == 1
    assert sp.simplify(ex.modified_loss(H) - igr_loss(loss).expr) == 0


def test_a_wrong_candidate_potential_is_not_trusted():
    loss = parse_loss("a**2*b + sin(b)")
    F1 = modified_expansion(loss, 1).terms[1].field
    wrong = -sp.Rational(1, 2) * sum(sp.diff(loss.expr, v) ** 2 for v in loss.variables)  # the IGR constant doubled
    assert potential(loss, F1, candidate=wrong) != wrong


def test_one_variable_terms_are_all_gradients():
    loss = parse_loss("a**4/4 + a**2")
    ex = modified_expansion(loss, 3)
    assert ex.loss_order == 3 and all(t.gradient for t in ex.terms)


def test_a_non_gradient_field_gets_no_potential():
    loss = parse_loss("a**2 + b**2")
    a, b = loss.variables
    assert potential(loss, [-b, a]) is None  # a rotation: the line integral exists but is not its potential
    assert sp.expand(potential(loss, [2 * a, 2 * b]) - (a**2 + b**2)) == 0
