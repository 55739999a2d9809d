"""Hypothesis strategies and property runs for theorycheck: ``theorycheck.properties``.

* :mod:`~theorycheck.properties.strategies`: composable strategies for quadratics, PSD matrices,
  stability instances, networks and data sets (the public front door);
* :mod:`~theorycheck.properties.runner`: :func:`~theorycheck.properties.runner.check_property`, a
  Hypothesis property run turned into evidence cases and a shrunk counterexample;
* :mod:`~theorycheck.properties.profiles`: the settings profiles ``dev``, ``ci`` and ``thorough``.

The submodules load on first use, so that importing the package is cheap.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=["profiles", "runner", "strategies"])
