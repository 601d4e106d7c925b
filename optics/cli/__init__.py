"""The ``optics`` command line (also ``python -m optics``).

Each sub-command lives in its own module of this package and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` to a callable
``func(args) -> int`` (the exit status).  The command line is a stable interface: scripts
depend on its options and JSON keys.

Every command runs with :data:`BLAS_THREADS` BLAS thread (:func:`limited_blas_threads`):
the toolkit's BLAS calls are small or memory-bound, and a second BLAS thread only spins.  On
the 2-core development machine a TDECQ of SSPRQ (2.1 M samples) with 2 BLAS threads took the
same wall time and 1.9x the CPU time of 1 thread when idle, 1.2-1.4x the wall time with
one busy process beside it (``benchmarks/bench_cli_blas.py``).

An error the command line reports is one line on stderr that starts with the sub-command
path (``optics station run: error: ...``), as argparse's usage errors do.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence

from optics.errors import OpticsError

#: Modules of this package that add sub-commands, in the order shown by ``--help``.
COMMAND_MODULES: tuple[str, ...] = ("analyze", "demo", "phys", "budget", "bench", "simulate", "station", "lot",
                                    "volume")

#: BLAS threads a command runs with.
BLAS_THREADS = 1

#: Environment variables that set the thread count of a BLAS library when it is loaded (for a
#: library a command loads after it started, and for worker processes it starts).
BLAS_THREAD_VARIABLES: tuple[str, ...] = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


@contextlib.contextmanager
def limited_blas_threads(n_threads: int = BLAS_THREADS) -> Iterator[None]:
    """Run the body with at most ``n_threads`` threads in every BLAS library.

    The BLAS libraries loaded already are limited through ``threadpoolctl``; one loaded
    inside the body reads :data:`BLAS_THREAD_VARIABLES`, which are set for the body.  Both
    are restored on exit.

    Parameters
    ----------
    n_threads : int
        Threads per BLAS library, >= 1.

    Raises
    ------
    InvalidType
        ``n_threads`` is not an integer.
    InvalidParameter
        ``n_threads`` is below 1.

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> import numpy
    >>> with limited_blas_threads(1):
    ...     all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    True
    """
    from threadpoolctl import threadpool_limits

    from optics import validate

    n_threads = validate.integer("n_threads", n_threads, 1)
    saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
    os.environ.update({name: str(n_threads) for name in BLAS_THREAD_VARIABLES})
    try:
        with threadpool_limits(limits=n_threads, user_api="blas"):
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every sub-command registered."""
    from optics import __version__

    parser = argparse.ArgumentParser(
        prog="optics",
        description="PAM4 optical link toolkit: analysis, models, PHY limits, test gear.",
    )
    parser.add_argument("--version", action="version", version=f"optics {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"optics.cli.{name}").register(sub)
    return parser


def _name_commands(parser: argparse.ArgumentParser) -> None:
    """Give every (sub-)command parser below ``parser`` the default ``command_path``: its
    ``prog``, e.g. ``optics station run`` (the innermost parser's default wins)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.set_defaults(command_path=child.prog)
                _name_commands(child)


def command_path(args: argparse.Namespace) -> str:
    """The sub-command path of parsed ``args`` (``optics station run``), as error messages
    start; ``optics`` plus the command name for a namespace :func:`main` did not parse."""
    path = getattr(args, "command_path", None)
    if path:
        return str(path)
    return " ".join(["optics", *([str(args.command)] if getattr(args, "command", None) else [])])


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 ok, 1 a failed verdict, 2 an error (bad input, instrument fault, or an internal error,
    which prints its traceback), 130 interrupted.  An error message is one line on stderr
    starting with the sub-command path: ``optics station run: error: ...``.  The command
    runs with :data:`BLAS_THREADS` BLAS threads (:func:`limited_blas_threads`).
    """
    parser = build_parser()
    _name_commands(parser)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    name = command_path(args)
    try:
        with limited_blas_threads():
            return int(args.func(args))
    except OpticsError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug, not a verdict: never exit 1 (FAIL) for it
        import traceback

        traceback.print_exc()
        print(f"{name}: internal error (the traceback above); please report it", file=sys.stderr)
        return 2
