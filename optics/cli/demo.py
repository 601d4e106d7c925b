"""``optics demo``: test a simulated 800G-DR8 lot on the virtual bench (or, with
``--waveform``, generate one PAM4 waveform and analyse it).

Usage::

    optics demo [--modules N] [--seed N] [--out-dir DIR] [--json]
    optics demo --waveform [--seed N] [--out-dir DIR] [--samples-per-symbol N] [--phy NAME] [--json]

Default: :func:`optics.station.demo.run_demo_lot` -- several simulated 800GBASE-DR8 modules
with production spread (one with a weak laser, one whose ring modulator detunes when hot,
one marginal) are tested by the station on the virtual bench (Tx and Rx, 8 lanes, 25 and
70 °C); the database, one HTML + CSV report per module and the lot page go to ``DIR``
(default ``out/lot``), and the per-module verdicts and the lot statistics are printed.
Exit status 0.

``--waveform``:

1. Builds a 53.125 GBd PAM4 SSPRQ waveform with :func:`_synthetic_transmitter` (below: a
   *synthetic pattern generator plus noise*, not a physical model - the laser, modulator
   and receiver physics live in :mod:`models`);
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

#: Default settings of the synthetic transmitter (a plausible 400GBASE-DR4 lane).
DEMO_SYMBOL_RATE_BAUD = 53.125e9
DEMO_AVERAGE_POWER_W = 1.0e-3
DEMO_EXTINCTION_RATIO_DB = 4.5
DEMO_LEVEL_COMPRESSION = 0.01  # inner levels moved inwards by 1 % of OMA: RLM ~ 0.94
DEMO_BANDWIDTH_HZ = 30e9  # 4th-order Bessel -3 dB bandwidth, ~0.56 x baud
DEMO_NOISE_RMS_W = 18e-6  # RMS of the band-limited Gaussian noise


def _synthetic_transmitter(
    symbols: np.ndarray,
    *,
    symbol_rate_baud: float,
    samples_per_symbol: int,
    average_power_w: float,
    extinction_ratio_db: float,
    level_compression: float,
    bandwidth_hz: float,
    noise_rms_w: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Synthetic pattern generator plus noise (NOT a physical model).

    Levels: ``P0 = 2 P_ave/(1 + ER)``, ``P3 = ER P0`` (equiprobable-level average), inner
    levels at ``P0 + OMA (1/3 + c)`` and ``P0 + OMA (2/3 - c)``.  The held symbol levels
    pass a 4th-order digital Bessel low-pass (``scipy.signal.bessel(..., norm="mag")``,
    -3 dB at ``bandwidth_hz``); Gaussian noise from ``rng`` is filtered by the same
    response and scaled to ``noise_rms_w``.  The symbol stream is treated as periodic (the
    last 256 symbols are prepended to settle the filter, then dropped).  Returns samples in W.
    """
    from scipy.signal import bessel, sosfilt

    er = 10.0 ** (extinction_ratio_db / 10.0)
    p0 = 2.0 * average_power_w / (1.0 + er)
    oma = (er - 1.0) * p0
    levels = p0 + oma * np.array([0.0, 1 / 3 + level_compression, 2 / 3 - level_compression, 1.0])
    n_pre = min(256, symbols.size)
    stream = np.concatenate((symbols[-n_pre:], symbols))
    x = np.repeat(levels[stream], samples_per_symbol)
    fs = symbol_rate_baud * samples_per_symbol
    sos = bessel(4, bandwidth_hz, btype="low", norm="mag", output="sos", fs=fs)
    y = sosfilt(sos, x)
    noise = sosfilt(sos, rng.standard_normal(x.size))
    noise *= noise_rms_w / np.std(noise[n_pre * samples_per_symbol :])
    return (y + noise)[n_pre * samples_per_symbol :]


def demo_waveform(*, seed: int = 1, samples_per_symbol: int = 16) -> Waveform:
    """The demo's SSPRQ waveform (53.125 GBd, P_ave 1 mW, ER 4.5 dB), seeded.

    Parameters
    ----------
    seed : int, optional
        Seed of the ``numpy.random.Generator`` drawing the noise (recorded in ``meta``).
    samples_per_symbol : int, optional
        Integer oversampling, 4..64 (default 16: 850 GSa/s).

    Returns
    -------
    Waveform
        Optical power in W, with ``pattern`` = SSPRQ and the settings in ``meta``.
    """
    from optics.patterns import ssprq

    seed = validate.integer("seed", seed, 0)
    sps = validate.integer("samples_per_symbol", samples_per_symbol, 4, 64)
    rng = np.random.default_rng(seed)
    symbols = ssprq()
    settings = {
        "symbol_rate_baud": DEMO_SYMBOL_RATE_BAUD,
        "samples_per_symbol": sps,
        "average_power_w": DEMO_AVERAGE_POWER_W,
        "extinction_ratio_db": DEMO_EXTINCTION_RATIO_DB,
        "level_compression": DEMO_LEVEL_COMPRESSION,
        "bandwidth_hz": DEMO_BANDWIDTH_HZ,
        "noise_rms_w": DEMO_NOISE_RMS_W,
    }
    samples = _synthetic_transmitter(
        symbols,
        symbol_rate_baud=DEMO_SYMBOL_RATE_BAUD,
        samples_per_symbol=sps,
        average_power_w=DEMO_AVERAGE_POWER_W,
        extinction_ratio_db=DEMO_EXTINCTION_RATIO_DB,
        level_compression=DEMO_LEVEL_COMPRESSION,
        bandwidth_hz=DEMO_BANDWIDTH_HZ,
        noise_rms_w=DEMO_NOISE_RMS_W,
        rng=rng,
    )
    return Waveform(
        samples=samples,
        sample_rate_hz=DEMO_SYMBOL_RATE_BAUD * sps,
        quantity="optical_power",
        symbol_rate_baud=DEMO_SYMBOL_RATE_BAUD,
        pattern=symbols,
        meta={"source": "synthetic demo generator (optics.cli.demo)", "seed": seed,
              "settings": settings},
    )


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
        s = wf.meta["settings"]
        print(
            f"optics demo: synthetic SSPRQ PAM4 transmitter (pattern generator + Bessel-4 "
            f"{s['bandwidth_hz'] / 1e9:g} GHz + Gaussian noise {s['noise_rms_w'] * 1e6:g} uW rms, "
            f"seed {seed}): P_ave {10 * math.log10(s['average_power_w'] / 1e-3):.1f} dBm, "
            f"ER {s['extinction_ratio_db']:g} dB\nwrote {path} ({wf.n_samples} samples)\n"
        )
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
