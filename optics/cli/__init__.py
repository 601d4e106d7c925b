"""The ``optics`` command line (also ``python -m optics``).

Each sub-command lives in its own module of this package and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` to a callable
``func(args) -> int`` (the exit status).  The command line is a stable interface: scripts
depend on its options and JSON keys.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from optics.errors import OpticsError

#: Modules of this package that add sub-commands, in the order shown by ``--help``.
COMMAND_MODULES: tuple[str, ...] = ("analyze", "demo", "phys", "budget", "bench", "simulate", "station", "lot")


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    0 ok, 1 a failed verdict, 2 an error (bad input, instrument fault, or an internal error,
    which prints its traceback), 130 interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except OpticsError as exc:
        print(f"optics {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"optics {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"optics {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug, not a verdict: never exit 1 (FAIL) for it
        import traceback

        traceback.print_exc()
        print(f"optics {args.command}: internal error (the traceback above); please report it",
              file=sys.stderr)
        return 2
