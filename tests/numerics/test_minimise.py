"""L-BFGS to a minimum: the outcome is reported, bad input is refused."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.numerics.minimise import minimise


def test_a_quadratic_is_minimised_to_its_gradient_tolerance():
    A = np.diag([1.0, 10.0, 100.0])
    b = np.array([1.0, -2.0, 3.0])
    found = minimise(lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b), np.zeros(3), gtol=1e-10)
    assert found.converged and found.grad_norm <= 1e-10
    np.testing.assert_allclose(found.theta, np.linalg.solve(A, b), rtol=1e-9)


def test_a_budget_too_small_is_reported_not_raised():
    f = lambda x: (float(np.sum((x - 1) ** 4)), 4 * (x - 1) ** 3)  # noqa: E731
    found = minimise(f, np.zeros(4), gtol=1e-14, max_iterations=2)
    assert not found.converged and found.iterations <= 2


@pytest.mark.parametrize("theta0,gtol", [([np.nan], 1e-8), ([0.0], 0.0)])
def test_bad_input_is_one_error(theta0, gtol):
    with pytest.raises(InputError):
        minimise(lambda x: (float(x @ x), 2 * x), np.array(theta0), gtol=gtol)
