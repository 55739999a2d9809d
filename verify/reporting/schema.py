"""The JSON Schema of a theorycheck run (``results.json``, ``reports/baseline.json``).

This module is the one definition of the file format; ``verify/reporting/schema.json`` is
the same schema written out for people and other tools
(``python -m theorycheck.reporting.schema > verify/reporting/schema.json``; a test keeps them equal).
:func:`validate` checks a parsed document against it and turns the first
problem into one :class:`~theorycheck.core.errors.MalformedFileError` line that names the
JSON path, e.g. ``claims/3/verdict: 'MAYBE' is not one of [...]``.

Versioning: ``schema_version`` is an integer that grows when a field is added
or changes meaning (history in :mod:`theorycheck.core.evidence`). Readers accept every
version up to their own and migrate older ones; a file from a newer writer is
refused with a message saying to upgrade. Objects allow additional properties
so that a field added in a later version does not break an older reader of
the same major layout.
"""

from __future__ import annotations

import json
from typing import Any

from theorycheck.core.evidence import EXPECTATIONS, FIGURE_KINDS, STATEMENT_KINDS, Verdict
from theorycheck.reporting.record import SCHEMA_VERSION

_NUMBER = {
    "description": "A float; non-finite values are the strings 'inf', '-inf', 'nan' (JSON has no literals for them).",
    "anyOf": [{"type": "number"}, {"enum": ["inf", "-inf", "nan"]}],
}
_VALUES = {
    "type": "object",
    "description": "Named values: numbers (see $defs/number), strings, booleans, lists or nested objects.",
}

_CASE = {
    "type": "object",
    "description": "One instance a claim was checked on (one loss, one dataset, one seed, one example).",
    "required": ["name", "verdict"],
    "properties": {
        "name": {"type": "string", "description": "What this instance is, e.g. 'quartic, h=1/32' or 'example 7'."},
        "verdict": {"$ref": "#/$defs/verdict"},
        "measured": {**_VALUES, "description": "The numbers measured on this instance (e.g. fitted order, rho)."},
        "expected": {**_VALUES, "description": "What the claim predicts: an expected value or a bound."},
        "tolerance": {**_VALUES, "description": "The tolerances the verdict used (e.g. {'order': 0.05})."},
        "margin": {
            "description": "Signed slack of the test, positive = satisfied (bound - measured, or tol - |order - p|).",
            "anyOf": [{"$ref": "#/$defs/number"}, {"type": "null"}],
        },
        "note": {"type": "string", "description": "Why the verdict is what it is, in words."},
        "data": {**_VALUES, "description": "Anything else worth keeping for this instance (raw ladders, seeds)."},
    },
}

_SERIES = {
    "type": "object",
    "required": ["label", "x", "y"],
    "properties": {
        "label": {"type": "string"},
        "x": {"type": "array", "description": "Abscissae; category names (strings) for bar charts.",
              "items": {"anyOf": [{"$ref": "#/$defs/number"}, {"type": "string"}]}},
        "y": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/number"}, {"type": "null"}]}},
        "style": {"type": "string", "enum": ["line", "points", "dashed", "bar"]},
    },
}

_FIGURE = {
    "type": "object",
    "description": "The data behind one figure; the report decides how it looks.",
    "required": ["kind", "title"],
    "properties": {
        "kind": {"type": "string", "description": f"Renderer: one of {', '.join(FIGURE_KINDS)} (unknown kinds are drawn as curves)."},
        "title": {"type": "string"},
        "xlabel": {"type": "string"},
        "ylabel": {"type": "string"},
        "xscale": {"type": "string", "enum": ["linear", "log", "symlog", "logit"]},
        "yscale": {"type": "string", "enum": ["linear", "log", "symlog", "logit"]},
        "series": {"type": "array", "items": {"$ref": "#/$defs/series"}},
        "annotations": {**_VALUES, "description": "Renderer hints: expected_slope, fitted_slope, vline, hline, diagonal, "
                                                   "columns/rows for tables (see theorycheck.core.evidence.Figure)."},
    },
}

_EVIDENCE = {
    "type": "object",
    "description": "Everything one claim check found.",
    "required": ["claim_id", "verdict", "summary"],
    "properties": {
        "claim_id": {"type": "string", "minLength": 1},
        "verdict": {"$ref": "#/$defs/verdict"},
        "summary": {"type": "string", "description": "One line with the key number, shown in the summary table."},
        "title": {"type": "string"},
        "source": {"type": "string", "description": "Paper and theorem/equation number."},
        "statement": {"type": "string", "description": "The claim as checked."},
        "falsifier": {"type": "string", "description": "What result would make the claim FAIL."},
        "statement_kind": {"type": "string", "enum": ["", *STATEMENT_KINDS],
                           "description": "What kind of statement is checked: theorem (the cited paper states it), "
                                          "derived (derived here), extrapolation (an extension the paper does not "
                                          "state), heuristic (an informal prediction of the paper); '' before "
                                          "schema version 3."},
        "key": {"type": "object", "description": "The few numbers CI regresses on (orders, critical rates, worst margins); "
                                                  "lists and objects of them are compared element by element.",
                "additionalProperties": {"$ref": "#/$defs/key_value"}},
        "key_tolerance": {
            "type": "object",
            "description": "Per-key comparison tolerance overriding `compare --rtol`: {key: {rtol: r, atol: a}}.",
            "additionalProperties": {"type": "object", "properties": {"rtol": {"$ref": "#/$defs/number"},
                                                                      "atol": {"$ref": "#/$defs/number"}},
                                     "additionalProperties": False},
        },
        "cases": {"type": "array", "items": {"$ref": "#/$defs/case"}},
        "figures": {"type": "array", "items": {"$ref": "#/$defs/figure"}},
        "counterexample": {"description": "The (shrunk) instance that refutes the claim, when one was found.",
                           "anyOf": [{"type": "object"}, {"type": "null"}]},
        "reason": {"type": "string", "description": "Why INCONCLUSIVE, or the exception message of an ERROR."},
        "settings": {**_VALUES, "description": "What the numbers were computed with: quick, seed, backend, digits, ..."},
        "elapsed_s": {**_NUMBER, "description": "Wall time of the check in seconds; never compared."},
        "warnings": {"type": "array", "items": {"type": "string"},
                     "description": "Distinct warnings the check emitted (recorded, not printed)."},
        "traceback": {"type": "string", "description": "The whole traceback of an ERROR (reason: its last line)."},
        "expect": {"type": "string", "enum": list(EXPECTATIONS),
                   "description": "What the claim declared: 'pass', or 'finding' (a published statement the numbers "
                                  "contradict: its FAIL is expected and shown as FINDING); 'pass' before schema "
                                  "version 4."},
    },
}

_STATEMENT = {
    "type": "object",
    "description": "One statement of a paper, in the paper's order, and how it stands here.",
    "required": ["where", "text", "claims", "status"],
    "properties": {
        "where": {"type": "string", "description": "Its place in the paper: 'Theorem 3.1', 'Sec. 2', 'abstract'."},
        "where_checked": {"type": "boolean", "description": "Whether that number was read in the paper."},
        "text": {"type": "string", "description": "The statement, paraphrased; quotations in quotation marks."},
        "claims": {"type": "array", "items": {"type": "string"}, "description": "Ids of the claims that check it."},
        "status": {"type": "string", "enum": ["checked", "not checked", "open question"]},
        "not_checked": {"type": "string", "description": "Why no claim checks it (empty when one does)."},
        "note": {"type": "string", "description": "How the claims bear on it, when not on the whole statement."},
    },
}

_PAPER = {
    "type": "object",
    "description": "A paper the run's claims check, with all its statements.",
    "required": ["key", "short", "citation", "statements"],
    "properties": {
        "key": {"type": "string", "minLength": 1, "description": "Short identifier, e.g. 'ma-ying-2021'."},
        "short": {"type": "string", "description": "How the report names it, e.g. 'Ma & Ying 2021'."},
        "citation": {"type": "string"},
        "url": {"type": "string"},
        "statements": {"type": "array", "items": {"$ref": "#/$defs/statement"}},
    },
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"https://theorycheck.invalid/schema/run-v{SCHEMA_VERSION}.json",
    "title": "theorycheck run",
    "description": "One run of theorycheck: the environment it ran in, its settings, and the evidence of every claim.",
    "type": "object",
    "required": ["schema_version", "claims"],
    "properties": {
        "schema_version": {"type": "integer", "minimum": 1, "maximum": SCHEMA_VERSION,
                           "description": f"Layout version of this file; this reader understands 1..{SCHEMA_VERSION}."},
        "environment": {
            "type": "object",
            "description": "Where the run happened.",
            "properties": {
                "python": {"type": "string"},
                "platform": {"type": "string"},
                "packages": {"type": "object", "description": "Package name -> version (null if absent).",
                             "additionalProperties": {"type": ["string", "null"]}},
                "git_commit": {"type": ["string", "null"]},
                "precision": {**_VALUES, "description": "Default float type and its machine epsilon; per-claim "
                                                         "working precision is in each claim's settings."},
            },
        },
        "settings": {
            "type": "object",
            "description": "Run-wide settings: quick, seed (master seed of every sampled instance), executor.",
            "properties": {"quick": {"type": "boolean"}, "seed": {"type": "integer"}, "executor": {"type": "string"}},
        },
        "claims": {"type": "array", "items": {"$ref": "#/$defs/evidence"}},
        "papers": {"type": "array", "items": {"$ref": "#/$defs/paper"},
                   "description": "The papers the claims check, statement by statement (from schema version 4)."},
    },
    "$defs": {
        "number": _NUMBER,
        "verdict": {"type": "string", "enum": [v.value for v in Verdict]},
        "key_value": {"anyOf": [{"$ref": "#/$defs/number"}, {"type": ["string", "boolean", "null"]},
                                {"type": "array", "items": {"$ref": "#/$defs/key_value"}},
                                {"type": "object", "additionalProperties": {"$ref": "#/$defs/key_value"}}]},
        "case": _CASE,
        "series": _SERIES,
        "figure": _FIGURE,
        "evidence": _EVIDENCE,
        "statement": _STATEMENT,
        "paper": _PAPER,
    },
}


def validate(doc: Any, what: str = "results file") -> None:
    """Raise :class:`~theorycheck.core.errors.MalformedFileError` naming the first problem of ``doc``, if any."""
    import jsonschema

    from theorycheck.core.errors import MalformedFileError

    if isinstance(doc, dict) and isinstance(doc.get("schema_version"), int) and doc["schema_version"] > SCHEMA_VERSION:
        raise MalformedFileError(
            f"{what} has schema_version {doc['schema_version']}, newer than this theorycheck understands "
            f"({SCHEMA_VERSION}); upgrade theorycheck.")
    validator = jsonschema.Draft202012Validator(SCHEMA)
    err = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "top level"
        msg = err.message if len(err.message) < 200 else err.message[:200] + "..."
        raise MalformedFileError(f"{what} is not a theorycheck run ({where}: {msg}).")


def dumps_schema() -> str:
    """The schema as the text of ``verify/reporting/schema.json``."""
    return json.dumps(SCHEMA, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

__all__ = [
    "SCHEMA", "dumps_schema", "validate",
]



if __name__ == "__main__":  # pragma: no cover
    print(dumps_schema(), end="")
