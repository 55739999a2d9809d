"""The documentation runs as written: the tutorial's files are written, its commands run, their output matched."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
FENCE = re.compile(r"^```(\w+)(?: title=\"([^\"]+)\")?\n(.*?)^```\n", re.S | re.M)


def blocks(path):
    """(language, title, body) of every fenced block of a Markdown file, in order."""
    return FENCE.findall(path.read_text(encoding="utf-8"))


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
    for lang, title, body in blocks(path):
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


def test_the_optimizer_page_runs_as_written(tmp_path):
    assert run_doc(DOCS / "optimizers.md", tmp_path) >= 5
