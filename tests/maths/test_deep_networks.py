"""The deep-net model: depth 2 is the two-layer net, autograd derivatives agree with its closed forms."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.maths import networks
from theorycheck.maths.deep_networks import DeepNet
from theorycheck.maths.models import model


def test_depth_two_is_the_two_layer_net_with_the_same_parameter_layout():
    two = networks.init_net(3, 5, seed=1)
    deep = DeepNet((3, 5))
    X = np.random.default_rng(0).standard_normal((7, 3))
    assert deep.n_params == two.n_params and deep.first_layer == (0, (5, 3))
    np.testing.assert_allclose(deep(two.theta, X), two(X), rtol=1e-14)
    point = model(deep, "autograd").at(two.theta, X)
    np.testing.assert_allclose(point.per_sample_gradients(), networks.per_sample_gradients(two, X),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(point.input_gradients(), networks.input_gradients(two, X), rtol=1e-12)


def test_a_single_input_and_a_batch_give_the_same_outputs():
    net = DeepNet((4, 6, 5, 3))
    th = net.init(3)
    X = np.random.default_rng(1).standard_normal((5, 4))
    assert th.size == net.n_params == 4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3 + 3 and net.depth == 4
    np.testing.assert_allclose(net(th, X), [net(th, x) for x in X], rtol=1e-14)
    v, g = net.loss_and_gradient(X, np.zeros(5))(th)
    assert v == pytest.approx(0.5 * np.mean(net(th, X) ** 2)) and g.shape == th.shape


def test_a_net_needs_a_hidden_layer():
    with pytest.raises(InputError, match="hidden width"):
        DeepNet((3,))
