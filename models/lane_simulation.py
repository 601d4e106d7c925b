"""Simulation of one lane: transmitter → channel → receiver (:func:`simulate_lane`).

The transmitter's modulator transfer (:func:`transmitter_transfer`), the fibre and the
PD/TIA in one FFT pass (:func:`channel_and_receiver`), and the measurement of both
waveforms (:mod:`models.lane_metrics`).  All filtering is circular (FFT) on a record of whole
pattern periods, so the pattern repeats seamlessly.  Public through :mod:`models.link`.

With two or more threads (:attr:`SimulationSettings.threads`), a lane's noise (laser RIN, shot
and TIA noise: :mod:`models.gaussian` draws) is drawn ahead on a background thread in the
order the one-thread path draws it (:mod:`models.draws_ahead`), the first half of the Tx field
is computed there too, and long records go through the four-step transforms of
:mod:`models.fft_layout`: the same samples, bit for bit, in about half the wall time
(``benchmarks/bench_models.py``).
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Mapping
from concurrent.futures import Future
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.fft as sfft

from models import fft_layout, gaussian, response
from models.draws_ahead import DrawsAhead
from models.fiber import Channel
from models.lane import (
    Lane,
    LaneResult,
    SimulationSettings,
    Transmitter,
    check_modulator_sampling,
    dbm_to_w,
    host_channel_response,
    w_to_dbm,
)
from models.lane_metrics import rx_metrics, scale_tx_metrics, tx_metrics
from models.laser import Knots, OpticalField, power_waveform
from models.modulator import MachZehnderModulator, MicroringModulator, is_single_precision
from models.receiver import Receiver, adapt_ffe_taps, apply_ffe_taps
from optics import validate
from optics.errors import InvalidParameter
from optics.waveform import Quantity, Waveform


def transmitter_transfer(
    tx: Transmitter, symbols: np.ndarray, symbol_rate_baud: float, samples_per_symbol: int,
    rng: np.random.Generator | None = None, *, precision: str = "double",
    jitter_rng: np.random.Generator | None = None, added_drive_v: np.ndarray | None = None,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Complex field transmission of the modulator driven by the symbols, and the drive's meta.

    ``E_tx(t) = E_laser(t)·t(t)`` with ``t = modulator.transfer(v)``, ``v`` the driver output
    filtered by the host channel (if any) and the modulator's EO response
    (:meth:`Transmitter.drive_voltage`; the driver's random jitter drawn from ``jitter_rng``,
    else from ``rng``).  A driver with noise uses :meth:`Pam4Driver.drive` with ``rng``.
    ``precision`` goes to the modulator's transfer (see :class:`SimulationSettings`); the
    transfer is complex64 in single precision, else complex128.  ``added_drive_v`` (V, one
    value per sample) is added to the filtered drive ahead of the modulator's transfer: the
    other lanes' driver-side crosstalk (:func:`models.crosstalk.driver_crosstalk_v`).
    """
    mod = tx.modulator
    fs = symbol_rate_baud * samples_per_symbol
    drv = tx.effective_driver
    jitter_rng = rng if jitter_rng is None else jitter_rng
    if drv.noise_rms_v > 0.0:
        drive_wf = drv.drive(symbols, symbol_rate_baud=symbol_rate_baud, samples_per_symbol=samples_per_symbol, rng=rng,
                             jitter_rng=jitter_rng)
        check_modulator_sampling(mod, fs)
        f = sfft.rfftfreq(drive_wf.n_samples, 1.0 / fs)
        h = mod.eo_response(f)
        if tx.host_channel is not None:
            h = h * host_channel_response(tx.host_channel, f)
        v = sfft.irfft(sfft.rfft(drive_wf.samples) * h, drive_wf.n_samples)
        meta = dict(drive_wf.meta)
    else:
        v, meta = tx.drive_voltage(symbols, symbol_rate_baud, samples_per_symbol, precision=precision,
                                   jitter_rng=jitter_rng)
    if added_drive_v is not None:
        v = v + np.asarray(added_drive_v, dtype=v.dtype)
    cdt = np.complex64 if is_single_precision(precision) else np.complex128
    return mod.transfer(v, precision=precision).astype(cdt, copy=False), meta


def simulate_lane(
    lane: Lane,
    *,
    symbol_rate_baud: float,
    settings: SimulationSettings,
    rng: np.random.Generator,
    chip_temperature_c: float | None = None,
    symbols: np.ndarray | None = None,
    metrics: bool = True,
    rx_ffe_taps: int = 0,
    cache: dict[Any, Any] | None = None,
    tx_reference: tuple[Mapping[str, Any], float] | None = None,
    spectrum_key: Any = None,
    need_tx_waveform: bool = True,
    receiver: bool = True,
    extra_meta: Mapping[str, Any] | None = None,
    threads: int | None = None,
    drive_crosstalk_v: np.ndarray | None = None,
) -> LaneResult:
    """Simulate one lane (driver → laser+modulator → channel → PD/TIA) and measure it.

    Parameters
    ----------
    lane : Lane
    symbol_rate_baud : float
        Symbol rate in Bd.
    settings : SimulationSettings
    rng : numpy.random.Generator
        Source of laser RIN, MPI phase, driver jitter/noise, shot and thermal noise.
    chip_temperature_c : float, optional
        Chip temperature (default ``settings.temperature_c``).
    symbols : ndarray, optional
        Symbols to send (default ``settings.symbols()``).
    metrics : bool
        Measure the waveforms with :mod:`optics` (default True).
    rx_ffe_taps : int
        Receiver DSP FFE taps (0: none), see :attr:`LinkModule.rx_ffe_taps`.
    cache : dict, optional
        Reuses the modulator transfer of identical (noise-free) transmitters across lanes
        and temperatures (it depends only on driver, modulator and symbols; a locked ring's
        transfer does not depend on temperature).  Without one, the last few transfers are
        kept by the symbols' content (so the same lane at its next temperature reuses its
        transfer: the same samples either way).
    drive_crosstalk_v : ndarray, optional
        Voltage the other lanes' drives add to this lane's modulator drive (V per sample,
        :func:`models.crosstalk.driver_crosstalk_v`); its transfer is then not cached.
    tx_reference : (mapping, float), optional
        Transmitter metrics already measured on this lane with the same noise realisation
        (same seed and lane) at another temperature, and the laser power (W) they were
        measured at.  The Tx waveform then differs only by the laser power ratio ``k``, so
        the metrics are :func:`scale_tx_metrics` of the reference (TDECQ, Ceq, ER, RLM are
        ratios; OMA, power and levels scale by ``k``) instead of being measured again.
    spectrum_key : hashable, optional
        With ``cache``: names this lane's noise realisation (seed, lane).  The transform of
        the Tx field is kept in ``cache`` under it and reused at other temperatures, scaled
        by ``sqrt(P_laser/P_laser,ref)`` (the field is the same up to that factor), which
        saves the fibre's forward FFT.  Only for noise-free drivers and channels without MPI.
    need_tx_waveform : bool
        Build the Tx waveform (default True).  False with ``tx_reference`` skips it
        (``tx_waveform`` is then None).
    receiver : bool
        Simulate the channel and the receiver (default True).  False stops after the
        transmitter: ``rx_waveform`` is None, ``receive_power_dbm`` None and no Rx metrics;
        the Tx waveform is the same sample for sample (the generator draws the laser RIN
        before the receiver's noise, which is then not drawn), but a receiver fault (TIA
        overload) is not raised.  For callers that only need the Tx record (the scope,
        :func:`models.population.lane_tx_waveform`).
    extra_meta : mapping, optional
        Entries added to both waveforms' ``meta`` (e.g. the seed).
    threads : int, optional
        Threads this lane may use (default :meth:`SimulationSettings.lane_threads`); the
        results do not depend on it.

    Returns
    -------
    LaneResult
        With ``metrics`` also holding ``wavelength_m, laser_power_w, heater_power_w,
        receive_power_dbm, chip_temperature_c`` and, for an MZM lane, its bias loop at the chip
        temperature (:meth:`MachZehnderModulator.bias_state`): ``mzm_bias_error_rad,
        mzm_bias_v, mzm_bias_limited``.

    Raises
    ------
    InvalidParameter
        Ring lock lost, laser below threshold, TIA overload, sample rate below twice a
        bandwidth (messages name the cause).
    """
    tx = lane.transmitter
    sym = settings.symbols() if symbols is None else symbols
    sps = settings.samples_per_symbol
    t_chip = settings.temperature_c if chip_temperature_c is None else chip_temperature_c
    fs = symbol_rate_baud * sps
    mod = tx.modulator
    heater_w = 0.0
    if isinstance(mod, MicroringModulator):
        heater_w = mod.lock_or_raise(tx.laser.wavelength_at(t_chip), t_chip).heater_power_w
    mzm_bias = None
    if isinstance(mod, MachZehnderModulator):
        # the MZM at the chip temperature (bias drift held by its loop, Vπ, bandwidth): its transfer
        # is cached under its own parameters; the Tx metrics of another temperature do not scale
        mzm_bias = mod.bias_state(t_chip, tx.laser.wavelength_at(t_chip))
        if mod.temperature_dependent:
            tx_reference = spectrum_key = None
        tx, mod = _mzm_at_temperature(tx, t_chip)
    gain = 10.0 ** (-tx.split_loss_db / 20.0)
    # driver jitter comes from a stream of its own (jitter_stream): the same at every
    # temperature of a seed and lane, so its transfer is kept like a noise-free one
    jitter_key, jitter_rng = jitter_stream(rng) if tx.driver.has_jitter else (None, None)
    key = (*tx.transfer_key, gain, symbol_rate_baud, sps, settings.precision, jitter_key, id(sym))
    noisy_driver = (tx.driver.noise_rms_v > 0.0 or (tx.driver.has_jitter and jitter_key is None)
                    or drive_crosstalk_v is not None)
    # cache entries keyed by id(sym) hold sym itself: a live entry's id cannot be reused
    cached = None if cache is None else cache.get(key)
    if cached is not None and cached.symbols is not sym:
        cached = None
    recent_key = None
    if cache is None and not noisy_driver:
        # without a caller's cache: the last few transfers by symbol content (the same lane at
        # its next temperature, e.g. the records of models.population.lane_tx_waveform)
        recent_key = (*key[:-1], _symbols_digest(sym))
        hit = _RECENT_TRANSFERS.get(recent_key)
        if hit is not None and np.array_equal(hit.symbols, sym):
            cached = hit
    n = sym.size * sps
    fast = lane.channel.mpi_ratio == 0.0
    single = settings.precision == "single"
    n_threads = settings.lane_threads() if threads is None else validate.integer("threads", threads, 1, 64)
    # fast path: the noise is drawn ahead (same generator, same order) while the field propagates
    draws = DrawsAhead(rng, background=n_threads > 1 and n >= _BACKGROUND_MIN_SAMPLES) if fast else None
    laser = tx.laser
    # a transmitter still to compute that draws nothing: the RIN and the shot noise are drawn
    # meanwhile, then the field's first half is computed on the draw thread, then the TIA noise
    # drawn; otherwise the RIN is drawn first, then the field's first half, then the shot and
    # TIA noise (the generator's order is RIN, shot, TIA either way)
    early = draws is not None and cached is None and not noisy_driver

    def rin_knots(r: np.random.Generator) -> Knots:
        # the RIN's draws and the field amplitude at its knots (laser.amplitude_knots)
        return laser.amplitude_knots(n, fs, laser.rin_draws(n, fs, r), temperature_c=t_chip, scale=gain)

    try:
        if early:
            rin = draws.submit(rin_knots)
            response.check_sampling("tia.bandwidth_hz", lane.receiver.tia.bandwidth_hz, fs)
            shot_job = _shot_noise_job(draws, lane.receiver, n, fs, single=single) if receiver else None
        if cached is None:
            cached = TransmitterEntry(*transmitter_transfer(tx, sym, symbol_rate_baud, sps, rng,
                                                            precision=settings.precision, jitter_rng=jitter_rng,
                                                            added_drive_v=drive_crosstalk_v), sym)
            if cache is not None and not noisy_driver:
                cache[key] = cached
            elif recent_key is not None:
                if len(_RECENT_TRANSFERS) >= _RECENT_TRANSFERS_MAX:
                    _RECENT_TRANSFERS.pop(next(iter(_RECENT_TRANSFERS)))
                _RECENT_TRANSFERS[recent_key] = TransmitterEntry(cached.transfer, cached.drive_meta, sym.copy())
        transfer, drive_meta = cached.transfer, cached.drive_meta
        p_laser = laser.output_power_w(t_chip)
        wavelength = laser.wavelength_at(t_chip)
        pkey = ("period", id(sym))
        pentry = None if cache is None else cache.get(pkey)
        if pentry is None or pentry[0] is not sym:
            pentry = (sym, _period_fast(sym))
            if cache is not None:
                cache[pkey] = pentry
        period = pentry[1]
        meta = {"laser_power_w": p_laser, "laser_temperature_c": laser.own_temperature_c(t_chip),
                "modulator": type(mod).__name__,
                "drive": dict(drive_meta)}
        tx_meta = {**meta, "source": "model", "lane": lane.name, "chip_temperature_c": t_chip, **dict(extra_meta or {})}
        skey = None
        if fast and spectrum_key is not None and cache is not None and not noisy_driver:
            skey = ("tx spectrum", key, spectrum_key, settings.precision)
        entry = None if skey is None or p_laser <= 0.0 else cache.get(skey)  # a dark laser raises below
        if entry is not None and entry[2] is not sym:
            entry = None
        need_tx = need_tx_waveform or (metrics and tx_reference is None)
        tx_wf = tx_job = None
        x_in = None  # the channel's input field, made here in the working precision (the channel's own)
        if draws is not None:
            if not early:
                # the RIN's standard normals (kept in step even when the field comes from a kept
                # spectrum, so that the shot and TIA noise that follow get the same draws)
                rin = draws.submit(rin_knots)
            if need_tx or entry is None:
                # E = gain·sqrt(P)(1 + n/2)·transfer and the Tx power |E|², in two halves: the
                # first on the draw thread (after the draws queued before it), the second here
                # (each sample is computed alike: the same values either way)
                x_in = np.empty(n, dtype=transfer.dtype)
                p_tx = np.empty(n) if need_tx else None
                rdt = np.float32 if single else np.float64

                def field_part(lo: int, hi: int) -> None:
                    # in pieces that stay in cache: amplitude, field, |E|² (the Tx power)
                    knots = rin.result()
                    for a in range(lo, hi, _FIELD_PIECE):
                        b = min(hi, a + _FIELD_PIECE)
                        np.multiply(transfer[a:b], knots.at(a, b, dtype=rdt), out=x_in[a:b])
                        if p_tx is not None:
                            mag = np.abs(x_in[a:b])
                            np.square(mag, out=p_tx[a:b])

                half = n // 2
                first_half = draws.submit(lambda r: field_part(0, half)) if draws.background else None
            # the TIA noise after the field's first half (a cold lane drew the shot noise already)
            if not receiver:
                noise_jobs = (None, None)
            else:
                if not early:
                    shot_job = _shot_noise_job(draws, lane.receiver, n, fs, single=single)
                noise_jobs = (shot_job, _tia_noise_job(draws, lane.receiver, n, fs, single=single))
            if x_in is not None:
                if draws.background:
                    field_part(half, n)
                    first_half.result()
                else:
                    field_part(0, n)
                if p_tx is not None:
                    def tx_waveform(r: np.random.Generator) -> Waveform:
                        return power_waveform(p_tx, sample_rate_hz=fs, wavelength_m=wavelength,
                                              symbol_rate_baud=symbol_rate_baud, pattern=period, meta=tx_meta)

                    # built on the draw thread once it is done with the noise (off the main path)
                    tx_job = draws.submit(tx_waveform)
            else:
                rin.result()
        else:
            # the block-by-block path (MPI): real laser amplitude (with RIN) times the complex
            # transfer, no complex laser array
            amp = laser.amplitude(n, fs, temperature_c=t_chip, rng=rng)
            if gain != 1.0:
                amp *= gain
            tx_light = OpticalField(field=np.multiply(transfer, amp), sample_rate_hz=fs, wavelength_m=wavelength,
                                    symbol_rate_baud=symbol_rate_baud, pattern=period, meta=meta)
            del amp
            if need_tx:
                tx_wf = tx_light.to_waveform(source="model", lane=lane.name, chip_temperature_c=t_chip,
                                             **dict(extra_meta or {}))
        rx_v = rx_meta = p_rx = None
        if receiver and not fast:
            # MPI adds a delayed copy of the field (np.roll in time): the block-by-block path
            rx_light = lane.channel.propagate(tx_light, rng=rng)
            p_rx = rx_light.average_power_w
            if settings.rx_power_dbm is not None:
                scale = dbm_to_w(settings.rx_power_dbm) / p_rx
                rx_light = rx_light.with_field(rx_light.field * math.sqrt(scale))
                p_rx = rx_light.average_power_w
            rx_wf = lane.receiver.detect(rx_light, rng=rng, temperature_c=t_chip)
            rx_v, rx_meta = np.asarray(rx_wf.samples), dict(rx_wf.meta)
        elif receiver:
            spectrum = None if entry is None else (entry[0], math.sqrt(p_laser / entry[1]))
            # the fibre's transforms share the cores with the draw thread while it still draws
            busy = draws.background and not draws.idle()
            rx_v, rx_meta, p_rx, kept = _channel_and_receiver(
                x_in, spectrum, n, fs, wavelength, dict(meta),
                symbol_rate_baud, period, lane.channel, lane.receiver, noise=noise_jobs, temperature_c=t_chip,
                rx_power_dbm=settings.rx_power_dbm, single=single,
                keep_spectrum=skey is not None and entry is None, field_private=True,
                workers=n_threads, fibre_workers=max(1, n_threads - 1) if busy else n_threads,
            )
            if kept is not None:
                kept.setflags(write=False)
                cache[skey] = (kept, p_laser, sym)
        if tx_job is not None:
            tx_wf = tx_job.result()
    finally:
        if draws is not None:
            draws.wait()  # nothing of this lane runs on after it (nor at a fork)
    m: dict[str, Any] = {
        "wavelength_m": wavelength,
        "laser_power_w": tx.laser.output_power_w(t_chip),
        "heater_power_w": heater_w,
        "receive_power_dbm": None if p_rx is None else w_to_dbm(p_rx),
        "chip_temperature_c": t_chip,
    }
    if mzm_bias is not None:
        m.update(mzm_bias_error_rad=mzm_bias.error_rad, mzm_bias_v=mzm_bias.bias_v, mzm_bias_limited=mzm_bias.limited)
    rx_wf = None
    if receiver:
        if rx_ffe_taps > 0:
            taps, n_pre, _ = adapt_ffe_taps(rx_v, sym, sps, rx_ffe_taps)
            rx_v = apply_ffe_taps(rx_v, taps, n_pre, sps)
            rx_meta.update(rx_ffe_taps=[float(c) for c in taps], rx_ffe_precursors=n_pre)
            m["rx_ffe_taps"] = [float(c) for c in taps]
        rx_meta.update(extra_meta or {})
        if rx_v.base is None:
            rx_v.setflags(write=False)  # a fresh array: the Waveform keeps it without a copy
        rx_wf = Waveform(samples=rx_v, sample_rate_hz=fs, quantity=Quantity.VOLTAGE,
                         symbol_rate_baud=symbol_rate_baud, pattern=period, meta=rx_meta)
        del rx_v
    if metrics:
        if tx_reference is not None:
            ref, ref_power_w = tx_reference
            m.update(scale_tx_metrics(ref, m["laser_power_w"] / ref_power_w))
        else:
            m.update(tx_metrics(tx_wf, compute_tdecq=settings.compute_tdecq, tdecq_method=settings.tdecq_method,
                                compliance=settings.compliance))
        if rx_wf is not None:
            m.update(rx_metrics(rx_wf, count_errors=settings.count_errors))
    return LaneResult(lane.name, tx_wf, rx_wf, MappingProxyType(m))


def _mzm_at_temperature(tx: Transmitter, t_chip: float) -> tuple[Transmitter, MachZehnderModulator]:
    """The transmitter with its MZM at chip temperature ``t_chip`` (:meth:`MachZehnderModulator.at_temperature`)
    and that modulator; ``tx`` itself where nothing changes.  The driver levels stay those of the
    reference modulator (a pre-distortion is calibrated once, not re-solved as the chip heats)."""
    mod = tx.modulator
    mod_t = mod.at_temperature(t_chip, tx.laser.wavelength_at(t_chip))
    if mod_t is mod:
        return tx, mod
    if tx.level_predistortion is None:
        return dataclasses.replace(tx, modulator=mod_t), mod_t
    return dataclasses.replace(tx, modulator=mod_t, level_predistortion=tuple(tx.effective_driver.levels)), mod_t


#: Last spawn-key word of the driver-jitter stream (:func:`jitter_stream`): crc32("driver jitter").
JITTER_STREAM_KEY = zlib.crc32(b"driver jitter")


def jitter_stream(rng: np.random.Generator) -> tuple[Any, np.random.Generator | None]:
    """The driver-jitter generator of a lane's generator ``rng``, and a cache key naming it.

    ``SeedSequence(entropy, spawn_key=(*spawn_key, JITTER_STREAM_KEY))`` of ``rng``'s own seed
    sequence: a pure function of the lane's seed (``rng``'s state is neither read nor moved),
    so a lane's jitter is the same at every temperature and its other draws (RIN, shot, TIA
    noise) are those of a jitter-free lane.  ``(None, None)`` if ``rng`` has no seed sequence
    (the jitter is then drawn from ``rng`` itself and the transfer not kept).
    """
    ss = getattr(rng.bit_generator, "seed_seq", None)
    if not isinstance(ss, np.random.SeedSequence):
        return None, None
    entropy = ss.entropy
    ent_key = tuple(int(e) for e in entropy) if isinstance(entropy, (list, tuple, np.ndarray)) else entropy
    key = ("driver jitter", ent_key, tuple(ss.spawn_key), ss.pool_size)
    seq = np.random.SeedSequence(entropy, spawn_key=(*ss.spawn_key, JITTER_STREAM_KEY), pool_size=ss.pool_size)
    return key, np.random.default_rng(seq)


_SINGLE_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}

#: Transfers of noise-free transmitters kept by :func:`simulate_lane` when its caller passes
#: no cache (oldest dropped first; 2 MB each for a PRBS13Q record at 16 samples/UI): keyed by
#: the transmitter's parameters and the symbols' content, checked against a copy of them.
_RECENT_TRANSFERS: dict[Any, TransmitterEntry] = {}
_RECENT_TRANSFERS_MAX = 4


def _symbols_digest(sym: np.ndarray) -> tuple[int, str, int]:
    """Length, dtype and CRC-32 of a symbol array (a key; a hit is compared in full)."""
    return sym.size, sym.dtype.str, zlib.crc32(np.ascontiguousarray(sym).tobytes())


def _as_single(h: np.ndarray) -> np.ndarray:
    """complex64 copy of a cached (read-only) response, itself cached (last 4).

    Each entry holds the source array too, so its ``id`` cannot be reused by a new array
    while the entry lives (the identity check guards against a stale copy).
    """
    entry = _SINGLE_CACHE.get(id(h))
    if entry is None or entry[0] is not h:
        entry = (h, h.astype(np.complex64))
        entry[1].setflags(write=False)
        if len(_SINGLE_CACHE) >= 4:
            _SINGLE_CACHE.pop(next(iter(_SINGLE_CACHE)))
        _SINGLE_CACHE[id(h)] = entry
    return entry[1]


def channel_and_receiver(
    tx_light: OpticalField,
    channel: Channel,
    receiver: Receiver,
    *,
    rng: np.random.Generator | None,
    temperature_c: float,
    rx_power_dbm: float | None = None,
    single: bool = False,
) -> tuple[Waveform, float]:
    """Fibre (no MPI) and PD/TIA in one pass: the same equations as
    :meth:`Channel.propagate` followed by :meth:`Receiver.detect`, without leaving the FFT layout.

    For a record length that is not a fast FFT length the transforms are Good-Thomas 2-D ones
    (:func:`models.response.pfa_plan`); the field is permuted into that layout once, stays in
    it through the fibre (``FFT → ·H_fibre → IFFT``), the square law, the shot noise and the
    receiver spectrum (``·Z_T·H_pd·H_tia`` plus the TIA noise spectrum), and only the output
    voltage is put back in time order: two permutations per lane instead of four.  Noise has
    the statistics of :meth:`Receiver.detect` (white shot noise ``q·I·fs`` per sample, TIA
    noise ``i_n²·fs/2``); its samples are drawn in the transform layout.  ``single`` runs
    all of it in complex64/float32 (see :class:`SimulationSettings`) with the same noise draws.

    Returns
    -------
    (Waveform, float)
        TIA output voltage (V) and the average received optical power (W).

    Raises
    ------
    InvalidParameter
        TIA overload, sample rate below twice a bandwidth, a channel with MPI.
    """
    if channel.mpi_ratio > 0.0:
        raise InvalidParameter("channel_and_receiver has no MPI; use Channel.propagate and Receiver.detect")
    n, fs = tx_light.n_samples, tx_light.sample_rate_hz
    draws = None if rng is None else DrawsAhead(rng, background=False)
    noise = (None, None) if draws is None else _receiver_noise_jobs(draws, receiver, n, fs, single=single,
                                                                    temperature_c=temperature_c)
    v, meta, p_rx, _ = _channel_and_receiver(
        tx_light.field, None, n, fs, tx_light.wavelength_m,
        dict(tx_light.meta), tx_light.symbol_rate_baud, tx_light.pattern, channel, receiver,
        noise=noise, temperature_c=temperature_c, rx_power_dbm=rx_power_dbm, single=single,
    )
    wf = Waveform(samples=v, sample_rate_hz=tx_light.sample_rate_hz, quantity=Quantity.VOLTAGE,
                  symbol_rate_baud=tx_light.symbol_rate_baud, pattern=tx_light.pattern, meta=meta)
    return wf, p_rx


def _channel_and_receiver(
    field: np.ndarray | None,
    field_spectrum: tuple[np.ndarray, float] | None,
    n: int,
    fs: float,
    wavelength_m: float,
    meta: dict[str, Any],
    symbol_rate_baud: float | None,
    pattern: np.ndarray | None,
    channel: Channel,
    receiver: Receiver,
    *,
    noise: tuple[Future[np.ndarray] | None, Future[np.ndarray] | None],
    temperature_c: float,
    rx_power_dbm: float | None,
    single: bool,
    keep_spectrum: bool = False,
    field_private: bool = False,
    workers: int = 1,
    fibre_workers: int | None = None,
) -> tuple[np.ndarray, dict[str, Any], float, np.ndarray | None]:
    """Core of :func:`channel_and_receiver`, from the Tx ``field`` or from its spectrum.

    Returns the output samples (V) and their meta (the Waveform is built by the caller, once),
    the received power (W) and the kept spectrum (or None).

    ``field_spectrum = (S, c)``: the Tx field's transform (in the :func:`models.response.pfa_plan`
    layout, precision of ``single``) is ``c·S`` — a sweep reuses ``S`` of the same lane and
    noise draws at another laser power.  ``keep_spectrum`` returns a copy of the transform
    computed from ``field`` (before the fibre response) as the third item.

    ``field_private``: ``field`` is a scratch array of the caller's that may be overwritten.

    ``noise``: the shot-noise standard normals and the TIA noise spectrum (already shaped by
    ``Z_T·H_tia``) from :func:`_receiver_noise_jobs`, or None each for none.  Records of a fast
    FFT length of at least :data:`models.fft_layout.MIN_FOUR_STEP_LENGTH` samples go through
    the fibre with the four-step transforms (:mod:`models.fft_layout`).  The transforms run
    over ``workers`` threads, the fibre's over ``fibre_workers`` (default ``workers``): fewer
    while the noise is still being drawn on another thread.
    """
    fibre_workers = workers if fibre_workers is None else fibre_workers
    from models.fiber import _dispersion_response
    from models.laser import C_M_PER_S

    pd, tia = receiver.photodiode, receiver.tia
    response.check_sampling("photodiode.bandwidth_hz", pd.bandwidth_hz, fs)
    response.check_sampling("tia.bandwidth_hz", tia.bandwidth_hz, fs)
    plan = response.pfa_plan(n)
    four = fft_layout.four_step(n) if plan is None else None
    cdt = np.complex64 if single else np.complex128
    # --- fibre: E(f)·10^(−IL/20)·exp(−j β2L/2 ω²), as models.fiber.propagate_dispersion
    disp = channel.fiber.dispersion_ps_per_nm(wavelength_m)
    gain = 10.0 ** (-channel.insertion_loss_db / 20.0)
    b2l = -(disp * 1e-3) * wavelength_m**2 / (2.0 * math.pi * C_M_PER_S)
    kept = None
    if abs(b2l) / 2.0 * (math.pi * fs) ** 2 < 1e-9:
        h = None
    else:
        h = _dispersion_response(n, fs, b2l, gain, plan if four is None else four)
        if single:
            h = _as_single(h)
        meta["dispersion_ps_per_nm"] = disp
    if field_spectrum is not None:
        s0, c = field_spectrum
        spec = np.multiply(s0, h) if h is not None else s0 * gain
        spec *= c
    else:
        # a new array in the transform layout (the Tx field stays untouched)
        if plan is not None:
            x = field[plan[2]].astype(cdt, copy=False)
        else:  # ``field_private``: the caller's own copy in the working precision, used in place
            x = field.astype(cdt, copy=not (field_private and field.dtype == cdt))
        if h is None and not keep_spectrum:
            x *= gain
            spec = None
        else:
            if four is not None:
                spec = four.forward(x, workers=fibre_workers, overwrite_x=True)
            elif plan is None:
                spec = sfft.fft(x, overwrite_x=True, workers=fibre_workers)
            else:
                spec = sfft.fft2(x, overwrite_x=True, workers=fibre_workers)
            del x
            if keep_spectrum:
                kept = spec.copy()
            if h is not None:
                spec *= h
            else:
                spec *= gain
    if spec is not None:
        if four is not None:
            x = four.inverse(spec, workers=fibre_workers, as_rows=True)  # rows in time order
        elif plan is None:
            x = sfft.ifft(spec, overwrite_x=True, workers=fibre_workers)
        else:
            x = sfft.ifft2(spec, overwrite_x=True, workers=fibre_workers)
        del spec

    # --- square law |E|², received power; then the photodiode and TIA input (as
    # models.receiver.Receiver.detect).  Both passes go piece by piece (rows of a 2-D layout),
    # so that each piece's temporaries stay in cache.
    current = np.empty(x.shape, dtype=np.float32 if single else np.float64)  # in the layout of x
    pieces = _pieces(x.shape)
    total = 0.0
    for sl in pieces:
        mag = np.abs(x[sl])
        np.square(mag, out=current[sl])
        total += float(np.sum(current[sl], dtype=np.float64))
    del x
    p_rx = total / n
    scale = 1.0
    if rx_power_dbm is not None:
        # the ideal attenuator sets the power: report it (in single precision, re-measuring
        # the rounded samples would be off by ~1e-7 relative)
        scale = dbm_to_w(rx_power_dbm) / p_rx
        p_rx *= scale
    gain_a = scale * pd.responsivity_a_per_w
    dark = pd.dark_current_at(temperature_c)
    shot_job, tia_job = noise
    # shot noise sqrt(q·I·fs)·z: z comes already scaled by sqrt(q·fs) from the draw thread
    z_shot = None if shot_job is None else shot_job.result().reshape(current.shape)
    peak = -math.inf
    for sl in pieces:
        c = current[sl]
        c *= gain_a
        c += dark
        peak = max(peak, float(np.max(c)))
        if z_shot is not None:
            shot = np.sqrt(c)
            shot *= z_shot[sl]
            c += shot
    del z_shot
    if peak > tia.overload_current_a:
        raise InvalidParameter(
            f"TIA overload: peak photocurrent {peak * 1e3:.3g} mA exceeds overload_current_a = "
            f"{tia.overload_current_a * 1e3:.3g} mA (reduce the received power)"
        )
    z = float(tia.transimpedance_ohm)
    h_all = response.rfft_grid_response(n, fs, ((pd.bandwidth_hz, pd.shape), (tia.bandwidth_hz, tia.shape)), gain=z)
    if plan is not None:  # the current is in the Good-Thomas order already
        spec = sfft.rfft2(current, workers=workers)
    else:
        spec = response.real_spectrum(current, workers=workers)
    del current
    spec *= _as_single(h_all) if single else h_all
    if tia_job is not None:
        spec += tia_job.result()
    if plan is None:
        v = response.real_inverse(spec, n, workers=workers, dtype=np.float64)
    else:
        v = np.empty(n)
        v[plan[2]] = sfft.irfft2(spec, s=(plan[0], plan[1]), overwrite_x=True, workers=workers)
    meta.update(receiver="pd+tia", dark_current_a=pd.dark_current_at(temperature_c))
    return v, meta, p_rx, kept


#: Samples of the Tx field computed at a time (its temporaries stay in the L2 cache).
_FIELD_PIECE = 1 << 16


def _pieces(shape: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """Index tuples cutting an array of ``shape`` (1-D, or 2-D by rows) into pieces of about
    :data:`_FIELD_PIECE` elements."""
    if len(shape) == 1:
        return [(slice(a, min(shape[0], a + _FIELD_PIECE)),) for a in range(0, shape[0], _FIELD_PIECE)]
    rows = max(1, _FIELD_PIECE // max(1, math.prod(shape[1:])))
    return [(slice(a, min(shape[0], a + rows)),) for a in range(0, shape[0], rows)]

#: Records shorter than this draw their noise inline (a thread hand-off costs ~0.1 ms).
_BACKGROUND_MIN_SAMPLES = 1 << 16


@dataclasses.dataclass(eq=False)
class TransmitterEntry:
    """A noise-free transmitter's transfer as a lane cache keeps it (:func:`simulate_lane`):
    ``transfer`` (read-only) and ``drive_meta`` from :func:`transmitter_transfer` for ``symbols``."""

    transfer: np.ndarray
    drive_meta: dict[str, Any]
    symbols: np.ndarray

    def __post_init__(self) -> None:
        self.transfer.setflags(write=False)


def _receiver_noise_jobs(
    draws: DrawsAhead, receiver: Receiver, n: int, fs: float, *, single: bool, temperature_c: float,
) -> tuple[Future[np.ndarray] | None, Future[np.ndarray] | None]:
    """Queue the receiver's noise on ``draws``: shot-noise normals, then the TIA noise spectrum.

    The order (and the draws) are those of :meth:`Receiver.detect`: ``n`` standard normals for
    the shot noise (if the photodiode has it, :func:`_shot_noise_job`), then
    :func:`models.response.white_noise_spectrum` of rms ``i_n·sqrt(fs/2)``, here already
    multiplied by ``Z_T·H_tia`` (if the TIA is noisy, :func:`_tia_noise_job`).  Jobs that draw
    nothing may be queued between the two.
    """
    return (_shot_noise_job(draws, receiver, n, fs, single=single),
            _tia_noise_job(draws, receiver, n, fs, single=single))


def _shot_noise_job(
    draws: DrawsAhead, receiver: Receiver, n: int, fs: float, *, single: bool,
) -> Future[np.ndarray] | None:
    """Queue the shot noise's ``n`` standard normals times ``sqrt(q·fs)`` (None without shot
    noise): the shot noise is then ``sqrt(I)`` times them (``q·I·fs`` per sample)."""
    from models.receiver import Q_E

    if not receiver.photodiode.shot_noise:
        return None
    dt = np.float32 if single else np.float64
    k = dt(math.sqrt(Q_E * fs))

    def shot(r: np.random.Generator) -> np.ndarray:
        # in the photocurrent's precision (the same draws either way, rounded in single precision)
        z = gaussian.standard_normal(r, n, dtype=dt)
        z *= k
        return z

    return draws.submit(shot)


def _tia_noise_job(
    draws: DrawsAhead, receiver: Receiver, n: int, fs: float, *, single: bool,
) -> Future[np.ndarray] | None:
    """Queue the TIA noise spectrum, shaped by ``Z_T·H_tia`` (None for a noiseless TIA)."""
    tia = receiver.tia
    response.check_sampling("tia.bandwidth_hz", tia.bandwidth_hz, fs)
    if tia.input_noise_density_a_per_rthz <= 0.0:
        return None
    sigma = tia.input_noise_density_a_per_rthz * math.sqrt(fs / 2.0)
    h_tia = response.rfft_grid_response(n, fs, ((tia.bandwidth_hz, tia.shape),), gain=float(tia.transimpedance_ohm))
    cdt = np.complex64 if single else np.complex128
    h = _as_single(h_tia) if single else h_tia

    def tia_noise(r: np.random.Generator) -> np.ndarray:
        spec = response.white_noise_spectrum(n, sigma, r, dtype=cdt)
        spec *= h
        return spec

    return draws.submit(tia_noise)


def _period_fast(sym: np.ndarray) -> np.ndarray:
    """One period of ``sym`` if it repeats a PRBS/SSPRQ period (2^k − 1 symbols), else ``sym``.

    A record of k whole pattern periods is labelled with one period as its
    :attr:`optics.Waveform.pattern`, so that pattern alignment is unambiguous.
    """
    n = sym.size
    for length in [2**k - 1 for k in range(7, 24)]:
        if length < n and n % length == 0 and np.array_equal(sym, np.tile(sym[:length], n // length)):
            return sym[:length]
    return sym
