"""``optics yield``: yield prediction at volume for a population and a test plan.

::

    optics yield --population POP.toml --plan PLAN.toml --modules N [--seed S] [--workers K]
                 [--scheduler tcp://HOST:PORT] [--chunk-size C] [--per-module] [--report DIR]
                 [--repeatability NAME=SIGMA ...] [--repeatability-db RESULTS [--golden SERIAL]]
                 [--burn-in-hours H] [--burn-in-temperature-c T]
                 [--age-hours H] [--age-temperature-c T]
                 [--samples-per-symbol N] [--json] [--quiet]
    optics yield --list-parameters DESIGN [--json]

Each module of the population is evaluated as the plan would test it, straight through the
models (:mod:`optics.volume.evaluate`), on local processes or a Dask cluster
(:mod:`optics.volume.engine`); the summary (:mod:`optics.volume.summary`) is printed, or as
JSON with ``--json`` (keys ``modules, yield, yield_ci95, burn_in, yield_survivors,
yield_survivors_ci95, by_temperature, failures, measurements, guard_bands, seconds,
modules_per_s`` and with ``--per-module`` a ``per_module`` list of ``{serial, verdict,
defects, failed}``).  ``burn_in`` is ``{screened, fraction, fraction_ci95, expected}`` (None
without a burn-in): the modules the burn-in screened against the model's expectation; the
survivors' yield is that of the modules that reached the test.

Burn-in hours and temperature: ``--burn-in-hours/--burn-in-temperature-c``, else the plan's
``[burn_in]``, else the population's (each value on its own; ``--burn-in-hours 0`` screens
nothing); aging: ``--age-hours/--age-temperature-c``, else the population's ``[aging]``
(:mod:`optics.volume.evaluate`).  Progress goes to stderr;
Ctrl-C stops the run and reports the modules finished (``interrupted: true``).

Exit status 0 whatever the yield (a prediction is not a verdict), 2 on an error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``yield``."""
    p = subparsers.add_parser("yield", help="predict the yield of a population of simulated modules under a plan")
    p.add_argument("--population", metavar="POP", help="population TOML, or a shipped one: 800g-dr8, 1.6t-dr8")
    p.add_argument("--plan", metavar="PLAN", help="the station's test plan (TOML)")
    p.add_argument("--modules", type=int, default=100, metavar="N", help="modules to evaluate (default 100)")
    p.add_argument("--first", type=int, default=0, metavar="K", help="index of the first module (default 0)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="replace the population's seed")
    p.add_argument("--workers", type=int, default=None, metavar="K", help="local processes (default: the cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask distributed cluster (tcp://host:port)")
    p.add_argument("--chunk-size", type=int, default=None, metavar="C", help="modules per task")
    p.add_argument("--samples-per-symbol", type=int, default=16, metavar="N",
                   help="samples per symbol of the Tx records (default 16, as the virtual bench)")
    p.add_argument("--repeatability", action="append", default=[], metavar="NAME=SIGMA",
                   help="measurement repeatability σ of the station (repeatable), e.g. tdecq_db=0.15, "
                        "overriding the plan's [repeatability]: the guard-band / test-escape analysis")
    p.add_argument("--repeatability-db", default=None, metavar="RESULTS",
                   help="take the repeatability from a station's retests in this results database "
                        "(SQLite file or postgresql:// URL; runs of the plan's name); --repeatability overrides")
    p.add_argument("--golden", default=None, metavar="SERIAL",
                   help="with --repeatability-db: only the retests of this golden module")
    p.add_argument("--burn-in-hours", type=float, default=None, metavar="H",
                   help="burn-in hours (0...10^4), overriding the plan's and population's [burn_in]; "
                        "with --burn-in-temperature-c it enables a burn-in for a population without one")
    p.add_argument("--burn-in-temperature-c", type=float, default=None, metavar="T",
                   help="burn-in temperature, °C (-40...200)")
    p.add_argument("--age-hours", type=float, default=None, metavar="H",
                   help="predict the modules at this laser age, h (0...10^6), overriding the population's [aging]")
    p.add_argument("--age-temperature-c", type=float, default=None, metavar="T",
                   help="laser chip temperature during those hours, °C (-40...150; default the population's "
                        "[aging] value, needed without one)")
    p.add_argument("--per-module", action="store_true", help="list every module's verdict (JSON: per_module)")
    p.add_argument("--report", default=None, metavar="DIR", help="write yield.html and yield.json into DIR")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--list-parameters", default=None, metavar="DESIGN",
                   help="list the parameters a population of DESIGN (preset or link TOML) can spread")
    p.set_defaults(func=run)


def parse_repeatability(items: list[str]) -> dict[str, float]:
    """``["tdecq_db=0.15", ...]`` → ``{"tdecq_db": 0.15}``.

    Raises
    ------
    InvalidParameter
        An item that is not NAME=SIGMA with a finite σ >= 0.
    """
    from optics.errors import InvalidParameter

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            sigma = float(value)
        except ValueError:
            sigma = math.nan
        if not sep or not name.strip() or not (math.isfinite(sigma) and sigma >= 0):
            raise InvalidParameter(f"--repeatability {item!r}: expected NAME=SIGMA with a finite SIGMA >= 0, "
                                   "e.g. tdecq_db=0.15")
        out[name.strip()] = sigma
    return out


def _list_parameters(design: str, as_json: bool) -> int:
    from pathlib import Path

    from models.config import load_link
    from models.population import parameter_table
    from models.presets import preset

    module = load_link(design).module if Path(design).suffix == ".toml" else preset(design)
    rows = parameter_table(module)
    if as_json:
        print(json.dumps([{"parameter": r.path, "unit": r.unit, "low": r.low, "high": r.high,
                           "nominal": r.nominal} for r in rows], indent=1))
        return 0
    print(f"Parameters of {module.name} a population can spread (nominal: lane 0 of the design):")
    print(f"{'parameter':<42} {'unit':<12} {'nominal':>12} {'allowed range':>26}")
    for r in rows:
        print(f"{r.path:<42} {r.unit:<12} {r.nominal:12.5g} {f'[{r.low:g}, {r.high:g}]':>26}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``optics yield``."""
    from optics.errors import ConfigError, InvalidParameter
    from optics.volume.engine import run_modules, text_progress
    from optics.volume.evaluate import YieldJob
    from optics.volume.summary import YieldSummary, json_ready

    if args.list_parameters:
        return _list_parameters(args.list_parameters, args.json)
    if not args.population or not args.plan:
        raise ConfigError("give --population POP and --plan PLAN (or --list-parameters DESIGN)")
    if not 1 <= args.modules <= 10**8:
        raise InvalidParameter(f"--modules {args.modules} must be in [1, 10^8]")
    if args.first < 0:
        raise InvalidParameter(f"--first {args.first} must be >= 0")
    given = parse_repeatability(args.repeatability)
    job = YieldJob.from_files(args.population, args.plan, samples_per_symbol=args.samples_per_symbol, seed=args.seed,
                              burn_in_hours=args.burn_in_hours, burn_in_temperature_c=args.burn_in_temperature_c,
                              age_hours=args.age_hours, age_temperature_c=args.age_temperature_c)
    from optics.volume.evaluate import context

    plan_obj = context(job).plan
    pop_obj = context(job).population
    measured: dict[str, float] = {}
    if args.repeatability_db:
        from optics.station.repeatability import repeatability_sigma
        from optics.station.store import open_store

        with open_store(args.repeatability_db, read_only=True) as store:
            measured = repeatability_sigma(store, plan_name=plan_obj.name, golden_serial=args.golden)
        if not measured:
            raise ConfigError(f"--repeatability-db {args.repeatability_db}: no module of plan {plan_obj.name!r} "
                              "was tested twice (a repeatability study needs retests or --golden SERIAL)")
    elif args.golden:
        raise ConfigError("--golden needs --repeatability-db RESULTS")
    # the plan's stated values, then the station's measured ones, then the command line's
    repeat = {**plan_obj.repeatability, **measured, **given}
    summary = YieldSummary(repeat, keep_modules=args.per_module, burn_in_expected=(
        pop_obj.burn_in_fallout_expected() if pop_obj.burn_in is not None else None))
    progress = None if args.quiet else text_progress(sys.stderr)
    t0 = time.perf_counter()
    state = run_modules(job, range(args.first, args.first + args.modules), workers=args.workers,
                        scheduler=args.scheduler, chunk_size=args.chunk_size, progress=progress)
    for outcome in state:
        summary.add(outcome)
    wall = time.perf_counter() - t0
    interrupted = bool(getattr(state, "interrupted", False))
    title = f"Yield of {context(job).population.name} under plan {context(job).plan.name}"
    if args.report:
        from optics.volume.report import write_yield_report

        page, _ = write_yield_report(summary, args.report, title=title, wall_seconds=wall)
        if not args.json:
            print(f"report: {page}", file=sys.stderr)
    if args.json:
        d = summary.to_dict(wall_seconds=wall)
        d["interrupted"] = interrupted
        print(json.dumps(json_ready(d), indent=1, allow_nan=False))
    else:
        print(title)
        print(summary.to_text(wall_seconds=wall))
        if args.per_module:
            for m in summary.modules:
                why = f"  <- {', '.join(m['failed'])}" if m["failed"] else ""
                note = f"  [{m['defects']}]" if m["defects"] else ""
                print(f"  {m['serial']}: {m['verdict']:<8}{note}{why}")
        if interrupted:
            print(f"interrupted: {summary.n} of {args.modules} modules finished", file=sys.stderr)
    return 0
