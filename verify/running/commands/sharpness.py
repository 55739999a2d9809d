"""``theorycheck sharpness``: train your model by full-batch GD and trace λ_max(H) against 2/η.

Example::

    theorycheck sharpness --model net.py:Net --params theta.pt --features X.npy --targets y.npy \\
        --lr 0.05 --steps 500 --every 10 --out DIR --json

Gradient descent θ ← θ − η∇L(θ) from ``--params``; every ``--every`` steps the top Hessian
eigenvalue λ_max(∇²L) by Lanczos on Hessian-vector products. Cohen, Kaur, Li, Kolter & Talwalkar
(ICLR 2021, "Gradient Descent on Neural Networks Typically Occurs at the Edge of Stability") report
that λ_max rises during training (progressive sharpening) until it reaches 2/η and then hovers
there (the edge of stability) while the loss keeps falling non-monotonically. The command writes
DIR/sharpness.json (the trace, and the final parameters) and DIR/sharpness.png (λ_max and 2/η
against the step). Exit status: 0 done; 2 bad input, or a run that diverged (its trace up to the step
is still written and printed, and one line on stderr names the step).
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from theorycheck.core.errors import DivergenceError, InputError

NAME = "sharpness"
HELP = "Train your --model by full-batch GD and trace λ_max(H) against 2/η (progressive sharpening, edge of stability)."

#: λ_max of a trace point is asked to this relative accuracy (the figure needs far less, 2/η comparisons a little).
TRACE_TOL = 1e-6


def add_arguments(p: argparse.ArgumentParser) -> None:
    from theorycheck.running.model_args import add_model_arguments

    p.add_argument("--features", metavar="X.npy", help="the model's inputs, shape (n, d, …)")
    add_model_arguments(p, model_required=True, targets_help="targets yᵢ, shape (n,) (labels for logistic and "
                        "cross-entropy): the loss GD trains on")
    p.add_argument("--lr", required=True, metavar="ETA", help="learning rate η > 0")
    p.add_argument("--steps", default="200", metavar="N", help="number of GD steps (default 200)")
    p.add_argument("--every", default="10", metavar="K", help="λ_max every K steps (default 10)")
    p.add_argument("--out", default="reports/sharpness", metavar="DIR",
                   help="where sharpness.json and sharpness.png go (default reports/sharpness)")
    p.add_argument("--seed", default="0", metavar="S", help="seed of the Lanczos start vectors (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def sharpness_trace(point: Any, lr: float, steps: int, every: int, seed: int = 0) -> dict[str, Any]:
    """GD from the point's θ for ``steps`` steps, with (step, loss, λ_max) every ``every`` steps and at the end.

    Returns the JSON-ready payload (keys in :func:`run`'s docstring). A non-finite or exploding loss ends
    the run early with ``status`` ``"diverged"`` and the step.
    """
    import sys
    import warnings

    from tqdm import tqdm

    from theorycheck.numerics.models import top_hessian_eigenvalue

    threshold = 2.0 / lr
    rows: list[dict[str, float]] = []
    status, first_loss = "completed", None
    bar = tqdm(total=steps, desc="GD", unit="step", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False)
    step = 0
    # an overflow on the way to divergence is reported once, as the divergence, not as numpy warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            while True:
                loss = point.value()
                first_loss = loss if first_loss is None else first_loss
                if not math.isfinite(loss) or loss > 1e6 * max(first_loss, 1e-300) + 1e6:
                    status = "diverged"
                    break
                if step % every == 0 or step == steps:
                    lam = top_hessian_eigenvalue(point, tol=TRACE_TOL, seed=seed)
                    rows.append({"step": step, "loss": loss, "lambda_max": lam})
                if step == steps:
                    break
                point = point.moved(point.theta - lr * point.gradient())
                step += 1
                bar.update(1)
        except InputError as exc:
            if "non-finite" not in str(exc):
                raise
            status = "diverged"
        finally:
            bar.close()
    lams = [r["lambda_max"] for r in rows]
    above = [r["step"] for r in rows if r["lambda_max"] >= threshold]
    return {
        "lr": lr, "threshold": threshold, "steps": step, "every": every, "status": status,
        "trace": rows, "final_loss": rows[-1]["loss"] if rows else math.nan,
        "lambda_max_first": lams[0] if lams else math.nan, "lambda_max_last": lams[-1] if lams else math.nan,
        "lambda_max_max": max(lams) if lams else math.nan,
        "first_step_at_threshold": above[0] if above else None,
        "final_params": point.theta,
    }


def _figure(doc: dict[str, Any]) -> Any:
    from theorycheck.core.evidence import Figure, Series

    steps = [r["step"] for r in doc["trace"]]
    return Figure("curve", f"λ_max(H) under GD at η = {doc['lr']:g} against 2/η (Cohen et al. 2021)", "step",
                  "λ_max(H)", series=[Series("λ_max(H)", steps, [r["lambda_max"] for r in doc["trace"]], "line"),
                                      Series("2/η", steps, [doc["threshold"]] * len(steps), "dashed")])


def run(args: argparse.Namespace) -> int:
    """Prints (``--json``) the payload: the model's description (``model``, ``backend``, ``loss``, ``device``,
    ``parameters``, ``samples``, ``outputs``, ``targets``) and ``lr``, ``threshold`` (2/η), ``steps``, ``every``,
    ``status`` (completed | diverged), ``trace`` (rows of ``step``, ``loss``, ``lambda_max``), ``final_loss``,
    ``lambda_max_first``, ``lambda_max_last``, ``lambda_max_max``, ``first_step_at_threshold`` (None if λ_max
    never reached 2/η) and ``files``; DIR/sharpness.json also holds ``final_params``."""
    import numpy as np

    from theorycheck.core.evidence import jsonable
    from theorycheck.reporting.figures import render_png
    from theorycheck.reporting.outdir import validate, write_files
    from theorycheck.running.limits import status
    from theorycheck.running.model_args import model_point, positive_number
    from theorycheck.running.output import emit, versioned
    from theorycheck.running.validate import check_seed, int_between

    lr = positive_number(args.lr, "--lr")
    assert lr is not None
    steps = int_between(args.steps, "--steps", 0, 10**7)
    every = int_between(args.every, "--every", 1, 10**7)
    seed = check_seed(int_between(args.seed, "--seed", 0, 2**32 - 1))
    validate(args.out, kind="sharpness")  # before any computation: a file, a user's directory, an unwritable parent
    point, info, _ = model_point(args, targets_required=True, gram=False)
    status(f"GD on {info['model']} (p = {info['parameters']:,}) for {steps} steps, λ_max every {every}…")
    doc = {**info, **sharpness_trace(point, lr, steps, every, seed)}
    record = versioned("sharpness", jsonable({**doc, "final_params": np.asarray(doc["final_params"]).tolist()}))
    files = write_files(args.out, {"sharpness.json": (json.dumps(record, indent=1, allow_nan=False) + "\n").encode(),
                                   "sharpness.png": render_png(_figure(doc))}, kind="sharpness")
    doc.pop("final_params")
    doc["files"] = files
    if args.json:
        emit("sharpness", jsonable(doc), allow_nan=False)
    else:
        for r in doc["trace"]:
            print(f"step {r['step']:<7d} loss {r['loss']:<12.6g} lambda_max {r['lambda_max']:<12.6g} "
                  f"eta*lambda_max/2 {lr * r['lambda_max'] / 2:.4f}")
        print(f"{doc['status']} after {doc['steps']} steps; 2/lr = {doc['threshold']:.6g}; wrote {files[0]} and "
              f"{files[1]}")
    if doc["status"] == "diverged":  # the trace up to the step is written; the run still failed
        raise DivergenceError(f"GD diverged at step {doc['steps']} of {steps} (η = {lr:g}, "
                              f"2/η = {doc['threshold']:.6g}); the trace up to it is in {files[0]}; "
                              f"try a smaller --lr.")
    return 0


__all__ = ["HELP", "NAME", "TRACE_TOL", "add_arguments", "run", "sharpness_trace"]
