"""Who else could have written a path, and a keyed MAC that only this user can make.

theorycheck reads back files that become code: compiled integrators are unpickled, user claim and
model files are imported. A checksum stored beside such a file proves nothing (whoever can write the
file can recompute it), so two checks stand between a file and its use:

- :func:`foreign_writer` says why a user other than you (and root) could have written a file or
  directory: another owner, or write permission for others or for a group you share. A group whose
  only member is you (a user private group, as Debian and Ubuntu create, with umask 002) is yours.
- :func:`user_key` is a per-user secret of :data:`KEY_BYTES` random bytes, kept outside any cache
  (``platformdirs.user_data_dir("theorycheck")/cache.key``, or ``$THEORYCHECK_KEY_FILE``), created on
  first use with mode 0600; :func:`mac` and :func:`mac_matches` are HMAC-SHA256 under it (RFC 2104), so
  an entry only someone holding the key could have written is recognised as such.

On platforms without POSIX ownership (Windows) :func:`foreign_writer` reports nothing: there the user's
profile directory is private by default and the MAC alone guards the cache.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

#: Environment variable naming the key file (tests and sandboxes keep it away from the real home).
ENV_KEY_FILE = "THEORYCHECK_KEY_FILE"
#: Length of the secret key: 256 bits, HMAC-SHA256's block-size-safe choice.
KEY_BYTES = 32
KEY_NAME = "cache.key"

__all__ = ["ENV_KEY_FILE", "KEY_BYTES", "KEY_NAME", "UntrustedError", "foreign_writer", "key_path", "mac",
           "mac_matches", "user_key"]


class UntrustedError(Exception):
    """A path someone else could have written, or a key others can read: ``str`` is what is wrong, ``fix`` the cure."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


def _name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _own_group(gid: int, uid: int) -> bool:
    """Whether the group ``gid`` is a user private group of ``uid``: named after the user, no other member."""
    try:
        import grp
        import pwd

        group, user = grp.getgrgid(gid), pwd.getpwuid(uid)
    except (ImportError, KeyError):
        return False
    return group.gr_name == user.pw_name and set(group.gr_mem) <= {user.pw_name}


def foreign_writer(path: str | os.PathLike[str], *, allow_root: bool = False) -> str | None:
    """Why a user other than you could have written ``path``, or None when only you could.

    Parameters
    ----------
    path : path-like
        An existing file or directory (a symbolic link is followed: its target counts).
    allow_root : bool
        Accept files owned by root as well (system-wide installations of user code).

    Returns
    -------
    str or None
        ``"it is owned by mallory, not by you (alice)"``, ``"it is writable by every user (mode 0777)"``,
        ``"it is writable by the group lab (mode 0775)"``, or None.
    """
    if not hasattr(os, "geteuid"):  # pragma: no cover - no POSIX ownership (Windows)
        return None
    st = os.stat(path)
    me = os.geteuid()
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid != me and not (allow_root and st.st_uid == 0):
        return f"it is owned by {_name(st.st_uid)}, not by you ({_name(me)})"
    if mode & stat.S_IWOTH:
        return f"it is writable by every user (mode {mode:04o})"
    if mode & stat.S_IWGRP and not _own_group(st.st_gid, me):
        try:
            import grp

            group = grp.getgrgid(st.st_gid).gr_name
        except (ImportError, KeyError):
            group = f"gid {st.st_gid}"
        return f"it is writable by the group {group} (mode {mode:04o})"
    return None


def key_path() -> Path:
    """``$THEORYCHECK_KEY_FILE``, else ``cache.key`` in the user's data directory for theorycheck."""
    env = os.environ.get(ENV_KEY_FILE)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("theorycheck", appauthor=False)) / KEY_NAME


_KEYS: dict[str, bytes] = {}


def user_key() -> bytes:
    """The per-user secret key, created on first use (mode 0600, in a directory only you can write).

    Raises
    ------
    UntrustedError
        The key file or its directory could have been written by someone else, or others can read the key.
    OSError
        The key cannot be read or created (a read-only home): the caller goes on without what it guards.
    """
    path = key_path()
    cached = _KEYS.get(str(path))
    if cached is not None:
        return cached
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    why = foreign_writer(folder)
    if why:
        raise UntrustedError(f"the folder of its key, {folder}, is not private: {why}",
                             f"chmod 700 {folder}, or set {ENV_KEY_FILE} to a file in a private folder")
    if not path.exists():
        _create(path)
    st = os.stat(path)
    if hasattr(os, "geteuid") and (st.st_uid != os.geteuid() or stat.S_IMODE(st.st_mode) & 0o077):
        raise UntrustedError(f"its key {path} is {'not yours' if st.st_uid != os.geteuid() else 'open to others'} "
                             f"(mode {stat.S_IMODE(st.st_mode):04o})",
                             f"chmod 600 {path}, or delete it (a new key is made; cached entries are rebuilt)")
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise UntrustedError(f"its key {path} is not a theorycheck key",
                             f"delete {path} (a new key is made; cached entries are rebuilt)")
    _KEYS[str(path)] = key
    return key


def _create(path: Path) -> None:
    """Write a fresh key: a private temporary file, then a hard link, so that two processes agree on one key."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(KEY_BYTES) + "\n")
        try:
            os.link(tmp, path)  # fails if another process made the key first: theirs is then used
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def mac(key: bytes, *parts: bytes) -> str:
    """HMAC-SHA256 of ``parts`` under ``key``, as hex; each part is length-prefixed, so that (b"ab", b"c") and
    (b"a", b"bc") are different messages."""
    h = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return h.hexdigest()


def mac_matches(key: bytes, expected: object, *parts: bytes) -> bool:
    """Whether ``expected`` is the MAC of ``parts`` under ``key`` (compared in constant time)."""
    return isinstance(expected, str) and hmac.compare_digest(expected, mac(key, *parts))
