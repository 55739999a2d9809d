"""Ctrl-C and SIGTERM: one line, the conventional exit code, no traceback, no report half-written, no workers left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]

SLOW_CLAIM = textwrap.dedent('''
    import os, time
    from dataclasses import dataclass
    from theorycheck.claims import Claim, RunContext
    from theorycheck.core.evidence import Evidence, Verdict

    @dataclass(frozen=True, kw_only=True)
    class Slow(Claim):
        id = "toy-slow"
        title = source = statement = falsifier = "slow"
        index: int = 0

        def evaluate(self, ctx):
            with open(os.environ["SLOW_PIDS"], "a") as fh:
                fh.write(f"{os.getpid()}\\n")
            time.sleep(120)
            return Evidence("", Verdict.PASS, "done")
''')

RUN = textwrap.dedent('''
    import sys
    sys.path.insert(0, {here!r})
    from theorycheck import claims
    from theorycheck.running.cli import main
    import slowclaim
    reg = [slowclaim.Slow(index=i) for i in range(2)]
    claims.all_claims = lambda: reg
    sys.exit(main(["run", "--quiet", "--executor", "process", "--out", {out!r}]))
''')


@pytest.mark.parametrize("delay", [0.3, 0.8, 1.5])
def test_ctrl_c_early_is_one_line_and_exit_130(tmp_path, delay):
    out = tmp_path / "r"
    proc = subprocess.Popen([sys.executable, "-m", "theorycheck", "run", "--quick", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal")
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1:] == ["theorycheck: interrupted"] and "Traceback" not in err, err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == []


def test_sigterm_ends_the_process_pool_workers_too(tmp_path):
    psutil = pytest.importorskip("psutil")
    (tmp_path / "slowclaim.py").write_text(SLOW_CLAIM)
    pids = tmp_path / "pids"
    env = {**os.environ, "SLOW_PIDS": str(pids), "PYTHONPATH": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", RUN.format(here=str(tmp_path), out=str(tmp_path / "r"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 90
    while time.time() < deadline and (not pids.exists() or len(pids.read_text().split()) < 2):
        time.sleep(0.2)
    assert pids.exists(), "workers never started"
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1:] == ["theorycheck: terminated"] and "Traceback" not in err, err
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"left running: {[p.cmdline()[:3] for p in alive]}"
    assert not (tmp_path / "r").exists()
