"""Claims: declarations of published statements, each with the numerical check that can refute it.

* :mod:`~theorycheck.claims.registry`: the registry (:func:`all_claims`, :func:`get`, :func:`register`) and
  the run settings :class:`RunContext`;
* :mod:`~theorycheck.claims.base`: the :class:`Claim` base and its bookkeeping;
* :mod:`~theorycheck.claims.kinds`: the claim kinds (property over instances, condition against the exact
  threshold, order study, effect over seeds);
* one module per body of theory: :mod:`~theorycheck.claims.backward_error`, :mod:`~theorycheck.claims.implicit_reg`,
  :mod:`~theorycheck.claims.stability`, :mod:`~theorycheck.claims.nets`.
"""

from theorycheck.claims.base import Checked, Claim, Key, Sizes
from theorycheck.claims.kinds import ConditionClaim, EffectClaim, Ladder, OrderClaim, PropertyClaim
from theorycheck.claims.registry import AREA_MODULES, RunContext, all_claims, get, register

__all__ = [
    "AREA_MODULES", "Checked", "Claim", "ConditionClaim", "EffectClaim", "Key", "Ladder", "OrderClaim",
    "PropertyClaim", "RunContext", "Sizes", "all_claims", "get", "register",
]
