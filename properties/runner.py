"""Run a Hypothesis property from inside a claim and turn it into evidence.

``check_property(strategy, check)`` draws examples deterministically (fixed
seed, no example database), calls ``check(example) -> Case`` on each, and when
a case FAILs lets Hypothesis shrink it; the minimal failing example becomes the
counterexample. INCONCLUSIVE cases are recorded but do not stop the search.

The same function serves the pytest suites (assert ``outcome.verdict``) and the
CLI/report (``outcome.to_evidence(...)``), so a property runs identically in
both places.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from theorycheck.core.evidence import Case, Verdict, combine, jsonable, tightest

_T = TypeVar("_T")

_hyp_lock = threading.Lock()
_hyp_depth = 0
_hyp_saved: Any = None


@contextmanager
def reproducible_hypothesis() -> Iterator[None]:
    """Make Hypothesis draw the same examples for the same seed in every process.

    Hypothesis (since 6.131) mixes the literal constants of every *local*
    module imported so far into its generation, so one seed draws different
    examples depending on which theorycheck modules happen to be imported: a
    claim run serially after the whole registry, in a Dask worker that imported
    one area, or under pytest after other test imports would see different
    examples (observed: a property claim's worst ratio moved by 1%). Inside
    this context the local-constant pool is empty (and its cache cleared), so
    examples depend only on the seed and the strategy. Private Hypothesis API,
    used defensively: if it is absent this is a no-op.
    """
    global _hyp_depth, _hyp_saved
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - older/newer Hypothesis
        yield
        return
    if not hasattr(providers, "_get_local_constants") or not hasattr(providers, "CONSTANTS_CACHE"):
        yield  # pragma: no cover
        return
    empty = Constants()
    with _hyp_lock:
        if _hyp_depth == 0:
            _hyp_saved = providers._get_local_constants
            providers._get_local_constants = lambda: empty
            providers.CONSTANTS_CACHE.cache.clear()
        _hyp_depth += 1
    try:
        yield
    finally:
        with _hyp_lock:
            _hyp_depth -= 1
            if _hyp_depth == 0:
                providers._get_local_constants = _hyp_saved
                providers.CONSTANTS_CACHE.cache.clear()


class _PropertyFailed(Exception):
    pass


@dataclass
class PropertyOutcome:
    """What a property run found.

    ``cases`` are the generated examples' cases (shrink attempts excluded);
    ``counterexample`` is the shrunk failing example and its case, if any.
    """

    name: str
    cases: list[Case]
    counterexample: tuple[Any, Case] | None = None
    examples_tried: int = 0
    seed: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        if self.counterexample is not None:
            return Verdict.FAIL
        return combine(c.verdict for c in self.cases)

    def worst(self) -> Case | None:
        """The case with the smallest margin (the tightest)."""
        return tightest(self.cases)

    def all_cases(self) -> list[Case]:
        """The generated cases and the shrunk counterexample's case, each once.

        Hypothesis replays the minimal failing example at the end; when that is
        an example already generated, its case is not listed a second time.
        """
        cases = list(self.cases)
        if self.counterexample is not None:
            ce = self.counterexample[1]
            if not any(c.name == ce.name and c.measured == ce.measured for c in cases):
                cases.append(ce)
        return cases

    def counterexample_json(self, describe: Callable[[Any], Any] = lambda x: x) -> dict[str, Any] | None:
        """The shrunk counterexample as JSON (see :func:`counterexample_json`), or None."""
        if self.counterexample is None:
            return None
        x, case = self.counterexample
        return counterexample_json(describe(x), case)


def counterexample_json(example: Any, case: Case) -> dict[str, Any]:
    """A counterexample as JSON: the instance, and the name, numbers and note of the case it failed."""
    return {"example": jsonable(example), "case": case.name, "measured": jsonable(case.measured),
            "expected": jsonable(case.expected), "note": case.note}


def check_property(
    name: str,
    strategy: st.SearchStrategy[_T],
    check: Callable[[_T], Case],
    *,
    max_examples: int = 30,
    seed: int = 0,
    shrink: bool = True,
) -> PropertyOutcome:
    """Run ``check`` on examples of ``strategy``; see the module docstring."""
    generated: list[Case] = []
    failing: list[tuple[Any, Case]] = []
    shrinking = [False]

    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])

    @hseed(seed)
    @settings(max_examples=max_examples, database=None, deadline=None, phases=phases, derandomize=False,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(strategy)
    def prop(x: _T) -> None:
        case = check(x)
        if not shrinking[0]:
            generated.append(case)
        if case.verdict is Verdict.FAIL:
            shrinking[0] = True
            failing.append((x, case))
            raise _PropertyFailed(case.note)

    try:
        with reproducible_hypothesis():
            prop()
    except _PropertyFailed:
        pass
    except Unsatisfiable:
        pass
    return PropertyOutcome(
        name=name,
        cases=generated,
        # Hypothesis replays the minimal example last
        counterexample=failing[-1] if failing else None,
        examples_tried=len(generated),
        seed=seed,
        settings={"max_examples": max_examples, "seed": seed},
    )


__all__ = ["PropertyOutcome", "check_property", "counterexample_json", "reproducible_hypothesis"]
