"""Tests for `theorycheck order`: JSON and table output, verdict exit codes, and one table of bad inputs."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from theorycheck.core.errors import InputError
from theorycheck.running.cli import main
from theorycheck.running.commands import order as order_cmd

EXPR = "a**2*b + cos(a) - b/3"
GOOD = ["order", "--loss", EXPR, "--at", "a=0.7,b=-0.4"]


def _run_json(argv, capsys):
    rc = main(argv + ["--json"])
    captured = capsys.readouterr()
    return rc, json.loads(captured.out)


# --- good input --------------------------------------------------------------------------------

def test_json_igr_local_order(capsys):
    rc, out = _run_json(GOOD + ["--against", "igr", "--steps", "1/16,1/32,1/64,1/128,1/256"], capsys)
    assert rc == 0 and out["verdict"] == "PASS"
    assert out["expected_order"] == 3
    assert abs(out["order"] - 3) < 0.1
    lo, hi = out["order_ci"]
    assert lo <= out["order"] <= hi
    assert [h for h, _ in out["errors"]] == [1 / 16, 1 / 32, 1 / 64, 1 / 128, 1 / 256]
    assert all(e > 0 for _, e in out["errors"])
    assert out["backend"] == "heyoka" and out["digits"] >= 16 and out["against"] == "igr"


def test_wrong_expectation_exit_code_flow_vs_modified(capsys):
    # modified:2 against GD has local order 4; the fit must say so
    rc, out = _run_json(GOOD + ["--against", "modified:2", "--steps", "1/16,1/32,1/64,1/128,1/256"], capsys)
    assert rc == 0 and out["expected_order"] == 4 and abs(out["order"] - 4) < 0.15


def test_zoo_loss_uses_its_point_and_prints_a_table(capsys):
    rc = main(["order", "--loss", "quadratic", "--against", "flow", "--steps", "1/16,1/32,1/64,1/128"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "order" in out and "PASS" in out and "a=7/10" in out
    assert len(out.strip().splitlines()) == 2 + 4 + 1


def test_global_order(capsys):
    rc, out = _run_json(GOOD + ["--against", "flow", "--kind", "global", "--horizon", "1/2",
                                "--steps", "1/16,1/32,1/64,1/128"], capsys)
    assert rc == 0 and out["expected_order"] == 1 and out["kind"] == "global"


def test_bernoulli_against(capsys):
    rc, out = _run_json(GOOD + ["--against", "bernoulli:1", "--steps", "1/16,1/32,1/64,1/128,1/256"], capsys)
    assert rc == 0 and out["expected_order"] == 3


# --- parsers -------------------------------------------------------------------------------------

def test_parse_point_and_steps_are_exact():
    assert order_cmd.parse_point("a=0.7, b=-2/5") == {"a": Fraction(7, 10), "b": Fraction(-2, 5)}
    assert order_cmd.parse_steps("1/16,0.125,1/32,1/16") == [Fraction(1, 8), Fraction(1, 16), Fraction(1, 32)]


@pytest.mark.parametrize("text", ["a=inf", "a=-inf", "a=nan"])
def test_parse_point_non_finite(text):
    with pytest.raises(InputError, match="finite"):
        order_cmd.parse_point(text)


# --- bad input: one line on stderr, exit 2, no traceback ---------------------------------------

BAD = [
    ("unparsable expression", ["order", "--loss", "a +", "--at", "a=1"], "cannot parse"),
    ("unknown function", ["order", "--loss", "foo(a)", "--at", "a=1"], "cannot parse"),
    ("unknown variable", GOOD[:3] + ["--at", "a=0.7,b=-0.4,c=1"], "unknown variable"),
    ("missing variable", GOOD[:3] + ["--at", "a=0.7"], "no value"),
    ("no point for an expression", GOOD[:3], "--at"),
    ("malformed point", GOOD[:3] + ["--at", "a:0.7,b=1"], "NAME=VALUE"),
    ("repeated variable", GOOD[:3] + ["--at", "a=1,a=2,b=1"], "twice"),
    ("non-finite value", GOOD[:3] + ["--at", "a=nan,b=1"], "finite"),
    ("infinite value", GOOD[:3] + ["--at", "a=1,b=inf"], "finite"),
    ("non-numeric value", GOOD[:3] + ["--at", "a=x,b=1"], "not a number"),
    ("ladder too short", GOOD + ["--steps", "1/8,1/16"], "at least 3"),
    ("ladder with repeats", GOOD + ["--steps", "1/8,1/8,0.125"], "at least 3"),
    ("zero step", GOOD + ["--steps", "1/8,0,1/32"], "positive"),
    ("negative step", GOOD + ["--steps=-1/8,1/16,1/32"], "positive"),
    ("negative step, argparse form", GOOD + ["--steps", "-1/8,1/16,1/32"], "--steps"),
    ("unparsable step", GOOD + ["--steps", "1/8,x,1/32"], "not a number"),
    ("non-finite step", GOOD + ["--steps", "1/8,inf,1/32"], "finite"),
    ("digits not an integer", GOOD + ["--digits", "many"], "--digits"),
    ("digits below minimum", GOOD + ["--digits", "2"], "--digits"),
    ("digits too low for the errors", GOOD + ["--against", "modified:4", "--digits", "10",
                                              "--steps", "1/64,1/128,1/256,1/512"], "digit"),
    ("unknown --against", GOOD + ["--against", "euler"], "unknown field"),
    ("bad modified order", GOOD + ["--against", "modified:x"], "K must be"),
    ("unknown backend", GOOD + ["--backend", "rk4"], "--backend"),
    ("unknown kind", GOOD + ["--kind", "middle"], "--kind"),
    ("gradient undefined at the point", ["order", "--loss", "log(a)", "--at", "a=0", "--against", "flow"],
     "not a finite real number"),
    ("gradient not real at the point", ["order", "--loss", "sqrt(a)", "--at", "a=-1", "--against", "flow"],
     "not a finite real number"),
    ("non-numeric expected order", GOOD + ["--expected-order", "three"], "--expected-order"),
    ("horizon not a multiple", GOOD + ["--kind", "global", "--horizon", "1/3", "--steps", "1/8,1/16,1/32"],
     "horizon"),
    ("non-positive horizon", GOOD + ["--kind", "global", "--horizon", "0"], "horizon"),
]


@pytest.mark.parametrize("argv,needle", [pytest.param(a, n, id=i) for i, a, n in BAD])
def test_bad_input_is_one_line(argv, needle, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse's own usage errors (one line via theorycheck.running.cli._Parser)
        rc = exc.code
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("theorycheck: error:") and needle.lower() in err.lower()
    assert "Traceback" not in captured.err and captured.out == ""


def test_scipy_backend_float64(capsys):
    # float64 DOP853: order-2 errors at h ≥ 1/64 are far above its ~1e-12 floor
    rc, out = _run_json(["order", "--loss", "trig", "--against", "flow", "--backend", "scipy",
                         "--steps", "1/8,1/16,1/32,1/64"], capsys)
    assert rc == 0 and out["backend"] == "scipy" and out["digits"] == 12 and abs(out["order"] - 2) < 0.1


def test_wrong_expected_order_fails_with_exit_1(capsys):
    # the mutant "wrong expected order" at the CLI: GD against gradient flow is order 2, not 3
    rc, out = _run_json(GOOD + ["--against", "flow", "--expected-order", "3", "--steps", "1/16,1/32,1/64,1/128"], capsys)
    assert rc == 1 and out["verdict"] == "FAIL" and out["expected_order"] == 3 and abs(out["order"] - 2) < 0.1


def test_inconclusive_exit_code(capsys):
    # three large steps: the slopes have not settled, the fit cannot decide
    rc = main(["order", "--loss", "rosenbrock", "--against", "igr", "--steps", "1/8,1/16,1/32"])
    out = capsys.readouterr().out
    assert rc == 3 and "INCONCLUSIVE" in out


@pytest.mark.parametrize("argv,order", [
    (["--optimizer", "adam", "--beta1", "1/2", "--beta2", "1/4", "--against", "modified:1"], 3),
    (["--optimizer", "rmsprop", "--against", "flow"], 2),
])
def test_adaptive_optimizers_on_their_slow_manifold(argv, order, capsys):
    rc, out = _run_json(["order", "--loss", "quadratic", *argv], capsys)
    assert rc == 0 and out["verdict"] == "PASS" and out["expected_order"] == order
    assert abs(out["order"] - order) < 0.2 and "slow manifold" in out["optimizer"]


def test_a_wrong_sign_is_seen_by_the_order_command(capsys):
    # the derived field with ρ > β anti-penalises; against the plain flow the order is 2, not 3
    rc, out = _run_json(["order", "--loss", "quadratic", "--optimizer", "adam", "--against", "flow",
                         "--expected-order", "3"], capsys)
    assert rc == 1 and out["verdict"] == "FAIL"


@pytest.mark.parametrize("argv,needle", [
    (["--optimizer", "nadam"], "--optimizer"),
    (["--optimizer", "adam", "--beta1", "1"], "--beta1"),
    (["--optimizer", "adam", "--beta2", "-0.1"], "--beta2"),
    (["--optimizer", "adam", "--eps", "0"], "--eps"),
    (["--optimizer", "rmsprop", "--against", "bernoulli:2"], "--against"),
    (["--optimizer", "heavy-ball", "--beta", "1"], "--beta"),
    (["--optimizer", "gd", "--beta", "1/2"], "no hyper-parameter beta"),
    (["--optimizer", "nesterov", "--param", "dampening=1/2"], "no hyper-parameter dampening"),
    (["--optimizer", "momentum", "--param", "dampening"], "NAME=VALUE"),
    (["--optimizer", "heavy-ball", "--against", "modified:5"], "h^4"),
])
def test_bad_optimizer_input_is_one_line(argv, needle, capsys):
    rc = main(["order", "--loss", "quadratic", *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and needle in err and len(err.splitlines()) == 1


def test_a_step_too_large_for_the_shooting_names_the_optimiser_and_what_to_try(capsys):
    rc = main(["order", "--loss", "rosenbrock", "--optimizer", "adam", "--steps", "1/16,1/32,1/64",
               "--against", "modified:1"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "slow manifold of adam(beta1=1/4" in err and "smaller steps" in err and "more digits" in err


@pytest.mark.parametrize("opt,against,order", [("nesterov", "modified:1", 3), ("momentum", "flow", 2),
                                               ("heavy-ball", "modified:2", 4)])
def test_every_shipped_optimiser_is_measured_on_its_slow_manifold(opt, against, order, capsys):
    rc, out = _run_json(["order", "--loss", "logistic", "--optimizer", opt, "--against", against], capsys)
    assert rc == 0 and out["verdict"] == "PASS" and abs(out["order"] - order) < 0.2
    assert out["slow_manifold"] is True and out["route"] == "symbolic" and "beta" in out["hyperparameters"]


def test_gd_keeps_its_fields_and_a_rule_that_is_gd_on_its_manifold_is_recognised(capsys):
    rc, out = _run_json(GOOD + ["--against", "bernoulli:2", "--steps", "1/16,1/32,1/64,1/128"], capsys)
    assert rc == 0 and out["against"] == "bernoulli:2" and out["slow_manifold"] is False
    # heavy ball with β = 0 is GD on its slow manifold: GD's Bernoulli series applies
    rc, out = _run_json(GOOD + ["--optimizer", "heavy-ball", "--beta", "0", "--against", "bernoulli:1",
                                "--steps", "1/16,1/32,1/64,1/128"], capsys)
    assert rc == 0 and out["verdict"] == "PASS" and out["slow_manifold"] is True
