"""Where the project is: default paths (the baseline, reports) resolve from its root, not the current directory."""

from __future__ import annotations

from pathlib import Path

#: Files that mark a project's root directory, nearest first.
ROOT_MARKERS = ("pyproject.toml", ".git")


def project_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` (default: the current one) holding pyproject.toml or .git.

    Falls back to ``start`` itself when no ancestor has either, so a path outside any project still means
    what it says.
    """
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if any((d / m).exists() for m in ROOT_MARKERS):
            return d
    return here


def default_path(relative: str) -> Path:
    """``relative`` under :func:`project_root`."""
    return project_root() / relative


__all__ = ["ROOT_MARKERS", "default_path", "project_root"]
