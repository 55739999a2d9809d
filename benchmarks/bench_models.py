"""A user's network at real size, as whole processes: time and peak memory against the goals and the tools users know.

    .venv/bin/python benchmarks/bench_models.py [--part big|features|torch|all] [--repeat R]

* ``big``: a 1000→1000→1 tanh net in JAX (p = 1,001,000, no biases), n = 512 inputs, interpolating targets (the
  model's own outputs): ``theorycheck stability --model`` and ``theorycheck flatness --model`` each as a process
  under ``/usr/bin/time -v`` (goal ≤ 20 s, ≤ 2 GiB resident), their η*(B = 8), Tr GN and λ_max against an
  independent float64 reference (the closed-form empirical NTK of the same net,
  ``theorycheck.maths.networks.gradient_gram``, with dense ``eigvalsh``; goal 1e-6 relative).
* ``features``: ``theorycheck stability --features X.npy`` at n = 2000, d = 1000 (goal ≤ 10 s, ≤ 2 GiB).
* ``torch``: a 20→64→64→1 tanh MLP in float64 (p = 5569), n = 256, at its initialisation with random targets
  (not a minimum: the residual part of H is not small). ``theorycheck flatness --model --backend torch`` (λ_max
  to 1e-10 by Lanczos, Tr H to 1%) against a script computing the same with curvlinops-for-pytorch
  (``HessianLinearOperator``, scipy ``eigsh``, Hutch++ with 150 products, and with as many products as
  theorycheck's estimate used) and one with PyHessian (power
  iteration for λ_max, Hutchinson for Tr H, its defaults), all three against the dense Hessian; the time ratios
  are paired, process by process. The peers are not dependencies of theorycheck::

      pip install torch==2.13.0 && pip install --no-deps curvlinops-for-pytorch backpack-for-pytorch \\
          linear_operator einops einconv opt-einsum unfoldNd pyhessian

  (``--no-deps``: backpack-for-pytorch asks for torchvision, which would replace the CPU torch by a CUDA build.)

Each figure is printed with the load average at the time, since the machine may be shared: quote the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
GIB = 1024**3


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, peak resident bytes, stdout) of one process under /usr/bin/time -v."""
    env = {**os.environ, "THEORYCHECK_CACHE_DIR": os.environ.get("THEORYCHECK_CACHE_DIR", str(cwd / "cache"))}
    r = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=cwd, capture_output=True, text=True, env=env)
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
    parts = [float(x) for x in wall.split(":")]
    seconds = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) * 1024
    return seconds, rss, r.stdout


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


BIG_MODEL = '''import jax.numpy as jnp

D = M = 1000


def f(theta, x):
    W = theta[: M * D].reshape(M, D)
    return jnp.dot(theta[M * D:], jnp.tanh(W @ x))
'''


def big(work: Path, repeat: int) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from theorycheck.maths import networks
    from theorycheck.maths.sampling import sampling_factor
    from theorycheck.maths.stability import problem_from_gram
    from theorycheck.numerics.stability import critical_rate

    d = m = 1000
    n, B = 512, 8
    rng = np.random.default_rng(0)
    arch = networks.Architecture(d, m, "tanh", bias=False)
    theta = arch.init(0)
    X = rng.standard_normal((n, d))
    (work / "big_model.py").write_text(BIG_MODEL)
    W = jnp.asarray(theta[: m * d].reshape(m, d))
    a = jnp.asarray(theta[m * d:])
    y = np.asarray(jax.vmap(lambda x: jnp.dot(a, jnp.tanh(W @ x)))(jnp.asarray(X)))  # the model's own outputs
    np.save(work / "theta.npy", theta), np.save(work / "X.npy", X), np.save(work / "y.npy", y)
    t0 = time.perf_counter()
    K = networks.gradient_gram(arch.net(theta), X)  # closed form, independent of the autodiff and streaming
    P = problem_from_gram(K, d=theta.size)
    ref = {"eta_star": critical_rate(P, sampling_factor(n, B, "with"), 1e-10), "gauss_newton_trace": np.trace(K) / n,
           "lambda_max": np.linalg.eigvalsh(K)[-1] / n}
    t_ref = time.perf_counter() - t0
    common = ["--model", "big_model.py:f", "--backend", "jax", "--params", "theta.npy", "--features", "X.npy",
              "--targets", "y.npy", "--json"]
    for name, cmd, keys in (
            ("stability --model", [str(BIN / "theorycheck"), "stability", *common, "--batch", str(B)], ["eta_star"]),
            ("flatness --model", [str(BIN / "theorycheck"), "flatness", *common], ["gauss_newton_trace", "lambda_max"])):
        runs = [timed(cmd, work) for _ in range(repeat)]
        wall = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs)
        out = json.loads(runs[0][2])
        errs = ", ".join(f"{k} {out[k]:.12g} (rel. err. {rel(out[k], ref[k]):.1e})" for k in keys)
        print(f"p = {theta.size:,}, n = {n}: {name}: {wall:.1f} s (goal ≤ 20 s: {wall / 20:.2f} of it), "
              f"{rss / GIB:.2f} GiB resident (goal ≤ 2 GiB: {rss / (2 * GIB):.2f}); {errs}; {load()}")
    print(f"  the closed-form reference (NTK in closed form + dense eigvalsh, in-process) took {t_ref:.1f} s")


def features(work: Path, repeat: int) -> None:
    X = np.random.default_rng(1).standard_normal((2000, 1000))
    np.save(work / "F.npy", X)
    cmd = [str(BIN / "theorycheck"), "stability", "--features", "F.npy", "--batch", "8", "--json"]
    runs = [timed(cmd, work) for _ in range(repeat)]
    wall, rss = statistics.median(r[0] for r in runs), max(r[1] for r in runs)
    print(f"stability --features n=2000, d=1000: {wall:.1f} s (goal ≤ 10 s: {wall / 10:.2f}), {rss / GIB:.2f} GiB "
          f"(goal ≤ 2 GiB: {rss / (2 * GIB):.2f}); eta_star {json.loads(runs[0][2])['eta_star']:.10g}; {load()}")


MLP = '''import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 1))

    def forward(self, x):
        return self.net(x)
'''

CURVLINOPS = '''import json, sys
import numpy as np, torch
from scipy.sparse.linalg import eigsh
from curvlinops import HessianLinearOperator
from curvlinops.trace.meyer2020hutch import hutchpp_trace
from mlp import MLP
torch.manual_seed(0)
model = MLP().double()
model.load_state_dict(torch.load("mlp.pt", weights_only=True))
X = torch.from_numpy(np.load("X.npy")); y = torch.from_numpy(np.load("y.npy"))[:, None]
loss = torch.nn.MSELoss(reduction="sum")  # (f - y)^2 summed: 2n times theorycheck's (1/2n) sum (f - y)^2
H = HessianLinearOperator(model, loss, list(model.parameters()), [(X, y)])
scale = 1.0 / (2 * X.shape[0])
lam = eigsh(H.to_scipy(), k=1, which="LA", tol=1e-10, return_eigenvectors=False)[0] * scale
products = int(sys.argv[1]) // 3 * 3 if len(sys.argv) > 1 else 150
torch.manual_seed(1)
tr = float(hutchpp_trace(H, products)) * scale
print(json.dumps({"lambda_max": float(lam), "trace": tr, "products": products}))
'''

PYHESSIAN = '''import json
import numpy as np, torch
torch.set_default_dtype(torch.float64)
from pyhessian import hessian
from mlp import MLP
torch.manual_seed(0)
model = MLP().double()
model.load_state_dict(torch.load("mlp.pt", weights_only=True))
X = torch.from_numpy(np.load("X.npy")); y = torch.from_numpy(np.load("y.npy"))[:, None]
crit = lambda out, target: 0.5 * torch.mean((out - target) ** 2)  # theorycheck's loss
h = hessian(model, crit, data=(X, y), cuda=False)
lam = h.eigenvalues(maxIter=1000, tol=1e-8)[0][0]
tr = float(np.mean(h.trace(maxIter=1000, tol=1e-2)))
print(json.dumps({"lambda_max": float(lam), "trace": tr}))
'''


def torch_part(work: Path, repeat: int) -> None:
    import torch

    (work / "mlp.py").write_text(MLP)
    sys.path.insert(0, str(work))
    from mlp import MLP as Net  # type: ignore[import-not-found]

    torch.manual_seed(0)
    model = Net().double()
    torch.save(model.state_dict(), work / "mlp.pt")
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((256, 20)), rng.standard_normal(256)
    np.save(work / "X.npy", X), np.save(work / "y.npy", y)
    names = [k for k, _ in model.named_parameters()]
    shapes = [v.shape for _, v in model.named_parameters()]
    theta = torch.cat([v.detach().reshape(-1) for v in model.parameters()])
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def L(th):
        params = dict(zip(names, (t.view(s) for t, s in zip(torch.split(th, [int(np.prod(s)) for s in shapes]),
                                                             shapes))))
        out = torch.func.functional_call(model, params, (Xt,))[:, 0]
        return 0.5 * torch.mean((out - yt) ** 2)

    Hd = torch.func.hessian(L)(theta).numpy()
    ref = {"lambda_max": float(np.linalg.eigvalsh(Hd)[-1]), "trace": float(np.trace(Hd))}
    (work / "cl.py").write_text(CURVLINOPS)
    (work / "ph.py").write_text(PYHESSIAN)
    ours = [str(BIN / "theorycheck"), "flatness", "--model", "mlp.py:MLP", "--params", "mlp.pt", "--features", "X.npy",
            "--targets", "y.npy", "--json"]
    first = json.loads(timed(ours, work)[2])
    used = first["trace_error"]["products"]  # curvlinops' Hutch++ gets as many products as theorycheck's trace used
    peers = {"curvlinops (Hutch++, 150 products)": [sys.executable, "cl.py", "150"],
             f"curvlinops (Hutch++, {used // 3 * 3} products)": [sys.executable, "cl.py", str(max(used, 3))],
             "PyHessian": [sys.executable, "ph.py"]}
    for peer, cmd in peers.items():
        try:
            timed(cmd, work)
        except SystemExit as exc:
            print(f"{peer}: could not run here ({str(exc).splitlines()[-1][:200]})")
            continue
        ratios, ours_runs, peer_runs = [], [], []
        for _ in range(repeat):  # paired: ours, then the peer, so a drift of the machine hits both
            a, b = timed(ours, work), timed(cmd, work)
            ours_runs.append(a), peer_runs.append(b)
            ratios.append(a[0] / b[0])
        o, q = json.loads(ours_runs[0][2]), json.loads(peer_runs[0][2])
        o_tr, q_tr = o["trace"], q["trace"]
        print(f"torch MLP p = 5569, n = 256 vs {peer}: theorycheck {statistics.median(r[0] for r in ours_runs):.2f} s "
              f"(λ_max rel. err. {rel(o['lambda_max'], ref['lambda_max']):.1e}, Tr H {rel(o_tr, ref['trace']):.1e} "
              f"[{o['trace_error']['method']}, ±{o['trace_error']['half_width'] / abs(o_tr):.1e}]); {peer} "
              f"{statistics.median(r[0] for r in peer_runs):.2f} s (λ_max {rel(q['lambda_max'], ref['lambda_max']):.1e}, "
              f"Tr H {rel(q_tr, ref['trace']):.1e}); time ratio theorycheck/{peer} median "
              f"{statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f}); {load()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="all", choices=("big", "features", "torch", "all"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, fn in (("features", features), ("big", big), ("torch", torch_part)):
            if args.part in (name, "all"):
                fn(work, args.repeat)


if __name__ == "__main__":
    main()
