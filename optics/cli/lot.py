"""``optics lot stats``: yield, first-pass yield and per-measurement statistics of a lot.

::

    optics lot stats --db results.sqlite [--plan 800G-DR8] [--since 2026-11-23] [--runs first|last|all]
                     [--chart-by order|time] [--golden SERIAL] [--json] [--html lot.html [--reports DIR]]

Prints a table (or JSON with ``--json``: keys ``yield, first_pass_yield, by_temperature, pareto,
control_charts, measurements, repeatability`` and more, :mod:`optics.station.stats`); ``--html``
also writes the lot page (module verdicts link to the reports in ``--reports``).  ``--since``
takes an ISO date or date-time (UTC unless it carries an offset).  A ``--plan`` that matches no
run, an empty window, or a database of another tool: an error naming what the database holds,
exit status 2.
"""

from __future__ import annotations

import argparse
import datetime

from optics.cli import lot_export


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``lot stats``."""
    parser = subparsers.add_parser("lot", help="lot statistics over a station results database")
    sub = parser.add_subparsers(dest="lot_command", metavar="ACTION")
    st = sub.add_parser("stats", help="yield, FPY, mean/sigma/Cpk and histograms")
    st.add_argument("--db", required=True, metavar="DB",
                    help="results database written by `optics station run`: an SQLite file or postgresql://user@host:port/dbname")
    st.add_argument("--plan", default=None, metavar="NAME", help="only runs of this plan (its name)")
    st.add_argument("--since", default=None, metavar="DATE", help="only runs started at or after DATE (ISO 8601)")
    st.add_argument("--runs", default="last", choices=("first", "last", "all"),
                    help="retest policy: each module's last run (default), its first run, or every run "
                         "(first-pass yield always counts first runs)")
    st.add_argument("--chart-by", default="order", choices=("order", "time"),
                    help="control-chart axis: module order (default) or start time")
    st.add_argument("--golden", default=None, metavar="SERIAL",
                    help="repeatability from this golden module's runs only (default: every retested module)")
    st.add_argument("--json", action="store_true", help="print JSON instead of the table")
    st.add_argument("--html", default=None, metavar="OUT", help="also write the lot page (HTML)")
    st.add_argument("--reports", default=None, metavar="DIR",
                    help="directory of the module reports the lot page links to (optics station report --out)")
    st.set_defaults(func=run)
    lot_export.add_parser(sub)          # optics lot export (optics.cli.lot_export)
    parser.set_defaults(func=_help(parser))


def _help(parser: argparse.ArgumentParser):
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def parse_since(text: str) -> float:
    """ISO date or date-time -> s since the epoch (naive values are UTC).

    Raises
    ------
    InvalidParameter
        Not an ISO 8601 date.
    """
    from optics.errors import InvalidParameter

    try:
        dt = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidParameter(f"--since {text!r} is not an ISO 8601 date such as 2026-11-23 or "
                               "2026-11-23T08:00") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp()


def run(args: argparse.Namespace) -> int:
    """Compute and print the statistics."""
    from optics.station.stats import lot_stats
    from optics.station.store import open_store

    since = None if args.since is None else parse_since(args.since)
    # a file or a postgresql:// URL; changes nothing, works in a read-only directory; a missing file: exit 2
    with open_store(args.db, read_only=True) as store:
        stats = lot_stats(store, plan_name=args.plan, since_s=since, runs=args.runs, chart_by=args.chart_by,
                          golden_serial=args.golden)
    if args.html:
        stats.write_html(args.html, reports_dir=args.reports)
    print(stats.to_json() if args.json else stats.to_text())
    return 0
