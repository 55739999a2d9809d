"""Claims: declarations of published statements, each with the numerical check that can refute it.

* :mod:`~theorycheck.claims.registry`: the registry (:func:`all_claims`, :func:`get`, :func:`register`) and
  the run settings :class:`RunContext`;
* :mod:`~theorycheck.claims.base`: the :class:`Claim` base and its bookkeeping (:class:`Key`, :class:`Sizes`);
* :mod:`~theorycheck.claims.kinds`: the claim kinds (property over instances, condition against the exact
  threshold, order study, effect over seeds);
* :mod:`~theorycheck.claims.sources`: the citations;
* :mod:`~theorycheck.claims.papers`: papers and their statements, each with the claims that check it (the data
  of the built-in papers is :mod:`~theorycheck.claims.statements`);
* one module per body of theory: :mod:`~theorycheck.claims.backward_error`, :mod:`~theorycheck.claims.implicit_reg`,
  :mod:`~theorycheck.claims.stability`, :mod:`~theorycheck.claims.nets`,
  :mod:`~theorycheck.claims.open_questions` (the questions Ma & Ying leave open: depth, non-interpolating minima),
  :mod:`~theorycheck.claims.adaptive` (Adam and RMSProp), :mod:`~theorycheck.claims.optimizers` (the optimiser
  protocol against the hand derivations and the published momentum and Adam results).

Everything loads on first use.
"""

import lazy_loader as lazy

__getattr__, __dir__, __all__ = lazy.attach(
    __name__,
    submodules=["adaptive", "backward_error", "base", "implicit_reg", "kinds", "nets", "open_questions", "optimizers",
                "papers", "registry", "sources", "stability", "statements"],
    submod_attrs={
        "base": ["Checked", "Claim", "Key", "Sizes"],
        "kinds": ["ConditionClaim", "EffectClaim", "Ladder", "OrderClaim", "PropertyClaim"],
        "papers": ["Paper", "Statement", "all_papers", "get_paper", "register_paper"],
        "registry": ["AREAS", "AREA_MODULES", "RunContext", "all_claims", "area_of", "area_of_id", "builtin_claims", "get",
                     "is_builtin", "register"],
    },
)
