"""Benchmark: what authenticating the on-disk cache costs a warm ``theorycheck order``, against the code before it.

Run: ``.venv/bin/python benchmarks/bench_cache.py [--base REV] [--pairs N] [--loss trig] [--kind local]``.

The *base* is theorycheck at git revision ``REV`` (default ``90a37fb``, the last commit whose cache
entries carried a bare SHA-256 and whose order set-ups were source code run with ``exec``), exported
with ``git archive`` into a temporary directory and imported from there with this checkout's
interpreter and packages; the *current* tree is this checkout. Each gets a private cache directory
(mode 0700) and, for the current tree, a private key file; one cold run fills each cache, then
``--pairs`` pairs of warm runs alternate base and current (the order flipping every pair, so a drift
of the machine's speed falls on both). Printed: the median wall and CPU seconds of each, the median
of the per-pair ratios current/base (goal: at most 1.10), and, in this process, the time of one
MAC check of the largest entry (the integrator) beside one SHA-256 of it. The two trees' reports
must agree on the verdict, the order and every error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_order_process import run  # noqa: E402  (wall s, CPU s, JSON of one process)

ROOT = Path(__file__).resolve().parents[1]


def export(rev: str, into: Path) -> Path:
    """The tree of ``rev`` laid out as an importable ``theorycheck`` package under ``into/pkg``; its path entry."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    src = into / "src"
    src.mkdir()
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    pkg = into / "pkg"
    shutil.copytree(src / "verify", pkg / "theorycheck")
    shutil.copytree(src / "properties", pkg / "theorycheck" / "properties")
    return pkg


def comparable(doc: dict) -> dict:
    """The report without what the newer tree adds around the numbers (its schema version and renamed keys)."""
    return {k: v for k, v in doc.items() if k != "schema_version"}


def mac_cost(cache_dir: Path, key_file: Path) -> tuple[int, float, float]:
    """(bytes, µs of one HMAC check, µs of one SHA-256) for the largest entry of ``cache_dir``."""
    import hashlib

    os.environ["THEORYCHECK_KEY_FILE"] = str(key_file)
    from theorycheck.core import trust

    entry = max(cache_dir.rglob("*.bin"), key=lambda p: p.stat().st_size)
    header, payload = entry.read_bytes().split(b"\n", 1)
    meta = json.loads(header)
    key = trust.user_key()
    reps = 200
    t = time.perf_counter()
    for _ in range(reps):
        ok = trust.mac_matches(key, meta["mac"], str(meta["format"]).encode(), meta["key"].encode(), payload)
    mac_us = (time.perf_counter() - t) / reps * 1e6
    assert ok
    t = time.perf_counter()
    for _ in range(reps):
        hashlib.sha256(payload).hexdigest()
    sha_us = (time.perf_counter() - t) / reps * 1e6
    return len(payload), mac_us, sha_us


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="90a37fb", help="git revision to compare against (default 90a37fb)")
    ap.add_argument("--pairs", type=int, default=10, help="pairs of warm runs (default 10)")
    ap.add_argument("--loss", default="trig")
    ap.add_argument("--kind", default="local", choices=("local", "global"))
    args = ap.parse_args(argv)
    order = ["order", "--loss", args.loss, "--kind", args.kind, "--digits", "30", "--json"]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pkg = export(args.base, tmp)
        env = {k: v for k, v in os.environ.items() if k != "THEORYCHECK_NO_CACHE"}
        trees = {
            "base": {**env, "PYTHONPATH": str(pkg), "THEORYCHECK_CACHE_DIR": str(tmp / "cache-base")},
            "current": {**env, "THEORYCHECK_CACHE_DIR": str(tmp / "cache-current"),
                        "THEORYCHECK_KEY_FILE": str(tmp / "key" / "cache.key")},
        }
        for e in trees.values():
            Path(e["THEORYCHECK_CACHE_DIR"]).mkdir(mode=0o700)
        cmd = [sys.executable, "-m", "theorycheck", *order]
        reports = {name: run(cmd, e)[2] for name, e in trees.items()}  # cold: compile and store
        assert comparable(reports["base"]) == comparable(reports["current"]), "the two trees disagree"
        times: dict[str, list[tuple[float, float]]] = {"base": [], "current": []}
        for i in range(args.pairs):
            for name in (("base", "current") if i % 2 == 0 else ("current", "base")):
                wall, cpu, doc = run(cmd, trees[name])
                assert comparable(doc) == comparable(reports[name]), f"{name}: a warm run changed the report"
                times[name].append((wall, cpu))
        size, mac_us, sha_us = mac_cost(Path(trees["current"]["THEORYCHECK_CACHE_DIR"]),
                                        Path(trees["current"]["THEORYCHECK_KEY_FILE"]))
    med = {n: (statistics.median(w for w, _ in t), statistics.median(c for _, c in t)) for n, t in times.items()}
    wall_ratio = statistics.median(c[0] / b[0] for b, c in zip(times["base"], times["current"]))
    cpu_ratio = statistics.median(c[1] / b[1] for b, c in zip(times["base"], times["current"]))
    print(f"warm `theorycheck {' '.join(order)}`, {args.pairs} pairs (base {args.base}: SHA-256 entries, "
          f"exec'd set-up; current: HMAC-SHA256 entries, set-up as data, directory checks)")
    for name in ("base", "current"):
        print(f"  {name:<8} median {med[name][0]:.3f} s wall, {med[name][1]:.3f} s CPU")
    print(f"  ratio current/base (median of pairs): {wall_ratio:.3f} wall, {cpu_ratio:.3f} CPU (goal <= 1.10)")
    print(f"  one MAC check of the largest entry ({size:,} bytes): {mac_us:.0f} µs; "
          f"one SHA-256 of it: {sha_us:.0f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
