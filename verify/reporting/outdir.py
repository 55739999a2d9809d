"""The output directory of a report: validated before any work, locked, swapped in crash-safely.

A report directory is recognised by its marker file :data:`MARKER`, a JSON
manifest of every path the report holds. ``--out DIR`` may replace ``DIR``
only when it is new, empty, or a previous report whose every entry is in its
manifest (or, for reports written before the marker existed, holds nothing
but ``results.json``, ``report.md``, ``index.html`` and ``figures/*.png``).
Anything else is refused with one line, so nothing a person put there is lost.

The life of one write, for ``DIR = parent/name``:

1. :func:`claim_output` validates ``DIR`` (creating its parent), takes an
   exclusive ``flock`` on ``parent/.name.lock`` (a second run into the same
   ``DIR`` is refused, or waits when ``wait=True``; the file is removed when
   the lock is released) and repairs what a crashed
   run left (:func:`recover`): if ``DIR`` is missing while ``.name.old-*``
   exists (a death between the two renames), the old report is put back; every
   ``.name.tmp-*`` / ``.name.old-*`` left behind is removed.
2. The report is written whole into ``parent/.name.tmp-PID-XXXX``, the marker
   last, so a directory without a marker was never finished.
3. :func:`swap_in` exchanges it with ``DIR`` in one atomic
   ``renameat2(RENAME_EXCHANGE)`` where the kernel and file system allow it,
   otherwise with two renames (``DIR`` → ``.name.old-PID``, new → ``DIR``);
   then the old copy is removed.

At every point a reader finds either the old report or the new one at ``DIR``
(or, after a death between the two renames of the fallback, the old one
beside it, which the next run restores). A symbolic link given as ``DIR`` is
followed explicitly: the report replaces the link's target, the link stays.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterable, Iterator

from theorycheck.core.errors import InputError, TheorycheckError

#: Marker file of a report directory: a JSON manifest of the paths written.
MARKER = ".theorycheck-report.json"
#: What a report written before the marker existed may hold.
LEGACY_FILES = frozenset({"results.json", "report.md", "index.html"})
#: The kind of output each command writes, recorded in the marker so that one command's directory is never
#: replaced by another's: ``report`` (``run``), ``stability-sweep`` and ``sharpness``; with the files each
#: wrote, unmarked, before 0.3.0.
KIND_FILES = {"report": LEGACY_FILES, "stability-sweep": frozenset({"stability_sweep.json", "stability_sweep.png"}),
              "sharpness": frozenset({"sharpness.json", "sharpness.png"})}
_KIND_WORDS = {"report": "run report", "stability-sweep": "stability sweep", "sharpness": "sharpness trace"}


class BusyError(TheorycheckError):
    """Another theorycheck process is writing the same output directory."""

    exit_code = 75  # EX_TEMPFAIL: try again later


def _step(name: str) -> None:
    """A named point of the write sequence; does nothing (crash-safety tests stop the process here)."""


def _leftover_re(name: str) -> re.Pattern[str]:
    return re.compile(rf"^\.{re.escape(name)}\.(tmp|old)-\d+(-[A-Za-z0-9_]+)?$")


def resolve(out: str | os.PathLike[str], arg: str = "--out") -> Path:
    """The absolute output directory ``out`` names (a symlink followed); InputError for an empty name."""
    text = os.fspath(out)
    if not str(text).strip():
        raise InputError(f"`{arg}` is empty; give a directory for the report.")
    p = Path(os.path.realpath(os.path.abspath(text)))
    if p.parent == p:
        raise InputError(f"`{arg}` {text!r} is the file-system root; give a directory for the report.")
    return p


def _marker(d: Path) -> tuple[set[str], object] | None:
    """(the paths the marker of ``d`` lists, its kind), or None without a readable marker."""
    try:
        doc = json.loads((d / MARKER).read_text(encoding="utf-8"))
        return {str(x) for x in doc["files"]}, doc.get("kind", "report")  # no kind: a run's report (before 0.3.0)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _manifest(d: Path) -> set[str] | None:
    marker = _marker(d)
    return None if marker is None else marker[0]


def output_kind(d: Path) -> str | None:
    """The kind of theorycheck output directory ``d`` holds (see :data:`KIND_FILES`), or None when it is empty,
    missing or not theorycheck's. A marker without a kind is a run's report (markers before 0.3.0)."""
    marker = _marker(d)
    if marker is not None:
        return marker[1] if isinstance(marker[1], str) else None
    try:
        names = set(os.listdir(d))  # unmarked output keeps its files at the top
    except OSError:
        return None
    return next((kind for kind, files in KIND_FILES.items() if names & files), None)


def _entries(d: Path) -> list[str]:
    """Every path under ``d`` (relative, '/'-separated; directories end with '/'); links are not followed."""
    out = []
    for root, dirs, files in os.walk(d):
        rel = Path(root).relative_to(d)
        out += [(rel / x).as_posix() + "/" for x in dirs] + [(rel / x).as_posix() for x in files]
    return sorted(s[2:] if s.startswith("./") else s for s in out)


def foreign_entry(d: Path) -> str | None:
    """The first entry of directory ``d`` theorycheck did not write, or None when ``d`` is its output or empty."""
    entries = _entries(d)
    if not entries:
        return None
    listed = _manifest(d)
    if listed is not None:
        known = listed | {MARKER}
        known |= {p.rsplit("/", 1)[0] + "/" for p in listed if "/" in p}
        return next((e for e in entries if e not in known), None)
    legacy = frozenset().union(*KIND_FILES.values())
    for e in entries:  # output from before the marker: only what theorycheck writes
        ok = e in legacy or e == "figures/" or (e.startswith("figures/") and e.endswith(".png")
                                                and e.count("/") == 1)
        if not ok:
            return e
    return None


def validate(out: str | os.PathLike[str], arg: str = "--out", contents: bool = True, kind: str = "report") -> Path:
    """Check that output of ``kind`` can be written at ``out`` and replace only earlier output of that kind;
    create its parent.

    Raises InputError (one line) for an empty name, a file, a non-empty directory theorycheck did not write or
    that holds another command's output, or a parent that cannot be created or written. ``contents=False``
    skips reading the directory: without
    the lock another writer may be swapping it, and its marker and entries would not belong together.
    """
    p = resolve(out, arg)
    shown = os.fspath(out)
    if p.exists() and not p.is_dir():
        raise InputError(f"`{arg}` {shown!r} exists and is not a directory.")
    if contents and p.is_dir():
        try:
            bad = foreign_entry(p)
        except OSError as exc:
            raise InputError(f"`{arg}` {shown!r} cannot be read: {exc.strerror or exc}.") from None
        if bad is not None:
            raise InputError(f"`{arg}` {shown!r} is a directory theorycheck did not write (it holds {bad!r}); "
                             f"give a new or empty directory, or a previous report.")
        held = output_kind(p)
        if held is not None and held != kind:
            held_words, words = _KIND_WORDS.get(held, f"{held} output"), _KIND_WORDS.get(kind, f"{kind} output")
            raise InputError(f"`{arg}` {shown!r} holds theorycheck's {held_words}, which a {words} would replace; "
                             f"give a new or empty directory, or a previous {words}.")
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"`{arg}` {shown!r}: a parent of it is a file, not a directory.") from None
    except OSError as exc:
        raise InputError(f"`{arg}` {shown!r}: cannot create its parent directory ({exc.strerror or exc}).") from None
    try:  # permissions say little (root, read-only mounts, /proc): try it
        fd, probe = tempfile.mkstemp(prefix=f".{p.name}.probe-", dir=p.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"`{arg}` {shown!r}: cannot write in its parent directory {str(p.parent)!r} "
                         f"({exc.strerror or exc}).") from None
    return p


@dataclass
class OutputDir:
    """A validated, locked output directory (a context manager; the lock is released on exit)."""

    path: Path
    shown: str
    _lock: IO[str] | None = field(default=None, repr=False)
    _lock_path: Path | None = field(default=None, repr=False)

    def release(self) -> None:
        """Remove the lock file and drop the lock (a waiter then sees the file gone and locks afresh)."""
        if self._lock is not None:
            if self._lock_path is not None:
                try:
                    self._lock_path.unlink(missing_ok=True)
                except OSError:
                    pass
            self._lock.close()  # closing the file drops the flock
            self._lock = None

    def __enter__(self) -> "OutputDir":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def claim_output(out: str | os.PathLike[str], arg: str = "--out", wait: bool = False, kind: str = "report"
                 ) -> OutputDir:
    """Validate ``out``, lock it against other theorycheck processes and repair a crashed run's leftovers.

    With ``wait=False`` a directory another process is writing raises :class:`BusyError`; with
    ``wait=True`` this call waits for it (writes into one directory are serialised).
    """
    import fcntl

    p = validate(out, arg, contents=False, kind=kind)  # the contents are read under the lock, below
    lock_path = p.parent / f".{p.name}.lock"
    while True:
        try:
            fh = open(lock_path, "a+", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"`{arg}` {os.fspath(out)!r}: cannot write in {str(p.parent)!r} "
                             f"({exc.strerror or exc}).") from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            fh.close()
            raise BusyError(f"another theorycheck run is writing `{arg}` {os.fspath(out)!r}; wait for it to "
                            f"finish or choose another directory.") from None
        except BaseException:
            fh.close()
            raise
        # the holder before us removes the lock file as it lets go: a lock on a removed file locks nothing
        try:
            same = os.stat(lock_path).st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()
    try:
        recover(p)
        validate(p, arg, kind=kind)  # what is there (perhaps left by the lock holder before us), read under the lock
    except BaseException:
        OutputDir(p, os.fspath(out), fh, lock_path).release()  # a refusal leaves no lock file behind
        raise
    return OutputDir(p, os.fspath(out), fh, lock_path)


def leftovers(p: Path) -> list[Path]:
    """The ``.name.tmp-*`` / ``.name.old-*`` directories a write into ``p`` leaves while it runs or if it dies."""
    pat = _leftover_re(p.name)
    try:
        return sorted(x for x in p.parent.iterdir() if pat.match(x.name))
    except OSError:
        return []


def recover(p: Path) -> None:
    """With the lock held: restore a report a crashed swap left beside ``p``, remove the rest of its leftovers."""
    left = leftovers(p)
    if not p.exists() and not p.is_symlink():
        olds = [x for x in left if ".old-" in x.name and x.is_dir()]
        if olds:
            os.rename(olds[-1], p)
            left.remove(olds[-1])
    for x in left:
        if x.is_dir() and not x.is_symlink():
            shutil.rmtree(x, ignore_errors=True)
        else:
            x.unlink(missing_ok=True)


def new_tree(p: Path) -> Path:
    """A fresh, empty sibling directory of ``p`` to write the new report into."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.tmp-{os.getpid()}-", dir=p.parent))
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes 0700; a report is for reading
    return tmp


def write_marker(tree: Path, files: Iterable[str] | None = None, kind: str = "report") -> None:
    """Write the marker listing ``files`` (default: everything now under ``tree``) and the output's ``kind``;
    the last file of a report."""
    listed = sorted(files) if files is not None else [e for e in _entries(tree) if not e.endswith("/")]
    (tree / MARKER).write_text(json.dumps({"tool": "theorycheck", "kind": kind, "files": listed}, indent=1) + "\n",
                               encoding="utf-8")


_RENAME_EXCHANGE = 2
_exchange_ok = True


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange directories ``a`` and ``b`` (Linux renameat2); False where it is unavailable."""
    global _exchange_ok
    if not _exchange_ok:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        _exchange_ok = False
        return False
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        _exchange_ok = False
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_in(tree: Path, p: Path) -> None:
    """Put the finished report ``tree`` at ``p`` (see the module docstring); the lock must be held."""
    _step("before-swap")
    if not p.exists():
        os.rename(tree, p)
        _step("swapped")
        return
    if _exchange(tree, p):
        _step("swapped")
        old = tree
    else:
        old = p.with_name(f".{p.name}.old-{os.getpid()}")
        os.rename(p, old)
        _step("between-renames")
        os.rename(tree, p)
        _step("swapped")
    shutil.rmtree(old, ignore_errors=True)
    _step("cleaned")


@contextmanager
def staged(target: OutputDir, kind: str = "report") -> Iterator[Path]:
    """A fresh sibling of ``target`` to write the new output into: on leaving, its marker is written last and
    it is swapped in (:func:`swap_in`); on an error it is removed and the old output stays."""
    tmp = new_tree(target.path)
    try:
        yield tmp
        write_marker(tmp, kind=kind)
        swap_in(tmp, target.path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_files(out: str | os.PathLike[str], files: dict[str, bytes], kind: str, arg: str = "--out") -> list[str]:
    """Write ``files`` (name → content) as the whole of directory ``out``, under the rules of a report.

    The directory is claimed (validated, locked, a crashed run's leftovers repaired), the files are written
    into a fresh sibling with the marker last and swapped in, as :func:`~theorycheck.reporting.report.write`
    does for a run's report: ``out`` may be new, empty or an earlier theorycheck output, never a directory
    holding anything else or another command's output. Returns the paths written, as ``out`` spells them.
    """
    with claim_output(out, arg, wait=True, kind=kind) as target, staged(target, kind) as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return [str(Path(os.fspath(out)) / name) for name in files]


__all__ = [
    "BusyError", "KIND_FILES", "LEGACY_FILES", "MARKER", "OutputDir", "claim_output", "foreign_entry", "leftovers",
    "new_tree", "output_kind", "recover", "resolve", "staged", "swap_in", "validate", "write_files", "write_marker",
]
