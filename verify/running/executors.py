"""Where the embarrassingly parallel work runs: serially, on a process pool, or on Dask.

Two levels of parallelism, both through this module and nothing home-made:

- **Claims** are the unit of a run: :func:`theorycheck.running.runner.run_claims` maps
  :func:`theorycheck.running.runner.run_one` over the selected claims with the executor
  named by ``--executor``.
- **Inner sweeps** (losses x step ladders, stability sweeps, seeds) inside a
  claim go through :func:`parallel_map(fn, items, ctx) <parallel_map>`. On Dask
  they become tasks of the same cluster (submitted from inside the worker with
  ``distributed.worker_client``, which secedes so nothing deadlocks); inside a
  process-pool worker they run serially (a nested pool would only
  oversubscribe the cores the outer pool already fills).

Results are identical to a serial run: every item carries its own seed, the
function is pure, and results come back in input order whatever order the
work finishes in. ``fn`` and items are shipped with cloudpickle, so lambdas
and closures work on every executor.

Progress bars (tqdm) are drawn only when stderr is a terminal and never in a
worker, so CI logs stay clean; Dask's own logging is silenced to errors.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from abc import ABC, abstractmethod
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, TypeVar

from theorycheck.core.errors import InputError

if TYPE_CHECKING:
    from theorycheck.claims import RunContext

_T = TypeVar("_T")
_R = TypeVar("_R")

EXECUTORS = ("serial", "process", "dask")
#: ``--executor auto`` (the default of ``theorycheck run``): a process pool where it pays, else serial.
AUTO = "auto"

_IN_WORKER = False  # set in process-pool workers by the initializer
_CURRENT: "Executor | None" = None  # the executor a run opened, reused by parallel_map in the main process


@dataclass
class Outcome:
    """One item's result, or the exception it raised (``ok`` False, ``error`` the message)."""

    ok: bool
    value: Any = None
    error: str = ""
    exception: BaseException | None = None


def _progress_default(progress: bool | None) -> bool:
    return (sys.stderr.isatty() and not _in_worker()) if progress is None else bool(progress and not _in_worker())


def _in_worker() -> bool:
    if _IN_WORKER:
        return True
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            get_worker()
            return True
        except ValueError:
            return False
    return False


def _bar(total: int, desc: str, progress: bool | None) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="item", disable=not _progress_default(progress), file=sys.stderr,
                leave=False)


def _apply(payload: bytes) -> Any:
    """Worker side: make the parent's user files importable, unpickle (fn, item) with cloudpickle and call.

    A module the task refers to that cannot be imported here ends the task with a
    :class:`~theorycheck.running.imports.WorkerImportError` that says which and why.
    """
    import pickle

    import cloudpickle

    from theorycheck.running import imports

    ctx, task = pickle.loads(payload)  # plain data (strings) around the task's own bytes
    imports.enter(ctx)
    try:
        fn, item = cloudpickle.loads(task)
    except ImportError as exc:
        raise imports.worker_failure(exc, ctx) from None
    return fn(item)


def _pack(fn: Callable[[Any], Any], item: Any) -> bytes:
    """(fn, item) as bytes for a worker, with the user files it may refer to (:func:`imports.context`)."""
    import pickle

    import cloudpickle

    from theorycheck.running import imports

    return pickle.dumps((imports.context(), cloudpickle.dumps((fn, item))))


def _describe(exc: BaseException) -> str:
    import traceback

    return traceback.format_exception_only(type(exc), exc)[-1].strip()


class Executor(ABC):
    """Maps a function over items and returns per-item :class:`Outcome` in input order."""

    name: str = ""

    @abstractmethod
    def map_outcomes(self, fn: Callable[[_T], _R], items: Sequence[_T], *, desc: str = "",
                     progress: bool | None = None,
                     on_result: Callable[[int, Outcome], None] | None = None,
                     costs: Sequence[float | None] | None = None) -> list[Outcome]:
        """Run ``fn`` on every item; an exception in one item becomes its Outcome, not the caller's.

        ``costs`` (expected seconds per item, None where unknown) only changes the order in which a
        parallel executor starts the items (:func:`submission_order`); results stay in input order.
        """

    def map(self, fn: Callable[[_T], _R], items: Sequence[_T], *, desc: str = "", progress: bool | None = None) -> list[_R]:
        """Results of ``fn`` in input order; re-raises the first item's exception."""
        outs = self.map_outcomes(fn, items, desc=desc, progress=progress)
        for o in outs:
            if not o.ok:
                if o.exception is not None:
                    raise o.exception
                raise RuntimeError(o.error)
        return [o.value for o in outs]

    def close(self) -> None:
        """Release workers (no-op for serial)."""

    def __enter__(self) -> "Executor":
        global _CURRENT
        self._previous = _CURRENT
        _CURRENT = self
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        global _CURRENT
        _CURRENT = self._previous
        if exc_type is not None:
            self.abort()  # an interrupt or a signal: do not wait for the work in flight
        else:
            self.close()

    def abort(self) -> None:
        """Stop now, ending workers without waiting for their work (default: :meth:`close`)."""
        self.close()


class SerialExecutor(Executor):
    """In this process, in order: the reference every other executor must reproduce."""

    name = "serial"

    def map_outcomes(self, fn, items, *, desc="", progress=None, on_result=None,  # type: ignore[override]
                     costs=None):
        outs = []
        with _bar(len(items), desc, progress) as bar:
            for i, item in enumerate(items):
                try:
                    o = Outcome(True, fn(item))
                except Exception as exc:  # noqa: BLE001 - returned to the caller as an Outcome
                    o = Outcome(False, error=_describe(exc), exception=exc)
                outs.append(o)
                if on_result:
                    on_result(i, o)
                bar.update()
        return outs


#: BLAS/OpenMP thread pools of a pool worker: one thread each, since the pool already fills every core
#: (several threads per worker on a busy machine spin and cost several times the CPU of one).
WORKER_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _mark_worker() -> None:
    global _IN_WORKER
    _IN_WORKER = True
    # spawned workers run this before they import numpy, so the BLAS reads it when it loads
    for k, v in WORKER_THREAD_ENV.items():
        os.environ.setdefault(k, v)


class ProcessExecutor(Executor):
    """A ``concurrent.futures`` process pool (spawned workers: safe with threaded libraries such as heyoka's TBB)."""

    name = "process"

    def __init__(self, max_workers: int | None = None) -> None:
        import multiprocessing

        self.max_workers = max_workers or _usable_cpus()
        self._pool = ProcessPoolExecutor(max_workers=self.max_workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_mark_worker)

    def map_outcomes(self, fn, items, *, desc="", progress=None, on_result=None,  # type: ignore[override]
                     costs=None):
        from theorycheck.running.limits import interrupts_deferred

        # the first submit spawns the workers: a Ctrl-C in the middle would leave a half-started child that
        # prints its own traceback, so the interrupt waits until they are started (abort() then ends them)
        with interrupts_deferred():
            # longest expected first (LPT scheduling): the pool's tail is then made of short items
            futures: dict[Future[Any], int] = {self._pool.submit(_apply, _pack(fn, items[i])): i
                                               for i in submission_order(len(items), costs)}
        return _collect(futures, as_completed(futures), len(items), desc, progress, on_result)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        for proc in list((getattr(self._pool, "_processes", None) or {}).values()):
            proc.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """dask.distributed: a ``LocalCluster`` of single-threaded worker processes, or the scheduler at ``address``."""

    name = "dask"

    def __init__(self, address: str | None = None, n_workers: int | None = None, connect_timeout: float = 20.0) -> None:
        from distributed import Client, LocalCluster

        self._cluster = None
        try:
            if address:
                _probe(address, connect_timeout)  # fail with one line before Client leaves a half-made object
                self._client = Client(address, timeout=f"{connect_timeout}s")
            else:
                self._cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1, threads_per_worker=1,
                                             processes=True, dashboard_address=None, silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
        except (OSError, TimeoutError, ValueError) as exc:
            if self._cluster is not None:
                self._cluster.close()
            if not address:
                raise
            reason = " ".join(str(exc).split())[:200]
            raise InputError(f"`--scheduler` {address!r}: cannot connect to a Dask scheduler ({reason}).") from None

    def map_outcomes(self, fn, items, *, desc="", progress=None, on_result=None,  # type: ignore[override]
                     costs=None):
        from distributed import as_completed as dask_completed

        order = submission_order(len(items), costs)
        futs = self._client.map(_apply, [_pack(fn, items[i]) for i in order], pure=False)
        index = {f.key: i for i, f in zip(order, futs)}
        outs: list[Outcome | None] = [None] * len(items)
        with _bar(len(items), desc, progress) as bar:
            for f in dask_completed(futs):
                i = index[f.key]
                if f.status == "finished":
                    outs[i] = Outcome(True, f.result())
                else:
                    exc = f.exception()
                    outs[i] = Outcome(False, error=_describe(exc), exception=exc)
                if on_result:
                    on_result(i, outs[i])  # type: ignore[arg-type]
                bar.update()
        return outs  # type: ignore[return-value]

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _probe(address: str, timeout: float) -> None:
    """Open and close one connection to the scheduler at ``address``."""
    import asyncio

    from distributed.comm import connect

    async def go() -> None:
        comm = await connect(address, timeout=timeout)
        await comm.close()

    asyncio.run(go())


def _collect(futures: dict[Future[Any], int], done: Iterable[Future[Any]], n: int, desc: str,
             progress: bool | None, on_result: Callable[[int, Outcome], None] | None) -> list[Outcome]:
    outs: list[Outcome | None] = [None] * n
    with _bar(n, desc, progress) as bar:
        for f in done:
            i = futures[f]
            exc = f.exception()
            outs[i] = Outcome(True, f.result()) if exc is None else Outcome(False, error=_describe(exc), exception=exc)
            if on_result:
                on_result(i, outs[i])  # type: ignore[arg-type]
            bar.update()
    return outs  # type: ignore[return-value]


def submission_order(n: int, costs: Sequence[float | None] | None) -> list[int]:
    """Indices 0..n−1, longest expected cost first (unknown costs first of all, in input order).

    Starting the longest items first is the LPT rule (Graham 1969): its makespan is within 4/3 of
    the optimum, where input order can leave one long item running alone at the end.
    """
    if not costs:
        return list(range(n))
    key = [math.inf if c is None else float(c) for c in costs]
    return sorted(range(n), key=lambda i: (-key[i], i))


def default_executor(n_items: int, cpus: int | None = None) -> str:
    """What ``--executor auto`` means: ``process`` for more than one item on more than one core, else ``serial``.

    A pool pays its start-up (each worker imports the libraries once, about 2 s of CPU) only when
    at least two claims can run at once.
    """
    cpus = _usable_cpus() if cpus is None else cpus
    return "process" if n_items > 1 and cpus > 1 else "serial"


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def get_executor(name: str, scheduler: str | None = None, max_workers: int | None = None) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`); ``scheduler`` only with ``dask``."""
    if name not in EXECUTORS:
        raise InputError(f"`--executor` must be one of {', '.join(EXECUTORS)}; got {name!r}.")
    if scheduler and name != "dask":
        raise InputError(f"`--scheduler` needs `--executor dask`; got `--executor {name}`.")
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(max_workers)
    return DaskExecutor(scheduler, max_workers)


def parallel_map(fn: Callable[[_T], _R], items: Iterable[_T], ctx: "RunContext", *, desc: str = "",
                 progress: bool | None = None) -> list[_R]:
    """``[fn(x) for x in items]`` on the run's executor; results in input order, identical to serial.

    ``fn`` must be pure given its item (put the seed in the item). Inside a
    Dask worker the items become tasks of the same cluster; inside a process
    pool worker, or with ``ctx.executor == "serial"``, they run here in order.
    In the main process the executor the run opened is reused; a claim run
    on its own with a parallel ``ctx.executor`` opens one for this call.
    """
    items = list(items)
    if ctx.executor == "serial" or len(items) <= 1 or _IN_WORKER:
        return SerialExecutor().map(fn, items, desc=desc, progress=progress)
    if _in_worker():  # a Dask worker: hand the sweep to the cluster without holding a worker thread
        from distributed import worker_client

        with worker_client() as client:
            futs = client.map(_apply, [_pack(fn, item) for item in items], pure=False)
            return client.gather(futs)
    if _CURRENT is not None and _CURRENT.name == ctx.executor:
        return _CURRENT.map(fn, items, desc=desc, progress=progress)
    with get_executor(ctx.executor, ctx.scheduler) as ex:
        return ex.map(fn, items, desc=desc, progress=progress)


__all__ = [
    "AUTO", "DaskExecutor", "EXECUTORS", "Executor", "Outcome", "ProcessExecutor", "SerialExecutor",
    "WORKER_THREAD_ENV",
    "default_executor", "get_executor", "parallel_map", "submission_order",
]
