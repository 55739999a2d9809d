"""The vocabulary every layer shares: the exception family, the evidence data types and the data-file reader.

The submodules load on first use (``theorycheck.core.errors`` …), so that importing the package is cheap.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=[
    "datafile", "errors", "evidence", "files", "trust",
])
