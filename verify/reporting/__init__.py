"""Evidence and reports: the run record and its schema, baseline comparison, Markdown/HTML reports and figures.

The submodules load on first use (``theorycheck.reporting.compare`` …), so that importing the package is cheap.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(__name__, submodules=[
    "compare", "environment", "failure", "figures", "findings", "latex", "outdir", "paper_pages", "record", "report",
    "schema",
])
