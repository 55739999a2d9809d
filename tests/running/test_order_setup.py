"""Tests for theorycheck.running.order_setup: a warm `theorycheck order` measured from the stored compiled set-up.

The set-up is generated code and a description of the field, never a result: a run from it must print
exactly what the full symbolic run prints, import no sympy, and a stale or corrupt set-up must be rebuilt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from theorycheck.numerics import cache, integrate
from theorycheck.running import order_setup
from theorycheck.running.cli import main

CASES = [
    ["--loss", "trig", "--kind", "local"],
    ["--loss", "logistic", "--kind", "global"],
    ["--loss", "a**2*b + cos(a) - b/3", "--at", "a=0.7,b=-0.4", "--against", "modified:2",
     "--steps", "1/16,1/32,1/64,1/128"],
]


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(cache.ENV_OFF, "0")  # on; teardown restores the caller's setting, whatever a run switches
    # integrators built by earlier tests live on in memory and would not be stored in this directory
    monkeypatch.setattr(integrate, "_CACHE", {})
    return tmp_path


def _order(args, capsys):
    used = order_setup.STATS["used"]
    rc = main(["order", *args, "--digits", "30", "--json"])
    out = capsys.readouterr().out
    return rc, out, order_setup.STATS["used"] - used


@pytest.mark.parametrize("args", CASES, ids=["trig-local", "logistic-global", "expression-modified2"])
def test_a_run_from_the_setup_prints_what_the_full_run_prints(args, fresh_cache, capsys):
    rc1, full, used1 = _order(args, capsys)
    rc2, warm, used2 = _order(args, capsys)
    rc3, again, _ = _order(args + ["--no-cache"], capsys)
    assert (used1, used2) == (0, 1)  # the first run builds and stores the set-up, the second measures from it
    assert rc1 == rc2 == rc3 and full == warm == again
    assert json.loads(warm)["verdict"] == "PASS"


def test_the_setup_holds_programs_and_a_description_not_results_nor_code(fresh_cache, capsys):
    _order(CASES[0], capsys)
    (entry,) = (fresh_cache / order_setup.CACHE_KIND).iterdir()
    payload = json.loads(entry.read_bytes().split(b"\n", 1)[1])
    assert set(payload) == {"variables", "loss_text", "point", "field", "local_order", "ops", "programs"}
    assert set(payload["programs"]) == {"loss", "gradient", "field"}
    assert all(set(p) == {"params", "steps", "result"} for p in payload["programs"].values())
    assert "def " not in json.dumps(payload)  # trees of arithmetic and mpmath calls, no source text


def test_a_corrupt_or_stale_setup_is_rebuilt_not_trusted(fresh_cache, capsys, monkeypatch):
    _, full, _ = _order(CASES[0], capsys)
    (entry,) = (fresh_cache / order_setup.CACHE_KIND).iterdir()
    good = entry.read_bytes()
    entry.write_bytes(good.replace(b"sin", b"cos"))  # the checksum no longer matches
    rejected = cache.STATS["rejected"]
    rc, out, used = _order(CASES[0], capsys)
    assert used == 0 and out == full and cache.STATS["rejected"] == rejected + 1
    assert entry.read_bytes() == good  # rebuilt by the full run
    assert _order(CASES[0], capsys)[2] == 1
    # a set-up written by another version of its generator is a miss
    monkeypatch.setattr(order_setup, "FORMAT", order_setup.FORMAT + 1)
    assert _order(CASES[0], capsys)[2] == 0


def test_a_missing_integrator_falls_back_to_the_full_run(fresh_cache, capsys):
    _, full, _ = _order(CASES[0], capsys)
    for p in (fresh_cache / "heyoka-taylor").iterdir():
        p.unlink()
    rc, out, used = _order(CASES[0], capsys)
    assert used == 0 and out == full


@pytest.mark.parametrize("extra, needle", [
    (["--digits", "8"], "measured errors"),
    (["--at", "a=0.7"], "no value"),
    (["--kind", "middle"], "--kind"),
    (["--steps", "1/8,1/16"], "at least 3"),
])
def test_refusals_read_the_same_with_a_setup(extra, needle, fresh_cache, capsys):
    _order(CASES[0], capsys)
    rc = main(["order", *CASES[0], "--digits", "30", *extra])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and needle in err


def test_a_warm_run_imports_no_sympy(fresh_cache):
    env = {**os.environ, cache.ENV_DIR: str(fresh_cache)}
    args = ["order", "--loss", "trig", "--digits", "30", "--json"]
    subprocess.run([sys.executable, "-m", "theorycheck", *args], env=env, check=True, capture_output=True)
    probe = ("import sys\nfrom theorycheck.running.cli import main\nrc = main(%r)\n"
             "print('SYMPY', 'sympy.core' in sys.modules, rc, file=sys.stderr)\n" % (args,))
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
    assert "SYMPY False 0" in out.stderr
    assert json.loads(out.stdout)["verdict"] == "PASS"


def test_an_exact_flow_from_the_setup_is_still_inconclusive(fresh_cache, capsys):
    # GD on a + b is its gradient flow: zero errors, which the set-up path cannot tell from too few digits
    # without the field's pilot, so it leaves the study to the full run (INCONCLUSIVE, exit 3)
    args = ["--loss", "a+b", "--at", "a=0.5,b=1", "--against", "flow"]
    rc1, full, _ = _order(args, capsys)
    rc2, warm, used = _order(args, capsys)
    assert rc1 == rc2 == 3 and full == warm and used == 0


def test_heyoka_imported_without_sympy_still_compiles_when_the_integrator_is_missing(fresh_cache):
    # the set-up is found and heyoka imported with sympy marked absent; the integrator is not cached, so
    # the full run builds the field with sympy and compiles it with that heyoka
    env = {**os.environ, cache.ENV_DIR: str(fresh_cache)}
    args = ["order", "--loss", "trig", "--digits", "30", "--json"]
    first = subprocess.run([sys.executable, "-m", "theorycheck", *args], env=env, check=True, capture_output=True,
                           text=True)
    for p in (fresh_cache / integrate.CACHE_KIND).iterdir():
        p.unlink()
    probe = ("import sys\nfrom theorycheck.running.cli import main\nrc = main(%r)\nimport heyoka._sympy_utils as u\n"
             "print('LIGHT', u._with_sympy, rc, file=sys.stderr)\n" % (args,))
    out = subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True, text=True)
    assert "LIGHT False 0" in out.stderr and out.stdout == first.stdout
    assert len(list((fresh_cache / integrate.CACHE_KIND).iterdir())) == 1


class _Planted:
    """Unpickling this creates the marker file: what a forged integrator entry would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _forge(cache_dir, marker):
    """Replace every set-up and integrator entry by a forgery another user could write without the key: the set-up
    as format-1 source code that creates ``marker`` (the header's SHA-256 right), the integrator as a pickle that
    creates it, under a MAC made with a key of the forger's own."""
    import hashlib
    import pickle

    from theorycheck.core import trust

    evil = ("def _lambdifygenerated(a, b):\n"
            f"    open({str(marker)!r}, 'w')\n"
            "    return [a, b]\n")
    forged = 0
    for entry in (cache_dir / order_setup.CACHE_KIND).iterdir():
        header = json.loads(entry.read_bytes().split(b"\n", 1)[0])
        code = {w: {"source": evil, "function": "_lambdifygenerated", "names": {}}
                for w in ("loss", "gradient", "field")}
        payload = json.dumps({"variables": ["a", "b"], "loss_text": "a", "point": ["0", "0"], "local_order": 3,
                              "ops": 1, "field": ["igr", 2, "0" * 64, True], "code": code}).encode()
        old = {"format": 1, "key": header["key"], "length": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
        entry.write_bytes(json.dumps(old).encode() + b"\n" + payload)
        forged += 1
    for entry in (cache_dir / integrate.CACHE_KIND).iterdir():
        header = json.loads(entry.read_bytes().split(b"\n", 1)[0])
        payload = pickle.dumps(_Planted(marker))
        guess = trust.mac(b"forger's own key".ljust(32), str(cache.FORMAT).encode(), header["key"].encode(), payload)
        new = {"format": cache.FORMAT, "key": header["key"], "length": len(payload), "mac": guess}
        entry.write_bytes(json.dumps(new).encode() + b"\n" + payload)
        forged += 1
    return forged


@pytest.mark.parametrize("mode", [0o777, 0o700], ids=["shared-0777", "private-0700"])
def test_a_forged_entry_never_runs(fresh_cache, capsys, monkeypatch, tmp_path_factory, mode):
    marker = tmp_path_factory.mktemp("victim") / "planted-code-ran"
    rc, clean, _ = _order(CASES[0], capsys)
    assert _forge(fresh_cache, marker) == 2
    os.chmod(fresh_cache, mode)
    monkeypatch.setattr(integrate, "_CACHE", {})  # a new process: nothing compiled in memory
    before = dict(cache.STATS)
    rc2 = main(["order", *CASES[0], "--digits", "30", "--json"])
    captured = capsys.readouterr()
    os.chmod(fresh_cache, 0o700)
    assert not marker.exists(), "the planted code ran"
    assert rc2 == rc == 0 and captured.out == clean  # the same report, measured afresh
    err = captured.err.splitlines()
    if mode == 0o777:
        # the directory is not read at all: one line naming it, why, and the fix
        assert len(err) == 1 and str(fresh_cache) in err[0] and "writable by every user (mode 0777)" in err[0]
        assert err[0].startswith("theorycheck: warning: not using the cache") and "chmod 700" in err[0]
        assert cache.STATS["unsafe"] == before["unsafe"] + 1 and not cache.enabled()
        assert cache.STATS["rejected"] == before["rejected"]
    else:
        # the forgeries are read, fail their MAC, are counted as rejected and rebuilt: the next run uses the rebuilt
        assert err == [] and cache.STATS["rejected"] == before["rejected"] + 2
        monkeypatch.setattr(integrate, "_CACHE", {})
        assert _order(CASES[0], capsys)[1:] == (clean, 1)
    assert not marker.exists()
