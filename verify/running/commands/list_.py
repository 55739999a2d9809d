"""``theorycheck list``: the registered claims, one per line: id, kind of statement, title, source."""

from __future__ import annotations

import argparse

from theorycheck.claims import registry
from theorycheck.running.loading import add_selection_arguments, selected_from_args

NAME = "list"
HELP = "List the registered claims."


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_selection_arguments(p, ids=False)


def run(args: argparse.Namespace) -> int:
    for c in selected_from_args(args):
        mark = "" if registry.is_builtin(c) else "  (user)"
        print(f"{c.id:<40} {c.statement_kind or 'unstated':<13} {c.title}  [{c.source}]{mark}")
    return 0


__all__ = [
    "HELP", "NAME", "add_arguments", "run",
]
