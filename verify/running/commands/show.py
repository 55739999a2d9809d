"""``theorycheck show CLAIM_ID``: a claim's kind of statement, source, statement and falsifier."""

from __future__ import annotations

import argparse

from theorycheck.claims import registry
from theorycheck.core.evidence import failure_label
from theorycheck.running.loading import add_loading_arguments, load_from_args, resolve

NAME = "show"
HELP = "Show one claim: source, statement, and what would make it fail."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("claim_id")
    add_loading_arguments(p)


def run(args: argparse.Namespace) -> int:
    load_from_args(args)
    c = resolve(args.claim_id)
    print(f"{c.id}: {c.title}")
    print(f"kind:      {c.statement_kind} (a FAIL is reported as: {failure_label(c.statement_kind)})")
    print(f"source:    {c.source}")
    print(f"statement: {c.statement}")
    print(f"fails if:  {c.falsifier}")
    if c.tags:
        print(f"tags:      {', '.join(c.tags)}")
    print(f"area:      {registry.area_of(c)}")
    print(f"expect:    {c.expect}")
    return 0


__all__ = [
    "HELP", "NAME", "add_arguments", "run",
]
