"""Tests of models.draws_ahead: jobs run in order, ahead of the caller, with inline results."""

import threading

import numpy as np
import pytest

from models import draws_ahead
from models.draws_ahead import DrawsAhead


def _run(background: bool) -> list[np.ndarray]:
    d = DrawsAhead(np.random.default_rng(7), background=background)
    futs = [d.submit(lambda r, k=k: r.standard_normal(1000 + k)) for k in range(5)]
    d.wait()
    return [f.result() for f in futs]


def test_background_jobs_get_the_inline_draws_in_order():
    inline, ahead = _run(False), _run(True)
    for a, b in zip(inline, ahead):
        np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(inline[0], rng.standard_normal(1000))
    np.testing.assert_array_equal(inline[1], rng.standard_normal(1001))


def test_jobs_run_on_another_thread_and_errors_reach_the_caller():
    d = DrawsAhead(np.random.default_rng(1), background=True)
    where = d.submit(lambda r: threading.current_thread().name)
    assert where.result().startswith("models-draws")

    def fail(r):
        raise ValueError("boom")

    bad = d.submit(fail)
    after = d.submit(lambda r: r.random())
    d.wait()
    with pytest.raises(ValueError, match="boom"):
        bad.result()
    assert 0.0 <= after.result() < 1.0  # a failed job does not stop the queue
    inline = DrawsAhead(np.random.default_rng(1), background=False).submit(fail)
    with pytest.raises(ValueError, match="boom"):
        inline.result()


def test_shutdown_stops_the_thread_and_a_new_one_starts_on_demand():
    DrawsAhead(np.random.default_rng(1), background=True).submit(lambda r: None).result()
    assert any(t.name.startswith("models-draws") for t in threading.enumerate())
    draws_ahead.shutdown()
    assert not any(t.name.startswith("models-draws") and t.is_alive() for t in threading.enumerate())
    assert DrawsAhead(np.random.default_rng(1), background=True).submit(lambda r: 5).result() == 5
