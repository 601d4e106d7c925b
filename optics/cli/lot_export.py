"""``optics lot export``: a lot's records as one CSV or Parquet file for a data team (the ``lot`` command's
``export`` action, registered by :mod:`optics.cli.lot`).

Usage::

    optics lot export --db results.sqlite|postgresql://... [--plan P] [--since DATE] [--format csv|parquet] OUT
"""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``export`` action to the ``lot`` command's sub-parsers ``sub``."""
    ex = sub.add_parser("export", help="every measurement record of a lot, with its run, as CSV or Parquet")
    ex.add_argument("--db", required=True, metavar="DB",
                    help="results database: an SQLite file or postgresql://user@host:port/dbname")
    ex.add_argument("--plan", default=None, metavar="NAME", help="only runs of this plan (its name)")
    ex.add_argument("--since", default=None, metavar="DATE", help="only runs started at or after DATE (ISO 8601)")
    ex.add_argument("--format", default=None, choices=("csv", "parquet"),
                    help="csv or parquet (default: from OUT's suffix, .parquet or else csv)")
    ex.add_argument("out", metavar="OUT", help="the file to write (replaced whole)")
    ex.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export the records; print what was written."""
    from optics.cli.lot import parse_since
    from optics.station.export import export_lot
    from optics.station.store import open_store

    since = None if args.since is None else parse_since(args.since)
    with open_store(args.db, read_only=True) as store:
        fmt = args.format or ("parquet" if str(args.out).lower().endswith(".parquet") else "csv")
        result = export_lot(store, args.out, plan_name=args.plan, since_s=since, fmt=fmt)
    print(f"{result.path}: {result.n_records} records of {result.n_runs} runs")
    return 0
