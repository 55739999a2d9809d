"""The ``theorycheck`` command line: one module per subcommand under ``theorycheck.running.commands``.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and
``run(args) -> int``. A :class:`~theorycheck.core.errors.TheorycheckError` anywhere
below becomes one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from theorycheck.core.errors import TheorycheckError

COMMAND_MODULES: list[str] = [
    "theorycheck.running.commands.list_",
    "theorycheck.running.commands.show",
    "theorycheck.running.commands.run",
    "theorycheck.running.commands.compare",
    "theorycheck.running.commands.baseline",
    "theorycheck.running.commands.order",
    "theorycheck.running.commands.stability",
    "theorycheck.running.commands.flatness",
    "theorycheck.running.commands.sharpness",
    "theorycheck.running.commands.modified",
    "theorycheck.running.commands.table",
]


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line (plus argparse's usage) and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"theorycheck: error: {message}\n")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or only of the one ``argv`` names.

    A process runs one command: when ``argv`` starts with a command's name only that module is
    imported (some import the claim registry and the executors to declare their options, a tenth of
    a second that ``theorycheck order`` would otherwise spend on every run). Anything else (no
    command, ``--help``, a misspelt name) gets the full parser, whose usage lists every command.
    """
    from importlib.metadata import version as distribution_version

    parser = _Parser(prog="theorycheck", description="Numerical checks of optimisation-theory claims.")
    parser.add_argument("--version", action="version", version=f"theorycheck {distribution_version('theorycheck')}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    chosen = [m for m in COMMAND_MODULES if argv and m.rsplit(".", 1)[1].rstrip("_") == argv[0]]
    from theorycheck.running.validate import bound_numeric_options

    for name in chosen or COMMAND_MODULES:
        mod = importlib.import_module(name)
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        bound_numeric_options(p)  # every int option at most 64 bits, no float option NaN
        p.set_defaults(_run=mod.run)
    return parser


def given_options(parser: argparse.ArgumentParser, words: Sequence[str]) -> frozenset[str]:
    """The ``dest`` of every option ``words`` set explicitly (not left at its default), for checks of options that
    apply only in some modes (``order --beta`` with heavy ball only). ``words`` must parse."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    chosen = [p for a in actions for name, p in a.choices.items() if words and name == words[0]]
    saved = [(a, a.default) for p in chosen for a in p._actions]
    for a, _ in saved:
        a.default = argparse.SUPPRESS
    try:
        given = vars(parser.parse_args(words))
    finally:
        for a, default in saved:
            a.default = default
    return frozenset(given) - {"command", "_run"}


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that executors shut their workers down on the way out."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def _signal_exit(code: int, as_program: bool) -> int:
    """The exit after the one line about an interrupt or a SIGTERM.

    Run as a program, the process leaves at once with ``code`` (everything was cleaned up while the exception
    unwound): CPython otherwise re-kills itself with SIGINT at shutdown when the interrupt passed through
    embedded code (a C extension evaluating Python), which would turn exit 130 into death by signal.
    """
    if as_program:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        import os

        mp_util = sys.modules.get("multiprocessing.util")
        if mp_util is not None:
            # what atexit would have run: the finalizers that release a process pool's semaphores, without
            # which the resource tracker prints a "leaked semaphore" warning after the one line
            try:
                mp_util._exit_function()
            except Exception:  # noqa: BLE001 - the exit must happen whatever the cleanup does
                pass
        os._exit(code)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``theorycheck`` console script and ``python -m verify``."""
    import signal

    from theorycheck.running.limits import check_interrupted, on_interrupt, reset_interrupt, was_interrupted

    reset_interrupt()
    previous: dict[int, object] = {}
    try:
        if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
            previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _on_sigterm)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, on_interrupt)
    except ValueError:  # not the main thread (an embedding program): leave its signals alone
        pass
    try:
        words = list(sys.argv[1:] if argv is None else argv)
        parser = build_parser(words)
        args = parser.parse_args(words)
        args._given = given_options(parser, words)
        check_interrupted()
        code = int(args._run(args) or 0)
        check_interrupted()
        return code
    except TheorycheckError as exc:
        print(f"theorycheck: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("theorycheck: interrupted", file=sys.stderr)
        return _signal_exit(130, argv is None)
    except Terminated:
        print("theorycheck: terminated", file=sys.stderr)
        return _signal_exit(143, argv is None)
    except RecursionError:
        print("theorycheck: error: the input is nested too deeply to process (Python's recursion limit); "
              "simplify it.", file=sys.stderr)
        return 2
    except MemoryError:
        print("theorycheck: error: out of memory; use smaller sizes.", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # the reader (e.g. `| head`) went away: not an error of ours; silence the flush at exit
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # a path the system refuses where no check words it better (a name too long, a permission, a device)
        name = str(exc.filename) if exc.filename is not None else ""
        shown = f" {name if len(name) <= 80 else name[:60] + f'… ({len(name)} characters)'!r}" if name else ""
        print(f"theorycheck: error: cannot use{shown}: {exc.strerror or exc}.", file=sys.stderr)
        return 2
    except Exception:
        # a library caught the KeyboardInterrupt (a bare except in a module being imported) and failed
        # later in its own way: it is still the interrupt
        if not was_interrupted():
            raise
        print("theorycheck: interrupted", file=sys.stderr)
        return _signal_exit(130, argv is None)
    finally:  # called in-process (tests, an embedding program), leave the signals as they were
        for signum, handler in previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

__all__ = [
    "COMMAND_MODULES", "Terminated", "build_parser", "given_options", "main",
]



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
