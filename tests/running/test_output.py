"""Versioned JSON output: every command with ``--json`` ships a schema naming it, its output validates against it,
and a renamed key keeps its old name beside the new one (theorycheck.running.output)."""

import json
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from theorycheck.running import output
from theorycheck.running.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def json_commands() -> list[str]:
    """The subcommands whose parser has a ``--json`` option, read from the CLI's own parser."""
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(name for name, p in sub.choices.items()
                  if any("--json" in a.option_strings for a in p._actions))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("output-data")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    np.save(d / "X.npy", X)
    np.save(d / "y.npy", np.sin(X[:, 0]))
    np.save(d / "theta.npy", rng.standard_normal(3 * 2 + 3))
    (d / "model.py").write_text("import autograd.numpy as anp\n\ndef f(p, x):\n"
                                "    return anp.dot(p[6:], anp.tanh(anp.reshape(p[:6], (3, 2)) @ x))\n")
    return d


#: One or more cheap invocations per command with --json; a command missing here fails the test that needs it.
EXAMPLES = {
    "order": [["order", "--loss", "quadratic", "--json"],
              ["order", "--loss", "quadratic", "--optimizer", "nesterov", "--json"]],
    "stability": [["stability", "--features", "{d}/X.npy", "--batch", "2", "--json"],
                  ["stability", "--features", "{d}/X.npy", "--sweep-batch", "1,3", "--out", "{d}/sweep", "--json"],
                  ["stability", "--model", "{d}/model.py:f", "--params", "{d}/theta.npy", "--features", "{d}/X.npy",
                   "--batch", "2", "--json"]],
    "flatness": [["flatness", "--features", "{d}/X.npy", "--targets", "{d}/y.npy", "--width", "4", "--lr", "0.1",
                  "--steps", "40", "--json"],
                 ["flatness", "--model", "{d}/model.py:f", "--params", "{d}/theta.npy", "--features", "{d}/X.npy",
                  "--targets", "{d}/y.npy", "--first-layer", "0:3x2", "--lr", "0.1", "--json"]],
    "modified": [["modified", "--loss", "rosenbrock", "--order", "1", "--json"],
                 ["modified", "--loss", "trig", "--optimizer", "heavy-ball", "--order", "1", "--route", "log-series",
                  "--json"]],
    "sharpness": [["sharpness", "--model", "{d}/model.py:f", "--params", "{d}/theta.npy", "--features", "{d}/X.npy",
                   "--targets", "{d}/y.npy", "--lr", "0.1", "--steps", "4", "--every", "2", "--out", "{d}/sharp",
                   "--json"]],
    "show": [["show", "--paper", "ma-ying", "--results", str(ROOT / "reports" / "baseline.json"), "--json"]],
}


def _run(argv, data, capsys):
    rc = main([a.format(d=data) for a in argv])
    out = capsys.readouterr().out
    assert rc in (0, 1, 3), f"{argv}: exit {rc}"
    return json.loads(out)


def test_every_command_with_json_output_ships_a_schema_that_names_it():
    commands = json_commands()
    assert {"order", "stability", "flatness", "modified"} <= set(commands)
    missing = [c for c in commands if c not in output.commands()]
    assert not missing, f"commands with --json but no schema in {output.SCHEMA_DIR}: {missing}"
    for c in output.commands():
        s = output.schema(c)
        jsonschema.Draft202012Validator.check_schema(s)
        v = output.schema_version(c)
        assert isinstance(v, int) and v >= 1 and "schema_version" in s["required"]
        assert re.fullmatch(rf"https://theorycheck\.invalid/schema/{c}-v{v}\.json", s["$id"]), s["$id"]


@pytest.mark.parametrize("command", json_commands())
def test_every_json_output_validates_against_its_schema(command, data, capsys):
    assert command in EXAMPLES, f"add a cheap `theorycheck {command} ... --json` to EXAMPLES"
    for argv in EXAMPLES[command]:
        doc = _run(argv, data, capsys)
        output.validate(command, doc)
        assert doc["schema_version"] == output.schema_version(command)
    if command == "sharpness":  # the file is the same document with the trained parameters
        written = json.loads((data / "sharp" / "sharpness.json").read_text())
        output.validate("sharpness", written)
        assert written["schema_version"] == output.schema_version("sharpness") and "final_params" in written
    if command == "stability":  # the sweep's JSON file is the same document
        written = json.loads((data / "sweep" / "stability_sweep.json").read_text())
        output.validate("stability", written)
        assert written["schema_version"] == output.schema_version("stability")


def test_a_renamed_key_keeps_its_old_name_beside_the_new_one_for_one_minor_version(data, capsys):
    doc = _run(EXAMPLES["flatness"][0], data, capsys)
    renamed = output.schema("flatness")["x-renamed-keys"]
    # the renames of 0.1 → 0.2 (from the history of the flatness command): each old name, deprecated, same value
    assert renamed["keys"] == {"trace_hessian": "trace", "sobolev_bound": "bound",
                               "sobolev_bound_gn": "gauss_newton_step", "sobolev_bound_bias": "bias_augmented_bound"}
    assert (renamed["since"], renamed["until"]) == ("0.2.0", "0.4.0")
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    for old, new in renamed["keys"].items():
        net = output.schema("flatness")["$defs"]["net"]["properties"]
        assert doc[old] == doc[new] and net[old]["deprecated"] is True
        assert f"`{old}` → `{new}`" in changelog


def test_a_document_that_breaks_its_schema_is_caught(data, capsys, monkeypatch):
    doc = _run(EXAMPLES["order"][0], data, capsys)
    for broken in ({k: v for k, v in doc.items() if k != "verdict"}, {**doc, "verdict": "MAYBE"},
                   {**doc, "schema_version": 2}, {**doc, "errors": [[0.1]]}):
        with pytest.raises(output.OutputSchemaError, match=r"order output does not match .*order-v1\.json"):
            output.validate("order", broken)
    monkeypatch.setenv(output.ENV_VALIDATE, "1")
    with pytest.raises(output.OutputSchemaError, match="verdict"):
        output.emit("order", {**doc, "verdict": "MAYBE"})


def test_emit_puts_the_version_first_and_adds_the_old_names(capsys, monkeypatch):
    monkeypatch.delenv(output.ENV_VALIDATE, raising=False)  # a partial document, on purpose
    printed = output.emit("flatness", {"trace": 1.5, "bound": 2.0}, file=None)
    assert list(printed)[:3] == ["schema_version", "trace", "bound"]
    assert printed["trace_hessian"] == 1.5 and printed["sobolev_bound"] == 2.0 and "sobolev_bound_gn" not in printed
    assert json.loads(capsys.readouterr().out) == printed
    with pytest.raises(KeyError, match="no output schema"):
        output.schema("no-such-command")
