"""Numerics: integrators, order studies and ladders, eigenvalues and traces, stability thresholds, training,
statistics, experiments.

The submodules load on first use (``theorycheck.numerics.eigen`` …), so that importing the package is cheap.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=[
    "adaptive", "attack", "cache", "callable_order", "curvature", "eigen", "experiments", "integrate", "ladders",
    "minimise", "models", "optimizer_order", "order", "stability",
    "statistics", "trace", "training",
])
