"""The shipped optimiser files: each is a file of the protocol, runs on floats, mpmath numbers and sympy symbols,
and refuses hyper-parameters out of range."""

import importlib
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

import theorycheck.optimizers as shipped
from theorycheck.core.errors import InputError
from theorycheck.maths import losses, protocol

LOSS = losses.ZOO["rosenbrock"]


@pytest.mark.parametrize("name", sorted(shipped.BUILTIN))
def test_every_shipped_optimiser_runs_on_every_kind_of_number(name):
    rule = protocol.as_optimizer(importlib.import_module(f"theorycheck.optimizers.{shipped.BUILTIN[name]}"), name,
                                 builtin=True)
    theta = [Fraction(3, 10), Fraction(1, 5)]
    with mpmath.workdps(30):
        th, st = rule.apply([mpmath.mpf(3) / 10, mpmath.mpf(1) / 5], rule.initial_state(theta),
                            lambda p: LOSS.gradient_mpmath(list(p)), mpmath.mpf(1) / 100)
        assert all(isinstance(x, mpmath.mpf) for x in th)
    g = sp.lambdify(LOSS.variables, list(LOSS.gradient))
    fth, _ = rule.apply([0.3, 0.2], rule.initial_state(theta, "float"), lambda p: g(*p), 0.01, kind="float")
    assert fth == pytest.approx([float(x) for x in th], rel=1e-12)
    a, b = LOSS.variables
    sth, _ = rule.apply([a, b], rule.initial_state([a, b], "sympy"),
                        lambda p: [c.xreplace(dict(zip(LOSS.variables, p))) for c in LOSS.gradient], sp.Symbol("h"),
                        kind="sympy")
    assert all(isinstance(x, sp.Basic) for x in sth)


@pytest.mark.parametrize("name,hyper,needle", [
    ("heavy-ball", {"beta": 1}, "beta must lie in [0, 1)"),
    ("nesterov", {"beta": -Fraction(1, 10)}, "beta must lie"),
    ("momentum", {"dampening": 1}, "dampening must lie"),
    ("rmsprop", {"eps": 0}, "eps must be positive"),
    ("adam", {"beta2": 1}, "beta2 must lie"),
])
def test_hyperparameters_out_of_range_are_refused(name, hyper, needle):
    rule = protocol.as_optimizer(importlib.import_module(f"theorycheck.optimizers.{shipped.BUILTIN[name]}"), name)
    with pytest.raises(InputError, match=needle.replace("[", r"\[").replace(")", r"\)")):
        rule.with_hyperparameters(**hyper)


def test_the_operations_are_reexported_for_optimiser_files():
    from theorycheck.maths import scalar

    assert shipped.sqrt is scalar.sqrt and shipped.clip is scalar.clip and "sqrt" in dir(shipped)
    with pytest.raises(AttributeError):
        shipped.no_such_name  # noqa: B018
