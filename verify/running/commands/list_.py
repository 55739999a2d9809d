"""``theorycheck list``: the registered claims, one per line: id, kind of statement, title, source."""

from __future__ import annotations

import argparse

from theorycheck import claims

NAME = "list"
HELP = "List the registered claims."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tag", help="only claims carrying this tag")


def run(args: argparse.Namespace) -> int:
    for c in claims.all_claims():
        if args.tag and args.tag not in c.tags:
            continue
        print(f"{c.id:<40} {c.statement_kind:<13} {c.title}  [{c.source}]")
    return 0


__all__ = [
    "HELP", "NAME", "add_arguments", "run",
]
