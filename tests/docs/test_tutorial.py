"""The documentation runs as written: the tutorial's files are written, its commands run, their output matched."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(\w+)(?: title=\"([^\"]+)\")?\n(.*?)^```\n", re.S | re.M)
#: ``<!-- needs: torch -->`` on a line of its own: what follows runs only where that optional package is installed
NEEDS = re.compile(r"^<!-- needs: ([\w.]+) -->$", re.M)


def blocks(text):
    """(language, title, body) of every fenced block of Markdown ``text``, in order."""
    return FENCE.findall(text)


def sessions(body):
    """[(command, expected output lines)] of a ``console`` block."""
    out = []
    for line in body.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def matches(line, pattern):
    """``line`` equals ``pattern`` where each ``*`` of the pattern stands for any text (trailing spaces ignored)."""
    return re.fullmatch(".*".join(map(re.escape, pattern.rstrip().split("*"))), line.rstrip()) is not None


def run_doc(path, tmp_path):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONDONTWRITEBYTECODE": "1", "COLUMNS": "80"}
    env.pop("CI", None)
    ran = 0
    parts = NEEDS.split(path.read_text(encoding="utf-8"))  # text, package, text, package, text …
    for i in range(0, len(parts), 2):
        if i and importlib.util.find_spec(parts[i - 1]) is None:
            pytest.skip(f"{path.name}: ran {ran} commands as written; the rest needs {parts[i - 1]}, not installed")
        ran += _run_blocks(parts[i], tmp_path, env)
    return ran


def _run_blocks(text, tmp_path, env):
    ran = 0
    for lang, title, body in blocks(text):
        if title:
            (tmp_path / title).write_text(body, encoding="utf-8")
        elif lang == "console":
            for cmd, expected in sessions(body):
                r = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True,
                                   timeout=600)
                got = r.stdout.rstrip("\n").splitlines()
                same = len(got) == len(expected) and all(matches(g, e) for g, e in zip(got, expected))
                if not same:
                    raise AssertionError(f"$ {cmd}\nexpected:\n" + "\n".join(expected) + "\ngot:\n" + r.stdout
                                         + r.stderr)
                ran += 1
    return ran


def test_the_tutorial_runs_as_written(tmp_path):
    assert run_doc(DOCS / "tutorial.md", tmp_path) >= 8


def test_the_worked_example_runs_as_written(tmp_path):
    pytest.importorskip("autograd")
    assert run_doc(DOCS / "example-network.md", tmp_path) >= 1


def test_a_wrong_output_in_the_docs_is_caught(tmp_path):
    doc = tmp_path / "bad.md"
    doc.write_text("```console\n$ echo hello\ngoodbye\n```\n")
    with pytest.raises(AssertionError, match="expected:\ngoodbye\ngot:\nhello"):
        run_doc(doc, tmp_path)


def test_a_section_that_needs_a_missing_package_is_skipped_after_the_rest_ran(tmp_path):
    doc = tmp_path / "needs.md"
    doc.write_text("```console\n$ echo hello\nhello\n```\n<!-- needs: no_such_package_here -->\n"
                   "```console\n$ echo hello\ngoodbye\n```\n")
    with pytest.raises(pytest.skip.Exception, match="ran 1 commands as written; the rest needs no_such_package_here"):
        run_doc(doc, tmp_path)
    doc.write_text("```console\n$ echo hello\ngoodbye\n```\n<!-- needs: no_such_package_here -->\n")
    with pytest.raises(AssertionError, match="goodbye"):  # what comes before still has to hold
        run_doc(doc, tmp_path)
    doc.write_text("<!-- needs: json -->\n```console\n$ echo hello\ngoodbye\n```\n")
    with pytest.raises(AssertionError, match="goodbye"):  # an installed package's section runs
        run_doc(doc, tmp_path)


def test_the_optimizer_page_runs_as_written(tmp_path):
    assert run_doc(DOCS / "optimizers.md", tmp_path) >= 5
