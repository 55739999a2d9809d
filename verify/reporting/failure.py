"""The evidence of a failed check as plain text: what a failed test or assertion shows.

Used by the pytest plugin for a claim test that fails and by the assertion
helpers of :mod:`theorycheck.testing`; the HTML/Markdown report renders the
same evidence in full.
"""

from __future__ import annotations

import json

from theorycheck.core.evidence import Evidence, Verdict, jsonable

#: At most this many failing cases are listed.
MAX_CASES_SHOWN = 8


def describe_evidence(ev: Evidence) -> str:
    """Summary, reason, key numbers, the cases that did not pass (at most :data:`MAX_CASES_SHOWN`), the counterexample."""
    lines = [f"summary: {ev.summary}"]
    if ev.reason:
        lines.append(f"reason: {ev.reason}")
    if ev.key:
        lines.append("key: " + ", ".join(f"{k} = {v}" for k, v in ev.key.items()))
    bad = [c for c in ev.cases if c.verdict is not Verdict.PASS]
    if ev.cases:
        lines.append(f"cases: {len(ev.cases)}, not passing: {len(bad)}")
    for c in bad[:MAX_CASES_SHOWN]:
        lines.append(f"  {c.name}: {c.verdict}  measured {jsonable(c.measured)}  expected {jsonable(c.expected)}"
                     + (f"  margin {c.margin:.6g}" if c.margin is not None else "") + (f"  ({c.note})" if c.note else ""))
    if len(bad) > MAX_CASES_SHOWN:
        lines.append(f"  ... {len(bad) - MAX_CASES_SHOWN} more")
    if ev.counterexample:
        lines.append("counterexample: " + json.dumps(jsonable(ev.counterexample), ensure_ascii=False))
    if ev.traceback:
        lines.append(ev.traceback.rstrip())
    return "\n".join(lines)


__all__ = ["MAX_CASES_SHOWN", "describe_evidence"]
