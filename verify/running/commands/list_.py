"""``theorycheck list``: the registered claims, one per line."""

from __future__ import annotations

import argparse

from theorycheck import claims

NAME = "list"
HELP = "List the registered claims."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tag", help="only claims carrying this tag")


def run(args: argparse.Namespace) -> int:
    from theorycheck.running.validate import check_tag

    every = claims.all_claims()
    check_tag(args.tag, (t for c in every for t in c.tags))
    for c in every:
        if args.tag and args.tag not in c.tags:
            continue
        print(f"{c.id:<40} {c.title}  [{c.source}]")
    return 0


__all__ = [
    "HELP", "NAME", "add_arguments", "run",
]
