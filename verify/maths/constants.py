"""The constants the theory publishes, defined once.

The formulas of :mod:`theorycheck.maths` take them as defaults and the claims
of :mod:`theorycheck.claims` take them as the published values of their
fields; a mutant is the claim with one of them changed. This module imports
nothing heavy, so that the claim declarations that use these numbers stay
cheap to import.
"""

from __future__ import annotations

from fractions import Fraction

#: c in GD's implicit regulariser c·h‖∇L‖²: GD follows L + (h/4)‖∇L‖² to O(h³) per step
#: (Barrett & Dherin, ICLR 2021, Theorem 3.1). Per mini-batch it is Smith et al.'s (h/4m)Σ‖∇L̂_k‖²
#: (Smith, Dherin, Barrett & De, ICLR 2021, Sec. 2).
IGR_COEFFICIENT = Fraction(1, 4)

#: GD at a minimum with Hessian H is linearly stable iff η ≤ 2/λ_max(H); SGD's critical rate is η* = 2/λ_max(C⁻¹D)
#: (Mulayoff & Michaeli, arXiv:2306.07850, Thm. 3).
STABILITY_CONSTANT = 2.0

#: C = ½(H⊕H) in η* = 2/λ_max(C⁻¹D) (Mulayoff & Michaeli, Thm. 3).
KRONECKER_SUM_SCALE = 0.5

#: c in Tr H ≤ c/(ηp) at a second-order stable interpolating minimum (Ma & Ying, NeurIPS 2021, Sec. 4;
#: it follows from Mulayoff & Michaeli Prop. 3, eq. 16, and Jensen's inequality).
FLATNESS_CONSTANT = 2.0

__all__ = ["FLATNESS_CONSTANT", "IGR_COEFFICIENT", "KRONECKER_SUM_SCALE", "STABILITY_CONSTANT"]
