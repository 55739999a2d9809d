"""Where a user's files are imported from, in this process and in every worker.

A claim, model or optimiser file is imported the way Python runs a script: its directory goes first
on ``sys.path``, so that it can import its sibling modules (``from helpers import …``). Before that,
the file and its directory are checked (:func:`theorycheck.core.trust.foreign_writer`): a file
another user could have changed, or a directory where another user could plant a module the file
imports, is refused, since importing it would run their code.

Work shipped to a worker (a process pool or Dask, :mod:`theorycheck.running.executors`) refers to
the user's classes by module name, and a fresh worker has neither the directories on its path nor
the modules imported. So every file imported by path is recorded here, and :func:`context` — the
directories and the ``(module name, file)`` pairs — travels with each task; :func:`enter` gives a
worker the same path and a finder that imports each recorded file under the same name when the task
is unpickled, however the file was named in this process (a claim file under its stem, a model under
a private name). A module that still cannot be imported there ends the task with a
:class:`WorkerImportError` saying which module, why (the ImportError and the user's line that raised
it) and where the worker looked.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Sequence

from theorycheck.core.errors import InputError

__all__ = ["ImportContext", "WorkerImportError", "check_importable", "context", "describe_failure", "enter",
           "put_on_path", "record", "worker_failure"]


@dataclass(frozen=True)
class ImportContext:
    """What a worker needs to import the user's files: ``paths`` (directories, in ``sys.path`` order) and
    ``files`` (``(module name, file)`` pairs)."""

    paths: tuple[str, ...] = ()
    files: tuple[tuple[str, str], ...] = ()


class WorkerImportError(Exception):
    """A worker could not import a module the task refers to (the message says which, why and where it looked)."""


_FILES: dict[str, str] = {}
_PATHS: list[str] = []


def check_importable(path: Path, kind: str) -> None:
    """Refuse a file, or a directory put on ``sys.path``, that a user other than you (or root) could have written.

    ``path`` is a file to import (it and its folder are checked) or a directory to put on the path.
    """
    from theorycheck.core.trust import foreign_writer

    is_file = path.is_file()
    for p in (path, path.parent) if is_file else (path,):
        why = foreign_writer(p, allow_root=True)
        if not why:
            continue
        if p != path:
            cure = "move it to a folder only you can write"
        elif is_file:
            cure = f"chmod go-w {p}" if "writable" in why else "copy it to a file of your own"
        else:
            cure = f"chmod go-w {p}, or work from a folder only you can write"
        what = f"{kind} file {str(path)!r}" if is_file else f"the folder {str(path)!r} of {kind} modules"
        part = f"its folder {str(p)!r}" if p != path else "it"
        raise InputError(f"{what} is not imported: {part} could have been changed by another user ({why}), and "
                         f"importing it would run their code; {cure}.")


def put_on_path(directory: Path) -> None:
    """Put ``directory`` first on ``sys.path`` (as Python does for a script's directory) and record it for workers."""
    d = str(directory)
    if d not in sys.path:
        sys.path.insert(0, d)
    if d not in _PATHS:
        _PATHS.append(d)


def record(name: str, path: Path) -> None:
    """Remember that module ``name`` is the file ``path`` (whose directory is on the path), for workers."""
    _FILES[name] = str(path)
    put_on_path(path.parent)


def context() -> ImportContext:
    """The directories and files this process imported by path, for :func:`enter` in a worker."""
    paths = [p for p in sys.path if p in _PATHS] + [p for p in _PATHS if p not in sys.path]
    return ImportContext(tuple(dict.fromkeys(paths)), tuple(sorted(_FILES.items())))


class _UserFiles(importlib.abc.MetaPathFinder):
    """Finds the recorded modules by name: each is its file, whatever name this process gave it."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        if file is None:
            return None
        check_importable(Path(file), "user")
        return importlib.util.spec_from_file_location(fullname, file)


_FINDER = _UserFiles()


def enter(ctx: ImportContext) -> None:
    """In a worker: the parent's directories on ``sys.path`` (in the parent's order) and its files importable by
    their names."""
    for p in reversed(ctx.paths):
        if p not in sys.path:
            sys.path.insert(0, p)
        if p not in _PATHS:
            _PATHS.append(p)  # and on to the tasks this worker hands on (a Dask sweep inside a claim)
    _FILES.update(ctx.files)
    if ctx.files:
        _FINDER.files.update(ctx.files)
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)


def _user_frame(exc: BaseException) -> str:
    """`` (file.py:line)`` of the frame of the user's code nearest the error, or ''."""
    for fr in reversed(traceback.extract_tb(exc.__traceback__)):
        parts = Path(fr.filename).parts
        if "importlib" not in fr.filename and "theorycheck" not in parts[-3:-1] and "cloudpickle" not in parts:
            return f" ({Path(fr.filename).name}:{fr.lineno})"
    return ""


def describe_failure(what: str, exc: BaseException, kind: str = "claims") -> str:
    """``cannot load KIND from WHAT: ExcType: message (file:line)``, with where a missing module was looked for."""
    where = _user_frame(exc)
    text = f"cannot load {kind} from {what}: {type(exc).__name__}: {exc}{where}"
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        places = [p for p in sys.path[:3] if p]
        text += f"; {exc.name!r} is not in {', '.join(places)} nor in the installed packages"
    return text


def worker_failure(exc: ImportError, ctx: ImportContext) -> WorkerImportError:
    """The error a worker raises when a task refers to a module it cannot import: the ImportError, the user's file
    being imported and its line, and where the worker looked."""
    files = {Path(f): name for name, f in ctx.files}
    origin = ""
    for fr in reversed(traceback.extract_tb(exc.__traceback__)):
        if Path(fr.filename) in files:
            origin = f" while importing {files[Path(fr.filename)]!r} from {fr.filename} (line {fr.lineno})"
            break
    missing = getattr(exc, "name", None)
    if not origin and missing in dict(ctx.files):
        origin = f" (the module {missing!r} is the file {dict(ctx.files)[missing]})"
    looked = ", ".join(p for p in sys.path[:4] if p)
    return WorkerImportError(f"a worker process cannot import the task's modules: {type(exc).__name__}: {exc}{origin}; "
                             f"the worker's path starts with {looked}")
