"""Optimisers shipped as files of the optimiser protocol, and the operations a user's optimiser file may use.

Each module here is an optimiser written as a user would write one
(:mod:`theorycheck.maths.protocol`): ``step(theta, state, grad, h, **hyper)``,
``init_state(theta, **hyper)`` and ``validate(**hyper)``. The command line's
names are shortcuts for them (:data:`BUILTIN`): ``--optimizer heavy-ball`` is
``--optimizer theorycheck.optimizers.heavy_ball:step``, derived, measured and
reported by the same mechanism as an optimiser file of a user's own.

* :mod:`~theorycheck.optimizers.gd`: θ ← θ − h∇L(θ);
* :mod:`~theorycheck.optimizers.heavy_ball`: v ← βv + ∇L(θ), θ ← θ − hv (Polyak);
* :mod:`~theorycheck.optimizers.nesterov`: v ← βv + ∇L(θ − hβv), θ ← θ − hv (Nesterov, constant momentum);
* :mod:`~theorycheck.optimizers.momentum`: v ← βv + (1 − τ)∇L(θ), θ ← θ − hv (momentum with dampening τ);
* :mod:`~theorycheck.optimizers.rmsprop`: v ← ρv + (1 − ρ)g², θ ← θ − h g/√(v + ε);
* :mod:`~theorycheck.optimizers.adam`: Adam with bias correction, ε inside the root.

The functions a step may call on its numbers (they follow the evaluation: float,
mpmath at any precision, sympy, series in h) are re-exported here from
:mod:`theorycheck.maths.scalar`: ``from theorycheck.optimizers import sqrt``.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Command-line name → module of :mod:`theorycheck.optimizers` (its ``step`` is the optimiser).
BUILTIN = {
    "gd": "gd",
    "heavy-ball": "heavy_ball",
    "nesterov": "nesterov",
    "momentum": "momentum",
    "rmsprop": "rmsprop",
    "adam": "adam",
}

_SCALAR = ("sqrt", "exp", "log", "log1p", "expm1", "sin", "cos", "tan", "tanh", "sinh", "cosh", "atan", "sigmoid",
           "sign", "maximum", "minimum", "clip")
_MODULES = ("adam", "gd", "heavy_ball", "momentum", "nesterov", "rmsprop")

__all__ = ["BUILTIN", *_SCALAR, *_MODULES]


def __getattr__(name: str) -> Any:
    if name in _SCALAR:
        return getattr(importlib.import_module("theorycheck.maths.scalar"), name)
    if name in _MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
