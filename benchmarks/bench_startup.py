"""Benchmark: start-up of the command line, as whole processes, beside ``python -c pass``.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--repeat N]``. Prints the median wall time of
``theorycheck --help``, ``theorycheck list`` and ``python -c "import theorycheck"`` over N runs, each as a
ratio to ``python -c pass`` measured in the same run (goals: ``--help`` under 0.3 s and ``list`` under
0.6 s on a 2-core machine). Building the parser imports only the command modules; ``list`` imports the
claim declarations, whose numerics load on first use.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="runs per command (median reported)")
    args = ap.parse_args()
    exe = shutil.which("theorycheck", path=str(Path(sys.executable).parent)) or "theorycheck"
    base = _median_seconds([sys.executable, "-c", "pass"], args.repeat)
    print(f"python -c pass                 {base:6.3f} s")
    for label, cmd, goal in (("theorycheck --help", [exe, "--help"], 0.3),
                             ("theorycheck list", [exe, "list"], 0.6),
                             ("python -c 'import theorycheck'", [sys.executable, "-c", "import theorycheck"], None)):
        t = _median_seconds(cmd, args.repeat)
        target = f"  (goal < {goal} s: {'met' if t < goal else 'NOT met'})" if goal else ""
        print(f"{label:30s} {t:6.3f} s  = {t / base:5.1f}× python -c pass{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
