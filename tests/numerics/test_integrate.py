"""Tests for theorycheck.numerics.integrate: exact solutions, cross-backend agreement, the h parameter, caching, bad input."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck.core.errors import DivergenceError, InputError
from theorycheck.maths.fields import Field, H
from theorycheck.maths.losses import ZOO, quadratic_loss
from theorycheck.maths.numbers import as_mpf
from theorycheck.numerics.integrate import BACKENDS, SCIPY_DIGITS, flow, make_integrator

a, b = sp.symbols("a b", real=True)
# θ̇ = −sin θ has the closed form θ(t) = 2 atan(tan(θ0/2) e^{−t}): a non-polynomial oracle for every backend
PENDULUM = Field((a,), (-sp.sin(a),), name="pendulum")
# θ̇ = −(1 + h)θ/3: exercises the runtime parameter and a non-dyadic rational constant
DECAY = Field((a,), (-(1 + H) * a / 3,), name="decay")

TOL = {"heyoka": 30, "mpmath": 30, "scipy": 11}  # decimal digits each backend must match at digits=30


def _pendulum_exact(theta0, t):
    return 2 * mpmath.atan(mpmath.tan(as_mpf(theta0) / 2) * mpmath.exp(-as_mpf(t)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_backend_matches_the_closed_form(backend):
    with mpmath.workdps(50):
        got = flow(PENDULUM, [Fraction(6, 5)], Fraction(1, 2), backend=backend, digits=30)[0]
        want = _pendulum_exact(Fraction(6, 5), Fraction(1, 2))
        assert abs(got - want) < mpmath.mpf(10) ** -TOL[backend]


@pytest.mark.parametrize("backend", BACKENDS)
def test_step_parameter_is_reset_between_runs(backend):
    integ = make_integrator(DECAY, backend, 30)
    with mpmath.workdps(50):
        for h in (Fraction(1, 8), Fraction(1, 2), Fraction(1, 8)):
            got = integ.run([1], 1, h=h)[0]
            want = mpmath.exp(-(1 + mpmath.mpf(h.numerator) / h.denominator) / 3)
            assert abs(got - want) < mpmath.mpf(10) ** -TOL[backend], h


def test_heyoka_and_mpmath_agree_to_digits_on_a_modified_field():
    loss = ZOO["quadratic"]
    g = loss.gradient
    n2 = sum(c**2 for c in g)
    igr = Field(loss.variables, tuple(-g[i] - H / 4 * sp.diff(n2, v) for i, v in enumerate(loss.variables)), "igr")
    theta0, t, h = [Fraction(7, 10), Fraction(-2, 5)], Fraction(1, 8), Fraction(1, 8)
    hy = flow(igr, theta0, t, h=h, backend="heyoka", digits=30)
    mp = flow(igr, theta0, t, h=h, backend="mpmath", digits=30)
    sc = flow(igr, theta0, t, h=h, backend="scipy")
    with mpmath.workdps(50):
        assert max(abs(x - y) for x, y in zip(hy, mp)) < mpmath.mpf(10) ** -30
        assert max(abs(x - y) for x, y in zip(hy, sc)) < 1e-12


def test_heyoka_trig_flow_agrees_with_mpmath():
    f = ZOO["trig"].gradient_flow()
    hy = flow(f, [0.7, -0.4], Fraction(1, 8), backend="heyoka", digits=20)
    mp = flow(f, [0.7, -0.4], Fraction(1, 8), backend="mpmath", digits=20)
    with mpmath.workdps(40):
        assert max(abs(x - y) for x, y in zip(hy, mp)) < mpmath.mpf(10) ** -20


def test_gradient_flow_of_a_quadratic_is_the_matrix_exponential():
    loss = quadratic_loss([[2, 0], [0, 5]])
    with mpmath.workdps(60):
        got = flow(loss.gradient_flow(), [1, 1], 1, digits=50)
        assert abs(got[0] - mpmath.exp(-2)) < mpmath.mpf(10) ** -50
        assert abs(got[1] - mpmath.exp(-5)) < mpmath.mpf(10) ** -50


def test_results_carry_the_requested_digits_and_time_zero_is_identity():
    integ = make_integrator(PENDULUM, "heyoka", 60)
    assert integ.run([Fraction(1, 3)], 0) == [integ.run([Fraction(1, 3)], 0)[0]]
    with mpmath.workdps(90):
        got = integ.run([Fraction(6, 5)], 1)[0]
        assert abs(got - _pendulum_exact(Fraction(6, 5), 1)) < mpmath.mpf(10) ** -60


def test_integrators_are_cached_by_field_content():
    f1 = ZOO["trig"].gradient_flow()
    f2 = ZOO["trig"].gradient_flow()  # equal content, a different object
    assert make_integrator(f1, "heyoka", 25) is make_integrator(f2, "heyoka", 25)
    assert make_integrator(f1, "heyoka", 25) is not make_integrator(f1, "heyoka", 35)
    integ = make_integrator(f1, "heyoka", 25)
    runs = integ.runs
    integ.run([0.7, -0.4], 0.125)
    assert integ.runs == runs + 1 and integ.compile_s > 0


def test_scipy_records_float64_digits():
    assert make_integrator(PENDULUM, "scipy", 50).digits == SCIPY_DIGITS


def test_blow_up_is_a_divergence_error():
    f = Field((a,), (a**2,), name="blowup")  # θ(t) = 1/(1 − t) from θ0 = 1
    for backend in ("heyoka", "scipy"):  # mpmath's guard works too but needs ~50 s of tiny Taylor steps
        with pytest.raises(DivergenceError):
            flow(f, [1], 2, backend=backend, digits=20)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"backend": "euler"}, "`backend`"),
        ({"theta0": [1, 2]}, "coordinates"),
        ({"theta0": [float("nan")]}, "finite"),
        ({"theta0": ["x"]}, "number"),
        ({"t": -1}, "non-negative"),
        ({"t": float("inf")}, "finite"),
        ({"digits": 0}, "`digits`"),
        ({"digits": 2.5}, "`digits`"),
    ],
)
def test_bad_input_is_rejected_with_the_argument_named(kwargs, match):
    args = {"theta0": [0.5], "t": 1, "backend": "heyoka", "digits": 20, **kwargs}
    with pytest.raises(InputError, match=match):
        flow(PENDULUM, args["theta0"], args["t"], backend=args["backend"], digits=args["digits"])


def test_non_field_is_rejected():
    with pytest.raises(InputError, match="Field"):
        make_integrator("not a field", "mpmath")  # type: ignore[arg-type]
