"""``theorycheck flatness``: train one two-layer net and print every number of the flatness → Sobolev chain.

The chain is :func:`theorycheck.maths.networks.sobolev_chain`, the same one the
``nets.sobolev-flatness`` claim checks. The JSON object carries the trained
parameters, so anyone can recompute each number from ``params`` and the input
files.
"""

from __future__ import annotations

import argparse
from typing import Any

from theorycheck.core.errors import InputError

NAME = "flatness"
HELP = "Train a two-layer net by GD/SGD and report train loss, Tr H, λ_max, input-gradient norm and the Sobolev bound."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--features", required=True, metavar="X.npy",
                   help="inputs, shape (n, d): .npy, .npz (with --features-key) or a numeric .csv/.txt table")
    p.add_argument("--targets", required=True, metavar="y.npy", help="targets, shape (n,), in the same formats")
    p.add_argument("--width", required=True, type=int, metavar="M", help="number of hidden units m ≥ 1")
    p.add_argument("--optimizer", choices=("gd", "sgd"), default="gd")
    p.add_argument("--lr", required=True, type=float, metavar="ETA", help="learning rate η > 0")
    p.add_argument("--batch", type=int, metavar="B", help="batch size 1 ≤ B ≤ n (sgd only)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and the batches")
    p.add_argument("--steps", type=int, default=20000, metavar="N", help="maximum number of steps")
    p.add_argument("--tol", type=float, default=1e-10, metavar="T", help="train loss counted as interpolation")
    p.add_argument("--activation", default="tanh", metavar="NAME", help="tanh (default), softplus, gelu or relu")
    p.add_argument("--no-bias", action="store_true", help="do not train first-layer biases")
    p.add_argument("--init-scale", type=float, default=1.0, metavar="S", help="first-layer init scale")
    p.add_argument("--features-key", metavar="NAME", help="array name inside an .npz --features archive")
    p.add_argument("--targets-key", metavar="NAME", help="array name inside an .npz --targets archive")
    p.add_argument("--json", action="store_true", help="print JSON (the default and only format; kept for scripts)")


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


def run(args: argparse.Namespace) -> int:
    import math

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
    "HELP", "NAME", "add_arguments", "run",
]
