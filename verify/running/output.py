"""The JSON a command prints: versioned, described by a shipped JSON Schema, renamed keys kept for a while.

Every ``--json`` output goes through :func:`emit` (or :func:`versioned` for a JSON file a command
writes), named by its command: ``emit("order", document)``. The package ships one JSON Schema
(draft 2020-12) per command, ``theorycheck/running/schemas/<command>.json``, whose ``$id`` names the
command and its version (``https://theorycheck.invalid/schema/order-v1.json``) and whose property
``schema_version`` is a ``const``: that integer is added to the document, so a script can check
what it reads (``jq .schema_version``) and a reader of several versions can branch on it.

A key renamed in a release keeps its old name beside the new one for one minor version: the
schema lists the pairs under ``x-renamed-keys`` (``{"keys": {old: new}, "since", "until"}``) and marks
the old property ``deprecated``; :func:`versioned` copies each new key's value to its old name.
CHANGELOG.md says which keys were renamed, when, and when the old names go.

With ``$THEORYCHECK_VALIDATE_OUTPUT`` set (the test suite sets it), :func:`emit` validates every
document against its schema before printing it and raises :class:`OutputSchemaError` when it does not
match, so every test that runs a command with ``--json`` also tests its schema.

A new command is one schema file here and one :func:`emit` call in its module.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import IO, Any

#: Environment variable that makes :func:`emit` validate each document against its schema.
ENV_VALIDATE = "THEORYCHECK_VALIDATE_OUTPUT"
#: Folder of the shipped schemas, one ``<command>.json`` per command with JSON output.
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

__all__ = ["ENV_VALIDATE", "OutputSchemaError", "SCHEMA_DIR", "commands", "emit", "schema", "schema_version",
           "validate", "versioned"]


class OutputSchemaError(AssertionError):
    """A command's JSON output does not match its own schema (a bug of theorycheck, not of the input)."""


def commands() -> list[str]:
    """The commands that have a shipped schema."""
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.json"))


@functools.lru_cache(maxsize=None)
def schema(command: str) -> dict[str, Any]:
    """The JSON Schema of ``command``'s output.

    Raises
    ------
    KeyError
        No schema ships for ``command``.
    """
    path = SCHEMA_DIR / f"{command}.json"
    if not path.is_file():
        raise KeyError(f"no output schema for the command {command!r} (expected {path})")
    return json.loads(path.read_text(encoding="utf-8"))


def schema_version(command: str) -> int:
    """The ``schema_version`` of ``command``'s output (the ``const`` of its schema)."""
    return int(schema(command)["properties"]["schema_version"]["const"])


def versioned(command: str, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with ``schema_version`` first and each renamed key's old name beside the new one."""
    out = {"schema_version": schema_version(command), **document}
    for old, new in schema(command).get("x-renamed-keys", {}).get("keys", {}).items():
        if new in out and old not in out:
            out[old] = out[new]
    return out


def validate(command: str, document: Any) -> None:
    """Raise :class:`OutputSchemaError` (the JSON path and the rule) unless ``document`` matches the schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema(command))
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise OutputSchemaError(f"{command} output does not match {schema(command)['$id']}: {where}: {error.message}")


def emit(command: str, document: dict[str, Any], *, file: IO[str] | None = None, **dumps: Any) -> dict[str, Any]:
    """Print ``document`` as one line of JSON, versioned (:func:`versioned`); returns what was printed.

    ``dumps`` are passed to :func:`json.dumps` (``sort_keys``, ``ensure_ascii``, ``allow_nan``).
    """
    out = versioned(command, document)
    if os.environ.get(ENV_VALIDATE, "") not in ("", "0"):
        validate(command, json.loads(json.dumps(out, **dumps)))
    print(json.dumps(out, **dumps), file=sys.stdout if file is None else file)
    return out
