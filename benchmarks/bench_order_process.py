"""Benchmark: ``theorycheck order --digits 30`` as a whole process, heyoka (cold and warm cache) vs mpmath.odefun.

Run: ``.venv/bin/python benchmarks/bench_order_process.py [--loss trig] [--kind local]`` for one case, or
``--all`` for every two-variable zoo loss and both kinds (local, global). Each command runs as a fresh
process, as a user would run it: ``--backend heyoka`` first with an empty on-disk cache
(``$THEORYCHECK_CACHE_DIR`` set to a new directory: the Taylor integrator is compiled, the *cold*
time), then again with that cache (the compiled integrator is loaded: *warm*), then ``--backend
mpmath`` (mpmath.odefun at the same digits). The two backends' reports must agree on the verdict and
the order (to 1e-6). Printed per case: wall and CPU seconds of each process and the ratios
mpmath/heyoka cold and warm (goals 30x and 100x).

The *floor* is a process that only imports what the warm process imports, theorycheck's own modules
left out (the list is read from the warm process itself, in the same run): no warm run can be faster,
so mpmath's time over the floor bounds the reachable warm ratio.
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

KINDS = ("local", "global")

# Prints, on stderr, the modules a `theorycheck order` process loaded (in load order), after running it.
_PROBE = """
import json, runpy, sys
sys.argv = ["theorycheck"] + json.loads(sys.argv[1])
try:
    runpy.run_module("theorycheck", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
# a lazy_loader handle that was never touched (its class is still the lazy one) was not imported
print(json.dumps([n for n, m in sys.modules.items() if m is not None and type(m).__name__ != "_LazyModule"]),
      file=sys.stderr)
"""


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, dict]:
    """(wall s, CPU s, parsed JSON output) of one process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode not in (0, 1, 3):
        raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.strip()}")
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), json.loads(out.stdout)


def warm_imports(args: list[str], env: dict[str, str]) -> list[str]:
    """Modules other than theorycheck's that a warm ``theorycheck <args>`` process loads, in load order."""
    before = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(list(sys.modules)))"],
                            env=env, capture_output=True, text=True, check=True)
    start = set(json.loads(before.stdout))
    out = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], env=env, capture_output=True, text=True)
    mods = json.loads(out.stderr.strip().splitlines()[-1])
    return [m for m in mods if m not in start and not m.startswith(("theorycheck", "verify")) and m != "runpy"]


def floor(modules: list[str], env: dict[str, str], repeat: int = 3) -> tuple[float, float]:
    """Best (wall, CPU) of ``repeat`` processes that import ``modules`` and nothing else."""
    # sympy, when the warm run did without it, is marked absent as theorycheck does while importing heyoka
    # (which would otherwise load it for its optional sympy bridge)
    block = "import sys\nsys.modules['sympy'] = None\n" if "sympy" not in modules else ""
    code = block + "import importlib\nfor m in %r:\n    try:\n        importlib.import_module(m)\n    except Exception:\n        pass\n" % (
        modules,)
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        wall = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, (wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)))
    return best


def case(loss: str, kind: str, digits: str) -> dict:
    """One loss and kind: cold, warm, mpmath and the floor, each a fresh process; backends must agree."""
    args = ["order", "--loss", loss, "--digits", digits, "--kind", kind, "--json"]
    base = [sys.executable, "-m", "theorycheck", *args]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "THEORYCHECK_CACHE_DIR": tmp}
        env.pop("THEORYCHECK_NO_CACHE", None)
        w_cold, c_cold, hy = run(base + ["--backend", "heyoka"], env)
        entries = len(os.listdir(os.path.join(tmp, "heyoka-taylor")))
        w_warm, c_warm, hy2 = run(base + ["--backend", "heyoka"], env)
        mods = warm_imports(args + ["--backend", "heyoka"], env)
        w_floor, c_floor = floor(mods, env)
        w_mp, c_mp, mp = run(base + ["--backend", "mpmath"], env)
    assert hy["verdict"] == hy2["verdict"] == mp["verdict"], (loss, kind, hy["verdict"], mp["verdict"])
    assert abs(hy["order"] - mp["order"]) < 1e-6 and hy["order"] == hy2["order"], (loss, kind, hy["order"], mp["order"])
    # the packages named in the report: the floor's modules outside the standard library
    top = sorted({m.split(".")[0] for m in mods} - set(sys.stdlib_module_names) - {"cython_runtime"})
    top = [m for m in top if not m.startswith("_")]
    return {"loss": loss, "kind": kind, "verdict": hy["verdict"], "order_heyoka": hy["order"],
            "order_mpmath": mp["order"], "steps": len(hy["errors"]), "compiled": entries,
            "cold": (w_cold, c_cold), "warm": (w_warm, c_warm), "mpmath": (w_mp, c_mp),
            "floor": (w_floor, c_floor), "floor_packages": top}


def print_case(r: dict) -> None:
    (wc, cc), (ww, cw), (wm, cm), (wf, cf) = r["cold"], r["warm"], r["mpmath"], r["floor"]
    print(f"`theorycheck order --loss {r['loss']} --kind {r['kind']}` ({r['steps']} steps), verdict {r['verdict']}, "
          f"order heyoka {r['order_heyoka']:.6f} / mpmath {r['order_mpmath']:.6f}")
    print(f"  heyoka cold cache {wc:6.2f} s wall ({cc:5.2f} s CPU; {r['compiled']} integrator(s) compiled and "
          f"stored), warm {ww:6.2f} s ({cw:5.2f} s CPU)")
    print(f"  mpmath.odefun     {wm:6.2f} s wall ({cm:5.2f} s CPU)")
    print(f"  floor: python importing what the warm run imports ({', '.join(r['floor_packages'])}) "
          f"{wf:.2f} s wall ({cf:.2f} s CPU)")
    print(f"  ratio mpmath/heyoka: cold {wm / wc:.1f}x wall ({cm / cc:.1f}x CPU; goal 30x), "
          f"warm {wm / ww:.1f}x wall ({cm / cw:.1f}x CPU; goal 100x); "
          f"at most {wm / wf:.0f}x wall ({cm / cf:.0f}x CPU) with this start-up floor")


def print_table(rows: list[dict]) -> None:
    head = (f"{'loss':<11}{'kind':<7}{'verdict':<9}{'mpmath s':>15}{'cold s':>13}{'warm s':>13}{'floor s':>13}"
            f"{'cold ratio':>13}{'warm ratio':>13}{'mp/floor':>10}")
    print(head)
    print(" " * 27 + "(wall / CPU)".rjust(15) + "".join(f"{'':>13}" for _ in range(3))
          + f"{'wall / CPU':>13}{'wall / CPU':>13}{'wall':>10}")
    for r in rows:
        (wc, cc), (ww, cw), (wm, cm), (wf, cf) = r["cold"], r["warm"], r["mpmath"], r["floor"]
        print(f"{r['loss']:<11}{r['kind']:<7}{r['verdict']:<9}{wm:>7.2f} / {cm:<5.2f}{wc:>6.2f} / {cc:<4.2f}"
              f"{ww:>6.2f} / {cw:<4.2f}{wf:>6.2f} / {cf:<4.2f}{wm / wc:>6.1f} / {cm / cc:<5.1f}"
              f"{wm / ww:>6.1f} / {cm / cw:<5.1f}{wm / wf:>9.0f}x")
    print("goals: cold ratio >= 30x, warm ratio >= 100x (mpmath.odefun time / theorycheck process time)")


def two_variable_zoo() -> list[str]:
    from theorycheck.maths.losses import ZOO

    return [name for name, loss in ZOO.items() if loss.dim == 2]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loss", default="trig")
    ap.add_argument("--kind", default="local", choices=KINDS)
    ap.add_argument("--digits", default="30")
    ap.add_argument("--all", action="store_true", help="every two-variable zoo loss, both kinds, as one table")
    ap.add_argument("--json", metavar="FILE", help="also write the measurements to FILE")
    args = ap.parse_args(argv)
    cases = [(loss, kind) for loss in two_variable_zoo() for kind in KINDS] if args.all else [(args.loss, args.kind)]
    rows = []
    for loss, kind in cases:
        rows.append(case(loss, kind, args.digits))
        print_case(rows[-1])
        sys.stdout.flush()
    if len(rows) > 1:
        print()
        print_table(rows)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
