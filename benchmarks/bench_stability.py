"""Benchmark: matrix-free η*(B) against the dense d²×d² generalized eigenproblem, and the d = 200 scale goal.

Run: ``.venv/bin/python benchmarks/bench_stability.py``. Prints, in one run:
the dense baseline time at d = 30 (n = 60), the matrix-free time on the same
instance and their ratio; then the matrix-free time and peak memory at d = 200,
n = 400 (goal: < 10 s, < 1 GiB; the dense operator would hold 200⁴ doubles = 12.8 GB).
"""

from __future__ import annotations

import resource
import time

import numpy as np

from theorycheck.maths.sampling import sampling_factor
from theorycheck.numerics.stability import critical_learning_rate_features, dense_critical_rate


def timed(f, repeat: int = 3) -> tuple[float, float]:
    best, val = float("inf"), float("nan")
    for _ in range(repeat):
        t = time.perf_counter()
        val = f()
        best = min(best, time.perf_counter() - t)
    return best, val


def main() -> None:
    rng = np.random.default_rng(0)
    B, sampling = 4, "with"
    n, d = 60, 30
    X = rng.standard_normal((n, d))
    Hs = np.einsum("ni,nj->nij", X, X)
    p = sampling_factor(n, B, sampling)
    t_dense, e_dense = timed(lambda: dense_critical_rate(Hs, p), repeat=2)
    t_mf, e_mf = timed(lambda: critical_learning_rate_features(X, B, sampling))
    print(f"d={d} n={n}: dense {t_dense:.3f} s, matrix-free {t_mf:.4f} s, ratio dense/matrix-free "
          f"{t_dense / t_mf:.1f}x, |rel diff| {abs(e_mf / e_dense - 1):.1e}")

    n, d = 400, 200
    X = rng.standard_normal((n, d)) * (1 + np.arange(d)) ** -0.5
    t_big, e_big = timed(lambda: critical_learning_rate_features(X, 8, sampling), repeat=1)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"d={d} n={n} B=8: eta* = {e_big:.10g} in {t_big:.2f} s (goal < 10 s); peak RSS {rss:.0f} MiB "
          f"(goal < 1024); dense operator would need {d**4 * 8 / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
