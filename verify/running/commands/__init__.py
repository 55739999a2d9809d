"""Subcommands of the ``theorycheck`` CLI, one module each (see :mod:`theorycheck.running.cli`).

Each module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; building the
parser imports only these light modules, and ``run`` imports the library it needs.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__, submodules=["baseline", "compare", "flatness", "list_", "modified", "order", "run", "sharpness", "show", "stability",
                           "table"])
