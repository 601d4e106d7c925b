"""Ready-made link modules for the IEEE 802.3 PAM4 SMF PHYs (silicon-photonic implementations).

Rates (``ieee802.3-pam4-optics.md`` §1.0): 100 G lanes run 53.125 GBd.  200 G lanes run
106.25 GBd for PMDs with RS(544,514) only (800GBASE-DR4, 1.6TBASE-DR8: the reference's
correction to the brief, medium confidence) and 113.4375 GBd for PMDs with the inner FEC
(DR4-2, DR8-2, FR4, LR4).  The reference marks the FECi/RS-only split UNVERIFIED against the
802.3dj text, so :func:`preset` takes ``symbol_rate_baud`` as a parameter.

Channels are the worst cases of each PHY: the maximum channel insertion loss (3.0 dB for the
500 m DR PMDs [S]; 4.0 dB for FR4 and the 2 km DR-2 PMDs, UNVERIFIED), made of the fibre
loss (0.4 dB/km) plus two connections carrying the rest, and the zero-dispersion wavelength
λ0 ∈ {1300, 1324} nm that gives the largest |D| at each lane wavelength (S0 = 0.093
ps/(nm²·km)).  Component values are typical silicon-photonic numbers from
``silicon-photonics-parameters.md`` (MZM VπL 2 V·cm, EO bandwidth 45/60 GHz, Ge PD 0.85 A/W,
TIA 12/10 pA/√Hz); the laser power is chosen so the average launch power sits inside the
IEEE window (DR4: −2.9...4.0 dBm).

Every laser runs under automatic power control (:meth:`models.laser.DfbLaser.with_apc`): its
bias servo holds the set power, so the launch power stays put from 0 to 70 °C case while the
bias (and the module power) rises.  The driver's current limits are ASSUMPTIONS (UNVERIFIED;
high-power CW DFBs for silicon photonics are driven at a few hundred mA):
:data:`APC_MAX_BIAS_A`.

Examples
--------
>>> from models.presets import preset, list_presets
>>> "400GBASE-FR4" in list_presets()
True
>>> m = preset("400GBASE-FR4")
>>> [round(lane.transmitter.laser.wavelength_m * 1e9) for lane in m.lanes]
[1271, 1291, 1311, 1331]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from models.electrical import Pam4Driver
from models.fiber import LAMBDA0_RANGE_M, Channel, Fiber, dispersion_ps_per_nm_km
from models.laser import DfbLaser
from models.link import Lane, LinkModule, Transmitter
from models.modulator import MachZehnderModulator, MicroringModulator
from models.receiver import Photodiode, Receiver, Tia
from optics import validate
from optics.errors import InvalidParameter, InvalidType

#: Symbol rates (Bd) named in the reference notes.
BAUD_100G = 53.125e9
BAUD_200G_RS = 106.25e9
#: 200 G lanes with inner FEC (FECi); the reference marks which PMDs use it UNVERIFIED.
BAUD_200G_FECI = 113.4375e9

CWDM4_M = (1271e-9, 1291e-9, 1311e-9, 1331e-9)
PARALLEL_M = 1311e-9

#: APC driver current limits (A) by laser class, ASSUMPTIONS (UNVERIFIED): the 40 mW split
#: source of the parallel PMDs needs 148 mA at a 35 °C chip and 184 mA at 80 °C; the 10 mW
#: CWDM lasers 43/60 mA; the 60 mW CPO source 215/266 mA.  Each limit leaves room to 95 °C chip.
APC_MAX_BIAS_A = {"parallel": 0.25, "cwdm": 0.1, "cpo": 0.35}


def worst_lambda0_m(wavelength_m: float) -> float:
    """λ0 in {1300, 1324} nm giving the largest |D| at ``wavelength_m`` (IEEE worst case)."""
    return max(LAMBDA0_RANGE_M, key=lambda l0: abs(dispersion_ps_per_nm_km(wavelength_m, l0)))


def _channel(wavelength_m: float, length_m: float, max_loss_db: float) -> Channel:
    fib = Fiber(length_m=length_m, attenuation_db_per_km=0.4, zero_dispersion_wavelength_m=worst_lambda0_m(wavelength_m))
    return Channel(fiber=fib, connector_loss_db=(max_loss_db - fib.loss_db) / 2.0, n_connectors=2)


#: Receiver DSP FFE taps by lane class: a 100 G/lane receiver equalises at least as the
#: 802.3 TDECQ reference receiver assumes (5 T-spaced taps, 802.3bs/cd/cu 121.8.5.4, reference
#: notes "widely reported", tap count UNVERIFIED), a 200 G/lane one as the 802.3dj reference
#: FFE (15 taps, 802.3dj draft notes "TDECQ method at 200 G/lane", medium confidence).
RX_FFE_TAPS = {"100G": 5, "200G": 15}


def _rx_ffe(baud: float) -> int:
    """Receiver DSP FFE taps of the lane class of ``baud`` (:data:`RX_FFE_TAPS`)."""
    return RX_FFE_TAPS["100G"] if baud < 80e9 else RX_FFE_TAPS["200G"]


#: Temperature behaviour of the presets' MZMs (models.modulator.MachZehnderModulator), all
#: ASSUMPTIONS: 50 µm arm imbalance (1.2 °/K of bias drift of θ with Si dn/dT = 1.8e-4 /K), the
#: bias loop with its default gain 50 and ±4 V range (held over about ±100 K of chip from its
#: trim), VπL −3e-4 /K (derived in the docstring); EO bandwidth kept constant (no sourced
#: coefficient).  The trim temperature (``temperature_ref_c``, where the set point is trimmed and
#: VπL and the bandwidth are as given) is each preset's own die temperature at its trim case
#: temperature :data:`MZM_TRIM_CASE_C` (:func:`trimmed_at_case`): 29.9 °C for the DR4s (one laser
#: on the die), 29.4 °C for the FR4s (four 10 mW lasers), 35.1 °C for the DR8s (two lasers).
MZM_THERMAL = {"arm_imbalance_m": 50e-6, "vpi_l_tempco_per_k": -3e-4}

#: Case temperature (°C) at which the presets' MZM bias loops are trimmed (the module's
#: calibration at room temperature in its final test): ASSUMPTION.
MZM_TRIM_CASE_C = 25.0


def trimmed_at_case(module: LinkModule, case_temperature_c: float = MZM_TRIM_CASE_C) -> LinkModule:
    """``module`` with every MZM's bias loop trimmed at its die temperature at case ``case_temperature_c``.

    Each :class:`~models.modulator.MachZehnderModulator` gets ``temperature_ref_c =
    T_chip(T_trim)``, the die temperature :func:`models.chip_temperature.chip_temperature_c`
    solves at the trim case temperature, so the loop's residual error is zero there and grows
    as ``ε_b = π·dn/dT·ΔL·(T_chip − T_chip(T_trim))/(λ·(1 + G))`` away from it
    (:meth:`~models.modulator.MachZehnderModulator.bias_state`).  The die heat does not depend
    on the MZMs' trim, so one solve serves.  Lanes without an MZM are unchanged.

    Raises
    ------
    InvalidParameter
        A case temperature outside -60...150 °C.

    Examples
    --------
    >>> from models.chip_temperature import chip_temperature_c
    >>> m = preset("400GBASE-DR4")
    >>> m.lanes[0].transmitter.modulator.temperature_ref_c == chip_temperature_c(m, 25.0)
    True
    """
    from models.chip_temperature import chip_temperature_c

    t_trim = chip_temperature_c(module, case_temperature_c)
    lanes = []
    for lane in module.lanes:
        tx = lane.transmitter
        if isinstance(tx.modulator, MachZehnderModulator):
            tx = dataclasses.replace(tx, modulator=dataclasses.replace(tx.modulator, temperature_ref_c=t_trim))
        lanes.append(dataclasses.replace(lane, transmitter=tx))
    return dataclasses.replace(module, lanes=lanes)


#: Driver edge jitter of every preset lane (UI at the lane's rate; models.electrical.Pam4Driver):
#: random 0.010 UI rms [S: IEEE 802.3dj electrical ad hoc reflector, B400G_ELEC msg00422 (A. Ran,
#: 2025-07): "about 10 mUI RMS of RJ", with < 50 mUI pk-pk of SJ, brings a test source near the
#: J4u03/JRMS limits of a host output; taken as the lane's own random jitter: ASSUMPTION];
#: even-odd 0.010 UI pk-pk, ASSUMPTION (UNVERIFIED, not in the reference notes: a half-rate
#: serialiser whose clock duty cycle is trimmed to 0.5 %).  No sinusoidal jitter (a test stimulus).
#: The optical PMD clauses (802.3 121, 124, 180) set no Tx jitter limit of their own (the
#: transmitter's jitter is inside its TDECQ), so no clause value is used.  Every preset's drivers
#: have it (``preset(name)``, :func:`with_tx_jitter`); ``preset(name, jitter=False)`` gives
#: jitter-free drivers.  The jitter is drawn from its own stream of the lane's seed
#: (:func:`models.lane_simulation.jitter_stream`), the same at every temperature of a seed.
TX_JITTER_UI = {"rj_rms": 0.010, "eoj_pp": 0.010}


def with_tx_jitter(module: LinkModule) -> LinkModule:
    """``module`` with every lane's driver given the jitter of :data:`TX_JITTER_UI` at its rate."""
    baud = module.symbol_rate_baud
    jit = {"rj_rms_s": TX_JITTER_UI["rj_rms"] / baud, "eoj_pp_s": TX_JITTER_UI["eoj_pp"] / baud}
    lanes = [dataclasses.replace(lane, transmitter=dataclasses.replace(
        lane.transmitter, driver=dataclasses.replace(lane.transmitter.driver, **jit))) for lane in module.lanes]
    return dataclasses.replace(module, lanes=lanes)


def _lane_parts(baud: float) -> tuple[Pam4Driver, MachZehnderModulator, Receiver]:
    if baud < 80e9:
        driver = Pam4Driver(swing_v=2.2, rise_time_s=6e-12)
        mzm = MachZehnderModulator(vpi_l_v_m=0.02, length_m=3.5e-3, eo_bandwidth_hz=45e9, **MZM_THERMAL)
        rx = Receiver(
            photodiode=Photodiode(responsivity_a_per_w=0.85, bandwidth_hz=50e9),
            tia=Tia(transimpedance_ohm=2000.0, input_noise_density_a_per_rthz=12e-12, bandwidth_hz=40e9),
        )
    else:
        driver = Pam4Driver(swing_v=2.2, rise_time_s=3.5e-12)
        mzm = MachZehnderModulator(vpi_l_v_m=0.02, length_m=3.5e-3, eo_bandwidth_hz=60e9, **MZM_THERMAL)
        rx = Receiver(
            photodiode=Photodiode(responsivity_a_per_w=0.85, bandwidth_hz=80e9),
            tia=Tia(transimpedance_ohm=1500.0, input_noise_density_a_per_rthz=10e-12, bandwidth_hz=60e9),
        )
    return driver, mzm, rx


def _parallel(name: str, n_lanes: int, baud: float, payload_bps: float, length_m: float, max_loss_db: float) -> LinkModule:
    driver, mzm, rx = _lane_parts(baud)
    # one CW laser split to 4 modulators (reference §1: "In 400G DR4 one laser is split to four")
    laser = DfbLaser(wavelength_m=PARALLEL_M).with_output_power(40e-3)
    laser = laser.with_apc(max_bias_current_a=APC_MAX_BIAS_A["parallel"])
    tx = Transmitter(driver=driver, laser=laser, modulator=mzm, lasers_shared_by=4, splitter_excess_loss_db=0.5)
    ch = _channel(PARALLEL_M, length_m, max_loss_db)
    lanes = [Lane(name=f"lane {i}", transmitter=tx, channel=ch, receiver=rx) for i in range(n_lanes)]
    return LinkModule(name=name, lanes=lanes, symbol_rate_baud=baud, payload_rate_bps=payload_bps, power_params="dsp",
                      rx_ffe_taps=_rx_ffe(baud))


def _cwdm4(name: str, baud: float, payload_bps: float, length_m: float, max_loss_db: float) -> LinkModule:
    driver, mzm, rx = _lane_parts(baud)
    lanes = []
    for i, lam in enumerate(CWDM4_M):
        laser = DfbLaser(wavelength_m=lam).with_output_power(10e-3).with_apc(max_bias_current_a=APC_MAX_BIAS_A["cwdm"])
        tx = Transmitter(driver=driver, laser=laser, modulator=mzm, lasers_shared_by=1)
        lanes.append(Lane(name=f"lane {i} ({lam * 1e9:.0f} nm)", transmitter=tx, channel=_channel(lam, length_m, max_loss_db), receiver=rx))
    return LinkModule(name=name, lanes=lanes, symbol_rate_baud=baud, payload_rate_bps=payload_bps, power_params="dsp",
                      rx_ffe_taps=_rx_ffe(baud))


#: Set point (°C) of the CPO preset's external laser, held by its own TEC in the faceplate
#: source (OIF ELSFP style), ASSUMPTION: the chip temperature of the 25 °C-case design point,
#: so that design point is unchanged; the laser wavelength then stays put as the chip heats.
CPO_LASER_HELD_C = 35.0


def _ring_cpo(name: str, baud: float, payload_bps: float) -> LinkModule:
    """8 × 200 G microring lanes, external laser shared by 8 (CPO-style, not an IEEE PMD).

    The external laser sits at its own temperature (:data:`CPO_LASER_HELD_C`), not the
    chip's, so only the ring drifts (0.07 nm/K): the ring is parked blue of the laser at the
    hottest chip (95 °C, 85 °C case + 10 K) with 0.2 nm of margin (reference §6: "park the
    resonance on the blue side of the laser at T_max"), and the heater power falls as the chip
    heats, ``−0.07/0.1 = −0.7 mW/K`` (:func:`models.power.ring_heater_power_w` with a
    stabilised laser).  Over a 5-95 °C chip that is 6.3 nm, 63 mW at 0.1 nm/mW, plus the
    margin: a 70 mW heater range (the reference's 49-60 mW for 70-85 K at 0.1 nm/mW [D]).
    """
    driver = Pam4Driver(swing_v=2.0, rise_time_s=3.5e-12)
    laser = DfbLaser(wavelength_m=PARALLEL_M, held_temperature_c=CPO_LASER_HELD_C).with_output_power(60e-3)
    laser = laser.with_apc(max_bias_current_a=APC_MAX_BIAS_A["cpo"])
    # Q 4000 (f_p 57 GHz) with an 80 GHz RC pole: 47 GHz; 40 pm/V (design range 20-50 pm/V,
    # UNVERIFIED); the unheated resonance at 25 °C puts the target λ_laser − 0.12 nm 0.2 nm red
    # of the ring at a 95 °C chip: the lock holds from a −2 °C chip up (not at the cold end of
    # the industrial class: a sweep shows "lock lost" there)
    target_m = laser.wavelength_at(CPO_LASER_HELD_C) - 0.12e-9
    ring = MicroringModulator(
        resonance_wavelength_m=target_m - 0.2e-9 - 0.07e-9 * (95.0 - 25.0), loaded_q=4000.0, extinction_db=12.0,
        shift_m_per_v=40e-12, bias_detuning_m=0.12e-9, rc_bandwidth_hz=80e9, max_heater_power_w=0.07,
    )
    tx = Transmitter(driver=driver, laser=laser, modulator=ring, lasers_shared_by=8, splitter_excess_loss_db=1.0)
    _, _, rx = _lane_parts(baud)
    ch = _channel(PARALLEL_M, 500.0, 3.0)
    lanes = [Lane(name=f"lane {i}", transmitter=tx, channel=ch, receiver=rx) for i in range(8)]
    return LinkModule(name=name, lanes=lanes, symbol_rate_baud=baud, payload_rate_bps=payload_bps, power_params="cpo",
                      rx_ffe_taps=_rx_ffe(baud))


_PRESETS: dict[str, tuple[float, Callable[[float], LinkModule]]] = {
    "400GBASE-DR4": (BAUD_100G, lambda b: _parallel("400GBASE-DR4", 4, b, 400e9, 500.0, 3.0)),
    "400GBASE-FR4": (BAUD_100G, lambda b: _cwdm4("400GBASE-FR4", b, 400e9, 2000.0, 4.0)),
    "800GBASE-DR8": (BAUD_100G, lambda b: _parallel("800GBASE-DR8", 8, b, 800e9, 500.0, 3.0)),
    "800GBASE-DR8-2": (BAUD_100G, lambda b: _parallel("800GBASE-DR8-2", 8, b, 800e9, 2000.0, 4.0)),
    "800GBASE-DR4": (BAUD_200G_RS, lambda b: _parallel("800GBASE-DR4", 4, b, 800e9, 500.0, 3.0)),
    "800GBASE-DR4-2": (BAUD_200G_FECI, lambda b: _parallel("800GBASE-DR4-2", 4, b, 800e9, 2000.0, 4.0)),
    "1.6TBASE-DR8": (BAUD_200G_RS, lambda b: _parallel("1.6TBASE-DR8", 8, b, 1.6e12, 500.0, 3.0)),
    "1.6TBASE-DR8-2": (BAUD_200G_FECI, lambda b: _parallel("1.6TBASE-DR8-2", 8, b, 1.6e12, 2000.0, 4.0)),
    # 802.3dj CWDM4 at 200 G/lane with the inner FEC (reference 1.0: FR4 uses FECi), 2 km; the
    # 4.0 dB channel loss is the 400GBASE-FR4 one (no 800GBASE-FR4 budget found): ASSUMPTION
    "800GBASE-FR4": (BAUD_200G_FECI, lambda b: _cwdm4("800GBASE-FR4", b, 800e9, 2000.0, 4.0)),
    "1.6T-DR8-MRM-CPO": (BAUD_200G_RS, lambda b: _ring_cpo("1.6T-DR8-MRM-CPO", b, 1.6e12)),
}


def list_presets() -> list[str]:
    """Names accepted by :func:`preset`."""
    return list(_PRESETS)


def preset(name: str, *, symbol_rate_baud: float | None = None, jitter: bool = True) -> LinkModule:
    """The link module for a PHY name (case-insensitive).

    Parameters
    ----------
    name : str
        One of :func:`list_presets`.
    symbol_rate_baud : float, optional
        Override the lane rate (e.g. ``BAUD_200G_FECI`` for a FECi variant); default per PHY.
    jitter : bool
        Give the drivers the random and even-odd jitter of :data:`TX_JITTER_UI` (default True;
        False: jitter-free drivers).

    Raises
    ------
    InvalidParameter
        Unknown name (the message lists the presets) or a bad rate.
    InvalidType
        ``jitter`` not a bool.
    """
    key = {k.upper(): k for k in _PRESETS}.get(str(name).strip().upper())
    if key is None:
        raise InvalidParameter(f"unknown preset {name!r}; available: {', '.join(_PRESETS)}")
    baud, build = _PRESETS[key]
    if symbol_rate_baud is not None:
        baud = validate.in_range("symbol_rate_baud", symbol_rate_baud, 1e9, 300e9, unit="Bd")
    module = trimmed_at_case(build(baud))
    if not isinstance(jitter, bool):
        raise InvalidType(f"jitter must be True or False, got {jitter!r}")
    return with_tx_jitter(module) if jitter else module


def replace_lanes(module: LinkModule, **changes: object) -> LinkModule:
    """Copy of ``module`` with every lane's ``transmitter``/``channel``/``receiver`` replaced."""
    lanes = [dataclasses.replace(lane, **changes) for lane in module.lanes]
    return dataclasses.replace(module, lanes=lanes)
