"""Run a list of claims into a :class:`~theorycheck.core.evidence.RunRecord`.

A claim that raises is recorded as ERROR with its message and the run goes on:
one broken check must not hide the evidence of the others. Claims are the unit
of parallelism: they are mapped over the executor named by ``ctx.executor``
(:mod:`theorycheck.running.executors`); a worker that dies takes only its claim down, as
ERROR evidence.
"""

from __future__ import annotations

import traceback
import warnings
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from theorycheck.claims import Claim, RunContext
from theorycheck.claims.papers import papers_json
from theorycheck.core.evidence import Evidence, Verdict
from theorycheck.properties.runner import reproducible_hypothesis
from theorycheck.reporting.environment import describe
from theorycheck.reporting.record import RunRecord
from theorycheck.running.costs import expected_costs, record_costs
from theorycheck.running.executors import Executor, Outcome, get_executor
from theorycheck.running.limits import check_interrupted


def error_evidence(claim: Claim, message: str, summary: str) -> Evidence:
    """ERROR evidence for ``claim`` carrying ``message`` (the exception, or why the worker failed)."""
    return Evidence(
        claim_id=claim.id,
        verdict=Verdict.ERROR,
        summary=summary,
        title=claim.title,
        source=claim.source,
        statement=claim.statement,
        falsifier=claim.falsifier,
        statement_kind=getattr(claim, "statement_kind", ""),
        reason=message,
        expect=getattr(claim, "expect", "pass"),
    )


#: At most this many distinct warnings are kept per claim.
MAX_WARNINGS = 20
#: Characters of an ERROR's traceback kept in the evidence (the end, where the error is).
MAX_TRACEBACK = 20000


def run_one(claim: Claim, ctx: RunContext) -> Evidence:
    """Run one claim; an exception becomes ERROR evidence carrying its message.

    Warnings the check emits are recorded in ``Evidence.warnings`` (distinct
    messages, with the place they came from) instead of being printed: the run's
    output stays clean and the report shows them next to the numbers they
    concern.
    """
    with warnings.catch_warnings(record=True) as caught, reproducible_hypothesis():
        warnings.simplefilter("always")
        try:
            ev = claim.run(ctx)
        except Exception as exc:  # noqa: BLE001 - recorded, not swallowed
            check_interrupted()  # a library that turned Ctrl-C into its own error: still an interrupt
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            ev = error_evidence(claim, tb, f"check raised {type(exc).__name__}")
            full = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            ev.traceback = full if len(full) <= MAX_TRACEBACK else "…\n" + full[-MAX_TRACEBACK:]
    seen: list[str] = []
    for w in caught:
        msg = f"{w.category.__name__}: {w.message} ({Path(w.filename).name}:{w.lineno})"
        if msg not in seen:
            seen.append(msg)
    ev.warnings = list(ev.warnings) + seen[:MAX_WARNINGS]
    check_interrupted()  # an interrupt a library swallowed ends the run here, not after every other claim
    return ev


class _RunOne:
    """``run_one`` with the context bound, picklable for process and Dask workers."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx

    def __call__(self, claim: Claim) -> Evidence:
        return run_one(claim, self.ctx)


def precision() -> dict[str, object]:
    """The default float type of the run; each claim records its own working precision in its settings."""
    fi = np.finfo(np.float64)
    return {"default_float": "float64", "eps": float(fi.eps), "mantissa_bits": int(fi.nmant) + 1}


def run_claims(
    claims: Sequence[Claim],
    ctx: RunContext,
    progress: bool | None = None,
    on_done: Callable[[Evidence], None] | None = None,
    executor: Executor | None = None,
) -> RunRecord:
    """Run ``claims`` on ``executor`` (default: the one ``ctx`` names) and collect their evidence in order.

    The progress bar is drawn only when stderr is a terminal (``progress=None``)
    or when asked; ``on_done`` sees each claim's evidence as it finishes. A parallel
    executor starts the claims that took longest last time first
    (:mod:`theorycheck.running.costs`); the record keeps the input order.
    """
    claims = list(claims)

    def done(i: int, o: Outcome) -> None:
        if on_done:
            on_done(_evidence(claims[i], o))

    costs = expected_costs([c.id for c in claims], ctx.quick)
    if executor is None:
        with get_executor(ctx.executor, ctx.scheduler) as ex:
            outcomes = ex.map_outcomes(_RunOne(ctx), claims, desc="claims", progress=progress, on_result=done,
                                       costs=costs)
    else:
        outcomes = executor.map_outcomes(_RunOne(ctx), claims, desc="claims", progress=progress, on_result=done,
                                         costs=costs)
    results = [_evidence(c, o) for c, o in zip(claims, outcomes)]
    record_costs(results, ctx.quick)
    settings = {"quick": ctx.quick, "seed": ctx.seed, "executor": ctx.executor}
    env = describe()
    env["precision"] = precision()
    return RunRecord(environment=env, settings=settings, claims=results, papers=papers_json(c.id for c in claims))


def _evidence(claim: Claim, o: Outcome) -> Evidence:
    from theorycheck.running.imports import WorkerImportError

    if o.ok:
        return o.value
    # run_one never raises, so this is the executor failing: the claim's module not importable in the worker, or
    # the worker killed, or a claim that cannot be pickled
    if isinstance(o.exception, WorkerImportError):
        return error_evidence(claim, str(o.exception), "claim not importable in the worker")
    return error_evidence(claim, o.error or "worker failed", "worker failed")


__all__ = [
    "MAX_TRACEBACK", "MAX_WARNINGS", "error_evidence", "precision", "run_claims", "run_one",
]
