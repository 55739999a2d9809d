"""Explicit gradient regularisation: the loss L_μ = L + μ‖∇L‖², its flow, and GD on it.

Barrett & Dherin (ICLR 2021, arXiv:2009.11162, Theorem 3.1 and Sec. 4 "explicit
gradient regularisation") show GD with rate h follows, to O(h³) per step, the
gradient flow of L + (h/4)‖∇L‖²; adding μ‖∇L‖² to the loss by hand is their
explicit regulariser. The field of the regularised flow is

    θ̇ = −∇L_μ = −(g + 2μ H g),        g = ∇L, H = ∇²L,

so with μ = c·h one step of the flow for time h is
θ − h g + h² (½ − 2c) H g + O(h³): only c = ¼ cancels the h² term, and every
other c leaves GD a *first*-order approximation of the flow (local error
∝ |½ − 2c| h² ‖Hg‖). :func:`coefficient_ladder` measures the local order
as a function of c; the order jumps from 2 to 3 only at c = ¼.

Two settings: symbolic losses (the zoo; high precision via ``theorycheck.numerics.order``)
and a small tanh network in float64 (autograd Hessian-vector products,
scipy DOP853), where the same jump must show up with no symbolic algebra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.fields import H, Field
from theorycheck.maths.losses import Loss

IGR_C = Fraction(1, 4)  # μ = h/4 (Barrett & Dherin 2021, Thm 3.1)


def egr_loss(loss: Loss, mu: Any) -> Loss:
    """L_μ = L + μ‖∇L‖²; ``mu`` is a number or a sympy expression (``H/4`` ties it to the step symbol)."""
    return _egr_loss(loss, sp.sympify(mu))


@lru_cache(maxsize=None)
def _egr_loss(loss: Loss, mu: sp.Expr) -> Loss:
    if mu.free_symbols - {H}:
        raise InputError(f"`mu` may only contain the step symbol h, got {mu}.")
    expr = loss.expr + mu * sum(gi**2 for gi in loss.gradient)
    return Loss(f"egr({loss.name}, mu={mu})", expr, loss.variables, description=f"{loss.name} + ({mu})·‖∇L‖²")


def egr_field(loss: Loss, mu: Any) -> Field:
    """θ̇ = −∇L_μ = −(g + 2μHg), built as −(g + 2μ·Hg) from the exact gradient and Hessian (cached)."""
    return _egr_field(loss, sp.sympify(mu))


@lru_cache(maxsize=None)
def _egr_field(loss: Loss, mu: sp.Expr) -> Field:
    if mu.free_symbols - {H}:
        raise InputError(f"`mu` may only contain the step symbol h, got {mu}.")
    g = loss.gradient
    Hg = loss.hessian * g
    return Field(loss.variables, tuple(-(g[i] + 2 * mu * Hg[i]) for i in range(loss.dim)), name=f"egr(mu={mu})",
                 meta={"loss": loss.name, "mu": str(mu)})


def egr_rate_field(loss: Loss, c: Fraction | float | str = IGR_C) -> Field:
    """The flow of L + c·h‖∇L‖² (μ tied to the step): c = ¼ is the IGR field."""
    return egr_field(loss, sp.Rational(str(Fraction(c))) * H)


def matches_igr_field(loss: Loss) -> bool:
    """Exact symbolic identity: ``egr_rate_field(loss, ¼)`` == ``theorycheck.maths.modified.igr_field(loss)`` == ``modified_field(loss, 1)``.

    Three constructions (−(g + ½hHg) here, −∇(L + ¼h‖g‖²) via :func:`theorycheck.maths.modified.igr_field`,
    and the Taylor-matched F₀ + hF₁) must give the same field component-wise.
    """
    from theorycheck.maths.modified import igr_field, modified_field

    mine = egr_rate_field(loss).components
    for other in (igr_field(loss).components, modified_field(loss, 1).components):
        if any(sp.simplify(sp.expand(a - b)) != 0 for a, b in zip(mine, other)):
            return False
    return True


# ----------------------------------------------------------------------------------
# order as a function of the coefficient c (μ = c·h), symbolic losses
# ----------------------------------------------------------------------------------
def coefficient_ladder(loss: Loss, theta0: Sequence[Any], coefficients: Sequence[Fraction], steps: Sequence[Any],
                       backend: str = "heyoka") -> list[tuple[Fraction, Any]]:
    """For each c: the local-error study of GD against the flow of L + c·h‖∇L‖² (theorycheck.numerics.order).

    Expected order 3 at c = ¼ and 2 elsewhere (c = 0 is the plain gradient flow).
    """
    from theorycheck.maths.optimisers import gd
    from theorycheck.numerics.order import local_error_study

    step = gd(loss)
    out = []
    for c in coefficients:
        c = Fraction(c)
        expected = 3 if c == IGR_C else 2
        out.append((c, local_error_study(step, egr_rate_field(loss, c), theta0, steps, expected_order=expected,
                                         backend=backend)))
    return out


# ----------------------------------------------------------------------------------
# a small network in float64
# ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NetProblem:
    """A tiny tanh network and its data, with the loss, gradient and Hessian-vector product in float64."""

    width: int
    X: np.ndarray
    y: np.ndarray

    @property
    def net(self) -> Any:
        from theorycheck.numerics.experiments import TanhNet

        return TanhNet(self.X.shape[1], self.width)

    def grad(self, theta: np.ndarray) -> np.ndarray:
        return self.net.loss_and_grad(theta, self.X, self.y)[1]

    def hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        """H(θ)v by the complex-step derivative of the analytic gradient (exact to rounding; see TanhNet.hvp)."""
        return self.net.hvp(theta, v, self.X, self.y)

    def egr_rhs(self, mu: float) -> Callable[[float, np.ndarray], np.ndarray]:
        """The right-hand side t, θ ↦ −(g + 2μHg) for scipy's ``solve_ivp``."""
        def rhs(_t: float, theta: np.ndarray) -> np.ndarray:
            g = self.grad(theta)
            return -(g + 2.0 * mu * self.hvp(theta, g)) if mu else -g
        return rhs


def net_problem(seed: int, width: int = 3, n: int = 6) -> tuple[NetProblem, np.ndarray]:
    """A seeded regression problem (x ~ N(0, I₂), y = sin x₁ + ½ x₂) and an initial point away from minima."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    prob = NetProblem(width, X, y)
    return prob, prob.net.init(rng)


def net_local_errors(problem: NetProblem, theta0: np.ndarray, steps: Sequence[float], c: float,
                     rtol: float = 1e-13) -> list[float]:
    """e(h) = ‖θ0 − h∇L(θ0) − φ_h(θ0)‖ with φ the flow of L + c·h‖∇L‖² (scipy DOP853, float64)."""
    from scipy.integrate import solve_ivp

    g0 = problem.grad(theta0)
    out = []
    for h in steps:
        sol = solve_ivp(problem.egr_rhs(c * h), (0.0, h), theta0, method="DOP853", rtol=rtol, atol=rtol * 1e-3)
        if not sol.success:
            raise InputError(f"scipy could not integrate the EGR flow at h={h}: {sol.message}")
        out.append(float(np.linalg.norm(theta0 - h * g0 - sol.y[:, -1])))
    return out


def net_floor(theta0: np.ndarray, rtol: float = 1e-13) -> float:
    """Error level below which a float64 DOP853 local error cannot be trusted: 100·rtol·(1 + ‖θ‖)."""
    return 100.0 * rtol * (1.0 + float(np.linalg.norm(theta0)))


def sharpness_at(problem: NetProblem, theta: np.ndarray) -> float:
    """λ_max(H(θ)) from the dense Hessian (P is tiny)."""
    return float(np.linalg.eigvalsh(problem.net.hessian(theta, problem.X, problem.y))[-1])


def relative_steps(lam: float, count: int, top: float = 0.5) -> list[float]:
    """A halving ladder h_k = top·2^{-k}/λ, k = 0..count−1 (stable, inside the analytic regime hλ < 1)."""
    if lam <= 0 or not math.isfinite(lam):
        raise InputError(f"sharpness must be positive and finite, got {lam!r}.")
    return [top / lam / 2**k for k in range(count)]
