"""The four predicted properties of implicit gradient regularisation, as falsifiable experiments.

Barrett & Dherin (ICLR 2021, "Implicit Gradient Regularization", arXiv:2009.11162,
Theorem 3.1) show that GD with rate h follows the flow of the modified loss
L̃ = L + (h/4)‖∇L‖², and predict (Sec. 3; the seed text lists them as 1-4):

1. IGR encourages small ‖∇L‖² relative to L; larger learning rates (and larger
   models) make it smaller;
2. IGR encourages smoother optimisation (smaller loss-surface slope along the path);
3. IGR encourages higher test accuracy;
4. IGR finds optima that are more robust to parameter perturbations.

Each prediction becomes a paired experiment on a tiny two-layer tanh network
trained by full-batch GD from the same initialisation with a small and a large
rate (or a small and a large width), stopped at a *matched* training loss so
that the comparison is not "which run trained longer". One seed gives one
paired difference; :func:`effect_size` turns the seeds' differences into a mean
with a t (and a bootstrap) confidence interval and a verdict: PASS when the
interval lies on the predicted side of zero, FAIL when it lies on the other
side, INCONCLUSIVE when it straddles zero.

The network is hand-differentiated numpy (training needs thousands of steps
per seed, far too slow through autograd); the gradient is tested against
autograd, which also supplies the exact Hessian for Tr(H).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
from scipy import stats

from theorycheck.core.errors import InputError
from theorycheck.core.evidence import Verdict


# --------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class TanhNet:
    """f(x; θ) = aᵀ tanh(W x + b), θ = (W, b, a) flattened; square loss L = (1/2n) Σ (f(xᵢ) − yᵢ)².

    Parameters
    ----------
    n_in : int
        Input dimension d.
    width : int
        Hidden units k; the parameter count is P = k (d + 2).
    """

    n_in: int
    width: int

    @property
    def n_params(self) -> int:
        return self.width * (self.n_in + 2)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k, d = self.width, self.n_in
        return theta[: k * d].reshape(k, d), theta[k * d: k * d + k], theta[k * d + k:]

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """LeCun-style initialisation: W ~ N(0, 1/d), b ~ N(0, 0.1²), a ~ N(0, 1/k)."""
        k, d = self.width, self.n_in
        return np.concatenate([rng.standard_normal(k * d) / math.sqrt(d), 0.1 * rng.standard_normal(k),
                               rng.standard_normal(k) / math.sqrt(k)])

    def predict(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """f(X), shape (n,)."""
        W, b, a = self.unpack(theta)
        return np.tanh(X @ W.T + b) @ a

    def loss(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
        r = self.predict(theta, X) - y
        return float(r @ r) / (2 * len(y))

    def loss_and_grad(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """L(θ) and ∇L(θ), shape (P,), by backpropagation."""
        W, b, a = self.unpack(theta)
        s = np.tanh(X @ W.T + b)
        r = s @ a - y
        n = len(y)
        delta = (r[:, None] * a) * (1.0 - s * s)
        return float(r @ r) / (2 * n), np.concatenate([(delta.T @ X).ravel(), delta.sum(0), s.T @ r]) / n

    def grad(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∇L(θ), shape (P,); also accepts complex θ (no conjugation anywhere), for complex-step derivatives."""
        W, b, a = self.unpack(theta)
        s = np.tanh(X @ W.T + b)
        r = s @ a - y
        delta = (r[:, None] * a) * (1.0 - s * s)
        return np.concatenate([(delta.T @ X).ravel(), delta.sum(0), s.T @ r]) / len(y)

    def hvp(self, theta: np.ndarray, v: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """H(θ)v = Im ∇L(θ + iεv)/ε with ε = 1e-100: the complex-step derivative of the analytic gradient.

        Exact to rounding for a real-analytic loss (no subtractive cancellation;
        Squire & Trapp, SIAM Review 1998); tested against autograd.
        """
        eps = 1e-100
        return self.grad(theta + 1j * eps * np.asarray(v, dtype=float), X, y).imag / eps

    def loss_autograd(self) -> Callable[[Any, np.ndarray, np.ndarray], Any]:
        """The same loss written with autograd.numpy (for exact Hessians and the gradient test)."""
        import autograd.numpy as anp

        k, d = self.width, self.n_in

        def L(theta: Any, X: np.ndarray, y: np.ndarray) -> Any:
            W = anp.reshape(theta[: k * d], (k, d))
            b = theta[k * d: k * d + k]
            a = theta[k * d + k:]
            r = anp.dot(anp.tanh(anp.dot(X, W.T) + b), a) - y
            return anp.dot(r, r) / (2 * len(y))

        return L

    def hessian(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∇²L(θ), shape (P, P): complex-step columns H e_i (exact to rounding), symmetrised.

        Much faster than autograd for P ≲ 100; ``hessian_autograd`` is the independent route.
        """
        eps = 1e-100
        cols = [self.grad(theta + 1j * eps * e, X, y).imag / eps for e in np.eye(len(theta))]
        Hm = np.array(cols)
        return 0.5 * (Hm + Hm.T)

    def hessian_autograd(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """∇²L(θ), shape (P, P), by autograd (forward-over-reverse)."""
        from autograd import hessian

        return np.asarray(hessian(self.loss_autograd())(theta, X, y))

    def losses(self, thetas: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """L at many parameter vectors at once, ``thetas`` shape (S, P) → shape (S,)."""
        k, d = self.width, self.n_in
        W = thetas[:, : k * d].reshape(-1, k, d)
        b = thetas[:, k * d: k * d + k]
        a = thetas[:, k * d + k:]
        r = np.einsum("snk,sk->sn", np.tanh(np.einsum("nd,skd->snk", X, W) + b[:, None, :]), a) - y
        return (r * r).sum(1) / (2 * len(y))


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Task:
    """A synthetic data set with a train/test split; ``kind`` is "regression" or "classification"."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    kind: str


def regression_task(rng: np.random.Generator, n_train: int = 24, n_test: int = 400, noise: float = 0.1) -> Task:
    """y = sin(2x₁)·cos(x₂) + noise, x ~ N(0, I₂)."""
    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, 2))
        return X, np.sin(2 * X[:, 0]) * np.cos(X[:, 1]) + noise * rng.standard_normal(n)

    X, y = draw(n_train)
    Xt, yt = draw(n_test)
    return Task(X, y, Xt, yt, "regression")


def classification_task(rng: np.random.Generator, n_train: int = 40, n_test: int = 2000, flip: float = 0.15) -> Task:
    """Two interleaved classes (label sign(sin(2x₁) + x₂)) with a fraction ``flip`` of training labels flipped.

    Labels are ±1 and the network is fitted by square loss; accuracy is the
    fraction with sign f(x) = label. Test labels are clean.
    """
    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, 2))
        return X, np.where(np.sin(2 * X[:, 0]) + X[:, 1] > 0, 1.0, -1.0)

    X, y = draw(n_train)
    y = np.where(rng.random(n_train) < flip, -y, y)
    Xt, yt = draw(n_test)
    return Task(X, y, Xt, yt, "classification")


# --------------------------------------------------------------------------
# training to a matched loss
# --------------------------------------------------------------------------
@dataclass
class TrainResult:
    """GD run stopped at the first step with L ≤ target.

    ``levels``/``slopes``: the slope ‖∇L‖ recorded when the loss first fell
    below each level of a fixed geometric ladder (NaN if never reached).
    """

    theta: np.ndarray
    steps: int
    loss: float
    grad_sq: float
    reached: bool
    diverged: bool
    levels: list[float] = field(default_factory=list)
    slopes: list[float] = field(default_factory=list)


def train_to_loss(net: TanhNet, X: np.ndarray, y: np.ndarray, theta0: np.ndarray, h: float, target: float,
                  levels: Sequence[float] = (), max_steps: int = 200_000) -> TrainResult:
    """Full-batch GD θ⁺ = θ − h∇L(θ) from θ0 until L(θ) ≤ ``target`` (or ``max_steps``)."""
    theta = np.array(theta0, dtype=float)
    levels = sorted(levels, reverse=True)
    slopes = [math.nan] * len(levels)
    nxt = 0
    for step in range(max_steps + 1):
        L, g = net.loss_and_grad(theta, X, y)
        if not math.isfinite(L) or L > 1e6:
            return TrainResult(theta, step, L, math.nan, False, True, list(levels), slopes)
        gsq = float(g @ g)
        while nxt < len(levels) and L <= levels[nxt]:
            slopes[nxt] = math.sqrt(gsq)
            nxt += 1
        if L <= target:
            return TrainResult(theta, step, L, gsq, True, False, list(levels), slopes)
        if step < max_steps:
            theta = theta - h * g
    return TrainResult(theta, max_steps, L, gsq, False, False, list(levels), slopes)


def sharpness(net: TanhNet, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    """λ_max(∇²L(θ)) (dense eigvalsh: P is tiny)."""
    return float(np.linalg.eigvalsh(net.hessian(theta, X, y))[-1])


def perturbation_increase(net: TanhNet, theta: np.ndarray, X: np.ndarray, y: np.ndarray, sigma: float,
                          n_samples: int, rng: np.random.Generator) -> float:
    """E_ε[L(θ + σε)] − L(θ), ε ~ N(0, I), by antithetic Monte Carlo (ε and −ε).

    Antithetic pairs cancel every odd Taylor term exactly, so the estimate is
    (σ²/2)·mean(εᵀHε) + O(σ⁴), whose expectation is (σ²/2)·Tr H.
    """
    L0 = net.loss(theta, X, y)
    eps = rng.standard_normal((n_samples, len(theta)))
    up = net.losses(theta + sigma * eps, X, y)
    down = net.losses(theta - sigma * eps, X, y)
    return float((up + down - 2 * L0).sum()) / (2 * n_samples)


def accuracy(net: TanhNet, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.sign(net.predict(theta, X)) == y))


# --------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------
@dataclass
class EffectSize:
    """Mean paired difference with confidence intervals and the verdict they imply.

    ``direction`` is the predicted sign (+1: the prediction says the
    difference is positive). ``ci`` is the t interval (the verdict uses it);
    ``ci_bootstrap`` a BCa bootstrap interval shown alongside; ``cohen_dz`` =
    mean/sd of the differences.
    """

    mean: float
    ci: tuple[float, float]
    ci_bootstrap: tuple[float, float]
    n: int
    cohen_dz: float
    direction: int
    confidence: float
    verdict: Verdict
    reason: str


def effect_size(diffs: Sequence[float], direction: int = 1, confidence: float = 0.95, seed: int = 0,
                min_effect: float = 0.0) -> EffectSize:
    """Verdict on paired differences: is their mean on the predicted side of ``min_effect``·direction?

    PASS: the whole t interval for direction·mean lies above ``min_effect``;
    FAIL: it lies entirely below it (a mutant claiming the wrong sign, or a
    too-large effect, lands here); INCONCLUSIVE: it straddles, or fewer than
    three finite differences.
    """
    if direction not in (1, -1):
        raise InputError(f"`direction` must be +1 or -1, got {direction!r}.")
    if not 0 < confidence < 1:
        raise InputError(f"`confidence` must lie in (0, 1), got {confidence!r}.")
    x = np.asarray([d for d in diffs if math.isfinite(d)], dtype=float)
    n = len(x)
    if n < 3:
        return EffectSize(math.nan, (math.nan, math.nan), (math.nan, math.nan), n, math.nan, direction, confidence,
                          Verdict.INCONCLUSIVE, f"only {n} finite paired differences (need ≥ 3)")
    mean = float(x.mean())
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        lo = hi = mean
        blo = bhi = mean
    else:
        lo, hi = (float(v) for v in stats.ttest_1samp(x, 0.0).confidence_interval(confidence))
        bs = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=2000, method="BCa",
                             random_state=np.random.default_rng(seed))
        blo, bhi = float(bs.confidence_interval.low), float(bs.confidence_interval.high)
    # work on the predicted-direction scale: the claim is direction·mean > min_effect
    slo, shi = sorted((direction * lo, direction * hi))
    if slo > min_effect:
        v, why = Verdict.PASS, f"{confidence:.0%} CI of the signed effect [{slo:.3g}, {shi:.3g}] lies above {min_effect:g}"
    elif shi < min_effect:
        v, why = Verdict.FAIL, f"{confidence:.0%} CI of the signed effect [{slo:.3g}, {shi:.3g}] lies below {min_effect:g}"
    else:
        v, why = Verdict.INCONCLUSIVE, (f"{confidence:.0%} CI of the signed effect [{slo:.3g}, {shi:.3g}] "
                                        f"straddles {min_effect:g}")
    dz = mean / sd if sd > 0 else math.copysign(math.inf, mean) if mean else 0.0
    return EffectSize(mean, (lo, hi), (blo, bhi), n, dz, direction, confidence, v, why)


# --------------------------------------------------------------------------
# the experiments
# --------------------------------------------------------------------------
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


QUICK_SEEDS = 6
RATE_REGIMES = (1.0, 1.9)


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
    nets: tuple[TanhNet, TanhNet]
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
            net = TanhNet(2, setup.width)
            theta0 = net.init(rng)
            h_large = setup.rate_fraction / sharpness(net, theta0, task.X, task.y)
            nets, thetas, rates = (net, net), (theta0, theta0), (h_large / setup.rate_ratio, h_large)
        elif arm == "width":
            nets = (TanhNet(2, setup.width), TanhNet(2, setup.width_large))
            thetas = tuple(n.init(rng) for n in nets)
            # one rate for both widths, set by the sharper of the two so both are in the same regime or below
            h = setup.rate_fraction / max(sharpness(n, t, task.X, task.y) for n, t in zip(nets, thetas))
            rates = (h, h)
        else:
            raise InputError(f"`arm` must be 'rate' or 'width', got {arm!r}.")
        L0 = max(n.loss(t, task.X, task.y) for n, t in zip(nets, thetas))
        target = setup.target_fraction * L0
        levels = list(np.geomspace(0.5 * L0, target, levels_count)) if levels_count else []
        runs = tuple(train_to_loss(n, task.X, task.y, t, h, target, levels) for n, t, h in zip(nets, thetas, rates))
        out.append(_Pair(s, task, nets, rates, runs))  # type: ignore[arg-type]
    return out


def _rec(r: TrainResult, h: float, **kw: float) -> dict[str, float]:
    return {"h": h, "loss": r.loss, "grad_sq": r.grad_sq, "steps": r.steps, **kw}


def _usable(p: _Pair, excluded: list[str]) -> bool:
    for tag, r in zip(("small", "large"), p.runs):
        if r.diverged or not r.reached:
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
    records, excluded = [], []
    for p in _paired_runs(regression_task, setup, seed, "rate"):
        if not _usable(p, excluded):
            continue
        a, b = p.runs
        records.append(PairRecord(p.seed, _rec(a, p.rates[0]), _rec(b, p.rates[1]),
                                  math.log(a.grad_sq / a.loss) - math.log(b.grad_sq / b.loss)))
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
    records, excluded, raw = [], [], []
    for p in _paired_runs(regression_task, setup, seed, "width"):
        if not _usable(p, excluded):
            continue
        a, b = p.runs
        d_raw = math.log(a.grad_sq / a.loss) - math.log(b.grad_sq / b.loss)
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
    records, excluded = [], []
    curves: list[dict[str, list[float]]] = []
    for p in _paired_runs(regression_task, setup, seed, "rate", levels_count=n_levels):
        if not _usable(p, excluded):
            continue
        a, b = p.runs
        ratios = [math.log(x / z) for x, z in zip(a.slopes, b.slopes) if math.isfinite(x) and math.isfinite(z)]
        if not ratios:
            excluded.append(f"seed {p.seed}: no common loss level")
            continue
        curves.append({"levels": a.levels, "small": a.slopes, "large": b.slopes})
        records.append(PairRecord(p.seed, _rec(a, p.rates[0]), _rec(b, p.rates[1]), float(np.mean(ratios))))
    return _finish("loss-surface slope along the path", "mean log ratio of ‖∇L‖ at matched loss levels, small h over large h",
                   records, excluded, setup, seed, direction, min_effect, curves=curves)


def accuracy_vs_rate(setup: Setup = Setup(target_fraction=0.3), seed: int = 0, direction: int = 1,
                     min_effect: float = 0.0) -> PropertyResult:
    """Property 3: test accuracy at large h − at small h, matched training loss (label-noise classification); predicted > 0."""
    records, excluded = [], []
    for p in _paired_runs(classification_task, setup, seed, "rate"):
        if not _usable(p, excluded):
            continue
        net, task = p.nets[0], p.task
        accs = [accuracy(net, r.theta, task.X_test, task.y_test) for r in p.runs]
        recs = [_rec(r, h, test_acc=acc, train_acc=accuracy(net, r.theta, task.X, task.y))
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
    records, excluded = [], []
    qratios: list[float] = []
    for p in _paired_runs(regression_task, setup, seed, "rate"):
        if not _usable(p, excluded):
            continue
        net, task = p.nets[0], p.task
        arms = []
        for r, h in zip(p.runs, p.rates):
            # common random numbers: both arms see the same perturbation directions
            inc = perturbation_increase(net, r.theta, task.X, task.y, setup.sigma, setup.mc_samples,
                                        np.random.default_rng(p.seed + 7))
            tr = float(np.trace(net.hessian(r.theta, task.X, task.y)))
            quad = 0.5 * setup.sigma ** 2 * tr
            qratios.append(math.log(inc / quad))
            arms.append(_rec(r, h, loss_increase=inc, trace_h=tr, quadratic_prediction=quad))
        records.append(PairRecord(p.seed, arms[0], arms[1],
                                  math.log(arms[0]["loss_increase"] / arms[1]["loss_increase"])))
    return _finish("robustness to parameter noise", "log ratio of the loss increase under N(0, σ²I) noise, small h over large h",
                   records, excluded, setup, seed, direction, min_effect, quadratic_log_ratios=qratios)


def equivalence(values: Sequence[float], tolerance: float, confidence: float = 0.95) -> EffectSize:
    """Is the mean of ``values`` within ±``tolerance`` of 0? (two one-sided tests, as a CI inclusion).

    PASS: the t interval lies inside (−tol, tol); FAIL: it lies entirely
    outside; INCONCLUSIVE otherwise. Used to compare the measured loss
    increase with the quadratic prediction (σ²/2)·Tr H on a log scale.
    """
    x = np.asarray([v for v in values if math.isfinite(v)], dtype=float)
    if len(x) < 3:
        return EffectSize(math.nan, (math.nan, math.nan), (math.nan, math.nan), len(x), math.nan, 1, confidence,
                          Verdict.INCONCLUSIVE, f"only {len(x)} finite values (need ≥ 3)")
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    lo, hi = (mean, mean) if sd == 0 else (float(v) for v in stats.ttest_1samp(x, 0.0).confidence_interval(confidence))
    if -tolerance < lo and hi < tolerance:
        v, why = Verdict.PASS, f"CI [{lo:.3g}, {hi:.3g}] inside ±{tolerance:g}"
    elif hi < -tolerance or lo > tolerance:
        v, why = Verdict.FAIL, f"CI [{lo:.3g}, {hi:.3g}] entirely outside ±{tolerance:g}"
    else:
        v, why = Verdict.INCONCLUSIVE, f"CI [{lo:.3g}, {hi:.3g}] overlaps the edge of ±{tolerance:g}"
    return EffectSize(mean, (lo, hi), (lo, hi), len(x), mean / sd if sd else math.inf, 1, confidence, v, why)


PROPERTIES: dict[str, Callable[..., PropertyResult]] = {
    "p1_rate": gradient_penalty_vs_rate,
    "p1_width": gradient_penalty_vs_width,
    "p2_slope": path_slope_vs_rate,
    "p3_accuracy": accuracy_vs_rate,
    "p4_noise": noise_robustness_vs_rate,
}
