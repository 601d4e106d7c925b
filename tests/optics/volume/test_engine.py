"""The yield engine: the same outcomes in index order wherever the modules ran (this process,
local worker processes with any chunk size, a real Dask cluster on loopback), bounded memory,
progress, and Ctrl-C that keeps the finished modules.

The reference of every agreement test is :func:`optics.volume.evaluate.evaluate_module`
called directly in this process, module by module: the engine only distributes the work, so
its outcomes must equal those bit for bit (verdicts and every record's value).
"""

from __future__ import annotations

import gc
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from concurrent import futures as cf
from pathlib import Path

import pytest

from optics.errors import InvalidParameter, InvalidType
from optics.volume import engine
from optics.volume.engine import CHUNKS_PER_WORKER, Progress, TextProgress, duration_text, run_modules
from optics.volume.evaluate import ModuleOutcome, YieldJob, context, evaluate_module

PLAN = Path(__file__).with_name("dr8-2lanes-25c.toml")
#: Three healthy modules and module 135, whose weak laser dies fail lanes 0 and 1 (checked below).
INDICES = (0, 1, 2, 135)
DASK = Path(sys.executable).parent / "dask"


def _key(outcome: ModuleOutcome) -> tuple:
    return outcome.index, outcome.serial, outcome.verdict, outcome.records


@pytest.fixture(scope="module")
def job() -> YieldJob:
    return YieldJob.from_files("800g-dr8", PLAN, samples_per_symbol=8)


@pytest.fixture(scope="module")
def reference(job: YieldJob) -> list[tuple]:
    """The outcomes of INDICES from evaluate_module in this process (no engine involved)."""
    return [_key(evaluate_module(job, k)) for k in INDICES]


def test_reference_holds_a_failing_module(job: YieldJob, reference: list[tuple]) -> None:
    """The comparisons below see both verdicts: module 135 draws the weak-laser-die defect on
    the laser of lanes 0-3 and fails, the others pass."""
    assert any(name == "weak laser die" and lane == 0 for name, lane in context(job).population.module(135).defects)
    assert [r[2] for r in reference] == ["PASS", "PASS", "PASS", "FAIL"]
    assert all(len(r[3]) == len(reference[0][3]) > 0 for r in reference)


# --- progress -------------------------------------------------------------------------------


def test_progress_rate_and_time_left_in_words() -> None:
    """120 of 1000 modules in 37.5 s: 3.2 modules/s, 880 / 3.2 = 275 s = 4 min 35 s left."""
    p = Progress.at(120, 1000, 37.5)
    assert p.rate_per_s == pytest.approx(3.2) and p.eta_s == pytest.approx(275.0)
    assert p.to_text() == "yield: 120/1000 modules, 3.2 modules/s, 4 min 35 s left"
    assert Progress.at(0, 1000, 2.0).to_text() == "yield: 0/1000 modules"
    assert Progress.at(0, 1000, 2.0).eta_s is None
    assert Progress.at(1000, 1000, 312.5).to_text() == "yield: 1000/1000 modules, 3.2 modules/s, done in 5 min 12 s"
    assert Progress.at(3, 1000, 12.0).to_text() == "yield: 3/1000 modules, 0.25 modules/s, 1 h 06 min left"
    assert duration_text(59.4) == "59 s" and duration_text(7300.0) == "2 h 01 min"


def test_text_progress_prints_at_most_once_per_interval_and_always_the_last() -> None:
    now = [0.0]
    out = io.StringIO()
    printer = TextProgress(out, interval_s=1.0, clock=lambda: now[0])
    for t, done in ((0.0, 1), (0.5, 2), (0.99, 3), (1.2, 4), (1.3, 5), (1.4, 6)):
        now[0] = t
        printer(Progress.at(done, 6, t + 1.0))
    lines = out.getvalue().splitlines()
    assert [ln.split()[1] for ln in lines] == ["1/6", "4/6", "6/6"]
    with pytest.raises(InvalidParameter, match="interval_s"):
        TextProgress(out, interval_s=-1.0)


# --- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"workers": 0}, InvalidParameter, r"workers = 0 must be in \[1, 1024\]"),
    ({"workers": True}, InvalidType, "workers must be an integer"),
    ({"chunk_size": 0}, InvalidParameter, "chunk_size = 0 must be >= 1"),
    ({"scheduler": "localhost:8786"}, InvalidParameter, "scheduler = 'localhost:8786' must be a Dask"),
    ({"scheduler": "tcp://127.0.0.1:8786", "workers": 2}, InvalidParameter, "workers = 2 applies to local"),
    ({"progress": "stderr"}, InvalidType, "progress must be callable"),
])
def test_bad_arguments_are_refused_at_the_call(job: YieldJob, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        run_modules(job, 4, **kwargs)


@pytest.mark.parametrize(("modules", "error", "match"), [
    (-1, InvalidParameter, "number of modules = -1 must be >= 0"),
    ([0, -3], InvalidParameter, "module index -3 must be >= 0"),
    ([0, 1.5], InvalidType, "module index 1.5 must be an integer"),
    ("12", InvalidType, "modules must be a number of modules or an iterable"),
    (range(-2, 3), InvalidParameter, "must be >= 0"),
])
def test_bad_module_indices_are_refused(job: YieldJob, modules: object, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        run_modules(job, modules)


def test_job_must_be_a_yield_job() -> None:
    with pytest.raises(InvalidType, match="job must be a YieldJob, got str"):
        run_modules("800g-dr8", 4)


def test_default_chunk_size_gives_each_worker_four_chunks_up_to_16_modules() -> None:
    assert engine.default_chunk_size(1000, 2) == 16          # 1000 // 8 = 125, capped at 16
    assert engine.default_chunk_size(40, 2) == 5              # 40 // 8
    assert engine.default_chunk_size(3, 2) == 1


# --- the same outcomes wherever the modules ran ----------------------------------------------


def test_in_process_run_matches_evaluate_module_with_progress(job: YieldJob, reference: list[tuple]) -> None:
    seen: list[Progress] = []
    run = run_modules(job, INDICES, workers=1, chunk_size=3, progress=seen.append)
    assert [_key(o) for o in run] == reference
    assert not run.interrupted and run.done == run.total == 4
    assert [p.done for p in seen] == [1, 2, 3, 4] and all(p.total == 4 for p in seen)
    assert seen[-1].rate_per_s == pytest.approx(4 / seen[-1].elapsed_s)


@pytest.mark.parametrize("chunk_size", [1, 3])
def test_local_processes_match_evaluate_module(job: YieldJob, reference: list[tuple], chunk_size: int) -> None:
    seen: list[Progress] = []
    run = run_modules(job, INDICES, workers=2, chunk_size=chunk_size, progress=seen.append)
    assert [_key(o) for o in run] == reference
    assert not run.interrupted
    # progress after each finished chunk, in finishing order (chunks of 3: [0, 1, 2] and [135])
    assert [p.done for p in seen] in ([[1, 2, 3, 4]] if chunk_size == 1 else [[3, 4], [1, 4]])
    assert run.peak_outstanding <= run.max_outstanding == CHUNKS_PER_WORKER * 2


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory):
    """A real Dask scheduler and two single-threaded workers on loopback, as subprocesses.

    dask[distributed] is a dependency: without its executable this fails, it does not skip.
    """
    assert DASK.is_file(), f"{DASK} is missing: dask[distributed] is a dependency of the project"
    from distributed import Client

    tmp = tmp_path_factory.mktemp("dask")
    sched_file = tmp / "scheduler.json"
    log = (tmp / "dask.log").open("wb")
    common = ["--no-dashboard", "--host", "127.0.0.1"]
    procs = [subprocess.Popen([str(DASK), "scheduler", "--scheduler-file", str(sched_file), "--port", "0", *common],
                              stdout=log, stderr=log, cwd=tmp)]
    try:
        deadline = time.monotonic() + 60.0
        while not sched_file.is_file():
            assert procs[0].poll() is None, f"dask scheduler exited: {(tmp / 'dask.log').read_text()}"
            assert time.monotonic() < deadline, "dask scheduler did not write its file within 60 s"
            time.sleep(0.05)
        procs.append(subprocess.Popen([str(DASK), "worker", "--scheduler-file", str(sched_file), "--nworkers", "2",
                                       "--nthreads", "1", "--local-directory", str(tmp), *common],
                                      stdout=log, stderr=log, cwd=tmp))
        with Client(scheduler_file=str(sched_file), timeout=30, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        yield address
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


def test_dask_cluster_matches_evaluate_module(job: YieldJob, reference: list[tuple], dask_cluster: str) -> None:
    seen: list[Progress] = []
    run = run_modules(job, INDICES, scheduler=dask_cluster, chunk_size=1, progress=seen.append)
    assert [_key(o) for o in run] == reference
    assert not run.interrupted and run.done == 4
    assert sorted(p.done for p in seen) == [1, 2, 3, 4]
    assert run.max_outstanding == CHUNKS_PER_WORKER * 2          # two worker threads on the cluster


def test_interrupt_on_a_dask_cluster_cancels_the_rest(job: YieldJob, reference: list[tuple], dask_cluster: str) -> None:
    """Ctrl-C (here from the progress callback) with chunks on the cluster: the pending ones are
    cancelled, the client closed, the finished ones that come next in order handed over."""
    def progress(p: Progress) -> None:
        raise KeyboardInterrupt

    t0 = time.monotonic()
    run = run_modules(job, INDICES * 10, scheduler=dask_cluster, chunk_size=1, progress=progress)
    got = [_key(o) for o in run]
    assert run.interrupted and len(got) <= CHUNKS_PER_WORKER * 2 and got == (reference * 10)[:len(got)]
    assert time.monotonic() - t0 < 15.0


def test_unreachable_scheduler_is_a_connection_error(job: YieldJob, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as s:      # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(engine, "SCHEDULER_TIMEOUT_S", 1.0)
    with pytest.raises(ConnectionError, match=f"no Dask scheduler answers at 'tcp://127.0.0.1:{port}'"):
        next(run_modules(job, 2, scheduler=f"tcp://127.0.0.1:{port}"))


# --- ordering, bounded memory, errors: a thread-backed stand-in for the local pool ------------


def _fake_outcome(k: int) -> ModuleOutcome:
    return ModuleOutcome(index=k, serial=f"X{k:06d}", verdict="PASS", defects="", records=(), seconds=0.0)


class _ThreadPool:
    """Stands in for engine._LocalPool: threads, chunks finishing out of order, and a check
    at every submission that no more than the window of chunks is outstanding."""

    run: engine.ModuleRun
    submitted_modules = 0
    aborted = False
    fail_at: int | None = None

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = cf.ThreadPoolExecutor(workers)

    def slots(self) -> int:
        return self.workers

    def _chunk(self, chunk: list[int]) -> list[ModuleOutcome]:
        time.sleep(0.0005 * ((chunk[0] * 7919) % 3))        # out-of-order completion
        if _ThreadPool.fail_at in chunk:
            raise InvalidParameter(f"module index {_ThreadPool.fail_at} refused")
        return [_fake_outcome(k) for k in chunk]

    def submit(self, job: YieldJob, chunk: list[int]) -> cf.Future:
        _ThreadPool.submitted_modules += len(chunk)
        outstanding = _ThreadPool.submitted_modules - self.run.done
        assert outstanding <= CHUNKS_PER_WORKER * self.workers * len(chunk)
        return self.pool.submit(self._chunk, chunk)

    def wait(self, pending):
        return cf.wait(list(pending), return_when=cf.FIRST_COMPLETED).done

    def finished_ok(self, f: cf.Future) -> bool:
        return f.done() and f.exception() is None

    def abort(self, pending) -> None:
        _ThreadPool.aborted = True
        self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def thread_pool(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(engine, "_LocalPool", _ThreadPool)
    monkeypatch.setattr(_ThreadPool, "submitted_modules", 0)
    monkeypatch.setattr(_ThreadPool, "aborted", False)
    monkeypatch.setattr(_ThreadPool, "fail_at", None)
    return _ThreadPool


def test_outcomes_come_in_index_order_with_a_bounded_window(job: YieldJob, thread_pool) -> None:
    """100 000 modules stream through: at most CHUNKS_PER_WORKER chunks per worker outstanding
    (checked at every submission), and the outcomes already handed over are not kept."""
    run = thread_pool.run = run_modules(job, 100_000, workers=2, chunk_size=100)
    alive: list[weakref.ref] = []
    previous = -1
    for o in run:
        assert o.index == previous + 1
        previous = o.index
        if o.index % 1000 == 0:
            alive.append(weakref.ref(o))
        del o
    assert previous == 99_999 and run.done == 100_000 and not run.interrupted
    assert run.peak_outstanding <= run.max_outstanding == 6
    gc.collect()
    assert sum(r() is not None for r in alive) == 0
    assert not thread_pool.aborted


def test_a_module_error_stops_the_run_and_shuts_the_workers_down(job: YieldJob, thread_pool) -> None:
    thread_pool.fail_at = 37
    thread_pool.run = run = run_modules(job, 200, workers=2, chunk_size=4)
    got = []
    with pytest.raises(InvalidParameter, match="module index 37 refused"):
        for o in run:
            got.append(o.index)
    assert got == list(range(len(got))) and len(got) <= 36
    assert thread_pool.aborted


def test_closing_a_run_early_aborts_its_workers(job: YieldJob, thread_pool) -> None:
    thread_pool.run = run = run_modules(job, 200, workers=2, chunk_size=4)
    with run:
        assert [next(run).index for _ in range(5)] == [0, 1, 2, 3, 4]
    assert thread_pool.aborted and not run.interrupted


def test_a_run_closed_before_it_starts_runs_nothing(job: YieldJob, thread_pool) -> None:
    run = run_modules(job, 10, workers=2)
    run.close()
    assert list(run) == [] and thread_pool.submitted_modules == 0


def test_interrupt_in_progress_keeps_the_finished_chunks_in_order(job: YieldJob, thread_pool) -> None:
    """A KeyboardInterrupt from the progress callback (as Ctrl-C while the run waits): the run
    stops submitting, hands over the finished chunks that come next in order, and ends."""
    def progress(p: Progress) -> None:
        if p.done >= 40:
            raise KeyboardInterrupt

    thread_pool.run = run = run_modules(job, 10_000, workers=2, chunk_size=4, progress=progress)
    got = [o.index for o in run]
    assert run.interrupted and run.done == len(got)
    assert got == list(range(len(got))) and 0 < len(got) <= CHUNKS_PER_WORKER * 2 * 4 + 40
    assert thread_pool.aborted


def test_interrupt_in_process_keeps_the_module_just_finished(job: YieldJob, reference: list[tuple]) -> None:
    def progress(p: Progress) -> None:
        if p.done == 2:
            raise KeyboardInterrupt

    run = run_modules(job, INDICES, workers=1, progress=progress)
    assert [_key(o) for o in run] == reference[:2]
    assert run.interrupted and run.done == 2


def test_ctrl_c_between_outcomes_stops_at_the_next_one(job: YieldJob, thread_pool) -> None:
    """A SIGINT that lands in the caller's loop body ends the run when it asks for the next
    outcome (no KeyboardInterrupt in the caller's code), and the caller's handler is back."""
    before = signal.getsignal(signal.SIGINT)
    thread_pool.run = run = run_modules(job, 1000, workers=2, chunk_size=2)
    got = []
    for o in run:
        got.append(o.index)
        if o.index == 9:
            signal.raise_signal(signal.SIGINT)     # delivered here, in the loop body
    assert run.interrupted and got == list(range(len(got))) and 10 <= len(got) <= 10 + CHUNKS_PER_WORKER * 2 * 2
    assert signal.getsignal(signal.SIGINT) is before


def test_a_callers_own_sigint_handler_is_left_alone(job: YieldJob, thread_pool) -> None:
    def mine(signum, frame) -> None:
        pass

    during = []
    before = signal.signal(signal.SIGINT, mine)
    try:
        thread_pool.run = run = run_modules(job, 20, workers=2, chunk_size=2,
                                            progress=lambda p: during.append(signal.getsignal(signal.SIGINT)))
        assert len(list(run)) == 20
    finally:
        signal.signal(signal.SIGINT, before)
    assert during and all(h is mine for h in during)


_CHILD = r"""
import json, multiprocessing, sys
from optics.volume.engine import run_modules
from optics.volume.evaluate import YieldJob

job = YieldJob.from_files("800g-dr8", sys.argv[1], samples_per_symbol=8)
run = run_modules(job, 40, workers=2, chunk_size=1)
for o in run:
    print(o.index, o.verdict, flush=True)
print(json.dumps({"interrupted": run.interrupted, "done": run.done,
                  "children": [p.pid for p in multiprocessing.active_children()]}), flush=True)
"""


@pytest.mark.parametrize("to", ["process group", "parent only"])
def test_sigint_stops_local_workers_and_reports_the_finished_modules(tmp_path: Path, to: str) -> None:
    """Ctrl-C to a process running a yield loop on two local workers, as a terminal sends it
    (to the process group: the workers get it too) or as ``kill -INT`` (the parent alone,
    which passes it on to its workers): it exits 0 within seconds, without a traceback,
    reporting the modules it finished, in order, and no worker process is left."""
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(PLAN)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path, start_new_session=True)
    timer = threading.Timer(120.0, child.kill)
    timer.start()
    try:
        first = child.stdout.readline()
        assert first.split() == ["0", "PASS"], child.stderr.read()
        if to == "process group":
            os.killpg(child.pid, signal.SIGINT)
        else:
            child.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        out = child.stdout.read()       # the buffered reader may hold lines already (not communicate())
        err = child.stderr.read()
        child.wait()
        stop_s = time.monotonic() - t0
    finally:
        timer.cancel()
    assert child.returncode == 0 and "Traceback" not in err, err
    *lines, last = (first + out).splitlines()
    state = json.loads(last)
    assert state["interrupted"] is True and state["children"] == []
    assert state["done"] == len(lines) < 40
    assert [int(ln.split()[0]) for ln in lines] == list(range(len(lines)))
    assert stop_s < 10.0
