"""Benchmark: a user's optimiser file through the optimiser protocol, against the same rule shipped built in.

Run: ``.venv/bin/python benchmarks/bench_optimizer.py [--beta 1/2] [--pairs 3]``. Three measurements, each
printed with the goal it is held to and the ratio measured in this run:

1. **Orders** of a user's Nesterov file (written as in ``docs/optimizers.md``) on
   ``log(1+exp(-a*b))+(a**2+b**2)/20+sin(a)/5`` at a=0.7, b=−0.4: the local order against its leading
   (rescaled) flow, about 2, and against its derived first-order field, about 3 (gain 0.8–1.2, both PASS).
2. **Derivation** of the modified field to K = 2 of that stateful rule on the two-variable loss, in a process
   that has imported everything (warm): the time of one derivation (slow manifold, θ-map, matching, the concrete
   terms and the compiled field), goal ≤ 2 s, printed as time/goal.
3. **Process time** of ``theorycheck order --optimizer FILE.py:step`` against ``--optimizer nesterov`` (the
   shipped file with the same content), run in turn A B A B …, each a fresh process with its own cache
   directory; goal: the user's file ≤ 3× the built-in, printed as the median of the pairwise ratios.

Times are wall seconds on whatever the machine is doing: the ratios, measured pair by pair in one run, are the
figures to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from fractions import Fraction
from pathlib import Path

LOSS = "log(1+exp(-a*b))+(a**2+b**2)/20+sin(a)/5"
AT = "a=0.7,b=-0.4"
NESTEROV = """
from fractions import Fraction


def init_state(theta):
    return [0] * len(theta)


def step(theta, state, grad, h, beta=Fraction(1, 2)):
    ahead = [t - h * beta * v for t, v in zip(theta, state)]
    v = [beta * vi + gi for vi, gi in zip(state, grad(ahead))]
    return [t - h * vi for t, vi in zip(theta, v)], v
"""


def order_json(opt: str, against: str, beta: str, cwd: Path, cache: Path) -> tuple[float, dict]:
    """(wall seconds, JSON report) of one ``theorycheck order`` process."""
    cmd = [sys.executable, "-m", "theorycheck", "order", "--loss", LOSS, "--at", AT, "--optimizer", opt, "--beta",
           beta, "--against", against, "--json"]
    env = {**os.environ, "THEORYCHECK_CACHE_DIR": str(cache)}
    t = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if out.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    return wall, json.loads(out.stdout)


def derivation_seconds(beta: Fraction, path: Path) -> tuple[float, float]:
    """(first, warm) seconds of deriving F₀ … F₂ of the user's file and compiling the field, in this process."""
    import importlib.util

    import sympy as sp

    from theorycheck.maths import losses, optimizer_field, protocol

    spec = importlib.util.spec_from_file_location("bench_user_nesterov", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = []
    for shift in (0, 1):  # the second derivation is of another loss and β: nothing is reused but the imports
        loss = losses.parse_loss(LOSS.replace("/20", f"/{20 + shift}"), variables=("a", "b"))
        rule = protocol.as_optimizer(mod.step).with_hyperparameters(beta=beta * Fraction(9, 10) ** shift)
        t = time.perf_counter()
        eq = optimizer_field.derive(rule, loss, 2)
        field = eq.field(2)
        field.mpmath((sp.Rational(7, 10), sp.Rational(-2, 5)), sp.Rational(1, 64))
        out.append(time.perf_counter() - t)
    return out[0], out[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--beta", default="1/2", help="Nesterov's momentum β (default 1/2)")
    p.add_argument("--pairs", type=int, default=3, help="A/B pairs of processes for the time ratio (default 3)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "user_nesterov.py").write_text(textwrap.dedent(NESTEROV))

        # 1. orders
        _, flow = order_json("user_nesterov.py:step", "flow", args.beta, work, work / "cache-orders")
        _, first = order_json("user_nesterov.py:step", "modified:1", args.beta, work, work / "cache-orders")
        gain = first["order"] - flow["order"]
        ok = flow["verdict"] == first["verdict"] == "PASS" and 0.8 <= gain <= 1.2
        print(f"user's Nesterov (β={args.beta}) on {LOSS} at {AT}:")
        print(f"  local order vs leading flow        {flow['order']:.3f}  {flow['verdict']}  (expected 2)")
        print(f"  local order vs first-order field   {first['order']:.3f}  {first['verdict']}  (expected 3)")
        print(f"  gain {gain:.3f} (goal 0.8–1.2, both PASS): {'met' if ok else 'NOT met'}")

        # 2. derivation to K = 2, warm
        cold, warm = derivation_seconds(Fraction(args.beta), work / "user_nesterov.py")
        print(f"derivation of F0..F2 (slow manifold, matching, concrete terms, compiled field): first {cold:.3f} s, "
              f"warm {warm:.3f} s; warm/goal(2 s) = {warm / 2:.3f}: {'met' if warm <= 2 else 'NOT met'}")

        # 3. process time, user's file vs the shipped file, in pairs
        ratios, times = [], []
        for i in range(args.pairs):
            a, ra = order_json("user_nesterov.py:step", "modified:1", args.beta, work, work / f"cache-a{i}")
            b, rb = order_json("nesterov", "modified:1", args.beta, work, work / f"cache-b{i}")
            if ra["errors"] != rb["errors"]:
                raise SystemExit("the user's file and the shipped file measured different errors")
            ratios.append(a / b)
            times.append((a, b))
        med = statistics.median(ratios)
        print(f"`order --against modified:1` as a process: user's file {statistics.median(t[0] for t in times):.2f} s, "
              f"built-in {statistics.median(t[1] for t in times):.2f} s (medians of {args.pairs}); ratio user/built-in "
              f"median {med:.3f} (pairs {', '.join(f'{r:.3f}' for r in ratios)}; goal ≤ 3): "
              f"{'met' if med <= 3 else 'NOT met'}")


if __name__ == "__main__":
    main()
