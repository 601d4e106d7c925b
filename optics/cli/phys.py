"""``optics phys [NAME] [--json]``: list the PHY tables or print one (UNVERIFIED rows marked)."""

from __future__ import annotations

import argparse
import json

from optics.phy import list_phys, load_phy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``phys`` sub-command."""
    p = subparsers.add_parser(
        "phys",
        help="list IEEE 802.3 PHY tables or print one",
        description="List the PHYs with a specification table, or print one PHY's Tx/Rx/channel "
        "limits with clause, source and UNVERIFIED/PROPOSAL status.",
    )
    p.add_argument("name", nargs="?", help="PHY name, e.g. 400GBASE-DR4 (case-insensitive)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the list or the table; 0 on success (an unknown name raises SpecError -> exit 2)."""
    if args.name is None:
        specs = [load_phy(n) for n in list_phys()]
        if args.json:
            print(json.dumps([
                {"name": s.name, "standard": s.standard, "lanes": s.lanes, "symbol_rate_baud": s.symbol_rate_baud,
                 "reach_m": s.reach_m, "confidence": s.confidence, "n_rows": len(s.rows),
                 "n_unverified_rows": len(s.unverified_rows)}
                for s in specs
            ], indent=2))
        else:
            for s in specs:
                print(f"{s.name:16s} {s.lanes} x {s.symbol_rate_baud / 1e9:g} GBd, {s.reach_m:g} m, "
                      f"{len(s.rows)} rows ({len(s.unverified_rows)} UNVERIFIED)  {s.standard}")
        return 0
    spec = load_phy(args.name)
    print(json.dumps(spec.to_dict(), indent=2) if args.json else spec.to_text())
    return 0
