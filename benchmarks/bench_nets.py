"""Benchmark: exact Tr(H) of a two-layer net from per-sample gradients vs forming the full Hessian.

Prints (1) the scale target: p ≈ 10⁴ parameters, n = 1000, exact Tr H (Gauss–Newton part from the
(n, p) per-sample gradient matrix plus the residual part in closed form) in well under 10 s;
(2) at a size where both fit, the time ratio against the autograd full Hessian and their agreement.

Run: .venv/bin/python benchmarks/bench_nets.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

from theorycheck.maths import networks  # noqa: E402
from theorycheck.numerics.eigen import lambda_max  # noqa: E402


def _time(f, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def exact_trace_from_per_sample(net: networks.TwoLayerNet, X: np.ndarray, y: np.ndarray) -> float:
    G = networks.per_sample_gradients(net, X)  # (n, p)
    return float(np.einsum("ij,ij->", G, G) / len(y)) + networks.trace_hessian(net, X, y).residual


def main() -> None:
    rng = np.random.default_rng(0)
    d, m, n = 48, 200, 1000  # p = m(d + 2) = 10 000
    net = networks.init_net(d, m, seed=0)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    t_big, tr_big = _time(lambda: exact_trace_from_per_sample(net, X, y))
    t_closed, tr_closed = _time(lambda: networks.trace_hessian(net, X, y).total)
    print(f"scale: p={net.n_params}, n={n}: exact Tr H via per-sample gradients {t_big:.3f} s "
          f"(closed-form norms {t_closed:.4f} s, agree to {abs(tr_big - tr_closed) / abs(tr_closed):.1e}); target < 10 s")

    d, m, n = 8, 40, 200  # p = 400: the full Hessian fits
    net = networks.init_net(d, m, seed=1)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    t_ps, tr_ps = _time(lambda: exact_trace_from_per_sample(net, X, y))
    t_full, H = _time(lambda: networks.hessian_exact(net, X, y), repeat=1)
    tr_full = float(np.trace(H))
    print(f"compare: p={net.n_params}, n={n}: per-sample {t_ps:.4f} s, full autograd Hessian {t_full:.3f} s, "
          f"ratio {t_full / t_ps:.0f}x; relative difference {abs(tr_ps - tr_full) / abs(tr_full):.1e}")
    t_lz, lam = _time(lambda: lambda_max(networks.hessian_operator(net, X, y)), repeat=1)
    print(f"λ_max by Lanczos on HVPs {t_lz:.3f} s vs dense eigvalsh of the full Hessian: "
          f"{abs(lam - np.linalg.eigvalsh(H)[-1]) / abs(lam):.1e} relative difference")


if __name__ == "__main__":
    main()
