"""Testing a user's own theory code: strategies, measurements and assertions in the manner of ``numpy.testing``.

For property-based tests with Hypothesis, the strategies theorycheck's own
claims draw from are public here:

* :func:`quadratics` (losses ½θᵀAθ), :func:`psd_matrices`, :func:`spectra`;
* :func:`interpolating_datasets`, :func:`feature_matrices`, :func:`per_sample_hessians` (datasets);
* :func:`two_layer_nets`, :func:`nets_and_inputs` (networks).

The measurements are the ones the claims make: :func:`measure_order` (the
order of a step map against a field, or of an optimiser of the protocol
against its own modified field, on a step ladder), :func:`eta_star`
(SGD's exact critical learning rate η*(B)), :func:`multiplicative_ratios`
(‖∇ₓf‖ against ‖W‖₂‖∇_W f‖_F/‖x‖ at the first layer) and
:func:`trace_hessian` (Tr ∇²L, exact). Each ``assert_*`` helper measures and
raises :class:`AssertionError` carrying the numbers behind the failure, so a
test is a few lines::

    from hypothesis import given
    from theorycheck import testing

    @given(testing.per_sample_hessians())
    def test_my_bound_is_below_eta_star(Hs):
        testing.assert_less_equal_eta_star(my_bound(Hs), Hs, batch=1)

:func:`assert_claim` runs a claim and raises with its evidence (summary,
failing cases, counterexample) unless it meets its expectation.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from theorycheck.properties.strategies import (
    feature_matrices,
    interpolating_datasets,
    nets_and_inputs,
    per_sample_hessians,
    psd_matrices,
    quadratics,
    spectra,
    two_layer_nets,
)

#: The default step ladder of :func:`measure_order` and :func:`assert_order`.
DEFAULT_STEPS = (Fraction(1, 8), Fraction(1, 16), Fraction(1, 32), Fraction(1, 64), Fraction(1, 128))


# --------------------------------------------------------------------------- measurements

def measure_order(step: Any, field: Any, theta0: Sequence[Any], expected_order: float | None = None,
                  steps: Sequence[Any] | None = None, *, loss: Any = None, kind: str = "local", horizon: Any = 1,
                  backend: str = "mpmath", digits: int | None = None, tolerance: float | None = None) -> Any:
    """The empirical order of ``step`` against the flow of ``field`` from ``theta0`` on the ladder ``steps``.

    Two forms. With ``loss``, ``step`` is an optimiser of the protocol (a step function
    ``step(theta, state, grad, h)``, its module, an object with ``init_state``/``step``, or an
    :class:`~theorycheck.maths.protocol.Optimizer`) and ``field`` names its own modified field, ``"flow"``,
    ``"igr"`` or ``"modified:K"`` (:func:`~theorycheck.numerics.optimizer_order.measure_optimizer`: a rule with
    state is measured on its slow manifold, the expected order defaults to K + 2 locally, the ladder to one fixed
    from the rule). Without ``loss``, ``step`` is a map θ ↦ step(θ, h) and ``field`` a
    :class:`~theorycheck.maths.fields.Field` (sympy components in named variables, possibly in the step symbol h).

    Parameters
    ----------
    step : StepMap or optimiser
        The map θ ↦ step(θ, h) (e.g. :func:`theorycheck.maths.optimisers.gd` of a loss), or, with ``loss``, an
        optimiser of the protocol.
    field : Field or str
        The (h-dependent) vector field whose time-h flow the map should follow; with ``loss``, ``"flow"``,
        ``"igr"`` or ``"modified:K"``.
    theta0 : sequence of d numbers
        Start point (exact rationals keep the study exact).
    expected_order : float, optional
        The order the theory predicts (local: K + 2 for a field correct to h^K); required without ``loss``.
    steps : sequence of step sizes, optional
        Default :data:`DEFAULT_STEPS` for a map; the optimiser's own ladder with ``loss``.
    loss : Loss, optional
        The loss an optimiser of the protocol runs on (:mod:`theorycheck.maths.losses`).
    kind : {"local", "global"}
        One step, or ``horizon/h`` steps against the flow to time ``horizon``.

    Returns
    -------
    OrderStudy
        Errors, fitted order with its interval, verdict and reason
        (:class:`theorycheck.numerics.order.OrderStudy`).
    """
    from theorycheck.numerics.order import DEFAULT_TOL, global_error_study, local_error_study

    tol = DEFAULT_TOL if tolerance is None else tolerance
    if loss is not None:
        from theorycheck.numerics.optimizer_order import measure_optimizer

        return measure_optimizer(step, loss, str(field), theta0, steps, kind=kind, horizon=horizon,
                                 expected_order=expected_order, backend=backend, digits=digits, tolerance=tol)
    if expected_order is None:
        from theorycheck.core.errors import InputError

        raise InputError("`expected_order` is needed for a step map and a field (give `loss` for an optimiser).")
    ladder = DEFAULT_STEPS if steps is None else steps
    if kind == "local":
        return local_error_study(step, field, theta0, ladder, expected_order=expected_order, backend=backend,
                                 digits=digits, tolerance=tol)
    return global_error_study(step, field, theta0, ladder, horizon=horizon, expected_order=expected_order,
                              backend=backend, digits=digits, tolerance=tol)


def eta_star(hessians: Any, batch: int, sampling: str = "with") -> float:
    """SGD's critical learning rate η*(B) from per-sample Hessians, shape (n, d, d) (Mulayoff & Michaeli, Thm. 3)."""
    from theorycheck.numerics.stability import critical_learning_rate

    return critical_learning_rate(hessians, batch, sampling)


def multiplicative_ratios(net: Any, X: Any) -> np.ndarray:
    """‖∇ₓf(xᵢ)‖ / (‖W‖₂ ‖∇_W f(xᵢ)‖_F / ‖xᵢ‖) per sample, shape (n,); at most 1 (Ma & Ying 2021, Sec. 2)."""
    from theorycheck.maths.networks import multiplicative_ratios as sides

    lhs, rhs = sides(net, np.asarray(X, dtype=float))
    return np.divide(lhs, rhs, out=np.zeros_like(lhs), where=rhs > 0)


def trace_hessian(net: Any, X: Any, y: Any) -> float:
    """Tr ∇²L of the square loss (1/2n)Σ(f(xᵢ) − yᵢ)² of a two-layer net, exact (Gauss–Newton + residual parts)."""
    from theorycheck.maths.networks import trace_hessian as parts

    return parts(net, np.asarray(X, dtype=float), np.asarray(y, dtype=float)).total


# --------------------------------------------------------------------------- assertions

def _fail(message: str, **numbers: Any) -> None:
    detail = "\n".join(f"  {k}: {v}" for k, v in numbers.items())
    raise AssertionError(f"{message}\n{detail}" if detail else message)


def assert_order(step: Any, field: Any, theta0: Sequence[Any], expected_order: float | None = None,
                 steps: Sequence[Any] | None = None, **kw: Any) -> Any:
    """Assert that the order study of :func:`measure_order` PASSes (fitted order within tolerance of the expected
    one); returns the study."""
    from theorycheck.core.evidence import Verdict

    st = measure_order(step, field, theta0, expected_order, steps, **kw)
    if st.verdict is not Verdict.PASS:
        _fail(f"order study {st.verdict}: {st.reason}", expected_order=st.expected_order, fitted_order=st.order,
              interval=st.order_ci, steps=st.steps, errors=st.errors, digits=st.digits, backend=st.backend)
    return st


def assert_eta_star(hessians: Any, batch: int, expected: float, *, rtol: float = 1e-7, sampling: str = "with") -> float:
    """Assert ``|η*(B) − expected| ≤ rtol·η*(B)``; returns η*(B)."""
    eta = eta_star(hessians, batch, sampling)
    if not abs(eta - expected) <= rtol * abs(eta):
        _fail(f"η*(B) differs from the expected value by more than rtol={rtol:g}", eta_star=eta, expected=expected,
              relative_difference=abs(eta - expected) / abs(eta) if eta else float("inf"), batch=batch,
              sampling=sampling)
    return eta


def assert_less_equal_eta_star(bound: float, hessians: Any, batch: int, *, sampling: str = "with",
                               rtol: float = 1e-9) -> float:
    """Assert that ``bound`` (a claimed stable learning rate) does not exceed η*(B) (up to ``rtol``); returns η*."""
    eta = eta_star(hessians, batch, sampling)
    if bound > eta * (1 + rtol):
        _fail("the learning rate exceeds SGD's exact critical rate η*(B): SGD is not linearly stable there",
              bound=bound, eta_star=eta, ratio=bound / eta, batch=batch, sampling=sampling)
    return eta


def assert_multiplicative_inequality(net: Any, X: Any, *, factor: float = 1.0) -> np.ndarray:
    """Assert ‖∇ₓf(xᵢ)‖ ≤ factor·‖W‖₂‖∇_W f(xᵢ)‖_F/‖xᵢ‖ for every row of X; returns the ratios."""
    r = multiplicative_ratios(net, X)
    worst = int(np.argmax(r)) if r.size else 0
    if r.size and r[worst] > factor * (1 + 1e-12):
        _fail("the multiplicative inequality fails", worst_sample=worst, ratio=float(r[worst]), factor=factor,
              x=np.asarray(X)[worst].tolist())
    return r


def assert_trace_close(net: Any, X: Any, y: Any, expected: float, *, rtol: float = 1e-8) -> float:
    """Assert Tr ∇²L = ``expected`` to ``rtol``; returns Tr ∇²L."""
    tr = trace_hessian(net, X, y)
    if not abs(tr - expected) <= rtol * max(abs(tr), 1e-300):
        _fail(f"Tr H differs from the expected value by more than rtol={rtol:g}", trace=tr, expected=expected)
    return tr


def assert_claim(claim: Any, ctx: Any = None) -> Any:
    """Run ``claim`` (quick mode by default) and raise with its evidence unless it meets its expectation.

    A claim expected to ``pass`` must not FAIL; a ``finding`` must not PASS; neither may raise (ERROR).
    Returns the evidence.
    """
    from theorycheck.claims import RunContext
    from theorycheck.reporting.failure import describe_evidence
    from theorycheck.running.runner import run_one

    ev = run_one(claim, ctx or RunContext(quick=True))
    broken = claim.broken_expectation(ev.verdict)
    if broken:
        raise AssertionError(f"{claim.id}: {broken}\n{describe_evidence(ev)}")
    return ev


__all__ = [
    "DEFAULT_STEPS", "assert_claim", "assert_eta_star", "assert_less_equal_eta_star", "assert_multiplicative_inequality",
    "assert_order", "assert_trace_close", "eta_star", "feature_matrices", "interpolating_datasets", "measure_order",
    "multiplicative_ratios", "nets_and_inputs", "per_sample_hessians", "psd_matrices", "quadratics", "spectra",
    "trace_hessian", "two_layer_nets",
]
