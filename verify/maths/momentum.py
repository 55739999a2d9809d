"""Heavy-ball momentum: its modified equation on the slow manifold, and the map that lives there.

Heavy-ball momentum θ_{n+1} = θ_n − h∇L(θ_n) + β(θ_n − θ_{n−1}) (the same
θ-sequence as v ← βv + ∇L, θ ← θ − hv) is not a near-identity map on (θ, v):
the velocity decays by β per step. Its iterates approach an attracting
invariant ("slow") manifold on which θ_{n+1} = Ψ_h(θ_n) for a near-identity
Ψ_h (Kovachki & Stuart, JMLR 22, 2021, Sec. 3). *What is claimed and measured
is the modified equation of Ψ_h, i.e. of the θ-component on that manifold* —
transients from an arbitrary (θ₀, v₀) decay like βⁿ and are not described by
any flow.

Its modified field follows from the two-step form with θ_n = y(nh),
y(t ± h) = exp(±h L_F) y:

    Σ_{m≥1} (h^m/m!) (1 + β(−1)^m) L_F^{m−1} F = −h g,
    F₀ = −g/(1−β),  F_n = −1/(1−β) Σ_{m=2}^{n+1} (1 + β(−1)^m)/m! [h^{n+1−m}] L_F^{m−1} F,

(the underlying one-step method of a two-step scheme; Hairer, Lubich &
Wanner, GNI, ch. XV.2). In particular F₁ = −(1+β)/(2(1−β)³) H g, i.e.

    ẏ = −(1/(1−β)) ∇[ L + h(1+β)/(4(1−β)²) ‖∇L‖² ],

whose regulariser is (1+β)/(1−β) times that of GD with the effective rate
h/(1−β) — the factor of Ghosh, Lyu, Zhang & Wang (ICLR 2023,
arXiv:2302.00849, abstract and main theorem; theorem number not checked
against the paper). β = 0 must reproduce GD's Taylor-matched terms exactly.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any, Callable, Sequence

import mpmath
import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.fields import Field, H
from theorycheck.maths.losses import Loss
from theorycheck.maths.numbers import as_mpf
from theorycheck.maths.optimisers import StepMap


def _lie(u: list[sp.Expr], F: list[sp.Expr], xs: Sequence[sp.Symbol]) -> list[sp.Expr]:
    return [sum(sp.diff(ui, x) * Fj for x, Fj in zip(xs, F)) for ui in u]


def heavy_ball_terms(loss: Loss, beta: Any, k: int) -> list[list[sp.Expr]]:
    """[F₀, …, F_k] of heavy-ball's modified field on the slow manifold (module docstring recursion).

    ``beta`` may be a number (kept exact if rational) or a sympy symbol.
    """
    if not 0 <= k <= 4:
        raise InputError(f"order must be between 0 and 4, got {k!r}.")
    return [list(t) for t in _hb_terms(loss, sp.nsimplify(beta), k)]


@lru_cache(maxsize=None)
def _hb_terms(loss: Loss, beta: sp.Expr, k: int) -> tuple[tuple[sp.Expr, ...], ...]:
    xs, d = loss.variables, loss.dim
    g = list(loss.gradient)
    F: list[list[sp.Expr]] = [[-gi / (1 - beta) for gi in g]]
    memo: dict[tuple[int, int], list[sp.Expr]] = {}

    def power(m: int, j: int) -> list[sp.Expr]:
        # [h^j] L_F^m F, needs F_0..F_j only
        if m == 0:
            return F[j]
        if (m, j) not in memo:
            acc = [sp.S.Zero] * d
            for a in range(j + 1):
                acc = [x + y for x, y in zip(acc, _lie(power(m - 1, a), F[j - a], xs))]
            memo[(m, j)] = acc
        return memo[(m, j)]

    for n in range(1, k + 1):
        Fn = [sp.S.Zero] * d
        for m in range(2, n + 2):
            c = (1 + beta * (-1) ** m) / sp.factorial(m)
            Fn = [x + c * y for x, y in zip(Fn, power(m - 1, n + 1 - m))]
        F.append([sp.together(-x / (1 - beta)) for x in Fn])
    return tuple(tuple(t) for t in F)


def heavy_ball_field(loss: Loss, beta: Any, order: int = 1) -> Field:
    """Σ_{j≤order} h^j F_j for heavy ball with momentum β (cached per loss/β/order)."""
    return _hb_field(loss, sp.nsimplify(beta), int(order))


@lru_cache(maxsize=None)
def _hb_field(loss: Loss, beta: sp.Expr, order: int) -> Field:
    terms = heavy_ball_terms(loss, beta, order)
    comps = tuple(sp.Add(*[H**j * t[i] for j, t in enumerate(terms)]) for i in range(loss.dim))
    return Field(loss.variables, comps, name=f"heavy-ball(beta={beta}):{order}", meta={"beta": str(beta), "order": order})


def ghosh_field(loss: Loss, beta: Any, factor: Any | None = None) -> Field:
    """The first-order closed form ẏ = −(1/(1−β))∇[L + κ·h/(4(1−β))‖∇L‖²], κ = (1+β)/(1−β) (Ghosh et al. 2023).

    κ is the published amplification of GD's implicit regulariser (GD with the
    effective rate h/(1−β) has κ = 1); ``factor`` replaces κ for mutants.
    """
    b = sp.nsimplify(beta)
    kappa = (1 + b) / (1 - b) if factor is None else sp.nsimplify(factor)
    g = loss.gradient
    reg = kappa * H / (4 * (1 - b)) * sum(gi**2 for gi in g)
    comps = tuple(-(gi + sp.diff(reg, x)) / (1 - b) for gi, x in zip(g, loss.variables))
    return Field(loss.variables, comps, name=f"ghosh(beta={b}, kappa={kappa})", meta={"beta": str(b), "kappa": str(kappa)})


def regulariser_factor(beta: Any, lookahead: Any = 0) -> sp.Expr:
    """κ_σ = (1 + β − 2σβ(1 − β))/(1 − β): the first-order factor of the momentum family with look-ahead σ.

    The family θ_{n+1} = θ_n + β(θ_n − θ_{n−1}) − h∇L(θ_n + σβ(θ_n − θ_{n−1})) is heavy ball at σ = 0 and
    Nesterov's method at σ = 1. Derivation (ours, by the two-step matching of the module docstring): with
    θ_n = y(nh), y(t ± h) = exp(±hL_F)y, the left side is Σ_m (h^m/m!)(1 + β(−1)^m)L_F^{m−1}F as for heavy ball,
    and the look-ahead point is y + σβ(hF + O(h²)), so the right side is −hg − h²σβHF₀ + O(h³). Matching h¹
    gives F₀ = −g/(1 − β); matching h², (1 − β)F₁ + ((1 + β)/2)F₀′F₀ = −σβHF₀, i.e.

        F₁ = −(1 + β − 2σβ(1 − β))/(2(1 − β)³) Hg = −(κ_σ/(2(1 − β)²)) Hg,

    so ẏ = −(1/(1 − β))∇[L + κ_σ·h/(4(1 − β))‖∇L‖²] (:func:`ghosh_field` with ``factor`` κ_σ). For Nesterov
    κ₁ = (1 − β + 2β²)/(1 − β): a weaker regulariser than heavy ball's (1 + β)/(1 − β) for every β ∈ (0, 1).
    """
    b, s = sp.nsimplify(beta), sp.nsimplify(lookahead)
    return (1 + b - 2 * s * b * (1 - b)) / (1 - b)


def nesterov_field(loss: Loss, beta: Any, factor: Any | None = None) -> Field:
    """Nesterov's first-order modified flow −(1/(1−β))∇[L + κ₁h/(4(1−β))‖∇L‖²], κ₁ = :func:`regulariser_factor`
    (β, 1); ``factor`` replaces κ₁ for mutants."""
    return ghosh_field(loss, beta, regulariser_factor(beta, 1) if factor is None else factor)


def dampened_terms(loss: Loss, beta: Any, dampening: Any, k: int) -> list[list[sp.Expr]]:
    """[F₀, …, F_k] of momentum with dampening τ, v ← βv + (1−τ)∇L, θ ← θ − hv: (1 − τ)^{j+1} times heavy ball's F_j.

    With w = v/(1 − τ) the rule is heavy ball with the step h(1 − τ), whose iterates follow y(n·h(1 − τ)); in the
    time nh the field is (1 − τ)·Σ_j (h(1 − τ))^j F_j^{HB}.
    """
    t = sp.nsimplify(dampening)
    return [[(1 - t) ** (j + 1) * c for c in F] for j, F in enumerate(heavy_ball_terms(loss, beta, k))]


def transient_steps(beta: float, digits: int) -> int:
    """Steps after which the fast mode βⁿ has decayed below 10^{−digits}."""
    b = float(beta)
    if not 0 < b < 1:
        raise InputError(f"`beta` must lie in (0, 1), got {beta!r}.")
    return int(math.ceil(digits * math.log(10) / -math.log(b))) + 2


def heavy_ball_orbit(loss: Loss, beta: Any, theta0: Sequence[Any], h: Any, n: int,
                     digits: int | None = None) -> list[list[Any]]:
    """θ₀, θ₁, …, θ_n of heavy ball *on the slow manifold through θ₀* (mpmath at ``digits``).

    Found by shooting: Newton (mpmath.findroot) on the start point θ_s of a run
    from (θ_s, v = −h∇L(θ_s)/(1−β)) that reaches θ₀ after N = :func:`transient_steps`
    steps, so the fast mode left at θ₀ is below 10^{−digits}; then n more steps.
    The start lies a time ≈ N·h/(1−β) upstream of θ₀, so keep N·h of order one
    (the map θ_s ↦ θ₀ contracts like e^{−λNh/(1−β)} and Newton must invert it).
    ``digits=None`` uses the caller's precision (``mpmath.mp.dps``).

    The manifold exists (real, attracting) only while the θ-recursion's
    characteristic roots are real, i.e. h·λ < (1 − √β)² for every Hessian
    eigenvalue λ along the way (:func:`slow_manifold_limit`); beyond it the
    iterates spiral and no real modified flow describes them.
    """
    return periodic_slow_orbit([loss.gradient_mpmath], beta, theta0, h, n, digits)


def periodic_slow_orbit(gradients: Sequence[Callable[[Sequence[Any]], Sequence[Any]]], beta: Any,
                        theta0: Sequence[Any], h: Any, n: int, digits: int | None = None,
                        history: Sequence[Callable[[Sequence[Any]], Sequence[Any]]] = ()) -> list[list[Any]]:
    """θ₀ … θ_n of heavy ball whose step k uses ``gradients[k mod p]``, on the p-periodic slow manifold through θ₀.

    v ← βv + ∇L̂_{k mod p}(θ), θ ← θ − hv: with a cyclic schedule of p
    mini-batch gradients the p-step map on (θ, v) has an attracting slow
    manifold (its fast modes decay like β^p per cycle), and θ₀ is placed on it
    at phase 0 by the shooting of :func:`heavy_ball_orbit`, with the transient
    N rounded up to whole cycles so the schedule ends its last cycle at θ₀.
    ``p = 1`` is full-batch heavy ball. ``history`` (oldest first) replaces the
    cycle in the steps just before θ₀, e.g. the previous epochs of a reshuffled
    schedule; the n steps after θ₀ follow the cycle from its phase 0.
    """
    p = len(gradients)
    if p < 1:
        raise InputError("at least one gradient is needed.")
    digits = int(mpmath.mp.dps) if digits is None else int(digits)
    with mpmath.workdps(digits + 10):
        bq = sp.nsimplify(beta)
        b = mpmath.mpf(bq.p) / bq.q if bq.is_Rational else mpmath.mpf(beta)
        hh = as_mpf(h, "h")
        th0 = [as_mpf(x, "theta0") for x in theta0]
        N = p * math.ceil(max(transient_steps(float(b), digits + 5), len(history)) / p)
        first_history = N - len(history)

        def gradient_at(k: int) -> Callable[[Sequence[Any]], Sequence[Any]]:
            return history[k - first_history] if first_history <= k < N else gradients[k % p]

        def mean_gradient(th: list[Any]) -> list[Any]:
            gs = [grad(th) for grad in gradients]
            return [sum(col) / p for col in zip(*gs)]

        def run(start: list[Any], steps: int) -> list[list[Any]]:
            # start with the leading slow velocity −h ḡ/(1−β): the fast mode starts small (O(h²) for a full batch)
            cur = list(start)
            prev = [c + hh * gi / (1 - b) for c, gi in zip(cur, mean_gradient(cur))]
            path = [cur]
            for k in range(steps):
                g = gradient_at(k)(cur)
                nxt = [c - hh * gi + b * (c - q) for c, gi, q in zip(cur, g, prev)]
                prev, cur = cur, nxt
                path.append(cur)
            return path

        def miss(*start: Any) -> list[Any]:
            end = run(list(start), N)[-1]
            return [e - t for e, t in zip(end, th0)]

        start = _newton(miss, th0, digits, what="heavy ball (β = " + str(bq) + ")")
        return [list(q) for q in run(start, N + n)[N:]]


def _newton(miss: Callable[..., list[Any]], th0: list[Any], digits: int, max_iter: int = 40,
            what: str = "heavy ball", guess: Sequence[Any] | None = None) -> list[Any]:
    """Solve miss(θ_s) = 0 by Newton with a forward-difference Jacobian (step 10^{−(dps/2)}) and step halving.

    The first guess is ``guess`` or else θ₀ minus the drift of a run started at θ₀ (a fixed-point step). ``what``
    names the optimiser whose slow manifold θ₀ is placed on, for the message when Newton does not converge.
    """
    d = len(th0)
    if guess is not None:
        x = list(guess)
    else:
        # first guess: undo the forward drift of a run started at θ₀ itself (forward runs only:
        # walking upstream by gradient ascent blows up on non-convex losses such as Rosenbrock)
        drift = miss(*th0)
        x = [t - r for t, r in zip(th0, drift)]
    tol = mpmath.mpf(10) ** (-digits - 3)
    eps = mpmath.mpf(10) ** (-(mpmath.mp.dps // 2))
    r = miss(*x)
    J = None
    for it in range(max_iter):
        nr = mpmath.norm(mpmath.matrix(r))
        if nr < tol:
            return x
        if it < 2 or it % 4 == 0:
            # Shamanskii variant: the Jacobian barely changes once near the root, so reuse it
            J = mpmath.matrix(d, d)
            for j in range(d):
                xp = list(x)
                xp[j] += eps
                rp = miss(*xp)
                for i in range(d):
                    J[i, j] = (rp[i] - r[i]) / eps
        dx = mpmath.lu_solve(J, mpmath.matrix(r))
        lam = mpmath.mpf(1)
        while True:
            xn = [xi - lam * dx[i] for i, xi in enumerate(x)]
            rn = miss(*xn)
            if mpmath.norm(mpmath.matrix(rn)) < nr or lam < mpmath.mpf(2) ** -20:
                break
            lam /= 2
        x, r = xn, rn
    raise InputError(f"could not place θ₀ on the slow manifold of {what} (residual {mpmath.nstr(nr, 3)} after "
                     f"{max_iter} Newton steps): the run from upstream that must end at θ₀ is too long or too stiff "
                     "at this step size; try smaller steps or more digits (`order --steps`, `--digits`).")


def slow_manifold_limit(beta: Any) -> float:
    """(1 − √β)²: the largest h·λ for which z² − (1 + β − hλ)z + β has real roots (a real slow mode)."""
    return (1.0 - math.sqrt(float(beta))) ** 2


def cached_step(next_point: Callable[[Sequence[Any], Any], list[Any]]) -> StepMap:
    """A StepMap that remembers ``next_point(θ, h)`` per (precision, h, θ): shootings are shared across studies."""
    cache: dict[tuple[str, ...], list[Any]] = {}

    def step(theta: Sequence[Any], h: Any) -> list[Any]:
        # the shooting is the expensive part; studies against several fields share it
        key = (str(mpmath.mp.dps), str(h), *map(str, theta))
        if key not in cache:
            if len(cache) > 256:
                cache.clear()
            cache[key] = next_point(theta, h)
        return list(cache[key])

    return step


def heavy_ball_slow_map(loss: Loss, beta: Any, digits: int | None = None) -> StepMap:
    """Ψ_h: θ ↦ the next heavy-ball iterate on the slow manifold through θ (a StepMap)."""
    return cached_step(lambda theta, h: heavy_ball_orbit(loss, beta, theta, h, 1, digits)[1])


__all__ = [
    "cached_step", "dampened_terms", "ghosh_field", "heavy_ball_field", "heavy_ball_orbit", "heavy_ball_slow_map",
    "heavy_ball_terms", "nesterov_field", "periodic_slow_orbit", "regulariser_factor", "slow_manifold_limit",
    "transient_steps",
]
