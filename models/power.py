"""Module power (W) and energy per bit (pJ/bit) of PAM4 optical transceivers, block by block.

Three architectures:

``"dsp"``
    DSP-based pluggable (e.g. 800G DR8 in OSFP/QSFP-DD): host SerDes + DSP/retimer,
    linear drivers, Si MZMs, CW lasers on the module, TIAs.
``"lpo"``
    Linear pluggable optics: the same optics without the DSP; linear drivers and TIAs
    with their own equalisation.
``"cpo"``
    Co-packaged optics: an optical engine next to the switch ASIC, ring modulators with
    heaters, no DSP on the module and an external laser source (ELS); the laser's power is
    counted off the module.

The model is a parameterised sum (all per-lane quantities times ``n_lanes``)::

    P_laser      = n_lasers * P_opt / WPE            (or n_lasers * I_bias * V_f)
    P_driver     = n_lanes * e_driver * R            (e in pJ/bit, R the lane bit rate)
    P_mod_bias   = n_lanes * P_bias
    P_heater     = n_lanes * P_heater                (an input: a thermal sweep feeds it)
    P_tia        = n_lanes * e_tia * R
    P_dsp        = n_lanes * e_dsp(node) * R
    P_tec        = Q / (f_COP * COP_max(dT))         (cooled only, see :func:`tec_power_w`)
    P_controller = constant
    P_conversion = (sum of on-module blocks) * (1/eta - 1)   (DC-DC losses)
    E_bit        = P_total / (n_lanes * R)

Electronics at junction temperature ``T_j`` (:class:`LeakageParams`): the DSP, driver and TIA
blocks are their nominal figures (quoted at ``T_ref``) split into a dynamic part and a leakage
part that grows exponentially with the junction temperature::

    P_block(T_j) = P_block,nom * [(1 - f_leak) + f_leak * exp((T_j - T_ref) / T_leak)]

(subthreshold leakage ``I_off ∝ exp(-q V_th(T) / (n k T))`` rises roughly exponentially with
temperature: K. Roy, S. Mukhopadhyay, H. Mahmoodi-Meimand, "Leakage current mechanisms and
leakage reduction techniques in deep-submicrometer CMOS circuits", Proc. IEEE 91(2), 305-327,
2003, §II-A).  The leakage share ``f_leak`` = 0.2 at ``T_ref`` = 70 °C and the doubling every
25 K (``T_leak = 25 K / ln 2``) are ASSUMPTIONS (UNVERIFIED: no DSP vendor figure here).

Self-heating (:func:`solve_self_heating`, :func:`module_power_at_case`): the junction sits
above the case by the thermal resistance times the heat the module dissipates,
``T_j = T_case + R_th * P_diss(T_j)`` with ``P_diss`` the on-module power less the light it
launches; solved by fixed-point iteration, which converges when ``R_th * dP_diss/dT < 1``
(else thermal runaway, raised).  ``R_th`` = 0.5 K/W junction-to-case for a pluggable
(ASSUMPTION, UNVERIFIED; one thermal node for all electronics).

with ``n_lasers = ceil(n_lanes / lanes_per_laser)``.  Energy per bit is quoted, as in the
industry figures it is compared with, per bit of the nominal one-direction rate (800 Gb/s
for an 800G module); pass the line rate (106.25 Gb/s per lane) for line-rate figures.

Sourced values (``/work/shared/reference/silicon-photonics-parameters.md`` §5, §6; [S] seen in
the cited source, [S2] secondary source, [D] derived, UNVERIFIED an assumption):

=====================================  ===========================================================
800G pluggable (DSP, 7 nm class)        14-16 W, 17.5-20 pJ/bit [S] (Broadcom, Laser Focus World)
800G with 5 nm DSP                      13-14 W; Marvell claims 12 W [S2] (fibermall)
800G LPO                                5-8 W [S2] (gazettabyte); "8-9 W vs 14-16 W" [S2]
1.6T DR8 (DSP)                          about 25-30 W [S2] (Cignal AI, TechInsights, Lambda)
CPO (Broadcom Bailly)                   5.5 W per 800G, 6.9 pJ/bit [S] (Laser Focus World)
CPO (NVIDIA)                            about 9 W per 1.6T, 5.6 pJ/bit [S]/[S2]
DSP share of module power               about 50 % [S] (Nagarajan et al., JLT 2021, via EFFECT Photonics)
TIA                                     0.32-0.96 pJ/bit [S] (Zhang LSSC 2025; Li ESSCIRC 2018)
Ring heater                             20-60 mW per ring [D]; TiN heater 0.1 nm/mW [S] (Zhang 2022)
Laser sharing                           one laser per 4 modulators in DR4 [S]; CPO one per 8 [S2]
CW source                               20 dBm per ELS fibre, OIF ELSFP example [S]
Wall-plug efficiency                    15-30 % for high-power CW DFB (UNVERIFIED)
=====================================  ===========================================================

DSP energy per bit by CMOS node [D]: half of the module energy per bit (the 50 % share)
gives 7 nm: 0.5 x 15 W / 800 Gb/s = 9.4 pJ/bit -> 9.5; 5 nm: 0.5 x 13 W / 800 Gb/s = 8.1 ->
8.0; 3 nm: 20 % below 5 nm (Marvell Ara, "> 20 % DSP power cut" [S], Electronic Design
2025) -> 6.4 pJ/bit.  The driver, modulator-bias, controller and conversion figures have no
source here and are marked UNVERIFIED; they were chosen so that the sourced module totals
are met (a bottom-up split of a 16 W module is itself UNVERIFIED, reference §5).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np

from optics import validate
from optics.errors import InvalidParameter, InvalidType

#: Architectures understood by :func:`module_power`.
ARCHITECTURES: tuple[str, ...] = ("dsp", "lpo", "cpo")

#: DSP/retimer energy per bit (pJ/bit of one-direction payload) by CMOS node [D], see module docstring.
DSP_ENERGY_PJ_PER_BIT: Mapping[str, float] = MappingProxyType({"7nm": 9.5, "5nm": 8.0, "3nm": 6.4})

#: Block names, in plotting order (bottom to top).
BLOCKS: tuple[str, ...] = (
    "dsp",
    "driver",
    "tia",
    "laser",
    "modulator_bias",
    "ring_heater",
    "tec",
    "controller",
    "power_conversion",
)

#: Blocks whose heat may sit on the photonic die (:attr:`ModulePowerParams.chip_heat_blocks`).
CHIP_HEAT_BLOCKS: tuple[str, ...] = ("laser", "modulator_bias", "ring_heater", "driver", "tia")

#: Photonic-die heat sources and die-to-case thermal resistance by architecture, ASSUMPTIONS
#: (UNVERIFIED; see :class:`ModulePowerParams`): a pluggable's die carries its CW lasers
#: (bonded on the PIC) and the MZM bias/phase heaters, its drivers, TIAs and DSP being
#: separate dies; a CPO engine's electronic IC (ring drivers, TIAs) is stacked on the PIC
#: (TSMC COUPE-style 3D integration) with the ring heaters, the laser outside.
CHIP_THERMAL: Mapping[str, tuple[tuple[str, ...], float]] = MappingProxyType({
    "dsp": (("laser", "modulator_bias", "ring_heater"), 19.0),
    "lpo": (("laser", "modulator_bias", "ring_heater"), 19.0),
    "cpo": (("driver", "tia", "modulator_bias", "ring_heater"), 1.5),
})

_KELVIN = 273.15


# --- thermo-electric cooler ------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class TecParams:
    """Thermo-electric cooler under the lasers (used only when ``cooled``).

    Parameters
    ----------
    cooled : bool
        Whether the lasers sit on a TEC.
    delta_t_k : float
        Hot side (module case) minus cold side (laser set-point), K, >= 0.  Heating mode
        (case colder than the set-point) is not modelled.
    hot_side_c : float
        Hot-side temperature (°C); default 70 °C, the top of the 0-70 °C case class [S].
    figure_of_merit_per_k : float
        Thermo-electric figure of merit Z (1/K); default 2.4e-3 (Bi2Te3, ZT about 0.75 at
        310 K; Goldsmid, *Introduction to Thermoelectricity*, Springer 2010).
    cop_fraction : float
        Fraction of the ideal optimum-current COP reached in practice, (0, 1]; 0.5 (UNVERIFIED).
    heat_leak_w_per_k : float
        Parasitic heat conductance into the cold side (W/K); 0.01 (UNVERIFIED).
    set_point_c : float or None
        Temperature (°C) at which the TEC holds its laser, -40...120 (default None: a fixed
        ``delta_t_k`` against ``hot_side_c``).  With it the TEC follows its ambient (the module
        case, :func:`module_power`'s ``tec_ambient_c``): it cools above the set point and heats
        below it (:func:`tec_hold_power_w`); ``delta_t_k`` and ``hot_side_c`` are then unused.
    """

    cooled: bool = False
    delta_t_k: float = 0.0
    hot_side_c: float = 70.0
    figure_of_merit_per_k: float = 2.4e-3
    cop_fraction: float = 0.5
    heat_leak_w_per_k: float = 0.01
    set_point_c: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.cooled, bool):
            raise InvalidType(f"cooled must be True or False, got {self.cooled!r}")
        object.__setattr__(self, "delta_t_k", validate.non_negative("delta_t_k", self.delta_t_k, "K"))
        s = object.__setattr__
        s(self, "hot_side_c", validate.in_range("hot_side_c", self.hot_side_c, -60.0, 150.0, unit="°C"))
        z = validate.positive("figure_of_merit_per_k", self.figure_of_merit_per_k, "1/K")
        s(self, "figure_of_merit_per_k", z)
        frac = validate.in_range("cop_fraction", self.cop_fraction, 0.0, 1.0, low_inclusive=False)
        s(self, "cop_fraction", frac)
        object.__setattr__(
            self, "heat_leak_w_per_k", validate.non_negative("heat_leak_w_per_k", self.heat_leak_w_per_k, "W/K")
        )
        if self.set_point_c is not None:
            s(self, "set_point_c", validate.in_range("set_point_c", self.set_point_c, -40.0, 120.0, unit="°C"))


def tec_cop_max(delta_t_k: float, *, hot_side_c: float = 70.0, figure_of_merit_per_k: float = 2.4e-3) -> float:
    """Ideal coefficient of performance of a Peltier cooler at its optimum current.

    ::

        COP_max = T_c (gamma - T_h/T_c) / (dT (gamma + 1)),  gamma = sqrt(1 + Z T_m)

    with ``T_h`` the hot side, ``T_c = T_h - dT``, ``T_m = (T_h + T_c)/2`` (kelvin) (Ioffe
    1957; H. J. Goldsmid, *Introduction to Thermoelectricity*, Springer 2010, ch. 2).
    ``COP_max`` is infinite at ``dT = 0`` and reaches 0 at ``dT_max ≈ Z T_c^2 / 2``.

    Raises
    ------
    InvalidParameter
        ``delta_t_k < 0`` (heating mode, not modelled) or at/beyond the cooler's maximum ΔT.

    Examples
    --------
    >>> round(tec_cop_max(30.0), 3)
    1.077
    """
    dt = validate.non_negative("delta_t_k", delta_t_k, "K")
    if dt == 0.0:
        return math.inf
    z = validate.positive("figure_of_merit_per_k", figure_of_merit_per_k, "1/K")
    th = validate.real("hot_side_c", hot_side_c) + _KELVIN
    tc = th - dt
    if tc <= 0:
        raise InvalidParameter(f"delta_t_k = {dt:g} K puts the cold side below 0 K")
    gamma = math.sqrt(1.0 + z * 0.5 * (th + tc))
    cop = tc * (gamma - th / tc) / (dt * (gamma + 1.0))
    if cop <= 0.0:
        raise InvalidParameter(
            f"delta_t_k = {dt:g} K is beyond the TEC's reach (dT_max ≈ Z T_c^2/2 ≈ {0.5 * z * tc**2:.0f} K "
            f"at Z = {z:g} 1/K, hot side {hot_side_c:g} °C)"
        )
    return cop


def tec_power_w(heat_load_w: float, tec: TecParams) -> float:
    """Electrical power (W) of the TEC pumping ``heat_load_w`` plus its heat leak across ``tec.delta_t_k``.

    ``P = (Q + G dT) / (f_COP COP_max(dT))``; 0 when not cooled or when ``dT = 0``.

    Raises
    ------
    InvalidParameter
        Negative heat load, or ``dT`` beyond the cooler's reach (see :func:`tec_cop_max`).
    """
    q = validate.non_negative("heat_load_w", heat_load_w, "W")
    if not isinstance(tec, TecParams):
        raise InvalidType(f"tec must be TecParams, got {type(tec).__name__}")
    if not tec.cooled or tec.delta_t_k == 0.0:
        return 0.0
    cop = tec_cop_max(tec.delta_t_k, hot_side_c=tec.hot_side_c, figure_of_merit_per_k=tec.figure_of_merit_per_k)
    power = (q + tec.heat_leak_w_per_k * tec.delta_t_k) / (tec.cop_fraction * cop)
    if not math.isfinite(power):
        raise InvalidParameter(f"heat_load_w = {q:g} W gives a TEC power that is not finite")
    return power


def tec_hold_power_w(heat_load_w: float, ambient_c: float, tec: TecParams) -> float:
    """Electrical power (W) of a TEC holding its laser at ``tec.set_point_c`` in ambient ``ambient_c``.

    The laser plate must shed its own heat ``Q`` (``heat_load_w``) and the parasitic flow
    ``G (T_amb − T_set)`` from the ambient, ``Q_net = Q + G (T_amb − T_set)``:

    * ``T_amb > T_set`` (cooling, ``ΔT = T_amb − T_set``):
      ``P = Q_net / (f_COP COP_max(ΔT))`` at hot side ``T_amb`` (:func:`tec_cop_max`, the
      same as :func:`tec_power_w`);
    * ``T_amb <= T_set`` and ``Q_net >= 0``: the heat flows out downhill through the TEC
      and its leak; ``P = 0`` (ASSUMPTION: the loop idles the TEC as a conductor);
    * ``T_amb < T_set`` and ``Q_net < 0`` (heating, reverse current): the TEC pumps
      ``H = −Q_net`` into the laser with ``P = H / (f_COP COP_h)``, hot side ``T_set``:
      ``COP_h = T_h (g − T_c/T_h) / (|ΔT| (g + 1))``, the cooling formula plus 1
      (``Q_h = Q_c + P``; Goldsmid, *Introduction to Thermoelectricity*, Springer 2010, ch. 2),
      both at the optimum current.

    ``COP_max`` is the optimum-current (TEC sized to its load) idealisation and ``f_COP``,
    ``G`` are ASSUMPTIONS (:class:`TecParams`); so ``P`` vanishes as ``ΔT → 0``.  0 W when
    the TEC is not ``cooled``.

    Parameters
    ----------
    heat_load_w : float
        Heat the held laser(s) dissipate on the TEC (W), >= 0: electrical in less light out.
    ambient_c : float
        Ambient (hot-side heat sink) temperature (°C), -60...150.
    tec : TecParams
        With ``set_point_c``.

    Raises
    ------
    InvalidParameter
        No ``set_point_c``, negative load, bad temperature, or ``ΔT`` beyond the TEC's reach.

    Examples
    --------
    >>> tec = TecParams(cooled=True, set_point_c=35.0)
    >>> tec_hold_power_w(0.4, 35.0, tec)
    0.0
    >>> round(tec_hold_power_w(0.4, 65.0, tec), 4)      # (0.4 + 0.01*30) / (0.5 * COP_max(30 K at 65 °C))
    1.352
    """
    q = validate.non_negative("heat_load_w", heat_load_w, "W")
    t_amb = validate.in_range("ambient_c", ambient_c, -60.0, 150.0, unit="°C")
    if not isinstance(tec, TecParams):
        raise InvalidType(f"tec must be TecParams, got {type(tec).__name__}")
    if tec.set_point_c is None:
        raise InvalidParameter("tec_hold_power_w needs TecParams.set_point_c (the temperature the TEC holds)")
    if not tec.cooled:
        return 0.0
    dt = t_amb - tec.set_point_c
    q_net = q + tec.heat_leak_w_per_k * dt
    z = tec.figure_of_merit_per_k
    if dt > 0.0:
        power = q_net / (tec.cop_fraction * tec_cop_max(dt, hot_side_c=t_amb, figure_of_merit_per_k=z))
    elif q_net >= 0.0:
        return 0.0
    else:
        # heating: COP_h = T_h (g - T_c/T_h) / (|dT| (g + 1)) = COP_c + 1 with the laser the hot side;
        # written directly, since it stays positive where the cooling COP has gone negative
        th = tec.set_point_c + _KELVIN
        tc = th + dt
        if tc <= 0:
            raise InvalidParameter(f"ambient_c = {t_amb:g} °C is below 0 K")
        g = math.sqrt(1.0 + z * 0.5 * (th + tc))
        cop_h = (g * th - tc) / (-dt * (g + 1.0))
        power = -q_net / (tec.cop_fraction * cop_h)
    if not math.isfinite(power):
        raise InvalidParameter(f"heat_load_w = {q:g} W gives a TEC power that is not finite")
    return power


# --- ring heaters ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class RingHeaterParams:
    """Thermal tuning of a ring modulator that must stay on its laser line.

    Heaters only heat, so the ring is parked so that at ``park_temperature_c`` (the hottest
    operating point) it needs only ``fabrication_offset_nm`` of heater shift; colder, the
    ring has drifted blue relative to the laser and the heater makes up the difference.

    Parameters
    ----------
    ring_shift_nm_per_k : float
        Ring resonance drift (nm/K); 0.07 nm/K, the O-band default of reference §2.2 [D].
    laser_shift_nm_per_k : float
        Drift of the laser it must follow (nm/K); 0 for a stabilised external source,
        0.09 nm/K for an uncooled DFB on the same die [S].
    heater_efficiency_nm_per_mw : float
        Heater tuning efficiency (nm/mW); 0.1 nm/mW, TiN heater [S] (Zhang, Photon. Res. 2022).
    tuning_range_nm : float
        Largest shift the heater may provide (nm); 6.5 nm = half the 13 nm FSR of a
        5 µm ring at 1310 nm [D] (UNVERIFIED as a heater limit).
    park_temperature_c : float
        Chip temperature (°C) at which the heater supplies only the offset; 85 °C.
    fabrication_offset_nm : float
        Extra red shift always needed (nm), >= 0.
    """

    ring_shift_nm_per_k: float = 0.07
    laser_shift_nm_per_k: float = 0.0
    heater_efficiency_nm_per_mw: float = 0.1
    tuning_range_nm: float = 6.5
    park_temperature_c: float = 85.0
    fabrication_offset_nm: float = 0.0

    def __post_init__(self) -> None:
        s = object.__setattr__
        for name in ("ring_shift_nm_per_k", "laser_shift_nm_per_k"):
            s(self, name, validate.in_range(name, getattr(self, name), -1.0, 1.0, unit="nm/K"))
        eta = validate.positive("heater_efficiency_nm_per_mw", self.heater_efficiency_nm_per_mw, "nm/mW")
        s(self, "heater_efficiency_nm_per_mw", eta)
        s(self, "tuning_range_nm", validate.positive("tuning_range_nm", self.tuning_range_nm, "nm"))
        park = validate.in_range("park_temperature_c", self.park_temperature_c, -60.0, 200.0, unit="°C")
        s(self, "park_temperature_c", park)
        offset = validate.non_negative("fabrication_offset_nm", self.fabrication_offset_nm, "nm")
        s(self, "fabrication_offset_nm", offset)
        if offset > self.tuning_range_nm:
            raise InvalidParameter(
                f"fabrication_offset_nm = {offset:g} nm exceeds tuning_range_nm = {self.tuning_range_nm:g} nm"
            )

    @property
    def relative_shift_nm_per_k(self) -> float:
        """Ring drift relative to the laser (nm/K)."""
        return self.ring_shift_nm_per_k - self.laser_shift_nm_per_k

    @property
    def slope_w_per_k(self) -> float:
        """d(heater power)/dT (W/K): ``-(d_ring - d_laser) / eta * 1e-3``."""
        return -self.relative_shift_nm_per_k / self.heater_efficiency_nm_per_mw * 1e-3

    def temperature_range_c(self) -> tuple[float, float]:
        """Chip temperatures (°C) over which the heater can hold the ring on the laser."""
        rel = self.relative_shift_nm_per_k
        if rel == 0.0:
            return (-math.inf, math.inf)
        t_a = self.park_temperature_c - (self.tuning_range_nm - self.fabrication_offset_nm) / rel
        t_b = self.park_temperature_c + self.fabrication_offset_nm / rel
        return (min(t_a, t_b), max(t_a, t_b))


def ring_heater_power_w(
    temperature_c: float | np.ndarray, params: RingHeaterParams | None = None
) -> float | np.ndarray:
    """Heater power (W per ring) that keeps a ring on its laser at chip temperature ``temperature_c``.

    ::

        shift_nm = offset + (T_park - T) (d_ring - d_laser)
        P_heater = shift_nm / eta_heater * 1e-3  W                (eta in nm/mW)

    so ``P`` is linear in ``T`` with slope ``-(d_ring - d_laser)/eta`` (mW/K); e.g. 0.07 nm/K
    over 70 K at 0.1 nm/mW is 49 mW (reference §6 table [D]).

    Parameters
    ----------
    temperature_c : float or array_like
        Chip temperature(s) (°C).
    params : RingHeaterParams, optional
        Defaults as documented there.

    Returns
    -------
    float or ndarray
        W per ring, same shape as ``temperature_c``.

    Raises
    ------
    InvalidParameter
        A temperature needs a negative shift (heaters only heat) or more than
        ``tuning_range_nm``; the message names the first such temperature and the valid range.

    Examples
    --------
    >>> round(ring_heater_power_w(15.0) * 1e3, 3)
    49.0
    """
    p = params if params is not None else RingHeaterParams()
    if not isinstance(p, RingHeaterParams):
        raise InvalidType(f"params must be RingHeaterParams, got {type(p).__name__}")
    if isinstance(temperature_c, (str, bytes)):
        raise InvalidType(f"temperature_c must be a number or an array of numbers (°C), got {temperature_c!r}")
    t = validate.finite_array("temperature_c", np.atleast_1d(temperature_c), min_size=1)
    shift = p.fabrication_offset_nm + (p.park_temperature_c - t) * p.relative_shift_nm_per_k
    bad = (shift < -1e-12) | (shift > p.tuning_range_nm * (1 + 1e-12))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        lo, hi = p.temperature_range_c()
        if shift[i] < 0:
            why = "a negative shift (heaters only heat)"
        else:
            why = f"beyond the {p.tuning_range_nm:g} nm tuning range"
        raise InvalidParameter(
            f"temperature_c = {t[i]:g} °C needs a heater shift of {shift[i]:.3g} nm, {why}; "
            f"the heater holds the ring on the laser only for {lo:.4g} to {hi:.4g} °C"
        )
    power = np.maximum(shift, 0.0) / p.heater_efficiency_nm_per_mw * 1e-3
    return float(power[0]) if np.ndim(temperature_c) == 0 else power


# --- electronics leakage and self-heating -------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class LeakageParams:
    """Temperature dependence of the DSP, driver and TIA power (module docstring equation).

    Parameters
    ----------
    leakage_fraction : float
        Share ``f_leak`` of the nominal power that is leakage at ``temperature_ref_c``, [0, 1);
        0.2 (ASSUMPTION).
    temperature_ref_c : float
        Junction temperature (°C) at which the nominal per-bit figures hold; 70 °C (ASSUMPTION).
    leakage_temperature_k : float
        ``T_leak`` (K): leakage grows by ``e`` every ``T_leak``; 25 K / ln 2 = 36.07 K, i.e.
        doubling every 25 K (ASSUMPTION), > 0.
    """

    leakage_fraction: float = 0.2
    temperature_ref_c: float = 70.0
    leakage_temperature_k: float = 25.0 / math.log(2.0)

    def __post_init__(self) -> None:
        s = object.__setattr__
        f = validate.in_range("leakage_fraction", self.leakage_fraction, 0.0, 1.0, high_inclusive=False)
        s(self, "leakage_fraction", f)
        s(self, "temperature_ref_c", validate.in_range("temperature_ref_c", self.temperature_ref_c, -60.0, 200.0,
                                                       unit="°C"))
        s(self, "leakage_temperature_k", validate.positive("leakage_temperature_k", self.leakage_temperature_k, "K"))

    def factor(self, junction_temperature_c: float) -> float:
        """``(1 - f_leak) + f_leak * exp((T_j - T_ref)/T_leak)``: power over its nominal value.

        Raises
        ------
        InvalidParameter
            ``junction_temperature_c`` outside -60...250 °C.

        Examples
        --------
        >>> round(LeakageParams().factor(95.0), 12)    # leakage doubled 25 K above T_ref: 0.8 + 0.4
        1.2
        """
        t = validate.in_range("junction_temperature_c", junction_temperature_c, -60.0, 250.0, unit="°C")
        return (1.0 - self.leakage_fraction) + self.leakage_fraction * math.exp(
            (t - self.temperature_ref_c) / self.leakage_temperature_k)

    def slope_w_per_k(self, nominal_power_w: float, junction_temperature_c: float) -> float:
        """``dP/dT_j`` (W/K) of a block of nominal power ``nominal_power_w`` at ``junction_temperature_c``."""
        t = validate.in_range("junction_temperature_c", junction_temperature_c, -60.0, 250.0, unit="°C")
        return nominal_power_w * self.leakage_fraction / self.leakage_temperature_k * math.exp(
            (t - self.temperature_ref_c) / self.leakage_temperature_k)


@dataclasses.dataclass(frozen=True)
class SelfHeating:
    """Result of :func:`solve_self_heating`.

    Attributes
    ----------
    temperature_c : float
        Self-consistent temperature ``T`` (°C): ``T = T_case + R_th * P(T)`` within the tolerance.
    power_w : float
        ``P(T)`` (W).
    iterations : int
        Fixed-point steps taken.
    """

    temperature_c: float
    power_w: float
    iterations: int


def solve_self_heating(
    power_w_at: Any, case_temperature_c: float, thermal_resistance_k_per_w: float, *,
    tolerance_k: float = 1e-6, max_iterations: int = 200, max_temperature_c: float = 250.0,
) -> SelfHeating:
    """Solve ``T = T_case + R_th * P(T)`` by fixed-point iteration.

    ``T_0 = T_case + R_th * P(T_case)``, ``T_{n+1} = T_case + R_th * P(T_n)`` until
    ``|T_{n+1} - T_n| <= tolerance_k``.  The map is a contraction, and the iteration converges
    to the unique solution, when ``R_th * |dP/dT| < 1`` (Banach fixed-point theorem); for a
    linear ``P(T) = P_0 + k (T - T_case)`` the solution is ``T_case + R_th P_0 / (1 - R_th k)``
    and the error falls by ``R_th k`` per step.  When self-heating feeds itself faster
    (``R_th k >= 1``: thermal runaway) the iteration does not settle and an error is raised.

    Parameters
    ----------
    power_w_at : callable
        ``P(T)``: dissipated power (W, finite, >= 0) at temperature ``T`` (°C).
    case_temperature_c : float
        Case (heat-sink side) temperature in °C, -60...150.
    thermal_resistance_k_per_w : float
        Thermal resistance from the dissipating node to the case (K/W), >= 0.
    tolerance_k, max_iterations, max_temperature_c
        Stop criterion (K, > 0), iteration limit (>= 1) and the temperature beyond which the
        node is declared in runaway (°C).

    Returns
    -------
    SelfHeating

    Raises
    ------
    InvalidParameter
        Bad inputs, a power that is negative or not finite, or no convergence (runaway).

    Examples
    --------
    >>> r = solve_self_heating(lambda t: 10.0 + 0.2 * (t - 25.0), 25.0, 1.0)
    >>> round(r.temperature_c, 6)       # 25 + 1.0 * 10 / (1 - 0.2)
    37.5
    """
    if not callable(power_w_at):
        raise InvalidType(f"power_w_at must be a callable P(T), got {type(power_w_at).__name__}")
    t_case = validate.in_range("case_temperature_c", case_temperature_c, -60.0, 150.0, unit="°C")
    r = validate.non_negative("thermal_resistance_k_per_w", thermal_resistance_k_per_w, "K/W")
    tol = validate.positive("tolerance_k", tolerance_k, "K")
    n_max = validate.integer("max_iterations", max_iterations, 1)
    t_max = validate.real("max_temperature_c", max_temperature_c)

    def power(t: float) -> float:
        p = power_w_at(t)
        if not isinstance(p, (int, float)) or not math.isfinite(p) or p < 0:
            raise InvalidParameter(f"dissipated power at {t:g} °C is {p!r} W; a finite power >= 0 W is needed")
        return float(p)

    t = t_case
    p = power(t)
    for n in range(1, n_max + 1):
        t_new = t_case + r * p
        if t_new > t_max:
            raise InvalidParameter(
                f"thermal runaway: the self-heating iteration passed {t_max:g} °C (T_case = {t_case:g} °C, "
                f"R_th = {r:g} K/W, P = {p:.4g} W); it needs R_th * dP/dT < 1"
            )
        p_new = power(t_new)
        if abs(t_new - t) <= tol:
            return SelfHeating(t_new, p_new, n)
        t, p = t_new, p_new
    raise InvalidParameter(
        f"self-heating did not settle to {tol:g} K in {n_max} iterations (T_case = {t_case:g} °C, R_th = {r:g} K/W, "
        f"last step {abs(t_case + r * p - t):.3g} K): R_th * dP/dT is at or beyond 1 (thermal runaway)"
    )


# --- parameter sets ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class LaserParams:
    """CW laser(s) feeding the modulators.

    Electrical power per laser is ``bias_current_a * forward_voltage_v`` when both are
    given, else ``optical_power_w / wall_plug_efficiency``.

    Parameters
    ----------
    optical_power_w : float
        CW optical output per laser (W), > 0.
    wall_plug_efficiency : float
        Optical out / electrical in, (0, 1].
    lanes_per_laser : int
        Modulators fed by one laser (split on chip or in the ELS), >= 1.
    bias_current_a, forward_voltage_v : float, optional
        Laser drive (A, V); both or neither.  ``I V`` must not be below ``optical_power_w``.
    external : bool
        External laser source (CPO): counted off the module.
    """

    optical_power_w: float
    wall_plug_efficiency: float
    lanes_per_laser: int = 1
    bias_current_a: float | None = None
    forward_voltage_v: float | None = None
    external: bool = False

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "optical_power_w", validate.positive("optical_power_w", self.optical_power_w, "W"))
        wpe = validate.in_range("wall_plug_efficiency", self.wall_plug_efficiency, 0.0, 1.0, low_inclusive=False)
        s(self, "wall_plug_efficiency", wpe)
        s(self, "lanes_per_laser", validate.integer("lanes_per_laser", self.lanes_per_laser, 1))
        if (self.bias_current_a is None) != (self.forward_voltage_v is None):
            raise InvalidParameter("give both bias_current_a and forward_voltage_v, or neither")
        if self.bias_current_a is not None:
            s(self, "bias_current_a", validate.positive("bias_current_a", self.bias_current_a, "A"))
            s(self, "forward_voltage_v", validate.positive("forward_voltage_v", self.forward_voltage_v, "V"))
            if self.bias_current_a * self.forward_voltage_v < self.optical_power_w:
                raise InvalidParameter(
                    f"bias_current_a * forward_voltage_v = {self.bias_current_a * self.forward_voltage_v:g} W is "
                    f"below the optical output {self.optical_power_w:g} W"
                )
        if not isinstance(self.external, bool):
            raise InvalidType(f"external must be True or False, got {self.external!r}")

    @property
    def electrical_power_w(self) -> float:
        """Electrical input power per laser (W)."""
        if self.bias_current_a is not None:
            return self.bias_current_a * self.forward_voltage_v  # type: ignore[operator]
        return self.optical_power_w / self.wall_plug_efficiency


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModulePowerParams:
    """Power parameters of one transceiver architecture (see the module docstring for sources).

    Parameters
    ----------
    architecture : str
        ``"dsp"``, ``"lpo"`` or ``"cpo"``.  ``"lpo"`` and ``"cpo"`` must have no DSP;
        ``"cpo"`` must use an external laser.
    laser : LaserParams
    driver_energy_pj_per_bit : float
        Modulator driver (pJ/bit), >= 0.
    modulator_bias_w_per_lane : float
        MZM bias/phase control per lane (W), >= 0.
    heater_power_w_per_lane : float
        Ring heater per lane (W), >= 0 (see :func:`ring_heater_power_w`).
    tia_energy_pj_per_bit : float
        TIA (pJ/bit), >= 0.
    dsp_energy_pj_per_bit : float
        DSP/retimer incl. host SerDes (pJ/bit), >= 0 (:data:`DSP_ENERGY_PJ_PER_BIT`).
    tec : TecParams
    controller_w : float
        Microcontroller, monitoring, locking loops (W), >= 0.
    conversion_efficiency : float
        On-module DC-DC efficiency, (0, 1].
    leakage : LeakageParams
        Junction-temperature dependence of the DSP, driver and TIA blocks.
    thermal_resistance_k_per_w : float
        Junction-to-case thermal resistance of the electronics (K/W), >= 0; 0.5 (ASSUMPTION).
    chip_thermal_resistance_k_per_w : float
        Photonic die to case thermal resistance (K/W), >= 0: the die sits at
        ``T_chip = T_case + R_chip * P_die(T_chip)`` (:func:`models.thermal.chip_temperature_c`);
        default the ``"dsp"`` value of :data:`CHIP_THERMAL` (ASSUMPTION).
    chip_heat_blocks : tuple of str
        Blocks (from :data:`CHIP_HEAT_BLOCKS`) dissipated on the photonic die: ``"laser"``
        (on-module lasers not held by their own TEC: electrical in less light out),
        ``"modulator_bias"``, ``"ring_heater"``, and ``"driver"``/``"tia"`` when the electronic
        IC is stacked on the die (their leakage then at the die temperature); default the
        pluggable set of :data:`CHIP_THERMAL`.
    """

    architecture: str
    laser: LaserParams
    driver_energy_pj_per_bit: float
    modulator_bias_w_per_lane: float = 0.0
    heater_power_w_per_lane: float = 0.0
    tia_energy_pj_per_bit: float
    dsp_energy_pj_per_bit: float = 0.0
    tec: TecParams = dataclasses.field(default_factory=TecParams)
    controller_w: float = 0.0
    conversion_efficiency: float = 1.0
    leakage: LeakageParams = dataclasses.field(default_factory=LeakageParams)
    thermal_resistance_k_per_w: float = 0.5
    chip_thermal_resistance_k_per_w: float = CHIP_THERMAL["dsp"][1]
    chip_heat_blocks: tuple[str, ...] = CHIP_THERMAL["dsp"][0]

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "chip_thermal_resistance_k_per_w",
          validate.non_negative("chip_thermal_resistance_k_per_w", self.chip_thermal_resistance_k_per_w, "K/W"))
        if isinstance(self.chip_heat_blocks, str) or not all(isinstance(b, str) for b in self.chip_heat_blocks):
            raise InvalidType(f"chip_heat_blocks must be a sequence of block names, got {self.chip_heat_blocks!r}")
        blocks = tuple(self.chip_heat_blocks)
        bad = [b for b in blocks if b not in CHIP_HEAT_BLOCKS]
        if bad or len(set(blocks)) != len(blocks):
            raise InvalidParameter(
                f"chip_heat_blocks = {blocks!r}: each once, from {', '.join(CHIP_HEAT_BLOCKS)}")
        s(self, "chip_heat_blocks", blocks)
        if not isinstance(self.leakage, LeakageParams):
            raise InvalidType(f"leakage must be LeakageParams, got {type(self.leakage).__name__}")
        s(self, "thermal_resistance_k_per_w",
          validate.non_negative("thermal_resistance_k_per_w", self.thermal_resistance_k_per_w, "K/W"))
        if self.architecture not in ARCHITECTURES:
            raise InvalidParameter(f"architecture = {self.architecture!r}; allowed: {', '.join(ARCHITECTURES)}")
        if not isinstance(self.laser, LaserParams):
            raise InvalidType(f"laser must be LaserParams, got {type(self.laser).__name__}")
        if not isinstance(self.tec, TecParams):
            raise InvalidType(f"tec must be TecParams, got {type(self.tec).__name__}")
        for name, unit in (
            ("driver_energy_pj_per_bit", "pJ/bit"),
            ("modulator_bias_w_per_lane", "W"),
            ("heater_power_w_per_lane", "W"),
            ("tia_energy_pj_per_bit", "pJ/bit"),
            ("dsp_energy_pj_per_bit", "pJ/bit"),
            ("controller_w", "W"),
        ):
            s(self, name, validate.non_negative(name, getattr(self, name), unit))
        eta = validate.in_range("conversion_efficiency", self.conversion_efficiency, 0.0, 1.0, low_inclusive=False)
        s(self, "conversion_efficiency", eta)
        if self.architecture in ("lpo", "cpo") and self.dsp_energy_pj_per_bit != 0.0:
            raise InvalidParameter(
                f"architecture {self.architecture!r} has no DSP on the module; dsp_energy_pj_per_bit must be 0, "
                f"got {self.dsp_energy_pj_per_bit:g}"
            )
        if self.architecture == "cpo" and not self.laser.external:
            raise InvalidParameter("architecture 'cpo' uses an external laser source: set laser.external=True")


def preset_params(architecture: str, *, dsp_node: str = "7nm") -> ModulePowerParams:
    """Typical parameter set for ``architecture`` (values and their sources in the module docstring).

    ``"dsp"``: 20 dBm CW lasers at 20 % WPE, one per 4 lanes; driver 3.0 pJ/bit, MZM bias
    10 mW/lane, controller 0.5 W, 90 % conversion (UNVERIFIED); TIA 1.0 pJ/bit [S range];
    DSP at ``dsp_node``; uncooled.  ``"lpo"``: the same without DSP, with linear driver
    3.5 pJ/bit and linear TIA 1.5 pJ/bit (equalisation moved into them, UNVERIFIED).
    ``"cpo"``: external 20 dBm source at 20 % WPE shared by 8 lanes [S2]; ring modulators
    with 40 mW heaters per lane (midpoint of 20-60 mW [D]); CMOS driver 2.5 pJ/bit
    (UNVERIFIED) and TIA 0.8 pJ/bit [S range]; controller incl. ring locking 0.3 W
    (UNVERIFIED).

    Raises
    ------
    InvalidParameter
        Unknown architecture or DSP node.

    Examples
    --------
    >>> preset_params("lpo").dsp_energy_pj_per_bit
    0.0
    """
    if architecture not in ARCHITECTURES:
        raise InvalidParameter(f"architecture = {architecture!r}; allowed: {', '.join(ARCHITECTURES)}")
    if dsp_node not in DSP_ENERGY_PJ_PER_BIT:
        raise InvalidParameter(f"dsp_node = {dsp_node!r}; allowed: {', '.join(DSP_ENERGY_PJ_PER_BIT)}")
    pluggable_laser = LaserParams(optical_power_w=0.1, wall_plug_efficiency=0.2, lanes_per_laser=4)
    if architecture == "dsp":
        return ModulePowerParams(
            architecture="dsp",
            chip_heat_blocks=CHIP_THERMAL["dsp"][0],
            chip_thermal_resistance_k_per_w=CHIP_THERMAL["dsp"][1],
            laser=pluggable_laser,
            driver_energy_pj_per_bit=3.0,
            modulator_bias_w_per_lane=0.01,
            tia_energy_pj_per_bit=1.0,
            dsp_energy_pj_per_bit=DSP_ENERGY_PJ_PER_BIT[dsp_node],
            controller_w=0.5,
            conversion_efficiency=0.9,
        )
    if architecture == "lpo":
        return ModulePowerParams(
            architecture="lpo",
            chip_heat_blocks=CHIP_THERMAL["lpo"][0],
            chip_thermal_resistance_k_per_w=CHIP_THERMAL["lpo"][1],
            laser=pluggable_laser,
            driver_energy_pj_per_bit=3.5,
            modulator_bias_w_per_lane=0.01,
            tia_energy_pj_per_bit=1.5,
            controller_w=0.5,
            conversion_efficiency=0.9,
        )
    return ModulePowerParams(
        architecture="cpo",
        chip_heat_blocks=CHIP_THERMAL["cpo"][0],
        chip_thermal_resistance_k_per_w=CHIP_THERMAL["cpo"][1],
        laser=LaserParams(optical_power_w=0.1, wall_plug_efficiency=0.2, lanes_per_laser=8, external=True),
        driver_energy_pj_per_bit=2.5,
        heater_power_w_per_lane=0.04,
        tia_energy_pj_per_bit=0.8,
        controller_w=0.3,
        conversion_efficiency=0.9,
    )


# --- result --------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class PowerBreakdown:
    """Power of a module by block.

    Attributes
    ----------
    architecture : str
    n_lanes : int
    lane_rate_bps : float
        Bit rate per lane used for the per-bit figures (b/s).
    blocks_w : mapping of str to float
        Power per block (W), keys :data:`BLOCKS` (0 where a block is absent).
    off_module : tuple of str
        Blocks counted in the total but not on the module (the CPO external laser).
    junction_temperature_c : float or None
        Junction temperature (°C) of the electronics blocks (None: their nominal figures).
    launched_power_w : float
        Optical power the on-module lasers emit (W): on-module power that leaves as light.
    """

    architecture: str
    n_lanes: int
    lane_rate_bps: float
    blocks_w: Mapping[str, float]
    off_module: tuple[str, ...] = ()
    junction_temperature_c: float | None = None
    launched_power_w: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks_w", MappingProxyType({k: float(v) for k, v in self.blocks_w.items()}))
        object.__setattr__(self, "off_module", tuple(self.off_module))

    @property
    def aggregate_rate_bps(self) -> float:
        """``n_lanes * lane_rate_bps`` (b/s)."""
        return self.n_lanes * self.lane_rate_bps

    @property
    def total_w(self) -> float:
        """Sum of all blocks (W), including off-module ones."""
        return float(sum(self.blocks_w.values()))

    @property
    def module_w(self) -> float:
        """Sum of the on-module blocks (W)."""
        return float(sum(v for k, v in self.blocks_w.items() if k not in self.off_module))

    @property
    def dissipated_w(self) -> float:
        """Heat dissipated on the module (W): ``module_w`` less the light the lasers launch."""
        return self.module_w - self.launched_power_w

    @property
    def energy_pj_per_bit(self) -> float:
        """``total_w / aggregate_rate_bps`` in pJ/bit."""
        return self.total_w / self.aggregate_rate_bps * 1e12

    @property
    def module_energy_pj_per_bit(self) -> float:
        """``module_w / aggregate_rate_bps`` in pJ/bit."""
        return self.module_w / self.aggregate_rate_bps * 1e12

    @property
    def blocks_pj_per_bit(self) -> dict[str, float]:
        """Each block's power divided by the aggregate rate (pJ/bit)."""
        return {k: v / self.aggregate_rate_bps * 1e12 for k, v in self.blocks_w.items()}

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-friendly dict of the breakdown and its totals."""
        return {
            "architecture": self.architecture,
            "n_lanes": self.n_lanes,
            "lane_rate_bps": self.lane_rate_bps,
            "aggregate_rate_bps": self.aggregate_rate_bps,
            "blocks_w": dict(self.blocks_w),
            "off_module": list(self.off_module),
            "total_w": self.total_w,
            "module_w": self.module_w,
            "energy_pj_per_bit": self.energy_pj_per_bit,
            "junction_temperature_c": self.junction_temperature_c,
        }

    def plot(self, ax: Any = None) -> Any:
        """Stacked bar of the blocks (W); returns the matplotlib Axes (see :func:`plot_breakdowns`)."""
        return plot_breakdowns([self], ax=ax)


def plot_breakdowns(
    breakdowns: Sequence[PowerBreakdown],
    *,
    ax: Any = None,
    labels: Sequence[str] | None = None,
    per_bit: bool = False,
) -> Any:
    """Stacked bars, one per breakdown, blocks in :data:`BLOCKS` order (W, or pJ/bit if ``per_bit``).

    Off-module blocks are hatched.  Returns the matplotlib Axes.

    Raises
    ------
    InvalidParameter
        Empty ``breakdowns`` or ``labels`` of the wrong length.
    """
    import matplotlib.pyplot as plt

    items = list(breakdowns)
    if not items or not all(isinstance(b, PowerBreakdown) for b in items):
        raise InvalidParameter("breakdowns must be a non-empty sequence of PowerBreakdown")
    names = list(labels) if labels is not None else [
        f"{b.architecture} {b.n_lanes}x{b.lane_rate_bps / 1e9:g}G" for b in items
    ]
    if len(names) != len(items):
        raise InvalidParameter(f"labels has {len(names)} entries for {len(items)} breakdowns")
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.4 * len(items), 4.5))
    x = np.arange(len(items))
    bottom = np.zeros(len(items))
    colours = plt.get_cmap("tab10")
    for i, block in enumerate(BLOCKS):
        vals = np.array([(b.blocks_pj_per_bit if per_bit else b.blocks_w).get(block, 0.0) for b in items])
        if not np.any(vals > 0):
            continue
        hatch = ["//" if block in b.off_module else "" for b in items]
        bars = ax.bar(x, vals, bottom=bottom, label=block, color=colours(i % 10), width=0.6)
        for bar, h in zip(bars, hatch):
            bar.set_hatch(h)
        bottom += vals
    ax.set_xticks(x, names)
    ax.set_ylabel("energy per bit (pJ/bit)" if per_bit else "power (W)")
    ax.legend(fontsize="small", loc="upper right")
    return ax


# --- the model -----------------------------------------------------------------------------
def module_power(
    params: ModulePowerParams | str = "dsp",
    *,
    n_lanes: int = 8,
    lane_rate_bps: float = 100e9,
    dsp_node: str = "7nm",
    heater_power_w_per_lane: float | None = None,
    laser_optical_power_w: float | None = None,
    laser_bias_current_a: float | None = None,
    laser_forward_voltage_v: float | None = None,
    tec_delta_t_k: float | None = None,
    junction_temperature_c: float | None = None,
    tec_ambient_c: float | None = None,
) -> PowerBreakdown:
    """Power breakdown of a transceiver (equations in the module docstring).

    Parameters
    ----------
    params : ModulePowerParams or str
        A parameter set, or an architecture name for :func:`preset_params` (with ``dsp_node``).
    n_lanes : int
        Optical lanes, >= 1 (8 for 800G DR8 / 1.6T DR8).
    lane_rate_bps : float
        Bit rate per lane (b/s) used for rate-scaled blocks and per-bit figures; 100e9 is the
        nominal 800G-DR8 lane, 200e9 for 1.6T DR8.
    dsp_node : str
        ``"7nm"``, ``"5nm"`` or ``"3nm"``, only when ``params`` is a name.
    heater_power_w_per_lane : float, optional
        Overrides the ring heater power (W per lane), e.g. from :func:`ring_heater_power_w`.
    laser_optical_power_w, laser_bias_current_a, laser_forward_voltage_v : float, optional
        Override the laser drive (e.g. from a laser model at temperature).
    tec_delta_t_k : float, optional
        Overrides the TEC's ΔT (K) (only matters when the TEC is ``cooled``).
    tec_ambient_c : float, optional
        Ambient (°C) of a TEC that holds its laser at ``params.tec.set_point_c``: the TEC
        block is then :func:`tec_hold_power_w` (cooling above the set point, heating below);
        :func:`module_power_at_case` passes the case temperature.  Not with ``tec_delta_t_k``.
    junction_temperature_c : float, optional
        Junction temperature (°C) of the DSP, driver and TIA: their blocks are scaled by
        ``params.leakage.factor(T_j)``; default their nominal figures (see
        :func:`module_power_at_case` for the self-consistent ``T_j``).

    Returns
    -------
    PowerBreakdown

    Raises
    ------
    InvalidParameter, InvalidType
        Bad values (see the parameter classes) or an unknown architecture.

    Examples
    --------
    >>> b = module_power("dsp", n_lanes=8, lane_rate_bps=100e9)
    >>> 12 < b.total_w < 18
    True
    """
    if isinstance(params, str):
        p = preset_params(params, dsp_node=dsp_node)
    elif isinstance(params, ModulePowerParams):
        p = params
    else:
        raise InvalidType(f"params must be ModulePowerParams or an architecture name, got {type(params).__name__}")
    n = validate.integer("n_lanes", n_lanes, 1)
    rate = validate.positive("lane_rate_bps", lane_rate_bps, "b/s")
    laser_changes: dict[str, Any] = {}
    if laser_optical_power_w is not None:
        laser_changes["optical_power_w"] = laser_optical_power_w
    if laser_bias_current_a is not None or laser_forward_voltage_v is not None:
        # one of the two may be given alone: the other keeps the parameter set's value
        laser_changes["bias_current_a"] = (
            laser_bias_current_a if laser_bias_current_a is not None else p.laser.bias_current_a
        )
        laser_changes["forward_voltage_v"] = (
            laser_forward_voltage_v if laser_forward_voltage_v is not None else p.laser.forward_voltage_v
        )
    laser = dataclasses.replace(p.laser, **laser_changes) if laser_changes else p.laser
    if tec_ambient_c is not None and tec_delta_t_k is not None:
        raise InvalidParameter("give tec_ambient_c (a TEC holding its set point) or tec_delta_t_k, not both")
    tec = p.tec if tec_delta_t_k is None else dataclasses.replace(p.tec, delta_t_k=tec_delta_t_k)
    heater = p.heater_power_w_per_lane
    if heater_power_w_per_lane is not None:
        heater = validate.non_negative("heater_power_w_per_lane", heater_power_w_per_lane, "W")

    leak = 1.0 if junction_temperature_c is None else p.leakage.factor(junction_temperature_c)

    n_lasers = math.ceil(n / laser.lanes_per_laser)
    laser_w = n_lasers * laser.electrical_power_w
    heat_on_tec = n_lasers * (laser.electrical_power_w - laser.optical_power_w)
    blocks = {
        "dsp": p.dsp_energy_pj_per_bit * 1e-12 * rate * n * leak,
        "driver": p.driver_energy_pj_per_bit * 1e-12 * rate * n * leak,
        "tia": p.tia_energy_pj_per_bit * 1e-12 * rate * n * leak,
        "laser": laser_w,
        "modulator_bias": p.modulator_bias_w_per_lane * n,
        "ring_heater": heater * n,
        "tec": (tec_hold_power_w(heat_on_tec, tec_ambient_c, tec)
                if tec_ambient_c is not None and tec.set_point_c is not None else tec_power_w(heat_on_tec, tec)),
        "controller": p.controller_w,
    }
    off = ("laser", "tec") if laser.external else ()
    on_module = sum(v for k, v in blocks.items() if k not in off)
    blocks["power_conversion"] = on_module * (1.0 / p.conversion_efficiency - 1.0)
    if not all(math.isfinite(v) for v in blocks.values()) or not math.isfinite(sum(blocks.values())):
        raise InvalidParameter(
            f"n_lanes = {n} x lane_rate_bps = {rate:g} b/s gives a module power that is not finite"
        )
    return PowerBreakdown(
        architecture=p.architecture,
        n_lanes=n,
        lane_rate_bps=rate,
        blocks_w={k: blocks[k] for k in BLOCKS},
        off_module=off,
        junction_temperature_c=None if junction_temperature_c is None else float(junction_temperature_c),
        launched_power_w=0.0 if laser.external else n_lasers * laser.optical_power_w,
    )


def module_power_at_case(
    params: ModulePowerParams | str = "dsp", *, case_temperature_c: float, dsp_node: str = "7nm", **overrides: Any,
) -> PowerBreakdown:
    """Module power with the electronics at their self-consistent junction temperature.

    ``T_j = T_case + R_th * P_diss(T_j)`` (:func:`solve_self_heating`), ``P_diss`` the
    :attr:`PowerBreakdown.dissipated_w` of :func:`module_power` at ``T_j`` and ``R_th`` the
    parameter set's ``thermal_resistance_k_per_w``.  A TEC with a ``set_point_c`` sees the
    case temperature as its ambient (``tec_ambient_c``, unless given or ``tec_delta_t_k`` is).

    Parameters
    ----------
    params : ModulePowerParams or str
        As for :func:`module_power`.
    case_temperature_c : float
        Module case temperature in °C.
    dsp_node : str
        As for :func:`module_power`.
    **overrides
        The other keyword arguments of :func:`module_power` (``n_lanes``, ``lane_rate_bps``,
        laser drive, heater, TEC), except ``junction_temperature_c``.

    Returns
    -------
    PowerBreakdown
        At the solved junction temperature (its ``junction_temperature_c``).

    Raises
    ------
    InvalidParameter
        Bad inputs (see :func:`module_power`) or thermal runaway.

    Examples
    --------
    >>> b = module_power_at_case("dsp", case_temperature_c=70.0)
    >>> abs(b.junction_temperature_c - 70.0 - b.dissipated_w * 0.5) < 1e-5      # T_j - T_case = R_th P
    True
    """
    if "junction_temperature_c" in overrides:
        raise InvalidParameter("module_power_at_case solves junction_temperature_c; do not pass it")
    p = preset_params(params, dsp_node=dsp_node) if isinstance(params, str) else params
    if not isinstance(p, ModulePowerParams):
        raise InvalidType(f"params must be ModulePowerParams or an architecture name, got {type(params).__name__}")

    if p.tec.set_point_c is not None and "tec_ambient_c" not in overrides and overrides.get("tec_delta_t_k") is None:
        overrides = {**overrides, "tec_ambient_c": case_temperature_c}

    def dissipated(t: float) -> float:
        return module_power(p, junction_temperature_c=t, **overrides).dissipated_w

    sol = solve_self_heating(dissipated, case_temperature_c, p.thermal_resistance_k_per_w)
    return module_power(p, junction_temperature_c=sol.temperature_c, **overrides)
