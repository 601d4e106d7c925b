"""``optics bench serve``: run the virtual test bench in the foreground.

Prints one line per instrument, ``<name> <resource>`` (the loopback
``TCPIP::127.0.0.1::<port>::SOCKET`` strings of the virtual ones), then serves until Ctrl-C
or SIGTERM (or ``--duration`` seconds) and stops every server cleanly.

Example::

    $ optics bench serve --config bench.toml
    scope           TCPIP::127.0.0.1::40411::SOCKET
    power_meter     TCPIP::127.0.0.1::40413::SOCKET
    ...
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` command and its ``serve`` sub-command."""
    parser = subparsers.add_parser("bench", help="virtual test bench (loopback SCPI servers)")
    sub = parser.add_subparsers(dest="bench_command", metavar="ACTION")
    serve = sub.add_parser("serve", help="serve the virtual instruments until Ctrl-C / SIGTERM")
    serve.add_argument("--config", metavar="TOML", default=None,
                       help="bench configuration (default: every instrument virtual)")
    serve.add_argument("--json", action="store_true", help="print the resources as one JSON object")
    serve.add_argument("--duration", type=float, default=None, metavar="S",
                       help="stop after S seconds (default: run until interrupted)")
    serve.set_defaults(func=run)
    parser.set_defaults(func=_help(parser))


def _help(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def run(args: argparse.Namespace) -> int:
    """Start the bench, print the resources, wait for a signal or the duration, stop."""
    from instruments.bench import VirtualBench, load_bench_config

    config = load_bench_config(args.config)
    stop = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda signum, frame: stop.set())
    try:
        with VirtualBench(config) as bench:
            resources = bench.resources
            if args.json:
                print(json.dumps(resources, indent=2))
            else:
                width = max((len(n) for n in resources), default=0)
                for name, resource in resources.items():
                    print(f"{name:<{width}}  {resource}")
            print("serving; Ctrl-C or SIGTERM stops", file=sys.stderr, flush=True)
            sys.stdout.flush()
            stop.wait(args.duration)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
