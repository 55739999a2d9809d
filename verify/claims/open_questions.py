"""The two questions Ma & Ying's programme leaves open, as extrapolations that can fail.

Ma & Ying (NeurIPS 2021) bound the (1,2)-Sobolev seminorm of a network on its
training set by flatness, through the multiplicative structure of the first
layer, at a minimum that interpolates; the talk that presents the work (C. Ma,
BAAI Conference 2021) closes by leaving deeper networks and minima that do
not interpolate to future work. Both are checked here as extrapolations.

**Depth** (``nets.deep-multiplicative``). Whatever the layers above compute, the
input enters only through z₁ = W₁x + b₁. With δ = ∂f/∂z₁ the chain rule gives
∇ₓf = W₁ᵀδ and ∇_{W₁}f = δxᵀ, hence at every depth

    ‖∇ₓf(x)‖ ≤ ‖W₁‖₂‖δ‖ = ‖W₁‖₂‖∇_{W₁}f(x)‖_F/‖x‖,
    (1/n)Σᵢ‖∇ₓfᵢ‖² ≤ (‖W₁‖₂²/minᵢ‖xᵢ‖²)(1/n)Σᵢ‖∇_{W₁}fᵢ‖² ≤ (‖W₁‖₂²/minᵢ‖xᵢ‖²)·Tr GN,

and at interpolation Tr GN = (1/n)Σ‖∇_θfᵢ‖² = Tr H. The derivation says the
bound survives depth; what depth can change is how much of the flatness the
first layer carries (the share Σ‖∇_{W₁}fᵢ‖²/Σ‖∇_θfᵢ‖²), hence how loose the
bound becomes. The check measures both on tanh nets of depth 2, 3 and 4
trained to interpolation, through the model protocol (autograd derivatives of
``f(params, x)``), at the training inputs and at probes of 0.1× and 3× their
norm (the inequality is pointwise, for every x ≠ 0).

**Non-interpolating minima** (``nets.sobolev-non-interpolating``). With
residuals rᵢ = f(xᵢ) − yᵢ, ∇²L = (1/n)JᵀJ + (1/n)Σᵢrᵢ∇²_θfᵢ, so

    Tr H = (1/n)Σᵢ‖∇_θfᵢ‖² + R,    R = (1/n)Σᵢ rᵢ Tr∇²_θfᵢ,

and the chain above bounds the Sobolev seminorm by the Gauss–Newton part only:
(1/n)Σ‖∇ₓfᵢ‖² ≤ (‖W‖₂²/minᵢ‖xᵢ‖²)(Tr H − R). The interpolation form
(‖W‖₂²/minᵢ‖xᵢ‖²)·Tr H follows from it when R ≥ 0 and may fail when R < 0. The
check computes Tr H by autograd's Hessian and R from the closed-form
per-sample traces (independently), at exact non-interpolating minima
(constructed: residuals orthogonal to every per-sample gradient, the residual
part as negative as positive definiteness allows), at minima of
under-parameterised nets found by L-BFGS, and at one pinned minimum (a single
bias-free tanh neuron on eight unit inputs) where the interpolation form is
exceeded: the residual term is needed, not a refinement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import lazy_loader as lazy

from theorycheck import maths, numerics, properties
from theorycheck.claims.base import Checked, Claim, Key, RunContext, Sizes
from theorycheck.claims.kinds import PropertyClaim, inequality_case
from theorycheck.claims.registry import register
from theorycheck.claims.sources import MA_TALK, MA_YING
from theorycheck.core.evidence import Case, Evidence, Figure, Series, Verdict

np = lazy.load("numpy")


# --------------------------------------------------------------------------- depth 3 and 4


def deep_minimum(dims: tuple[int, ...], data_seed: int, init_seed: int, n: int = 12) -> tuple[Any, Any, Any, Any]:
    """(net, minimum, X, y): a :class:`~theorycheck.maths.deep_networks.DeepNet` of widths ``dims`` trained by
    L-BFGS on :func:`~theorycheck.maths.datasets.sine_regression` (n points in dimension dims[0])."""
    X, y = maths.datasets.sine_regression(data_seed, n, dims[0])
    net = maths.deep_networks.DeepNet(dims)
    found = numerics.minimise.minimise(net.loss_and_gradient(X, y), net.init(init_seed), gtol=1e-11)
    return net, found, X, y


@register
@dataclass(frozen=True, kw_only=True)
class DeepFirstLayerBound(Claim):
    id = "nets.deep-multiplicative"
    statement_kind = "extrapolation"
    title = "Depth 3 and 4: the first-layer multiplicative bound and flatness bounding the Sobolev seminorm"
    source = (f"Extrapolation of {MA_YING}, Sec. 2 (the multiplicative structure of the first layer; the flatness → "
              f"Sobolev bound at interpolation, eq. 6), to depth 3 and 4; deeper networks are left open in {MA_TALK}")
    statement = ("For tanh nets of depth 3 and 4 (and 2, the paper's case, for comparison) trained to interpolation: "
                 "‖∇ₓf(x)‖ ≤ ‖W₁‖₂‖∇_{W₁}f(x)‖_F/‖x‖ at the training inputs and at probes of 0.1× and 3× their norm, "
                 "and (1/n)Σ‖∇ₓf(xᵢ)‖² ≤ (‖W₁‖₂²/minᵢ‖xᵢ‖²)·Tr H with Tr H = (1/n)Σ‖∇_θfᵢ‖² at interpolation. "
                 "Derived to hold at any depth (the input enters only through W₁x + b₁); the first layer's share of "
                 "Tr H, which sets how loose the bound is, is measured per depth.")
    falsifier = ("a trained deep net and an input with ‖∇ₓf‖ > ‖W₁‖₂‖∇_{W₁}f‖_F/‖x‖ beyond rounding, a mean squared "
                 "input gradient above the flatness bound, or (full mode) Tr H ≠ (1/n)Σ‖∇_θfᵢ‖² at interpolation")
    tags = ("nets", "multiplicative", "sobolev", "depth", "open-question")
    keys = (Key("ratio_max", "max_ratio", "max", part="multiplicative"),
            Key("sobolev_ratio_max", "max_ratio", "max", part="sobolev"),
            Key("worst_margin", "margin", "min"))
    depths: ClassVar[tuple[int, ...]] = (2, 3, 4)
    width: ClassVar[int] = 8
    seeds: ClassVar[Sizes] = Sizes(2, 5)
    probe_scales: ClassVar[tuple[float, ...]] = (0.1, 3.0)
    #: Tr H by p Hessian-vector products (seconds per net) in full mode; quick mode uses Tr GN = Tr H at interpolation
    exact_trace: ClassVar[Sizes] = Sizes(False, True)
    #: A net counts as interpolating when every |f(xᵢ) − yᵢ| is below this.
    interpolation_tol: ClassVar[float] = 1e-7
    weight_norm: str = "spectral"
    x_power: float = 1.0

    def _model(self, net: Any) -> tuple[Any, Any]:
        return maths.models.model(net, "autograd"), numerics.models.FirstLayer(*net.first_layer)

    def _sides(self, md: Any, fl: Any, theta: Any, X: Any) -> tuple[Any, Any]:
        """(‖∇ₓf‖, c(W₁)‖∇_{W₁}f‖_F/‖x‖^x_power) per input: the paper's constants unless a mutant changes them."""
        lhs, rhs = numerics.models.multiplicative_at(md.at(theta, X), fl)
        W1 = fl.weight(theta)
        factor = maths.networks.weight_factor(W1, self.weight_norm) / maths.networks.spectral_norm(W1)
        return lhs, rhs * factor * np.linalg.norm(X, axis=1) ** (1.0 - self.x_power)

    def evaluate(self, ctx: RunContext) -> Evidence:
        maths.networks.weight_factor(np.eye(1), self.weight_norm)  # a bad name fails before any training
        checked = Checked(parts={"multiplicative": [], "sobolev": [], "trace": [], "equality": []})
        not_interpolated = []
        exact = self.exact_trace.pick(ctx)
        for depth in self.depths:
            for s in range(self.seeds.pick(ctx)):
                dims = (4,) + (self.width,) * (depth - 1)
                net, found, X, y = deep_minimum(dims, ctx.seed, ctx.seed + s)
                md, fl = self._model(net)
                th = found.theta
                point = md.at(th, X, y)
                worst_r = float(np.max(np.abs(point.outputs()[:, 0] - y)))
                if worst_r > self.interpolation_tol:
                    not_interpolated.append({"depth": depth, "seed": ctx.seed + s, "max_abs_residual": worst_r})
                    continue
                name = f"depth {depth} seed {ctx.seed + s}"
                probes = np.concatenate([X] + [c * X for c in self.probe_scales])
                lhs, rhs = self._sides(md, fl, th, probes)
                G = point.per_sample_gradients()
                share = float(np.sum(G[:, fl.indices()] ** 2) / np.sum(G**2))
                case = inequality_case(f"{name}: multiplicative, {len(probes)} inputs", lhs, rhs)
                case.data.update({"depth": depth, "ratios": (lhs / rhs).tolist(), "lhs": lhs.tolist(),
                                  "rhs": rhs.tolist()})
                checked.parts["multiplicative"].append(case)
                sob = numerics.models.sobolev_at(point, fl)
                W1 = fl.weight(th)
                bound = sob["bound"] * (maths.networks.weight_factor(W1, self.weight_norm)
                                        / maths.networks.spectral_norm(W1)) ** 2
                checked.parts["sobolev"].append(inequality_case(
                    f"{name}: flatness bounds the Sobolev seminorm", [sob["input_grad_sq_mean"]], [bound],
                    {"depth": depth, "input_grad_sq_mean": sob["input_grad_sq_mean"], "bound": bound,
                     "first_layer_share": share, "params": int(th.size), "max_abs_residual": worst_r,
                     "lbfgs_iterations": found.iterations}))
                if exact:
                    tr = numerics.models.hessian_trace(point).estimate
                    gn = numerics.models.gauss_newton_trace(point)
                    rel = abs(tr - gn) / gn
                    checked.parts["trace"].append(Case(
                        f"{name}: Tr H = (1/n)Σ‖∇_θfᵢ‖² at interpolation", Verdict.pass_if(rel <= 1e-6),
                        measured={"trace": tr, "gauss_newton": gn, "relative_gap": rel},
                        tolerance={"relative": 1e-6}, margin=1e-6 - rel))
        # first-layer width 1: W₁ = wᵀ has rank one and δ is a scalar, so the bound is attained at every input
        one = maths.deep_networks.DeepNet((4, 1, self.width))
        th = one.init(ctx.seed)
        X = maths.datasets.sine_regression(ctx.seed, 12, 4)[0]
        md, fl = self._model(one)
        lhs, rhs = self._sides(md, fl, th, X)
        eq = inequality_case("depth 3, first-layer width 1 (equality expected)", lhs, rhs)
        eq.measured["min_ratio"] = float(np.min(lhs / rhs))
        checked.parts["equality"].append(eq)
        if not checked.parts["trace"]:
            del checked.parts["trace"]
        checked.settings.update({"not_interpolated": not_interpolated, "width": self.width,
                                 "training": "L-BFGS to ‖∇L‖ ≤ 1e-11 on sine_regression (n = 12, d = 4)",
                                 "trace": "exact (p Hessian-vector products)" if exact else
                                          "Gauss–Newton trace (equal to Tr H at interpolation)"})
        checked.figures.append(self._figure(checked))
        return self.assemble(checked)

    def _by_depth(self, checked: Checked, part: str, measure: str, reduce: Any) -> dict[str, float]:
        out = {}
        for depth in self.depths:
            vals = [v for c in checked.cases(part) if c.data.get("depth", c.measured.get("depth")) == depth
                    for v in ([c.measured[measure]] if measure in c.measured else c.data.get(measure, []))]
            out[str(depth)] = float(reduce(vals)) if vals else math.nan
        return out

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        return {"ratio_median_by_depth": self._by_depth(checked, "multiplicative", "ratios", np.median),
                "sobolev_ratio_by_depth": self._by_depth(checked, "sobolev", "max_ratio", np.median),
                "share_by_depth": self._by_depth(checked, "sobolev", "first_layer_share", np.median)}

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        def fmt(d: dict[str, float]) -> str:
            return "/".join(f"{d[str(k)]:.3g}" for k in self.depths)

        return (f"depth 2/3/4: per-input LHS/RHS median {fmt(key['ratio_median_by_depth'])}, Sobolev LHS/bound "
                f"median {fmt(key['sobolev_ratio_by_depth'])}, first layer's share of Tr H "
                f"{fmt(key['share_by_depth'])} ({len(checked.cases('multiplicative'))} trained nets)")

    def _figure(self, checked: Checked) -> Figure:
        series = []
        for depth in self.depths:
            cs = [c for c in checked.cases("multiplicative") if c.data.get("depth") == depth]
            series.append(Series(f"depth {depth}", [v for c in cs for v in c.data["rhs"]],
                                 [v for c in cs for v in c.data["lhs"]], "points"))
        return Figure(kind="scatter", title="First-layer multiplicative bound on trained nets, by depth",
                      xlabel="‖W₁‖₂‖∇_{W₁}f‖_F/‖x‖", ylabel="‖∇ₓf‖", xscale="log", yscale="log", series=series,
                      annotations={"diagonal": True})


# --------------------------------------------------------------------------- non-interpolating minima


#: A strict local minimum that does not interpolate, pinned like Hypothesis' @example: one bias-free tanh
#: neuron f(x) = a·tanh(w·x), w = (0.48, 0.64), a = 10, on eight unit-norm inputs, with targets built by
#: minimising Tr H over residuals orthogonal to every per-sample gradient while keeping λ_min(H) ≥ ¼ of its
#: interpolating value. There R = −0.117·(1/n)Σ‖∇_θfᵢ‖² and the interpolation form of the bound is exceeded
#: by 13 %, while the form with the residual term holds.
PINNED_MINIMUM = {
    "W": [[0.48, 0.64]], "a": [10.0],
    "X": [[1.0, 0.0], [0.6, 0.8], [0.8, 0.6], [0.0, 1.0], [-0.6, 0.8], [-0.8, 0.6], [-1.0, 0.0], [0.28, 0.96]],
    "y": [82.03867657634528, -355.9952594149829, 127.60881768091606, 382.70135550644164, -545.2327030531562,
          464.7964682671239, -81.96489333567158, 7.8947959251511595],
}

#: (seed offset, width) of the under-parameterised nets trained to a minimum on noisy data (n = 16, d = 2).
TRAINED_MINIMA = Sizes(quick=[(0, 2), (5, 1)], full=[(s, w) for s in range(8) for w in (1, 2)])


def noisy_minimum(seed: int, width: int, n: int = 16, noise: float = 0.5) -> tuple[Any, Any, Any, Any]:
    """(net, minimum, X, y): a two-layer tanh net of ``width`` trained by L-BFGS on
    :func:`~theorycheck.maths.datasets.sine_regression` (d = 2) plus Gaussian noise of sd ``noise``: with 3·width
    + width parameters against n noisy targets it cannot interpolate."""
    X, y = maths.datasets.sine_regression(seed, n, 2)
    y = y + noise * np.random.default_rng(seed + 1).standard_normal(n)
    net0 = maths.networks.init_net(2, width, seed=seed)
    arch = net0.architecture
    found = numerics.minimise.minimise(lambda th: arch.loss_and_gradient(th, X, y), net0.theta, gtol=1e-10)
    return arch.net(found.theta), found, X, y


@register
@dataclass(frozen=True, kw_only=True)
class SobolevNonInterpolating(PropertyClaim):
    id = "nets.sobolev-non-interpolating"
    statement_kind = "extrapolation"
    title = "At minima that do not interpolate, flatness minus its residual part bounds the Sobolev seminorm"
    source = (f"Extrapolation of {MA_YING}, eq. 6 (flatness bounds the Sobolev seminorm at interpolation) to "
              f"non-interpolating minima, left open in {MA_TALK}; residual term derived here: "
              "Tr H = (1/n)Σ‖∇_θfᵢ‖² + (1/n)Σrᵢ Tr∇²_θfᵢ")
    statement = ("At a local minimum of the square loss with residuals rᵢ ≠ 0: Tr H (autograd) = (1/n)Σ‖∇_θfᵢ‖² + R "
                 "with R = (1/n)Σrᵢ Tr∇²_θfᵢ (closed form), and (1/n)Σ‖∇ₓfᵢ‖² ≤ (‖W‖₂²/minᵢ‖xᵢ‖²)·(Tr H − R); "
                 "the interpolation form (R dropped) is not implied when R < 0")
    falsifier = ("an exact or trained non-interpolating minimum where Tr H differs from the Gauss–Newton trace plus R "
                 "beyond rounding, or whose mean squared input gradient exceeds the bound with the residual term")
    tags = ("nets", "flatness", "sobolev", "hypothesis", "open-question")
    examples = Sizes(12, 80)
    keys = (Key("pinned_interpolation_form_ratio", "interpolation_form_ratio", "max", part="pinned"),
            Key("trained_residual_share_median", "residual_share", "median", part="trained"),
            Key("worst_margin", "margin", "min"))
    summary = ("bound with the residual term holds ({examples} exact minima, {trained} trained); pinned minimum: "
               "interpolation form used {pinned_interpolation_form_ratio:.3f} of its budget (> 1: exceeded); "
               "trained: R/Tr H median {trained_residual_share_median:+.3g}")
    #: Relative slack of the identity Tr H = Tr GN + R: Tr H from a p×p autograd Hessian, the rest in closed form.
    identity_tol: ClassVar[float] = 1e-9
    #: θ counts as a strict minimum when ‖∇L‖ ≤ 1e-8(1 + ‖y‖) and λ_min(H) exceeds this fraction of λ_max(H).
    strict_minimum: ClassVar[float] = 1e-9
    #: The coefficient of R subtracted from Tr H: 1 derived here; 0 is the interpolation form (a mutant).
    residual_coefficient: float = 1.0

    def strategy(self, ctx: RunContext) -> Any:
        return properties.strategies.non_interpolating_minima()

    def describe(self, instance: Any) -> Any:
        net, X, y = instance
        return {"net": net.to_json(), "X": X.tolist(), "y": y.tolist()}

    def pinned(self) -> tuple[Any, ...]:
        p = PINNED_MINIMUM
        net = maths.networks.TwoLayerNet(W=np.array(p["W"]), b=np.zeros(1), a=np.array(p["a"]), bias=False)
        return ((net, np.array(p["X"]), np.array(p["y"])),)

    def check(self, instance: Any, ctx: RunContext) -> Case:
        net, X, y = instance
        with np.errstate(over="ignore", invalid="ignore"):  # a saturated unit (cosh overflow): no strict minimum
            H = maths.networks.hessian_exact(net, X, y)
        if not np.all(np.isfinite(H)):
            return Case(f"m={net.width} d={net.dim} n={len(y)}", Verdict.INCONCLUSIVE,
                        note="not a strict minimum: a saturated unit makes the Hessian overflow")
        ch = maths.networks.sobolev_chain(net, X, y)
        trace = float(np.trace(H))
        gap = abs(trace - (ch.gauss_newton_trace + ch.residual_trace)) / max(abs(trace), ch.gauss_newton_trace)
        const = ch.w_spectral_sq / ch.min_x_sq
        bound = const * (trace - self.residual_coefficient * ch.residual_trace)
        grad = float(np.linalg.norm(net.architecture.gradient(net.theta, X, y)))
        eig = np.linalg.eigvalsh(H)
        lam = float(eig[0])
        rms = float(np.sqrt(np.mean((net(X) - y) ** 2)))
        name = f"m={net.width} d={net.dim} n={len(y)} rms residual {rms:.3g}"
        case = inequality_case(name, [ch.input_grad_sq_mean], [bound], {
            "input_grad_sq_mean": ch.input_grad_sq_mean, "bound": bound, "trace": trace,
            "gauss_newton_trace": ch.gauss_newton_trace, "residual_trace": ch.residual_trace,
            "residual_share": ch.residual_trace / trace, "identity_gap": gap,
            "interpolation_form_ratio": ch.input_grad_sq_mean / (const * trace), "gradient_norm": grad,
            "min_eigenvalue": lam})
        if gap > self.identity_tol:
            case.verdict, case.note = Verdict.FAIL, f"Tr H − (Tr GN + R) = {gap:.3g} relative: the identity fails"
        elif lam <= self.strict_minimum * eig[-1] or grad > 1e-8 * (1 + float(np.linalg.norm(y))):
            case.verdict, case.note = Verdict.INCONCLUSIVE, (f"not a strict minimum (‖∇L‖ = {grad:.3g}, λ_min = "
                                                             f"{lam:.3g})")
        return case

    def fixed(self, ctx: RunContext, checked: Checked) -> None:
        checked.parts["trained"], not_minima = [], []
        for offset, width in TRAINED_MINIMA.pick(ctx):
            net, found, X, y = noisy_minimum(ctx.seed + offset, width)
            case = self.check((net, X, y), ctx)
            if case.verdict is Verdict.INCONCLUSIVE:  # L-BFGS stopped where θ is no strict minimum: not an instance
                not_minima.append({"seed": ctx.seed + offset, "width": width, "gradient_norm": found.grad_norm,
                                   "why": case.note})
                continue
            case.name = f"trained width {width} seed {ctx.seed + offset}: {case.name}"
            checked.parts["trained"].append(case)
        checked.settings["not_minima"] = not_minima
        checked.extra["trained"] = len(checked.parts["trained"])

    def figures(self, checked: Checked) -> list[Figure]:
        cases = [c for c in checked.cases() if "residual_share" in c.measured]
        return [Figure(kind="scatter", title="Sobolev seminorm against the bound with the residual term",
                       xlabel="(‖W‖₂²/min‖xᵢ‖²)(Tr H − R)", ylabel="(1/n)Σ‖∇ₓfᵢ‖²", xscale="log", yscale="log",
                       series=[Series("bound with R", [c.measured["bound"] for c in cases],
                                      [c.measured["input_grad_sq_mean"] for c in cases], "points")],
                       annotations={"diagonal": True})]


__all__ = ["DeepFirstLayerBound", "PINNED_MINIMUM", "SobolevNonInterpolating", "TRAINED_MINIMA", "deep_minimum",
           "noisy_minimum"]
