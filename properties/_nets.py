"""Strategies for two-layer networks and data sets (re-exported by ``theorycheck.properties.strategies``).

Random objects are built from a Hypothesis-drawn integer seed plus a few drawn
scales, so shrinking moves towards small seeds, narrow nets and unit scales.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from theorycheck.core.errors import InputError
from theorycheck.maths.networks import ACTIVATIONS, SMOOTH_ACTIVATIONS, TwoLayerNet, init_net
from theorycheck.properties._draws import value


@st.composite
def two_layer_nets(draw: st.DrawFn, dim: int | st.SearchStrategy[int] = st.integers(1, 5),
                   width: int | st.SearchStrategy[int] = st.integers(1, 8),
                   activation: str | st.SearchStrategy[str] = st.sampled_from(SMOOTH_ACTIVATIONS),
                   bias: bool | st.SearchStrategy[bool] = st.booleans(),
                   scale: float | st.SearchStrategy[float] = st.floats(0.2, 3.0)) -> TwoLayerNet:
    """A :class:`~theorycheck.maths.networks.TwoLayerNet` drawn by :func:`~theorycheck.maths.networks.init_net`:
    W ~ N(0, s²/d), b ~ N(0, s²/4), a ~ N(0, 1/m), from a drawn seed."""
    d, m = value(draw, dim), value(draw, width)
    act, has_bias, s = value(draw, activation), value(draw, bias), value(draw, scale)
    if act not in ACTIVATIONS:
        raise InputError(f"activation={act!r}; expected one of {', '.join(ACTIVATIONS)}.")
    return init_net(d, m, seed=draw(st.integers(0, 2**32 - 1)), activation=act, bias=has_bias, scale=s)


@st.composite
def input_matrices(draw: st.DrawFn, dim: int, n: int | st.SearchStrategy[int] = st.integers(1, 8),
                   norms: tuple[float, float] = (0.05, 20.0)) -> np.ndarray:
    """Inputs X, shape (n, dim): Gaussian directions, row norms drawn log-uniformly in ``norms``.

    The range straddles 1 on purpose: a bound that is wrong only for ‖x‖ < 1
    (a dropped 1/‖x‖) or only for ‖x‖ > 1 must meet both kinds of input.
    """
    nn_ = value(draw, n)
    lo, hi = norms
    if not 0 < lo <= hi:
        raise InputError(f"norms={norms!r}; expected 0 < low ≤ high.")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    D = rng.standard_normal((nn_, dim))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    r = np.exp(draw(st.lists(st.floats(np.log(lo), np.log(hi)), min_size=nn_, max_size=nn_)))
    return D * np.asarray(r)[:, None]


@st.composite
def nets_and_inputs(draw: st.DrawFn, nets: st.SearchStrategy[TwoLayerNet] | None = None,
                    n: int | st.SearchStrategy[int] = st.integers(1, 8),
                    norms: tuple[float, float] = (0.05, 20.0)) -> tuple[TwoLayerNet, np.ndarray]:
    """A net and inputs of matching dimension."""
    net = draw(nets if nets is not None else two_layer_nets())
    return net, draw(input_matrices(net.dim, n, norms))


@st.composite
def interpolating_datasets(draw: st.DrawFn, nets: st.SearchStrategy[TwoLayerNet] | None = None,
                           n: int | st.SearchStrategy[int] = st.integers(1, 8),
                           norms: tuple[float, float] = (0.05, 20.0)) -> tuple[TwoLayerNet, np.ndarray, np.ndarray]:
    """(net, X, y) with y = net(X): the net's own parameters interpolate exactly (a zero-loss minimum)."""
    net, X = draw(nets_and_inputs(nets, n, norms))
    return net, X, net(X)


@st.composite
def non_interpolating_minima(draw: st.DrawFn, nets: st.SearchStrategy[TwoLayerNet] | None = None,
                             extra: int | st.SearchStrategy[int] = st.integers(1, 4),
                             norms: tuple[float, float] = (0.3, 3.0)) -> tuple[TwoLayerNet, np.ndarray, np.ndarray]:
    """(net, X, y) at which the net's parameters are a strict local minimum that does not interpolate.

    n = p + ``extra`` inputs (more data than parameters, so that residuals orthogonal to every per-sample
    gradient exist), targets from :func:`theorycheck.maths.minima.non_interpolating_minimum` (the residual
    part of Tr H as negative as its direction allows); draws where no such minimum exists are rejected.
    """
    from hypothesis import assume

    from theorycheck.maths.minima import non_interpolating_minimum

    net = draw(nets if nets is not None else two_layer_nets(dim=st.integers(1, 3), width=st.integers(1, 3),
                                                            activation="tanh"))
    X = draw(input_matrices(net.dim, net.n_params + value(draw, extra), norms))
    found = non_interpolating_minimum(net, X)
    assume(found is not None)
    assert found is not None
    return net, X, found.y


@st.composite
def learning_rates(draw: st.DrawFn, relative_to: float, low: float = 0.1, high: float = 1.9) -> float:
    """η = c · ``relative_to`` with c uniform in [low, high] (e.g. relative_to = 2/λ_max)."""
    if not relative_to > 0:
        raise InputError(f"relative_to={relative_to!r}; expected a positive number.")
    return float(draw(st.floats(low, high)) * relative_to)


__all__ = [
    "input_matrices", "interpolating_datasets", "learning_rates", "nets_and_inputs", "non_interpolating_minima",
    "two_layer_nets",
]
