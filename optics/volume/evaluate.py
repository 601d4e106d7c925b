"""One module of a population, tested as its plan would test it, straight through the models.

:func:`evaluate_module` takes module *k* of a population (:mod:`models.population`), and for
every temperature and step of the plan measures each lane as the station's instruments would:

* **tx** step: the lane's transmitter output from the link models
  (:func:`models.population.lane_tx_waveform`, the same waveform the virtual bench's scope
  records, without the scope's own noise), filtered by the TDECQ reference receiver
  (4th-order Bessel-Thomson at the PHY method's bandwidth, default half the symbol rate), then
  average power, outer OMA, ER and RLM (:func:`optics.levels.measure_levels`) and TDECQ/Ceq
  (:func:`optics.tdecq.tdecq` with the step's ``tdecq_taps``/``tdecq_precursors``, else the PHY
  method's FFE: :func:`optics.phy.method.step_tdecq`, the station's own resolution), as the
  virtual FlexDCA computes them;
* **rx_sensitivity** step: the OMA at which the lane's model receiver reaches the step's BER
  threshold (:func:`models.receiver.sensitivity_oma_w`, at the chip temperature, for a source
  with the extinction ratio measured in the Tx step), the quantity the BERT sweep finds;
* **ddm** steps record monitor values without limits and are not evaluated.

A module the population's ``[burn_in]`` removed is not tested: its outcome is FAIL with one
record ``burn_in_fallout`` (so the failure Pareto lists the burn-in fallout as its own line).
A population's ``[aging]`` ages every module before its test (:mod:`models.population`).
Burn-in conditions (hours, temperature) are taken, each on its own, from the command line
(:class:`YieldJob` ``burn_in``: ``optics yield --burn-in-hours/--burn-in-temperature-c``), else
the plan's ``[burn_in]`` (the line's process), else the population's ``[burn_in]``; the weak
subpopulation is always the population's (or :class:`models.aging.BurnInScreen`'s defaults,
ASSUMPTIONS, for a population without ``[burn_in]``).  Aging: the command line
(``--age-hours/--age-temperature-c``), else the population's ``[aging]``.

Every value is judged by :func:`optics.station.judging.judge_step` (the station's own
judging), so a value gets the verdict the station would give it.  A lane whose eye is too
closed to measure is an ERROR (the station's scope reads 9.91E37 there and the step ends in
ERROR).

The result, :class:`ModuleOutcome`, is small and picklable: the records as plain tuples, no
waveforms, so populations of any size stream through :mod:`optics.volume.engine`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from optics.errors import ConfigError, InvalidParameter, OpticsError

#: Samples per symbol of the simulated Tx records (the virtual bench's default).
DEFAULT_SAMPLES_PER_SYMBOL = 16
#: Order of the verdicts, worst first.
VERDICT_ORDER = ("ERROR", "FAIL", "MARGINAL", "PASS")


class Record(NamedTuple):
    """One judged measurement of a module (plain values only)."""

    step: str
    name: str
    lane: int | None
    temperature_c: float | None
    value: float | None
    outcome: str            # PASS | MARGINAL | FAIL | ERROR | RECORDED
    low: float | None
    high: float | None
    margin: float | None
    guard_band: float
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ModuleOutcome:
    """What :func:`evaluate_module` found for one module.

    Attributes
    ----------
    index, serial : int, str
    verdict : str
        ERROR > FAIL > MARGINAL > PASS over the records (as the station's run outcome).
    defects : str
        The module's drawn defects in words ("" for none).
    records : tuple of Record
    seconds : float
        Wall time spent on it.
    """

    index: int
    serial: str
    verdict: str
    defects: str
    records: tuple[Record, ...]
    seconds: float

    @property
    def passed(self) -> bool:
        """PASS or MARGINAL (the station's passing outcomes)."""
        return self.verdict in ("PASS", "MARGINAL")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``serial, index, verdict, defects, failed`` (names of FAIL/ERROR records)."""
        failed = sorted({r.name for r in self.records if r.outcome in ("FAIL", "ERROR")})
        return {"serial": self.serial, "index": self.index, "verdict": self.verdict, "defects": self.defects,
                "failed": failed}


@dataclasses.dataclass(frozen=True)
class YieldJob:
    """Everything a worker needs to evaluate modules: the population as text, the plan's
    path and text (a worker reads the plan from the same path and checks it is the same
    text: workers on other hosts need the plan, and a link design's own files, at the same
    paths), the records' samples per symbol.  Hashable: workers cache what they build from it."""

    population_text: str
    population_source: str
    population_dir: str
    plan_text: str
    plan_source: str
    samples_per_symbol: int = DEFAULT_SAMPLES_PER_SYMBOL
    seed: int | None = None
    #: (hours, temperature_c) replacing the plan's / population's burn-in; None entries keep theirs.
    burn_in: tuple[float | None, float | None] = (None, None)
    #: (hours, laser chip temperature_c) replacing the population's aging; None entries keep its.
    aging: tuple[float | None, float | None] = (None, None)

    @classmethod
    def from_files(cls, population: str | Path, plan: str | Path, *,
                   samples_per_symbol: int = DEFAULT_SAMPLES_PER_SYMBOL, seed: int | None = None,
                   burn_in_hours: float | None = None, burn_in_temperature_c: float | None = None,
                   age_hours: float | None = None, age_temperature_c: float | None = None) -> YieldJob:
        """Read the two files (the population may be a shipped name, e.g. ``"800g-dr8"``);
        ``seed`` replaces the population's seed; the burn-in and aging values replace the plan's
        and population's (module docstring; ranges of :meth:`models.population.Population.with_process`).

        Raises
        ------
        ConfigError
            A file cannot be read, or is invalid (both are fully validated here, before any
            module is evaluated).
        """
        from models.population import shipped_population

        pop_path = shipped_population(str(population))
        plan_path = Path(plan)
        texts = []
        for p, what in ((pop_path, "population"), (plan_path, "plan")):
            try:
                texts.append(p.read_bytes().decode("utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{what} file {p}: {getattr(exc, 'strerror', None) or exc}") from None
        if isinstance(samples_per_symbol, bool) or not isinstance(samples_per_symbol, int) \
                or not 4 <= samples_per_symbol <= 64:
            raise InvalidParameter(f"samples_per_symbol = {samples_per_symbol!r} must be an integer in [4, 64]")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InvalidParameter(f"seed = {seed!r} must be a non-negative integer")
        job = cls(population_text=texts[0], population_source=str(pop_path),
                  population_dir=str(pop_path.resolve().parent), plan_text=texts[1], plan_source=str(plan_path.resolve()),
                  samples_per_symbol=int(samples_per_symbol), seed=seed,
                  burn_in=(_opt_float(burn_in_hours), _opt_float(burn_in_temperature_c)),
                  aging=(_opt_float(age_hours), _opt_float(age_temperature_c)))
        context(job)    # validate now, in the caller's process
        return job


def _opt_float(x: float | None) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise InvalidParameter(f"burn-in / aging value {x!r} must be a number")
    return float(x)


def _process_steps(pop: Any, plan: Any, job: YieldJob) -> Any:
    """``pop`` with the burn-in and aging of the prediction: command line > plan > population."""
    hours, temp = job.burn_in
    plan_bi = getattr(plan, "burn_in", None) or {}
    hours = plan_bi.get("hours") if hours is None else hours
    temp = plan_bi.get("temperature_c") if temp is None else temp
    return pop.with_process(burn_in_hours=hours, burn_in_temperature_c=temp, age_hours=job.aging[0],
                            age_temperature_c=job.aging[1], what="--")


@dataclasses.dataclass(frozen=True)
class _Context:
    population: Any
    plan: Any
    spec: Any


_CONTEXTS: dict[YieldJob, _Context] = {}


def context(job: YieldJob) -> _Context:
    """The population, plan and PHY table of ``job`` (built once per process)."""
    hit = _CONTEXTS.get(job)
    if hit is not None:
        return hit
    from models.population import loads_population
    from optics.phy import load_phy
    from optics.station.plan import load_plan
    from optics.station.records import plan_hash

    pop = loads_population(job.population_text, source=job.population_source, base_dir=job.population_dir)
    if job.seed is not None:
        pop = dataclasses.replace(pop, seed=job.seed)
    plan = load_plan(job.plan_source)
    if plan.sha256 != plan_hash(job.plan_text):
        raise ConfigError(f"{job.plan_source}: the plan file changed while the prediction ran "
                          "(workers read it from the same path)")
    pop = _process_steps(pop, plan, job)
    if plan.lanes > pop.base.n_lanes:
        raise ConfigError(f"{job.plan_source}: plan {plan.name!r} tests {plan.lanes} lanes but population "
                          f"{pop.name!r} ({pop.design}) has {pop.base.n_lanes}")
    ctx = _Context(population=pop, plan=plan, spec=load_phy(plan.phy))
    if len(_CONTEXTS) > 8:
        _CONTEXTS.clear()
    _CONTEXTS[job] = ctx
    return ctx


def _worst(outcomes: Iterable[str]) -> str:
    seen = set(outcomes)
    return next((v for v in VERDICT_ORDER if v in seen), "PASS")


def _tx_metrics(wf: Any, step: Any, spec: Any = None) -> tuple[dict[str, float | None], dict[str, float],
                                                             dict[str, str]]:
    """What the virtual FlexDCA measures on a pattern-locked capture, without its noise.

    The TDECQ settings are the station's (:func:`optics.phy.method.step_tdecq` of the step's
    settings and ``spec``'s method: taps, precursors, SIRC bandwidth; target SER and windows
    as the scope measures them).  TDECQ is measured after ``spec``'s compliance fibre
    (:func:`models.compliance.compliance_channel`, through
    :func:`models.compliance.through_compliance_fibre`, as the virtual bench's scope does with
    that spool on its TDECQ path); power, OMA, ER and RLM on the record itself (TP2).
    """
    from optics.levels import measure_levels
    from optics.phy.method import step_tdecq
    from optics.reference_receiver import bessel_thomson
    from optics.tdecq import tdecq
    from optics.timing import recover_timing

    from models.compliance import compliance_channel, through_compliance_fibre

    settings = step_tdecq(step.settings, getattr(spec, "tdecq_method", None), wf.symbol_rate_baud)
    options = settings.tdecq_options()
    bw, order = options.pop("bandwidth_hz"), options.pop("filter_order")
    filtered = bessel_thomson(wf, bandwidth_hz=bw, order=order)
    timing = recover_timing(filtered)
    levels = measure_levels(filtered, timing)
    channel = compliance_channel(spec) if spec is not None else None
    if channel is not None:
        # TDECQ through the compliance fibre: its own record and timing, as the scope's
        tdecq_wf = bessel_thomson(through_compliance_fibre(wf, channel), bandwidth_hz=bw, order=order)
        tdecq_timing = recover_timing(tdecq_wf)
    else:
        tdecq_wf, tdecq_timing = filtered, timing
    metrics: dict[str, float | None] = {
        "average_power_dbm": 10.0 * math.log10(levels.average / 1e-3) if levels.average > 0 else None,
        "oma_outer_dbm": 10.0 * math.log10(levels.oma_outer / 1e-3) if levels.oma_outer > 0 else None,
        "extinction_ratio_db": levels.extinction_ratio_db if levels.p0 > 0 else None,
    }
    notes: dict[str, str] = {}
    try:
        res = tdecq(tdecq_wf, reference_filter=False, timing=tdecq_timing, **options)
    except OpticsError as exc:
        metrics["tdecq_db"] = metrics["ceq_db"] = None
        notes["tdecq_db"] = f"eye too closed for TDECQ: {exc}"
    else:
        metrics["tdecq_db"], metrics["ceq_db"] = float(res.tdecq_db), float(res.ceq_db)
    return metrics, {"rlm": float(levels.rlm)}, notes


def _records(step: Any, lane: int, temperature_c: float | None, judged: Sequence[Any]) -> list[Record]:
    out = []
    for j in judged:
        outcome = "ERROR" if j.outcome == "NOT TESTED" else j.outcome
        out.append(Record(step.name, j.name, lane, temperature_c, j.value, outcome, j.low, j.high, j.margin,
                          j.guard_band, j.note))
    return out


def evaluate_module(job: YieldJob, index: int) -> ModuleOutcome:
    """Evaluate module ``index`` of the job's population against its plan (module docstring).

    Raises
    ------
    InvalidParameter
        A bad index, or a drawn module the models refuse (the message names it).
    """
    from models.population import lane_tx_waveform
    from models.receiver import sensitivity_oma_w
    from optics.station.judging import judge_step

    t0 = time.perf_counter()
    ctx = context(job)
    pop, plan, spec = ctx.population, ctx.plan, ctx.spec
    pm = pop.module(index)
    if pm.burn_in_failed:
        return _burn_in_fallout(pm, t0)
    temperatures: tuple[float | None, ...] = tuple(plan.temperatures_c) or (None,)
    records: list[Record] = []
    # the Tx measurements lane by lane, both temperatures of a lane in a row: its drive
    # response (a parameter-only part of the record, models.lane) is then computed once
    tx_measured: dict[tuple[int, int, float | None], Any] = {}
    for i, step in enumerate(plan.steps):
        if step.kind != "tx":
            continue
        for lane in range(plan.lanes):
            for t_case in temperatures:
                t = 25.0 if t_case is None else float(t_case)
                wf = lane_tx_waveform(pm, lane, t, pattern=str(step.settings.get("pattern", "PRBS13Q")),
                                      samples_per_symbol=job.samples_per_symbol)
                if wf is None:
                    measured = {}, {}, {n: "no light" for n in step.limits}
                else:
                    try:
                        measured = _tx_metrics(wf, step, spec)
                    except OpticsError as exc:
                        measured = {}, {}, {n: f"no eye: {exc}" for n in step.limits}
                tx_measured[i, lane, t_case] = measured
    from models.thermal import chip_temperature_c

    for t_case in temperatures:
        t = 25.0 if t_case is None else float(t_case)
        t_chip = chip_temperature_c(pm.module, t)
        er_db: dict[int, float | None] = {}
        for i, step in enumerate(plan.steps):
            for lane in range(plan.lanes):
                if step.kind == "tx":
                    metrics, extra, notes = tx_measured[i, lane, t_case]
                    er_db[lane] = metrics.get("extinction_ratio_db")
                    judged = judge_step(spec, plan, step, metrics, scope="tx", extra=extra, notes=notes)
                elif step.kind == "rx_sensitivity":
                    er = er_db.get(lane)
                    if er is None or not er > 0.0:
                        judged = judge_step(spec, plan, step, {}, scope="rx", notes={
                            "rx_sensitivity_oma_dbm": "no source extinction ratio from a Tx step"})
                    else:
                        threshold = float(step.settings.get("ber_threshold", spec.ber_limit))
                        oma_w = sensitivity_oma_w(pm.module.lanes[lane].receiver, threshold,
                                                  extinction_ratio_db=er, temperature_c=t_chip)
                        r = 10.0 ** (er / 10.0)
                        oma_dbm = 10.0 * math.log10(oma_w / 1e-3)
                        avg_dbm = oma_dbm - 10.0 * math.log10(2.0 * (r - 1.0) / (r + 1.0))
                        secq = step.settings.get("reference_secq_db")
                        values = {"rx_sensitivity_oma_dbm": oma_dbm}
                        if secq is not None:
                            values["secq_db"] = float(secq)
                        judged = judge_step(spec, plan, step, values, scope="rx",
                                            extra={"rx_sensitivity_average_dbm": avg_dbm})
                else:
                    break       # ddm: monitor readings, nothing judged
                records.extend(_records(step, lane, t_case, judged))
    verdict = _worst(r.outcome for r in records)
    return ModuleOutcome(index=pm.index, serial=pm.serial, verdict=verdict, defects=pm.note,
                         records=tuple(records), seconds=time.perf_counter() - t0)


#: Step and measurement name of the record of a module the population's burn-in removed.
BURN_IN_FALLOUT = "burn_in_fallout"


def _burn_in_fallout(pm: Any, t0: float) -> ModuleOutcome:
    """A module removed by the population's burn-in (:mod:`models.population` ``[burn_in]``): never
    tested, one FAIL record ``burn_in_fallout`` (its own line of the failure Pareto)."""
    rec = Record("burn_in", BURN_IN_FALLOUT, None, None, None, "FAIL", None, None, None, 0.0,
                 "a laser failed the burn-in (infant mortality, models.aging.BurnInScreen)")
    defects = ", ".join(x for x in (pm.note, "burn-in fallout") if x)
    return ModuleOutcome(index=pm.index, serial=pm.serial, verdict="FAIL", defects=defects, records=(rec,),
                         seconds=time.perf_counter() - t0)


def evaluate_chunk(job: YieldJob, indices: Sequence[int]) -> list[ModuleOutcome]:
    """:func:`evaluate_module` for each index, in order (the unit of work of the engine)."""
    return [evaluate_module(job, int(k)) for k in indices]


__all__ = ["BURN_IN_FALLOUT", "DEFAULT_SAMPLES_PER_SYMBOL", "ModuleOutcome", "Record", "VERDICT_ORDER", "YieldJob", "context",
           "evaluate_chunk", "evaluate_module"]
