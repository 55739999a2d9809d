"""``theorycheck show CLAIM_ID``: a claim's kind of statement, source, statement and falsifier."""

from __future__ import annotations

import argparse

from theorycheck import claims
from theorycheck.core.evidence import failure_label

NAME = "show"
HELP = "Show one claim: source, statement, and what would make it fail."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("claim_id")


def run(args: argparse.Namespace) -> int:
    c = claims.get(args.claim_id)
    print(f"{c.id}: {c.title}")
    print(f"kind:      {c.statement_kind} (a FAIL is reported as: {failure_label(c.statement_kind)})")
    print(f"source:    {c.source}")
    print(f"statement: {c.statement}")
    print(f"fails if:  {c.falsifier}")
    if c.tags:
        print(f"tags:      {', '.join(c.tags)}")
    return 0


__all__ = [
    "HELP", "NAME", "add_arguments", "run",
]
