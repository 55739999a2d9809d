"""The claim registry: one object per published claim, each returning evidence.

A claim is a subclass of :class:`Claim` that fills in ``_run_impl``; the public
:meth:`Claim.run` does the bookkeeping (metadata, settings, timing) in one
place, as scipy's ``OdeSolver.step`` does around ``_step_impl``. Claims are
registered with :func:`register` and live in the area modules listed in
``AREA_MODULES`` (one module per body of theory).

Mutants are claims with a wrong constant: every claim takes its constants as
constructor arguments so a test can build ``SomeClaim(coefficient=0.5)`` and
assert that it is rejected.
"""

from __future__ import annotations

import importlib
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from theorycheck.core.errors import UnknownClaimError
from theorycheck.core.evidence import Evidence

# Area modules that define and register claims, imported on first use of the
# registry so that `import theorycheck` stays cheap.
AREA_MODULES: list[str] = [
    "theorycheck.claims.backward_error",
    "theorycheck.claims.nets",
    "theorycheck.claims.stability",
    "theorycheck.claims.implicit_reg",
]


@dataclass(frozen=True)
class RunContext:
    """Settings shared by every claim in a run.

    ``quick`` trades breadth (fewer losses, seeds, examples) for speed; it
    must never loosen a tolerance.
    """

    quick: bool = False
    seed: int = 20211
    executor: str = "serial"
    scheduler: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Claim(ABC):
    """A published claim and the numerical check that can refute it."""

    id: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]  # paper, with theorem/equation number
    statement: ClassVar[str]  # the claim, as checked
    falsifier: ClassVar[str]  # what result would make it FAIL
    tags: ClassVar[tuple[str, ...]] = ()

    def run(self, ctx: RunContext | None = None) -> Evidence:
        """Run the check and return its evidence, with metadata and timing filled in."""
        ctx = ctx or RunContext()
        t0 = time.perf_counter()
        ev = self._run_impl(ctx)
        ev.claim_id = self.id
        ev.title = ev.title or self.title
        ev.source = ev.source or self.source
        ev.statement = ev.statement or self.statement
        ev.falsifier = ev.falsifier or self.falsifier
        ev.settings = {"quick": ctx.quick, "seed": ctx.seed, **ev.settings}
        ev.elapsed_s = time.perf_counter() - t0
        return ev

    @abstractmethod
    def _run_impl(self, ctx: RunContext) -> Evidence:
        """Compute the evidence. Never prints; raises TheorycheckError on bad input."""


_REGISTRY: dict[str, Claim] = {}
_loaded = False


def register(cls: type[Claim]) -> type[Claim]:
    """Class decorator: register the default instance of a claim under its id."""
    if cls.id in _REGISTRY and type(_REGISTRY[cls.id]) is not cls:
        raise RuntimeError(f"duplicate claim id {cls.id!r}")
    _REGISTRY[cls.id] = cls()
    return cls


def _load() -> None:
    global _loaded
    if not _loaded:
        for name in AREA_MODULES:
            importlib.import_module(name)
        _loaded = True


def all_claims() -> list[Claim]:
    """Every registered claim, in registration order."""
    _load()
    return list(_REGISTRY.values())


def get(claim_id: str) -> Claim:
    """The registered claim with this id, or :class:`UnknownClaimError` listing close ids."""
    _load()
    try:
        return _REGISTRY[claim_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(claim_id, list(_REGISTRY), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else " Run `theorycheck list` to see them."
        raise UnknownClaimError(f"unknown claim id {claim_id!r}.{hint}") from None
