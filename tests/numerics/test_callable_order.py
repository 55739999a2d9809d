"""Losses as Python functions: AD derivatives against sympy's, GD's order against flow and IGR, and the limits."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError, PrecisionError
from theorycheck.core.evidence import Verdict
from theorycheck.maths.callable_loss import callable_loss
from theorycheck.maths.losses import ZOO
from theorycheck.numerics.callable_order import callable_order_study


def rosenbrock(theta):
    a, b = theta[0], theta[1]
    return (1 - a) ** 2 + 5 * (b - a**2) ** 2


@pytest.mark.parametrize("backend", ["autograd", "jax"])
def test_derivatives_match_the_symbolic_loss(backend):
    if backend == "jax":
        pytest.importorskip("jax")
    L = callable_loss(rosenbrock, backend)
    sym = ZOO["rosenbrock"]
    th, v = np.array([0.3, 0.2]), np.array([0.7, -1.1])
    g_ref = np.array([float(c.subs(dict(zip(sym.variables, th)))) for c in sym.gradient])
    H_ref = np.array(sym.hessian.subs(dict(zip(sym.variables, th))), dtype=float)
    assert np.allclose(L.gradient(th), g_ref, rtol=1e-13) and np.allclose(L.hvp(th, v), H_ref @ v, rtol=1e-13)


@pytest.mark.parametrize("against, order", [("flow", 2), ("igr", 3)])
def test_gd_orders_on_a_python_loss(against, order):
    st = callable_order_study(callable_loss(rosenbrock), [0.3, 0.2], against)
    assert st.verdict is Verdict.PASS and abs(st.order - order) < 0.2 and st.backend == "scipy"
    # mutant: the wrong expected order is rejected
    assert callable_order_study(callable_loss(rosenbrock), [0.3, 0.2], against,
                                expected_order=order + 1).verdict is Verdict.FAIL


def test_high_precision_and_higher_fields_need_a_symbolic_loss():
    L = callable_loss(rosenbrock)
    with pytest.raises(PrecisionError, match="float64.*not 30.*symbolic expression"):
        callable_order_study(L, [0.3, 0.2], digits=30)
    with pytest.raises(InputError, match="higher modified fields need the loss as a symbolic expression"):
        callable_order_study(L, [0.3, 0.2], "modified:2")
    with pytest.raises(InputError, match="must be a function"):
        callable_loss("a**2")
