"""GD's modified field of a concrete loss, term by term, with the modified loss where one exists.

The modified field f̃ = Σ_j h^j F_j (:func:`theorycheck.maths.modified.modified_terms`)
is the gradient of a modified loss, f̃ = −∇L̃, exactly as far as every term is
a gradient field. F₀ = −∇L and F₁ = −¼∇‖∇L‖² always are (Barrett & Dherin,
ICLR 2021, Thm. 3.1), so L̃ = L + (h/4)‖∇L‖² + O(h²); from F₂ on a term is a
gradient for every loss in one variable and for quadratics, but not in general
(:mod:`theorycheck.maths.gradient_field`). :func:`modified_expansion` decides
each term: numerically at a point (‖J − Jᵀ‖_F, in mpmath) and, where that
vanishes, exactly (J − Jᵀ simplifies to zero), and then builds the term's
potential φ_j with ∇φ_j = F_j by the line integral
φ_j(θ) = ∫₀¹ F_j(tθ)·θ dt (so φ_j(0) = 0: a potential is defined up to a
constant), checked by differentiating it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy as sp

from theorycheck.maths.constants import IGR_COEFFICIENT
from theorycheck.maths.gradient_field import field_asymmetry, jacobian_asymmetry
from theorycheck.maths.losses import Loss
from theorycheck.maths.modified import modified_terms

#: ‖J − Jᵀ‖_F / ‖J‖_F below this (at 30 digits) counts as zero at the point, before the exact test.
ASYMMETRY_ZERO = 1e-20


@dataclass
class Term:
    """The h^j term F_j of the modified field and what is known of it.

    ``field`` holds the d components (sympy); ``asymmetry`` and ``relative``
    are ‖J − Jᵀ‖_F and ‖J − Jᵀ‖_F/‖J‖_F at the point (None without one);
    ``gradient`` is True/False when decided exactly, None when undecided;
    ``potential`` is φ_j with ∇φ_j = F_j when found.
    """

    power: int
    field: list[sp.Expr]
    asymmetry: float | None = None
    relative: float | None = None
    gradient: bool | None = None
    potential: sp.Expr | None = None


@dataclass
class Expansion:
    """The terms F_0 … F_K, and the modified loss to the highest order all lower terms allow."""

    loss: Loss
    order: int
    point: tuple[Any, ...] | None
    terms: list[Term] = field(default_factory=list)

    @property
    def loss_order(self) -> int:
        """The largest m with F_0 … F_m all gradients whose potentials were found (−1: none)."""
        m = -1
        for t in self.terms:
            if t.potential is None:
                break
            m = t.power
        return m

    def modified_loss(self, h: sp.Symbol) -> sp.Expr | None:
        """L̃ = −Σ_{j≤m} h^j φ_j to the order :attr:`loss_order` (None when even F₀ has no potential)."""
        m = self.loss_order
        if m < 0:
            return None
        return sp.Add(*[-t.potential if t.power == 0 else h**t.power * sp.expand(-t.potential)
                        for t in self.terms[: m + 1] if t.potential is not None])


def _jacobian_symmetric(loss: Loss, F: Sequence[sp.Expr]) -> bool:
    x = loss.variables
    for i in range(len(x)):
        for k in range(i + 1, len(x)):
            diff = sp.diff(F[i], x[k]) - sp.diff(F[k], x[i])
            if loss.polynomial_degree is not None:
                if sp.expand(diff) != 0:
                    return False
            elif sp.simplify(diff) != 0:
                return False
    return True


def _is_potential(loss: Loss, phi: sp.Expr, F: Sequence[sp.Expr]) -> bool:
    """Whether ∇φ = F, checked symbolically."""
    simplify = sp.expand if loss.polynomial_degree is not None else sp.simplify
    return all(simplify(sp.diff(phi, xi) - Fi) == 0 for xi, Fi in zip(loss.variables, F))


def potential(loss: Loss, F: Sequence[sp.Expr], candidate: sp.Expr | None = None) -> sp.Expr | None:
    """φ with ∇φ = F (F a gradient field), None if none is found in closed form.

    ``candidate`` (e.g. the published potential of a term) is tried first; otherwise the line
    integral ∫₀¹ F(tθ)·θ dt. Either is checked by differentiating it back; a φ that fails the
    check is not returned.
    """
    if candidate is not None and _is_potential(loss, candidate, F):
        return candidate
    x = loss.variables
    t = sp.Dummy("t", positive=True)
    integrand = sp.expand(sum(Fi.subs({xi: t * xi for xi in x}, simultaneous=True) * xi for Fi, xi in zip(F, x)))
    phi = sp.integrate(integrand, (t, 0, 1))
    if phi.has(sp.Integral):
        return None
    phi = sp.simplify(phi) if loss.polynomial_degree is None else sp.expand(phi)
    return phi if _is_potential(loss, phi, F) else None


def scaled_candidates(loss: Loss, F: Sequence[sp.Expr]) -> list[sp.Expr]:
    """Potentials worth trying first for an optimiser's term: c·L where F = c∇L, c·‖∇L‖² where F = c∇‖∇L‖² (c constant).

    The leading flow of momentum is −∇L/(1−β) and its first term a multiple of ∇‖∇L‖² (Ghosh et al., ICLR 2023):
    their potentials are found without an integral.
    """
    g = list(loss.gradient)
    norm2 = sum(gi**2 for gi in g)
    out = []
    for base, phi in ((g, loss.expr), ([sp.diff(norm2, x) for x in loss.variables], norm2)):
        i = next((k for k, b in enumerate(base) if b != 0), None)
        if i is None:
            continue
        c = sp.simplify(F[i] / base[i])
        if c.is_number:
            out.append(c * phi)
    return out


def modified_expansion(loss: Loss, order: int, point: Sequence[Any] | None = None, dps: int = 30,
                       terms: Sequence[Sequence[sp.Expr]] | None = None) -> Expansion:
    """The terms F_0 … F_order of GD's modified field (or of ``terms``), each tested as a gradient field, with potentials.

    Parameters
    ----------
    loss : Loss
        The loss L in d variables.
    order : int
        K: the terms up to h^K (0 ≤ K ≤ :data:`theorycheck.maths.jets.MAX_ORDER`).
    point : sequence of d numbers, optional
        Where ‖J − Jᵀ‖_F of each term is measured (mpmath at ``dps`` digits).
    terms : sequence of K + 1 lists of d sympy expressions, optional
        Another optimiser's terms (:class:`~theorycheck.maths.optimizer_field.ModifiedEquation`), tested the same
        way; F₀ is then not assumed to be −∇L.

    Returns
    -------
    Expansion
        ``terms[j]`` is F_j (d components); its ``potential`` φ_j satisfies ∇φ_j = F_j.
    """
    general = terms is not None
    terms = modified_terms(loss, order) if terms is None else [list(F) for F in terms]
    out = Expansion(loss, order, tuple(point) if point is not None else None)
    for j, F in enumerate(terms):
        term = Term(j, list(F))
        if point is not None and loss.dim >= 2:
            a = field_asymmetry(loss, F, point, j, dps) if general else jacobian_asymmetry(loss, j, point, dps=dps)
            term.asymmetry, term.relative = a.size, a.relative
        if j == 0 and not general:
            term.gradient, term.potential = True, -loss.expr  # F₀ = −∇L as the loss writes it
        elif general and (loss.dim == 1 or term.relative is None or term.relative < ASYMMETRY_ZERO):
            term.gradient = True if loss.dim == 1 else _jacobian_symmetric(loss, F)
            if term.gradient and (j == 0 or out.terms[-1].potential is not None):
                found = next((p for p in scaled_candidates(loss, F) if _is_potential(loss, p, F)), None)
                term.potential = found if found is not None else potential(loss, F)
        elif general:
            term.gradient = False
        elif loss.dim == 1 or (term.relative is None or term.relative < ASYMMETRY_ZERO):
            term.gradient = True if loss.dim == 1 else _jacobian_symmetric(loss, F)
            if term.gradient and out.terms[-1].potential is not None:
                # F₁ = −¼∇‖∇L‖² (Barrett & Dherin, Thm 3.1): tried before the line integral, which sympy
                # often cannot do in closed form for transcendental losses
                igr = -IGR_COEFFICIENT * sum(sp.diff(loss.expr, v) ** 2 for v in loss.variables) if j == 1 else None
                term.potential = potential(loss, F, candidate=igr)
        else:
            term.gradient = False
        out.terms.append(term)
    return out


__all__ = ["ASYMMETRY_ZERO", "Expansion", "Term", "modified_expansion", "potential", "scaled_candidates"]
