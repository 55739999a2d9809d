"""theorycheck.testing: the public strategies, measurements and assertion helpers, used as a user would."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings

from theorycheck import testing
from theorycheck.maths.modified import against_field
from theorycheck.maths.optimisers import gd


@settings(max_examples=5, deadline=None)
@given(testing.quadratics(d=2))
def test_gd_follows_the_igr_flow_to_third_order_on_random_quadratics(q):
    loss, theta0 = q
    field, order = against_field(loss, "igr")
    st = testing.assert_order(gd(loss), field, theta0, order, steps=testing.DEFAULT_STEPS[:4])
    assert abs(st.order - 3) < 0.2


def test_a_wrong_order_raises_with_the_fitted_order():
    from theorycheck.maths.losses import ZOO, ZOO_POINTS

    loss = ZOO["quadratic"]
    field, _ = against_field(loss, "igr")
    with pytest.raises(AssertionError, match=r"order study FAIL(.|\n)*fitted_order: 2\.9"):
        testing.assert_order(gd(loss), field, loss.point(ZOO_POINTS["quadratic"]), 4,
                             steps=testing.DEFAULT_STEPS[:4])


@settings(max_examples=10, deadline=None)
@given(testing.per_sample_hessians())
def test_gd_threshold_is_eta_star_at_full_batch_without_replacement(Hs):
    lam = np.linalg.eigvalsh(Hs.mean(axis=0))[-1]
    testing.assert_eta_star(Hs, len(Hs), 2 / lam, sampling="without", rtol=1e-6)
    testing.assert_less_equal_eta_star(0.99 * 2 / lam, Hs, len(Hs), sampling="without")
    with pytest.raises(AssertionError, match="exceeds SGD.s exact critical rate(.|\n)*ratio: 1.(5|49)"):
        testing.assert_less_equal_eta_star(1.5 * 2 / lam, Hs, len(Hs), sampling="without")


@settings(max_examples=10, deadline=None)
@given(testing.nets_and_inputs())
def test_multiplicative_inequality_holds_and_its_mutant_fails(net_X):
    net, X = net_X
    r = testing.assert_multiplicative_inequality(net, X)
    assert r.shape == (len(X),) and np.all(r <= 1 + 1e-12)
    if r.max() > 0.01:
        with pytest.raises(AssertionError, match="multiplicative inequality fails"):
            testing.assert_multiplicative_inequality(net, X, factor=r.max() / 2)


def test_trace_matches_the_full_hessian_and_a_wrong_value_raises():
    from theorycheck.maths.networks import hessian_exact, init_net

    rng = np.random.default_rng(0)
    net = init_net(3, 5, seed=1)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal(6)
    exact = float(np.trace(hessian_exact(net, X, y)))
    assert testing.assert_trace_close(net, X, y, exact, rtol=1e-9) == pytest.approx(exact, rel=1e-9)
    with pytest.raises(AssertionError, match="Tr H differs"):
        testing.assert_trace_close(net, X, y, exact * 1.01)


def test_assert_claim_raises_with_the_evidence():
    from _synthetic import ToyFail, ToyPass

    assert testing.assert_claim(ToyPass()).summary == "value = 1.0"
    testing.assert_claim(ToyFail())  # a finding FAILs as expected
    with pytest.raises(AssertionError, match="expected to PASS, FAILed\nsummary: value = 3.0"):
        testing.assert_claim(ToyPass(value=3.0))
    with pytest.raises(AssertionError, match="finding no longer reproduces"):
        testing.assert_claim(ToyFail(value=1.0))
    assert Fraction(1, 8) in testing.DEFAULT_STEPS
