"""How long each claim took last time: the order in which a parallel run starts its claims.

A parallel run starts the longest claims first (:func:`theorycheck.running.executors.submission_order`),
so that the last worker to finish is not left alone with one long claim. The expected
cost of a claim is its ``elapsed_s`` in the last run of the same mode (quick or full) on
this machine, kept as an entry of the on-disk cache (:mod:`theorycheck.numerics.cache`:
authenticated like every entry, off with the cache). The table only orders work: a
missing, stale or unreadable table changes nothing but the order, never a result.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from theorycheck.core.evidence import Evidence
from theorycheck.numerics import cache

#: Kind and key of the table's cache entry.
CACHE_KIND = "claim-costs"
CACHE_KEY = {"table": "elapsed seconds per claim", "format": 1}

__all__ = ["CACHE_KEY", "CACHE_KIND", "expected_costs", "record_costs"]


def _read() -> dict[str, dict[str, float]]:
    payload = cache.load(CACHE_KIND, CACHE_KEY)
    if payload is None:
        return {}
    try:
        doc = json.loads(payload)
    except ValueError:
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
    cache.store(CACHE_KIND, CACHE_KEY, json.dumps(doc, indent=1, sort_keys=True).encode("utf-8"))
