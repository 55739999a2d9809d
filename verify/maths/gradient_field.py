"""Is a term of the modified field a gradient? The Jacobian-symmetry test, exactly and at points.

A smooth field F on a simply connected domain is a gradient field iff its
Jacobian is symmetric, J = Jᵀ. GD's first modified term F₁ = −½Hg = −¼∇‖∇L‖² is
a gradient for every L (Barrett & Dherin, ICLR 2021, Thm. 3.1 writes it as the
modified loss L + (h/4)‖∇L‖²). Whether the higher terms F₂, F₃, … are gradients
too, so that GD follows a modified *loss* to every order rather than only a
modified *flow*, is decided here:

* :func:`generic_asymmetry`: the entries of J − Jᵀ of F_j as exact polynomials
  in the jet of a generic L (all zero ⇔ F_j is a gradient for every L);
* :func:`jacobian_asymmetry`: ‖J − Jᵀ‖_F of F_j at a point of a concrete loss,
  in mpmath at a chosen precision.

For d ≥ 2 the antisymmetric part of J(F₂), J(F₃), J(F₄) is a nonzero
polynomial in the derivatives of L (every monomial carries a third or higher
derivative). The terms stay gradients to all orders for quadratics and for
losses that separate in an orthonormal basis (each coordinate is then a 1-D
problem).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import mpmath
from sympy.polys.rings import PolyElement

from theorycheck.maths.jets import evaluate, generic_terms, jet, jet_values, maxorder_for
from theorycheck.maths.losses import Loss


@dataclass
class Asymmetry:
    """‖J − Jᵀ‖_F of the term F_j at a point, with ‖J‖_F for scale."""

    term: int  # power of h
    point: tuple[float, ...]
    size: float
    jacobian_norm: float

    @property
    def relative(self) -> float:
        return self.size / self.jacobian_norm if self.jacobian_norm else 0.0


def generic_asymmetry(d: int, j: int) -> list[PolyElement]:
    """Entries (i < l) of J − Jᵀ of the term F_j for a generic L in d variables (all zero ⇔ F_j is a gradient)."""
    terms = generic_terms(d, j, "taylor", j + 2)  # one order more: the Jacobian differentiates once more
    J = jet(d, j + 2).jacobian(list(terms[j]))
    return [J[i][l] - J[l][i] for i in range(d) for l in range(i + 1, d)]


def jacobian_asymmetry(loss: Loss, j: int, point: Sequence[Any], dps: int = 30) -> Asymmetry:
    """‖J − Jᵀ‖_F of F_j (the h^j term) at ``point`` in mpmath at ``dps`` digits.

    Zero at every point iff F_j is a gradient field (d ≥ 2, a simply connected domain).
    """
    mo = maxorder_for(loss, j + 1)
    ring_ = jet(loss.dim, mo)
    F = generic_terms(loss.dim, j, "taylor", mo)[j]
    J = ring_.jacobian(list(F))
    with mpmath.workdps(dps):
        vals = jet_values(loss, ring_, point)
        Jn = [[evaluate(J[i][l], vals) for l in range(loss.dim)] for i in range(loss.dim)]
        asym = mpmath.sqrt(sum((Jn[i][l] - Jn[l][i]) ** 2 for i in range(loss.dim) for l in range(loss.dim)))
        norm = mpmath.sqrt(sum(x**2 for row in Jn for x in row))
        return Asymmetry(j, tuple(float(x) for x in point), float(asym), float(norm))


def field_asymmetry(loss: Loss, field: Sequence[Any], point: Sequence[Any], power: int = 0, dps: int = 30) -> Asymmetry:
    """‖J − Jᵀ‖_F of any field (d sympy components in the loss's variables) at ``point``, in mpmath at ``dps``.

    The same test as :func:`jacobian_asymmetry` for a term that is not one of GD's (an optimiser's modified field,
    :mod:`theorycheck.maths.optimizer_field`); ``power`` labels it.
    """
    import sympy as sp

    from theorycheck.maths.numbers import as_mpf

    J = sp.Matrix(list(field)).jacobian(sp.Matrix(loss.variables))
    fn = sp.lambdify(loss.variables, J, modules="mpmath")
    with mpmath.workdps(dps):
        Jn = mpmath.matrix(fn(*[as_mpf(x) for x in point]))
        d = loss.dim
        asym = mpmath.sqrt(sum((Jn[i, l] - Jn[l, i]) ** 2 for i in range(d) for l in range(d)))
        norm = mpmath.sqrt(sum(Jn[i, l] ** 2 for i in range(d) for l in range(d)))
        return Asymmetry(power, tuple(float(x) for x in point), float(asym), float(norm))


__all__ = ["Asymmetry", "field_asymmetry", "generic_asymmetry", "jacobian_asymmetry"]
