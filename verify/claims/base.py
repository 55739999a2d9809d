"""The claim: a declaration, constants as fields, and a check that returns evidence.

A claim is a frozen dataclass. Its *declaration* is class-level data (id,
title, source, statement, falsifier, tags); its *constants* (a coefficient, a
threshold, an expected order) are dataclass fields, so that a mutant is the
same claim with one field changed, ``IGRLocalOrder(coefficient=Fraction(1, 2))``.

Every claim must

1. set ``id``, ``title``, ``source`` (the paper, with theorem or equation
   number, or "not checked against the paper" where it could not be),
   ``statement`` (the claim as checked), ``falsifier`` (what result would
   make it FAIL) and ``statement_kind``, what kind of statement it is:
   ``"theorem"`` (the cited paper states it), ``"derived"`` (derived here; the
   derivation in the docstring), ``"extrapolation"`` (a natural extension the
   paper does not state) or ``"heuristic"`` (an informal prediction or
   experiment of the paper); see :data:`~theorycheck.core.evidence.STATEMENT_KINDS`;
2. keep every constant a mutant could change in a field with the published
   value as default, and never tune one to make the check pass;
3. implement :meth:`Claim.evaluate` (the claim kinds of
   :mod:`theorycheck.claims.kinds` do, around one ``check``) and return
   :class:`~theorycheck.core.evidence.Evidence`, never print;
4. give an INCONCLUSIVE verdict a reason (:meth:`Claim.explain` defaults to the
   notes of the undecided cases), and raise
   :class:`~theorycheck.core.errors.TheorycheckError` only for bad input.

:meth:`Claim.run` does the bookkeeping once (metadata, settings, timing), as
scipy's ``OdeSolver.step`` does around ``_step_impl``. :meth:`Claim.assemble`
turns what the checks found (:class:`Checked`) into evidence: the verdict is
the :func:`~theorycheck.core.evidence.combine` of the cases, the key numbers
follow the claim's :class:`Key` declarations, the settings are its constants.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, fields
from typing import Any, Callable, ClassVar, Iterable, Mapping

from theorycheck.claims.registry import RunContext
from theorycheck.core.evidence import Case, Evidence, Figure, Verdict, broken_expectation, combine, jsonable


@dataclass(frozen=True)
class Sizes:
    """A size (a number of examples, seeds, a list of losses) for quick and for full runs.

    Quick mode checks fewer instances, never with looser tolerances.
    """

    quick: Any
    full: Any

    def pick(self, ctx: RunContext, override: Any = None) -> Any:
        """``override`` if given, else the quick or full size for ``ctx``."""
        if override is not None:
            return override
        return self.quick if ctx.quick else self.full


def _median(v: list[float]) -> float:
    import numpy as np

    return float(np.median(v))


def _mean(v: list[float]) -> float:
    import numpy as np

    return float(np.mean(v))


_REDUCERS: dict[str, Callable[[list[Any]], Any]] = {"min": min, "max": max, "median": _median, "mean": _mean}


@dataclass(frozen=True)
class Key:
    """A key number of a claim: a reduction over the measured values of its cases.

    ``reduce`` is ``"min"``, ``"max"``, ``"median"`` or ``"mean"`` over the
    values ``case.measured[measure]`` (or ``case.data[measure]``, or the case's
    ``margin`` for ``measure="margin"``; lists are flattened) of the cases of ``part`` (every case if None);
    ``"failures"`` counts the FAIL cases; ``"passes"`` is True when every case passes. No
    values give NaN. ``tolerance`` (``{"rtol": …}`` or ``{"atol": …}``) is the
    comparison tolerance CI uses for this number.
    """

    name: str
    measure: str = ""
    reduce: str = "max"
    part: str | None = None
    tolerance: Mapping[str, float] | None = None

    def value(self, checked: "Checked") -> Any:
        cases = checked.cases(self.part)
        if self.reduce == "failures":
            return sum(c.verdict is Verdict.FAIL for c in cases)
        if self.reduce == "passes":
            return combine(c.verdict for c in cases) is Verdict.PASS
        values = checked.values(self.measure, self.part)
        return _REDUCERS[self.reduce](values) if values else math.nan


@dataclass
class Checked:
    """What a claim's checks found: cases by part, the shrunk counterexample, figures.

    ``parts`` keeps the cases in groups that keys and summaries can refer to
    ("generated" by Hypothesis, "pinned" examples, "trained" networks, ...);
    ``examples`` counts the Hypothesis examples tried; ``extra`` holds values a
    summary needs that are not cases; ``settings`` what the run was made with
    beyond the claim's constants (recorded in the evidence).
    """

    parts: dict[str, list[Case]] = field(default_factory=dict)
    counterexample: dict[str, Any] | None = None
    figures: list[Figure] = field(default_factory=list)
    examples: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def cases(self, part: str | None = None) -> list[Case]:
        if part is not None:
            return list(self.parts.get(part, []))
        return [c for cs in self.parts.values() for c in cs]

    def values(self, measure: str, part: str | None = None) -> list[float]:
        """The finite-or-not numbers under ``measure`` in the cases of ``part`` (None skipped, lists flattened)."""
        out: list[Any] = []
        for c in self.cases(part):
            v = c.margin if measure == "margin" else c.measured.get(measure, c.data.get(measure))
            if v is None:
                continue
            out.extend(v if isinstance(v, (list, tuple)) else [v])
        return out


@dataclass(frozen=True, kw_only=True)
class Claim(ABC):
    """A published claim and the numerical check that can refute it (see the module docstring)."""

    id: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]
    statement: ClassVar[str]
    falsifier: ClassVar[str]
    #: "theorem" | "derived" | "extrapolation" | "heuristic" (module docstring, point 1); every built-in claim sets
    #: it, a user's claim may leave it empty (listed as "unstated").
    statement_kind: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()
    #: Key numbers that CI regresses against.
    keys: ClassVar[tuple[Key, ...]] = ()
    #: The one-line summary, formatted with the key numbers, ``verdict``, ``examples`` and ``cases``.
    summary: ClassVar[str] = "{verdict} on {cases} cases"
    #: What is expected of the claim: ``"pass"`` (a FAIL or an ERROR breaks the run and the test) or
    #: ``"finding"`` (a published claim the numbers contradict: FAIL is expected, shown as XFAIL; a PASS or an
    #: ERROR breaks the run). INCONCLUSIVE breaks neither.
    expect: ClassVar[str] = "pass"

    def broken_expectation(self, verdict: Verdict) -> str:
        """Why ``verdict`` breaks :attr:`expect`, empty when it does not
        (:func:`theorycheck.core.evidence.broken_expectation`)."""
        return broken_expectation(verdict, self.expect)

    def run(self, ctx: RunContext | None = None) -> Evidence:
        """Run the check and return its evidence, with metadata, settings and timing filled in."""
        ctx = ctx or RunContext()
        t0 = time.perf_counter()
        ev = self.evaluate(ctx)
        ev.claim_id = self.id
        ev.title = ev.title or self.title
        ev.source = ev.source or self.source
        ev.statement = ev.statement or self.statement
        ev.falsifier = ev.falsifier or self.falsifier
        ev.statement_kind = ev.statement_kind or getattr(self, "statement_kind", "")
        ev.expect = self.expect
        ev.settings = {"quick": ctx.quick, "seed": ctx.seed, **self.constants(), **ev.settings}
        ev.elapsed_s = time.perf_counter() - t0
        return ev

    @abstractmethod
    def evaluate(self, ctx: RunContext) -> Evidence:
        """Compute the evidence. Never prints; raises TheorycheckError on bad input."""

    def constants(self) -> dict[str, Any]:
        """The claim's fields (its constants) as JSON-ready settings."""
        return {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}

    # --- turning checks into evidence -----------------------------------------------------

    def assemble(self, checked: Checked) -> Evidence:
        """Evidence from what the checks found: verdict, key numbers, summary, reason (module docstring)."""
        cases = checked.cases()
        verdict = combine(c.verdict for c in cases)
        key = {k.name: k.value(checked) for k in self.keys}
        key.update(self.more_keys(checked))
        return Evidence(
            claim_id=self.id, verdict=verdict, summary=self.summarise(checked, key, verdict), cases=cases,
            figures=list(checked.figures) + list(self.figures(checked)), key=key,
            counterexample=checked.counterexample, reason=self.explain(checked, verdict),
            key_tolerance={k.name: dict(k.tolerance) for k in self.keys if k.tolerance},
            settings=dict(checked.settings),
        )

    def more_keys(self, checked: Checked) -> dict[str, Any]:
        """Key numbers that are not a reduction over cases (default none)."""
        return {}

    def figures(self, checked: Checked) -> Iterable[Figure]:
        """Figures drawn from the cases' data (default none); checks may also put figures in ``checked``."""
        return ()

    def summarise(self, checked: Checked, key: dict[str, Any], verdict: Verdict) -> str:
        """The one-line summary: :attr:`summary` formatted with the key numbers, the constants and the counts."""
        values = {"verdict": verdict, "examples": checked.examples, "cases": len(checked.cases()),
                  **self.constants(), **checked.extra, **key}
        return self.summary.format(**values)

    def explain(self, checked: Checked, verdict: Verdict) -> str:
        """Why the verdict is what it is, when that is not obvious: a counterexample, an undecided case."""
        if verdict is Verdict.FAIL and checked.counterexample:
            return f"smallest counterexample: {checked.counterexample.get('note', '')}"
        if verdict is Verdict.INCONCLUSIVE:
            cases = checked.cases()
            if not cases:
                return "no instance could be checked"
            undecided = [c for c in cases if c.verdict is Verdict.INCONCLUSIVE]
            return "; ".join(f"{c.name}: {c.note}" for c in undecided[:3])
        return ""


__all__ = ["Checked", "Claim", "Key", "RunContext", "Sizes"]
