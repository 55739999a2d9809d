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


@contextlib.contextmanager
def clean_registry() -> Iterator[None]:
    """Restore the claim registry (and drop loaded user modules' claims) after a test that loads user claims."""
    from theorycheck.claims import registry

    registry.all_claims()
    saved = dict(registry._REGISTRY)
    try:
        yield
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)
