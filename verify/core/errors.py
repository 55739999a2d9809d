"""The one exception family theorycheck raises for things a user can fix.

The CLI turns any :class:`TheorycheckError` into a single line on stderr and a
non-zero exit; anything else is a bug and is allowed to show its traceback.
"""

from __future__ import annotations


class TheorycheckError(Exception):
    """Base class: a message meant for the user, ending the command."""

    exit_code: int = 2


class InputError(TheorycheckError, ValueError):
    """Bad user input: unparsable expression, wrong shape, non-finite value."""


class PrecisionError(TheorycheckError):
    """The working precision cannot resolve the quantity asked for."""


class DivergenceError(TheorycheckError):
    """A trajectory left every bounded set (overflow, NaN) during a run."""


class UnknownClaimError(TheorycheckError, KeyError):
    """A claim id that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ClaimCollisionError(TheorycheckError, RuntimeError):
    """Two claims registered under one id."""


class MalformedFileError(TheorycheckError):
    """A results/baseline/input file that cannot be read as what it claims to be."""


def require_finite(name: str, value: float) -> float:
    """Return ``float(value)`` or raise :class:`InputError` naming ``name``."""
    import math

    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"`{name}` must be finite, got {value!r}.")
    return v


__all__ = [
    "ClaimCollisionError", "DivergenceError", "InputError", "MalformedFileError", "PrecisionError", "TheorycheckError",
    "UnknownClaimError", "require_finite",
]
