"""An on-disk cache of compiled artefacts (heyoka's Taylor integrators, order set-ups, figures) shared by runs.

Entries live in the user's cache directory (``platformdirs.user_cache_dir("theorycheck")``,
or ``$THEORYCHECK_CACHE_DIR``), one file per entry, named by the SHA-256 of its key. The key
is a JSON object that names everything the artefact depends on (for an integrator: the
field's symbolic content, the precision in bits, the compile options and the versions of
heyoka and of theorycheck). Each file holds a header line (format version, the key, the
payload's length and its HMAC-SHA256) and the payload.

Some payloads become code when used (a compiled integrator is unpickled), so a checksum is not
enough: anyone who can write the file can recompute one. The MAC is keyed by a per-user secret kept
outside the cache (:func:`theorycheck.core.trust.user_key`), so only a process of this user can
make an entry that :func:`load` returns; an entry whose MAC, key or length does not match is counted
as ``rejected`` and never handed out: the caller rebuilds it and :func:`store` replaces it. A cache
directory (or a folder of one kind of entry) that another user could have written — not owned by
this user, or writable by group or others — is not used at all: one warning line names it and the
fix, and the process and the workers it starts go on without a cache.

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
import sys
from pathlib import Path
from typing import Any

#: Version of the entry format; a change makes every older entry a miss (format 1 carried a bare SHA-256).
FORMAT = 2
ENV_DIR = "THEORYCHECK_CACHE_DIR"
ENV_OFF = "THEORYCHECK_NO_CACHE"
#: Bytes of entries kept per kind; beyond it the least recently used entries are deleted.
MAX_BYTES = 512 * 2**20
#: Counters of this process: ``hit``, ``miss`` (no entry), ``rejected`` (stale, corrupt or unauthenticated
#: entry), ``stored``, ``unsafe`` (the directory or the key was refused, and the cache switched off).
STATS: dict[str, int] = {"hit": 0, "miss": 0, "rejected": 0, "stored": 0, "unsafe": 0}

__all__ = ["ENV_DIR", "ENV_OFF", "FORMAT", "MAX_BYTES", "STATS", "cache_dir", "enabled", "entry_path", "load",
           "set_enabled", "store"]


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


def _refuse(what: str, fix: str) -> None:
    """Switch the cache off for this process and its workers, with one warning line naming the cause and the fix."""
    STATS["unsafe"] += 1
    set_enabled(False)
    print(f"theorycheck: warning: not using the cache: {what}; running without it. Fix: {fix}.", file=sys.stderr,
          flush=True)


def _private(folder: Path, create: bool) -> bool:
    """Whether ``folder`` (the cache directory or a kind's folder) exists, or was made, and only this user can write it.

    A folder someone else could have written switches the cache off (:func:`_refuse`).
    """
    from theorycheck.core.trust import foreign_writer

    try:
        if create:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        why = foreign_writer(folder)
    except OSError:
        return False
    if why:
        cure = f"chmod 700 {folder}" if "writable" in why else f"remove {folder} (it is not yours)"
        _refuse(f"the directory {folder} is not private: {why}", f"{cure}, or set {ENV_DIR} to a directory of your own")
        return False
    return True


def _key() -> bytes | None:
    """The per-user MAC key, or None (unreadable: no cache, silently; untrusted: no cache, with a warning)."""
    from theorycheck.core.trust import UntrustedError, user_key

    try:
        return user_key()
    except UntrustedError as exc:
        _refuse(str(exc), exc.fix)
    except OSError:
        pass
    return None


def _open(kind: str, create: bool) -> tuple[Path, bytes] | None:
    """(the kind's folder, the MAC key) when the cache may be used, else None."""
    if not enabled():
        return None
    root = cache_dir()
    folder = root / kind
    # the directory is judged at the first look, even by a reader of an entry that is not there yet: a run
    # (the parent of its workers) warns once and its workers inherit the switched-off cache
    for path in (root, folder):
        if not (create or path.is_dir()) or not _private(path, create):
            return None
    key = _key()
    return None if key is None else (folder, key)


def _authenticated(kind: str, key: dict[str, Any], secret: bytes, header: bytes, payload: bytes) -> bool:
    from theorycheck.core.trust import mac_matches

    try:
        meta = json.loads(header)
        canonical = _canonical(kind, key)
        return (isinstance(meta, dict) and meta.get("format") == FORMAT and meta.get("key") == canonical
                and meta.get("length") == len(payload)
                and mac_matches(secret, meta.get("mac"), str(FORMAT).encode(), canonical.encode(), payload))
    except ValueError:
        return False


def load(kind: str, key: dict[str, Any]) -> bytes | None:
    """The payload stored under ``key``, or None (cache off or unsafe, no entry, or an entry that fails its MAC)."""
    opened = _open(kind, create=False)
    if opened is None:
        if enabled():
            STATS["miss"] += 1
        return None
    path = entry_path(kind, key)
    try:
        with open(path, "rb") as fh:
            header = fh.readline()
            payload = fh.read()
    except OSError:
        STATS["miss"] += 1
        return None
    if not _authenticated(kind, key, opened[1], header, payload):
        STATS["rejected"] += 1
        return None
    STATS["hit"] += 1
    try:
        os.utime(path)  # recently used: kept by _prune
    except OSError:
        pass
    return payload


def store(kind: str, key: dict[str, Any], payload: bytes) -> bool:
    """Write ``payload`` under ``key`` atomically (temporary file + rename); False if the cache is off, unsafe or
    unwritable."""
    from theorycheck.core.files import write_atomically
    from theorycheck.core.trust import mac

    opened = _open(kind, create=True)
    if opened is None:
        return False
    path = entry_path(kind, key)
    canonical = _canonical(kind, key)
    header = json.dumps({"format": FORMAT, "key": canonical, "length": len(payload),
                         "mac": mac(opened[1], str(FORMAT).encode(), canonical.encode(), payload)},
                        separators=(",", ":")).encode()
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
