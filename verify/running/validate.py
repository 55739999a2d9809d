"""Checks of command-line input shared by the subcommands; each returns the clean value or raises one line.

Every function raises :class:`~theorycheck.core.errors.InputError` naming the
argument and the rule broken, so the CLI prints one line and exits 2.
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterable

from theorycheck.core.errors import InputError

#: Seeds are fed to numpy's generators, which take 0 <= seed < 2**32 in their legacy form.
MAX_SEED = 2**32 - 1
#: Largest magnitude of an integer option: no count, size or seed theorycheck takes needs more than 64 bits, and
#: sizes computed from a longer one overflow float64 (``--width`` with 400 digits).
MAX_INTEGER = 2**63 - 1
#: Data whose largest magnitude lies outside [1/SCALE_LIMIT, SCALE_LIMIT] make products of two entries (Hessians
#: x xᵀ, squared losses) and the rates 1/|x|² overflow or underflow float64 (range about 1e±308).
SCALE_LIMIT = 1e100
#: Fraction of the memory available that one command may plan to allocate.
MEMORY_SHARE = 0.8


def check_seed(seed: int, arg: str = "--seed") -> int:
    """A seed in 0..2**32-1."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"`{arg}` must be an integer between 0 and {MAX_SEED}, got {seed!r}.")
    return seed


def integer(text: str) -> int:
    """The argparse type of every integer option: an integer of at most 64 bits (sign apart).

    Raises
    ------
    argparse.ArgumentTypeError
        Not an integer, or larger in magnitude than :data:`MAX_INTEGER` (argparse prints one line naming the option).
    """
    import argparse

    shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} characters)"
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"must be an integer, got {shown!r}") from None
    if abs(value) > MAX_INTEGER:
        raise argparse.ArgumentTypeError(f"must be an integer of at most 64 bits (|n| < 2**63), got {shown!r}")
    return value


def real(text: str) -> float:
    """The argparse type of every real-valued option: a float that is a number (never NaN; ±inf is left to the
    command's own range check).

    Raises
    ------
    argparse.ArgumentTypeError
        Not a number, or NaN.
    """
    import argparse

    shown = text if len(text) <= 24 else f"{text[:20]}… ({len(text)} characters)"
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"must be a number, got {shown!r}") from None
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"must be a number, got {shown!r}")
    return value


def bound_numeric_options(parser: Any) -> None:
    """Give every ``type=int`` / ``type=float`` option of ``parser`` the checks of :func:`integer` / :func:`real`.

    Applied by the CLI to every subcommand's parser, so that an option added later is bounded without being
    written differently.
    """
    for action in parser._actions:
        if action.type is int:
            action.type = integer
        elif action.type is float:
            action.type = real


def int_between(text: str, arg: str, lo: int, hi: int) -> int:
    """The integer written in ``text``, which must lie in lo..hi (both included)."""
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise InputError(f"`{arg}` must be an integer between {lo} and {hi}, got {text!r}.") from None
    if not lo <= value <= hi:
        raise InputError(f"`{arg}` must be an integer between {lo} and {hi}, got {value}.")
    return value


def positive_int(value: int, arg: str, most: int | None = None) -> int:
    """An integer >= 1 (and <= ``most``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"`{arg}` must be a positive integer, got {value!r}.")
    if most is not None and value > most:
        raise InputError(f"`{arg}` must be at most {most}, got {value}.")
    return value


def positive_float(value: float, arg: str) -> float:
    """A finite number > 0."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise InputError(f"`{arg}` must be a positive finite number, got {value!r}.")
    return float(value)


def check_tag(tag: str | None, all_tags: Iterable[str]) -> str | None:
    """A tag some claim carries (None passes); an unknown tag names the close ones."""
    if tag is None:
        return None
    known = sorted(set(all_tags))
    if tag not in known:
        import difflib

        close = difflib.get_close_matches(tag, known, n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else f" Tags: {', '.join(known)}."
        raise InputError(f"`--tag` {tag!r}: no claim carries this tag.{hint}")
    return tag


def check_scale(arr: Any, arg: str) -> Any:
    """``arr`` unless its largest magnitude makes products of two entries overflow or underflow float64."""
    import numpy as np

    top = float(np.max(np.abs(arr))) if arr.size else 0.0
    if top == 0.0:
        return arr
    if top > SCALE_LIMIT or top < 1 / SCALE_LIMIT:
        raise InputError(f"`{arg}` has largest magnitude {top:.3g}: products of two entries ({top * top:.3g}) "
                         f"{'overflow' if top > 1 else 'underflow'} float64, so curvatures and rates would be "
                         f"inf or 0; rescale the data to entries of order one (η* scales as 1/scale²).")
    return arr


def available_memory() -> int:
    """Bytes of memory this process may still use: MemAvailable, or the physical memory where that is unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 2**40


def _gib(b: float) -> str:
    try:
        return f"{b / 1024**3:.3g} GiB"
    except OverflowError:  # an integer estimate beyond float64: its order of magnitude
        return f"about 10^{len(str(int(b))) - 10} GiB"


def check_memory(needed: float | int, what: str, hint: str) -> None:
    """Refuse a job whose planned allocation (``needed`` bytes, estimated from shapes) cannot fit in memory.

    ``needed`` may be an exact Python integer of any size (an estimate from a 400-digit ``--width``), which is
    compared without converting it to a float that would overflow.
    """
    have = available_memory()
    if needed > MEMORY_SHARE * have:
        try:
            amount = f"about {_gib(float(needed))}"
        except OverflowError:
            amount = "more bytes than any machine has"
        raise InputError(f"{what} needs {amount}, more than the {_gib(have)} of memory available; {hint}.")


__all__ = [
    "MAX_INTEGER", "MAX_SEED", "MEMORY_SHARE", "SCALE_LIMIT", "available_memory", "bound_numeric_options",
    "check_memory", "check_scale", "check_seed", "check_tag", "int_between", "integer", "positive_float",
    "positive_int", "real",
]
