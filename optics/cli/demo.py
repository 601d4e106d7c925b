"""``optics demo``: test modules of an 800G-DR8 population on the virtual bench (or, with
``--waveform``, generate one PAM4 waveform and analyse it).

Usage::

    optics demo [--modules N] [--seed N] [--out-dir DIR] [--json]
    optics demo --waveform [--seed N] [--out-dir DIR] [--samples-per-symbol N] [--phy NAME] [--json]

Default: :func:`optics.station.demo.run_demo_lot` -- modules of the 800GBASE-DR8 line's
population (``populations/800g-dr8.toml``: the models' design with process spread and rare
defects) are tested by the station on the virtual bench (Tx and Rx, 8 lanes, 25 and 70 °C),
each verdict printed beside the one yield prediction gives the same serial; the database, one
HTML + CSV report per module and the lot page go to ``DIR`` (default ``out/lot``), and the
per-module verdicts and the lot statistics are printed.
Exit status 0.

``--waveform``:

1. Records a 53.125 GBd PAM4 SSPRQ waveform from the link models (:func:`demo_waveform`:
   lane 0 of the 400GBASE-DR4 design);
2. writes it to ``DIR/waveform.csv`` (default ``out/demo``) with :func:`optics.io.write_csv`;
3. runs exactly the ``optics analyze`` code path on that file
   (:func:`optics.cli.analyze.analyze_file`), printing the table and saving
   ``DIR/eye.png``.

Exit status as for ``optics analyze``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from optics import validate
from optics.waveform import Waveform

#: The design whose lane 0 the waveform demo records (a models preset).
DEMO_DESIGN = "400GBASE-DR4"


def demo_waveform(*, seed: int = 1, samples_per_symbol: int = 16) -> Waveform:
    """The demo's SSPRQ waveform: lane 0 of the models' 400GBASE-DR4 design at 25 °C.

    The transmitter is the link models' (:func:`models.population.lane_tx_waveform`: PAM4
    driver, DFB laser with RIN, silicon MZM), one SSPRQ period at 53.125 GBd.

    Parameters
    ----------
    seed : int, optional
        Seed of the laser's noise (recorded in ``meta``).
    samples_per_symbol : int, optional
        Integer oversampling, 4..64 (default 16: 850 GSa/s).

    Returns
    -------
    Waveform
        Optical power in W, with ``pattern`` = SSPRQ and the design in ``meta``.
    """
    from models.population import PopulationModule, lane_tx_waveform
    from models.presets import preset

    seed = validate.integer("seed", seed, 0)
    sps = validate.integer("samples_per_symbol", samples_per_symbol, 4, 64)
    module = PopulationModule.of_design(preset(DEMO_DESIGN), serial="DEMO", seed=seed)
    wf = lane_tx_waveform(module, 0, 25.0, pattern="SSPRQ", samples_per_symbol=sps)
    return wf.with_meta(source=f"models: {DEMO_DESIGN} lane 0 (optics demo --waveform)", design=DEMO_DESIGN)


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    p = subparsers.add_parser(
        "demo",
        help="test a simulated 800G-DR8 lot on the virtual bench (--waveform: analyse one waveform)",
        description="Test a lot of simulated 800GBASE-DR8 modules (production spread, a weak "
        "laser, a ring that detunes when hot, a marginal unit) with the station on the virtual "
        "bench: results database, per-module HTML/CSV reports and lot statistics in DIR "
        "(default out/lot).  With --waveform: generate a synthetic 53.125 GBd SSPRQ PAM4 optical "
        "waveform, write it to DIR/waveform.csv (default out/demo) and run the 'optics analyze' "
        "code path on that file, saving DIR/eye.png.",
    )
    p.add_argument("--waveform", action="store_true",
                   help="the single-waveform demo instead of the station lot")
    p.add_argument("--modules", type=int, default=5, metavar="N", help="modules in the lot (default 5)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed (the lot: replaces the population's seed; waveform noise, default 1)")
    p.add_argument("--out-dir", default=None, metavar="DIR",
                   help="output directory (default out/lot, or out/demo with --waveform)")
    p.add_argument("--samples-per-symbol", type=int, default=16, metavar="N",
                   help="--waveform: oversampling, 4..64 (default 16)")
    p.add_argument("--phy", metavar="NAME", default=None,
                   help="--waveform: also give the transmitter verdict of this PHY, e.g. 400GBASE-DR4")
    p.add_argument("--json", action="store_true",
                   help="print JSON (the analysis, or the lot's module verdicts and statistics)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Entry point of ``optics demo``."""
    if not args.waveform:
        return run_lot(args)
    from optics.cli.analyze import analyze_file
    from optics.io import write_csv

    seed = 1 if args.seed is None else args.seed
    wf = demo_waveform(seed=seed, samples_per_symbol=args.samples_per_symbol)
    out_dir = Path(args.out_dir or "out/demo")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_csv(wf, out_dir / "waveform.csv")
    if not args.json:
        p_dbm = 10 * math.log10(float(np.mean(wf.samples)) / 1e-3)
        print(f"optics demo: SSPRQ from lane 0 of the models' {DEMO_DESIGN} transmitter (PAM4 driver, DFB "
              f"laser with RIN, silicon MZM; seed {seed}), mean power {p_dbm:.2f} dBm\n"
              f"wrote {path} ({wf.n_samples} samples)\n")
    return analyze_file(path, phy=args.phy, as_json=args.json, plot=out_dir / "eye.png")


def run_lot(args: argparse.Namespace) -> int:
    """The station demo lot (:func:`optics.station.demo.run_demo_lot`)."""
    import json

    from optics.station.demo import run_demo_lot

    res = run_demo_lot(args.out_dir or "out/lot", n_modules=args.modules, seed=args.seed,
                       out=None if args.json else sys.stdout)
    if args.json:
        doc = {
            "db": str(res.db), "lot_html": str(res.lot_html),
            "modules": [{"serial": m.serial, "note": m.note, "outcome": m.outcome, "predicted": m.predicted,
                         "status": m.status,
                         "n_records": m.n_records, "failed": list(m.failed), "html": str(m.html),
                         "csv": str(m.csv)} for m in res.modules],
            "stats": res.stats.to_dict(),
        }
        print(json.dumps(doc, indent=2))
    return 0
