"""How long each claim took last time: the order in which a parallel run starts its claims.

A parallel run starts the longest claims first (:func:`theorycheck.running.executors.submission_order`),
so that the last worker to finish is not left alone with one long claim. The expected
cost of a claim is its ``elapsed_s`` in the last run of the same mode (quick or full) on
this machine, kept in ``claim_costs.json`` in the cache directory of
:mod:`theorycheck.numerics.cache` (off with the cache). The table only orders work: a
missing, stale or unreadable table changes nothing but the order, never a result.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

from theorycheck.core.evidence import Evidence
from theorycheck.core.files import write_atomically
from theorycheck.numerics import cache

FILENAME = "claim_costs.json"

__all__ = ["FILENAME", "expected_costs", "record_costs"]


def _path() -> Path:
    return cache.cache_dir() / FILENAME


def _read() -> dict[str, dict[str, float]]:
    try:
        doc = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _mode(quick: bool) -> str:
    return "quick" if quick else "full"


def expected_costs(claim_ids: Sequence[str], quick: bool) -> list[float | None]:
    """Seconds each claim took in the last run of this mode (None where unknown or the cache is off)."""
    if not cache.enabled():
        return [None] * len(claim_ids)
    table = _read().get(_mode(quick), {})
    out: list[float | None] = []
    for cid in claim_ids:
        v = table.get(cid) if isinstance(table, dict) else None
        out.append(float(v) if isinstance(v, (int, float)) and v >= 0 else None)
    return out


def record_costs(evidence: Iterable[Evidence], quick: bool) -> None:
    """Remember each claim's ``elapsed_s`` for the next run (atomic replace; errors ignored)."""
    if not cache.enabled():
        return
    doc = _read()
    table = doc.get(_mode(quick))
    table = dict(table) if isinstance(table, dict) else {}
    for e in evidence:
        if e.elapsed_s and e.elapsed_s > 0:
            table[e.claim_id] = round(float(e.elapsed_s), 3)
    doc[_mode(quick)] = table
    path = _path()
    try:
        write_atomically(path, json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))
    except OSError:
        pass
