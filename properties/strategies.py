"""Composable Hypothesis strategies for theorycheck (the public front door).

Each area keeps its strategies in a private module and re-exports them here;
``tests/test_strategies.py`` asserts that ``__all__`` lists exactly these.
"""

from theorycheck.properties._linalg import orthogonal_matrices, psd_matrices, quadratics, spectra
from theorycheck.properties._nets import (
    input_matrices,
    interpolating_datasets,
    learning_rates,
    nets_and_inputs,
    non_interpolating_minima,
    two_layer_nets,
)
from theorycheck.properties._stability import feature_matrices, per_sample_hessians, stability_instances

__all__ = [
    "orthogonal_matrices",
    "psd_matrices",
    "quadratics",
    "spectra",
    "input_matrices",
    "interpolating_datasets",
    "learning_rates",
    "nets_and_inputs",
    "non_interpolating_minima",
    "two_layer_nets",
    "feature_matrices",
    "per_sample_hessians",
    "stability_instances",
]
