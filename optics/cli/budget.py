"""``optics budget --phy NAME [--reach-m L] [--connectors N] [--temperature-c T] [--physics P] [--allow-proposal]
[--allow-draft] [--eol-hours H] [--eol-temperature-c T] [--no-eol] [--json]``.

Prints the link budget of a PHY from the standard's allocations and from physics, side by side;
with the link models also an end-of-life column (``end_of_life`` in JSON; the lasers aged to
the end-of-life criterion of :mod:`models.aging` at the budget's chip temperature, or ``H``
hours at a ``T`` °C chip: :mod:`optics.budget.end_of_life`);
``--sweep reach`` / ``--sweep temperature`` prints margin tables (9 points) instead.  The physics
column comes from the link models (:class:`optics.budget.ModelPhysics`, about 1-3 s per point)
when ``models.presets`` has the PHY, else from the closed forms; ``--physics`` chooses.  Text and
JSON say which (``physics_provider``).  ``--allow-draft`` lets the table's DRAFT rows (unapproved
802.3dj draft numbers) fill in where it has no published row; task-force PROPOSAL rows and the
proposal fall-back allocations still need ``--allow-proposal`` (which uses draft rows too).
Exit status 0, or 1 when the standard-allocation margin is negative.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from optics.budget import ClosedFormPhysics, EndOfLife, budget_vs_reach, budget_vs_temperature, link_budget
from optics.budget.model_physics import ModelPhysics, has_model_preset
from optics.errors import InvalidParameter
from optics.phy import load_phy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``budget`` sub-command."""
    p = subparsers.add_parser(
        "budget",
        help="optical link budget of a PHY (standard allocations and link-model or closed-form physics)",
        description="Tx OMA, channel loss, penalties and Rx sensitivity -> margin in dB, from the "
        "IEEE 802.3 allocations and from physics (link models or closed forms) side by side.",
    )
    p.add_argument("--phy", required=True, help="PHY name, e.g. 400GBASE-DR4")
    p.add_argument("--reach-m", type=float, default=None, help="fibre length in m (default: the PHY reach)")
    p.add_argument("--connectors", type=int, default=None,
                   help="number of connections (default: the standard's connection allocation)")
    p.add_argument("--temperature-c", type=float, default=25.0, help="module temperature in °C (default 25)")
    p.add_argument("--sweep", choices=("reach", "temperature"), default=None,
                   help="print margin vs reach (0..2x the PHY reach) or vs temperature (0..80 °C), 9 points")
    p.add_argument("--physics", choices=("models", "closed-form"), default=None,
                   help="physics column: the link models (simulated preset module) or closed-form "
                   "estimates (default: models when a preset exists for the PHY)")
    p.add_argument("--allow-proposal", action="store_true",
                   help="for PHYs whose tables hold only task-force PROPOSAL values (802.3dj): "
                   "compute the budget from them, every such line marked PROPOSAL")
    p.add_argument("--allow-draft", action="store_true",
                   help="use the table's DRAFT rows (unapproved standard draft numbers) where it has no published "
                   "row; PROPOSAL rows and fall-back allocations still need --allow-proposal")
    p.add_argument("--eol-hours", type=float, default=None,
                   help="end-of-life column: laser age in hours (default: the hours to the +20 %% bias "
                   "end-of-life criterion of models.aging at --eol-temperature-c)")
    p.add_argument("--eol-temperature-c", type=float, default=None,
                   help="end-of-life column: laser chip temperature during those hours, °C "
                   "(default: the budget's chip temperature)")
    p.add_argument("--no-eol", action="store_true", help="no end-of-life column")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the budget; 1 if the standard-allocation margin is negative, else 0."""
    spec = load_phy(args.phy)
    choice = args.physics or ("models" if has_model_preset(spec) else "closed-form")
    physics = ModelPhysics() if choice == "models" else ClosedFormPhysics()
    asked = args.eol_hours is not None or args.eol_temperature_c is not None
    if asked and (args.no_eol or choice != "models" or args.sweep is not None):
        raise InvalidParameter("--eol-hours/--eol-temperature-c need the link models (--physics models), "
                               "a single budget (no --sweep) and no --no-eol")
    eol = None if args.no_eol or choice != "models" else EndOfLife(hours=args.eol_hours,
                                                                 temperature_c=args.eol_temperature_c)
    common = {"connectors": args.connectors, "allow_proposal": args.allow_proposal,
              "allow_draft": args.allow_draft, "physics": physics}
    if args.sweep == "reach":
        sweep = budget_vs_reach(spec, np.linspace(0.0, 2.0 * spec.reach_m, 9),
                                temperature_c=args.temperature_c, **common)
    elif args.sweep == "temperature":
        sweep = budget_vs_temperature(spec, np.linspace(0.0, 80.0, 9), reach_m=args.reach_m, **common)
    else:
        b = link_budget(spec, reach_m=args.reach_m, temperature_c=args.temperature_c, end_of_life=eol, **common)
        if args.json:
            print(json.dumps({"physics_provider": choice, **b.to_dict()}, indent=2))
        else:
            print(f"physics column: {choice}" + (" (link models: models.presets)" if choice == "models" else ""))
            print(b.to_text())
        return 1 if b.standard.margin_db is not None and b.standard.margin_db < -1e-9 else 0
    if args.json:
        print(json.dumps([{"physics_provider": choice, **r} for r in sweep.to_records()], indent=2))
    else:
        print(sweep.to_text())
    return 0
