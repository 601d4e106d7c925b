"""Simulation of modules of N lanes: :func:`simulate` and :func:`simulate_many`.

Every lane runs :func:`models.lane_simulation.simulate_lane` with its own random stream,
``numpy.random.SeedSequence(seed)`` spawned per lane, serially or in a pool of forked worker
processes (:data:`PARALLEL_MIN_SAMPLES`), so the results do not depend on the worker count.
The state the workers inherit lives in this module only (``_POOL_STATE``).  Public through
:mod:`models.link`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from models import crosstalk as crosstalk_model
from models import draws_ahead
from models.chip_temperature import chip_temperature_c
from models.lane import LaneResult, LinkModule, ModuleResult, SimulationSettings
from models.lane_metrics import _failed_metrics, _tx_reference, module_power_at, rx_metrics
from models.lane_simulation import TransmitterEntry, _period_fast, simulate_lane, transmitter_transfer
from optics import validate
from optics.errors import InvalidParameter, InvalidType
from optics.waveform import Waveform


def simulate(
    module: LinkModule,
    settings: SimulationSettings | None = None,
    *,
    seed: int | None = 0,
    metrics: bool = True,
    fail_fast: bool = False,
    cache: dict[Any, Any] | None = None,
    keep_waveforms: bool = True,
    workers: int | None = None,
) -> ModuleResult:
    """Simulate every lane of ``module`` at ``settings.temperature_c`` (case) and measure it.

    Parameters
    ----------
    module : LinkModule
    settings : SimulationSettings, optional
        Default :class:`SimulationSettings()`.
    seed : int or None
        Seed of ``numpy.random.SeedSequence``; lane ``i`` uses the i-th spawned child.
        None draws fresh entropy (recorded in each waveform's ``meta["seed"]``).
    metrics : bool
        Measure the waveforms (default True).
    fail_fast : bool
        Raise on the first failed lane instead of recording ``link_failed`` (default False).
    cache : dict, optional
        Transfer cache shared across calls (a temperature sweep passes one); see
        :func:`simulate_lane`.
    keep_waveforms : bool
        Keep the waveforms in the lane results (default True; sweeps drop them to save memory).
    workers : int or None
        Processes that simulate lanes concurrently (fork start method; serial where fork is
        unavailable).  None (default) picks ``min(lanes, CPU cores)`` for records of at least
        :data:`PARALLEL_MIN_SAMPLES` samples and 1 for shorter ones or when the calling
        process runs other threads.  Each lane has its own seed, so the results do not
        depend on the worker count.

    Returns
    -------
    ModuleResult
        A lane whose link fails (ring lock lost, laser below threshold, TIA overload) has no
        waveforms and ``metrics = {"link_failed": True, "failure": <message>, ...}``.

    Examples
    --------
    >>> from models.presets import preset
    >>> from models.link import SimulationSettings, simulate
    >>> res = simulate(preset("400GBASE-DR4"), SimulationSettings(pattern="PRBS9Q", n_symbols=2044,
    ...                samples_per_symbol=8, compute_tdecq=False))
    >>> len(res.lanes), res.ok
    (4, True)
    """
    settings = SimulationSettings() if settings is None else settings
    return simulate_many(module, [settings], seed=seed, metrics=metrics, fail_fast=fail_fast, cache=cache,
                         keep_waveforms=keep_waveforms, workers=workers)[0]


#: Samples per lane record from which :func:`simulate` runs lanes in parallel by default
#: (below it the fork and the transfer of the results cost more than they save).
PARALLEL_MIN_SAMPLES = 1 << 19

# State the forked workers inherit (set by simulate_many just before the pool is created).
_POOL_STATE: dict[str, Any] = {}


def _resolve_workers(workers: int | None, n_jobs: int, n_samples: int) -> int:
    import os

    if workers is None:
        import threading

        # forking a process that runs other threads can copy a lock held by one of them:
        # the default stays serial then (an explicit ``workers`` is honoured)
        if n_samples < PARALLEL_MIN_SAMPLES or threading.active_count() > 1:
            return 1
        workers = os.cpu_count() or 1
    else:
        validate.integer("workers", workers, 1, 256)
    return max(1, min(int(workers), n_jobs))


def _prepare_transmitters(module: LinkModule, settings: SimulationSettings, sym: np.ndarray, cache: dict[Any, Any]) -> None:
    """Fill ``cache`` with the noise-free transmitter transfers (before forking, so workers share them)."""
    xt = module.crosstalk
    if xt is not None and xt.driver_coupled:
        return  # every lane's drive carries its neighbours': nothing is shared
    for lane in module.lanes:
        tx = lane.transmitter
        if tx.driver.has_jitter or tx.driver.noise_rms_v > 0.0:
            continue  # a jittered lane's transfer depends on its seed: simulate_lane keeps it
        gain = 10.0 ** (-tx.split_loss_db / 20.0)
        key = (*tx.transfer_key, gain, module.symbol_rate_baud, settings.samples_per_symbol, settings.precision,
               None, id(sym))
        if key not in cache or cache[key].symbols is not sym:
            try:
                transfer, drive_meta = transmitter_transfer(tx, sym, module.symbol_rate_baud,
                                                            settings.samples_per_symbol, precision=settings.precision)
            except InvalidParameter:
                continue  # the lane reports it
            cache[key] = TransmitterEntry(transfer, drive_meta, sym)  # as simulate_lane keeps it
    pkey = ("period", id(sym))
    if pkey not in cache or cache[pkey][0] is not sym:
        cache[pkey] = (sym, _period_fast(sym))


def _lane_job(
    module: LinkModule, settings: SimulationSettings, lane_index: int, child: np.random.SeedSequence,
    sym: np.ndarray, cache: dict[Any, Any], metrics: bool, keep_waveforms: bool, seed: int | None,
    tx_reference: tuple[Mapping[str, Any], float] | None = None,
    reuse: bool = False,
    threads: int | None = None,
) -> tuple[LaneResult, str | None]:
    """One lane of :func:`simulate_many`: ``(result, None)`` or ``(failed-lane result, message)``."""
    lane = module.lanes[lane_index]
    t_chip = chip_temperature_c(module, settings.temperature_c)
    try:
        xt_v = _drive_crosstalk(module, lane_index, sym, settings, cache)
        res = simulate_lane(
            lane,
            symbol_rate_baud=module.symbol_rate_baud,
            settings=settings,
            rng=np.random.default_rng(child),
            chip_temperature_c=t_chip,
            symbols=sym,
            metrics=metrics,
            rx_ffe_taps=module.rx_ffe_taps,
            cache=cache,
            tx_reference=tx_reference,
            spectrum_key=(lane_index, child.entropy, tuple(child.spawn_key)) if reuse else None,
            need_tx_waveform=keep_waveforms or tx_reference is None,
            extra_meta={"seed": seed, "seed_spawn_key": list(child.spawn_key), "settings": dataclasses.asdict(settings)},
            threads=threads,
            drive_crosstalk_v=xt_v,
        )
    except InvalidParameter as exc:
        failed = _failed_metrics(lane, t_chip, str(exc))
        return LaneResult(lane.name, None, None, MappingProxyType(failed)), str(exc)
    keep = keep_waveforms
    res = LaneResult(
        res.name,
        res.tx_waveform if keep else None,
        res.rx_waveform if keep else None,
        MappingProxyType({**res.metrics, "link_failed": False}),
    )
    return res, None


def _drive_crosstalk(module: LinkModule, lane_index: int, sym: np.ndarray, settings: SimulationSettings,
                     cache: dict[Any, Any]) -> np.ndarray | None:
    """The driver-side crosstalk voltage into lane ``lane_index``'s modulator drive
    (:func:`models.crosstalk.driver_crosstalk_v`), None when the module's drives do not couple.

    Each lane's drive is its transmitter's :meth:`~models.lane.Transmitter.drive_voltage` with
    a jitter- and noise-free driver (kept in ``cache`` for the other victims)."""
    xt = module.crosstalk
    if xt is None or not xt.driver_coupled:
        return None
    sps = settings.samples_per_symbol
    drives: list[np.ndarray | None] = []
    for lane in module.lanes:
        tx = lane.transmitter
        key = ("clean drive", tx.transfer_key, module.symbol_rate_baud, sps, id(sym))
        hit = cache.get(key)
        if hit is None or hit[0] is not sym:
            clean = dataclasses.replace(tx, driver=dataclasses.replace(tx.driver, rj_rms_s=0.0, eoj_pp_s=0.0,
                                                                       sj_pp_s=0.0, noise_rms_v=0.0))
            hit = (sym, np.asarray(clean.drive_voltage(sym, module.symbol_rate_baud, sps)[0], dtype=np.float64))
            cache[key] = hit
        drives.append(hit[1])
    pkey = ("period", id(sym))
    if pkey not in cache or cache[pkey][0] is not sym:
        cache[pkey] = (sym, _period_fast(sym))
    return crosstalk_model.driver_crosstalk_v(drives, lane_index, xt, samples_per_symbol=sps,
                                              sample_rate_hz=module.symbol_rate_baud * sps,
                                              symbol_rate_baud=module.symbol_rate_baud,
                                              period_symbols=len(cache[pkey][1]))


def _pack_waveform(wf: Waveform | None) -> tuple[Any, ...] | None:
    # Waveform holds read-only mappings (not picklable): send its fields
    if wf is None:
        return None
    return (np.asarray(wf.samples), wf.sample_rate_hz, wf.quantity, wf.symbol_rate_baud, wf.pattern, dict(wf.meta), wf.t0_s)


def _unpack_waveform(t: tuple[Any, ...] | None) -> Waveform | None:
    if t is None:
        return None
    samples, fs, quantity, baud, pattern, meta, t0 = t
    return Waveform(samples=samples, sample_rate_hz=fs, quantity=quantity, symbol_rate_baud=baud, pattern=pattern,
                    meta=meta, t0_s=t0)


def _worker_job(job: tuple[int, int, Any]) -> tuple[int, int, tuple[Any, ...], str | None]:
    """Run job ``(settings index, lane index, tx reference)`` in a forked worker; picklable result."""
    st = _POOL_STATE
    i, j, ref = job
    settings = st["settings"][i]
    # the workers share the cores: one thread per lane unless the settings ask for more
    res, err = _lane_job(st["module"], settings, j, st["children"][i][j], st["sym"], st["cache"],
                         st["metrics"], st["keep"], st["seed"], ref, st["reuse"],
                         1 if settings.threads is None else settings.threads)
    packed = (res.name, _pack_waveform(res.tx_waveform), _pack_waveform(res.rx_waveform), dict(res.metrics))
    return i, j, packed, err


def simulate_many(
    module: LinkModule,
    settings_list: Sequence[SimulationSettings],
    *,
    seed: int | None = 0,
    metrics: bool = True,
    fail_fast: bool = False,
    cache: dict[Any, Any] | None = None,
    keep_waveforms: bool = True,
    workers: int | None = None,
    reuse_tx_metrics: bool = True,
) -> list[ModuleResult]:
    """:func:`simulate` at several settings (e.g. temperatures) with one pool of workers.

    Every entry gets ``numpy.random.SeedSequence(seed)`` spawned per lane, exactly as
    :func:`simulate` does, so ``simulate_many(m, [s1, s2])`` equals
    ``[simulate(m, s1), simulate(m, s2)]`` bit for bit, whatever ``workers`` is.  The
    noise-free transmitter transfers are computed once, before the workers start, and shared.
    All settings must send the same symbols (pattern, length, samples per symbol).

    With ``reuse_tx_metrics`` (default), a fixed ``seed`` and settings that differ only in
    ``temperature_c`` (a temperature sweep), each lane's Tx waveform at every temperature is
    the first temperature's one times the laser-power ratio (same modulator transfer, same
    RIN draws), so the Tx metrics (TDECQ...) are measured once per lane and scaled
    (:func:`scale_tx_metrics`), and the transform of each lane's Tx field is kept and reused
    (see ``spectrum_key`` in :func:`simulate_lane`); the channel, receiver and receiver
    metrics are simulated and measured at every temperature.  Lanes with a noisy driver, a
    closed eye or a failure at the first temperature are measured everywhere.

    Raises
    ------
    InvalidParameter
        Settings that send different symbols; with ``fail_fast`` the first failed lane.
    """
    if not isinstance(module, LinkModule):
        raise InvalidType(f"module must be a LinkModule, got {type(module).__name__}")
    settings_list = list(settings_list)
    if not settings_list or not all(isinstance(s, SimulationSettings) for s in settings_list):
        raise InvalidParameter("settings_list must be a non-empty sequence of SimulationSettings")
    first = settings_list[0]
    if any((s.pattern, s.n_symbols, s.samples_per_symbol) != (first.pattern, first.n_symbols, first.samples_per_symbol)
           for s in settings_list):
        raise InvalidParameter("all settings in settings_list must send the same pattern, n_symbols and samples_per_symbol")
    cache = {} if cache is None else cache
    sym = cache.setdefault(("symbols", first.pattern, first.n_symbols), None)
    if sym is None:
        sym = cache[("symbols", first.pattern, first.n_symbols)] = first.symbols()
    # one spawn per settings entry, as simulate() always did (seed None: fresh entropy each)
    children = [np.random.SeedSequence(seed).spawn(module.n_lanes) for _ in settings_list]
    n_lanes = module.n_lanes
    jobs = [(i, j) for i in range(len(settings_list)) for j in range(n_lanes)]
    draws_ahead.shutdown()  # its idle thread would count as "other threads" and must not be forked
    n_workers = _resolve_workers(workers, len(jobs), sym.size * first.samples_per_symbol)
    _prepare_transmitters(module, first, sym, cache)
    lane_results: list[list[LaneResult | None]] = [[None] * n_lanes for _ in settings_list]
    errors: dict[tuple[int, int], str] = {}
    base = dataclasses.replace(first, temperature_c=0.0)
    reuse = (reuse_tx_metrics and metrics and seed is not None and len(settings_list) > 1
             and all(dataclasses.replace(s, temperature_c=0.0) == base for s in settings_list))
    phases = [[(i, j, None) for i, j in jobs]]
    if reuse:
        phases = [[(0, j, None) for j in range(n_lanes)], None]
    # crosstalk between the received waveforms needs them all (dropped again afterwards)
    xt = module.crosstalk
    keep_inner = keep_waveforms or (xt is not None and xt.signal_coupled)
    pool = None
    if n_workers > 1:
        import multiprocessing

        try:
            ctx = multiprocessing.get_context("fork")
        except ValueError:  # no fork on this platform
            n_workers = 1

    def record(i: int, j: int, res: LaneResult, err: str | None) -> None:
        lane_results[i][j] = res
        if err is not None:
            errors[(i, j)] = err
            if fail_fast:
                raise InvalidParameter(err)

    try:
        if n_workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            _POOL_STATE.update(module=module, settings=settings_list, children=children, sym=sym, cache=cache,
                               metrics=metrics, keep=keep_inner, seed=seed, reuse=reuse)
            pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx)
        for phase in phases:
            if phase is None:  # second phase of a sweep: reuse the first temperature's Tx metrics
                refs = []
                for lane, res in zip(module.lanes, lane_results[0]):
                    # driver jitter is drawn per seed and lane (the same at every temperature)
                    noisy = lane.transmitter.driver.noise_rms_v > 0.0 or (xt is not None and xt.driver_coupled)
                    refs.append(None if noisy or res is None else _tx_reference(res))
                phase = [(i, j, refs[j]) for i in range(1, len(settings_list)) for j in range(n_lanes)]
            if pool is not None:
                for i, j, packed, err in pool.map(_worker_job, phase):
                    name, txp, rxp, m = packed
                    record(i, j, LaneResult(name, _unpack_waveform(txp), _unpack_waveform(rxp), MappingProxyType(m)), err)
            else:
                for i, j, ref in phase:
                    res, err = _lane_job(module, settings_list[i], j, children[i][j], sym, cache, metrics,
                                         keep_inner, seed, ref, reuse)
                    record(i, j, res, err)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        _POOL_STATE.clear()
    if xt is not None:
        for i, settings in enumerate(settings_list):
            _apply_crosstalk(module, settings, i, lane_results[i], errors, metrics=metrics, fail_fast=fail_fast)
            if not keep_waveforms:
                lane_results[i] = [None if r is None else LaneResult(r.name, None, None, r.metrics)
                                   for r in lane_results[i]]
    out = []
    for i, settings in enumerate(settings_list):
        t_chip = chip_temperature_c(module, settings.temperature_c)
        lanes = tuple(r for r in lane_results[i] if r is not None)
        ok = not any(k[0] == i for k in errors)
        heaters = [float(r.metrics["heater_power_w"]) for j, r in enumerate(lanes) if (i, j) not in errors]
        heater_mean = float(np.mean(heaters)) if heaters else 0.0
        pw = module_power_at(module, t_chip, heater_mean, case_temperature_c=float(settings.temperature_c))
        total = float(pw.total_w) if pw is not None else None
        epb = float(pw.energy_pj_per_bit) if pw is not None else None
        out.append(ModuleResult(module.name, float(settings.temperature_c), lanes, pw, total, epb, ok))
    return out


def _apply_crosstalk(
    module: LinkModule, settings: SimulationSettings, i: int, lanes: list[LaneResult | None],
    errors: dict[tuple[int, int], str], *, metrics: bool, fail_fast: bool,
) -> None:
    """The module's crosstalk (:mod:`models.crosstalk`) on the lane results of settings ``i``, in place.

    Optical/electrical: each received waveform gains the other lanes' (as simulated, shifted to
    decorrelate their data) and the Rx metrics are measured again; ``receive_power_dbm`` gains the
    incoherent leakage's power, ``crosstalk_added_power_dbm`` records it.  Thermal: the heater
    powers are those of the coupled lock (:func:`models.crosstalk.coupled_heater_powers`), with
    ``heater_power_uncoupled_w`` kept; a ring its neighbours overshoot fails its lane.
    """
    xt = module.crosstalk
    if xt is None:
        return
    ok = [r is not None and (i, j) not in errors for j, r in enumerate(lanes)]
    if xt.signal_coupled:
        rx = [np.asarray(r.rx_waveform.samples) if good and r.rx_waveform is not None else None  # type: ignore[union-attr]
              for good, r in zip(ok, lanes)]
        live = [j for j, v in enumerate(rx) if v is not None]
        if live:
            wf0 = lanes[live[0]].rx_waveform  # type: ignore[union-attr]
            new = crosstalk_model.add_received_crosstalk(
                rx, xt, samples_per_symbol=settings.samples_per_symbol, sample_rate_hz=wf0.sample_rate_hz,
                symbol_rate_baud=module.symbol_rate_baud,
                period_symbols=None if wf0.pattern is None else len(wf0.pattern))
            c_opt = xt.optical_matrix(module.n_lanes)
            # the aggressors' received powers as simulated (before any crosstalk is added)
            p_agg = [10.0 ** (float(lanes[a].metrics["receive_power_dbm"]) / 10.0) * 1e-3  # type: ignore[union-attr]
                     if a in live and lanes[a].metrics.get("receive_power_dbm") is not None else 0.0  # type: ignore[union-attr]
                     for a in range(module.n_lanes)]
            for j in live:
                r = lanes[j]
                wf = r.rx_waveform.with_samples(new[j], meta={**dict(r.rx_waveform.meta),  # type: ignore[union-attr]
                                                              "crosstalk": dataclasses.asdict(xt)})
                m = dict(r.metrics)
                added = sum(c_opt[j, a] * p_agg[a] for a in range(module.n_lanes))
                if m.get("receive_power_dbm") is not None:
                    m["receive_power_dbm"] = 10.0 * np.log10((10.0 ** (m["receive_power_dbm"] / 10.0) * 1e-3 + added) / 1e-3)
                m["crosstalk_added_power_dbm"] = 10.0 * np.log10(added / 1e-3) if added > 0 else None
                if metrics:
                    m.update(rx_metrics(wf, count_errors=settings.count_errors))
                lanes[j] = LaneResult(r.name, r.tx_waveform, wf, MappingProxyType(m))
    kappa = xt.heater_coupling_adjacent
    if kappa > 0.0 and all(ok):
        p0 = [float(r.metrics["heater_power_w"]) for r in lanes]  # type: ignore[union-attr]
        p = crosstalk_model.coupled_heater_powers(p0, kappa, check=False)
        for j, r in enumerate(lanes):
            m = {**dict(r.metrics), "heater_power_uncoupled_w": p0[j], "heater_power_w": float(max(p[j], 0.0))}  # type: ignore[union-attr]
            if p[j] < 0.0:
                msg = (f"thermal crosstalk: the ring of {r.name} would need {p[j] * 1e3:.3g} mW of heater power "  # type: ignore[union-attr]
                       f"(its neighbours heat it past its target, kappa = {kappa:g}): lock lost")
                errors[(i, j)] = msg
                m.update(link_failed=True, failure=msg)
                if fail_fast:
                    raise InvalidParameter(msg)
            lanes[j] = LaneResult(r.name, r.tx_waveform, r.rx_waveform, MappingProxyType(m))  # type: ignore[union-attr]
