"""Running and the command line: the runner, executors (serial, process, Dask), the CLI and the pytest plugin.

The submodules load on first use (``theorycheck.running.cli`` …), so that importing the package is cheap.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=[
    "cli", "commands", "costs", "executors", "imports", "limits", "loading", "model_args", "order_setup", "output",
    "project", "pytest_plugin", "runner", "user_code", "validate",
])
