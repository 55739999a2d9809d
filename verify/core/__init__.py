"""The vocabulary every layer shares: the exception family and the evidence data types.

The submodules load on first use (``theorycheck.core.errors`` …), so that importing the package is cheap.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=[
    "errors", "evidence",
])
