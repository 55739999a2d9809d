"""The optimiser protocol: a step written once runs on every kind of number; its errors name file and line."""

import importlib.util
import textwrap
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from theorycheck import optimizers
from theorycheck.core.errors import DivergenceError, InputError
from theorycheck.maths import losses, protocol

LOSS = losses.ZOO["logistic"]
THETA0 = (Fraction(7, 10), Fraction(-2, 5))


def _module(tmp_path, name, source):
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_function_a_module_and_an_object_are_the_same_optimiser(tmp_path):
    mod = _module(tmp_path, "hb_user", """
        from fractions import Fraction

        def init_state(theta):
            return [0] * len(theta)

        def step(theta, state, grad, h, beta=0.5):
            g = grad(theta)
            v = [beta * vi + gi for vi, gi in zip(state, g)]
            return [t - h * vi for t, vi in zip(theta, v)], v

        class HeavyBall:
            def __init__(self, beta):
                self.beta = beta
            def init(self, theta):
                return [0] * len(theta)
            def step(self, theta, state, grad, h):
                g = grad(theta)
                v = [self.beta * vi + gi for vi, gi in zip(state, g)]
                return [t - h * vi for t, vi in zip(theta, v)], v
        """)
    forms = [protocol.as_optimizer(mod.step), protocol.as_optimizer(mod),
             protocol.as_optimizer(mod.HeavyBall(Fraction(1, 2)))]
    assert forms[0].hyperparameters == {"beta": Fraction(1, 2)}  # 0.5 held exactly
    with mpmath.workdps(40):
        runs = [protocol.iterates(f, LOSS, THETA0, Fraction(1, 16), 5).thetas[-1] for f in forms]
        # the two-step form θ⁺ = θ − h∇L(θ) + β(θ − θ⁻), written out by hand
        th = [mpmath.mpf(x.numerator) / x.denominator for x in THETA0]
        prev = list(th)  # v = 0: θ₋₁ = θ₀
        for _ in range(5):
            g = LOSS.gradient_mpmath(th)
            th, prev = [t - gi / 16 + (t - p) / 2 for t, gi, p in zip(th, g, prev)], th
        for r in runs:
            assert max(abs(a - b) for a, b in zip(r, th)) < mpmath.mpf(10) ** -35


def test_hyperparameters_are_exact_replaceable_and_validated():
    rule = protocol.as_optimizer(optimizers.adam, "adam", builtin=True)
    assert rule.hyperparameters == {"beta1": Fraction(1, 4), "beta2": Fraction(1, 2), "eps": Fraction(1, 1000)}
    new = rule.with_hyperparameters(beta1="0.9", eps=Fraction(1, 10**8))
    assert new.hyperparameters["beta1"] == Fraction(9, 10) and new.label.startswith("adam(beta1=9/10")
    with pytest.raises(InputError, match="beta1 must lie in"):
        rule.with_hyperparameters(beta1=1)
    with pytest.raises(InputError, match="no hyper-parameter rho"):
        rule.with_hyperparameters(rho=Fraction(1, 2))
    b = sp.Symbol("beta")
    assert protocol.as_optimizer(optimizers.heavy_ball).with_hyperparameters(beta=b).hyperparameters["beta"] == b


@pytest.mark.parametrize("body,needle", [
    ("    return [t - h * g for t, g in zip(theta, grad(theta))], state\n", None),
    ("    raise RuntimeError('boom')\n", "RuntimeError: boom (bad_rule.py, line 5)"),
    ("    return theta[:1], state\n", "1 coordinates of theta for 2"),
    ("    return theta\n", "(theta_next, state_next)"),
    ("    return [t - h * math.sqrt(g * g) for t, g in zip(theta, grad(theta))], state\n", "line 5"),
    ("    return [t - h * (1 if g > 0 else -1) for t, g in zip(theta, grad(theta))], state\n", "comparison"),
], ids=["fine", "raises", "wrong-length", "not-a-pair", "math-sqrt", "compares"])
def test_errors_in_a_step_name_the_file_and_the_line(tmp_path, body, needle):
    from theorycheck.maths.optimizer_field import derive

    mod = _module(tmp_path, "bad_rule", "import math\n\n\ndef step(theta, state, grad, h):\n" + body)
    rule = protocol.as_optimizer(mod.step, "bad_rule.py:step")
    if needle is None:
        assert derive(rule, LOSS, 1).is_gradient_descent
        return
    with pytest.raises(InputError) as err:
        derive(rule, LOSS, 1)
        protocol.iterates(rule, LOSS, THETA0, Fraction(1, 8), 1)
    assert needle in str(err.value) and "bad_rule.py" in str(err.value) and "\n" not in str(err.value)


def test_signatures_are_checked(tmp_path):
    mod = _module(tmp_path, "sig_rule", """
        def step(theta, state, grad):
            return theta, state

        def needs_default(theta, state, grad, h, beta):
            return theta, state
        """)
    with pytest.raises(InputError, match="takes 3 positional"):
        protocol.as_optimizer(mod.step)
    with pytest.raises(InputError, match="has no default"):
        protocol.as_optimizer(mod.needs_default)
    with pytest.raises(InputError, match="not a step function"):
        protocol.as_optimizer(42)


def test_a_run_that_leaves_every_bounded_set_is_a_divergence():
    rule = protocol.as_optimizer(optimizers.gd)
    quad = losses.ZOO["quadratic"]
    with pytest.raises(DivergenceError, match="diverged at step"):
        protocol.iterates(rule, quad, THETA0, 3, 400)
