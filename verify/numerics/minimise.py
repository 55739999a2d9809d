"""Training to a minimum by L-BFGS: for checks that need a minimum, not a particular optimiser's path.

The statements checked at a minimum (a bound at interpolation, a bound at a
non-interpolating minimum) hold wherever the minimum came from; L-BFGS
(``scipy.optimize.minimize``) reaches one to a gradient norm near rounding in
a few hundred loss-and-gradient evaluations, where GD needs thousands of steps.
The outcome is reported, never raised: :class:`Minimum` says whether the
gradient tolerance was met.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from theorycheck.core.errors import InputError


@dataclass
class Minimum:
    """Where L-BFGS stopped: θ, L(θ), ‖∇L(θ)‖, its iterations, and whether ‖∇L‖ ≤ ``gtol`` (``converged``)."""

    theta: np.ndarray
    loss: float
    grad_norm: float
    iterations: int
    converged: bool
    message: str


def minimise(loss_and_gradient: Callable[[np.ndarray], tuple[float, np.ndarray]], theta0: np.ndarray,
             gtol: float = 1e-10, max_iterations: int = 5000) -> Minimum:
    """Minimise L from ``theta0`` by L-BFGS until ‖∇L‖ ≤ ``gtol`` or ``max_iterations``.

    Parameters
    ----------
    loss_and_gradient : callable
        θ ↦ (L(θ), ∇L(θ)), θ and ∇L of shape (p,).
    theta0 : ndarray, shape (p,)
    gtol : float
        Target Euclidean norm of the gradient.
    """
    from scipy.optimize import minimize

    th0 = np.asarray(theta0, dtype=float).ravel()
    if not np.all(np.isfinite(th0)):
        raise InputError("the starting parameters must be finite.")
    if not gtol > 0 or max_iterations < 1:
        raise InputError(f"gtol must be positive and max_iterations ≥ 1, got {gtol!r} and {max_iterations!r}.")
    res = minimize(loss_and_gradient, th0, jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iterations, "maxfun": 4 * max_iterations, "ftol": 0.0, "gtol": 0.0,
                            "maxcor": 30})
    loss, grad = loss_and_gradient(res.x)
    gnorm = float(np.linalg.norm(grad))
    return Minimum(theta=np.asarray(res.x, dtype=float), loss=float(loss), grad_norm=gnorm,
                   iterations=int(res.nit), converged=bool(np.isfinite(gnorm) and gnorm <= gtol),
                   message=str(res.message))


__all__ = ["Minimum", "minimise"]
