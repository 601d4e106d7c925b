"""``optics station run``: run a test plan on one module and store every record.

::

    optics station run --plan plans/800g-dr8.toml --serial DR800001 [DR800002 ...] \\
        [--bench bench.toml] [--db results.sqlite] [--report reports/] [--json]
    optics station report --db results.sqlite --serial DR800001 --out reports/
    optics station demo --out demo-lot [--modules 5] [--seed 2026]

The bench defaults to the built-in virtual bench (whose socket holds a simulated module
with the given serial); a real bench is the same command with a bench file whose
instruments have real resource strings.  One progress line per committed record goes to
stderr.  Exit status (the worst over the modules): 0 PASS or MARGINAL, 1 FAIL, 2 ERROR or
incomplete (and for bad input).  SIGTERM / Ctrl-C stop the run cleanly: instruments to a safe state, the run closed
``incomplete``; records already taken are in the database in any case (even after
``kill -9``).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

#: Default results database.
DEFAULT_DB = "station-results.sqlite"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``station run``."""
    parser = subparsers.add_parser("station", help="manufacturing pass/fail station (test plans on modules)")
    sub = parser.add_subparsers(dest="station_command", metavar="ACTION")
    run_p = sub.add_parser("run", help="run a test plan on each module in turn")
    run_p.add_argument("--plan", required=True, metavar="TOML", help="test plan (e.g. plans/800g-dr8.toml)")
    run_p.add_argument("--bench", default=None, metavar="TOML",
                       help="bench configuration (default: the built-in virtual bench)")
    run_p.add_argument("--serial", required=True, nargs="+", metavar="SN",
                       help="module serial number(s), tested one after the other; '-' reads one serial per "
                            "line from stdin (a barcode scanner: each scan means the next module is in)")
    run_p.add_argument("--db", default=DEFAULT_DB, metavar="DB",
                       help=f"results database: an SQLite file (default {DEFAULT_DB}) or postgresql://user@host:port/dbname")
    run_p.add_argument("--report", default=None, metavar="DIR", help="write the HTML and CSV report into DIR")
    run_p.add_argument("--json", action="store_true", help="print the run summary and records as JSON")
    run_p.add_argument("--station-id", default=None, help="station name stored with the run (default: host name)")
    run_p.add_argument("--quiet", action="store_true", help="no progress lines")
    run_p.add_argument("--manual-lanes", action="store_true",
                       help="real bench without an optical switch: prompt the operator to connect each lane")
    run_p.set_defaults(func=run)
    rep = sub.add_parser("report", help="(re)write the HTML + CSV report of a stored run")
    rep.add_argument("--db", default=DEFAULT_DB, metavar="DB",
                       help=f"results database: an SQLite file (default {DEFAULT_DB}) or postgresql://user@host:port/dbname")
    which = rep.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", metavar="RUN_ID", help="the run (id or a unique prefix)")
    which.add_argument("--serial", metavar="SN", help="the latest run of this module")
    rep.add_argument("--out", required=True, metavar="DIR",
                     help="output directory; eyes and curves are read from DIR/artifacts/<run_id> if present")
    rep.set_defaults(func=report)
    demo = sub.add_parser("demo", help="test a simulated 800G-DR8 lot on the virtual bench (database, reports, stats)")
    demo.add_argument("--out", default="station-demo", metavar="DIR", help="output directory (default station-demo)")
    demo.add_argument("--modules", type=int, default=5, help="modules in the lot (default 5)")
    demo.add_argument("--seed", type=int, default=2026, help="seed of the unit-to-unit spread")
    demo.set_defaults(func=demo_lot)
    parser.set_defaults(func=_help(parser))


def _help(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def exit_status(outcome: str, status: str) -> int:
    """0 for PASS/MARGINAL of a complete run, 1 for FAIL, 2 otherwise."""
    if status == "complete" and outcome in ("PASS", "MARGINAL"):
        return 0
    if status == "complete" and outcome == "FAIL":
        return 1
    return 2


def _serials(args: argparse.Namespace):
    """The serials to test: as given, or one per stdin line for ``-`` (a barcode scanner); a
    scanned line is checked by :func:`optics.station.records.validate_serial` (one with a
    control character ends the session with an error before its module is tested)."""
    from optics.station.records import validate_serial

    for sn in args.serial:
        if sn == "-":
            for line in sys.stdin:
                if line.strip():
                    yield validate_serial(line.strip())
        else:
            yield sn


def run(args: argparse.Namespace) -> int:
    """Load bench and plan, run module by module, report.

    A results database that fails mid-run (locked by another process past the store's
    timeout, disk full, read-only) ends the run like an interrupt -- instruments safe,
    records already committed kept -- and exits 2 with a message naming the database.
    An unexpected exception (a bug) also exits 2, never Python's default 1, which would read
    as a FAIL verdict; its traceback goes to stderr.  An invalid plan or serial exits 2 before
    the database is opened: no database file, no run.
    """
    import sqlite3
    import traceback

    from optics.cli import command_path
    from optics.errors import OpticsError

    try:
        return _run(args)
    except sqlite3.Error as exc:
        print(f"{command_path(args)}: error: results database {args.db}: {type(exc).__name__}: {exc}; the records "
              "committed before it are in the database, the run is closed incomplete (or reported so once "
              "this process has ended)", file=sys.stderr)
        return 2
    except (OpticsError, OSError):
        raise                     # clear messages: printed by optics.cli.main (exit 2)
    except Exception as exc:
        traceback.print_exc()
        print(f"{command_path(args)}: internal error: {type(exc).__name__}: {exc}; a run in progress was closed "
              "incomplete (ERROR) with the records taken before it in the database", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from instruments.bench import load_bench_config
    from optics.errors import ConfigError
    from optics.station.bench_adapter import STATION_INSTRUMENTS, open_bench
    from optics.station.dut import bench_socket_module
    from optics.station.plan import load_plan
    from optics.station.report import write_report
    from optics.station.records import validate_serial
    from optics.station.runner import format_record, run_plan
    from optics.station.store import open_store

    config = load_bench_config(args.bench)
    names = list(config.instruments)
    scope = config.instruments.get("scope")
    virtual = scope is not None and scope.is_virtual
    if virtual or getattr(config, "module", None) is not None:
        names.append("module")  # the module's management bus (virtual, or a real I2C bus driver)
    for sn in args.serial:      # the serials given, and the plan, are checked before the database is opened:
        if sn != "-":           # bad input creates no database file and no run
            validate_serial(sn)
    plan = load_plan(args.plan, bench_instruments=names)
    serials = _serials(args)
    outputs, statuses = [], []
    with open_store(args.db) as store:       # an SQLite file or a postgresql:// URL
        # runs of this host whose station process was killed: closed incomplete in the file, so a
        # reader on another host (which cannot see this host's processes) does not see them running
        store.close_stale_runs()
        progress = None if args.quiet else (lambda r: print(format_record(r), file=sys.stderr, flush=True))
        needed = tuple(n for n in STATION_INSTRUMENTS if n in plan.instruments)
        n_lanes = min(8, plan.lanes)
        artifacts_dir = None if args.report is None else Path(args.report) / "artifacts"
        # SIGTERM ends the run like Ctrl-C: safe state, run closed incomplete (restored afterwards)
        installed = _main_thread()
        previous = signal.signal(signal.SIGTERM, _terminate) if installed else None
        try:
            first = next(serials, None)
            if first is None:
                raise ConfigError("no serial number given")
            # on the virtual bench the socket holds the module the serial names (its population's,
            # or the nominal design module), built by the link models
            module = bench_socket_module(config.physics, first, n_lanes=n_lanes) if virtual else None
            with open_bench(config, module=module, needed=needed, manual_lanes=args.manual_lanes) as bench:
                serial = first
                while serial is not None:
                    if bench.link is not None and bench.link.module.serial != serial:
                        bench.link.insert(bench_socket_module(config.physics, serial, n_lanes=n_lanes))
                    result = run_plan(plan, bench, store, serial=serial, station_id=args.station_id,
                                      progress=progress, artifacts_dir=artifacts_dir)
                    paths = None
                    if args.report:
                        paths = write_report(store, result.run.run_id, args.report, artifacts=result.artifacts)
                    statuses.append(exit_status(result.outcome.value, result.status.value))
                    if args.json:
                        out = result.to_dict()
                        if paths is not None:
                            out["report"] = {"html": str(paths.html), "csv": str(paths.csv)}
                        outputs.append(out)
                    else:
                        print(f"{result.run.serial}: {result.outcome.value} ({result.status.value}), "
                              f"{len(result.records)} records, run {result.run.run_id}"
                              + (f" -- {result.note}" if result.note else ""), flush=True)
                        if paths is not None:
                            print(f"report: {paths.html}\n        {paths.csv}", flush=True)
                    serial = next(serials, None)
        finally:
            if installed:
                signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
    if args.json:
        print(json.dumps(outputs[0] if len(outputs) == 1 else outputs, indent=2, default=str))
    return max(statuses)


def report(args: argparse.Namespace) -> int:
    """Write the report of a stored run (records from the DB, eyes/curves from the artifacts)."""
    from optics.errors import InvalidParameter
    from optics.station.report import write_report
    from optics.station.runner import load_artifacts
    from optics.station.store import open_store

    with open_store(args.db, read_only=True) as store:    # a missing file: StoreError, exit 2
        runs = store.runs(serial=args.serial) if args.serial else [r for r in store.runs()
                                                                   if r.run_id.startswith(args.run)]
        if not runs:
            raise InvalidParameter(f"no run {'of serial ' + args.serial if args.serial else args.run!r} in {args.db}")
        if args.run and len(runs) > 1:
            raise InvalidParameter(f"run id prefix {args.run!r} is ambiguous ({len(runs)} runs)")
        run = runs[-1]
        art = load_artifacts(Path(args.out) / "artifacts" / run.run_id)
        paths = write_report(store, run.run_id, args.out, artifacts=art)
    print(f"{run.serial} ({run.outcome.value if run.outcome else 'RUNNING'}, {run.status.value}): "
          f"{paths.html}\n{' ' * len(run.serial)}  {paths.csv}")
    return 0


def demo_lot(args: argparse.Namespace) -> int:
    """Run :func:`optics.station.demo.run_demo_lot`."""
    from optics.station.demo import run_demo_lot

    run_demo_lot(args.out, n_modules=args.modules, seed=args.seed)
    return 0
