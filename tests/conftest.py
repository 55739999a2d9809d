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
    """The on-disk cache of the test session, and the key that authenticates its entries, live in temporary
    directories, not in the user's cache and data directories; command output is checked against its schema."""
    import os

    names = ("THEORYCHECK_CACHE_DIR", "THEORYCHECK_KEY_FILE", "THEORYCHECK_VALIDATE_OUTPUT")
    old = {name: os.environ.get(name) for name in names}
    os.environ["THEORYCHECK_CACHE_DIR"] = str(tmp_path_factory.mktemp("theorycheck-cache"))
    os.environ["THEORYCHECK_KEY_FILE"] = str(tmp_path_factory.mktemp("theorycheck-key") / "cache.key")
    # every --json output a test prints is validated against its command's schema (theorycheck.running.output)
    os.environ["THEORYCHECK_VALIDATE_OUTPUT"] = "1"
    yield
    for name, value in old.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
