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
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from theorycheck.core.errors import TheorycheckError

_interrupted = False
#: Delay before an interrupt that arrived inside the import machinery is delivered again.
_REDELIVER_S = 0.05
#: Depth of nested interrupts_deferred() blocks.
_deferred = 0


def on_interrupt(signum: int, frame: object) -> None:
    """SIGINT handler: remember the interrupt, then raise KeyboardInterrupt as Python's default handler does.

    Remembering it matters because a library may catch the KeyboardInterrupt and raise something else (a
    failed property run, a solver error): :func:`check_interrupted` turns that back into the interrupt.
    """
    global _interrupted
    _interrupted = True
    if _deferred:
        return  # raised when the block of interrupts_deferred() ends
    code = getattr(frame, "f_code", None)
    if code is not None and code.co_filename.startswith("<frozen importlib"):
        # raised inside the import machinery's callbacks it would be printed as "Exception ignored" and lost:
        # the signal is delivered again shortly, once the import is (likely) over, so that the interrupt
        # ends the command then, whatever it is waiting on (a process pool's results, a long claim)
        import os

        again = threading.Timer(_REDELIVER_S, os.kill, (os.getpid(), signal.SIGINT))
        again.daemon = True
        again.start()
        return
    raise KeyboardInterrupt


def reset_interrupt() -> None:
    """Forget an earlier interrupt (a new command in the same process starts afresh)."""
    global _interrupted
    _interrupted = False


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """A block that Ctrl-C does not cut in half: an interrupt during it is raised when it ends.

    For steps that must not stop midway, such as starting worker processes: a half-started spawned
    child would print its own traceback.
    """
    global _deferred
    _deferred += 1
    try:
        yield
    finally:
        _deferred -= 1
    check_interrupted()


def was_interrupted() -> bool:
    """Whether Ctrl-C was pressed since :func:`reset_interrupt` (see :func:`on_interrupt`)."""
    return _interrupted


def check_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed (see :func:`on_interrupt`)."""
    if _interrupted:
        raise KeyboardInterrupt


def status(message: str) -> None:
    """A progress note on stderr, only when it is a terminal (logs and pipes stay clean)."""
    import sys

    if sys.stderr.isatty():
        print(f"theorycheck: {message}", file=sys.stderr, flush=True)


class TimeLimitError(TheorycheckError):
    """Work bounded by :func:`time_limit` ran past its limit."""


class _Expired(BaseException):
    """Raised by the timer: a BaseException, so the ``except Exception`` of a library cannot swallow it."""


@contextmanager
def time_limit(seconds: float, message: str) -> Iterator[None]:
    """Raise :class:`TimeLimitError` (``message``) if the block runs longer than ``seconds``.

    Active only in the main thread of a process without another ``SIGALRM`` handler; elsewhere the block runs
    unbounded (a library caller keeps its own signals). The timer re-fires every 0.2 s until the block ends, in
    case code under it catches even a BaseException once.
    """
    usable = (threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
              and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None))
    if not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _Expired()

    outer_hook = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        # raised inside a weakref callback or __del__, the tick is lost (Python only prints it); the next one,
        # 0.2 s later, ends the block, so the lost one is not worth a warning
        if not isinstance(unraisable.exc_value, _Expired):
            outer_hook(unraisable)

    sys.unraisablehook = hook
    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.2)
    try:
        yield
    except _Expired:
        raise TimeLimitError(message + ".") from None
    finally:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # a last tick between here and the reset must not escape
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        sys.unraisablehook = outer_hook


__all__ = ["TimeLimitError", "check_interrupted", "interrupts_deferred", "on_interrupt", "reset_interrupt", "status", "time_limit", "was_interrupted"]
