"""Benchmarks for the implicit-regularisation claims.

Run: ``.venv/bin/python benchmarks/bench_implicit.py [--claims]``. Each line is
a ratio against a baseline measured in the same run (never an absolute
threshold):

* mean SGD epoch over all m! orderings: prefix recursion vs brute force (m = 5);
* Hessian of the property networks (P = 64): complex step vs autograd;
* loss increase under parameter noise: batched vs one loss per sample;
* ``--claims``: each implicit.* claim in full mode, relative to its quick run.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mpmath  # noqa: E402
import numpy as np  # noqa: E402


def _time(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_sgd_mean() -> None:
    from theorycheck.maths import sgd_modified

    b = sgd_modified.Batches(sgd_modified.random_samples(5, 1), sgd_modified.consecutive_partition(5, 1))
    th, T = [mpmath.mpf("0.7"), mpmath.mpf("0.5")], mpmath.mpf("0.25")
    fast = sgd_modified.sgd_epoch_mean_map(b)
    maps = [sgd_modified.sgd_epoch_map(b, o) for o in itertools.permutations(range(5))]
    fast(th, T)  # compile the batch gradients before timing
    t_fast = _time(lambda: fast(th, T), 1)
    t_brute = _time(lambda: [f(th, T) for f in maps], 1)
    print(f"sgd mean over 5! orderings: prefix recursion {t_fast:.3f}s, brute force {t_brute:.3f}s, "
          f"speed-up ×{t_brute / t_fast:.2f}")


def _network() -> tuple:
    from theorycheck.maths.datasets import regression_task
    from theorycheck.maths.networks import Architecture

    rng = np.random.default_rng(0)
    task = regression_task(rng)
    net = Architecture(2, 16)
    return rng, task, net, net.init(rng, bias_scale=0.1)


def bench_hessian() -> None:
    from autograd import hessian

    rng, task, net, theta = _network()
    t_cs = _time(lambda: net.hessian(theta, task.X, task.y))
    t_ad = _time(lambda: hessian(net.autograd_loss(task.X, task.y))(theta), 1)
    print(f"Hessian P={net.n_params}: complex step {t_cs * 1e3:.1f} ms, autograd {t_ad * 1e3:.1f} ms, "
          f"speed-up ×{t_ad / t_cs:.1f}")


def bench_perturbation() -> None:
    from theorycheck.numerics.experiments import perturbation_increase

    rng, task, net, theta = _network()
    eps = rng.standard_normal((200, net.n_params))
    t_vec = _time(lambda: perturbation_increase(net, theta, task.X, task.y, 0.02, 200, np.random.default_rng(1)))
    t_loop = _time(lambda: [net.loss(theta + 0.02 * e, task.X, task.y) + net.loss(theta - 0.02 * e, task.X, task.y)
                            for e in eps])
    print(f"noise MC, 200 antithetic pairs: batched {t_vec * 1e3:.1f} ms, loop {t_loop * 1e3:.1f} ms, "
          f"speed-up ×{t_loop / t_vec:.1f}")


def bench_claims() -> None:
    from theorycheck import claims
    from theorycheck.claims import RunContext

    for c in claims.all_claims():
        if not c.id.startswith("implicit."):
            continue
        tq = _time(lambda: c.run(RunContext(quick=True)), 1)
        tf = _time(lambda: c.run(RunContext(quick=False)), 1)
        print(f"{c.id:40s} quick {tq:6.1f}s  full {tf:6.1f}s  full/quick ×{tf / tq:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--claims", action="store_true", help="also time every implicit.* claim (minutes)")
    args = ap.parse_args()
    bench_sgd_mean()
    bench_hessian()
    bench_perturbation()
    if args.claims:
        bench_claims()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
