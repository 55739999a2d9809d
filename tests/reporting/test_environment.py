from theorycheck.reporting.environment import describe


def test_environment_names_the_numerical_stack():
    env = describe()
    for pkg in ("numpy", "mpmath", "heyoka", "sympy"):
        assert env["packages"][pkg], pkg
    assert env["python"].startswith("3.")
