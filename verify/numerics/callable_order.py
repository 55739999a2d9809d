"""Order studies of GD on a loss given as a Python function: float64, scipy's DOP853 flow, AD derivatives.

GD's step θ − h∇L(θ) is compared with one time-h step of the gradient flow
(``against="flow"``, local order 2) or of the IGR flow
−∇(L + (h/4)‖∇L‖²) = −(g + (h/2)Hg) (``"igr"`` = ``"modified:1"``, local
order 3; Barrett & Dherin, ICLR 2021, Thm 3.1), with the Hessian-vector
product from automatic differentiation. The errors are measured in float64
(:func:`theorycheck.numerics.order.float64_local_errors`) and fitted by
:func:`theorycheck.numerics.order.fit_order` above the float64 floor. A
callable cannot be evaluated beyond float64: asking for more digits, or for a
modified field beyond h¹, is an error that says to write the loss as a
symbolic expression.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from theorycheck.core.errors import InputError, PrecisionError
from theorycheck.maths.callable_loss import CallableLoss
from theorycheck.numerics.order import DEFAULT_TOL, OrderStudy, fit_order, float64_floor, float64_local_errors

#: Decimal digits a float64 evaluation carries.
FLOAT64_DIGITS = 15

#: Local order of GD against each field a callable loss supports.
LOCAL_ORDER = {"flow": 2, "modified:0": 2, "igr": 3, "modified:1": 3}


def callable_order_study(loss: CallableLoss, theta0: Sequence[float], against: str = "igr",
                         steps: Sequence[Any] = (Fraction(1, 8), Fraction(1, 16), Fraction(1, 32), Fraction(1, 64)),
                         *, digits: int | None = None, expected_order: float | None = None,
                         tolerance: float = DEFAULT_TOL) -> OrderStudy:
    """The local order of GD on ``loss`` against the flow or the IGR flow, from ``theta0`` (shape (d,)).

    Raises
    ------
    PrecisionError
        ``digits`` above float64's 15: high precision needs a symbolic loss.
    InputError
        A field other than flow/igr/modified:0/modified:1, or a non-finite start point.
    """
    if digits is not None and digits > FLOAT64_DIGITS:
        raise PrecisionError(f"a loss given as a Python function is evaluated in float64 (about {FLOAT64_DIGITS} "
                             f"digits), not {digits}; for high precision write the loss as a symbolic expression "
                             f"(`--loss EXPR`, theorycheck.maths.losses.parse_loss).")
    if against not in LOCAL_ORDER:
        raise InputError(f"against {against!r}: a Python-function loss supports {', '.join(LOCAL_ORDER)}; higher "
                         f"modified fields need the loss as a symbolic expression.")
    th0 = np.asarray(theta0, dtype=float)
    if th0.ndim != 1 or not np.all(np.isfinite(th0)):
        raise InputError("the start point must be a finite vector.")
    igr = LOCAL_ORDER[against] == 3

    def step(theta: np.ndarray, h: float) -> np.ndarray:
        return theta - h * loss.gradient(theta)

    def field(h: float) -> Any:
        def rhs(t: float, theta: np.ndarray) -> np.ndarray:
            g = loss.gradient(theta)
            return -(g + 0.5 * h * loss.hvp(theta, g)) if igr else -g
        return rhs

    hs = [float(Fraction(s)) for s in steps]
    errors = float64_local_errors(step, field, th0, hs)
    st = fit_order(steps, errors, expected_order=LOCAL_ORDER[against] if expected_order is None else expected_order,
                   floor=float64_floor(th0), tolerance=tolerance)
    st.kind, st.backend, st.digits, st.against = "local", "scipy", FLOAT64_DIGITS, against
    return st


__all__ = ["FLOAT64_DIGITS", "LOCAL_ORDER", "callable_order_study"]
