"""Bounds on work whose cost the input decides, and interrupts that must stay interrupts.

A wall-clock limit for symbolic work in the main thread (:func:`time_limit`),
and a SIGINT handler whose interrupt survives libraries that catch it
(:func:`on_interrupt`, :func:`check_interrupted`).

Symbolic expansion (sympy) is pure Python, so a ``SIGALRM`` timer can stop it
between bytecodes; the command then ends with one line saying what took too
long and what to change, instead of running for hours.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator

from theorycheck.core.errors import TheorycheckError

_interrupted = False


def on_interrupt(signum: int, frame: object) -> None:
    """SIGINT handler: remember the interrupt, then raise KeyboardInterrupt as Python's default handler does.

    Remembering it matters because a library may catch the KeyboardInterrupt and raise something else (a
    failed property run, a solver error): :func:`check_interrupted` turns that back into the interrupt.
    """
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def check_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed (see :func:`on_interrupt`)."""
    if _interrupted:
        raise KeyboardInterrupt


class TimeLimitError(TheorycheckError):
    """Work bounded by :func:`time_limit` ran past its limit."""


@contextmanager
def time_limit(seconds: float, message: str) -> Iterator[None]:
    """Raise :class:`TimeLimitError` (``message``) if the block runs longer than ``seconds``.

    Active only in the main thread of a process without another ``SIGALRM`` handler; elsewhere the block runs
    unbounded (a library caller keeps its own signals).
    """
    usable = (threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
              and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None))
    if not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeLimitError(message + ".")

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


__all__ = ["TimeLimitError", "check_interrupted", "on_interrupt", "time_limit"]
