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


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory):
    """The on-disk cache of the test session lives in a temporary directory, not the user's cache."""
    import os

    old = os.environ.get("THEORYCHECK_CACHE_DIR")
    os.environ["THEORYCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("theorycheck-cache"))
    yield
    if old is None:
        os.environ.pop("THEORYCHECK_CACHE_DIR", None)
    else:
        os.environ["THEORYCHECK_CACHE_DIR"] = old
