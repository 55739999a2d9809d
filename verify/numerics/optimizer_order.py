"""The order of any optimiser of the protocol against its own modified field: set-up, ladder, study.

:func:`setup` turns an optimiser, a loss and ``against`` (``flow``, ``igr``, ``modified:K`` or ``bernoulli:K``)
into what an order study needs: the θ-map measured (the rule itself without state; its slow-manifold map,
:class:`~theorycheck.maths.slow_manifold.SlowMap`, with state), the field of its modified equation
(:mod:`theorycheck.maths.optimizer_field`) and the local order expected against it (K + 2). Where the derived
θ-map is θ − h∇L, gradient descent's own terms are used (:func:`~theorycheck.maths.modified.against_field`:
the same terms, and GD's IGR field and Bernoulli series besides). :func:`default_ladder` fixes the step sizes
before measuring (:func:`~theorycheck.numerics.ladders.slow_manifold_ladder`), and :func:`measure_optimizer`
runs the study. The ``theorycheck order`` command and :func:`theorycheck.testing.measure_order` both go
through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import mpmath

from theorycheck.core.errors import InputError

#: Working digits of a study on a slow manifold unless given (the shooting's transient grows with them).
SLOW_MANIFOLD_DIGITS = 30
#: Steps of the default ladder of a rule with state.
SLOW_MANIFOLD_LADDER = 4
#: The default ladder of a rule without state.
STATELESS_STEPS = tuple(Fraction(1, 2**k) for k in range(3, 8))


@dataclass
class Setup:
    """An optimiser's order study, set up.

    Attributes
    ----------
    rule : Optimizer
    equation : ModifiedEquation
        Its modified equation to the order ``against`` needs.
    step : SlowMap
        The θ-map measured.
    field : Field
        The field of ``against``.
    local_order : int
        The rule's local order against ``field`` (K + 2; the global order is one less).
    """

    rule: Any
    equation: Any
    step: Any
    field: Any
    local_order: int

    @property
    def stateful(self) -> bool:
        """Whether the rule has state (and is measured on its slow manifold)."""
        return self.equation.manifold.state_size > 0

    @property
    def label(self) -> str:
        return self.rule.label + (", slow manifold" if self.stateful else "")


def setup(optimizer: Any, loss: Any, against: str, theta0: Sequence[Any] | None = None) -> Setup:
    """Derive the optimiser's modified equation and pick the field of ``against`` (module docstring).

    Parameters
    ----------
    optimizer : Optimizer or anything :func:`~theorycheck.maths.protocol.as_optimizer` accepts
    loss : Loss
    against : str
        ``flow`` (its leading flow F₀), ``igr`` (= ``modified:1``), ``modified:K`` or, for gradient descent,
        ``bernoulli:K``.
    theta0 : sequence of d numbers, optional
        The start point (decides the comparisons of a non-smooth step).

    Raises
    ------
    InputError
        ``bernoulli:K`` for a rule that is not gradient descent, K beyond the symbolic limit, or a step the
        derivation refuses.
    """
    from theorycheck.maths.modified import against_field, parse_against
    from theorycheck.maths.optimizer_field import MAX_ORDER, derive
    from theorycheck.maths.protocol import as_optimizer
    from theorycheck.maths.slow_manifold import SlowMap

    rule = as_optimizer(optimizer)
    family, k = parse_against(against)
    equation = derive(rule, loss, k, theta0)
    if equation.is_gradient_descent:
        field, local_order = against_field(loss, against)
    else:
        if family == "bernoulli":
            raise InputError(f"`--against {against}` is the Bernoulli series of gradient descent, and the θ-map of "
                             f"{rule.label} is not θ − h∇L(θ); use modified:K, its own modified field.")
        if k > MAX_ORDER:
            raise InputError(f"`--against {against}`: the modified field of {rule.label} is derived up to "
                             f"h^{MAX_ORDER}; use a smaller K.")
        field, local_order = equation.field(k), k + 2
    stateful = equation.manifold.state_size > 0
    step = SlowMap(rule, loss, manifold=equation.manifold if stateful else None)
    return Setup(rule, equation, step, field, local_order)


def flow_rate(equation: Any, theta0: Sequence[Any]) -> float:
    """λ_F: the spectral radius of the leading flow's Jacobian ∂F₀/∂θ at θ₀ (float64)."""
    import numpy as np
    import sympy as sp

    from theorycheck.maths.numbers import as_mpf_vector

    xs = equation.loss.variables
    jac = sp.lambdify(xs, sp.Matrix(equation.terms[0]).jacobian(sp.Matrix(xs)), modules="mpmath")
    with mpmath.workdps(30):
        J = np.array(mpmath.matrix(jac(*as_mpf_vector(theta0))).tolist(), dtype=float)
    return float(np.max(np.abs(np.linalg.eigvals(J)))) if J.size else 0.0


def default_ladder(s: Setup, theta0: Sequence[Any], n: int = SLOW_MANIFOLD_LADDER) -> list[Fraction]:
    """The ladder fixed before measuring: 1/8 … 1/128 without state, else
    :func:`~theorycheck.numerics.ladders.slow_manifold_ladder` of the flow rate and the fast factor at θ₀."""
    from theorycheck.maths.numbers import as_mpf_vector
    from theorycheck.maths.slow_manifold import fast_factor
    from theorycheck.numerics.ladders import slow_manifold_ladder

    if not s.stateful:
        return list(STATELESS_STEPS)
    with mpmath.workdps(30):
        th = as_mpf_vector(theta0)
        rho = fast_factor(s.rule, s.equation.loss, th, s.equation.manifold.state_function()(th, 0))
    return slow_manifold_ladder(flow_rate(s.equation, theta0), rho, n)


def measure_optimizer(optimizer: Any, loss: Any, against: str, theta0: Sequence[Any], steps: Sequence[Any] | None = None,
                      *, kind: str = "local", horizon: Any = 1, expected_order: float | None = None,
                      backend: str = "heyoka", digits: int | None = None, tolerance: float | None = None) -> Any:
    """The order study of ``optimizer`` on ``loss`` from θ₀ against ``against`` (its own modified field).

    Parameters
    ----------
    optimizer, loss, against, theta0
        As for :func:`setup`.
    steps : sequence of step sizes, optional
        Default :func:`default_ladder`.
    kind : {"local", "global"}
        One step, or ``horizon/h`` steps (from one shooting, on the slow manifold).
    expected_order : float, optional
        Default K + 2 (local) or K + 1 (global).
    digits : int, optional
        Default 30 with state (chosen from the errors without).

    Returns
    -------
    OrderStudy
    """
    from theorycheck.numerics.order import DEFAULT_TOL, global_error_study, local_error_study

    s = setup(optimizer, loss, against, theta0)
    ladder = default_ladder(s, theta0) if steps is None else list(steps)
    expected = (s.local_order if kind == "local" else s.local_order - 1) if expected_order is None else expected_order
    if digits is None and s.stateful:
        digits = SLOW_MANIFOLD_DIGITS
    tol = DEFAULT_TOL if tolerance is None else tolerance
    if kind == "local":
        return local_error_study(s.step, s.field, theta0, ladder, expected_order=expected, backend=backend,
                                 digits=digits, tolerance=tol)
    if kind != "global":
        raise InputError(f"`kind` must be local or global, got {kind!r}.")
    return global_error_study(s.step, s.field, theta0, ladder, horizon=horizon, expected_order=expected,
                              backend=backend, digits=digits, tolerance=tol)


__all__ = ["SLOW_MANIFOLD_DIGITS", "SLOW_MANIFOLD_LADDER", "STATELESS_STEPS", "Setup", "default_ladder", "flow_rate",
           "measure_optimizer", "setup"]
