"""Exit statuses of the command line frame."""

import argparse
import sqlite3

import pytest

import optics.cli as cli
from optics.errors import InvalidParameter


def _with_command(monkeypatch, func):
    real = cli.build_parser

    def build():
        parser = real()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        sub.add_parser("boom").set_defaults(func=func)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)


@pytest.mark.parametrize(
    "exc, code, text",
    [
        (InvalidParameter("x = -1 is outside [0, 1]"), 2, "x = -1 is outside"),
        (FileNotFoundError(2, "No such file", "f.csv"), 2, "No such file"),
        (ZeroDivisionError("a bug"), 2, "internal error"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_errors_never_exit_with_the_fail_status(monkeypatch, capsys, exc, code, text):
    def run(args):
        raise exc

    _with_command(monkeypatch, run)
    assert cli.main(["boom"]) == code
    assert text in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


# --- BLAS threads (issue 11, item 4) ------------------------------------------------------
def _blas_threads():
    from threadpoolctl import threadpool_info

    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_a_command_runs_with_one_blas_thread_and_the_caller_keeps_its_own(monkeypatch):
    # the analysis' BLAS calls are small or memory-bound: a second thread only spins (1.9x the
    # CPU time of a TDECQ on 2 cores, benchmarks/bench_cli_blas.py)
    import os

    import scipy.linalg  # noqa: F401  (scipy's own BLAS library loaded too)
    from threadpoolctl import threadpool_limits

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    seen = {}

    def run(args):
        seen["threads"] = _blas_threads()
        seen["env"] = os.environ.get("OPENBLAS_NUM_THREADS")
        return 0

    _with_command(monkeypatch, run)
    with threadpool_limits(limits=os.cpu_count(), user_api="blas"):
        before = _blas_threads()
        assert cli.main(["boom"]) == 0
        assert _blas_threads() == before
    assert len(seen["threads"]) >= 1 and set(seen["threads"]) == {1}
    # an OpenBLAS loaded by the command (or by a worker process it starts) reads this
    assert seen["env"] == "1" and "OPENBLAS_NUM_THREADS" not in os.environ


def test_blas_limit_is_undone_when_the_command_fails(monkeypatch, capsys):
    import os

    from threadpoolctl import threadpool_limits

    def run(args):
        raise InvalidParameter("x = -1 is outside [0, 1]")

    _with_command(monkeypatch, run)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    with threadpool_limits(limits=os.cpu_count(), user_api="blas"):
        before = _blas_threads()
        assert cli.main(["boom"]) == 2
        assert _blas_threads() == before
    assert os.environ["OPENBLAS_NUM_THREADS"] == "2"


@pytest.mark.parametrize("bad", [0, -1])
def test_blas_thread_count_below_one_is_rejected(bad):
    with pytest.raises(InvalidParameter, match=rf"n_threads = {bad} is outside"):
        with cli.limited_blas_threads(bad):
            pass


# --- messages name the sub-command (issue 11, item 16) --------------------------------------
def _leaf_paths(parser, path=()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaf_paths(child, (*path, name))


def test_every_sub_command_is_named_by_its_words_on_the_command_line():
    parser = cli.build_parser()
    cli._name_commands(parser)
    leaves = dict(_leaf_paths(parser))
    assert ("station", "run") in leaves and ("lot", "stats") in leaves and ("analyze",) in leaves
    for path, leaf in leaves.items():
        assert leaf.get_default("command_path") == " ".join(("optics", *path))


def test_error_of_a_nested_sub_command_names_its_whole_path(monkeypatch, capsys):
    real = cli.build_parser

    def run(args):
        raise InvalidParameter("x = -1 is outside [0, 1]")

    def build():
        parser = real()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        group = sub.add_parser("boom").add_subparsers(dest="boom_command")
        group.add_parser("now").set_defaults(func=run)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    assert cli.main(["boom", "now"]) == 2
    assert capsys.readouterr().err == "optics boom now: error: x = -1 is outside [0, 1]\n"


def test_real_commands_errors_start_with_their_sub_command(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    missing = str(tmp_path / "none.sqlite")
    cases = [
        (["analyze", str(empty), "--symbol-rate", "53.125e9"], "optics analyze: error: empty.csv: the file is empty"),
        (["lot", "stats", "--db", missing], "optics lot stats: error: results database"),
        (["station", "report", "--db", missing, "--serial", "S", "--out", str(tmp_path)],
         "optics station report: error: results database"),
    ]
    for argv, start in cases:
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith(start) and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "exc, start",
    [
        (sqlite3.OperationalError("database is locked"),
         "optics station run: error: results database r.sqlite: OperationalError: database is locked"),
        (ValueError("a bug"), "optics station run: internal error: ValueError: a bug"),
    ],
)
def test_station_run_own_messages_name_station_run(monkeypatch, capsys, exc, start):
    import optics.cli.station as station

    def fail(args):
        raise exc

    monkeypatch.setattr(station, "_run", fail)
    assert cli.main(["station", "run", "--plan", "p.toml", "--serial", "S", "--db", "r.sqlite"]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(start), last
