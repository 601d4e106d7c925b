"""The station demo: modules of the 800GBASE-DR8 line's population tested on the virtual bench.

:func:`run_demo_lot` takes modules of ``populations/800g-dr8.toml`` (:mod:`models.population`:
the models' 800GBASE-DR8 design with its process spread and rare defects; :func:`demo_serials`
picks the first modules and the first module of each defect kind), puts each in the socket of
one virtual bench (its lanes are the link models', through the lane switch), runs the
800G-DR8 plan on it (Tx and Rx on 8 lanes at 25 and 70 °C), writes the results database, one
HTML + CSV report per module and the lot statistics, and prints the per-module verdicts, the
verdicts yield prediction gives the same serials (:mod:`optics.volume`), and the statistics.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO


from optics import validate
from optics.errors import ConfigError

#: The plan the demo runs (shipped in the package; ``plans/800g-dr8.toml`` at the top of the
#: repository is the same file, as an example).
DEFAULT_PLAN = Path(__file__).resolve().parent / "plans" / "800g-dr8.toml"


@dataclasses.dataclass(frozen=True)
class DemoModule:
    """One module of the demo lot: serial, what is special about it, verdict (and the predicted
    one, "" when not predicted), report files."""

    serial: str
    note: str
    outcome: str
    status: str
    n_records: int
    failed: tuple[str, ...]     # FAIL/ERROR records (MARGINAL ones for a MARGINAL module)
    html: Path
    csv: Path
    predicted: str = ""


@dataclasses.dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo_lot` wrote and found."""

    db: Path
    lot_html: Path
    modules: tuple[DemoModule, ...]
    stats: object  # optics.station.stats.LotStats


#: The population the demo's modules come from (shipped with the package).
DEMO_POPULATION = "800g-dr8"


def demo_serials(population: object, n_modules: int, *, n_lanes: int | None = None,
                 search: int = 400) -> list[int]:
    """Module indices of the demo lot: the first module of each defect kind (on the first
    ``n_lanes`` lanes, those a plan tests) among the first ``search`` modules, then the first
    modules, ``n_modules`` in all, in index order."""
    picked: list[int] = []
    kinds: set[str] = set()
    for k in range(search):
        names = {name for name, lane in population.module(k).defects
                 if lane is None or n_lanes is None or lane < n_lanes}
        if names - kinds and len(picked) < max(0, n_modules - 1):
            picked.append(k)
            kinds |= names
    k = 0
    while len(picked) < n_modules:
        if k not in picked:
            picked.append(k)
        k += 1
    return sorted(picked)


def run_demo_lot(out_dir: str | Path, n_modules: int = 5, seed: int | None = None, *,
                 plan: str | Path | None = None, out: TextIO | None = sys.stdout,
                 predict: bool = True, population: str | Path = DEMO_POPULATION) -> DemoResult:
    """Test a simulated lot on the virtual bench; write database, reports and statistics.

    Parameters
    ----------
    out_dir : str or Path
        Output directory (created): ``lot.sqlite`` (replaced, unless it holds runs of
        another station: ConfigError), ``reports/<serial>_<run>.html|csv``, ``lot.html``.
    n_modules : int
        Modules in the lot, 1..200 (the first module of each defect kind, then the first ones).
    seed : int, optional
        Replaces the population's seed (another draw of the line).
    plan : path, optional
        Test plan (default: :data:`DEFAULT_PLAN`, the 800G-DR8 plan shipped with the package).
    out : text stream or None
        Where verdicts and statistics are printed (None: silent).
    predict : bool
        Also evaluate the same serials by yield prediction (:mod:`optics.volume`) and print
        its verdicts beside the station's (default True).
    population : str or Path
        The population (a file or a shipped name; default :data:`DEMO_POPULATION`).

    Returns
    -------
    DemoResult

    Examples
    --------
    >>> res = run_demo_lot("demo-lot", n_modules=5)     # doctest: +SKIP
    >>> [m.outcome for m in res.modules]                 # doctest: +SKIP
    ['PASS', 'PASS', 'PASS', 'PASS', 'FAIL']
    """
    from optics.station.bench_adapter import STATION_INSTRUMENTS, ModuleLink, open_bench
    from models.population import load_population, shipped_population
    from optics.station.plan import load_plan
    from optics.station.report import write_report
    from optics.station.runner import run_plan
    from optics.station.stats import lot_stats
    from optics.station.store import SQLiteStore

    validate.integer("n_modules", n_modules, 1, 200)
    plan_path = Path(plan) if plan is not None else DEFAULT_PLAN
    if not plan_path.is_file():
        raise ConfigError(f"demo plan {plan_path} not found; pass plan=PATH")
    the_plan = load_plan(plan_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    db = out_dir / "lot.sqlite"
    if db.is_file():
        # a fresh lot each time -- but never at the cost of a real station's records
        with SQLiteStore(db) as old:
            others = [r for r in old.runs() if r.station_id != DEMO_STATION]
        if others:
            names = ", ".join(sorted({r.station_id for r in others}))
            raise ConfigError(f"{db} holds {len(others)} run(s) of other stations ({names}); the demo would "
                              "delete it: choose another --out directory")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    pop_path = shipped_population(str(population))
    population = load_population(pop_path)
    if seed is not None:
        population = dataclasses.replace(population, seed=validate.integer("seed", seed, 0))
    indices = demo_serials(population, n_modules, n_lanes=the_plan.lanes)
    lot = [population.module(k) for k in indices]

    def say(text: str) -> None:
        if out is not None:
            print(text, file=out, flush=True)

    say(f"Testing {n_modules} modules of population {population.name!r} ({population.design}, models) "
        f"with plan {the_plan.name} "
        f"({the_plan.lanes} lanes at {', '.join(f'{t:g} °C' for t in the_plan.temperatures_c)}) on the virtual bench")
    modules = []
    needed = tuple(n for n in STATION_INSTRUMENTS if n in the_plan.instruments)
    from instruments.bench import BenchConfig

    config = BenchConfig.default()
    # simulated time runs 1000x faster than the wall clock: a thermal soak takes a fraction of a second;
    # the socket holds the population's modules
    config = dataclasses.replace(config, physics=dataclasses.replace(
        config.physics, time_scale=1000.0, population=str(pop_path.resolve())))
    predicted: dict[str, str] = {}
    if predict:
        from optics.volume.evaluate import YieldJob, evaluate_module

        job = YieldJob.from_files(pop_path, plan_path, seed=seed)
        predicted = {population.serial(k): evaluate_module(job, k).verdict for k in indices}
    link = ModuleLink(config.physics, module=lot[0])
    with SQLiteStore(db) as store:
        for mod in lot:
            with open_bench(config, module=mod, needed=needed, link=link) as bench:
                result = run_plan(the_plan, bench, store, serial=mod.serial, station_id=DEMO_STATION)
            paths = write_report(store, result.run.run_id, out_dir / "reports", artifacts=result.artifacts)
            worst = ("FAIL", "ERROR") if result.outcome.value in ("FAIL", "ERROR") else ("MARGINAL",)
            failed = tuple(dict.fromkeys(
                (f"{r.name} L{r.lane}@{r.temperature_c:g}°C" if r.temperature_c is not None else f"{r.name} L{r.lane}")
                + (f" {r.value:.2f} {r.unit} (limit {_fmt_limits(r)})" if r.outcome.value == "MARGINAL" else "")
                for r in result.records if r.outcome.value in worst))
            modules.append(DemoModule(serial=mod.serial, note=mod.note, outcome=result.outcome.value,
                                      status=result.status.value, n_records=len(result.records), failed=failed,
                                      html=paths.html, csv=paths.csv, predicted=predicted.get(mod.serial, "")))
            why = f"  <- {', '.join(failed[:4])}{' ...' if len(failed) > 4 else ''}" if failed else ""
            cause = f"  [{mod.note}]" if mod.note else ""
            pred = f" (predicted {predicted[mod.serial]})" if mod.serial in predicted else ""
            say(f"  {mod.serial}: {result.outcome.value:<8}{pred} {len(result.records):4d} records{cause}{why}")
        stats = lot_stats(store, plan_name=the_plan.name)
        remove_stale_reports(out_dir / "reports", store.runs())
    lot_html = out_dir / "lot.html"
    stats.write_html(lot_html, reports_dir=out_dir / "reports")
    say("")
    say(stats.to_text())
    say(f"\ndatabase: {db}\nreports:  {out_dir / 'reports'}\nlot page: {lot_html}")
    return DemoResult(db=db, lot_html=lot_html, modules=tuple(modules), stats=stats)


#: Suffixes of the files :func:`optics.station.report.write_report` writes per run.
REPORT_SUFFIXES = (".html", ".csv", ".openhtf.json")


def remove_stale_reports(reports_dir: str | Path, runs: Sequence[object]) -> list[Path]:
    """Delete the report files in ``reports_dir`` of runs that are not in ``runs`` (an earlier
    demo lot's, its database replaced); returns what was deleted.  Only report files
    (``<serial>_<run>`` + :data:`REPORT_SUFFIXES`, :func:`optics.station.report.file_stem`) are
    touched, so anything else in the directory stays."""
    from optics.station.report import file_stem

    folder = Path(reports_dir)
    if not folder.is_dir():
        return []
    keep = {file_stem(r.serial, r.run_id) for r in runs}
    removed = []
    for f in sorted(folder.iterdir()):
        suffix = next((s for s in REPORT_SUFFIXES if f.name.endswith(s)), None)
        if suffix is None or not f.is_file():
            continue
        stem = f.name[:-len(suffix)]
        if "_" in stem and stem not in keep:
            f.unlink()
            removed.append(f)
    return removed


#: Station id of the demo's runs (a lot.sqlite holding other stations' runs is never deleted).
DEMO_STATION = "demo-station"


def _fmt_limits(r) -> str:
    lo = "" if r.low_limit is None else f"{r.low_limit:g}"
    hi = "" if r.high_limit is None else f"{r.high_limit:g}"
    return f"{lo}..{hi}"


__all__ = ["DEFAULT_PLAN", "DemoModule", "DemoResult", "remove_stale_reports", "run_demo_lot"]
