"""Exact minima of the square loss that do not interpolate, built for a given two-layer net and inputs.

Square loss L(θ) = (1/2n)Σ(f(xᵢ) − yᵢ)², residuals rᵢ = f(xᵢ) − yᵢ, per-sample gradients J (n × p). Then

    ∇L = (1/n) Jᵀr,     ∇²L = (1/n) JᵀJ + (1/n) Σᵢ rᵢ ∇²_θ fᵢ,
    Tr ∇²L = (1/n) Σᵢ ‖∇_θ fᵢ‖² + (1/n) Σᵢ rᵢ Tr ∇²_θ fᵢ,

so θ is a critical point with r ≠ 0 exactly when r lies in the null space of Jᵀ (it has one when n > rank J),
and the second sum, the *residual part* R of the trace, is what separates flatness Tr H from the Gauss–Newton
trace that the first-layer bounds control. Given θ and X, :func:`non_interpolating_minimum` picks the
targets y = f(X) − t·r̂ with r̂ the unit vector of null(Jᵀ) along which R decreases fastest (minus the
projection of κᵢ = Tr∇²_θ fᵢ) and t a fraction of the largest t* for which ∇²L stays positive
semi-definite, so θ is a strict local minimum (∇²L positive definite) whose residual part is as negative
as that direction allows. The Hessians are autograd's (:func:`theorycheck.maths.networks.hessian_exact`);
κ comes from the closed-form trace (:func:`theorycheck.maths.networks.trace_hessian`), whose residual part
is linear in r.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.networks import TwoLayerNet, hessian_exact, per_sample_gradients, trace_hessian


@dataclass
class NonInterpolatingMinimum:
    """Targets ``y`` at which the net's θ is a strict local minimum with residuals ``residual`` = f(X) − y.

    ``t`` is the residual's norm, ``t_max`` the largest norm along the same direction that keeps ∇²L ⪰ 0
    (∞ when every t does), ``min_eigenvalue`` λ_min(∇²L) at ``y``.
    """

    y: np.ndarray
    residual: np.ndarray
    t: float
    t_max: float
    min_eigenvalue: float


def non_interpolating_minimum(net: TwoLayerNet, X: np.ndarray, fraction: float = 0.5, t_cap: float = 1.0,
                              conditioning: float = 1e-8) -> NonInterpolatingMinimum | None:
    """Targets making the net's parameters a strict, non-interpolating local minimum (module docstring).

    Parameters
    ----------
    net : TwoLayerNet
    X : ndarray, shape (n, d)
        n must exceed the rank of the per-sample gradients for a non-zero residual to exist.
    fraction : float
        t = fraction · t_max, in (0, 1).
    t_cap : float
        The residual norm used when every t keeps ∇²L ⪰ 0 (t_max = ∞).
    conditioning : float
        The Gauss–Newton part must have λ_min > conditioning·λ_max; then ∇²L ⪰ (1 − fraction)·JᵀJ/n at the
        minimum returned, so θ is a strict minimum with λ_min(∇²L) ≳ (1 − fraction)·conditioning·λ_max.

    Returns
    -------
    NonInterpolatingMinimum or None
        None when there is no such minimum at θ: null(Jᵀ) = {0}, κ orthogonal to it, or the Gauss–Newton
        part (nearly) singular (θ would not be a strict minimum).
    """
    if not 0 < fraction < 1:
        raise InputError(f"fraction must lie in (0, 1), got {fraction!r}.")
    X = np.asarray(X, dtype=float)
    n = X.shape[0]
    f = net(X)
    J = per_sample_gradients(net, X)
    U, s, _ = np.linalg.svd(J)
    rank = int(np.sum(s > 1e-10 * (s[0] if s.size else 1.0)))
    null = U[:, rank:]
    if null.shape[1] == 0:
        return None
    kappa = np.array([n * trace_hessian(net, X, f - e).residual for e in np.eye(n)])
    direction = -(null @ (null.T @ kappa))
    if np.linalg.norm(direction) <= 1e-12 * max(1.0, float(np.linalg.norm(kappa))):
        return None
    r_hat = direction / np.linalg.norm(direction)
    H0 = hessian_exact(net, X, f)  # = JᵀJ/n: the Gauss–Newton part
    S = hessian_exact(net, X, f - r_hat) - H0  # the residual part per unit of t
    w, V = np.linalg.eigh(H0)
    if w[0] <= conditioning * w[-1]:
        return None
    root = V @ np.diag(w**-0.5) @ V.T
    lowest = float(np.linalg.eigvalsh(root @ S @ root)[0])
    t_max = -1.0 / lowest if lowest < 0 else np.inf
    t = fraction * t_max if np.isfinite(t_max) else t_cap
    y = f - t * r_hat
    return NonInterpolatingMinimum(y=y, residual=t * r_hat, t=float(t), t_max=float(t_max),
                                   min_eigenvalue=float(np.linalg.eigvalsh(H0 + t * S)[0]))


__all__ = ["NonInterpolatingMinimum", "non_interpolating_minimum"]
