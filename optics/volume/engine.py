"""Many modules of a population, evaluated in order on this machine's cores or on a Dask cluster.

:func:`run_modules` cuts the module indices into chunks, has each chunk evaluated by
:func:`optics.volume.evaluate.evaluate_chunk` and yields the
:class:`~optics.volume.evaluate.ModuleOutcome` of every module **in the order of the
indices**, whatever order the chunks finish in.  Three places can run the chunks:

* ``workers=1``: this process, one module after the other (no pool);
* ``workers=K`` (default: ``os.cpu_count()``): K local processes of a
  :class:`concurrent.futures.ProcessPoolExecutor` (forkserver start method where the platform
  has it, else spawn: the workers never inherit the caller's threads; as with any such pool, a
  script that runs one needs the ``if __name__ == "__main__":`` guard).  Each worker uses one
  BLAS thread, and a SIGINT (the terminal's Ctrl-C, or the parent's on an interrupt) stops
  only the chunk it is evaluating;
* ``scheduler="tcp://host:port"``: the workers of an existing Dask distributed cluster,
  through a :class:`distributed.Client` (the workers need this package installed and the
  plan, and a link design's own files, at the same paths: see
  :class:`~optics.volume.evaluate.YieldJob`).

The result does not depend on where it ran: module *k* is drawn from ``(seed, k)`` alone and
evaluated deterministically, so this module only distributes work and reorders results; local,
one worker, any chunk size or a cluster give bit-identical verdicts and records.

Memory stays bounded: at most :data:`CHUNKS_PER_WORKER` chunks per worker are outstanding
(submitted and not yet yielded, finished ones waiting for an earlier chunk included), and an
outcome holds no waveform, so a lot of 100 000 modules streams through.

Ctrl-C stops the run and keeps what is finished: nothing more is submitted, pending chunks are
cancelled, the local workers drop the chunks under way (a cluster's client is closed), the finished
modules that come next in order are still yielded, then the iteration ends normally with
:attr:`ModuleRun.interrupted` set.  This holds for a :class:`KeyboardInterrupt` while the run
waits or evaluates, or raised by the progress callback, and (in the main thread, where the run
handles SIGINT while it lasts) for a Ctrl-C that lands in the caller's loop body: the run stops
when the next outcome is asked for.  A run left unfinished is cleaned up when it is closed
(:meth:`ModuleRun.close`, the ``with`` statement, or garbage collection).
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import operator
import os
import signal
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent import futures as cf
from multiprocessing.connection import wait as wait_for_sentinels
from typing import Any, Protocol, TextIO

from optics.errors import InvalidParameter, InvalidType
from optics.volume.evaluate import ModuleOutcome, YieldJob, evaluate_chunk

#: Chunks outstanding per worker (in flight or finished and waiting for an earlier one).
CHUNKS_PER_WORKER = 3
#: Largest default chunk (modules); smaller when there are few modules per worker.
MAX_DEFAULT_CHUNK = 16
#: Largest ``workers`` accepted.
MAX_WORKERS = 1024
#: Seconds a local worker has to end its chunk after Ctrl-C before it is terminated.
ABORT_GRACE_S = 10.0
#: Seconds to wait for a Dask scheduler to answer.
SCHEDULER_TIMEOUT_S = 30.0
#: Modules a local worker imports before it is forked from the fork server (a speed-up only).
WORKER_PRELOAD = ("optics.volume.evaluate", "models.population", "models.link", "optics.tdecq",
                  "optics.station.judging")


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a run stands, handed to the progress callback after each finished chunk.

    Attributes
    ----------
    done, total : int
        Modules evaluated so far (in any order) and modules of the run.
    elapsed_s : float
        Wall time since the run started, s.
    rate_per_s : float
        ``done / elapsed_s``, modules/s (0.0 before the first module).
    eta_s : float or None
        ``(total - done) / rate_per_s``, s; None before the first module.
    """

    done: int
    total: int
    elapsed_s: float
    rate_per_s: float
    eta_s: float | None

    @classmethod
    def at(cls, done: int, total: int, elapsed_s: float) -> Progress:
        """The progress after ``done`` of ``total`` modules in ``elapsed_s`` seconds."""
        rate = done / elapsed_s if done > 0 and elapsed_s > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else None
        return cls(done=done, total=total, elapsed_s=elapsed_s, rate_per_s=rate, eta_s=eta)

    def to_text(self) -> str:
        """``"yield: 120/1000 modules, 3.2 modules/s, 4 min 35 s left"``."""
        text = f"yield: {self.done}/{self.total} modules"
        if self.rate_per_s > 0:
            rate = f"{self.rate_per_s:.1f}" if self.rate_per_s >= 1 else f"{self.rate_per_s:.2g}"
            text += f", {rate} modules/s"
            if self.done >= self.total:
                text += f", done in {duration_text(self.elapsed_s)}"
            elif self.eta_s is not None:
                text += f", {duration_text(self.eta_s)} left"
        return text


def duration_text(seconds: float) -> str:
    """A duration in words: ``"35 s"``, ``"4 min 35 s"``, ``"2 h 05 min"`` (rounded to the second)."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class TextProgress:
    """Progress callback printing :meth:`Progress.to_text` lines to a stream, at most one per
    ``interval_s`` (the last one of a run, ``done == total``, always).

    Parameters
    ----------
    stream : text stream, optional
        Where to print (default: ``sys.stderr`` at the time of each call).
    interval_s : float
        Least time between two lines, s (>= 0).
    clock : callable
        Monotonic clock in s (tests pass a fake one).
    """

    def __init__(self, stream: TextIO | None = None, *, interval_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if isinstance(interval_s, bool) or not isinstance(interval_s, (int, float)) \
                or not (math.isfinite(interval_s) and interval_s >= 0):
            raise InvalidParameter(f"interval_s = {interval_s!r} must be a finite number >= 0 (s)")
        self.stream = stream
        self.interval_s = float(interval_s)
        self.clock = clock
        self._last: float | None = None

    def __call__(self, progress: Progress) -> None:
        now = self.clock()
        final = progress.done >= progress.total
        if not final and self._last is not None and now - self._last < self.interval_s:
            return
        self._last = now
        stream = sys.stderr if self.stream is None else self.stream
        print(progress.to_text(), file=stream, flush=True)


def text_progress(stream: TextIO | None = None, *, interval_s: float = 1.0) -> TextProgress:
    """The default progress printer (:class:`TextProgress`) on ``stream`` (default stderr)."""
    return TextProgress(stream, interval_s=interval_s)


class _Backend(Protocol):
    """Where chunks run: submit, wait for some, harvest the finished, abort or close."""

    def slots(self) -> int: ...
    def submit(self, job: YieldJob, chunk: list[int]) -> Any: ...
    def wait(self, pending: Iterable[Any]) -> Iterable[Any]: ...
    def finished_ok(self, future: Any) -> bool: ...
    def abort(self, pending: Iterable[Any]) -> None: ...
    def close(self) -> None: ...


_IN_CHUNK = False      # in a local worker: a chunk is being evaluated


def _worker_sigint(signum: int, frame: Any) -> None:
    """SIGINT in a local worker: stop the chunk under way (its future ends in KeyboardInterrupt);
    between chunks, while the worker reads a task or writes a result, nothing happens."""
    if _IN_CHUNK:
        raise KeyboardInterrupt


def _worker_init() -> None:
    """A local worker: SIGINT stops only a chunk (:func:`_worker_sigint`), one BLAS thread."""
    signal.signal(signal.SIGINT, _worker_sigint)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _worker_chunk(job: YieldJob, chunk: list[int]) -> list[ModuleOutcome]:
    """:func:`~optics.volume.evaluate.evaluate_chunk` in a local worker, interruptible by SIGINT."""
    global _IN_CHUNK
    _IN_CHUNK = True
    try:
        return evaluate_chunk(job, chunk)
    finally:
        _IN_CHUNK = False


class _LocalPool:
    """``workers`` local processes of a ProcessPoolExecutor."""

    def __init__(self, workers: int) -> None:
        if "forkserver" in multiprocessing.get_all_start_methods():
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(list(WORKER_PRELOAD))
        else:
            ctx = multiprocessing.get_context("spawn")
        self.workers = workers
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init)

    def slots(self) -> int:
        return self.workers

    def submit(self, job: YieldJob, chunk: list[int]) -> cf.Future:
        return self.pool.submit(_worker_chunk, job, chunk)

    def wait(self, pending: Iterable[cf.Future]) -> Iterable[cf.Future]:
        return cf.wait(list(pending), return_when=cf.FIRST_COMPLETED).done

    def finished_ok(self, future: cf.Future) -> bool:
        return future.done() and not future.cancelled() and future.exception() is None

    def abort(self, pending: Iterable[cf.Future]) -> None:
        """Cancel what has not started, stop the chunks under way by SIGINT (each worker then
        ends its chunk with KeyboardInterrupt, between two steps of Python, so no task or result
        is left half written in the pool's pipes), and shut the pool down.  A worker that has
        not exited after :data:`ABORT_GRACE_S` is terminated."""
        for f in pending:
            f.cancel()
        # The executor's worker processes (pid -> Process); no public accessor before 3.14.
        procs = [p for p in list((getattr(self.pool, "_processes", None) or {}).values()) if p.is_alive()]
        for p in procs:
            try:
                os.kill(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        self.pool.shutdown(wait=False, cancel_futures=True)
        alive = {p.sentinel: p for p in procs}
        deadline = time.monotonic() + ABORT_GRACE_S
        while alive and (left := deadline - time.monotonic()) > 0:
            for sentinel in wait_for_sentinels(list(alive), left):
                alive.pop(sentinel)
        for p in alive.values():
            p.terminate()
        self.pool.shutdown(wait=True)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskCluster:
    """The workers of a Dask distributed cluster, through a client of its scheduler."""

    def __init__(self, address: str) -> None:
        from distributed import Client, as_completed

        try:
            self.client = Client(address, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"no Dask scheduler answers at {address!r} within {SCHEDULER_TIMEOUT_S:g} s "
                                  f"({exc})") from None
        self._finished = as_completed(loop=self.client.loop)    # the submitted futures, as they finish

    def slots(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def submit(self, job: YieldJob, chunk: list[int]) -> Any:
        future = self.client.submit(evaluate_chunk, job, chunk, pure=False)
        self._finished.add(future)
        return future

    def wait(self, pending: Iterable[Any]) -> Iterable[Any]:
        return self._finished.next_batch(block=True)

    def finished_ok(self, future: Any) -> bool:
        return future.status == "finished"

    def abort(self, pending: Iterable[Any]) -> None:
        pending = list(pending)
        try:
            if pending:
                self.client.cancel(pending)
        finally:
            self.client.close()

    def close(self) -> None:
        self.client.close()


class ModuleRun(Iterator[ModuleOutcome]):
    """The iterator :func:`run_modules` returns: outcomes in index order, then the state.

    While it runs (from the first outcome asked for to the end), Ctrl-C in the main thread
    is the run's (unless the caller ignores SIGINT or has a handler of its own): one that lands while the run works (waits, evaluates, reports progress)
    stops it at once, one that lands in the caller's loop body stops it when the next
    outcome is asked for, a second one then is an ordinary :class:`KeyboardInterrupt`.  The
    caller's SIGINT handler is restored when the run ends.

    Attributes
    ----------
    total : int
        Modules of the run.
    done : int
        Outcomes yielded so far.
    interrupted : bool
        The run was stopped by Ctrl-C (:class:`KeyboardInterrupt`) before it finished; the
        iteration then ended normally after the finished modules that came next in order.
    max_outstanding : int
        Most chunks that may be outstanding at once (in flight or finished, not yet yielded).
    peak_outstanding : int
        Most chunks that were outstanding at once.
    """

    def __init__(self, job: YieldJob, indices: Sequence[int], *, workers: int, scheduler: str | None,
                 chunk_size: int | None, progress: Callable[[Progress], None] | None) -> None:
        self.job = job
        self.indices = indices
        self.total = len(indices)
        self.workers = workers
        self.scheduler = scheduler
        self.chunk_size = chunk_size
        self.progress = progress
        self.done = 0
        self.interrupted = False
        self.max_outstanding = 0
        self.peak_outstanding = 0
        self._finished = 0
        self._t0 = 0.0                  # perf_counter at the start of the run
        self._gen: Generator[ModuleOutcome, None, None] | None = None
        self._inside = False            # the run's own code is executing (not the caller's loop body)
        self._stop_requested = False    # Ctrl-C landed in the caller's loop body
        self._sigint: Any = None        # our handler while installed
        self._previous_sigint: Any = None

    def __iter__(self) -> ModuleRun:
        return self

    def __next__(self) -> ModuleOutcome:
        if self._gen is None:
            self._gen = self._stream()
            self._install_sigint()
        gen = self._gen
        stop, self._stop_requested = self._stop_requested, False
        if stop and self.interrupted:   # Ctrl-C again while the finished modules are handed over
            self.close()
            raise StopIteration
        self._inside = True
        try:
            outcome = gen.throw(KeyboardInterrupt()) if stop else next(gen)
        except BaseException:           # StopIteration at the end, or an error: the run is over
            self._restore_sigint()
            raise
        finally:
            self._inside = False
        self.done += 1
        return outcome

    def close(self) -> None:
        """Stop the run now (pending chunks cancelled, local workers stopped, client closed)."""
        try:
            if self._gen is None:       # never started: nothing will run
                self._gen = (outcome for outcome in ())
            self._gen.close()
        finally:
            self._restore_sigint()

    def __enter__(self) -> ModuleRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _install_sigint(self) -> None:
        # only over Python's own handler: a caller that ignores SIGINT or handles it keeps it
        if threading.current_thread() is not threading.main_thread() \
                or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return
        ref = weakref.ref(self)

        def on_sigint(signum: int, frame: Any) -> None:
            run = ref()
            if run is None or run._inside or run._stop_requested:
                raise KeyboardInterrupt
            run._stop_requested = True

        try:
            self._previous_sigint = signal.signal(signal.SIGINT, on_sigint)
        except ValueError:              # not the main interpreter
            return
        self._sigint = on_sigint

    def _restore_sigint(self) -> None:
        if self._sigint is None:
            return
        if signal.getsignal(signal.SIGINT) is self._sigint:
            signal.signal(signal.SIGINT, self._previous_sigint)
        self._sigint = None

    def _report(self, n_modules: int) -> None:
        self._finished += n_modules
        if self.progress is not None:
            self.progress(Progress.at(self._finished, self.total, time.perf_counter() - self._t0))

    def _stream(self) -> Generator[ModuleOutcome, None, None]:
        self._t0 = time.perf_counter()
        if self.total == 0:
            return
        if self.scheduler is None:
            size = self.chunk_size or default_chunk_size(self.total, self.workers)
            workers = min(self.workers, -(-self.total // size))
            if workers <= 1:
                yield from self._in_process()
                return
            backend: _Backend = _LocalPool(workers)
        else:
            backend = _DaskCluster(self.scheduler)
            size = self.chunk_size or default_chunk_size(self.total, backend.slots())
        yield from self._ordered(backend, size)

    def _in_process(self) -> Generator[ModuleOutcome, None, None]:
        """One module at a time in this process (a Ctrl-C loses at most the module under way)."""
        self.max_outstanding = self.peak_outstanding = 1
        outcome = None
        try:
            for k in self.indices:
                (outcome,) = evaluate_chunk(self.job, [k])
                self._report(1)
                finished, outcome = outcome, None
                yield finished
        except KeyboardInterrupt:
            self.interrupted = True
            if outcome is not None:     # finished; the progress callback was interrupted
                yield outcome

    def _ordered(self, backend: _Backend, size: int) -> Generator[ModuleOutcome, None, None]:
        """Chunks on ``backend``, at most CHUNKS_PER_WORKER per slot outstanding, yielded in order."""
        chunks = (list(self.indices[i:i + size]) for i in range(0, self.total, size))
        n_chunks = -(-self.total // size)
        pending: dict[Any, int] = {}                        # future -> chunk position
        ready: dict[int, deque[ModuleOutcome]] = {}         # finished chunks not yet yielded
        submitted = next_pos = 0
        clean = False
        try:
            try:
                while next_pos < n_chunks:
                    window = CHUNKS_PER_WORKER * backend.slots()
                    self.max_outstanding = max(self.max_outstanding, window)
                    while submitted < n_chunks and submitted - next_pos < window:
                        pending[backend.submit(self.job, next(chunks))] = submitted
                        submitted += 1
                    self.peak_outstanding = max(self.peak_outstanding, submitted - next_pos)
                    while next_pos not in ready:
                        for fut in backend.wait(pending):
                            outcomes = fut.result()         # a worker's error is raised here
                            ready[pending.pop(fut)] = deque(outcomes)
                            self._report(len(outcomes))
                    while next_pos in ready:
                        queue = ready[next_pos]
                        while queue:
                            yield queue.popleft()
                        del ready[next_pos]
                        next_pos += 1
                clean = True
            except KeyboardInterrupt:
                self.interrupted = True
                for fut in [f for f in pending if backend.finished_ok(f)]:
                    ready[pending.pop(fut)] = deque(fut.result())
                backend.abort(pending)
                clean = True
                while next_pos in ready:                    # the finished modules that come next
                    queue = ready[next_pos]
                    while queue:
                        yield queue.popleft()
                    del ready[next_pos]
                    next_pos += 1
        finally:
            if clean and not self.interrupted:
                backend.close()
            elif not clean:                                 # an error, or the caller closed the run
                backend.abort(pending)


def default_chunk_size(n_modules: int, workers: int) -> int:
    """``max(1, min(16, n_modules // (4 workers)))``: four chunks per worker at least, up to 16 modules."""
    return max(1, min(MAX_DEFAULT_CHUNK, n_modules // (4 * max(1, workers))))


def _integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise InvalidParameter(f"{name} = {value!r} must be {allowed}")
    return value


def _indices(indices_or_n: int | Iterable[int]) -> Sequence[int]:
    if isinstance(indices_or_n, range):
        if indices_or_n and (indices_or_n.start < 0 or indices_or_n[-1] < 0):
            raise InvalidParameter(f"module indices {indices_or_n!r} must be >= 0")
        return indices_or_n
    if isinstance(indices_or_n, int) and not isinstance(indices_or_n, bool):
        return range(_integer("number of modules", indices_or_n, 0))
    if isinstance(indices_or_n, (str, bytes)) or not isinstance(indices_or_n, Iterable):
        raise InvalidType(f"modules must be a number of modules or an iterable of module indices, "
                          f"got {indices_or_n!r}")
    out = []
    for k in indices_or_n:
        try:
            if isinstance(k, bool):
                raise TypeError
            k = operator.index(k)
        except TypeError:
            raise InvalidType(f"module index {k!r} must be an integer") from None
        if k < 0:
            raise InvalidParameter(f"module index {k!r} must be >= 0")
        out.append(k)
    return tuple(out)


def run_modules(job: YieldJob, indices_or_n: int | Iterable[int], *, workers: int | None = None,
                scheduler: str | None = None, chunk_size: int | None = None,
                progress: Callable[[Progress], None] | None = None) -> ModuleRun:
    """Evaluate modules of ``job``'s population and yield their outcomes in index order.

    Parameters
    ----------
    job : YieldJob
        Population, plan and record settings (:meth:`YieldJob.from_files`).
    indices_or_n : int or iterable of int
        ``n`` for modules ``0 .. n-1``, or the module indices (yielded in the order given).
    workers : int, optional
        Local processes (1 to 1024; default ``os.cpu_count()``); 1 evaluates in this process.
        Not with ``scheduler`` (the cluster's workers run the chunks).
    scheduler : str, optional
        Address of a Dask distributed scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    chunk_size : int, optional
        Modules per task (>= 1; default :func:`default_chunk_size`).  In this process
        (``workers=1``) modules are evaluated one by one whatever the chunk size.
    progress : callable, optional
        Called with a :class:`Progress` after each finished chunk (:func:`text_progress`
        prints one); a :class:`KeyboardInterrupt` it raises stops the run as Ctrl-C does.

    Returns
    -------
    ModuleRun
        Iterator of :class:`~optics.volume.evaluate.ModuleOutcome`; after the loop its
        ``interrupted`` tells whether Ctrl-C stopped the run.  Nothing starts before the
        first outcome is asked for.

    Raises
    ------
    InvalidType, InvalidParameter
        Bad indices, workers, chunk size or scheduler address (at the call).
    ConnectionError
        No scheduler answers at ``scheduler`` (when the iteration starts).
    InvalidParameter
        A module the models refuse (from its worker, when its turn comes).

    Examples
    --------
    >>> from optics.volume.evaluate import YieldJob
    >>> job = YieldJob.from_files("800g-dr8", "optics/station/plans/800g-dr8.toml")  # doctest: +SKIP
    >>> run = run_modules(job, 1000, progress=text_progress())                       # doctest: +SKIP
    >>> passed = sum(o.passed for o in run)                                          # doctest: +SKIP
    """
    if not isinstance(job, YieldJob):
        raise InvalidType(f"job must be a YieldJob, got {type(job).__name__}")
    indices = _indices(indices_or_n)
    if scheduler is not None:
        if workers is not None:
            raise InvalidParameter(f"workers = {workers!r} applies to local processes; with scheduler "
                                   f"{scheduler!r} the cluster's workers run the chunks")
        if not isinstance(scheduler, str) or "://" not in scheduler or not scheduler.split("://", 1)[1]:
            raise InvalidParameter(f"scheduler = {scheduler!r} must be a Dask scheduler address such as "
                                   "'tcp://host:8786'")
        n_workers = 1
    else:
        n_workers = (os.cpu_count() or 1) if workers is None else _integer("workers", workers, 1, MAX_WORKERS)
    if chunk_size is not None:
        chunk_size = _integer("chunk_size", chunk_size, 1)
    if progress is not None and not callable(progress):
        raise InvalidType(f"progress must be callable, got {progress!r}")
    return ModuleRun(job, indices, workers=n_workers, scheduler=scheduler, chunk_size=chunk_size,
                     progress=progress)


__all__ = ["ABORT_GRACE_S", "CHUNKS_PER_WORKER", "MAX_DEFAULT_CHUNK", "MAX_WORKERS", "ModuleRun", "Progress", "SCHEDULER_TIMEOUT_S",
           "TextProgress", "WORKER_PRELOAD", "default_chunk_size", "duration_text", "run_modules", "text_progress"]
