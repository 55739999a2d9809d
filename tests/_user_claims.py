"""A user's claim file as text, for the tests that load claims the way a user does (files, modules, packages)."""

from __future__ import annotations

import contextlib
from typing import Iterator

CLAIM_FILE = '''
from dataclasses import dataclass

import numpy as np

from theorycheck import Claim, register
from theorycheck.core.evidence import Case, Evidence, Verdict


@register
@dataclass(frozen=True, kw_only=True)
class SpectralNormBound(Claim):
    id = "spectral-norm-bound"
    title = "the spectral norm is at most the Frobenius norm"
    source = "Golub & Van Loan, Matrix Computations, 4th ed., Sec. 2.3"
    statement = "||A||_2 <= factor * ||A||_F for every real matrix A"
    falsifier = "a matrix with ||A||_2 > factor * ||A||_F"
    tags = ("linear-algebra",)
    factor: float = {factor}

    def evaluate(self, ctx):
        rng = np.random.default_rng(ctx.seed)
        cases = []
        for i in range(8):
            A = rng.standard_normal((4, 3))
            two, fro = np.linalg.norm(A, 2), self.factor * np.linalg.norm(A, "fro")
            cases.append(Case(f"A{{i}}", Verdict.pass_if(two <= fro), {{"spectral": two}}, {{"bound": fro}},
                              margin=fro - two))
        worst = min(cases, key=lambda c: c.margin)
        cx = None if worst.margin >= 0 else {{"note": worst.name, "spectral": worst.measured["spectral"]}}
        return Evidence.from_cases("", cases, f"worst margin {{worst.margin:.3g}}",
                                   key={{"worst_margin": worst.margin}}, counterexample=cx)
'''


def claim_source(factor: float = 1.0) -> str:
    """The claim file; ``factor=0.5`` is the mutant (a bound half as large), which FAILs."""
    return CLAIM_FILE.format(factor=factor)


HELPERS = '''
"""Helpers of the claims in the same folder (a sibling module, imported as a script imports one)."""
import numpy as np


def worst_margin(rng, shape, factor):
    """min over 8 Gaussian matrices of factor*||A||_F - ||A||_2 (>= 0 when the bound holds)."""
    margins = []
    for _ in range(8):
        A = rng.standard_normal(shape)
        margins.append(factor * np.linalg.norm(A, "fro") - np.linalg.norm(A, 2))
    return min(margins)
'''

THREE_CLAIMS = '''
"""Three claims that import their helpers from a sibling module."""
from dataclasses import dataclass

import numpy as np
from {helpers} import worst_margin

from theorycheck import Claim, register
from theorycheck.core.evidence import Case, Evidence, Verdict


class NormBound(Claim):
    source = "Golub & Van Loan, Matrix Computations, 4th ed., Sec. 2.3"
    statement = "||A||_2 <= factor * ||A||_F for every real matrix A"
    falsifier = "a matrix with ||A||_2 > factor * ||A||_F"
    shape = (4, 3)
    factor = {factor}

    def evaluate(self, ctx):
        m = worst_margin(np.random.default_rng(ctx.seed), self.shape, self.factor)
        case = Case("worst", Verdict.pass_if(m >= 0), {{"margin": m}}, {{"margin": 0.0}}, margin=m)
        return Evidence.from_cases("", [case], f"worst margin {{m:.3g}}", key={{"worst_margin": m}})


@register
@dataclass(frozen=True, kw_only=True)
class Tall(NormBound):
    id = "tall"
    title = "spectral <= Frobenius, tall matrices"
    shape = (6, 2)


@register
@dataclass(frozen=True, kw_only=True)
class Square(NormBound):
    id = "square"
    title = "spectral <= Frobenius, square matrices"
    shape = (4, 4)


@register
@dataclass(frozen=True, kw_only=True)
class Wide(NormBound):
    id = "wide"
    title = "spectral <= Frobenius, wide matrices"
    shape = (2, 7)
'''


def three_claims(folder, name: str = "three_claims", helpers: str = "norm_helpers", factor: float = 1.0):
    """Write ``folder/name.py`` (three claims) and its sibling ``folder/helpers.py``; return the claims file.

    ``factor=0.5`` is the mutant: half the bound, which every claim FAILs.
    """
    (folder / f"{helpers}.py").write_text(HELPERS)
    path = folder / f"{name}.py"
    path.write_text(THREE_CLAIMS.format(helpers=helpers, factor=factor))
    return path


@contextlib.contextmanager
def clean_registry() -> Iterator[None]:
    """Restore the claim registry (and drop loaded user modules' claims), ``sys.path`` and the record of files
    imported by path after a test that loads user claims."""
    import sys

    from theorycheck.claims import registry
    from theorycheck.running import imports

    registry.all_claims()
    saved = dict(registry._REGISTRY)
    path, paths, files = list(sys.path), list(imports._PATHS), dict(imports._FILES)
    try:
        yield
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)
        sys.path[:] = path
        imports._PATHS[:] = paths
        imports._FILES.clear()
        imports._FILES.update(files)
