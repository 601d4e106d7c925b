"""``optics budget --phy NAME [--reach-m L] [--connectors N] [--temperature-c T] [--allow-proposal] [--json]``.

Prints the link budget of a PHY from the standard's allocations and from closed-form physics,
side by side; ``--sweep reach`` / ``--sweep temperature`` prints margin tables instead.
Exit status 0, or 1 when the standard-allocation margin is negative.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from optics.budget import budget_vs_reach, budget_vs_temperature, link_budget
from optics.phy import load_phy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``budget`` sub-command."""
    p = subparsers.add_parser(
        "budget",
        help="optical link budget of a PHY (standard allocations and closed-form physics)",
        description="Tx OMA, channel loss, penalties and Rx sensitivity -> margin in dB, from the "
        "IEEE 802.3 allocations and from closed-form physics side by side.",
    )
    p.add_argument("--phy", required=True, help="PHY name, e.g. 400GBASE-DR4")
    p.add_argument("--reach-m", type=float, default=None, help="fibre length in m (default: the PHY reach)")
    p.add_argument("--connectors", type=int, default=None,
                   help="number of connections (default: the standard's connection allocation)")
    p.add_argument("--temperature-c", type=float, default=25.0, help="module temperature in °C (default 25)")
    p.add_argument("--sweep", choices=("reach", "temperature"), default=None,
                   help="print margin vs reach (0..2x the PHY reach) or vs temperature (0..85 °C)")
    p.add_argument("--allow-proposal", action="store_true",
                   help="for PHYs whose tables hold only task-force PROPOSAL values (802.3dj): "
                   "compute the budget from them, every such line marked PROPOSAL")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the budget; 1 if the standard-allocation margin is negative, else 0."""
    spec = load_phy(args.phy)
    common = {"connectors": args.connectors, "allow_proposal": args.allow_proposal}
    if args.sweep == "reach":
        sweep = budget_vs_reach(spec, np.linspace(0.0, 2.0 * spec.reach_m, 9),
                                temperature_c=args.temperature_c, **common)
    elif args.sweep == "temperature":
        sweep = budget_vs_temperature(spec, np.arange(0.0, 86.0, 5.0), reach_m=args.reach_m, **common)
    else:
        b = link_budget(spec, reach_m=args.reach_m, temperature_c=args.temperature_c, **common)
        print(json.dumps(b.to_dict(), indent=2) if args.json else b.to_text())
        return 1 if b.standard.margin_db is not None and b.standard.margin_db < -1e-9 else 0
    print(json.dumps(sweep.to_records(), indent=2) if args.json else sweep.to_text())
    return 0
