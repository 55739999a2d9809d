"""Adam from its initialisation against its step-dependent modified flow: n-step and global errors.

With bias correction Adam's modified field changes from step to step
(:func:`theorycheck.maths.adaptive.adam_field` at ``step=k``): the flow that
tracks it is piecewise, the field of step k over [kh, (k+1)h]. The errors here
compare Adam's iterates θ_n (mpmath, from m = v = 0) with that piecewise flow
(scipy DOP853 in float64, each segment one integration; the step-k field equals
the late-training one to float64 once β^k, ρ^k < 1e-17, so it is then reused).

* :func:`n_step_errors`: θ_n for a fixed small n against the composed flow; each
  step contributes O(h³), so the error is O(h³) (order 3) against the right
  fields and O(h²) with the bias correction dropped from the fields.
* :func:`global_errors`: θ_{T/h} on a fixed horizon T, O(h²) (global order 2;
  against the plain field F₀ order 1).
* :func:`one_norm_vs_flow`: the predicted sign of the one-norm term on small
  networks: over a short horizon T, Adam's iterates against the h → 0 flow
  −∇L/R from the same θ₀; the change of ‖∇L‖_{1,ε} between them is compared
  with the first-order prediction −hT·Σ_j c_j(∂_j‖∇L‖_{1,ε})²/R_j, seed by seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import mpmath
import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.adaptive import adam_field, adam_orbit
from theorycheck.maths.losses import Loss
from theorycheck.maths.numbers import as_mpf
from theorycheck.numerics.integrate import flow

#: Float64 resolves the composed flows to about this relative error; errors below it are not fitted.
FLOOR_RTOL = 1e-11


def _settled_step(beta1: Any, beta2: Any) -> int:
    """The first step k at which β^k and ρ^k are below 1e-17 (the step-k field is then the late one in float64)."""
    top = max(float(beta1), float(beta2))
    return 0 if top == 0 else int(math.ceil(17 * math.log(10) / -math.log(top)))


def piecewise_flow(loss: Loss, beta1: Any, beta2: Any, eps: Any, theta0: Sequence[Any], h: Any, n: int, *,
                   order: int = 1, bias_correction: bool = True, scale: Any = 1, sign: int = 1) -> list[Any]:
    """The flow of the step-k modified field over [kh, (k+1)h] for k = 0..n−1, composed, from θ₀."""
    settled = _settled_step(beta1, beta2)
    th = list(theta0)
    hh = as_mpf(h, "h")
    for k in range(n):
        step = k if (bias_correction and k < settled) else None
        field = adam_field(loss, beta1, beta2, eps, order, step=step, bias_correction=bias_correction,
                           scale=scale, sign=sign)
        th = flow(field, th, hh, h=hh, backend="scipy")
    return th


def _distance(a: Sequence[Any], b: Sequence[Any]) -> Any:
    return mpmath.sqrt(sum((mpmath.mpf(x) - mpmath.mpf(y)) ** 2 for x, y in zip(a, b)))


def n_step_errors(loss: Loss, beta1: Any, beta2: Any, eps: Any, theta0: Sequence[Any], ladder: Sequence[Any],
                  n: int, **field_options: Any) -> tuple[list[Any], float]:
    """‖θ_n − piecewise flow(nh)‖ on the ladder (Adam from m = v = 0 with bias correction), and the float64 floor."""
    if n < 1:
        raise InputError(f"`n` must be at least 1, got {n!r}.")
    errs = []
    with mpmath.workdps(30):
        th0 = [as_mpf(x, "theta0") for x in theta0]
        for h in ladder:
            adam = adam_orbit(loss, beta1, beta2, eps, th0, h, n)[-1]
            errs.append(_distance(adam, piecewise_flow(loss, beta1, beta2, eps, th0, h, n, **field_options)))
        scale = max(1.0, max(abs(float(x)) for x in th0))
    return errs, FLOOR_RTOL * scale * n


def global_errors(loss: Loss, beta1: Any, beta2: Any, eps: Any, theta0: Sequence[Any], ladder: Sequence[Any],
                  horizon: Any, **field_options: Any) -> tuple[list[Any], float]:
    """‖θ_{T/h} − piecewise flow(T)‖ on the ladder (every h must divide T), and the float64 floor."""
    from fractions import Fraction

    T = Fraction(str(horizon)) if not isinstance(horizon, Fraction) else horizon
    out = []
    with mpmath.workdps(30):
        th0 = [as_mpf(x, "theta0") for x in theta0]
        for h in ladder:
            steps = T / Fraction(h)
            if steps.denominator != 1:
                raise InputError(f"step {h} does not divide the horizon {T}.")
            n = int(steps)
            adam = adam_orbit(loss, beta1, beta2, eps, th0, h, n)[-1]
            out.append(_distance(adam, piecewise_flow(loss, beta1, beta2, eps, th0, h, n, **field_options)))
        scale = max(1.0, max(abs(float(x)) for x in th0))
    return out, FLOOR_RTOL * scale * int(T / Fraction(ladder[-1]))


@dataclass
class OneNormResult:
    """Per seed the ratio D/P of the measured to the predicted one-norm change, and the effect size of the ratios.

    D = N(θ_n) − N(φ_T(θ₀)): Adam's n = T/h iterates against the h → 0 flow θ̇ = −∇L/R from the same θ₀,
    N = ‖∇L‖_{1,ε}; P = −h·T·Σ_j c_j(∂_jN)²/R_j at θ₀, the first-order change the h-term predicts.
    """

    ratios: list[float]
    effect: Any
    records: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)


def one_norm_vs_flow(beta1: float, beta2: float, eps: float, *, seeds: int, seed: int, rate: float = 0.002,
                     horizon: float = 0.1, width: int = 8, n_train: int = 16, sign: int = 1,
                     confidence: float = 0.95) -> OneNormResult:
    """The paired experiment on small tanh networks (``sign=-1`` flips the prediction: a mutant)."""
    from scipy.integrate import solve_ivp

    from theorycheck.maths.adaptive import memory_coefficient
    from theorycheck.maths.datasets import regression_task
    from theorycheck.maths.networks import Architecture
    from theorycheck.numerics.statistics import effect_size

    n = int(round(horizon / rate))
    ratios, records, excluded = [], [], []
    b, r = float(memory_coefficient(beta1)), float(memory_coefficient(beta2))
    for s in [int(q.generate_state(1)[0]) for q in np.random.SeedSequence(seed).spawn(seeds)]:
        rng = np.random.default_rng(s)
        task = regression_task(rng, n_train=n_train)
        arch = Architecture(2, width)
        th0 = arch.init(rng)
        X, y = task.X, task.y

        def norm(th: np.ndarray) -> float:
            g = arch.gradient(th, X, y)
            return float(np.sqrt(g * g + eps).sum())

        m = np.zeros_like(th0)
        v = np.zeros_like(th0)
        th = th0.copy()
        for k in range(1, n + 1):
            g = arch.gradient(th, X, y)
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            th = th - rate * (m / (1 - beta1**k)) / np.sqrt(v / (1 - beta2**k) + eps)
        def plain(_t: float, z: np.ndarray) -> np.ndarray:
            gz = arch.gradient(z, X, y)
            return -gz / np.sqrt(gz * gz + eps)

        sol = solve_ivp(plain, (0.0, n * rate), th0, method="DOP853", rtol=1e-11, atol=1e-13)
        if not sol.success:
            excluded.append(f"seed {s}: the flow failed ({sol.message})")
            continue
        g0 = arch.gradient(th0, X, y)
        R = np.sqrt(g0 * g0 + eps)
        dN = arch.hvp(th0, g0 / R, X, y)
        c = b - r + (r + 0.5) * eps / R**2  # maths.adaptive.one_norm_coefficient, late-training limits, in float64
        predicted = -sign * rate * (n * rate) * float(np.sum(c * dN * dN / R))
        measured = norm(th) - norm(sol.y[:, -1])
        ratios.append(measured / predicted)
        lam = float(np.abs(np.linalg.eigvalsh(arch.hessian(th0, X, y))).max())
        records.append({"seed": s, "measured": measured, "predicted": predicted,
                        "predicted_sign": "penalises" if sign * predicted < 0 else "anti-penalises",
                        "penalising_fraction": float(np.mean(c > 0)), "min_abs_grad": float(np.min(np.abs(g0))),
                        # the expansion parameter: the analysis needs h‖H‖/R_j ≪ 1 for every coordinate
                        "expansion": rate * lam / float(R.min())})
    eff = effect_size(ratios, direction=1, confidence=confidence, seed=seed)
    return OneNormResult(ratios, eff, records, excluded)


__all__ = ["FLOOR_RTOL", "OneNormResult", "global_errors", "n_step_errors", "one_norm_vs_flow", "piecewise_flow"]
