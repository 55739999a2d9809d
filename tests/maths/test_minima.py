"""Exact non-interpolating minima: zero gradient, positive definite Hessian, the residual part negative."""

import numpy as np
import pytest

from theorycheck.core.errors import InputError
from theorycheck.maths import networks
from theorycheck.maths.minima import non_interpolating_minimum


@pytest.mark.parametrize("seed", range(4))
def test_the_constructed_targets_make_a_strict_non_interpolating_minimum(seed):
    rng = np.random.default_rng(seed)
    net = networks.init_net(2, 2, seed=seed, bias=bool(seed % 2))
    X = rng.standard_normal((net.n_params + 3, 2))
    m = non_interpolating_minimum(net, X)
    assert m is not None and 0 < m.t < m.t_max
    assert np.linalg.norm(net(X) - m.y) == pytest.approx(m.t)
    assert np.linalg.norm(net.architecture.gradient(net.theta, X, m.y)) < 1e-12 * (1 + np.linalg.norm(m.y))
    H = networks.hessian_exact(net, X, m.y)
    assert np.linalg.eigvalsh(H)[0] == pytest.approx(m.min_eigenvalue, rel=1e-6, abs=1e-14)
    assert m.min_eigenvalue > 0
    assert networks.trace_hessian(net, X, m.y).residual < 0


def test_no_minimum_without_more_data_than_parameters():
    net = networks.init_net(2, 3, seed=0)
    X = np.random.default_rng(0).standard_normal((4, 2))  # n < p: every residual can be fitted
    assert non_interpolating_minimum(net, X) is None
    with pytest.raises(InputError, match="fraction"):
        non_interpolating_minimum(net, X, fraction=1.0)
