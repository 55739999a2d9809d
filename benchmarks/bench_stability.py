"""Benchmark: η*(B) and the published conditions at scale, each against a baseline measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_stability.py [--quick]``. Prints one line per target:

1. dense d²×d² generalized eigenproblem vs the matrix-free η* at d = 30, n = 60 (ratio, agreement);
2. ``theorycheck stability --features X.npy --batch 8`` at n = 400, d = 200 as a whole process
   (goal < 2 s), against ``python -c "import numpy"`` as the floor of any process; and, inside
   the process, the published conditions from the factors against Σ formed by an einsum over the
   n×d×d tensor of per-sample Hessians (the brute-force route);
3. η*(B) at n = 2000, d = 1000 (goal < 30 s, peak RSS < 2 GiB; the dense operator would need
   d⁴·8 bytes = 8 TB), against one application of the operator (cost per Lanczos step);
4. η*(B) of a two-layer network with p ≈ 10⁵ parameters and n = 1000 samples from its per-sample
   gradients (goal < 10 s, no p×p object): the Gram (NTK) route, and against it, on a size where
   both run (p ≈ 10⁴, n = 500), the full-space route (SVD of the p×n gradients, p×r basis);
5. Tr H and λ_max of the p ≈ 10⁵ network at interpolation: exact from the Gram matrix, and
   Hutchinson (with its confidence interval) + Lanczos on Hessian-vector products.

Times are CPU seconds of this process (``time.process_time``) where noted, so that a busy machine
distorts them less than wall time; wall seconds are printed beside them.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from theorycheck.maths import networks  # noqa: E402
from theorycheck.maths import stability as ms  # noqa: E402
from theorycheck.maths.sampling import sampling_factor  # noqa: E402
from theorycheck.numerics.curvature import estimated_curvature, exact_curvature  # noqa: E402
from theorycheck.numerics.stability import critical_rate, dense_critical_rate  # noqa: E402


def timed(f, repeat: int = 1):
    """(best wall s, best CPU s, value)."""
    best_w = best_c = float("inf")
    val = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        val = f()
        best_w, best_c = min(best_w, time.perf_counter() - w), min(best_c, time.process_time() - c)
    return best_w, best_c, val


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_s(cmd: list[str], repeat: int = 3) -> tuple[float, float]:
    """(best wall s, best CPU s of the child) of a whole process."""
    best_w = best_c = float("inf")
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        best_w = min(best_w, time.perf_counter() - t)
        best_c = min(best_c, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
    return best_w, best_c


def brute_sigma_top(X: np.ndarray) -> float:
    Hs = np.einsum("ni,nj->nij", X, X)  # n×d×d
    S = np.einsum("nab,nbc->ac", Hs, Hs) / len(X) - (Hs.mean(0) @ Hs.mean(0))
    return float(np.linalg.eigvalsh(S)[-1])


def net_at_interpolation(d: int, m: int, n: int, seed: int):
    net = networks.init_net(d, m, seed=seed)
    X = np.random.default_rng(seed).standard_normal((n, d))
    return net, X, net(X)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not the targets)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    B, sampling = 8, "with"

    # 1. dense reference
    n, d = 60, 30
    X = rng.standard_normal((n, d))
    p = sampling_factor(n, 4, sampling)
    w_dense, _, e_dense = timed(lambda: dense_critical_rate(np.einsum("ni,nj->nij", X, X), p))
    w_mf, _, e_mf = timed(lambda: critical_rate(ms.problem_from_features(X), p), repeat=3)
    print(f"[1] d={d} n={n}: dense d²×d² {w_dense:.3f} s, matrix-free {w_mf:.4f} s: ratio {w_dense / w_mf:.0f}x, "
          f"|rel diff| {abs(e_mf / e_dense - 1):.1e}")

    # 2. the stability command as a process
    n, d = (200, 100) if args.quick else (400, 200)
    X = rng.standard_normal((n, d)) * (1 + np.arange(d)) ** -0.5
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.npy"
        np.save(path, X)
        cmd = [sys.executable, "-m", "theorycheck", "stability", "--features", str(path), "--batch", str(B)]
        w_cmd, c_cmd = process_s(cmd)
        w_np, c_np = process_s([sys.executable, "-c", "import numpy"])
    print(f"[2] `theorycheck stability` n={n} d={d} B={B}: {w_cmd:.2f} s wall ({c_cmd:.2f} s CPU) as a process "
          f"(goal < 2 s); `python -c 'import numpy'` {w_np:.2f} s: ratio {w_cmd / w_np:.1f}x the floor")
    P = ms.problem_from_features(X)
    _, c_brute, s_brute = timed(lambda: brute_sigma_top(X))
    _, c_fact, _ = timed(lambda: ms.published_conditions(ms.problem_from_features(X), B, sampling))
    s_fact = ms.non_uniformity(P) ** 2
    print(f"    conditions from the factors {c_fact:.3f} s CPU vs Σ by einsum over the n×d×d tensor "
          f"{c_brute:.3f} s: ratio {c_brute / c_fact:.0f}x; λ_max(Σ) agree to {abs(s_fact / s_brute - 1):.1e}")

    # 3. η* at n = 2000, d = 1000
    n, d = (500, 250) if args.quick else (2000, 1000)
    X = rng.standard_normal((n, d)) * (1 + np.arange(d)) ** -0.5
    p = sampling_factor(n, B, sampling)
    w_big, c_big, (P, eta) = timed(lambda: (lambda P: (P, critical_rate(P, p)))(ms.problem_from_features(X)))
    w_one, c_one, _ = timed(lambda: ms.apply_D(P, np.eye(P.rank), p), repeat=3)
    print(f"[3] η*(B={B}) n={n} d={d}: {eta:.10g} in {w_big:.2f} s wall ({c_big:.2f} s CPU; goal < 30 s), "
          f"peak RSS {rss_mib():.0f} MiB (goal < 2048; dense operator {d**4 * 8 / 1e12:.1f} TB); "
          f"= {w_big / w_one:.0f} operator applications of {w_one * 1e3:.0f} ms")

    # 4. per-sample gradients of a p ≈ 1e5 network
    dd, m, n = (48, 200, 300) if args.quick else (98, 1000, 1000)  # p = m(d + 2)
    net, Xn, _ = net_at_interpolation(dd, m, n, 1)
    p = sampling_factor(n, B, sampling)
    w_gram, c_gram, eta_gram = timed(lambda: critical_rate(
        ms.problem_from_gram(networks.gradient_gram(net, Xn), d=net.n_params), p))
    w_grad, c_grad, eta_grad = timed(lambda: critical_rate(
        ms.problem_from_gradients(networks.per_sample_gradients(net, Xn), method="gram"), p))
    print(f"[4] η*(B={B}) of a p={net.n_params} n={n} net: {eta_gram:.10g} from the closed-form NTK Gram in "
          f"{w_gram:.2f} s wall ({c_gram:.2f} s CPU; goal < 10 s); from the n×p gradients (Gram route) "
          f"{w_grad:.2f} s, agree to {abs(eta_grad / eta_gram - 1):.1e}; peak RSS {rss_mib():.0f} MiB")
    dd, m, n = (23, 100, 200) if args.quick else (48, 200, 500)
    net, Xn, _ = net_at_interpolation(dd, m, n, 2)
    G = networks.per_sample_gradients(net, Xn)
    p = sampling_factor(n, B, sampling)
    w_full, c_full, e_full = timed(lambda: critical_rate(ms.problem_from_gradients(G, method="svd"), p))
    w_red, c_red, e_red = timed(lambda: critical_rate(ms.problem_from_gradients(G, method="gram"), p))
    print(f"    p={net.n_params} n={n}: full-space route (SVD, p×r basis) {w_full:.2f} s vs Gram route {w_red:.2f} s: "
          f"ratio {w_full / w_red:.1f}x (CPU {c_full / c_red:.1f}x), agree to {abs(e_full / e_red - 1):.1e}")

    # 5. Tr H and λ_max of the p ≈ 1e5 network at interpolation
    dd, m, n = (48, 200, 300) if args.quick else (98, 1000, 1000)
    net, Xn, yn = net_at_interpolation(dd, m, n, 1)
    w_ex, c_ex, ex = timed(lambda: exact_curvature(gram=networks.gradient_gram(net, Xn), n=n))
    samples = 30 if args.quick else 100
    w_hu, c_hu, hu = timed(lambda: estimated_curvature(networks.hvp(net, Xn, yn), net.n_params, samples=samples))
    lo, hi = hu.trace_ci
    print(f"[5] p={net.n_params} n={n}: exact Tr H {ex.trace:.6g}, λ_max {ex.lambda_max:.6g} in {w_ex:.2f} s; "
          f"Hutchinson ({samples} probes) Tr H ∈ [{lo:.6g}, {hi:.6g}] ({int(100 * hu.confidence)}%, "
          f"{'covers' if lo <= ex.trace <= hi else 'MISSES'} the exact value), Lanczos λ_max {hu.lambda_max:.6g} "
          f"(rel diff {abs(hu.lambda_max / ex.lambda_max - 1):.1e}) in {w_hu:.2f} s: ratio {w_hu / w_ex:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
