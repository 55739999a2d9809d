"""The on-disk cache of compiled integrators: hits, misses, and stale or corrupt entries rebuilt, never trusted."""

import threading

import mpmath
import pytest

from theorycheck.maths import losses, modified
from theorycheck.numerics import cache, integrate


@pytest.fixture
def cdir(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path))
    monkeypatch.setenv(cache.ENV_OFF, "0")  # on; teardown restores the caller's setting
    monkeypatch.setattr(integrate, "_CACHE", {})  # no in-memory integrators: every build goes to disk
    for k in cache.STATS:
        monkeypatch.setitem(cache.STATS, k, 0)
    return tmp_path


def _field():
    return modified.igr_field(losses.ZOO["rosenbrock"])


def _flow(integ):
    with mpmath.workdps(integ.working_dps):
        return integ.run([mpmath.mpf("0.3"), mpmath.mpf("0.2")], mpmath.mpf(1) / 16, mpmath.mpf(1) / 16)


def test_store_then_load_round_trips_and_counts(cdir):
    key = {"what": "x", "n": 1}
    assert cache.load("k", key) is None and cache.STATS["miss"] == 1
    assert cache.store("k", key, b"payload\nwith newline")
    assert cache.load("k", key) == b"payload\nwith newline" and cache.STATS["hit"] == 1
    assert cache.entry_path("k", key).parent == cdir / "k"
    assert not list((cdir / "k").glob("*.tmp"))  # the temporary file was renamed, not left behind


def test_an_entry_for_another_key_or_a_corrupt_one_is_rejected(cdir):
    key, other = {"a": 1}, {"a": 2}
    cache.store("k", other, b"other")
    cache.entry_path("k", other).rename(cache.entry_path("k", key))  # stale: the header names another key
    assert cache.load("k", key) is None and cache.STATS["rejected"] == 1
    cache.store("k", key, b"good bytes")
    path = cache.entry_path("k", key)
    raw = path.read_bytes()
    path.write_bytes(raw[:-1] + b"X")  # one flipped byte: the checksum fails
    assert cache.load("k", key) is None
    path.write_bytes(raw[: len(raw) // 2])  # truncated
    assert cache.load("k", key) is None
    path.write_bytes(b"not json\n" + b"good bytes")
    assert cache.load("k", key) is None and cache.STATS["rejected"] == 4


def test_a_compiled_integrator_is_loaded_from_disk_and_gives_the_same_flow(cdir):
    first = integrate.make_integrator(_field(), "heyoka", 30)
    assert not first.cached and cache.STATS["stored"] == 1
    integrate._CACHE.clear()
    second = integrate.make_integrator(_field(), "heyoka", 30)
    assert second.cached and cache.STATS["hit"] == 1
    assert _flow(first) == _flow(second)
    # another precision is another entry
    integrate._CACHE.clear()
    assert not integrate.make_integrator(_field(), "heyoka", 40).cached


def test_a_corrupt_or_unloadable_integrator_entry_is_rebuilt(cdir):
    ref = _flow(integrate.make_integrator(_field(), "heyoka", 30))
    path = next((cdir / integrate.CACHE_KIND).glob("*.bin"))
    raw = path.read_bytes()
    path.write_bytes(raw[:-10] + b"0123456789")  # corrupt payload
    integrate._CACHE.clear()
    rebuilt = integrate.make_integrator(_field(), "heyoka", 30)
    assert not rebuilt.cached and cache.STATS["rejected"] == 1 and _flow(rebuilt) == ref
    # the rebuild replaced the entry: it loads again
    integrate._CACHE.clear()
    assert integrate.make_integrator(_field(), "heyoka", 30).cached
    # a well-formed entry (checksum right) whose payload is not an integrator is rebuilt too
    key = integrate.make_integrator(_field(), "heyoka", 30).cache_key
    cache.store(integrate.CACHE_KIND, key, b"\x80\x04garbage")
    integrate._CACHE.clear()
    again = integrate.make_integrator(_field(), "heyoka", 30)
    assert not again.cached and _flow(again) == ref


def test_the_cache_can_be_switched_off(cdir, monkeypatch):
    cache.set_enabled(False)
    try:
        assert not cache.enabled() and not cache.store("k", {"a": 1}, b"x") and cache.load("k", {"a": 1}) is None
        assert not integrate.make_integrator(_field(), "heyoka", 30).cached
        assert not (cdir / integrate.CACHE_KIND).exists()
    finally:
        cache.set_enabled(True)
    assert cache.enabled()


def test_concurrent_writers_never_leave_a_half_written_entry(cdir):
    key = {"shared": True}
    payloads = [bytes([i]) * 200_000 for i in range(4)]
    seen = []

    def write(p):
        for _ in range(15):
            cache.store("k", key, p)

    def read():
        for _ in range(60):
            v = cache.load("k", key)
            if v is not None:
                seen.append(v)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads] + [threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.load("k", key) in payloads
    assert all(v in payloads for v in seen) and cache.STATS["rejected"] == 0
    assert not list((cdir / "k").glob("*.tmp"))


def test_rendered_figures_are_reused_and_a_corrupt_png_entry_is_redrawn(cdir):
    from theorycheck.core.evidence import Figure, Series
    from theorycheck.reporting import report
    from theorycheck.reporting.figures import render_png

    fig = Figure("curve", "ρ(η)", "η", "ρ", series=[Series("ρ", [0.1, 0.2, 0.3], [0.5, 0.9, 1.2])])
    drawn = []

    def render(f):
        drawn.append(f)
        return render_png(f)

    first = report._png(fig, render)
    assert report._png(fig, render) == first and len(drawn) == 1  # the second came from the cache
    other = Figure("curve", "ρ(η)", "η", "ρ", series=[Series("ρ", [0.1, 0.2, 0.3], [0.5, 0.9, 1.3])])
    report._png(other, render)
    assert len(drawn) == 2  # other data, another entry
    for path in (cdir / report.FIGURE_CACHE_KIND).glob("*.bin"):
        path.write_bytes(path.read_bytes()[:-3] + b"xyz")
    assert report._png(fig, render) == first and len(drawn) == 3  # corrupt: drawn again, same bytes


def test_the_least_recently_used_entries_go_beyond_the_size_limit(cdir, monkeypatch):
    import os

    monkeypatch.setattr(cache, "MAX_BYTES", 3800)  # three entries of ~1.2 kB fit, four do not
    for i in range(3):
        cache.store("k", {"i": i}, bytes(1000))
        os.utime(cache.entry_path("k", {"i": i}), (100 + i, 100 + i))
    assert cache.load("k", {"i": 0}) is not None  # used: now the most recent
    cache.store("k", {"i": 3}, bytes(1000))
    kept = {i for i in range(4) if cache.entry_path("k", {"i": i}).exists()}
    assert kept == {0, 2, 3}


def test_an_entry_without_the_users_mac_is_rejected(cdir):
    import hashlib
    import json

    from theorycheck.core import trust

    key = {"a": 1}
    cache.store("k", key, b"good")
    path = cache.entry_path("k", key)
    meta = json.loads(path.read_bytes().split(b"\n", 1)[0])
    forged = b"forged payload"
    # a format-1 entry with a right SHA-256, and a current one whose MAC was made with another key
    old = {"format": 1, "key": meta["key"], "length": len(forged), "sha256": hashlib.sha256(forged).hexdigest()}
    other = trust.mac(b"x" * 32, str(cache.FORMAT).encode(), meta["key"].encode(), forged)
    for header in (old, {**meta, "length": len(forged), "mac": other}, {**meta, "length": len(forged)}):
        path.write_bytes(json.dumps(header).encode() + b"\n" + forged)
        assert cache.load("k", key) is None
    assert cache.STATS["rejected"] == 3
    cache.store("k", key, b"good")
    assert cache.load("k", key) == b"good"


def test_a_cache_directory_others_can_write_is_not_used(cdir, capsys):
    import os

    os.chmod(cdir, 0o777)
    try:
        assert not cache.store("k", {"a": 1}, b"x") and cache.load("k", {"a": 1}) is None
    finally:
        os.chmod(cdir, 0o700)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and f"the directory {cdir} is not private: it is writable by every user (mode 0777)" in err[0]
    assert f"chmod 700 {cdir}" in err[0] and cache.ENV_DIR in err[0]
    assert not cache.enabled() and cache.STATS["unsafe"] == 1 and not (cdir / "k").exists()


def test_a_kind_folder_another_user_made_is_not_used(cdir, capsys):
    import os

    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("giving a folder to another account needs root")
    cache.store("k", {"a": 1}, b"x")
    os.chown(cdir / "k", 65534, 65534)  # e.g. left by another user while the directory was open to all
    assert cache.load("k", {"a": 1}) is None
    assert "owned by" in capsys.readouterr().err and not cache.enabled()


def test_without_a_usable_key_the_cache_is_off_and_nothing_breaks(cdir, tmp_path, monkeypatch):
    from theorycheck.core import trust

    monkeypatch.setattr(trust, "_KEYS", {})
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(trust.ENV_KEY_FILE, str(blocker / "cache.key"))  # its folder cannot be made
    assert not cache.store("k", {"a": 1}, b"x") and cache.load("k", {"a": 1}) is None
    ref = _flow(integrate.make_integrator(_field(), "heyoka", 30))  # compiled, not cached: the same result
    integrate._CACHE.clear()
    monkeypatch.setenv(trust.ENV_KEY_FILE, str(tmp_path / "key" / "cache.key"))
    assert _flow(integrate.make_integrator(_field(), "heyoka", 30)) == ref
