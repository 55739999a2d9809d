"""theorycheck.maths.programs: lambdified mpmath code kept as data, run bit for bit the same, and nothing else runs."""

import json

import mpmath
import pytest

from theorycheck.maths import losses, modified
from theorycheck.maths.programs import ProgramError, compile_program, program_of

POINT = (mpmath.mpf("0.3"), mpmath.mpf("-0.2"))


@pytest.mark.parametrize("loss", ["quadratic", "rosenbrock", "logistic", "trig", "tiny_net",
                                  "erf(a) + b**2 + pi*a - E*b", "tan(a)*atan(b) + log(1 + a**2) + sqrt(2 + b)"])
@pytest.mark.parametrize("against", ["flow", "igr", "modified:2"])
def test_a_program_returns_bit_for_bit_what_its_lambdified_function_returns(loss, against):
    L = losses.get_loss(loss)
    field = modified.against_field(L, against)[0]
    for fn, args in ((field._mp, (POINT, mpmath.mpf(1) / 16)), (L._gradient_mp, POINT)):
        program = json.loads(json.dumps(program_of(fn)))  # as stored: plain JSON
        with mpmath.workdps(40):
            expected, got = fn(*args), compile_program(program)(*args)
        assert [type(v) for v in got] == [type(v) for v in expected] and list(got) == list(expected)


def test_a_changed_operator_changes_the_numbers():
    # the mutant: one '+' read as '-' — the evaluator computes, it does not replay
    program = program_of(losses.get_loss("trig")._gradient_mp)
    text = json.dumps(program)
    assert '["+", ' in text
    mutant = json.loads(text.replace('["+", ', '["-", ', 1))
    with mpmath.workdps(30):
        assert compile_program(mutant)(*POINT) != compile_program(program)(*POINT)


def _lambdified(source, folder):
    """The function ``f`` of ``source``, defined in a real file (so that its source can be read back) whose globals
    are mpmath's, as lambdify's are."""
    import importlib.util

    path = folder / "generated.py"
    path.write_text("from mpmath import *\n" + source)
    spec = importlib.util.spec_from_file_location("_generated_for_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


@pytest.mark.parametrize("source", [
    "def f(a):\n    return __import__('os').system('true')\n",
    "def f(a):\n    return open('/tmp/x', 'w')\n",
    "def f(a):\n    return a.__class__\n",
    "def f(a):\n    return [x for x in a]\n",
    "def f(a):\n    return (lambda: a)()\n",
    "def f(a):\n    import os\n    return a\n",
    "def f(a):\n    a.b = 1\n    return a\n",
    "def f(a):\n    return cos(a, prec=5)\n",
    "def f(a, *rest):\n    return a\n",
    "def f(a):\n    return unknown_name\n",
])
def test_code_outside_the_grammar_is_not_kept(source, tmp_path):
    fn = _lambdified(source, tmp_path)
    with pytest.raises(ProgramError) as info:
        program_of(fn)
    assert "no source" not in str(info.value)


def test_the_same_reader_keeps_code_inside_the_grammar(tmp_path):
    fn = _lambdified("def f(a, b):\n    x0 = cos(a)\n    return [mpf(1)/mpf(3)*x0 + b**2, -x0]\n", tmp_path)
    with mpmath.workdps(30):
        assert compile_program(program_of(fn))(*POINT) == fn(*POINT)


@pytest.mark.parametrize("tree", [
    {"params": ["a"], "steps": [], "result": ["call", "system", [["str", "true"]]]},
    {"params": ["a"], "steps": [], "result": ["call", "__import__", [["str", "os"]]]},
    {"params": ["a"], "steps": [], "result": ["const", "mpf"]},
    {"params": ["a"], "steps": [], "result": ["attr", ["name", "a"], "__class__"]},
    {"params": ["a"], "steps": [], "result": ["name", "a.b"]},
    {"params": ["a"], "steps": [], "result": ["+", ["name", "a"]]},
    {"params": ["a"], "steps": [], "result": ["int", "1"]},
    {"params": ["a"], "steps": [["__builtins__", ["name", "a"]]], "result": ["name", "a"], "extra": 1},
    {"params": ["a"], "steps": [["x"]], "result": ["name", "x"]},
    {"params": "a", "steps": [], "result": ["name", "a"]},
    ["not", "a", "program"],
])
def test_a_tree_outside_the_grammar_is_refused_before_it_runs(tree):
    with pytest.raises(ProgramError):
        compile_program(tree)


def test_tuple_parameters_conditionals_and_constants_evaluate_as_python_does():
    def f(_Dummy_1, h):
        [a, b] = _Dummy_1
        x0 = mpmath.cos(a) if a > 0 and b < 1 else -b
        return [x0 * h + mpmath.pi, (not a) or b]

    tree = {"params": [["a", "b"], "h"],
            "steps": [["x0", ["if", ["and", [["cmp", ">", ["name", "a"], ["int", 0]],
                                                ["cmp", "<", ["name", "b"], ["int", 1]]]],
                                  ["call", "cos", [["name", "a"]]], ["neg", ["name", "b"]]]]],
            "result": ["list", [["+", ["*", ["name", "x0"], ["name", "h"]], ["const", "pi"]],
                                ["or", [["not", ["name", "a"]], ["name", "b"]]]]]}
    g = compile_program(tree)
    for point in (POINT, (mpmath.mpf(-1), mpmath.mpf(2))):
        assert g(point, mpmath.mpf("0.5")) == f(point, mpmath.mpf("0.5"))
