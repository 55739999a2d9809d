"""``theorycheck stability``: exact critical learning rate η*(B) of SGD and the published conditions.

Examples::

    theorycheck stability --features X.npy --batch 4 --sampling without --json
    theorycheck stability --hessians H.npy --batch 1
    theorycheck stability --features X.npy --sweep-batch 1,2,4,8 --out DIR
    theorycheck stability --model net.py:f --params theta.npy --features X.npy --targets y.npy --batch 8

With ``--model`` (a function f(params, x) or a torch ``nn.Module``, see
:mod:`theorycheck.running.model_args`) the per-sample Hessians are the
Gauss–Newton ones of ``--loss``, Hᵢ = Jᵢᵀ Λᵢ Jᵢ (for the square loss gᵢgᵢᵀ,
gᵢ = ∇_θ f(θ, xᵢ)), taken by autograd, JAX or PyTorch (``--backend``,
``--device``). At an interpolating square-loss minimum they are the
per-sample Hessians exactly; ``--targets`` measures how far θ is from that
(max |ℓ′(fᵢ, yᵢ)|), and logistic and cross-entropy never get there. η*(B)
comes from the n·k × n·k Gram matrix of the factors, streamed chunk by chunk:
never n × p numbers, never a p × p matrix.

The first form prints η*(B), the sharpness a, the non-uniformity s, GD's 2/λ_max and,
for each published condition (all of the form "holds for η ≤ threshold"), its
threshold, η*/threshold and whether it holds at η*. The sweep writes
DIR/stability_sweep.json and DIR/stability_sweep.png (η*(B) against the bounds).
Exit status: 0 done, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from typing import Any

from theorycheck.core.errors import InputError

NAME = "stability"
HELP = "Critical learning rate η*(B) of SGD at a minimum, with the published stability conditions."


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--features", metavar="X.npy", help="features, shape (n, d): Hᵢ = xᵢxᵢᵀ (square loss)")
    src.add_argument("--hessians", metavar="H.npy", help="per-sample Hessians, shape (n, d, d), each PSD")
    from theorycheck.running.model_args import add_model_arguments

    add_model_arguments(p, model_required=False, targets_help="with --model: targets yᵢ, shape (n,) (labels for "
                        "logistic and cross-entropy); reports max |ℓ′(fᵢ, yᵢ)| (without them θ is taken to "
                        "interpolate)")
    p.add_argument("--batch", metavar="B", help="batch size, 1 ≤ B ≤ n")
    p.add_argument("--sampling", default="with", metavar="S", help="with | without replacement (default with)")
    p.add_argument("--sweep-batch", metavar="B1,B2,...", help="sweep η* over these batch sizes and draw a figure")
    p.add_argument("--key", metavar="NAME", help="array name inside an .npz archive")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory of the sweep (default reports/stability)")
    p.add_argument("--rtol", default="1e-8", metavar="R", help="relative accuracy of η* (default 1e-8)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


# --- input ------------------------------------------------------------------------------------------


def load_array(path: str, arg: str, key: str | None = None) -> Any:
    """The array in ``path`` (.npy, .npz, .csv/.txt; never a pickle), at a scale float64 can square."""
    from theorycheck.core.datafile import load_array as read
    from theorycheck.running.validate import check_scale

    return check_scale(read(path, arg, key), arg)


def _check_out(args: argparse.Namespace) -> None:
    """``--out`` is where a sweep writes; given with ``--batch`` it would be ignored, so it is refused."""
    if args.out is not None and args.sweep_batch is None:
        raise InputError("`--out` is where `--sweep-batch` writes its figure and JSON; with `--batch` nothing is "
                         "written (use --json for a machine-readable result).")
    if args.sweep_batch is not None:  # a parent that is a file, a user's directory: fail before the computation
        from theorycheck.reporting.outdir import validate

        validate(args.out or "reports/stability", kind="stability-sweep")


def _int(text: str, arg: str) -> int:
    try:
        return int(text.strip())
    except (ValueError, AttributeError):
        raise InputError(f"`{arg}` must be an integer, got {text!r}.") from None


def parse_batches(text: str, n: int) -> list[int]:
    bs = [_int(t, "--sweep-batch") for t in text.split(",") if t.strip()]
    if not bs:
        raise InputError("`--sweep-batch` is empty; give batch sizes like 1,2,4,8.")
    bad = [b for b in bs if not 1 <= b <= n]
    if bad:
        raise InputError(f"`--sweep-batch` entries must be between 1 and n = {n}, got {bad[0]}.")
    return sorted(set(bs))


def _rtol(text: str) -> float:
    try:
        r = float(text)
    except ValueError:
        raise InputError(f"`--rtol` must be a number, got {text!r}.") from None
    if not 0 < r < 1e-2:
        raise InputError(f"`--rtol` must be in (0, 1e-2), got {text!r}.")
    return r


def _model_arguments(args: argparse.Namespace) -> None:
    """--params, --targets, --backend, --loss and --device belong to --model, which needs --features as its inputs."""
    if args.model is None:
        stray = [f"--{a}" for a in ("params", "targets") if getattr(args, a) is not None]
        stray += [f"--{a}" for a, default in (("backend", "auto"), ("loss", "square"), ("device", "cpu"))
                  if getattr(args, a) != default]
        if stray:
            raise InputError(f"`{stray[0]}` belongs to `--model FILE.py:NAME`, which was not given.")
        return
    if args.features is None:
        raise InputError("`--model` needs `--features X.npy`: the model's inputs xᵢ.")


def model_problem(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The second-moment problem of ``--model`` at ``--params`` on ``--features`` (Hᵢ = Jᵢᵀ Λᵢ Jᵢ from the streamed
    Gram matrix, never n × p numbers), and what was measured on the way."""
    from theorycheck.numerics.models import gradient_problem, max_abs_residual
    from theorycheck.running.model_args import model_point

    point, info, _ = model_point(args, features_key=args.key, targets_key=args.key)
    _progress(f"per-sample gradients of {args.model} (p = {point.p:,}) streamed into the {point.n * point.k}-square "
              "Gram matrix…")
    P = gradient_problem(point)
    info["max_abs_residual"] = max_abs_residual(point)
    return P, info


def problem(args: argparse.Namespace) -> Any:
    from theorycheck.maths.stability import problem_from_features, problem_from_hessians

    if args.features is not None:
        X = load_array(args.features, "--features", args.key)
        if X.ndim == 2:
            _check_size(X.shape, "--features")
        return problem_from_features(X, "--features")
    H = load_array(args.hessians, "--hessians", args.key)
    if H.ndim == 3:
        _check_size((H.shape[0], H.shape[1], H.shape[1]), "--hessians")
    return problem_from_hessians(H, "--hessians")


def _progress(message: str) -> None:
    from theorycheck.running.limits import status

    status(message)


def _check_size(shape: tuple[int, ...], arg: str) -> None:
    """Refuse data whose problem and η*(B) solve cannot fit in memory, from what they allocate
    (:func:`theorycheck.numerics.stability.stability_memory`: n×d features are factors of rank k = 1,
    n×d×d Hessians of rank up to d)."""
    from theorycheck.numerics.stability import stability_memory
    from theorycheck.running.validate import check_memory

    n, d = shape[0], shape[1]
    k = 1 if len(shape) == 2 else shape[2]
    check_memory(stability_memory(n, d, k) + (8 * n * d * k * 3 if k > 1 else 0),
                 f"`{arg}` of shape {tuple(shape)} (the second-moment problem on the range of H and its "
                 f"Lanczos solve)", "use fewer samples or dimensions")


# --- the command ------------------------------------------------------------------------------------


def _reading(kind: str, holds: bool) -> str:
    """What ``holds_at_eta_star`` means for a condition of this kind (a sufficient one may well fail at η*)."""
    if kind == "sufficient":
        return ("holds at η*" if holds else
                "expected: a sufficient condition need only hold below η*, so failing at η* is no contradiction")
    return "holds at η*, as a necessary condition must" if holds else "VIOLATED: stable at η* although it fails"


def analyse(P: Any, batch: int, sampling: str, rtol: float) -> dict[str, Any]:
    """η*(B) and every published condition at it, as a JSON-ready dict."""
    from theorycheck.maths.sampling import sampling_factor
    from theorycheck.maths.stability import gd_rate, non_uniformity, published_conditions, sharpness
    from theorycheck.numerics.stability import critical_rate

    p = sampling_factor(P.n, batch, sampling)
    eta = critical_rate(P, p, rtol)
    a = sharpness(P)
    conds = {}
    for name, c in published_conditions(P, batch, sampling).items():
        thr = float(c["threshold"])
        ratio = 0.0 if math.isinf(thr) else (math.inf if thr == 0 else eta / thr)
        holds = bool(math.isinf(eta) or eta <= thr * (1 + rtol))
        conds[name] = {**c, "eta_star_over_threshold": ratio, "holds_at_eta_star": holds,
                       "reading": _reading(c["kind"], holds)}
    return {"n": P.n, "d": P.d, "rank": P.rank, "batch": batch, "sampling": sampling, "sampling_factor": p,
            "eta_star": eta, "sharpness": a, "non_uniformity": non_uniformity(P),
            "gd_threshold": gd_rate(P), "conditions": conds, "rtol": rtol}


def sweep(P: Any, batches: list[int], sampling: str, rtol: float, out: str) -> dict[str, Any]:
    """η*(B) for each B with every threshold; writes JSON and PNG as the directory ``out`` (see
    :func:`~theorycheck.reporting.outdir.write_files`)."""
    from theorycheck.core.evidence import Figure, Series, jsonable
    from theorycheck.reporting.figures import render_png

    rows = [analyse(P, B, sampling, rtol) for B in batches]
    names = list(rows[0]["conditions"])
    series = [Series("η*(B) (exact)", batches, [r["eta_star"] for r in rows], "line")]
    for k in names:
        kind = rows[0]["conditions"][k]["kind"]
        series.append(Series(f"{k} ({kind})", batches, [r["conditions"][k]["threshold"] for r in rows], "dashed"))
    fig = Figure("curve", f"η*(B) against the published thresholds ({sampling} replacement, n={P.n}, d={P.d})",
                 "batch size B", "learning rate η", xscale="log", yscale="log", series=series)
    from theorycheck.running.output import versioned

    doc = versioned("stability", jsonable({"batches": batches, "sampling": sampling, "rows": rows}))
    from theorycheck.reporting.outdir import write_files

    sweep_json = (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode()
    doc["files"] = write_files(out, {"stability_sweep.json": sweep_json, "stability_sweep.png": render_png(fig)},
                               kind="stability-sweep")
    return doc


def _table(res: dict[str, Any]) -> str:
    lines = [f"n={res['n']} d={res['d']} (rank {res['rank']}), B={res['batch']} {res['sampling']} replacement "
             f"(p = {res['sampling_factor']:.6g})",
             f"eta_star       {res['eta_star']:.12g}",
             f"gd_threshold   {res['gd_threshold']:.12g}",
             f"sharpness      {res['sharpness']:.12g}",
             f"non_uniformity {res['non_uniformity']:.12g}",
             f"{'condition':<24} {'kind':<10} {'threshold':>14} {'eta*/thr':>10}  holds at eta*"]
    if "model" in res:
        residual = res.get("max_abs_residual")
        lines.insert(1, f"model {res['model']} ({res['backend']}, {res['loss']} loss, p = {res['parameters']:,} "
                     f"parameters, targets {res['targets']})"
                     + ("" if residual is None else
                        f", max |{'f(θ, xᵢ) − yᵢ' if res['loss'] == 'square' else 'ℓ′(fᵢ, yᵢ)'}| = {residual:.3g}"))
    for k, c in res["conditions"].items():
        lines.append(f"{k:<24} {c['kind']:<10} {c['threshold']:>14.8g} {c['eta_star_over_threshold']:>10.6f}  "
                     + ("yes" if c["holds_at_eta_star"] else
                        "no (expected for a sufficient condition)" if c["kind"] == "sufficient" else
                        "NO (necessary condition violated)"))
    return "\n".join(lines)


#: BLAS thread pools of the command: one thread unless the user set them. The operator's products are
#: (n×r)·(r×r) GEMMs; on two shared cores a second BLAS thread cost 4× the CPU at n = 400, d = 200
#: (2.3 s against 0.5 s for the whole process) and bought no wall time at n = 2000, d = 1000.
BLAS_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run(args: argparse.Namespace) -> int:
    import sys

    if "numpy" not in sys.modules:  # read by the BLAS when numpy loads, i.e. below
        for k, v in BLAS_THREADS.items():
            os.environ.setdefault(k, v)
    from theorycheck.core.evidence import jsonable
    from theorycheck.maths.sampling import SAMPLINGS
    from theorycheck.running.output import emit

    if args.sampling not in SAMPLINGS:
        raise InputError(f"`--sampling` must be one of {', '.join(SAMPLINGS)}, got {args.sampling!r}.")
    rtol = _rtol(args.rtol)
    if args.batch is None and args.sweep_batch is None:
        raise InputError("give `--batch B` or `--sweep-batch B1,B2,...`.")
    if args.batch is not None and args.sweep_batch is not None:
        raise InputError("give either `--batch` or `--sweep-batch`, not both.")
    _check_out(args)
    _model_arguments(args)
    info: dict[str, Any] = {}
    if args.model is not None:
        P, info = model_problem(args)
        _warn_residual(info)
    else:
        P = problem(args)
    _progress(f"η*(B) of n={P.n} samples in d={P.d} dimensions…")
    if args.sweep_batch is not None:
        doc = sweep(P, parse_batches(args.sweep_batch, P.n), args.sampling, rtol, args.out or "reports/stability")
        if args.json:
            emit("stability", doc, allow_nan=False)
        else:
            for r in doc["rows"]:
                print(f"B={r['batch']:<5d} eta_star={r['eta_star']:.10g}")
            print(f"wrote {doc['files'][0]} and {doc['files'][1]}")
        return 0
    batch = _int(args.batch, "--batch")
    if not 1 <= batch <= P.n:
        raise InputError(f"`--batch` must be between 1 and n = {P.n}, got {batch}.")
    res = {**analyse(P, batch, args.sampling, rtol), **info}
    if args.json:
        emit("stability", jsonable(res), allow_nan=False)
    else:
        print(_table(res))
    return 0


#: Above this max |f(θ, xᵢ) − yᵢ| the model is not at an interpolating minimum and Hᵢ = gᵢgᵢᵀ is only a part.
RESIDUAL_TOLERANCE = 1e-6


def _warn_residual(info: dict[str, Any]) -> None:
    import sys

    r = info.get("max_abs_residual")
    if info.get("loss", "square") != "square":
        print(f"theorycheck: note: the {info['loss']} loss never interpolates (ℓ′ ≠ 0); η*(B) below uses the "
              "per-sample Gauss–Newton Hessians Jᵢᵀ Λᵢ Jᵢ, not the Hessians themselves", file=sys.stderr)
    elif r is not None and r > RESIDUAL_TOLERANCE:
        print(f"theorycheck: note: θ does not interpolate (max |f(θ, xᵢ) − yᵢ| = {r:.3g}); η*(B) below uses "
              "Hᵢ = gᵢgᵢᵀ, the Gauss–Newton part of the per-sample Hessians only", file=sys.stderr)


__all__ = [
    "BLAS_THREADS", "HELP", "NAME", "RESIDUAL_TOLERANCE", "add_arguments", "analyse", "load_array", "model_problem",
    "parse_batches", "problem", "run", "sweep",
]
