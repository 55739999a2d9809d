import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from theorycheck.properties import profiles  # noqa: E402

profiles.load()


@pytest.fixture(scope="module")
def X53():
    """A fixed 5×3 Gaussian feature matrix (seed 0) for the stability tests."""
    return np.random.default_rng(0).standard_normal((5, 3))
