"""``python -m theorycheck``: the same as the ``theorycheck`` command."""

import sys

from theorycheck.running.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
