"""``theorycheck flatness``: the flatness numbers of a trained network, the built-in two-layer net or your own.

Two forms::

    theorycheck flatness --features X.npy --targets y.npy --width 16 --lr 0.3 --json
    theorycheck flatness --model net.py:Net --params theta.pt --features X.npy --targets y.npy \
        --first-layer fc1.weight --lr 0.05 --json

The first trains a two-layer net and prints every number of the flatness → Sobolev chain
(:func:`theorycheck.maths.networks.sobolev_chain`, the chain the ``nets.sobolev-flatness`` claim
checks); its JSON carries the trained parameters, so anyone can recompute each number from
``params`` and the input files.

The second measures your model at ``--params`` (:func:`theorycheck.numerics.models.flatness_at`):
train loss, Tr H (exact for small p; beyond, the Gauss–Newton part exactly and the residual part
by Hutch++ with a confidence interval, ``trace.method`` says which), Tr GN (exact), λ_max(H)
(Lanczos on Hessian-vector products), mean ‖∇ₓf‖², with ``--first-layer`` the multiplicative
bound ‖∇ₓfᵢ‖ ≤ ‖W₁‖₂‖∇_{W₁}fᵢ‖_F/‖xᵢ‖ and the Sobolev bound, and with ``--lr`` 2/η and
η·λ_max/2. Without ``--targets`` θ is taken to interpolate (yᵢ = f(θ, xᵢ), so H = GN for the square
loss). Nothing n × p is held: per-sample gradients are streamed in chunks.
"""

from __future__ import annotations

import argparse
from typing import Any

from theorycheck.core.errors import InputError

NAME = "flatness"
HELP = ("Train loss, Tr H, λ_max, input-gradient norm and the Sobolev bound: of your --model at --params, or of a "
        "two-layer net trained by GD/SGD.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from theorycheck.running.model_args import add_model_arguments

    p.add_argument("--features", required=True, metavar="X.npy",
                   help="inputs, shape (n, d): .npy, .npz (with --features-key) or a numeric .csv/.txt table")
    add_model_arguments(p, model_required=False,
                        targets_help="targets, shape (n,), in the same formats (with --model: optional, θ is then "
                                     "taken to interpolate)")
    p.add_argument("--first-layer", metavar="SPEC",
                   help="with --model: the first-layer weight W₁, a parameter name (fc1.weight) or START:MxD")
    p.add_argument("--trace-rtol", default="0.01", metavar="R",
                   help="with --model: relative half-width of Tr H's 95%% interval beyond exact sizes (default 0.01)")
    p.add_argument("--width", type=int, metavar="M", help="number of hidden units m ≥ 1 (the built-in net)")
    p.add_argument("--optimizer", choices=("gd", "sgd"), default="gd")
    p.add_argument("--lr", type=float, metavar="ETA",
                   help="learning rate η > 0 (the built-in net's training; with --model, 2/η and η·λ_max/2)")
    p.add_argument("--batch", type=int, metavar="B", help="batch size 1 ≤ B ≤ n (sgd only)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and the batches")
    p.add_argument("--steps", type=int, default=20000, metavar="N", help="maximum number of steps")
    p.add_argument("--tol", type=float, default=1e-10, metavar="T", help="train loss counted as interpolation")
    p.add_argument("--activation", default="tanh", metavar="NAME", help="tanh (default), softplus, gelu or relu")
    p.add_argument("--no-bias", action="store_true", help="do not train first-layer biases")
    p.add_argument("--init-scale", type=float, default=1.0, metavar="S", help="first-layer init scale")
    p.add_argument("--features-key", metavar="NAME", help="array name inside an .npz --features archive")
    p.add_argument("--targets-key", metavar="NAME", help="array name inside an .npz --targets archive")
    p.add_argument("--json", action="store_true",
                   help="print JSON (always for the built-in net; with --model, instead of a table)")


def _load(path: str, what: str, key: str | None) -> Any:
    from theorycheck.core.datafile import load_array
    from theorycheck.running.validate import check_scale

    return check_scale(load_array(path, f"--{what}", key), f"--{what}")


def _check_size(n: int, d: int, width: int) -> None:
    """Refuse a net whose per-sample gradients and activations cannot fit in memory (from the shapes alone)."""
    from theorycheck.running.validate import check_memory

    p = width * (d + 2)  # first layer W (m×d), biases b (m), output weights a (m)
    needed = 8.0 * (3 * n * p + 8 * n * width + 8 * p)
    check_memory(needed, f"`--width {width}` on n={n}, d={d} ({p:,} parameters; per-sample gradients n×p)",
                 "use a smaller --width")


def _progress(message: str) -> None:
    from theorycheck.running.limits import status

    status(message)


def _diverged(res: Any) -> None:
    """A training run that diverged ends the command with the step and a hint, before any curvature is computed."""
    import math

    from theorycheck.core.errors import DivergenceError

    if res.diverged:
        what = "loss overflowed" if not math.isfinite(res.train_loss) else f"loss grew to {res.train_loss:.3g}"
        raise DivergenceError(f"{res.optimizer.upper()} diverged at step {res.steps}: {what}; try a smaller --lr "
                              f"(now {res.lr:g}).")


def _two_layer_only(args: argparse.Namespace) -> None:
    """The options of one form given with the other are refused (they would be ignored)."""
    if args.model is not None:
        stray = [o for o, v in (("--width", args.width), ("--batch", args.batch), ("--no-bias", args.no_bias or None),
                                ("--init-scale", None if args.init_scale == 1.0 else 1),
                                ("--optimizer", None if args.optimizer == "gd" else 1),
                                ("--activation", None if args.activation == "tanh" else 1)) if v is not None]
        if stray:
            raise InputError(f"`{stray[0]}` belongs to the built-in two-layer net; with `--model` your network is "
                             "measured as it is.")
        return
    stray = [o for o, v in (("--params", args.params), ("--first-layer", args.first_layer),
                            ("--backend", None if args.backend == "auto" else 1),
                            ("--loss", None if args.loss == "square" else 1),
                            ("--device", None if args.device == "cpu" else 1)) if v is not None]
    if stray:
        raise InputError(f"`{stray[0]}` belongs to `--model FILE.py:NAME`, which was not given.")
    for name, value in (("--targets", args.targets), ("--width", args.width), ("--lr", args.lr)):
        if value is None:
            raise InputError(f"the built-in two-layer net needs `{name}` (or measure your own with --model).")


def model_payload(args: argparse.Namespace) -> dict[str, Any]:
    """The JSON object of ``flatness --model``: the model's description and :func:`flatness_at`'s numbers."""
    from theorycheck.numerics.models import flatness_at
    from theorycheck.running.model_args import first_layer, fraction, model_point, parameter_layout, positive_number
    from theorycheck.running.validate import check_seed

    check_seed(args.seed)
    rtol = fraction(args.trace_rtol, "--trace-rtol")
    lr = positive_number(None if args.lr is None else repr(args.lr), "--lr")
    point, info, params = model_point(args, features_key=args.features_key, targets_key=args.targets_key, gram=False)
    layer = first_layer(args.first_layer, point, parameter_layout(point, params))
    _progress(f"flatness of {info['model']} (p = {info['parameters']:,}, n = {info['samples']:,})…")
    return {**info, **flatness_at(point, first_layer=layer, lr=lr, rtol=rtol, seed=args.seed)}


def _model_table(out: dict[str, Any]) -> str:
    tr = out["trace_error"]
    lines = [f"model {out['model']} ({out['backend']}, {out['loss']} loss, p = {out['parameters']:,}, "
             f"n = {out['samples']:,}, targets {out['targets']})",
             f"train_loss          {out['train_loss']:.12g}",
             f"trace_hessian       {tr['estimate']:.12g}" + ("" if not tr["half_width"] else
                                                            f" ± {tr['half_width']:.3g} ({tr['confidence']:.0%})")
             + f"  [{tr['method']}, {tr['products']} products]",
             f"gauss_newton_trace  {out['gauss_newton_trace']:.12g}",
             f"lambda_max          {out['lambda_max']:.12g}"]
    if "input_grad_sq_mean" in out:
        lines.append(f"input_grad_sq_mean  {out['input_grad_sq_mean']:.12g}")
    if "multiplicative" in out:
        mul = out["multiplicative"]
        lines.append(f"multiplicative      max ‖∇ₓf‖/bound = {mul['max_ratio']:.6g} "
                     f"({'holds' if mul['holds'] else 'VIOLATED'}); Sobolev bound {mul['sobolev_bound']:.6g}")
    if "lr" in out:
        lines.append(f"2/lr                {out['threshold']:.12g}  (η·λ_max/2 = {out['eta_lambda_max_over_2']:.6g})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import math

    _two_layer_only(args)
    if args.model is not None:
        from theorycheck.core.evidence import jsonable
        from theorycheck.running.output import emit

        out = model_payload(args)
        if args.json:
            emit("flatness", jsonable(out), sort_keys=True, allow_nan=False)
        else:
            print(_model_table(out))
        return 0

    from theorycheck.core.evidence import jsonable
    from theorycheck.maths import networks
    from theorycheck.numerics.eigen import lambda_max
    from theorycheck.numerics.stability import critical_learning_rate_features
    from theorycheck.numerics.training import train, validate_training
    from theorycheck.running.validate import check_seed

    check_seed(args.seed)
    X = _load(args.features, "features", args.features_key)
    y = _load(args.targets, "targets", args.targets_key)
    try:
        X, y = networks.validate_data(X, y)
    except InputError as exc:
        raise InputError(f"--features/--targets: {exc}") from None
    if args.width < 1:
        raise InputError(f"--width must be a positive integer, got {args.width}.")
    if not (math.isfinite(args.init_scale) and args.init_scale > 0):
        raise InputError(f"--init-scale must be positive, got {args.init_scale}.")
    if args.activation not in networks.ACTIVATIONS:
        raise InputError(f"--activation must be one of {', '.join(networks.ACTIVATIONS)}, got {args.activation!r}.")
    validate_training(args.optimizer, args.lr, args.batch, len(y), args.steps, args.tol)
    _check_size(X.shape[0], X.shape[1], args.width)
    _progress(f"training a width-{args.width} net by {args.optimizer.upper()} (at most {args.steps} steps)…")
    net0 = networks.init_net(X.shape[1], args.width, seed=args.seed, activation=args.activation,
                             bias=not args.no_bias, scale=args.init_scale)
    res = train(net0, X, y, args.optimizer, args.lr, batch=args.batch, seed=args.seed, steps=args.steps, tol=args.tol)
    _diverged(res)
    _progress(f"trained in {res.steps} steps; curvature (Tr H, λ_max) and the Sobolev chain…")
    chain = networks.sobolev_chain(res.net, X, y)
    lam = lambda_max(networks.hessian_operator(res.net, X, y), seed=args.seed)
    out = {
        "train_loss": res.train_loss, "interpolated": res.reached, "status": res.status, "steps": res.steps,
        "optimizer": res.optimizer, "lr": res.lr, "batch": res.batch, "seed": res.seed, "tol": res.tol,
        "lambda_max": lam, "eta_lambda_max": res.lr * lam, **chain.to_json(),
        "params": res.net.to_json(),
    }
    if res.optimizer == "sgd" and res.reached:
        out["critical_lr"] = critical_learning_rate_features(networks.per_sample_gradients(res.net, X), res.batch,
                                                             "without")
    from theorycheck.running.output import emit

    emit("flatness", jsonable(out), sort_keys=True, allow_nan=False)
    return 0


__all__ = [
    "HELP", "NAME", "add_arguments", "model_payload", "run",
]
