"""Files replaced whole or not at all: a temporary file beside the target, then one atomic rename.

Every file theorycheck rewrites in place (cache entries, the claim-cost table, a LaTeX table) goes
through :func:`write_atomically`, so a crash or a concurrent writer never leaves half a file where
a good one stood: readers see the old content or the new, never a mixture.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically (``os.replace`` of a temporary file in the same directory).

    Parameters
    ----------
    path : path-like
        The file to write; its parent directories are created.
    data : bytes
        The whole new content.

    Raises
    ------
    OSError
        When the directory cannot be created or written; the temporary file is removed first.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


__all__ = ["write_atomically"]
