"""The one reader of numeric data files (features, targets, Hessians): .npy, .npz, .csv and .txt.

The format is recognised from the file's first bytes, not its name, so a
renamed file is read for what it is (or refused for what it is):

- ``.npy`` (magic ``\\x93NUMPY``): one array, read with ``allow_pickle=False``;
- ``.npz`` (a zip archive): the array named ``key``, or the only one;
- text: a numeric table, comma-, semicolon-, tab- or space-separated, with or
  without one header line (a first line that is not all numbers);
- a Python pickle, or any other binary file, is refused: pickles are never
  loaded, because loading one runs arbitrary code.

Every failure is an :class:`~theorycheck.core.errors.InputError` of one line
naming the argument, the file and what is wrong with it.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

from theorycheck.core.errors import InputError

#: Largest data file read (bytes); anything larger is refused before it is read.
MAX_BYTES = 2 * 1024**3
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_SEPARATORS = re.compile(r"[,;\t ]+")


def _label(arg: str, path: str) -> str:
    return f"`{arg}` file {path!r}"


def load_array(path: str | os.PathLike[str], arg: str = "--features", key: str | None = None) -> Any:
    """The real-valued array stored in ``path`` as float64 (see the module docstring).

    Parameters
    ----------
    path : path of a .npy, .npz, .csv or .txt file (the content decides, not the name)
    arg : the command-line argument that named the file, used in messages
    key : the array's name inside an .npz archive (needed when it holds several)

    Returns
    -------
    ndarray of float64, any shape
    """

    text_path = os.fspath(path)
    label = _label(arg, text_path)
    if not str(text_path).strip():
        raise InputError(f"`{arg}` is empty; give a data file.")
    p = Path(text_path)
    try:
        if p.is_dir():
            raise InputError(f"{label} is a directory, not a data file.")
        if not p.exists():
            raise InputError(f"{label} does not exist.")
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:  # a name too long, a permission, a device
        raise InputError(f"cannot read {label}: {exc.strerror or exc}.") from None
    if size == 0:
        raise InputError(f"{label} is empty.")
    if size > MAX_BYTES:
        raise InputError(f"{label} is {size / 1024**3:.1f} GiB, more than the {MAX_BYTES / 1024**3:.0f} GiB "
                         f"theorycheck reads.")
    if head.startswith(_NPY_MAGIC):
        if key is not None:
            raise InputError(f"{label} is a .npy file holding one array; `--key` applies to .npz archives only.")
        arr = _npy(p, label)
    elif head.startswith(_ZIP_MAGIC):
        arr = _npz(p, label, key)
    elif head[:1] == b"\x80":
        raise InputError(f"{label} looks like a Python pickle; theorycheck never loads pickles (they can run "
                         f"code). Save the array with numpy.save or as CSV.")
    else:
        if key is not None:
            raise InputError(f"{label} is a text table; `--key` applies to .npz archives only.")
        arr = _text(p, label)
    return _real(arr, label)


def _npy(p: Path, label: str) -> Any:
    import numpy as np

    try:
        return np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(f"{label} holds Python objects (a pickled array); theorycheck never loads pickles. "
                             f"Save a numeric array.") from None
        raise InputError(f"{label} is a damaged .npy file ({exc}).") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{label} is a damaged or truncated .npy file ({exc}).") from None


def _npz(p: Path, label: str, key: str | None) -> Any:
    import zipfile

    import numpy as np

    try:
        with np.load(p, allow_pickle=False) as z:
            names = list(z.files)
            if not names:
                raise InputError(f"{label} is an .npz archive with no arrays.")
            if key is None:
                if len(names) > 1:
                    raise InputError(f"{label} is an .npz archive of {len(names)} arrays "
                                     f"({', '.join(names[:8])}); choose one with `--key`.")
                key = names[0]
            if key not in names:
                raise InputError(f"{label} has no array {key!r}; it holds {', '.join(names[:8])}.")
            return z[key]
    except InputError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise InputError(f"{label} holds Python objects (a pickled array); theorycheck never loads pickles.") \
                from None
        raise InputError(f"{label} is a damaged .npz archive ({exc}).") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"{label} is a zip file but not a readable .npz archive ({exc}).") from None


def _numbers(fields: list[str]) -> list[float] | None:
    try:
        return [float(f) for f in fields]
    except ValueError:
        return None


def _text(p: Path, label: str) -> Any:
    import numpy as np

    try:
        raw = p.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{label} is neither a .npy/.npz array nor a numeric text table (it is binary).") \
            from None
    except OSError as exc:
        raise InputError(f"cannot read {label}: {exc.strerror or exc}.") from None
    if "\x00" in text:
        raise InputError(f"{label} is neither a .npy/.npz array nor a numeric text table (it is binary).")
    rows: list[list[float]] = []
    width = None
    for lineno, line in enumerate(io.StringIO(text), start=1):
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        fields = [f for f in _SEPARATORS.split(s) if f]
        values = _numbers(fields)
        if values is None:
            if not rows and width is None:
                width = len(fields)  # a header line: its names give the number of columns
                continue
            if not rows:
                raise InputError(f"{label} is neither a .npy/.npz array nor a numeric text table (line {lineno} "
                                 f"is text, and so is the line before it).")
            bad = next(f for f in fields if _numbers([f]) is None)
            raise InputError(f"{label}: line {lineno} is not numeric ({bad[:40]!r}); a text table holds numbers, "
                             f"with at most one header line.")
        if rows and len(values) != len(rows[0]):
            raise InputError(f"{label}: line {lineno} has {len(values)} columns, the first data line "
                             f"{len(rows[0])}.")
        rows.append(values)
    if not rows:
        raise InputError(f"{label} holds no numbers: it is neither a .npy/.npz array nor a numeric text table.")
    if width is not None and width != len(rows[0]):
        raise InputError(f"{label}: the header names {width} columns but the data has {len(rows[0])}.")
    arr = np.asarray(rows, dtype=np.float64)
    return arr[:, 0] if arr.shape[1] == 1 else arr


def _real(arr: Any, label: str) -> Any:
    import numpy as np

    if not isinstance(arr, np.ndarray):
        raise InputError(f"{label} does not hold an array.")
    if arr.dtype.kind not in "biuf":
        kinds = {"c": "complex numbers", "U": "text", "S": "bytes", "O": "Python objects", "M": "dates",
                 "m": "time spans", "V": "records"}
        raise InputError(f"{label} holds {kinds.get(arr.dtype.kind, f'dtype {arr.dtype}')}, not real numbers.")
    if arr.size == 0:
        raise InputError(f"{label} holds an empty array of shape {arr.shape}.")
    out = np.asarray(arr, dtype=np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InputError(f"{label} holds non-finite values ({out[where]} at index {where}).")
    return out


__all__ = ["MAX_BYTES", "load_array"]
