"""Mini-batch heavy-ball momentum (SGD+M): its modified loss over batch orderings, derived here.

SGD+M takes the steps v ← βv + ∇L̂_{a_k}(θ), θ ← θ − hv through m
mini-batches L̂₀ … L̂_{m−1} (L = (1/m) Σ_a L̂_a). With the batches visited in
the *same* order σ every epoch (a cyclic schedule: shuffle once), the epoch map
on (θ, v) has an attracting slow manifold, and on it θ moves by a near-identity
epoch map Ψ_σ (:func:`~theorycheck.maths.momentum.periodic_slow_orbit`). The
mean of Ψ_σ over all m! orderings follows, to local order 3 in the epoch time
T = m·h, the flow of

    ẏ = −(1/(1−β)) ∇L̃,   L̃ = L + h/(4(1−β)) [ κ ‖∇L‖² + ρ_m(β) V ],

    κ = (1+β)/(1−β),   V = (1/m) Σ_a ‖∇L̂_a − ∇L‖²,
    ρ_m(β) = [ (1+β) − (2mβ/(m−1)) (1−β^{m−1})/(1−β^m) ] / (1−β).

Derivation (ours). On the slow manifold v_{k+1} = Σ_{j≥0} β^j ∇L̂_{a_{k−j}}(θ_{k−j})
with a periodic past. Expanding every gradient about θ₀ to first order, the
epoch displacement is −(T/(1−β))∇L plus h² Σ_{p,q} W_{pq} H_{a_p} ∇L̂_{a_q},
with explicit geometric weights W over step p (where the Hessian is taken)
and step q (whose gradient moved θ). Averaged over σ, a pair of steps in the
same position of the cycle (p ≡ q mod m) gives (1/m)Σ_a H_a∇L̂_a = ∇R with
R = (1/2m)Σ_a‖∇L̂_a‖², any other pair (m²H̄∇L − mΣ_a H_a∇L̂_a)/(m(m−1)); the sums
of W over the two classes are rational in β and give κ and ρ_m after
subtracting the flow's own second-order term (T²/2)(∇F₀)F₀. Checks of the
closed form: with one batch (V = 0) it is the full-batch heavy-ball loss
L + h(1+β)/(4(1−β)²)‖∇L‖² of Ghosh, Lyu, Zhang & Wang (ICLR 2023,
arXiv:2302.00849; see :func:`~theorycheck.maths.momentum.ghosh_field`); at
β = 0, ρ_m = 1 and L̃ is Smith et al.'s L + (h/4m)Σ_a‖∇L̂_a‖² (ICLR 2021,
arXiv:2101.12176). Only the full-batch part is amplified by κ: the batch-noise
part has 0 < ρ_m(β) < 1 for 0 < β < 1 (ρ₂ = (1−β)/(1+β); ρ_m → 1 as m → ∞),
so the natural reading
"SGD+M's regulariser is κ times SGD's" is not what the expansion gives.
Ghosh et al. state their SGD+M result pointwise along the trajectory; that
statement is not checked against the paper here. Random reshuffling (a
fresh order every epoch, so the velocity at an epoch's start remembers other
orders) has the same κ and another factor, :func:`reshuffle_noise_factor`,
checked through :func:`reshuffled_epoch_mean_map`.

Step maps follow the contract of ``theorycheck.maths.optimisers``:
``(theta, T) -> theta`` with T = m·h the epoch time, which the step symbol
:data:`~theorycheck.maths.fields.H` of the modified field stands for.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Any, Sequence

import sympy as sp

from theorycheck.core.errors import InputError
from theorycheck.maths.fields import Field, H
from theorycheck.maths.losses import Loss
from theorycheck.maths.momentum import cached_step, periodic_slow_orbit
from theorycheck.maths.numbers import as_mpf
from theorycheck.maths.optimisers import StepMap, mean_map
from theorycheck.maths.sgd_modified import Batches

#: The most batches whose m! cyclic orderings are averaged exactly.
MAX_BATCHES = 5


def _beta(beta: Any) -> sp.Expr:
    b = sp.nsimplify(beta)
    if b.is_number and not 0 <= b < 1:
        raise InputError(f"`beta` must lie in [0, 1), got {beta!r}.")
    return b


def _batch_count(m: Any) -> int:
    if int(m) != m or m < 1:
        raise InputError(f"the number of batches must be a positive integer, got {m!r}.")
    return int(m)


def amplification(beta: Any) -> sp.Expr:
    """κ = (1+β)/(1−β): the factor of the full-batch part of the regulariser (Ghosh et al. 2023)."""
    b = _beta(beta)
    return (1 + b) / (1 - b)


def noise_factor(beta: Any, m: int) -> sp.Expr:
    """ρ_m(β) = [(1+β) − (2mβ/(m−1))(1−β^{m−1})/(1−β^m)]/(1−β), the factor of the batch-noise part (derived).

    Exact (a sympy rational for rational β); ρ_m(0) = 1 (SGD) and ρ_m → 1 as m → ∞.
    For m = 1 there is no noise term and the factor is returned as 1.
    """
    b, m = _beta(beta), _batch_count(m)
    if m == 1:
        return sp.S.One
    return sp.simplify(((1 + b) - 2 * m * b / (m - 1) * (1 - b ** (m - 1)) / (1 - b**m)) / (1 - b))


def reshuffle_noise_factor(beta: Any, m: int) -> sp.Expr:
    """ρ_m^{rr}(β): the batch-noise factor when every epoch draws a fresh order (random reshuffling), derived.

    The same second-order expansion as :func:`noise_factor`, with the pair
    statistics of independent epochs: two uses of one step's batch average to
    ∇R, two steps of the same epoch to (m²H̄∇L − mΣ_a H_a∇L̂_a)/(m(m−1)), and
    steps of different epochs to H̄∇L (no noise term). With k = −p the steps
    before the epoch, the weight of the first class is
    W₁ = −β(1−β^m)/((1−β)²(1−β²)); that of the second, W₂, is a finite sum over
    the current epoch plus, for the past ones, geometric series in β^m and
    β^{2m} summed exactly here. Then ρ = −2(1−β)²(W₁ − W₂/(m−1))/m; for m = 2,
    ρ₂^{rr} = (1−β)(1+β³)/(1+β²). ρ^{rr}(0) = 1 (SGD).
    """
    b, m = _beta(beta), _batch_count(m)
    return sp.factor(_reshuffle_factor(m).subs(_BETA, b))


_BETA = sp.Symbol("beta", positive=True)


@lru_cache(maxsize=None)
def _reshuffle_factor(m: int) -> sp.Expr:
    # built for a symbolic β and substituted afterwards: the sums carry β^{−s}, whose products are regular at 0
    if m == 1:
        return sp.S.One
    b = _BETA
    same = -b * (1 - b**m) / ((1 - b) ** 2 * (1 - b**2))
    other = sp.S.Zero
    for p in range(m):  # the current epoch: Hessian at step p, gradient of an earlier step q of it
        weight = sum(b ** (n - p) for n in range(p, m))
        other += sum(weight * (1 - b ** (p - q)) / (1 - b) for q in range(p))
    # a past epoch E ≥ 1 back, steps s (Hessian) and t (gradient): the term is c₁ x^E + c₂ x^{2E}, x = β^m,
    # from Σ_n β^{n−p} = β^{Em−s}(1−β^m)/(1−β) times Σ_{i=max(s,t)−Em}^{−1} β^{i−q} = (β^{max−t} − β^{Em−t})/(1−β)
    x = b**m
    for s_ in range(m):
        for t in range(m):
            if s_ != t:
                front = -b ** (-s_) * (1 - b**m) / (1 - b) ** 2
                other += front * (b ** (max(s_, t) - t) * x / (1 - x) - b ** (-t) * x**2 / (1 - x**2))
    return sp.factor(sp.simplify(-2 * (1 - b) ** 2 * (same - other / (m - 1)) / m))


def batch_noise(batches: Batches) -> sp.Expr:
    """V = (1/m) Σ_a ‖∇L̂_a − ∇L‖² as a sympy expression."""
    g = batches.loss.gradient
    return sp.Add(*[sum((ga - gi) ** 2 for ga, gi in zip(b.gradient, g)) for b in batches.batch_losses]) / batches.m


def sgd_momentum_modified_loss(batches: Batches, beta: Any, full_factor: Any = None, noise: Any = None) -> Loss:
    """L̃ = L + h/(4(1−β))·[κ‖∇L‖² + ρ V] with h = T/m (T the epoch time, the step symbol H).

    ``full_factor`` replaces κ = (1+β)/(1−β) and ``noise`` replaces ρ_m(β) (mutants);
    ``noise="amplified"`` uses ρ = κ, the extrapolation that the whole SGD regulariser is amplified.
    """
    b = _beta(beta)
    kappa = amplification(b) if full_factor is None else sp.nsimplify(full_factor)
    if noise is None:
        rho = noise_factor(b, batches.m)
    elif noise == "amplified":
        rho = amplification(b)
    else:
        rho = sp.nsimplify(noise)
    g = batches.loss.gradient
    h = H / batches.m
    expr = batches.loss.expr + h / (4 * (1 - b)) * (kappa * sum(gi**2 for gi in g) + rho * batch_noise(batches))
    return Loss(f"sgdm_modified(beta={b},kappa={kappa},rho={rho})", expr, batches.variables)


def sgd_momentum_modified_field(batches: Batches, beta: Any, full_factor: Any = None, noise: Any = None) -> Field:
    """ẏ = −(1/(1−β))∇L̃ (step symbol H = epoch time T)."""
    b = _beta(beta)
    lt = sgd_momentum_modified_loss(batches, b, full_factor, noise)
    return Field(batches.variables, tuple(-gi / (1 - b) for gi in lt.gradient), name=lt.name,
                 meta={"m": batches.m, "beta": str(b)})


def rescaled_flow(batches: Batches, beta: Any) -> Field:
    """ẏ = −∇L/(1−β): the h → 0 limit of SGD+M."""
    b = _beta(beta)
    return Field(batches.variables, tuple(-gi / (1 - b) for gi in batches.loss.gradient),
                 name=f"rescaled-flow(beta={b})", meta={"beta": str(b)})


def cyclic_epoch_map(batches: Batches, beta: Any, ordering: Sequence[int], digits: int | None = None) -> StepMap:
    """Ψ_σ: one epoch of SGD+M in the fixed order σ, on the slow manifold of that cyclic schedule (h = T/m)."""
    order = tuple(int(k) for k in ordering)
    if sorted(order) != list(range(batches.m)):
        raise InputError(f"`ordering` must be a permutation of 0..{batches.m - 1}, got {list(order)}.")
    grads = [lambda th, k=k: batches.batch_gradient(k, th) for k in order]
    b = _beta(beta)

    def next_epoch(theta: Sequence[Any], T: Any) -> list[Any]:
        return periodic_slow_orbit(grads, b, theta, as_mpf(T) / batches.m, batches.m, digits)[-1]

    return cached_step(next_epoch)


def cyclic_epoch_mean_map(batches: Batches, beta: Any, digits: int | None = None) -> StepMap:
    """The mean of Ψ_σ over all m! orderings σ, exactly (m ≤ :data:`MAX_BATCHES`)."""
    m = batches.m
    if m > MAX_BATCHES:
        raise InputError(f"exact averaging over {m}! cyclic orderings is too costly (at most {MAX_BATCHES} batches).")
    return mean_map([cyclic_epoch_map(batches, beta, o, digits) for o in itertools.permutations(range(m))])


def orthogonal_epoch_orders(epochs: int) -> list[tuple[tuple[int, ...], ...]]:
    """Sequences of ``epochs`` two-batch epoch orders (oldest first) with the pair statistics of random reshuffling.

    The rows of a Sylvester–Hadamard matrix (``scipy.linalg.hadamard``) without
    its constant column form a strength-2 orthogonal array: each epoch takes
    both orders (0, 1) and (1, 0) equally often and each pair of epochs all four
    combinations equally often, as independent reshuffles do. The second-order
    term of the mean epoch depends only on such pairs, so the mean over these
    few sequences has the modified loss of the mean over all of them.
    """
    from scipy.linalg import hadamard

    if epochs < 1:
        raise InputError(f"`epochs` must be positive, got {epochs}.")
    n = 2 ** math.ceil(math.log2(epochs + 1))
    signs = hadamard(n)[:, 1:epochs + 1]
    return [tuple((0, 1) if v > 0 else (1, 0) for v in row) for row in signs]


def epoch_order_balance(runs: Sequence[Sequence[Sequence[int]]]) -> float:
    """max |frequency − uniform| over single epochs and pairs of epochs of the runs' orders: 0 for an orthogonal array."""
    if not runs:
        raise InputError("no runs given.")
    worst = 0.0
    epochs = len(runs[0])
    orders = sorted({tuple(o) for run in runs for o in run})
    k = math.factorial(len(orders[0]))
    for e in range(epochs):
        for o in orders:
            worst = max(worst, abs(sum(tuple(run[e]) == o for run in runs) / len(runs) - 1 / k))
    for e, f in itertools.combinations(range(epochs), 2):
        for o, q in itertools.product(orders, repeat=2):
            hits = sum(tuple(run[e]) == o and tuple(run[f]) == q for run in runs)
            worst = max(worst, abs(hits / len(runs) - 1 / k**2))
    return worst


def reshuffled_epoch_mean_map(batches: Batches, beta: Any, runs: Sequence[Sequence[Sequence[int]]],
                              digits: int | None = None) -> StepMap:
    """The mean over ``runs`` (epoch orders, oldest first, the last one the current epoch) of SGD+M's epoch map.

    For each run the past epochs are the history of the shooting that places θ
    on the slow manifold (:func:`~theorycheck.maths.momentum.periodic_slow_orbit`),
    so the velocity at the epoch's start remembers the orders of the epochs
    before it; use :func:`orthogonal_epoch_orders` for the statistics of random
    reshuffling. Epochs older than the runs' repeat the current order; their
    weight at θ is β^{m·len(run)}.
    """
    m = batches.m
    maps = []
    for run in runs:
        for o in run:
            if sorted(int(k) for k in o) != list(range(m)):
                raise InputError(f"every epoch order must be a permutation of 0..{m - 1}, got {list(o)}.")
        past = [k for o in run[:-1] for k in o]
        history = [lambda th, k=k: batches.batch_gradient(k, th) for k in past]
        current = [lambda th, k=k: batches.batch_gradient(k, th) for k in run[-1]]
        b = _beta(beta)

        def next_epoch(theta: Sequence[Any], T: Any, current: Any = current, history: Any = history) -> list[Any]:
            return periodic_slow_orbit(current, b, theta, as_mpf(T) / m, m, digits, history)[-1]

        maps.append(cached_step(next_epoch))
    return mean_map(maps)


__all__ = [
    "MAX_BATCHES", "amplification", "batch_noise", "cyclic_epoch_map", "cyclic_epoch_mean_map", "epoch_order_balance",
    "noise_factor", "orthogonal_epoch_orders", "rescaled_flow", "reshuffle_noise_factor", "reshuffled_epoch_mean_map",
    "sgd_momentum_modified_field", "sgd_momentum_modified_loss",
]
