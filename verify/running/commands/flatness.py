"""``theorycheck flatness``: train one two-layer net and print every number of the flatness → Sobolev chain.

The JSON object carries the trained parameters, so anyone can recompute each
number from ``params`` and the input files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from theorycheck.maths import networks as N
from theorycheck.core.errors import InputError
from theorycheck.core.evidence import jsonable
from theorycheck.maths.stability import critical_learning_rate_features

NAME = "flatness"
HELP = "Train a two-layer net by GD/SGD and report train loss, Tr H, λ_max, input-gradient norm and the Sobolev bound."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--features", required=True, metavar="X.npy", help="inputs, shape (n, d), float")
    p.add_argument("--targets", required=True, metavar="y.npy", help="targets, shape (n,), float")
    p.add_argument("--width", required=True, type=int, metavar="M", help="number of hidden units m ≥ 1")
    p.add_argument("--optimizer", choices=("gd", "sgd"), default="gd")
    p.add_argument("--lr", required=True, type=float, metavar="ETA", help="learning rate η > 0")
    p.add_argument("--batch", type=int, metavar="B", help="batch size 1 ≤ B ≤ n (sgd only)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initialisation and the batches")
    p.add_argument("--steps", type=int, default=20000, metavar="N", help="maximum number of steps")
    p.add_argument("--tol", type=float, default=1e-10, metavar="T", help="train loss counted as interpolation")
    p.add_argument("--activation", choices=tuple(N.ACTIVATIONS), default="tanh")
    p.add_argument("--no-bias", action="store_true", help="do not train first-layer biases")
    p.add_argument("--init-scale", type=float, default=1.0, metavar="S", help="first-layer init scale")
    p.add_argument("--json", action="store_true", help="print JSON (the default and only format; kept for scripts)")


def _load(path: str, what: str) -> np.ndarray:
    f = Path(path)
    if not f.is_file():
        raise InputError(f"--{what}: no such file {path!r}.")
    try:
        arr = np.load(f, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"--{what}: {path!r} is not a readable .npy array ({exc}).") from None
    if not isinstance(arr, np.ndarray):
        raise InputError(f"--{what}: {path!r} holds an archive, not one array.")
    return arr


def run(args: argparse.Namespace) -> int:
    X = _load(args.features, "features")
    y = _load(args.targets, "targets")
    try:
        X, y = N.validate_data(X, y)
    except InputError as exc:
        raise InputError(f"--features/--targets: {exc}") from None
    if args.width < 1:
        raise InputError(f"--width must be a positive integer, got {args.width}.")
    if not (np.isfinite(args.init_scale) and args.init_scale > 0):
        raise InputError(f"--init-scale must be positive, got {args.init_scale}.")
    N.validate_training(args.optimizer, args.lr, args.batch, len(y), args.steps, args.tol)
    net0 = N.init_net(X.shape[1], args.width, seed=args.seed, activation=args.activation, bias=not args.no_bias,
                      scale=args.init_scale)
    res = N.train(net0, X, y, args.optimizer, args.lr, batch=args.batch, seed=args.seed, steps=args.steps, tol=args.tol)
    rep = N.flatness_report(res.net, X, y, seed=args.seed)
    out = {
        "train_loss": res.train_loss, "interpolated": res.interpolated, "status": res.status, "steps": res.steps,
        "optimizer": res.optimizer, "lr": res.lr, "batch": res.batch, "seed": res.seed, "tol": res.tol,
        **{k: v for k, v in rep.to_json().items() if k != "train_loss"},
        "eta_lambda_max": res.lr * rep.lambda_max,
        "params": res.net.to_json(),
    }
    if res.optimizer == "sgd" and res.interpolated:
        G = N.per_sample_gradients(res.net, X)
        try:
            out["critical_lr"] = critical_learning_rate_features(G, res.batch, "without")
        except InputError:
            out["critical_lr"] = None  # rank too large for the dense solve; the other numbers stand
    print(json.dumps(jsonable(out), sort_keys=True, allow_nan=False))
    return 0
