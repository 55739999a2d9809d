"""Claims about two-layer networks: multiplicative structure, flatness, Sobolev bounds, stability.

Source: C. Ma & L. Ying, "On Linear Stability of SGD and Input-Smoothness of Neural
Networks", NeurIPS 2021 (arXiv:2105.13462v2; the arXiv v1 title is "The Sobolev
Regularization Effect of SGD"). The lemma and equation numbers of the
multiplicative inequality and the flatness → Sobolev bound are not checked
against the paper; the constant ‖W‖₂^k / minᵢ‖xᵢ‖^k (their eq. 6, as quoted in
the OpenReview discussion of Chen et al., arXiv:2310.01770) was. The
second-moment stability result is Ma & Ying Thm. 1 + Cor. 3 as restated by
Mulayoff & Michaeli ("Exact Mean Square Linear Stability Analysis for SGD",
arXiv:2306.07850, Thm. 2; closed form Thm. 3; necessary conditions Prop. 3,
eqs. 15–16).

Model f(x) = Σⱼ aⱼ σ(wⱼ·x + bⱼ), loss L = (1/2n) Σ (f(xᵢ) − yᵢ)² (:mod:`theorycheck.maths.networks`).
With z = Wx + b and δ = ∂f/∂z: ∇_W f = δxᵀ and ∇ₓf = Wᵀδ, so
‖∇ₓf‖ ≤ ‖W‖₂‖δ‖ = ‖W‖₂‖∇_W f‖_F/‖x‖. The bound uses ∇_W f only. With a trained
bias, ∇_b f = δ as well, so ‖∇_{W,b} f‖² = ‖δ‖²(‖x‖²+1) and the sharper
‖∇ₓf‖² ≤ ‖W‖₂²‖∇_θ f‖²/(1+‖x‖²) holds; the claims check the paper's form and
report the sharper one beside it.

Which mutants are real. ‖W‖_F ≥ ‖W‖₂, so putting ‖W‖_F² where the proof has
‖W‖₂² gives a *looser*, still true inequality: no check can reject it, and a test
asserts that it passes. The rejected constant mutant is a smaller one,
‖W‖_F²/min(m, d) (the mean squared singular value, ≤ ‖W‖₂²). Dropping the 1/‖x‖
factor is wrong only where ‖x‖ < 1, so the input strategies straddle ‖x‖ = 1.
In the Sobolev bound, dropping 1/minᵢ‖xᵢ‖² is *not* refutable for nets with a
trained bias (it follows from ∇_b f = δ); it is refuted on bias-free nets.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, ClassVar

import lazy_loader as lazy

from theorycheck import maths, numerics, properties
from theorycheck.claims.base import Checked, Claim, Key, RunContext, Sizes
from theorycheck.claims.kinds import PropertyClaim, inequality_case
from theorycheck.claims.registry import register
from theorycheck.claims.sources import MA_YING, MULAYOFF_MICHAELI, WU_MA_E
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict
from theorycheck.maths.constants import FLATNESS_CONSTANT, STABILITY_CONSTANT

np = lazy.load("numpy")
hypothesis = lazy.load("hypothesis")



# --------------------------------------------------------------------------- shared training runs


@functools.lru_cache(maxsize=256)
def trained(data_seed: int, init_seed: int, lr: float, batch: int | None, n: int = 12, d: int = 4, width: int = 16,
            steps: int = 4000, tol: float = 1e-10, scale: float = 2.0, activation: str = "tanh",
            bias: bool = True) -> tuple[Any, Any, Any]:
    """(TrainResult, X, y): a net trained on :func:`~theorycheck.maths.datasets.sine_regression`.

    Cached: several claims share the same runs.
    """
    X, y = maths.datasets.sine_regression(data_seed, n, d)
    net0 = maths.networks.init_net(d, width, seed=init_seed, activation=activation, bias=bias, scale=scale)
    opt = "gd" if batch is None or batch == n else "sgd"
    res = numerics.training.train(net0, X, y, opt, lr, batch=None if opt == "gd" else batch, seed=init_seed,
                                  steps=steps, tol=tol)
    return res, X, y


#: (init seed offset, η) of the shared GD runs; η spans far-from-edge to near-edge.
GD_RUNS = Sizes(quick=[(s, lr) for s in range(2) for lr in (0.2, 0.4)],
                full=[(s, lr) for s in range(5) for lr in (0.2, 0.4)])


def gd_runs(ctx: RunContext) -> list[tuple[int, float]]:
    return [(ctx.seed + s, lr) for s, lr in GD_RUNS.pick(ctx)]


def describe_net_inputs(example: Any) -> dict[str, Any]:
    """(net, X[, y]) as JSON."""
    out = {"net": example[0].to_json(), "X": example[1].tolist()}
    if len(example) > 2:
        out["y"] = example[2].tolist()
    return out


def perturbed(net: Any, seed: int, size: float = 1e-3) -> Any:
    """The net with θ moved by a random vector of norm ≈ ``size`` (a start near the minimum)."""
    rng = np.random.default_rng(seed)
    th = net.theta
    return net.with_theta(th + size * rng.standard_normal(th.size) / math.sqrt(th.size))


# --------------------------------------------------------------------------- 1. multiplicative inequality


@register
@dataclass(frozen=True, kw_only=True)
class MultiplicativeInequality(PropertyClaim):
    id = "nets.multiplicative-inequality"
    statement_kind = "theorem"
    title = "First-layer multiplicative structure: input gradient bounded by first-layer weight gradient"
    source = f"{MA_YING}, Sec. 2 'multiplicative structure' (equation number not checked against the paper)"
    statement = ("‖∇ₓf(x)‖ ≤ ‖W‖₂ ‖∇_W f(x)‖_F / ‖x‖ for every x ≠ 0, with equality iff δ lies in the top "
                 "left-singular space of W")
    falsifier = "any net and input with ‖∇ₓf(x)‖ > ‖W‖₂‖∇_W f(x)‖_F/‖x‖ beyond float rounding"
    tags = ("nets", "multiplicative", "hypothesis")
    examples = Sizes(25, 200)
    keys = (Key("trained_ratio_median", "ratios_all", "median", part="trained"),
            Key("trained_ratio_max", "ratios_all", "max", part="trained"),
            Key("worst_margin", "margin", "min"))
    summary = ("trained nets: LHS/RHS median {trained_ratio_median:.3f}, max {trained_ratio_max:.3f}; "
               "{examples} random examples")
    weight_norm: str = "spectral"
    x_power: float = 1.0

    def strategy(self, ctx: RunContext) -> Any:
        maths.networks.weight_factor(np.eye(1), self.weight_norm)  # a bad name fails before any example runs
        return properties.strategies.nets_and_inputs()

    def describe(self, instance: Any) -> Any:
        return describe_net_inputs(instance)

    def _sides(self, net: Any, X: Any) -> tuple[Any, Any]:
        return maths.networks.multiplicative_ratios(net, X, self.weight_norm, self.x_power)

    def check(self, instance: Any, ctx: RunContext) -> Case:
        net, X = instance
        return inequality_case(f"random m={net.width} d={net.dim} {net.activation}", *self._sides(net, X))

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        # Equality case: one neuron, W = wᵀ is rank one and δ is a scalar, so the bound is attained.
        rng = np.random.default_rng(ctx.seed)
        one = maths.networks.TwoLayerNet(rng.standard_normal((1, 3)), rng.standard_normal(1), rng.standard_normal(1))
        Xe = rng.standard_normal((6, 3)) * np.array([[0.3], [0.6], [1.0], [2.0], [4.0], [8.0]])
        lhs, rhs = self._sides(one, Xe)
        eq = inequality_case("single neuron (equality expected)", lhs, rhs)
        eq.measured["min_ratio"] = float(np.min(lhs / rhs))
        checked.parts["equality"] = [eq]
        # Trained nets: where is the inequality tight? (per-sample sides kept for the figure and the quantiles)
        checked.parts["trained"] = []
        for s, lr in gd_runs(ctx):
            res, X, y = trained(ctx.seed, s, lr, None)
            if res.reached:
                lhs, rhs = self._sides(res.net, X)
                case = inequality_case(f"trained GD η={lr} seed={s}", lhs, rhs)
                case.data.update({"ratios_all": (lhs / rhs).tolist(), "lhs": lhs.tolist(), "rhs": rhs.tolist()})
                checked.parts["trained"].append(case)

    def figures(self, checked: Checked) -> list[Figure]:
        return [Figure(kind="scatter", title="Multiplicative inequality on trained nets",
                       xlabel="‖W‖₂‖∇_W f‖_F/‖x‖", ylabel="‖∇ₓ f‖", xscale="log", yscale="log",
                       series=[Series("training points", checked.values("rhs", "trained"),
                                      checked.values("lhs", "trained"), "points")],
                       annotations={"diagonal": True})]


# --------------------------------------------------------------------------- 2. Gauss–Newton trace identity


def trajectory_residuals(data_seed: int, init_seed: int, lr: float, segments: int, seg_steps: int,
                         start_steps: int) -> list[dict[str, float]]:
    """GD snapshots in the late phase: rms residual and |Tr H − Tr GN| (closed forms)."""
    X, y = maths.datasets.sine_regression(data_seed)
    net = maths.networks.init_net(X.shape[1], 16, seed=init_seed, scale=2.0)
    net = numerics.training.train(net, X, y, "gd", lr, steps=start_steps, tol=1e-300).net
    out = []
    for _ in range(segments):
        net = numerics.training.train(net, X, y, "gd", lr, steps=seg_steps, tol=1e-300).net
        tr = maths.networks.trace_hessian(net, X, y)
        r = net(X) - y
        out.append({"rms_residual": float(np.sqrt(np.mean(r * r))), "abs_residual_trace": abs(tr.residual),
                    "gauss_newton": tr.gauss_newton, "trace": tr.total})
    return out


@register
@dataclass(frozen=True, kw_only=True)
class GaussNewtonTrace(PropertyClaim):
    id = "nets.gauss-newton-trace"
    statement_kind = "theorem"
    title = "At interpolation the Hessian trace equals the mean squared parameter gradient"
    source = f"{MA_YING}, Sec. 2 (flatness at interpolation; equation number not checked against the paper)"
    statement = ("Tr ∇²L(θ*) = (1/n) Σ ‖∇_θ f(xᵢ)‖² at an interpolating θ*; away from interpolation the gap "
                 "(1/n) Σ rᵢ Tr ∇²_θ fᵢ is first order in the residual r")
    falsifier = ("exact Tr H (autograd) ≠ (1/n)Σ‖∇fᵢ‖² at an exact interpolant beyond rounding, or a gap that "
                 "does not scale like ‖r‖¹ along a converging GD trajectory")
    tags = ("nets", "flatness", "hypothesis", "order")
    examples = Sizes(12, 80)
    keys = (Key("gap_order", "slope", "mean", part="gap"),
            Key("hutchinson_rel_error", "relative_error", "max", part="hutchinson"))
    summary = "exact identity at {examples} interpolants; gap ∝ rms(r)^{gap_order:.3f} away from it"
    hutchinson_samples: ClassVar[Sizes] = Sizes(60, 300)
    gap_runs: ClassVar[Sizes] = Sizes((0.2,), (0.2, 0.4))
    #: GD steps between the snapshots of the gap along a trajectory
    segment_steps: ClassVar[Sizes] = Sizes(150, 300)
    coefficient: float = 1.0
    expected_order: float = 1.0
    order_tol: float = 0.15

    def strategy(self, ctx: RunContext) -> Any:
        st = hypothesis.strategies
        nets = properties.strategies.two_layer_nets(dim=st.integers(1, 3), width=st.integers(1, 5))
        return properties.strategies.interpolating_datasets(nets, n=st.integers(1, 6))

    def describe(self, instance: Any) -> Any:
        return describe_net_inputs(instance)

    def check(self, instance: Any, ctx: RunContext) -> Case:
        net, X, y = instance
        exact = float(np.trace(maths.networks.hessian_exact(net, X, y)))  # autograd: independent of the closed forms
        gn = self.coefficient * float(np.mean(np.sum(maths.networks.per_sample_gradients(net, X) ** 2, axis=1)))
        rel = abs(exact - gn) / max(abs(exact), 1e-300)
        ok = rel <= 1e-9 or abs(exact - gn) <= 1e-13
        return Case(f"exact interpolant m={net.width} d={net.dim}", Verdict.pass_if(ok),
                    measured={"trace_autograd": exact, "gauss_newton": gn, "relative_gap": rel},
                    tolerance={"relative": 1e-9}, margin=1e-9 - rel,
                    note="agree to rounding" if ok else f"relative gap {rel:.3g}")

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        # Hutchinson on the HVP operator of a trained net must bracket the exact trace.
        res, X, y = trained(ctx.seed, ctx.seed, 0.4, None)
        est = numerics.eigen.hutchinson_trace(maths.networks.hessian_operator(res.net, X, y),
                                              samples=self.hutchinson_samples.pick(ctx), seed=ctx.seed)
        exact = maths.networks.trace_hessian(res.net, X, y).total
        inside = est.contains(exact)
        checked.parts["hutchinson"] = [Case(
            "Hutchinson CI (99%) on a trained net", Verdict.pass_if(inside),
            measured={"hutchinson": est.estimate, "half_width": est.half_width, "exact": exact,
                      "relative_error": abs(est.estimate - exact) / exact},
            note="exact trace inside the interval" if inside else "exact trace outside")]
        # Away from interpolation: |Tr H − Tr GN| against the rms residual along GD.
        checked.parts["gap"] = []
        for k, lr in enumerate(self.gap_runs.pick(ctx)):
            snaps = trajectory_residuals(ctx.seed, ctx.seed + k, lr, segments=8,
                                         seg_steps=self.segment_steps.pick(ctx), start_steps=300)
            xs = [s["rms_residual"] for s in snaps]
            ys = [s["abs_residual_trace"] for s in snaps]
            slope, stderr = numerics.statistics.loglog_fit(xs, ys)
            ok = abs(slope - self.expected_order) <= self.order_tol
            checked.parts["gap"].append(Case(
                f"gap order along GD η={lr}", Verdict.pass_if(ok),
                measured={"slope": slope, "stderr": stderr,
                          "relative_gap_at_start": float(ys[0] / snaps[0]["trace"]),
                          "relative_gap_at_end": float(ys[-1] / snaps[-1]["trace"]),
                          "rms_residual_range": [float(min(xs)), float(max(xs))]},
                expected={"slope": self.expected_order}, tolerance={"slope": self.order_tol},
                margin=self.order_tol - abs(slope - self.expected_order),
                note=f"|Tr H − Tr GN| ∝ rms(r)^{slope:.3f}", data={"lr": lr, "rms_residual": xs, "gap": ys}))

    def figures(self, checked: Checked) -> list[Figure]:
        return [Figure(kind="loglog", title="Gap between Tr H and the Gauss–Newton trace away from interpolation",
                       xlabel="rms residual", ylabel="|Tr H − (1/n)Σ‖∇fᵢ‖²|", xscale="log", yscale="log",
                       series=[Series(f"GD η={c.data['lr']}", c.data["rms_residual"], c.data["gap"], "points")
                               for c in checked.cases("gap")],
                       annotations={"expected_slope": self.expected_order})]


# --------------------------------------------------------------------------- 3. flatness bounds the Sobolev seminorm


@register
@dataclass(frozen=True, kw_only=True)
class SobolevFlatnessBound(PropertyClaim):
    id = "nets.sobolev-flatness"
    statement_kind = "theorem"
    title = "Flatness bounds the (1,2)-Sobolev seminorm of the net on the training set"
    source = (f"{MA_YING}, Sec. 2 (flatness → input gradient; constant ‖W‖₂²/minᵢ‖xᵢ‖² confirmed, equation number "
              "not checked against the paper)")
    statement = "at interpolation, (1/n) Σ ‖∇ₓf(xᵢ)‖² ≤ (‖W‖₂² / minᵢ‖xᵢ‖²) · Tr H"
    falsifier = "an interpolating net (exact or trained) whose mean squared input gradient exceeds the bound"
    tags = ("nets", "flatness", "sobolev", "hypothesis")
    examples = Sizes(25, 200)
    keys = (Key("trained_ratio_median", "ratio", "median", part="trained"),
            Key("trained_ratio_max", "ratio", "max", part="trained"),
            Key("bias_augmented_ratio_median", "bias_ratio", "median", part="trained"))
    summary = ("trained nets: LHS/bound median {trained_ratio_median:.3g} (max {trained_ratio_max:.3g}); "
               "bias-augmented bound ratio median {bias_augmented_ratio_median:.3g}")
    #: The links of the chain shown for the trained nets.
    links: ClassVar[tuple[str, ...]] = ("input_grad_sq_mean", "multiplicative_step", "min_x_step", "gauss_newton_step",
                                        "bound", "bias_augmented_bound")
    weight_norm: str = "spectral"
    x_power: float = 2.0
    coefficient: float = 1.0
    bias_free_examples: bool = True

    def _chain(self, net: Any, X: Any, y: Any) -> Any:
        return maths.networks.sobolev_chain(net, X, y, weight_norm=self.weight_norm, x_power=self.x_power,
                                            coefficient=self.coefficient)

    def strategy(self, ctx: RunContext) -> Any:
        maths.networks.weight_factor(np.eye(1), self.weight_norm)  # a bad name fails before any example runs
        return properties.strategies.interpolating_datasets()

    def more_properties(self, ctx: RunContext) -> list[tuple[str, Any, int]]:
        if not self.bias_free_examples:
            return []
        # Bias-free nets with small inputs: the only place a dropped 1/minᵢ‖xᵢ‖² can be caught (module docstring).
        nets = properties.strategies.two_layer_nets(bias=False)
        return [("bias-free", properties.strategies.interpolating_datasets(nets, norms=(0.01, 1.0)), 1)]

    def describe(self, instance: Any) -> Any:
        return describe_net_inputs(instance)

    def check(self, instance: Any, ctx: RunContext) -> Case:
        net, X, y = instance
        ch = self._chain(net, X, y)
        return inequality_case(f"exact interpolant m={net.width} bias={net.bias}", [ch.input_grad_sq_mean],
                               [ch.bound], {"lhs": ch.input_grad_sq_mean, "bound": ch.bound})

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        checked.parts["trained"] = []
        for s, lr in gd_runs(ctx):
            res, X, y = trained(ctx.seed, s, lr, None)
            if not res.reached:
                continue
            ch = self._chain(res.net, X, y)
            case = inequality_case(f"trained GD η={lr} seed={s}", [ch.input_grad_sq_mean], [ch.bound],
                                   {**ch.to_json(), "ratio": ch.input_grad_sq_mean / ch.bound,
                                    "bias_ratio": ch.input_grad_sq_mean / ch.bias_augmented_bound})
            checked.parts["trained"].append(case)

    def figures(self, checked: Checked) -> list[Figure]:
        rows = [[c.name] + [c.measured[k] for k in self.links] for c in checked.cases("trained")]
        return [Figure(kind="table", title="Each link of the flatness → Sobolev chain (trained nets)",
                       annotations={"columns": ["run", *self.links], "rows": rows})]

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        if not checked.cases("trained"):
            return "no trained run interpolated"
        return super().summarise(checked, key, verdict)


# --------------------------------------------------------------------------- 4. GD edge of stability


def edge_tolerance(net: Any, X: Any, y: Any) -> tuple[float, float, float]:
    """(λ_max H, λ_max GN, tol): tol is the relative change of λ_max due to the non-zero residual."""
    lam = numerics.eigen.lambda_max(maths.networks.hessian_operator(net, X, y))
    lam_gn = numerics.eigen.lambda_max_gauss_newton(maths.networks.per_sample_gradients(net, X))
    return lam, lam_gn, 1e-9 + 10 * abs(lam - lam_gn) / max(lam, 1e-300)


@register
@dataclass(frozen=True, kw_only=True)
class GdEdgeOfStability(PropertyClaim):
    id = "nets.gd-edge-of-stability"
    statement_kind = "theorem"
    title = "GD converges only to minima with λ_max(H) ≤ 2/η"
    source = (f"linear stability of GD at a minimum ({WU_MA_E}; {MA_YING}, Sec. 3 with B = n)")
    statement = "if GD with rate η converges to an interpolating minimum θ*, then η·λ_max(∇²L(θ*)) ≤ 2"
    falsifier = "a GD run that interpolates with η·λ_max(H) > 2 beyond the finite-residual tolerance"
    tags = ("nets", "stability", "hypothesis")
    examples = Sizes(4, 60)
    # quick mode keeps the first failing example unshrunk: shrinking re-trains GD many times
    shrink_in_quick = False
    keys = (Key("max_eta_lambda", "eta_lambda_max", "max", part="trained"), Key("min_margin", "margin", "min"))
    summary = "max η·λ_max on trained nets {max_eta_lambda:.4f} (≤ {threshold}); {not_reached} runs did not interpolate"
    threshold: float = STABILITY_CONSTANT

    def _case(self, name: str, res: Any, X: Any, y: Any) -> Case:
        lam, lam_gn, tol = edge_tolerance(res.net, X, y)
        s = res.lr * lam / self.threshold
        ok = s <= 1 + tol
        return Case(name, Verdict.pass_if(ok),
                    measured={"eta_lambda_max": res.lr * lam, "lambda_max": lam, "lambda_max_gauss_newton": lam_gn,
                              "train_loss": res.train_loss, "steps": res.steps},
                    expected={"eta_lambda_max_at_most": self.threshold}, tolerance={"relative": tol},
                    margin=1 - s, note=f"η·λ_max = {res.lr * lam:.4f} (threshold {self.threshold})",
                    data={"lr": res.lr})

    def strategy(self, ctx: RunContext) -> Any:
        st = hypothesis.strategies
        nets = properties.strategies.two_layer_nets(width=st.integers(1, 6))
        return st.tuples(properties.strategies.interpolating_datasets(nets, n=st.integers(2, 6), norms=(0.3, 3.0)),
                         st.floats(0.3, 1.6))

    def describe(self, instance: Any) -> Any:
        return {**describe_net_inputs(instance[0][:2]), "c": instance[1]}

    def check(self, instance: Any, ctx: RunContext) -> Case:
        (net, X, y), c = instance
        lam0 = numerics.eigen.lambda_max(maths.networks.hessian_operator(net, X, y))
        hypothesis.assume(lam0 > 1e-6)
        lr = c * 2.0 / lam0
        res = numerics.training.train(perturbed(net, 0), X, y, "gd", lr, steps=2000, tol=1e-16)
        hypothesis.assume(res.reached)  # a minimum GD does not return to says nothing about the claim
        return self._case(f"random minimum, η = {c:.3f}·2/λ₀", res, X, y)

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        checked.parts["trained"], not_reached = [], []
        for s, lr in gd_runs(ctx) + [(ctx.seed, 0.45)]:
            res, X, y = trained(ctx.seed, s, lr, None)
            if res.reached:
                checked.parts["trained"].append(self._case(f"trained GD η={lr} seed={s}", res, X, y))
            else:
                not_reached.append({"seed": s, "lr": lr, "status": res.status})
        checked.settings["not_interpolated"] = not_reached
        checked.extra["not_reached"] = len(not_reached)

    def figures(self, checked: Checked) -> list[Figure]:
        xs = checked.values("lr", "trained")
        ys = checked.values("lambda_max", "trained")
        grid = np.linspace(min(xs), max(xs), 20).tolist() if xs else []
        return [Figure(kind="curve", title="Sharpness of GD solutions against the 2/η threshold", xlabel="η",
                       ylabel="λ_max(H)", yscale="log",
                       series=[Series("converged GD", xs, ys, "points"),
                               Series(f"{self.threshold}/η", grid, [self.threshold / g for g in grid], "dashed")])]


# --------------------------------------------------------------------------- 5. SGD linear stability


# Pinned like Hypothesis' @example: (data seed, init seed, η, B, steps). SGD interpolates here although the
# all-batches second-moment map of its linearisation has spectral radius 1.11 (η/η* = 1.03): a finding that
# holds in every run, independent of what the generated part happens to hit.
PINNED_SGD_RUNS: tuple[tuple[int, int, float, int, int], ...] = ((0, 1, 0.4, 6, 8000),)
#: (init seed offset, η, B) of the shared SGD runs.
SGD_RUNS = Sizes(quick=[(s, lr, B) for s in range(2) for lr, B in ((0.3, 4), (0.4, 6), (0.3, 2))],
                 full=[(s, lr, B) for s in range(8) for lr, B in ((0.3, 4), (0.4, 6), (0.3, 2))])


@register
@dataclass(frozen=True, kw_only=True)
class SgdLinearStability(PropertyClaim):
    id = "nets.sgd-linear-stability"
    statement_kind = "heuristic"
    expect = "finding"
    title = "SGD tends to select minima that are linearly stable in mean square for its (η, B) (selection heuristic)"
    source = (f"{MA_YING}: Thm. 1 + Cor. 3 concern the second moment of the linearised SGD dynamics (as restated by "
              f"{MULAYOFF_MICHAELI}, Thm. 2); that SGD \"tends to\" select such minima is their informal reading, "
              "tested here; closed form η* = 2/λ_max(C⁺D): Mulayoff & Michaeli Thm. 3; necessary bounds: their "
              "Prop. 3")
    statement = ("the selection heuristic: if SGD (rate η, batch B drawn without replacement) converges to an "
                 "interpolating minimum of the square loss, then η ≤ η*(B) = 2/λ_max(C⁺D) with Hᵢ = ∇fᵢ∇fᵢᵀ; hence "
                 "also Tr H ≤ 2(B(n−1))/(η(n−B)). A run above η* is consistent with the theorem (the second moment "
                 "of the linearisation diverges while a typical path may still contract) and dents only the "
                 "heuristic.")
    falsifier = "a converged SGD run with η > η*(B) beyond the finite-residual tolerance"
    tags = ("nets", "stability", "sgd", "hypothesis")
    examples = Sizes(6, 50)
    # quick mode keeps the first failing example unshrunk: shrinking re-trains SGD dozens of times
    shrink_in_quick = False
    lyapunov_steps: ClassVar[Sizes] = Sizes(500, 3000)
    keys = (Key("max_eta_over_eta_star", "eta_over_eta_star", "max", part="trained"),
            Key("median_eta_over_eta_star", "eta_over_eta_star", "median", part="trained"),
            Key("violations", reduce="failures"))
    threshold: float = STABILITY_CONSTANT
    runs: tuple[tuple[int, float, int], ...] | None = None
    hypothesis_part: bool = True
    pinned_runs: bool = True

    def _case(self, name: str, res: Any, X: Any, y: Any, seed: int, ctx: RunContext) -> Case:
        G = maths.networks.per_sample_gradients(res.net, X)
        B = res.batch
        P = maths.stability.problem_from_features(G)
        p = maths.sampling.sampling_factor(P.n, B, "without")
        eta_star = numerics.stability.critical_rate(P, p) * self.threshold / STABILITY_CONSTANT
        conditions = maths.stability.published_conditions(P, B, "without")
        tr = maths.networks.trace_hessian(res.net, X, y)
        tol = 1e-9 + 10 * abs(tr.residual) / tr.total
        ratio = res.lr / eta_star
        ok = ratio <= 1 + tol
        lyap = numerics.stability.lyapunov_exponent(P, res.lr, B, self.lyapunov_steps.pick(ctx), seed)
        return Case(name, Verdict.pass_if(ok),
                    measured={"eta_over_eta_star": ratio, "eta_star": eta_star, "trace": tr.total,
                              "eta_over_trace_bound": res.lr / conditions["mulayoff_michaeli_16"]["threshold"],
                              "eta_over_gd_bound": res.lr / conditions["gd_sharpness"]["threshold"],
                              "eta_over_flatness_bound": res.lr / conditions["ma_ying_flatness"]["threshold"],
                              "lyapunov_exponent": lyap, "train_loss": res.train_loss, "steps": res.steps},
                    expected={"eta_over_eta_star_at_most": 1.0}, tolerance={"relative": tol}, margin=1 - ratio,
                    note=(f"η/η* = {ratio:.4f}" + ("" if ok else
                          f"; converged although mean-square unstable (Lyapunov exponent {lyap:.3g}/step)")),
                    data={"lr": res.lr, "batch": B, "net": res.net.to_json()})

    def strategy(self, ctx: RunContext) -> Any:
        st = hypothesis.strategies
        nets = properties.strategies.two_layer_nets(width=st.integers(1, 5))
        return st.tuples(properties.strategies.interpolating_datasets(nets, n=st.integers(3, 6), norms=(0.3, 3.0)),
                         st.floats(0.3, 1.6), st.floats(0.1, 0.9))

    def describe(self, instance: Any) -> Any:
        return {**describe_net_inputs(instance[0]), "c": instance[1], "batch_fraction": instance[2]}

    def check(self, instance: Any, ctx: RunContext) -> Case:
        (net, X, y), c, bfrac = instance
        n = len(y)
        B = max(1, min(n - 1, int(round(bfrac * n))))
        eta0 = numerics.stability.critical_learning_rate_features(maths.networks.per_sample_gradients(net, X), B,
                                                                  "without")
        hypothesis.assume(math.isfinite(eta0))
        res = numerics.training.train(perturbed(net, 1), X, y, "sgd", c * eta0, batch=B, seed=0, steps=3000, tol=1e-20)
        hypothesis.assume(res.reached)
        return self._case(f"random minimum, η = {c:.3f}·η*₀, B={B}/{n}", res, X, y, ctx.seed, ctx)

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        checked.parts["trained"], not_reached = [], []
        runs = self.runs if self.runs is not None else [(ctx.seed + s, lr, B) for s, lr, B in SGD_RUNS.pick(ctx)]
        for s, lr, B in runs:
            res, X, y = trained(ctx.seed, s, lr, B)
            if res.reached:
                checked.parts["trained"].append(self._case(f"trained SGD η={lr} B={B} seed={s}", res, X, y, s, ctx))
            else:
                not_reached.append({"seed": s, "lr": lr, "batch": B, "status": res.status})
        for data_seed, init_seed, lr, B, steps in (PINNED_SGD_RUNS if self.pinned_runs else ()):
            res, X, y = trained(data_seed, init_seed, lr, B, steps=steps, tol=1e-12)
            if res.reached:
                checked.parts["trained"].append(self._case(
                    f"trained SGD η={lr} B={B} data seed {data_seed} init seed {init_seed} (pinned)",
                    res, X, y, init_seed, ctx))
        checked.settings.update({"not_interpolated": not_reached, "sampling": "without replacement"})

    def evaluate(self, ctx: RunContext) -> Evidence:
        if self.hypothesis_part:
            checked = self.run_properties(ctx)
        else:
            checked = Checked()
            self.fixed(ctx, checked)
        violations = [c for c in checked.cases() if c.verdict is Verdict.FAIL]
        if violations:
            worst = max(violations, key=lambda c: c.measured["eta_over_eta_star"])
            checked.counterexample = {"case": worst.name, "measured": worst.measured, "example": worst.data}
        return self.assemble(checked)

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        if not checked.cases("trained"):
            return "no SGD run interpolated"
        return (f"trained SGD: η/η*(B) median {key['median_eta_over_eta_star']:.3f}, max "
                f"{key['max_eta_over_eta_star']:.4f}; {key['violations']} of {len(checked.cases())} converged runs "
                "above η*")

    def explain(self, checked: Checked, verdict: Verdict) -> str:
        if verdict is Verdict.FAIL:
            return ("selection heuristic not borne out, the theorem untouched: converged SGD runs sit above the "
                    "mean-square threshold η*(B): the second moment of the "
                    "linearisation grows while a typical trajectory (negative Lyapunov exponent) contracts; "
                    "cf. probabilistic stability, Ziyin et al., arXiv:2303.13093, and the Lyapunov-exponent "
                    "criterion of Chemnitz & Engel, arXiv:2407.20209")
        return super().explain(checked, verdict)


# --------------------------------------------------------------------------- 6. flatness vs (η, B)


@register
@dataclass(frozen=True, kw_only=True)
class FlatnessVsHyperparameters(Claim):
    id = "nets.flatness-vs-lr-batch"
    statement_kind = "heuristic"
    title = "Flatness at convergence decreases as η grows or B shrinks"
    source = (f"{MA_YING}, Sec. 3–4 (flatness bounded through η and B by linear stability; Tr H ≤ 2/(ηp) follows "
              f"from {MULAYOFF_MICHAELI}, Prop. 3 eq. 16)")
    statement = "Tr H at the solution found decreases with the learning rate η and increases with the batch size B"
    falsifier = "a significant (p < α) rank correlation of Tr H with η that is positive, or with B that is negative"
    tags = ("nets", "flatness", "sweep", "statistics")
    seeds: ClassVar[Sizes] = Sizes(3, 8)
    n: ClassVar[int] = 12
    rates: ClassVar[tuple[float, ...]] = (0.15, 0.25, 0.35)
    batches: ClassVar[tuple[int, ...]] = (3, 6, 12)
    lr_sign: int = -1
    batch_sign: int = +1
    alpha: float = 0.01

    def evaluate(self, ctx: RunContext) -> Evidence:
        seeds = [ctx.seed + s for s in range(self.seeds.pick(ctx))]
        traces: dict[tuple[int, int, float], float] = {}
        not_reached = []
        for s in seeds:
            for B in self.batches:
                for lr in self.rates:
                    res, X, y = trained(ctx.seed, s, lr, B, steps=4000)
                    if res.reached:
                        traces[(s, B, lr)] = maths.networks.trace_hessian(res.net, X, y).total
                    else:
                        not_reached.append({"lr": lr, "batch": B, "seed": s, "status": res.status})
        cases = []
        # Page's L test for an ordered trend over repeated measures: one block per (seed, other factor),
        # so seed-to-seed differences in the minimum found do not drown the within-seed trend.
        designs = (("η", [[(s, B, lr) for lr in self.rates] for s in seeds for B in self.batches], self.lr_sign),
                   ("B", [[(s, B, lr) for B in self.batches] for s in seeds for lr in self.rates], self.batch_sign))
        for what, blocks, sign in designs:
            rows = [[traces[k] for k in blk] for blk in blocks if all(k in traces for k in blk)]
            if len(rows) < 2:
                cases.append(Case(f"Tr H against {what}", Verdict.INCONCLUSIVE, note="fewer than 2 complete blocks"))
                continue
            # Page tests an increasing trend across columns; a predicted decrease (sign < 0) reverses them.
            p_pred, p_anti = numerics.statistics.trend_pvalues([r[::-1] for r in rows] if sign < 0 else rows)
            if p_pred < self.alpha:
                v, note = Verdict.PASS, f"Page L test p = {p_pred:.2g} for the predicted trend"
            elif p_anti < self.alpha:
                v, note = Verdict.FAIL, f"Page L test p = {p_anti:.2g} for the opposite trend"
            else:
                v, note = Verdict.INCONCLUSIVE, (f"no significant trend (p = {p_pred:.2g} / {p_anti:.2g}, "
                                                 f"α = {self.alpha})")
            cases.append(Case(f"Tr H against {what}", v, measured={"p_predicted": p_pred, "p_opposite": p_anti,
                                                                   "blocks": len(rows)},
                              expected={"trend": "decreasing" if sign < 0 else "increasing"},
                              tolerance={"alpha": self.alpha}, note=note))
        table = {}
        for lr in self.rates:
            for B in self.batches:
                vals = np.array([traces[(s, B, lr)] for s in seeds if (s, B, lr) in traces])
                p = maths.sampling.sampling_factor(self.n, B, "without")
                table[f"lr={lr},B={B}"] = {"mean_trace": float(vals.mean()) if len(vals) else math.nan,
                                           "std_trace": float(vals.std(ddof=1)) if len(vals) > 1 else math.nan,
                                           "runs": len(vals),
                                           "bound_2_over_eta_p": FLATNESS_CONSTANT / (lr * p) if p > 0 else math.inf}
        checked = Checked(parts={"trends": cases}, figures=[self._figure(traces, table)],
                          extra={"converged": len(traces)},
                          settings={"table": table, "not_interpolated": not_reached})
        return self.assemble(checked)

    def _figure(self, traces: dict[tuple[int, int, float], float], table: dict[str, dict[str, float]]) -> Figure:
        series = []
        for B in self.batches:
            xs = [lr for lr in self.rates if table[f"lr={lr},B={B}"]["runs"]]
            series.append(Series(f"B={B}", xs, [table[f"lr={lr},B={B}"]["mean_trace"] for lr in xs], "line"))
            p = maths.sampling.sampling_factor(self.n, B, "without")
            if p > 0:
                series.append(Series(f"bound 2/(ηp), B={B}", list(self.rates),
                                     [FLATNESS_CONSTANT / (lr * p) for lr in self.rates], "dashed"))
        return Figure(kind="curve", title="Flatness Tr H at convergence against η, per batch size", xlabel="η",
                      ylabel="Tr H", yscale="log", series=series,
                      annotations={"points": [[k[2], k[1], k[0], v] for k, v in sorted(traces.items())],
                                   "points_columns": ["lr", "batch", "seed", "trace"]})

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        by_name = {c.name: c for c in checked.cases()}
        return {"p_lr": by_name["Tr H against η"].measured.get("p_predicted", math.nan),
                "p_batch": by_name["Tr H against B"].measured.get("p_predicted", math.nan)}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        trends = "; ".join(f"{c.name}: {c.note}" for c in checked.cases())
        return f"{trends} ({checked.extra['converged']} converged runs)"


# --------------------------------------------------------------------------- 7–8. robustness and generalisation


@register
@dataclass(frozen=True, kw_only=True)
class AdversarialRobustness(PropertyClaim):
    id = "nets.adversarial-robustness"
    statement_kind = "theorem"
    title = "Flat interpolating nets change little under small input perturbations"
    source = (f"{MA_YING}, Sec. 4 (adversarial robustness corollary; theorem number not checked against the paper). "
              "Checked here in the deterministic core: a Taylor bound with the flatness-controlled first-order term")
    statement = ("for ‖u‖ ≤ ε: |f(xᵢ+u) − f(xᵢ)| ≤ ε‖∇ₓf(xᵢ)‖ + (ε²/2)K, K = sup‖∇²ₓf‖; averaged over the training "
                 "set, mean_i max_u |f(xᵢ+u) − yᵢ| ≤ ε·√((‖W‖₂²/minᵢ‖xᵢ‖²)·Tr H) + (ε²/2)K at interpolation")
    falsifier = "a perturbation (found by projected gradient ascent) that changes f by more than the bound"
    tags = ("nets", "robustness", "hypothesis")
    examples = Sizes(20, 150)
    keys = (Key("max_flatness_form_ratio", "max_ratio", "max", part="flatness form"),)
    summary = "flatness-form bound used at most {max_flatness_form_ratio:.3g} of its budget"
    radii: ClassVar[tuple[float, ...]] = (0.01, 0.1, 0.3)
    remainder_factor: float = 1.0

    def _bound(self, net: Any, X: Any, eps: float) -> Any:
        first = eps * np.linalg.norm(maths.networks.input_gradients(net, X), axis=1)
        return first + self.remainder_factor * 0.5 * eps**2 * maths.networks.input_curvature_bound(net)

    def strategy(self, ctx: RunContext) -> Any:
        st = hypothesis.strategies
        return st.tuples(properties.strategies.nets_and_inputs(norms=(0.3, 3.0)), st.floats(0.01, 1.0))

    def describe(self, instance: Any) -> Any:
        return {**describe_net_inputs(instance[0]), "eps": instance[1]}

    def check(self, instance: Any, ctx: RunContext) -> Case:
        (net, X), eps = instance
        change = numerics.attack.attack(net, X, eps, steps=10)
        return inequality_case(f"random net, ε={eps:.3g}", change, self._bound(net, X, eps))

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        checked.parts["pointwise"], checked.parts["flatness form"] = [], []
        for s, lr in gd_runs(ctx)[:2]:
            res, X, y = trained(ctx.seed, s, lr, None)
            if not res.reached:
                continue
            net = res.net
            K = maths.networks.input_curvature_bound(net)
            sobolev = maths.networks.sobolev_chain(net, X, y).bound
            for eps in self.radii:
                change = numerics.attack.attack(net, X, eps)
                checked.parts["pointwise"].append(inequality_case(f"trained η={lr} seed={s} ε={eps} pointwise", change,
                                                                  self._bound(net, X, eps)))
                agg_bound = eps * math.sqrt(sobolev) + self.remainder_factor * 0.5 * eps**2 * K
                worst_loss = float(np.mean(np.abs(net(X) - y) + change))
                checked.parts["flatness form"].append(inequality_case(
                    f"trained η={lr} seed={s} ε={eps} flatness form", [worst_loss], [agg_bound],
                    {"mean_change": worst_loss, "bound": agg_bound,
                     "first_order_share": eps * math.sqrt(sobolev) / agg_bound, "eps": eps}))

    def figures(self, checked: Checked) -> list[Figure]:
        agg = checked.cases("flatness form")
        xs = [c.measured["eps"] for c in agg]
        return [Figure(kind="loglog", title="Adversarial change vs the flatness bound (trained nets)", xlabel="ε",
                       ylabel="mean max |Δf|", xscale="log", yscale="log",
                       series=[Series("attack", xs, [c.measured["mean_change"] for c in agg], "points"),
                               Series("bound", xs, [c.measured["bound"] for c in agg], "dashed")])]

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        return super().summarise(checked, key, verdict) if checked.cases("flatness form") else "no trained run"


@register
@dataclass(frozen=True, kw_only=True)
class GeneralisationNearTrainingSet(PropertyClaim):
    id = "nets.generalisation-near-training-set"
    statement_kind = "theorem"
    title = "Near the training set, test error is controlled by flatness and the target's gradient"
    source = (f"{MA_YING}, Sec. 4 (generalisation bound: Sobolev term of f, gradient term of the target, and the "
              "probability of leaving the training neighbourhoods; theorem number not checked against the paper). "
              "The probabilistic third term is avoided by testing only inside radius-r neighbourhoods")
    statement = ("for x with ‖x − xᵢ‖ ≤ r and an interpolating f: |f(x) − f*(x)| ≤ r(‖∇f(xᵢ)‖ + ‖∇f*(xᵢ)‖) + "
                 "(r²/2)(K + K*); averaged: ≤ r(√((‖W‖₂²/minᵢ‖xᵢ‖²)·Tr H) + √(mean‖∇f*(xᵢ)‖²)) + (r²/2)(K + K*)")
    falsifier = "a test point (or average) whose error exceeds the bound"
    tags = ("nets", "generalisation", "hypothesis")
    examples = Sizes(20, 150)
    keys = (Key("max_ratio_flatness_form", "ratio", "max", part="flatness form"),)
    summary = "trained student: mean test error used at most {max_ratio_flatness_form:.3g} of the flatness-form bound"
    student_steps: ClassVar[Sizes] = Sizes(6000, 20000)
    radii: ClassVar[tuple[float, ...]] = (0.01, 0.05, 0.2)
    teacher_term: float = 1.0

    def _bound_terms(self, f: Any, fstar: Any, Xtr: Any) -> tuple[Any, Any, float]:
        gf = np.linalg.norm(maths.networks.input_gradients(f, Xtr), axis=1)
        gs = np.linalg.norm(maths.networks.input_gradients(fstar, Xtr), axis=1)
        K = maths.networks.input_curvature_bound(f) + self.teacher_term * maths.networks.input_curvature_bound(fstar)
        return gf, self.teacher_term * gs, K

    def strategy(self, ctx: RunContext) -> Any:
        st = hypothesis.strategies
        nets = properties.strategies.two_layer_nets(dim=st.integers(1, 4), activation="tanh",
                                                    scale=st.floats(0.2, 1.0))
        return st.tuples(properties.strategies.nets_and_inputs(nets, norms=(0.3, 3.0)), st.integers(0, 2**31 - 1),
                         st.floats(0.01, 0.5))

    def describe(self, instance: Any) -> Any:
        return {**describe_net_inputs(instance[0]), "teacher_seed": instance[1], "r": instance[2]}

    def check(self, instance: Any, ctx: RunContext) -> Case:
        (f, Xtr), seed, r = instance
        fstar = maths.datasets.teacher(seed, d=f.dim, scale=3.0)
        rng = np.random.default_rng(seed)
        U = rng.standard_normal(Xtr.shape)
        U *= r / np.linalg.norm(U, axis=1, keepdims=True)
        gf, gs, K = self._bound_terms(f, fstar, Xtr)
        err = np.abs(f(Xtr + U) - fstar(Xtr + U))
        bound = np.abs(f(Xtr) - fstar(Xtr)) + r * (gf + gs) + 0.5 * r**2 * K
        return inequality_case(f"random nets, r={r:.3g}", err, bound)

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        # Trained: a student interpolates a steep teacher on n points; test points in radius-r shells.
        fstar = maths.datasets.teacher(ctx.seed)
        rng = np.random.default_rng(ctx.seed)
        Xtr = rng.standard_normal((12, 4))
        ytr = fstar(Xtr)
        res = numerics.training.train(maths.networks.init_net(4, 16, seed=ctx.seed, scale=1.0), Xtr, ytr, "gd", 0.1,
                                      steps=self.student_steps.pick(ctx), tol=1e-10)
        if not res.reached:
            checked.parts["student"] = [Case("trained student", Verdict.INCONCLUSIVE,
                                             measured={"train_loss": res.train_loss},
                                             note=f"student did not interpolate ({res.status})")]
            return
        f = res.net
        gf, gs, K = self._bound_terms(f, fstar, Xtr)
        sobolev = maths.networks.sobolev_chain(f, Xtr, ytr).bound
        reps = 20
        checked.parts["pointwise"], checked.parts["flatness form"] = [], []
        for r in self.radii:
            U = rng.standard_normal((reps, *Xtr.shape))
            U *= r / np.linalg.norm(U, axis=2, keepdims=True)
            err = np.abs(f(Xtr + U) - fstar(Xtr + U))  # shape (reps, n) via broadcasting matmul
            pt_bound = np.abs(f(Xtr) - ytr) + r * (gf + gs) + 0.5 * r**2 * K
            checked.parts["pointwise"].append(inequality_case(f"trained, r={r} pointwise", err.max(axis=0), pt_bound))
            mean_err = float(err.mean())
            agg = r * (math.sqrt(sobolev) + math.sqrt(float(np.mean(gs**2)))) + 0.5 * r**2 * K + float(
                np.mean(np.abs(f(Xtr) - ytr)))
            checked.parts["flatness form"].append(inequality_case(
                f"trained, r={r} flatness form", [mean_err], [agg],
                {"mean_test_error": mean_err, "bound": agg, "ratio": mean_err / agg}))

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        if not checked.cases("flatness form"):
            return "student did not interpolate"
        return super().summarise(checked, key, verdict)


__all__ = ["AdversarialRobustness", "FlatnessVsHyperparameters", "GD_RUNS", "GaussNewtonTrace", "GdEdgeOfStability",
           "GeneralisationNearTrainingSet", "MultiplicativeInequality", "PINNED_SGD_RUNS", "SGD_RUNS",
           "SgdLinearStability", "SobolevFlatnessBound", "describe_net_inputs", "edge_tolerance", "gd_runs",
           "perturbed", "trained", "trajectory_residuals"]
