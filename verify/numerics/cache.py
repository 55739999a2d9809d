"""An on-disk cache of compiled artefacts (heyoka's Taylor integrators) shared by runs and processes.

Entries live in the user's cache directory (``platformdirs.user_cache_dir("theorycheck")``,
or ``$THEORYCHECK_CACHE_DIR``), one file per entry, named by the SHA-256 of its key. The key
is a JSON object that names everything the artefact depends on (for an integrator: the
field's symbolic content, the precision in bits, the compile options and the versions of
heyoka and of theorycheck). Each file holds a header line (format version, the key, the
payload's SHA-256 and length) and the payload; :func:`load` returns the payload only when
the header parses, names exactly this key and the checksum matches, so a stale, truncated
or corrupt entry is never trusted: the caller rebuilds it and :func:`store` replaces it.

Two runs may write the same entry at once: each writes a private temporary file in the
cache directory and renames it over the entry (``os.replace``, atomic on POSIX and
Windows), so a reader sees the old entry, the new one or none, never a half-written
file. Failures to read or write the cache (read-only home, full disk) cost speed only,
never a result.

The cache is off when ``$THEORYCHECK_NO_CACHE`` is set to a non-empty value other than
``0`` (``theorycheck run --no-cache`` sets it, so process and Dask workers inherit it).
Each kind of entry is kept under :data:`MAX_BYTES` (least recently used entries go first). Hits,
misses and rejected entries are counted in :data:`STATS` of this process.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

#: Version of the entry format; a change makes every older entry a miss.
FORMAT = 1
ENV_DIR = "THEORYCHECK_CACHE_DIR"
ENV_OFF = "THEORYCHECK_NO_CACHE"
#: Bytes of entries kept per kind; beyond it the least recently used entries are deleted.
MAX_BYTES = 512 * 2**20
#: Counters of this process: ``hit``, ``miss`` (no entry), ``rejected`` (stale or corrupt entry), ``stored``.
STATS: dict[str, int] = {"hit": 0, "miss": 0, "rejected": 0, "stored": 0}

__all__ = ["ENV_DIR", "ENV_OFF", "FORMAT", "MAX_BYTES", "STATS", "cache_dir", "enabled", "entry_path", "load", "set_enabled",
           "store"]


def enabled() -> bool:
    """Whether the on-disk cache is used (``$THEORYCHECK_NO_CACHE`` unset, empty or ``0``)."""
    return os.environ.get(ENV_OFF, "") in ("", "0")


def set_enabled(on: bool) -> None:
    """Switch the cache on or off for this process and the workers it starts (through the environment)."""
    if on:
        os.environ.pop(ENV_OFF, None)
    else:
        os.environ[ENV_OFF] = "1"


def cache_dir() -> Path:
    """``$THEORYCHECK_CACHE_DIR`` or the platform's user cache directory for theorycheck."""
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("theorycheck", appauthor=False))


def _canonical(kind: str, key: dict[str, Any]) -> str:
    return json.dumps({"kind": kind, **key}, sort_keys=True, separators=(",", ":"), default=str)


def entry_path(kind: str, key: dict[str, Any]) -> Path:
    """Where the entry of ``key`` lives: ``<cache dir>/<kind>/<sha256 of the key>.bin``."""
    digest = hashlib.sha256(_canonical(kind, key).encode()).hexdigest()
    return cache_dir() / kind / f"{digest}.bin"


def load(kind: str, key: dict[str, Any]) -> bytes | None:
    """The payload stored under ``key``, or None (cache off, no entry, or an entry that fails its checks)."""
    if not enabled():
        return None
    path = entry_path(kind, key)
    try:
        with open(path, "rb") as fh:
            header = fh.readline()
            payload = fh.read()
    except OSError:
        STATS["miss"] += 1
        return None
    try:
        meta = json.loads(header)
        ok = (meta.get("format") == FORMAT and meta.get("key") == _canonical(kind, key)
              and meta.get("length") == len(payload) and meta.get("sha256") == hashlib.sha256(payload).hexdigest())
    except (ValueError, AttributeError):
        ok = False
    if not ok:
        STATS["rejected"] += 1
        return None
    STATS["hit"] += 1
    try:
        os.utime(path)  # recently used: kept by _prune
    except OSError:
        pass
    return payload


def store(kind: str, key: dict[str, Any], payload: bytes) -> bool:
    """Write ``payload`` under ``key`` atomically (temporary file + rename); False if the cache is off or unwritable."""
    if not enabled():
        return False
    path = entry_path(kind, key)
    header = json.dumps({"format": FORMAT, "key": _canonical(kind, key), "length": len(payload),
                         "sha256": hashlib.sha256(payload).hexdigest()}, separators=(",", ":")).encode()
    from theorycheck.core.files import write_atomically

    try:
        write_atomically(path, header + b"\n" + payload)
    except OSError:
        return False
    STATS["stored"] += 1
    _prune(path.parent, keep=path)
    return True


def _prune(folder: Path, keep: Path, limit: int | None = None) -> None:
    """Delete the least recently used entries of ``folder`` while it holds more than ``limit`` bytes.

    Loading an entry refreshes its modification time (:func:`load`), so what a run uses stays.
    """
    limit = MAX_BYTES if limit is None else limit
    try:
        entries = [(e.stat().st_mtime, e.stat().st_size, Path(e.path)) for e in os.scandir(folder)
                   if e.name.endswith(".bin")]
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    for _, size, p in sorted(entries):
        if total <= limit:
            break
        if p == keep:
            continue
        try:
            p.unlink()
            total -= size
        except OSError:
            pass
