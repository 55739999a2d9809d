"""theorycheck: numerical, high-precision checks of deep-learning optimisation theory.

Layers, each a subpackage, with imports pointing one way (the direction data flows):

==============  ==========================================================================
``core``        the vocabulary every layer shares: errors, verdicts, cases, figures, evidence
``maths``       losses, fields, optimiser maps and the optimiser protocol, modified equations, stability, networks
``optimizers``  the shipped optimisers, each a file of the optimiser protocol (gd, heavy ball, Nesterov, Adam ...)
``numerics``    integrators, order studies, eigenvalues and traces, thresholds, training, statistics
``properties``  Hypothesis strategies and property runs (``theorycheck.properties.strategies``)
``claims``      the registry, the claim kinds, the papers and their statements, one module per body of theory
``reporting``   the run record and its schema, baseline comparison, Markdown/HTML reports
``running``     the runner, executors, the ``theorycheck`` command line and the pytest plugin
==============  ==========================================================================

Everything loads on first use: ``import theorycheck`` is cheap, and
``theorycheck.maths.modified`` (say) imports sympy only when touched.

Quick start::

    >>> import theorycheck
    >>> claim = theorycheck.get("stability.closed-form")
    >>> evidence = claim.run(theorycheck.RunContext(quick=True))  # doctest: +SKIP
    >>> evidence.verdict  # doctest: +SKIP
    <Verdict.PASS: 'PASS'>
"""

from importlib.metadata import version as _distribution_version

import lazy_loader as lazy

# One copy of the version: pyproject.toml's, as the installed distribution records it.
__version__ = _distribution_version("theorycheck")

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["claims", "core", "maths", "numerics", "optimizers", "properties", "reporting", "running", "testing"],
    submod_attrs={
        "claims": ["Claim", "Paper", "RunContext", "Statement", "all_claims", "get", "get_paper", "register",
                   "register_paper"],
        "core.evidence": ["Case", "Evidence", "Figure", "Series", "Verdict"],
        "core.errors": ["TheorycheckError"],
    },
)
__all__ = [*__all__, "__version__"]
