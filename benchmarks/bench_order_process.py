"""Benchmark: ``theorycheck order --digits 30`` as a whole process, heyoka (cold and warm cache) vs mpmath.odefun.

Run: ``.venv/bin/python benchmarks/bench_order_process.py [--loss trig] [--kind local]``. Each command
runs as a fresh process, as a user would run it: ``--backend heyoka`` first with an empty on-disk
cache (``$THEORYCHECK_CACHE_DIR`` set to a new directory: the Taylor integrator is compiled, the
*cold* time), then again with that cache (the compiled integrator is loaded: *warm*), then
``--backend mpmath`` (mpmath.odefun at the same digits). The two backends' reports must agree
on the verdict and the order. Printed: wall and CPU seconds of each process and the ratios
mpmath/heyoka cold and warm (goals 30x and 100x), and the floor of any such process
(``python -c "import sympy, heyoka, mpmath"``), which bounds the reachable ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, dict]:
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loss", default="trig")
    ap.add_argument("--kind", default="local", choices=("local", "global"))
    ap.add_argument("--digits", default="30")
    args = ap.parse_args(argv)
    base = [sys.executable, "-m", "theorycheck", "order", "--loss", args.loss, "--digits", args.digits,
            "--kind", args.kind, "--json"]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "THEORYCHECK_CACHE_DIR": tmp}
        env.pop("THEORYCHECK_NO_CACHE", None)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sympy, heyoka, mpmath"], check=True)
        w_floor = time.perf_counter() - t
        w_cold, c_cold, hy = run(base + ["--backend", "heyoka"], env)
        entries = len(os.listdir(os.path.join(tmp, "heyoka-taylor")))
        w_warm, c_warm, hy2 = run(base + ["--backend", "heyoka"], env)
        w_mp, c_mp, mp = run(base + ["--backend", "mpmath"], env)
    assert hy["verdict"] == hy2["verdict"] == mp["verdict"], (hy["verdict"], mp["verdict"])
    print(f"`theorycheck order --loss {args.loss} --kind {args.kind} --digits {args.digits}` "
          f"({len(hy['errors'])} steps), verdict {hy['verdict']}, order heyoka {hy['order']:.6f} / mpmath "
          f"{mp['order']:.6f}")
    print(f"  heyoka cold cache {w_cold:6.2f} s wall ({c_cold:5.2f} s CPU; {entries} integrator(s) compiled and "
          f"stored), warm {w_warm:6.2f} s ({c_warm:5.2f} s CPU)")
    print(f"  mpmath.odefun     {w_mp:6.2f} s wall ({c_mp:5.2f} s CPU)")
    print(f"  floor: python -c 'import sympy, heyoka, mpmath' {w_floor:.2f} s")
    print(f"  ratio mpmath/heyoka: cold {w_mp / w_cold:.1f}x wall ({c_mp / c_cold:.1f}x CPU; goal 30x), "
          f"warm {w_mp / w_warm:.1f}x wall ({c_mp / c_warm:.1f}x CPU; goal 100x); "
          f"at most {w_mp / w_floor:.0f}x with this start-up floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
