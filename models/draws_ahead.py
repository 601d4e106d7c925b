"""Random draws made ahead, in order, on a background thread, while the lane does its FFTs.

A simulated lane draws its noise (laser RIN, shot noise, TIA noise) from one
``numpy.random.Generator`` in a fixed order; the draws do not depend on the signal (the shot
noise is ``sqrt(q·I·fs)`` times standard normals), so they can be made while the main thread
propagates the field.  :class:`DrawsAhead` runs the jobs that use the generator one after
another on a single background thread, in the order they were submitted, so the stream of
numbers each job gets, and so every result, is the same as drawing them inline: bit for bit,
with or without the thread (``threads=1`` runs each job at once, inline).

numpy's generators and ufuncs release the GIL on large arrays, so on a 2-core machine the
draws cost (almost) no wall time (``benchmarks/bench_models.py``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

_LOCK = threading.Lock()
_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_PID: int | None = None


def _executor() -> ThreadPoolExecutor:
    """The process's single draw thread (created anew after a fork: threads do not survive it)."""
    global _EXECUTOR, _EXECUTOR_PID
    with _LOCK:
        if _EXECUTOR is None or _EXECUTOR_PID != os.getpid():
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="models-draws")
            _EXECUTOR_PID = os.getpid()
        return _EXECUTOR


def shutdown() -> None:
    """Stop the draw thread (after its queued jobs); the next :class:`DrawsAhead` starts a new one.

    :func:`models.link.simulate` calls it before forking its worker processes, so that the
    process it forks runs no other thread.
    """
    global _EXECUTOR, _EXECUTOR_PID
    with _LOCK:
        ex, _EXECUTOR, _EXECUTOR_PID = _EXECUTOR, None, None
    if ex is not None:
        ex.shutdown(wait=True)


class DrawsAhead:
    """Jobs ``fn(rng, *args)`` run in submission order, ahead of the caller.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only generator the jobs use; the caller must not draw from it until every
        submitted job has finished (:meth:`wait`).
    background : bool
        Run the jobs on the background thread (True) or at once, inline (False).  The
        results are identical either way.
    """

    def __init__(self, rng: np.random.Generator, *, background: bool) -> None:
        self.rng = rng
        self.background = bool(background)
        self._futures: list[Future[Any]] = []

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``fn(rng, *args)``; its result (or exception) comes from the returned future."""
        if self.background:
            fut = _executor().submit(fn, self.rng, *args)
        else:
            fut = Future()
            try:
                fut.set_result(fn(self.rng, *args))
            except BaseException as exc:  # handed to the caller through result(), as in the thread
                fut.set_exception(exc)
        self._futures.append(fut)
        return fut

    def idle(self) -> bool:
        """True when every job submitted so far has finished (the draw thread is free for this lane)."""
        return all(f.done() for f in self._futures)

    def wait(self) -> None:
        """Block until every submitted job has finished (their errors are left in their futures)."""
        wait(self._futures)
