"""The four predicted properties of implicit gradient regularisation, as paired experiments.

Barrett & Dherin (ICLR 2021, "Implicit Gradient Regularization",
arXiv:2009.11162, Theorem 3.1) show that GD with rate h follows the flow of the
modified loss L̃ = L + (h/4)‖∇L‖², and predict (Sec. 3; numbering here is ours):

1. IGR encourages small ‖∇L‖² relative to L; larger learning rates (and larger
   models) make it smaller;
2. IGR encourages smoother optimisation (smaller loss-surface slope along the path);
3. IGR encourages higher test accuracy;
4. IGR finds optima that are more robust to parameter perturbations.

Each prediction becomes a paired experiment on a small two-layer tanh network
trained by full-batch GD (:func:`theorycheck.numerics.training.train`) from the
same initialisation with a small and a large rate (or a small and a large
width), stopped at a *matched* training loss so that the comparison is not
"which run trained longer". One seed gives one paired difference;
:func:`theorycheck.numerics.statistics.effect_size` turns the seeds'
differences into a mean with a t (and a bootstrap) confidence interval and a
verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from theorycheck.core.errors import InputError
from theorycheck.maths.datasets import Task, classification_task, regression_task
from theorycheck.maths.networks import Architecture
from theorycheck.numerics.statistics import EffectSize, effect_size
from theorycheck.numerics.training import TrainResult, train

#: Full-batch GD runs stop after this many steps if the target loss is not reached.
MAX_STEPS = 200_000
#: A training loss above this counts as a diverged run (excluded, and said so).
DIVERGENCE = 1e6


def sharpness(arch: Architecture, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """λ_max(∇²L(θ)) from the dense complex-step Hessian (P is small)."""
    return float(np.linalg.eigvalsh(arch.hessian(theta, X, y))[-1])


def perturbation_increase(arch: Architecture, theta: np.ndarray, X: np.ndarray, y: np.ndarray, sigma: float,
                          n_samples: int, rng: np.random.Generator) -> float:
    """E_ε[L(θ + σε)] − L(θ), ε ~ N(0, I), by antithetic Monte Carlo (ε and −ε).

    Antithetic pairs cancel every odd Taylor term exactly, so the estimate is
    (σ²/2)·mean(εᵀHε) + O(σ⁴), whose expectation is (σ²/2)·Tr H.
    """
    L0 = arch.loss(theta, X, y)
    eps = rng.standard_normal((n_samples, len(theta)))
    up = arch.losses(theta + sigma * eps, X, y)
    down = arch.losses(theta - sigma * eps, X, y)
    return float((up + down - 2 * L0).sum()) / (2 * n_samples)


def accuracy(arch: Architecture, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of points with sign f(x) = label (labels ±1)."""
    return float(np.mean(np.sign(arch.predict(theta, X)) == y))


@dataclass(frozen=True)
class Setup:
    """Sizes of one property experiment (quick mode lowers ``seeds``, never a tolerance).

    The large rate is ``rate_fraction / λ_max(H(θ0))`` — 1.0 is the "moderate"
    regime where backward error analysis is meant to apply, 1.9 is close to the
    GD stability edge 2/λ — and the small rate is ``rate_ratio`` times smaller.
    Runs stop at the first step with L ≤ ``target_fraction · L(θ0)``.
    """

    seeds: int = 24
    width: int = 16
    width_large: int = 64
    rate_fraction: float = 1.0
    rate_ratio: float = 5.0
    target_fraction: float = 0.05
    sigma: float = 0.02
    mc_samples: int = 200
    confidence: float = 0.95


#: Seeds per experiment in quick mode (full mode: ``Setup.seeds``).
QUICK_SEEDS = 6
#: The experiments' initialisation: b ~ N(0, 0.1²) (W ~ N(0, 1/d), a ~ N(0, 1/m) as everywhere).
INIT_BIAS_SCALE = 0.1


@dataclass
class PairRecord:
    """One seed's paired runs and the numbers compared."""

    seed: int
    small: dict[str, float]
    large: dict[str, float]
    diff: float


@dataclass
class PropertyResult:
    """The paired differences of one experiment and the verdict on their mean."""

    name: str
    metric: str
    records: list[PairRecord]
    effect: EffectSize
    excluded: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _child_seeds(seed: int, n: int) -> list[int]:
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


@dataclass
class _Pair:
    seed: int
    task: Task
    nets: tuple[Architecture, Architecture]
    rates: tuple[float, float]
    runs: tuple[TrainResult, TrainResult]


def _paired_runs(task_fn: Callable[[np.random.Generator], Task], setup: Setup, seed: int, arm: str,
                 levels_count: int = 0) -> list[_Pair]:
    """Per seed: one task and initialisation, trained by the two arms ("rate": small/large h; "width": narrow/wide)."""
    out = []
    for s in _child_seeds(seed, setup.seeds):
        rng = np.random.default_rng(s)
        task = task_fn(rng)
        if arm == "rate":
            net = Architecture(2, setup.width)
            theta0 = net.init(rng, bias_scale=INIT_BIAS_SCALE)
            h_large = setup.rate_fraction / sharpness(net, theta0, task.X, task.y)
            nets, thetas, rates = (net, net), (theta0, theta0), (h_large / setup.rate_ratio, h_large)
        elif arm == "width":
            narrow, wide = Architecture(2, setup.width), Architecture(2, setup.width_large)
            nets = (narrow, wide)
            thetas = (narrow.init(rng, bias_scale=INIT_BIAS_SCALE), wide.init(rng, bias_scale=INIT_BIAS_SCALE))
            # one rate for both widths, set by the sharper of the two so both are in the same regime or below
            h = setup.rate_fraction / max(sharpness(n, t, task.X, task.y) for n, t in zip(nets, thetas))
            rates = (h, h)
        else:
            raise InputError(f"`arm` must be 'rate' or 'width', got {arm!r}.")
        L0 = max(n.loss(t, task.X, task.y) for n, t in zip(nets, thetas))
        target = setup.target_fraction * L0
        levels = list(np.geomspace(0.5 * L0, target, levels_count)) if levels_count else []
        # checked every step: a run stops at the *first* step with L ≤ target
        runs = tuple(train(n.net(t), task.X, task.y, "gd", h, steps=MAX_STEPS, tol=target, divergence=DIVERGENCE,
                           check_every=1, levels=levels) for n, t, h in zip(nets, thetas, rates))
        out.append(_Pair(s, task, nets, rates, runs))  # type: ignore[arg-type]
    return out


def _rec(r: TrainResult, h: float, **kw: float) -> dict[str, float]:
    return {"h": h, "loss": r.train_loss, "grad_sq": r.grad_sq, "steps": r.steps, **kw}


def _usable(p: _Pair, excluded: list[str]) -> bool:
    for tag, r in zip(("small", "large"), p.runs):
        if not r.reached:
            excluded.append(f"seed {p.seed}: {tag} arm {'diverged' if r.diverged else 'did not reach the target loss'}")
            return False
    return True


def _finish(name: str, metric: str, records: list[PairRecord], excluded: list[str], setup: Setup, seed: int,
            direction: int, min_effect: float, **extra: Any) -> PropertyResult:
    eff = effect_size([r.diff for r in records], direction=direction, confidence=setup.confidence, seed=seed,
                      min_effect=min_effect)
    if excluded:
        eff.reason += f"; {len(excluded)} seed(s) excluded ({'; '.join(excluded[:3])})"
    return PropertyResult(name, metric, records, eff, excluded, extra)


def gradient_penalty_vs_rate(setup: Setup = Setup(), seed: int = 0, direction: int = 1,
                             min_effect: float = 0.0) -> PropertyResult:
    """Property 1 (rate): log[(‖∇L‖²/L) at small h] − log[(‖∇L‖²/L) at large h], matched loss; predicted > 0."""
    records: list[PairRecord] = []
    excluded: list[str] = []
    for p in _paired_runs(regression_task, setup, seed, "rate"):
        if not _usable(p, excluded):
            continue
        a, b = p.runs
        records.append(PairRecord(p.seed, _rec(a, p.rates[0]), _rec(b, p.rates[1]),
                                  math.log(a.grad_sq / a.train_loss) - math.log(b.grad_sq / b.train_loss)))
    return _finish("gradient penalty vs learning rate", "log ratio of ‖∇L‖²/L, small h over large h", records,
                   excluded, setup, seed, direction, min_effect)


def gradient_penalty_vs_width(setup: Setup = Setup(), seed: int = 0, direction: int = 1,
                              min_effect: float = 0.0, per_parameter: bool = True) -> PropertyResult:
    """Property 1 (model size): log[R/L narrow] − log[R/L wide] at matched loss and equal h; predicted > 0.

    Barrett & Dherin's R_IG is the *mean* squared gradient component
    (1/P)‖∇L‖² (their IGR strength is λ = hP/4), which is what
    ``per_parameter=True`` measures; ``extra["unnormalised"]`` holds the
    effect on ‖∇L‖²/L itself, which does not get the free factor log(P_wide/P_narrow).
    """
    records: list[PairRecord] = []
    excluded: list[str] = []
    raw: list[float] = []
    for p in _paired_runs(regression_task, setup, seed, "width"):
        if not _usable(p, excluded):
            continue
        a, b = p.runs
        d_raw = math.log(a.grad_sq / a.train_loss) - math.log(b.grad_sq / b.train_loss)
        shift = math.log(p.nets[1].n_params / p.nets[0].n_params)
        raw.append(d_raw)
        records.append(PairRecord(p.seed, _rec(a, p.rates[0], params=p.nets[0].n_params),
                                  _rec(b, p.rates[1], params=p.nets[1].n_params),
                                  d_raw + shift if per_parameter else d_raw))
    metric = "log ratio of R_IG/L = ‖∇L‖²/(P·L), narrow over wide" if per_parameter else \
        "log ratio of ‖∇L‖²/L, narrow over wide"
    other = effect_size(raw, confidence=setup.confidence, seed=seed) if per_parameter else None
    return _finish("gradient penalty vs model size", metric, records, excluded, setup, seed, direction, min_effect,
                   unnormalised=other)


def path_slope_vs_rate(setup: Setup = Setup(), seed: int = 0, direction: int = 1, min_effect: float = 0.0,
                       n_levels: int = 8) -> PropertyResult:
    """Property 2: mean over matched loss levels of log(‖∇L‖ small h / ‖∇L‖ large h) along the path; predicted > 0."""
    records: list[PairRecord] = []
    excluded: list[str] = []
    curves: list[dict[str, list[float]]] = []
    for p in _paired_runs(regression_task, setup, seed, "rate", levels_count=n_levels):
        if not _usable(p, excluded):
            continue
        a, b = p.runs
        ratios = [math.log(x / z) for x, z in zip(a.level_slopes, b.level_slopes) if math.isfinite(x) and math.isfinite(z)]
        if not ratios:
            excluded.append(f"seed {p.seed}: no common loss level")
            continue
        curves.append({"levels": a.levels, "small": a.level_slopes, "large": b.level_slopes})
        records.append(PairRecord(p.seed, _rec(a, p.rates[0]), _rec(b, p.rates[1]), float(np.mean(ratios))))
    return _finish("loss-surface slope along the path", "mean log ratio of ‖∇L‖ at matched loss levels, small h over large h",
                   records, excluded, setup, seed, direction, min_effect, curves=curves)


def accuracy_vs_rate(setup: Setup = Setup(target_fraction=0.3), seed: int = 0, direction: int = 1,
                     min_effect: float = 0.0) -> PropertyResult:
    """Property 3: test accuracy at large h − at small h, matched training loss (label-noise classification); predicted > 0."""
    records: list[PairRecord] = []
    excluded: list[str] = []
    for p in _paired_runs(classification_task, setup, seed, "rate"):
        if not _usable(p, excluded):
            continue
        net, task = p.nets[0], p.task
        accs = [accuracy(net, r.net.theta, task.X_test, task.y_test) for r in p.runs]
        recs = [_rec(r, h, test_acc=acc, train_acc=accuracy(net, r.net.theta, task.X, task.y))
                for r, h, acc in zip(p.runs, p.rates, accs)]
        records.append(PairRecord(p.seed, recs[0], recs[1], accs[1] - accs[0]))
    return _finish("test accuracy vs learning rate", "test accuracy, large h minus small h", records, excluded,
                   setup, seed, direction, min_effect)


def noise_robustness_vs_rate(setup: Setup = Setup(), seed: int = 0, direction: int = 1,
                             min_effect: float = 0.0) -> PropertyResult:
    """Property 4: log(ΔL small h / ΔL large h), ΔL = E[L(θ+σε)] − L(θ) at matched loss; predicted > 0.

    Each arm also records (σ²/2)·Tr H; ``extra["quadratic_log_ratios"]`` holds
    log(ΔL / ((σ²/2) Tr H)) per run, which should be O(σ²) + Monte Carlo noise.
    """
    records: list[PairRecord] = []
    excluded: list[str] = []
    qratios: list[float] = []
    for p in _paired_runs(regression_task, setup, seed, "rate"):
        if not _usable(p, excluded):
            continue
        net, task = p.nets[0], p.task
        arms = []
        for r, h in zip(p.runs, p.rates):
            # common random numbers: both arms see the same perturbation directions
            inc = perturbation_increase(net, r.net.theta, task.X, task.y, setup.sigma, setup.mc_samples,
                                        np.random.default_rng(p.seed + 7))
            tr = float(np.trace(net.hessian(r.net.theta, task.X, task.y)))
            quad = 0.5 * setup.sigma ** 2 * tr
            qratios.append(math.log(inc / quad))
            arms.append(_rec(r, h, loss_increase=inc, trace_h=tr, quadratic_prediction=quad))
        records.append(PairRecord(p.seed, arms[0], arms[1],
                                  math.log(arms[0]["loss_increase"] / arms[1]["loss_increase"])))
    return _finish("robustness to parameter noise", "log ratio of the loss increase under N(0, σ²I) noise, small h over large h",
                   records, excluded, setup, seed, direction, min_effect, quadratic_log_ratios=qratios)


#: The experiments by name (the predicted property each one tests).
EXPERIMENTS: dict[str, Callable[..., PropertyResult]] = {
    "p1_rate": gradient_penalty_vs_rate,
    "p1_width": gradient_penalty_vs_width,
    "p2_slope": path_slope_vs_rate,
    "p3_accuracy": accuracy_vs_rate,
    "p4_noise": noise_robustness_vs_rate,
}


__all__ = [
    "DIVERGENCE", "EXPERIMENTS", "INIT_BIAS_SCALE", "MAX_STEPS", "PairRecord", "PropertyResult", "QUICK_SEEDS", "Setup", "accuracy", "accuracy_vs_rate", "gradient_penalty_vs_rate", "gradient_penalty_vs_width",
    "noise_robustness_vs_rate", "path_slope_vs_rate", "perturbation_increase", "sharpness",
]
