"""Regression of theory: compare a run against a committed baseline.

Two runs agree when

- they checked the same claims (a claim added or removed is a difference),
- every claim has the same verdict,
- every key number (``Evidence.key``) is present in both and within tolerance:
  ``|new - base| <= max(atol, rtol * |base|)``, with ``nan == nan`` and equal
  infinities agreeing; non-numeric key values must be equal,
- the run settings that change the numbers (``quick``, ``seed``) are equal.

Nothing else is compared: not timings (``elapsed_s``; key names that look
like timings, see :data:`TIMING_KEY` are skipped too), not the environment,
not cases or figures (they are what the key numbers summarise).

Default tolerance. Orders fitted at high precision (mpmath/heyoka at many
digits) and seeded Monte Carlo numbers repeat bit for bit on one machine;
across machines float64 BLAS kernels may change the last digits, and fits or
eigen-solves can amplify that by a few orders of magnitude. ``rtol = 1e-6``
absorbs a millionfold amplification of round-off while still catching any
drift a person would care about (an order moving from 3.000 to 2.999 is
``3e-4``); ``atol = 1e-12`` keeps margins that are zero up to round-off from
failing on relative noise. A key that is not reproducible to that (an estimate
whose random stream depends on a library version) declares its own tolerance
in ``Evidence.key_tolerance``. Only the baseline's declaration counts (or,
for a key the baseline declares nothing for, the tolerance the claim's code
declares, passed as ``declared``): the run being judged cannot loosen its own
test, so loosening a tolerance is itself a deliberate baseline update.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from theorycheck.core.evidence import unjson_float
from theorycheck.reporting.record import RunRecord

DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-12
#: Key names treated as timings and never compared.
TIMING_KEY = re.compile(r"(^|_)(elapsed|wall|runtime|timing)(_|$)|_seconds$|(^|_)time_s$")
#: Run settings that change the numbers; a mismatch makes every comparison meaningless.
COMPARED_SETTINGS = ("quick", "seed")


@dataclass(frozen=True)
class Difference:
    """One disagreement, printed as one line: ``where: what``."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def _number(v: Any) -> float | None:
    v = unjson_float(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def within(base: float, new: float, rtol: float, atol: float) -> bool:
    """``|new - base| <= max(atol, rtol |base|)``; nan matches nan, an infinity matches itself."""
    if math.isnan(base) or math.isnan(new):
        return math.isnan(base) and math.isnan(new)
    if math.isinf(base) or math.isinf(new):
        return base == new
    return abs(new - base) <= max(atol, rtol * abs(base))


def _tolerance(name: str, base_tol: Mapping[str, Mapping[str, float]], code_tol: Mapping[str, Mapping[str, float]],
               rtol: float, atol: float) -> tuple[float, float]:
    t = base_tol.get(name) or code_tol.get(name) or {}
    return float(t.get("rtol", rtol)), float(t.get("atol", atol))


def _value_diffs(name: str, bv: Any, nv: Any, rtol: float, atol: float) -> list[str]:
    """Differences between two key values; lists and objects element by element (``name[i]``, ``name.sub``)."""
    bn, nn = _number(bv), _number(nv)
    if bn is not None and nn is not None:
        if within(bn, nn, rtol, atol):
            return []
        finite = math.isfinite(bn) and math.isfinite(nn) and bn != 0.0
        rel = abs(nn - bn) / abs(bn) if finite else math.inf
        return [f"{name} {bn:.10g} -> {nn:.10g} (relative change {rel:.2g}, allowed rtol {rtol:g}, atol {atol:g})"]
    if isinstance(bv, list) and isinstance(nv, list):
        if len(bv) != len(nv):
            return [f"{name} length {len(bv)} -> {len(nv)} ({_short(bv)} -> {_short(nv)})"]
        return [d for i, (x, y) in enumerate(zip(bv, nv)) for d in _value_diffs(f"{name}[{i}]", x, y, rtol, atol)]
    if isinstance(bv, dict) and isinstance(nv, dict):
        out = [f"{name}.{k} removed" for k in bv if k not in nv] + [f"{name}.{k} added" for k in nv if k not in bv]
        return out + [d for k in bv if k in nv for d in _value_diffs(f"{name}.{k}", bv[k], nv[k], rtol, atol)]
    if unjson_float(bv) != unjson_float(nv):
        return [f"{name} {_short(bv)} -> {_short(nv)}"]
    return []


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 80 else s[:77] + "..."


def compare(baseline: RunRecord, new: RunRecord, rtol: float = DEFAULT_RTOL,
            atol: float = DEFAULT_ATOL,
            declared: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None) -> list[Difference]:
    """Every difference between ``baseline`` and ``new``, in baseline order then added claims.

    A key's tolerance is the baseline's ``key_tolerance`` entry, else ``declared[claim_id][key]`` (what the
    claim's code declares), else ``rtol``/``atol``; ``new``'s own ``key_tolerance`` is never used.
    """
    declared = declared or {}
    diffs: list[Difference] = []
    for s in COMPARED_SETTINGS:
        b, n = baseline.settings.get(s), new.settings.get(s)
        if b != n:
            diffs.append(Difference("settings", f"{s} {b!r} -> {n!r} (numbers are not comparable; rerun with the "
                                                f"baseline's settings)"))
    base, cur = baseline.by_id(), new.by_id()
    for cid, b in base.items():
        n = cur.get(cid)
        if n is None:
            diffs.append(Difference(cid, f"claim removed (baseline verdict {b.verdict})"))
            continue
        if b.verdict != n.verdict:
            why = f" ({n.reason})" if n.reason else ""
            diffs.append(Difference(cid, f"verdict {b.verdict} -> {n.verdict}{why}"))
        for k in sorted(set(b.key) | set(n.key)):
            if TIMING_KEY.search(k):
                continue
            if k not in n.key:
                diffs.append(Difference(cid, f"key {k} removed (baseline {b.key[k]!r})"))
                continue
            if k not in b.key:
                diffs.append(Difference(cid, f"key {k} added ({n.key[k]!r})"))
                continue
            r, a = _tolerance(k, b.key_tolerance, declared.get(cid, {}), rtol, atol)
            diffs += [Difference(cid, f"key {what}") for what in _value_diffs(k, b.key[k], n.key[k], r, a)]
    for cid, n in cur.items():
        if cid not in base:
            diffs.append(Difference(cid, f"claim added (verdict {n.verdict}; not in the baseline)"))
    return diffs


__all__ = [
    "COMPARED_SETTINGS", "DEFAULT_ATOL", "DEFAULT_RTOL", "Difference", "TIMING_KEY", "compare", "within",
]
