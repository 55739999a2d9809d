"""Benchmark: how the cost of η*(B) grows with the dimension d and the number of samples n.

Run: ``.venv/bin/python benchmarks/bench_scaling.py [--quick]``. Two sweeps of random features
(Hᵢ = xᵢxᵢᵀ, B = 8 with replacement, a decaying spectrum so that the problem is not trivially
conditioned): d from 50 to 1000 with n = 2d, and n from 250 to 4000 at d = 200. For each point it
prints the CPU time of the whole computation (reduction to range(H), then η* by Lanczos), the
number of operator applications and the time per application; then the fitted exponent k of
time ∝ size^k over the sweep (least squares on log-log), against the exponent of the operator's
flop count (n d² per application: 2 in d at fixed n/d ratio plus 1 for n, so 3 along the first
sweep and 1 along the second). The baseline of each sweep is its smallest point.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

# one BLAS thread: CPU time then measures the work, not threads spinning on a shared machine
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from theorycheck.maths import stability as ms  # noqa: E402
from theorycheck.maths.sampling import sampling_factor  # noqa: E402
from theorycheck.numerics import eigen  # noqa: E402
from theorycheck.numerics.stability import critical_rate  # noqa: E402


def one(n: int, d: int, seed: int = 0) -> tuple[float, int]:
    """(CPU s, operator applications) of η*(8) for n random features in d dimensions."""
    X = np.random.default_rng(seed).standard_normal((n, d)) * (1 + np.arange(d)) ** -0.5
    count = [0]
    real = ms.apply_D

    def counted(*a, **k):
        count[0] += 1
        return real(*a, **k)

    t = time.process_time()
    P = ms.problem_from_features(X)
    import theorycheck.numerics.stability as ns

    ns.apply_D = counted
    try:
        critical_rate(P, sampling_factor(n, 8, "with"))
    finally:
        ns.apply_D = real
    return time.process_time() - t, count[0]


def slope(xs: list[float], ys: list[float]) -> float:
    lx, ly = np.log(xs), np.log(ys)
    return float(np.polyfit(lx, ly, 1)[0])


def sweep(label: str, points: list[tuple[int, int]], var: int, flops_exponent: float) -> None:
    rows = []
    for n, d in points:
        s, k = one(n, d)
        rows.append((n, d, s, k))
        print(f"  {label}: n={n:5d} d={d:5d}  {s:8.3f} s CPU  {k:4d} applications  {1e3 * s / max(k, 1):8.2f} ms each"
              + ("  (dense Sym(r) matrix)" if d * (d + 1) // 2 <= eigen.DENSE_MAX else ""))
    sizes = [r[var] for r in rows]
    big = [r for r in rows if r[1] * (r[1] + 1) // 2 > eigen.DENSE_MAX]
    k_all = slope(sizes, [r[2] for r in rows])
    k_per = slope([r[var] for r in big], [r[2] / max(r[3], 1) for r in big]) if len(big) >= 2 else math.nan
    base = rows[0][2]
    print(f"  {label}: time ∝ size^{k_all:.2f} (per application ^{k_per:.2f}; operator flops ^{flops_exponent:g}); "
          f"largest/smallest time ratio {rows[-1][2] / base:.0f}x for size ratio {sizes[-1] / sizes[0]:.0f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a shorter sweep (smoke run)")
    args = ap.parse_args(argv)
    ds = [50, 100, 200, 400] if args.quick else [50, 100, 200, 400, 700, 1000]
    ns = [250, 500, 1000] if args.quick else [250, 500, 1000, 2000, 4000]
    print("sweep over d (n = 2d):")
    sweep("d", [(2 * d, d) for d in ds], 1, 3)
    print("sweep over n (d = 200):")
    sweep("n", [(n, 200) for n in ns], 0, 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
