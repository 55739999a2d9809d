"""Benchmark: one local-order check, heyoka (Taylor, multiprecision) against mpmath.odefun, at matched digits.

The check: GD on the zoo's ``trig`` loss against the IGR flow
−∇(L + (h/4)‖∇L‖²) (Barrett & Dherin, ICLR 2021, Thm 3.1), local error on 6
step sizes 1/8 … 1/256, precision chosen so that every error is resolved to
at least 30 significant digits. The heyoka study runs first in a fresh
process (so its time includes JIT compilation) and chooses the digits; the
mpmath study then runs at exactly those digits. Both must agree on every
error to the working digits and both must PASS.

Printed: each study's wall time, heyoka's compile and propagate times, the
flow time per run of each backend and three ratios (mpmath / heyoka):

* ``cold``: whole study, compilation of this field's Taylor integrator
  included (LLVM's one-off start-up in the process, ~0.4–0.8 s, is measured
  first on a trivial system and printed separately: a run pays it once);
* ``warm``: whole study with heyoka's integrator already compiled (the usual
  case inside a run: a claim reuses it for mutants and other ladders);
* ``flow``: integrator time only, compile excluded.

Goal: ≥ 1000× at matched digits. Run with
``.venv/bin/python benchmarks/bench_order.py`` (about 1–3 minutes, almost
all of it mpmath).
"""

from __future__ import annotations

import argparse
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mpmath  # noqa: E402
import scipy.integrate  # noqa: E402,F401  imported before timing: module loading is not the method's cost
import scipy.stats  # noqa: E402,F401
import sympy as sp  # noqa: E402

from theorycheck.core.evidence import Verdict  # noqa: E402
from theorycheck.maths.fields import Field, H  # noqa: E402
from theorycheck.maths.losses import ZOO, ZOO_POINTS  # noqa: E402
from theorycheck.maths.optimisers import gd  # noqa: E402
from theorycheck.numerics.integrate import make_integrator  # noqa: E402
from theorycheck.numerics.order import local_error_study  # noqa: E402

GOAL = 1000.0


def igr_field(loss):
    g = loss.gradient
    n2 = sum(c**2 for c in g)
    return Field(loss.variables, tuple(-g[i] - H / 4 * sp.diff(n2, v) for i, v in enumerate(loss.variables)), "igr")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loss", default="trig", choices=sorted(ZOO))
    ap.add_argument("--steps", type=int, default=6, help="number of step sizes, halving from 1/8")
    args = ap.parse_args(argv)

    loss = ZOO[args.loss]
    field = igr_field(loss)
    theta0 = [Fraction(str(x)) for x in ZOO_POINTS[args.loss].values()]
    steps = [Fraction(1, 2 ** (3 + k)) for k in range(args.steps)]

    def study(**kw):
        t0 = time.perf_counter()
        st = local_error_study(gd(loss), field, theta0, steps, expected_order=3, **kw)
        return st, time.perf_counter() - t0

    import heyoka

    t0 = time.perf_counter()
    x = heyoka.make_vars("x")
    heyoka.taylor_adaptive([(x, -x)], [heyoka.real(1, 64)], fp_type=heyoka.real, prec=64, compact_mode=True)
    t_llvm = time.perf_counter() - t0

    hy, t_hy = study(backend="heyoka")
    hy_integ = make_integrator(field, "heyoka", hy.digits)
    hy_runs, hy_run_s = hy_integ.runs, hy_integ.run_s
    hy_warm, t_hy_warm = study(backend="heyoka", digits=hy.digits)
    warm_run_s = hy_integ.run_s - hy_run_s
    mp, t_mp = study(backend="mpmath", digits=hy.digits)
    mp_integ = make_integrator(field, "mpmath", hy.digits)

    with mpmath.workdps(hy.digits + 10):
        # significant digits to which the two backends' errors agree
        agree = min(float(-mpmath.log10(abs(mpmath.mpf(a) - mpmath.mpf(b)) / mpmath.mpf(a)))
                    if mpmath.mpf(a) != mpmath.mpf(b) else float(len(a.split("e")[0]) - 2)
                    for a, b in zip(hy.errors_mp, mp.errors_mp))
    sig = min(hy.significant_digits)

    print(f"local order check: GD vs IGR flow on {args.loss!r}, {len(steps)} steps 1/8 … 1/{steps[-1].denominator}, "
          f"{hy.digits} digits ({hy_integ.bits} bits, Taylor order {hy_integ.taylor_order})")
    print(f"  errors resolved to >= {sig:.1f} significant digits; heyoka and mpmath errors agree to {agree:.1f} digits")
    for name, st in (("heyoka", hy), ("mpmath", mp)):
        print(f"  {name:7s} order {st.order:.4f}  {st.verdict}")
    print(f"  heyoka  LLVM start-up {t_llvm:.3f} s (once per process, not in the ratios)")
    print(f"  heyoka  study {t_hy:8.3f} s cold (compile {hy_integ.compile_s:.3f} s, "
          f"propagate {hy_run_s / hy_runs * 1e3:.2f} ms/run), {t_hy_warm:.3f} s warm")
    print(f"  mpmath  study {t_mp:8.3f} s (odefun {mp_integ.run_s / mp_integ.runs:.3f} s/run)")
    flow_hy = warm_run_s / len(steps)
    flow_mp = mp_integ.run_s / mp_integ.runs
    ratios = {"cold": t_mp / t_hy, "warm": t_mp / t_hy_warm, "flow": flow_mp / flow_hy}
    print("  ratio mpmath/heyoka: " + ", ".join(f"{k} {v:,.0f}x" for k, v in ratios.items())
          + f"  (goal {GOAL:,.0f}x: " + ", ".join(f"{k} {'met' if v >= GOAL else 'not met'}" for k, v in ratios.items())
          + ")")
    ok = hy.verdict is Verdict.PASS and mp.verdict is Verdict.PASS and sig >= 30 and agree >= 30
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
