"""`--optimizer FILE.py:NAME` and `--loss FILE.py:NAME`: a user's rule and loss through the same mechanism as the
built-ins, and one table of bad input (one line naming the file, exit 2, nothing written)."""

import json
import textwrap

import pytest

from theorycheck.running import user_code
from theorycheck.running.cli import main

FILES = {
    "nag.py": """
        from fractions import Fraction

        def init_state(theta):
            return [0] * len(theta)

        def step(theta, state, grad, h, beta=Fraction(1, 2)):
            ahead = [t - h * beta * v for t, v in zip(theta, state)]
            v = [beta * vi + gi for vi, gi in zip(state, grad(ahead))]
            return [t - h * vi for t, vi in zip(theta, v)], v

        class Object:
            def init(self, theta):
                return init_state(theta)

            def step(self, theta, state, grad, h):
                return step(theta, state, grad, h)

        rule = Object()
        """,
    "my_loss.py": """
        from theorycheck.optimizers import exp, log, sin

        def loss(a, b):
            return log(1 + exp(-a * b)) + (a**2 + b**2) / 20 + sin(a) / 5

        def raises(a, b):
            raise ValueError("no loss today")

        def vector(a, b):
            return [a, b]

        def branches(a, b):
            return a if a > 0 else -a

        def infinite(a, b):
            return a / (b - b)

        def domain(a, b):
            return log(a) + b
        """,
    "bad_rules.py": """
        import math

        def raises(theta, state, grad, h):
            raise RuntimeError("boom")

        def short(theta, state, grad, h):
            return theta[:1], state

        def floats(theta, state, grad, h):
            return [t - h * math.tanh(g) for t, g in zip(theta, grad(theta))], state

        def init_state(theta):
            return [0] * len(theta)

        def adagrad(theta, state, grad, h):
            g = grad(theta)
            v = [vi + gi * gi for vi, gi in zip(state, g)]
            return [t - h * gi / (1 + vi) for t, gi, vi in zip(theta, g, v)], v

        """,
    "signsgd.py": """
        def step(theta, state, grad, h):
            return [t - h * (1 if g > 0 else -1) for t, g in zip(theta, grad(theta))], state
        """,
}
AT = "a=0.7,b=-0.4"
LOSS = "log(1+exp(-a*b))+(a**2+b**2)/20+sin(a)/5"


@pytest.fixture
def ws(tmp_path, monkeypatch):
    for name, text in FILES.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _json(argv, capsys):
    rc = main(argv + ["--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


def test_a_users_nesterov_and_loss_file_measure_like_the_builtin(ws, capsys):
    steps = ["--steps", "1/512,1/1024,1/2048,1/4096"]
    base = ["order", "--at", AT, "--against", "modified:1", *steps, "--digits", "30"]
    rc, mine = _json(base + ["--loss", "my_loss.py:loss", "--optimizer", "nag.py:step"], capsys)
    assert rc == 0 and mine["verdict"] == "PASS" and abs(mine["order"] - 3) < 0.2 and mine["slow_manifold"]
    rc, builtin = _json(base + ["--loss", LOSS, "--optimizer", "nesterov"], capsys)
    assert rc == 0 and [e for _, e in builtin["errors"]] == pytest.approx([e for _, e in mine["errors"]], rel=1e-12)
    assert mine["hyperparameters"] == {"beta": "1/2"} and mine["route"] == "symbolic"
    rc, obj = _json(base + ["--loss", LOSS, "--optimizer", "nag.py:rule"], capsys)
    assert rc == 0 and obj["errors"] == builtin["errors"]


def test_the_modified_command_prints_a_users_rule_in_latex(ws, capsys):
    assert main(["modified", "--optimizer", "nag.py:step", "--loss", "quadratic", "--order", "1", "--latex"]) == 0
    out = capsys.readouterr().out
    assert "F1:" in out and "a gradient field" in out and "\\left" in out or "a^{2}" in out
    rc, doc = _json(["modified", "--optimizer", "nag.py:step", "--loss", "quadratic", "--order", "1"], capsys)
    assert rc == 0 and doc["route"] == "symbolic" and doc["modified_loss_order"] == 1 and doc["slow_manifold"]


def test_entry_points_name_installed_optimisers(ws, monkeypatch):
    import importlib.metadata

    class EP:
        name, value = "mine", "nag:step"

        def load(self):
            import sys
            sys.path.insert(0, str(ws))
            from nag import step
            return step

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: [EP()] if group ==
                        user_code.ENTRY_POINT_GROUP else [])
    assert user_code.resolve_optimizer("mine").name == "mine"


BAD = [
    ("optimizer file missing", ["--optimizer", "nope.py:step"], "does not exist"),
    ("optimizer name missing", ["--optimizer", "nag.py:stepp"], "has no 'stepp'"),
    ("unknown optimizer", ["--optimizer", "nadam"], "--optimizer"),
    ("step raises", ["--optimizer", "bad_rules.py:raises"], "RuntimeError: boom (bad_rules.py, line 5)"),
    ("step returns the wrong length", ["--optimizer", "bad_rules.py:short"], "1 coordinates of theta for 2"),
    ("step uses math", ["--optimizer", "bad_rules.py:floats"], "bad_rules.py, line 11"),
    ("state never settles", ["--optimizer", "bad_rules.py:adagrad"], "does not settle"),
    ("not smooth at the point", ["--optimizer", "signsgd.py:step", "--at", "a=0,b=0"], "kink"),  # ∂_bL(0, 0) = 0
    ("loss file missing", ["--loss", "nope.py:loss"], "does not exist"),
    ("loss name missing", ["--loss", "my_loss.py:los"], "has no 'los'"),
    ("loss raises", ["--loss", "my_loss.py:raises"], "ValueError: no loss today (my_loss.py, line 8)"),
    ("loss not a scalar", ["--loss", "my_loss.py:vector"], "not a scalar"),
    ("loss branches on its variables", ["--loss", "my_loss.py:branches"], "my_loss.py, line 14"),
    ("loss not finite", ["--loss", "my_loss.py:infinite"], "non-finite"),
    ("loss outside its domain at the point", ["--loss", "my_loss.py:domain", "--at", "a=-1,b=1"],
     "not a finite real number"),
    ("hyper-parameter refused", ["--optimizer", "nesterov", "--beta", "1"], "beta must lie in [0, 1)"),
    ("bernoulli for a rule that is not GD", ["--optimizer", "nesterov", "--against", "bernoulli:2"], "Bernoulli"),
]


@pytest.mark.parametrize("argv,needle", [pytest.param(a, n, id=i) for i, a, n in BAD])
def test_bad_user_code_is_one_line(ws, capsys, argv, needle):
    base = {"--loss": LOSS, "--at": AT, "--optimizer": "gd"}
    for flag in list(base):
        if flag in argv:
            base.pop(flag)
    cmd = ["order", *[x for kv in base.items() for x in kv], *argv, "--against", "flow"]
    if "--against" in argv:
        cmd = cmd[:-2]
    before = sorted(p.name for p in ws.iterdir())
    rc = main(cmd)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert len(err.splitlines()) == 1 and needle in err and "Traceback" not in err, err
    assert sorted(p.name for p in ws.iterdir() if p.name != "__pycache__") == [b for b in before if b != "__pycache__"]
