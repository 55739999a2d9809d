"""A run as one document: environment, settings and every claim's evidence; saving, loading, versions.

The JSON layout of a run is documented, versioned and validated by
:mod:`theorycheck.reporting.schema` (``SCHEMA_VERSION``); :func:`load_run` reads a
file, validates it and migrates older versions, raising
:class:`~theorycheck.core.errors.MalformedFileError` with one clear message
otherwise.

Schema history
--------------
1. Initial layout.
2. ``Evidence.key_tolerance`` (per-key ``rtol``/``atol`` for ``theorycheck
   compare``); ``Evidence.warnings``; key values may be lists/objects; figure kinds ``"bar"`` and ``"table"``; ``RunRecord.environment``
   gains ``precision``. Version-1 files load unchanged (the new fields default).
3. ``Evidence.statement_kind`` (theorem, derived, extrapolation, heuristic). Older files load with it empty
   (unknown) and save as version 3.
4. ``Evidence.expect`` (``"pass"`` or ``"finding"``: what the claim declared, so every view can show a
   declared finding as FINDING); ``RunRecord.papers``, the papers the run's claims check, statement by
   statement (:func:`theorycheck.claims.papers.papers_json`). Older files load with ``expect = "pass"`` and
   no papers.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from theorycheck.core.errors import MalformedFileError
from theorycheck.core.evidence import Evidence, jsonable

SCHEMA_VERSION = 4


@dataclass
class RunRecord:
    """A whole run: environment, settings, the evidence of every claim and the papers those claims check."""

    environment: dict[str, Any]
    settings: dict[str, Any]
    claims: list[Evidence]
    schema_version: int = SCHEMA_VERSION
    #: The papers of the run's claims with all their statements (JSON of :class:`theorycheck.claims.papers.Paper`).
    papers: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "environment": jsonable(self.environment),
            "settings": jsonable(self.settings),
            "claims": [e.to_json() for e in self.claims],
            "papers": jsonable(self.papers),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "RunRecord":
        """Build from a JSON document (not validated; :func:`load_run` validates)."""
        return cls(
            environment=dict(d.get("environment", {})),
            settings=dict(d.get("settings", {})),
            claims=[Evidence.from_json(c) for c in d["claims"]],
            papers=[dict(p) for p in d.get("papers", [])],
            # loaded records are migrated in memory, so they save as the current version
            schema_version=SCHEMA_VERSION,
        )

    def by_id(self) -> dict[str, Evidence]:
        """The claims' evidence keyed by claim id."""
        return {e.claim_id: e for e in self.claims}

    def without_timings(self) -> "RunRecord":
        """A copy with every ``elapsed_s`` set to 0: what a baseline stores (timings are never compared)."""
        claims = [Evidence.from_json(e.to_json()) for e in self.claims]
        for e in claims:
            e.elapsed_s = 0.0
        return RunRecord(environment=dict(self.environment), settings=dict(self.settings), claims=claims,
                         papers=[dict(p) for p in self.papers])


def dumps(record: RunRecord) -> str:
    """Deterministic JSON text of a run (sorted keys, no NaN literals, trailing newline)."""
    return json.dumps(record.to_json(), indent=1, sort_keys=True, allow_nan=False) + "\n"


def loads(text: str, what: str = "results file") -> RunRecord:
    """Parse, validate (:mod:`theorycheck.reporting.schema`) and migrate a run; MalformedFileError says what is wrong."""
    from theorycheck.reporting.schema import validate

    try:
        doc = json.loads(text)
        validate(doc, what)
    except json.JSONDecodeError as exc:
        raise MalformedFileError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.") from None
    except RecursionError:
        raise MalformedFileError(f"{what} is nested too deeply to be a theorycheck run.") from None
    try:
        record = RunRecord.from_json(doc)
    except (KeyError, TypeError, ValueError) as exc:  # schema should have caught it; keep the promise anyway
        raise MalformedFileError(f"{what} does not match the evidence schema: {exc}.") from None
    seen: set[str] = set()
    for e in record.claims:
        if e.claim_id in seen:
            raise MalformedFileError(f"{what} holds claim {e.claim_id!r} more than once; a run has one evidence "
                                     f"per claim.")
        seen.add(e.claim_id)
    return record


def load_run(path: str | os.PathLike[str], what: str | None = None) -> RunRecord:
    """Read a ``results.json`` or baseline file; see :func:`loads`."""
    label = f"{what or 'results file'} {str(path)!r}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MalformedFileError(f"{label} does not exist.") from None
    except IsADirectoryError:
        raise MalformedFileError(f"{label} is a directory; give the results.json inside it.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedFileError(f"cannot read {label}: {exc}.") from None
    return loads(text, label)


def save_run(record: RunRecord, path: str | os.PathLike[str]) -> Path:
    """Write ``record`` as JSON to ``path`` atomically (temporary file, then rename)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(dumps(record))
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; a baseline is for everyone to read
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


__all__ = ["SCHEMA_VERSION", "RunRecord", "dumps", "loads", "load_run", "save_run"]
