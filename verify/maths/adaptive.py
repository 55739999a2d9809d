"""RMSProp and Adam: the maps, their orbits on the slow manifold, and their first-order modified equation.

Adam with rate h, moment factors β (first) and ρ (second), and ε *inside* the
square root (the convention of Cattaneo, Klusowski & Shigida, ICML 2024,
arXiv:2309.00079, which makes their perturbed one-norm appear):

    m ← βm + (1−β)g,   v ← ρv + (1−ρ)g²,   θ ← θ − h·m̂/√(v̂ + ε),

with g = ∇L(θ) (squares and roots per coordinate), m = v = 0 initially and
the bias corrections m̂ = m/(1−β^{n+1}), v̂ = v/(1−ρ^{n+1}) at step n (count
from 0). RMSProp is β = 0.

Derivation of the modified equation (the first-order term, by matching the
step with the flow as for GD in :mod:`theorycheck.maths.modified`). Let the
iterates lie on a curve y(nh) with ẏ = F₀ + hF₁ + O(h²). The bias-corrected
averages are normalised weighted sums over the history, m̂ = Σ_k w_k g(θ_{n−k}),
w_k ∝ β^k (k = 0..n), and θ_{n−k} = y − khF₀ + O(h²), so

    m̂ = g − h·b_n·HF₀ + O(h²),   b_n = Σ_k k w_k = β/(1−β) − (n+1)β^{n+1}/(1−β^{n+1}),
    v̂ = g² − 2h·r_n·g⊙HF₀ + O(h²),   r_n the same with ρ.

With R = √(g² + ε), N = ‖∇L‖_{1,ε} = Σᵢ Rᵢ and ∇N = H(g/R), the step is
−h g/R − h²(b_n ∇N/R − r_n g²⊙∇N/R³) + O(h³), while the flow moves
hF₀ + h²(F₁ + ½F₀′F₀) with F₀′F₀ = (ε/R³)⊙∇N. Matching h¹ and h²:

    F₀ = −g/R,
    F₁ = −(∇N/R)⊙c,   c_j = b_n − r_n + (r_n + ½)·ε/R_j²,

i.e. θ̇_j = −(1/R_j)[∂_jL + h·c_j·∂_j‖∇L‖_{1,ε}]. Where c_j > 0 the h-term
descends the perturbed one-norm (penalises it, as GD's h/2·H g penalises
‖∇L‖²); where c_j < 0 it climbs it (anti-penalises). For √ε ≪ |g| the sign is
that of β/(1−β) − ρ/(1−ρ) late in training (b_n, r_n → their limits): Adam's
usual ρ > β anti-penalises; a large ε (ε/R² → 1) gives c → b_n + ½ > 0,
GD's sign. At ε → ∞ with ĥ = h/√ε fixed, R → √ε and c_j → b + ½ = (1+β)/(2(1−β)),
so in the time t/√ε the field is −g − ĥ·(1+β)/(2(1−β))·Hg: that of momentum
with dampening β (m is the moving average of the gradients: heavy ball at the
step ĥ(1−β), whose first-order term is (1−β)²·(1+β)/(2(1−β)³) = (1+β)/(2(1−β))
times Hg), which is GD's IGR field −∇(L + (ĥ/4)‖∇L‖²) only for β = 0
(RMSProp, c = ½); the tests check both. Step 0 has b₀ = r₀ = 0: one Euler step of
−g/R. The form is the one Cattaneo et al. state (their abstract: the ODE terms
"either penalize the (perturbed) one-norm of the loss gradients or, conversely,
impede its reduction"); their closed-form coefficients were not checked
against the paper's text.

Late in training (n ≫ 1/(1−max(β, ρ))) the bias corrections are exponentially
close to 1 and (θ, m, v) lie on an attracting slow manifold θ_{n+1} = Ψ_h(θ_n),
like heavy ball's (:mod:`theorycheck.maths.momentum`); :func:`adam_slow_orbit`
places θ₀ on it by shooting, and the derivative-free log(1+Δ) of
:mod:`theorycheck.maths.lie` on that orbit yields the modified field without
any of the algebra above.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from typing import Any, Callable, Sequence

import mpmath
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.fields import Field, H
from theorycheck.maths.losses import Loss
from theorycheck.maths.momentum import _newton, cached_step, transient_steps
from theorycheck.maths.numbers import as_mpf
from theorycheck.maths.optimisers import StepMap


def _rational(x: Any, name: str) -> sp.Rational:
    try:
        r = sp.nsimplify(x, rational=True)
    except (TypeError, ValueError, sp.SympifyError):
        raise InputError(f"`{name}` must be a number, got {x!r}.") from None
    if not r.is_Rational:
        raise InputError(f"`{name}` must be a real number, got {x!r}.")
    return sp.Rational(r)


def validate_hyperparameters(beta1: Any, beta2: Any, eps: Any) -> tuple[sp.Rational, sp.Rational, sp.Rational]:
    """(β, ρ, ε) as exact rationals; 0 ≤ β < 1, 0 ≤ ρ < 1 and ε > 0, else InputError."""
    b, r, e = _rational(beta1, "beta1"), _rational(beta2, "beta2"), _rational(eps, "eps")
    if not 0 <= b < 1:
        raise InputError(f"`beta1` must lie in [0, 1), got {beta1!r}.")
    if not 0 <= r < 1:
        raise InputError(f"`beta2` must lie in [0, 1), got {beta2!r}.")
    if not e > 0:
        raise InputError(f"`eps` must be positive, got {eps!r}.")
    return b, r, e


def memory_coefficient(beta: Any, step: int | None = None) -> sp.Rational:
    """b_n = Σ_k k·w_k, the mean age of the bias-corrected average at step n; ``step=None``: β/(1−β), its limit."""
    b = sp.Rational(_rational(beta, "beta"))
    if step is None:
        return b / (1 - b)
    n = int(step)
    if n < 0:
        raise InputError(f"`step` must be ≥ 0, got {step!r}.")
    if b == 0:
        return sp.Integer(0)
    return b / (1 - b) - (n + 1) * b ** (n + 1) / (1 - b ** (n + 1))


def one_norm_coefficient(beta1: Any, beta2: Any, eps: Any, grad_component: Any, step: int | None = None,
                         bias_correction: bool = True, half: Any = Fraction(1, 2)) -> Any:
    """c_j = b_n − r_n + (r_n + ½)ε/(g_j² + ε): the weight of ∂_j‖∇L‖_{1,ε} in F₁ (module docstring).

    Positive: the h-term penalises the perturbed one-norm; negative: it anti-penalises it.
    ``bias_correction=False`` uses the late-training limits at every step.
    """
    b, r, e = validate_hyperparameters(beta1, beta2, eps)
    n = step if bias_correction else None
    bn, rn = memory_coefficient(b, n), memory_coefficient(r, n)
    return bn - rn + (rn + sp.nsimplify(half)) * e / (sp.nsimplify(grad_component) ** 2 + e)


def adam_field(loss: Loss, beta1: Any, beta2: Any, eps: Any, order: int = 1, *, step: int | None = None,
               bias_correction: bool = True, scale: Any = 1, sign: int = 1, half: Any = Fraction(1, 2)) -> Field:
    """Adam's modified field F₀ + h·F₁ (``order=1``) or F₀ (``order=0``), at step ``step`` (None: late training).

    The published form has ``scale=1``, ``sign=1``, ``half=1/2`` and, at a finite
    ``step``, ``bias_correction=True``; the others are mutants (a wrong coefficient,
    a wrong sign, a dropped bias correction, a wrong Euler term).
    """
    if order not in (0, 1):
        raise InputError(f"`order` must be 0 or 1, got {order!r}.")
    b, r, e = validate_hyperparameters(beta1, beta2, eps)
    return _adam_field(loss, b, r, e, order, step if bias_correction else None, sp.nsimplify(scale), int(sign),
                       sp.nsimplify(half))


@lru_cache(maxsize=None)
def _adam_field(loss: Loss, b: sp.Rational, r: sp.Rational, e: sp.Rational, order: int, step: int | None,
                scale: sp.Expr, sign: int, half: sp.Expr) -> Field:
    g = list(loss.gradient)
    R = [sp.sqrt(gi**2 + e) for gi in g]
    comps = [-gi / Ri for gi, Ri in zip(g, R)]
    if order == 1:
        bn, rn = memory_coefficient(b, step), memory_coefficient(r, step)
        N = sp.Add(*R)
        for j, x in enumerate(loss.variables):
            c = bn - rn + (rn + half) * e / R[j] ** 2
            comps[j] = comps[j] - sign * scale * H * c * sp.diff(N, x) / R[j]
    meta = {"beta1": str(b), "beta2": str(r), "eps": str(e), "step": step, "order": order}
    name = f"adam(β={b}, ρ={r}, ε={e}{'' if step is None else f', n={step}'}):{order}"
    return Field(loss.variables, tuple(comps), name=name, meta=meta)


# ----------------------------------------------------------------------------- the maps


def _mp(x: Any) -> Any:
    q = sp.Rational(x)
    return mpmath.mpf(int(q.p)) / int(q.q)


def adam_run(loss: Loss, theta0: Sequence[Any], h: Any, n: int, beta1: Any, beta2: Any, eps: Any, *,
             bias_correction: bool = True, state: tuple[list[Any], list[Any]] | None = None,
             start_step: int = 0) -> tuple[list[list[Any]], tuple[list[Any], list[Any]]]:
    """θ₀ … θ_n of Adam from (θ₀, m, v) (``state``; default m = v = 0) and the final (m, v), in mpmath.

    Bias corrections 1 − β^{k+1}, 1 − ρ^{k+1} use the step count k = ``start_step`` + i;
    ``bias_correction=False`` leaves m and v uncorrected (the late-training map).
    """
    b, r, e = (_mp(x) for x in validate_hyperparameters(beta1, beta2, eps))
    hh = as_mpf(h, "h")
    th = [as_mpf(x, "theta0") for x in theta0]
    m, v = (list(state[0]), list(state[1])) if state is not None else ([mpmath.mpf(0)] * len(th),
                                                                       [mpmath.mpf(0)] * len(th))
    grad = loss.gradient_mpmath
    path = [th]
    for i in range(n):
        g = grad(th)
        m = [b * mi + (1 - b) * gi for mi, gi in zip(m, g)]
        v = [r * vi + (1 - r) * gi * gi for vi, gi in zip(v, g)]
        k = start_step + i + 1
        cm = 1 - b**k if bias_correction else 1
        cv = 1 - r**k if bias_correction else 1
        th = [t - hh * (mi / cm) / mpmath.sqrt(vi / cv + e) for t, mi, vi in zip(th, m, v)]
        path.append(th)
    return path, (m, v)


def adam_orbit(loss: Loss, beta1: Any, beta2: Any, eps: Any, theta0: Sequence[Any], h: Any, n: int,
               bias_correction: bool = True) -> list[list[Any]]:
    """θ₀ … θ_n of Adam from its initialisation m = v = 0 (the early stage, where bias correction matters)."""
    return adam_run(loss, theta0, h, n, beta1, beta2, eps, bias_correction=bias_correction)[0]


def fast_steps(beta1: Any, beta2: Any, digits: int) -> int:
    """Steps after which the fast modes β^n, ρ^n of the moments are below 10^{−digits}."""
    top = max(float(beta1), float(beta2))
    return 2 if top == 0 else transient_steps(top, digits)


def adam_slow_orbit(loss: Loss, beta1: Any, beta2: Any, eps: Any, theta0: Sequence[Any], h: Any, n: int, *,
                    transient_digits: int = 14) -> list[list[Any]]:
    """θ₀ … θ_n of late-training Adam *on the slow manifold through θ₀*, at the caller's ``mpmath.mp.dps``.

    Shooting as for heavy ball: Newton on the start θ_s of a run from (θ_s, m = g, v = g²) without bias
    correction that reaches θ₀ after N = :func:`fast_steps` steps, so the fast modes left at θ₀ are below
    10^{−transient_digits}; then n more steps. Keep N·h of order one.
    """
    N = fast_steps(beta1, beta2, transient_digits)
    th0 = [as_mpf(x, "theta0") for x in theta0]
    grad = loss.gradient_mpmath

    def run(start: list[Any], steps: int) -> list[list[Any]]:
        g: list[Any] = list(grad(start))
        return adam_run(loss, start, h, steps, beta1, beta2, eps, bias_correction=False,
                        state=(list(g), [gi * gi for gi in g]))[0]

    def miss(*start: Any) -> list[Any]:
        end = run(list(start), N)[-1]
        return [a - t for a, t in zip(end, th0)]

    # the shooting needs digits beyond the fast-mode residual whatever the caller's precision
    dps = max(int(mpmath.mp.dps), transient_digits + 12)
    with mpmath.workdps(dps + 5):
        start = _newton(miss, th0, dps - 5, what=f"Adam (β={beta1}, ρ={beta2}, ε={eps})")
        return [list(p) for p in run(start, N + n)[N:]]


def adam_slow_map(loss: Loss, beta1: Any, beta2: Any, eps: Any) -> StepMap:
    """Ψ_h: θ ↦ the next late-training Adam iterate on the slow manifold through θ (a StepMap)."""
    return cached_step(lambda theta, h: adam_slow_orbit(loss, beta1, beta2, eps, theta, h, 1)[1])


def one_norm_gradient(loss: Loss, theta: Sequence[Any], eps: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """(g, R, ∇N) at θ in mpmath at the current precision: g = ∇L, R_j = √(g_j² + ε), ∇N = H(g/R) the gradient of
    the perturbed one-norm N = ‖∇L‖_{1,ε} = Σ_j R_j."""
    e = _mp(_rational(eps, "eps"))
    th = [as_mpf(x, "theta") for x in theta]
    g: list[Any] = list(loss.gradient_mpmath(th))
    R = [mpmath.sqrt(gi * gi + e) for gi in g]
    Hm = mpmath.matrix(sp.lambdify(loss.variables, loss.hessian, modules="mpmath")(*th))
    dN = [sum(Hm[i, j] * g[i] / R[i] for i in range(len(th))) for j in range(len(th))]
    return g, R, dN


def measured_coefficients(orbit_of: Callable[[Any], list[list[Any]]], loss: Loss, eps: Any,
                          theta0: Sequence[Any], hs: Sequence[Any]) -> list[Any]:
    """c_j measured without derivatives of the map: from log(1+Δ) on orbits at three step sizes, extrapolated.

    For each h, f̃ = (1/h)(Δ − Δ²/2 + Δ³/3)θ₀ (:mod:`theorycheck.maths.lie`, error O(h³)) gives
    c_j(h) = −(f̃_j R_j + ∂_jL)/(h ∂_j‖∇L‖_{1,ε}) = c_j + a₁h + a₂h² + O(h³); with ``hs`` = (h, h/2, h/4)
    Richardson's (8c(h/4) − 6c(h/2) + c(h))/3 removes a₁ and a₂.
    ``orbit_of(h)`` returns θ₀ … θ₃ at step h (the same θ₀ for every h).
    """
    from theorycheck.maths.lie import log_series_from_orbit

    th = [as_mpf(x, "theta0") for x in theta0]
    g, R, dN = one_norm_gradient(loss, th, eps)
    est = []
    for h in hs:
        hh = as_mpf(h, "h")
        f = log_series_from_orbit(orbit_of(h), hh, 3)
        est.append([-(fj * Rj + gj) / (hh * dj) for fj, Rj, gj, dj in zip(f, R, g, dN)])
    if len(hs) != 3 or any(as_mpf(hs[i], "h") != 2 * as_mpf(hs[i + 1], "h") for i in range(2)):
        raise InputError(f"`hs` must be three step sizes, each half the one before, got {list(hs)!r}.")
    return [(8 * c - 6 * b + a) / 3 for a, b, c in zip(*est)]


__all__ = [
    "adam_field", "adam_orbit", "adam_run", "adam_slow_map", "adam_slow_orbit", "fast_steps",
    "measured_coefficients", "memory_coefficient", "one_norm_coefficient", "one_norm_gradient",
    "validate_hyperparameters",
]
