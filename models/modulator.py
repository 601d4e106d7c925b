"""Optical modulators: silicon travelling-wave MZM, all-pass microring, ideal intensity
modulator, and an EML-like source (DFB + ideal modulator with chirp).

Every modulator is a frozen parameter set with ``modulate(light, drive, ...) -> OpticalField``:
``light`` is the CW :class:`~models.laser.OpticalField` from the laser and ``drive`` a voltage
:class:`optics.Waveform` (e.g. from :class:`models.electrical.Pam4Driver`) at the same sample
rate and length.  The electro-optic bandwidth acts on the drive (a linear low-pass before the
non-linear transfer, :mod:`models.response`), which is the usual lumped approximation.

Chirp: with the field convention of :class:`~models.laser.OpticalField`, a transient chirp
parameter α (Henry / Koch & Bowers, ``α = 2P·(dφ/dt)/(dP/dt)``) corresponds to the phase
``φ(t) = (α/2)·ln(P(t)/P̄)``.  With this sign, dispersion ``D > 0`` and ``α > 0`` move the
first power-fading notch to lower frequencies (see :mod:`models.fiber`).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from models import response
from models.laser import C_M_PER_S, DfbLaser, OpticalField
from optics import validate
from optics.errors import InvalidParameter
from optics.waveform import Quantity, Waveform


def _check_drive(light: OpticalField, drive: Waveform) -> np.ndarray:
    if not isinstance(drive, Waveform):
        raise InvalidParameter(f"drive must be an optics.Waveform of voltage, got {type(drive).__name__}")
    if drive.quantity is not Quantity.VOLTAGE:
        raise InvalidParameter(f"drive must be a voltage waveform, got {drive.quantity.label}")
    if drive.n_samples != light.n_samples or not math.isclose(
        drive.sample_rate_hz, light.sample_rate_hz, rel_tol=1e-9
    ):
        raise InvalidParameter(
            f"drive ({drive.n_samples} samples at {drive.sample_rate_hz:g} Hz) does not match the light "
            f"({light.n_samples} samples at {light.sample_rate_hz:g} Hz)"
        )
    return drive.samples


def is_single_precision(precision: str) -> bool:
    """True for ``"single"``, False for ``"double"``; anything else is an error."""
    if precision not in ("single", "double"):
        raise InvalidParameter(f"precision = {precision!r}; allowed: 'double', 'single'")
    return precision == "single"


def _apply_chirp(amplitude: np.ndarray, power: np.ndarray, alpha: float) -> np.ndarray:
    """Field ``amplitude·exp(j(α/2)ln(P/P̄))``; P floored at 1e-12·P̄ inside the log."""
    if alpha == 0.0:
        return amplitude
    pbar = float(np.mean(power))
    phase = 0.5 * alpha * np.log(np.maximum(power, 1e-12 * pbar) / pbar)
    return amplitude * np.exp(1j * phase)


def _carry(light: OpticalField, drive: Waveform, field: np.ndarray, **meta: object) -> OpticalField:
    return dataclasses.replace(
        light,
        field=field,
        symbol_rate_baud=drive.symbol_rate_baud or light.symbol_rate_baud,
        pattern=drive.pattern if drive.pattern is not None else light.pattern,
        meta={**light.meta, **meta},
    )


#: Thermo-optic coefficient of bulk silicon near 1.3-1.55 µm, 1/K (Cocorullo & Rendina,
#: Electron. Lett. 28, 83 (1992); reference notes §2.2: 1.8-1.87e-4 /K).
SILICON_DN_DT_PER_K = 1.8e-4


@dataclasses.dataclass(frozen=True)
class MzmBiasState:
    """Result of :meth:`MachZehnderModulator.bias_state`.

    Attributes
    ----------
    drift_rad : float
        Open-loop drift of θ from the set point, rad.
    bias_v : float
        Bias voltage the loop applies (clipped to the range), V.
    error_rad : float
        Residual bias error ε_b of θ (operating bias minus set point), rad.
    limited : bool
        True if the loop is at its voltage range and does not hold the set point.
    reason : str
        Empty unless ``limited``.
    """

    drift_rad: float
    bias_v: float
    error_rad: float
    limited: bool
    reason: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class MachZehnderModulator:
    """Push-pull silicon travelling-wave Mach-Zehnder modulator (carrier depletion).

    Transfer (``silicon-photonics-parameters.md`` §2.1): with ``θ = π·V/(2Vπ) + φ_b`` and
    arm-amplitude imbalance ``δ = 10^(−ER_s/20)`` (giving a static extinction ``ER_s``),

    ``E_out = sqrt(IL)·E_in·[(1+δ)e^{jθ} + (1−δ)e^{−jθ}]/2``,
    ``|E_out|² = IL·P_in·(cos²θ + δ²·sin²θ)``, with ``Vπ = VπL/L``.

    At ``φ_b = −π/4`` (quadrature, rising slope) ``P = IL·P_in/2·(1 + sin(πV/Vπ))``: the sine
    compresses the outer PAM4 levels.  An extra chirp α adds ``φ = (α/2)ln(P/P̄)``.
    EO response: low-pass of ``eo_bandwidth_hz`` with ``eo_shape`` on the drive voltage.

    Parameters
    ----------
    vpi_l_v_m : float
        Phase-shifter efficiency VπL in V·m (default 0.02 V·m = 2 V·cm; 1.5-2.5 V·cm for O-band
        depletion modulators, Kim et al. JJAP 2021), > 0.
    length_m : float
        Phase-shifter length in m (default 3 mm), > 0.
    bias_phase_rad : float
        Bias phase φ_b in rad (default −π/4, quadrature).
    insertion_loss_db : float
        Optical insertion loss in dB (default 5 dB), >= 0.
    static_extinction_db : float
        Static extinction ratio ER_s in dB (default 30 dB), > 0.
    eo_bandwidth_hz : float
        3 dB electro-optic bandwidth in Hz (default 45 GHz), > 0.
    eo_shape : str
        Roll-off shape, one of :data:`models.response.SHAPES` (default ``"first-order"``).
    chirp_alpha : float
        Transient chirp α (default 0, push-pull), −10...10.
    arm_imbalance_m : float
        Path-length difference ΔL of the arms in m (default 0: balanced, no thermal drift),
        −1e-2...1e-2.
    dn_dt_per_k : float
        Thermo-optic coefficient dn_eff/dT of the arms in 1/K (default 1.8e-4, bulk Si:
        Cocorullo & Rendina, Electron. Lett. 28, 83 (1992); 1.8-1.87e-4 in the reference notes
        §2.2; confinement taken as 1, ASSUMPTION), 0...1e-3.
    temperature_ref_c : float
        Chip temperature in °C at which the bias loop's set point was trimmed (drift zero and
        Vπ, bandwidth as given; default 25), −60...200.
    bias_loop_gain : float
        DC loop gain G of the bias controller (dither/pilot-tone lock-in driving the bias
        electrode, modelled as a proportional loop): the residual bias error is the open-loop
        drift over ``1 + G`` (default 50, ASSUMPTION: with the presets' 50 µm imbalance about
        2° of the transfer's phase ``2θ`` at ±45 K from the trim, the accuracy dither bias
        controllers are quoted at, UNVERIFIED), 0 < G <= 1e12, or ``math.inf``: perfect hold
        within the range.
    bias_vpi_v : float
        DC half-wave voltage of the bias electrode in V (a correction ``π·V_b/(2·Vπ,b)`` of θ;
        default 3 V, ASSUMPTION), > 0.
    bias_max_v : float
        Bias voltage range ``|V_b| <= bias_max_v`` in V (default 4 V, ASSUMPTION: 2π/3 of θ,
        two thirds of a period of the transfer), >= 0.  A drift needing more is not held: the bias is
        clipped and :meth:`bias_state` says ``limited``.
    vpi_l_tempco_per_k : float
        Relative change of VπL per K, ``VπL(T) = VπL·(1 + c·(T − T_ref))`` (default 0;
        −0.05...0.05).  Depletion width ``W ∝ sqrt(V_bi + V_R)`` with ``dV_bi/dT ≈ −1.8 mV/K``
        (Sze, *Physics of Semiconductor Devices*) gives ``c ≈ −3e-4/K`` at V_bi + V_R ≈ 3 V:
        a derived ASSUMPTION (the reference notes say "Vπ roughly constant").
    eo_bandwidth_tempco_per_k : float
        Relative change of the EO bandwidth per K, ``f(T) = f·(1 + c·(T − T_ref))`` (default 0;
        −0.05...0.05).  Series resistance of the doped slab rises with T (mobility ∝ T^−1.5 in
        lightly doped Si, weaker at 1e18 cm⁻³) while the junction capacitance rises slightly:
        ``c ≈ −1e-3/K`` is an ASSUMPTION (RC part of a travelling-wave electrode's roll-off).

    Temperature (:meth:`bias_state`, :meth:`at_temperature`): the arms' phase difference drifts
    by ``dΔφ/dT = 2π/λ·dn/dT·ΔL``, i.e. θ by ``Δθ_d = π·dn/dT·ΔL·(T − T_ref)/λ`` (θ is half the
    arm difference); the bias loop applies ``θ_c = −G/(1+G)·Δθ_d`` through ``V_b`` clipped to
    ``±bias_max_v``, leaving ``ε_b = Δθ_d + θ_c`` at the operating point ``φ_b + ε_b``.  The
    laser-wavelength term ``−2π·n_g·ΔL·Δλ/λ²`` of an on-chip laser is not modelled.
    """

    vpi_l_v_m: float = 0.02
    length_m: float = 3e-3
    bias_phase_rad: float = -math.pi / 4
    insertion_loss_db: float = 5.0
    static_extinction_db: float = 30.0
    eo_bandwidth_hz: float = 45e9
    eo_shape: str = "first-order"
    chirp_alpha: float = 0.0
    arm_imbalance_m: float = 0.0
    dn_dt_per_k: float = SILICON_DN_DT_PER_K
    temperature_ref_c: float = 25.0
    bias_loop_gain: float = 50.0
    bias_vpi_v: float = 3.0
    bias_max_v: float = 4.0
    vpi_l_tempco_per_k: float = 0.0
    eo_bandwidth_tempco_per_k: float = 0.0

    def __post_init__(self) -> None:
        validate.positive("vpi_l_v_m", self.vpi_l_v_m, "V·m")
        validate.positive("length_m", self.length_m, "m")
        validate.in_range("bias_phase_rad", self.bias_phase_rad, -math.pi, math.pi, unit="rad")
        validate.non_negative("insertion_loss_db", self.insertion_loss_db, "dB")
        validate.in_range("static_extinction_db", self.static_extinction_db, 0.0, 100.0, low_inclusive=False, unit="dB")
        validate.positive("eo_bandwidth_hz", self.eo_bandwidth_hz, "Hz")
        response.check_shape("eo_shape", self.eo_shape)
        validate.in_range("chirp_alpha", self.chirp_alpha, -10.0, 10.0)
        validate.in_range("arm_imbalance_m", self.arm_imbalance_m, -1e-2, 1e-2, unit="m")
        validate.in_range("dn_dt_per_k", self.dn_dt_per_k, 0.0, 1e-3, unit="1/K")
        validate.in_range("temperature_ref_c", self.temperature_ref_c, -60.0, 200.0, unit="°C")
        if self.bias_loop_gain != math.inf:  # inf: an ideal (integrating) loop
            validate.in_range("bias_loop_gain", self.bias_loop_gain, 0.0, 1e12, low_inclusive=False)
        validate.positive("bias_vpi_v", self.bias_vpi_v, "V")
        validate.non_negative("bias_max_v", self.bias_max_v, "V")
        validate.in_range("vpi_l_tempco_per_k", self.vpi_l_tempco_per_k, -0.05, 0.05, unit="1/K")
        validate.in_range("eo_bandwidth_tempco_per_k", self.eo_bandwidth_tempco_per_k, -0.05, 0.05, unit="1/K")

    @property
    def eo_key(self) -> tuple[float, str]:
        """What :meth:`eo_response` depends on (a cache key that ignores the bias)."""
        return (self.eo_bandwidth_hz, self.eo_shape)

    @property
    def temperature_dependent(self) -> bool:
        """True if the bias, Vπ or the bandwidth change with the chip temperature."""
        return self.arm_imbalance_m != 0.0 or self.vpi_l_tempco_per_k != 0.0 or self.eo_bandwidth_tempco_per_k != 0.0

    def bias_state(self, temperature_c: float, wavelength_m: float = 1.31e-6) -> MzmBiasState:
        """The bias loop at chip ``temperature_c`` (°C) for light at ``wavelength_m`` (m).

        ``Δθ_d = π·dn/dT·ΔL·(T − T_ref)/λ``; wanted correction ``θ_c = −G/(1+G)·Δθ_d``, i.e.
        ``V_b = θ_c·2·Vπ,b/π``, clipped to ``±bias_max_v``; error ``ε_b = Δθ_d + θ_c(V_b)``.

        Raises
        ------
        InvalidParameter
            Non-finite temperature, wavelength outside 0.8-2 µm.
        """
        t = validate.real("temperature_c", temperature_c)
        lam = validate.in_range("wavelength_m", wavelength_m, 0.8e-6, 2.0e-6, unit="m")
        drift = math.pi * self.dn_dt_per_k * self.arm_imbalance_m * (t - self.temperature_ref_c) / lam
        g = self.bias_loop_gain
        want = -drift if math.isinf(g) else -drift * g / (1.0 + g)
        v_want = want * 2.0 * self.bias_vpi_v / math.pi
        v_b = min(max(v_want, -self.bias_max_v), self.bias_max_v) + 0.0  # no −0.0
        limited = v_b != v_want
        error = drift + math.pi * v_b / (2.0 * self.bias_vpi_v)
        reason = ""
        if limited:
            reason = (
                f"MZM bias loop needs {v_want:+.2f} V at {t:g} °C to hold the set point, beyond the range "
                f"±{self.bias_max_v:g} V (bias_max_v): bias error {error:+.3f} rad"
            )
        return MzmBiasState(drift, v_b, error, limited, reason)

    def at_temperature(self, temperature_c: float, wavelength_m: float = 1.31e-6) -> MachZehnderModulator:
        """The modulator as it runs at chip ``temperature_c`` (°C): a temperature-independent copy
        with bias ``φ_b + ε_b`` (:meth:`bias_state`, wrapped into [−π, π)), ``VπL(T)`` and ``f(T)``;
        ``self`` if nothing changes (e.g. at ``temperature_ref_c``)."""
        st = self.bias_state(temperature_c, wavelength_m)
        dt = float(temperature_c) - self.temperature_ref_c
        k_v = 1.0 + self.vpi_l_tempco_per_k * dt
        k_f = 1.0 + self.eo_bandwidth_tempco_per_k * dt
        if st.error_rad == 0.0 and k_v == 1.0 and k_f == 1.0:
            return self
        if not (k_v > 0.0 and k_f > 0.0):
            raise InvalidParameter(
                f"temperature_c = {temperature_c:g} °C is {dt:+g} K from temperature_ref_c: the linear Vπ/bandwidth "
                f"temperature coefficients give a non-positive value there (factors {k_v:.3g}, {k_f:.3g})"
            )
        phase = (self.bias_phase_rad + st.error_rad + math.pi) % (2.0 * math.pi) - math.pi
        return dataclasses.replace(
            self, bias_phase_rad=phase, vpi_l_v_m=self.vpi_l_v_m * k_v, eo_bandwidth_hz=self.eo_bandwidth_hz * k_f,
            arm_imbalance_m=0.0, vpi_l_tempco_per_k=0.0, eo_bandwidth_tempco_per_k=0.0, temperature_ref_c=float(temperature_c),
        )

    @property
    def vpi_v(self) -> float:
        """Half-wave voltage ``Vπ = VπL / L`` in V."""
        return self.vpi_l_v_m / self.length_m

    def power_transfer(self, voltage_v: np.ndarray | float) -> np.ndarray:
        """Static power transmission ``IL·(cos²θ + δ² sin²θ)`` at drive ``voltage_v`` (V)."""
        theta = math.pi * np.asarray(voltage_v, dtype=np.float64) / (2.0 * self.vpi_v) + self.bias_phase_rad
        d2 = 10.0 ** (-self.static_extinction_db / 10.0)
        c = np.cos(theta)
        return 10.0 ** (-self.insertion_loss_db / 10.0) * (c * c + d2 * (1.0 - c * c))

    def modulate(self, light: OpticalField, drive: Waveform) -> OpticalField:
        """Modulate ``light`` with the voltage ``drive`` (see class docstring).

        Raises
        ------
        InvalidParameter
            Drive not a voltage waveform matching the light, or sample rate below twice
            ``eo_bandwidth_hz``.
        """
        v = _check_drive(light, drive)
        v = response.apply_lowpass(v, light.sample_rate_hz, self.eo_bandwidth_hz, self.eo_shape, name="eo_bandwidth_hz")
        return self.modulate_filtered(light, v, drive)

    def eo_response(self, freq_hz: np.ndarray) -> np.ndarray:
        """Complex EO response applied to the drive at ``freq_hz`` (Hz)."""
        return response.lowpass_response(freq_hz, self.eo_bandwidth_hz, self.eo_shape)

    def transfer(self, v: np.ndarray, *, precision: str = "double") -> np.ndarray:
        """Complex field transmission for a drive ``v`` (V) already filtered by :meth:`eo_response`.

        ``sqrt(IL)·(cos θ + jδ sin θ)`` times the chirp phase ``exp(j(α/2)ln(|t|²/mean|t|²))``.
        ``precision="single"`` takes the cosine and sine of a float32 ``θ`` (numpy's SIMD
        kernels, ~20x faster than the float64 ones on this project's machines) and returns
        complex64: the field moves by about 1e-7 of its peak (see
        :class:`models.link.SimulationSettings`); complex128 otherwise.
        """
        theta = (math.pi / (2.0 * self.vpi_v)) * v + self.bias_phase_rad
        delta = 10.0 ** (-self.static_extinction_db / 20.0)
        amp = math.sqrt(10.0 ** (-self.insertion_loss_db / 10.0))
        # [(1+δ)e^{jθ} + (1−δ)e^{−jθ}]/2 = cosθ + jδ·sinθ
        if is_single_precision(precision):
            theta32 = np.asarray(theta, dtype=np.float32)
            t = np.empty(theta32.shape, dtype=np.complex64)
            np.multiply(np.cos(theta32), np.float32(amp), out=t.real)
            np.multiply(np.sin(theta32), np.float32(amp * delta), out=t.imag)
        else:
            t = amp * (np.cos(theta) + 1j * delta * np.sin(theta))
        if self.chirp_alpha != 0.0:
            t = _apply_chirp(t, t.real**2 + t.imag**2, self.chirp_alpha)
        return t

    def modulate_filtered(self, light: OpticalField, v: np.ndarray, drive: Waveform) -> OpticalField:
        """Static transfer applied to a drive ``v`` (V) already filtered by :meth:`eo_response`."""
        field = light.field * self.transfer(v)
        return _carry(light, drive, field, modulator="mzm", vpi_v=self.vpi_v)


@dataclasses.dataclass(frozen=True, kw_only=True)
class IdealIntensityModulator:
    """Linear intensity modulator with a given extinction ratio, chirp and bandwidth.

    ``P_out = IL·P_in·[P_lo + (1 − P_lo)·(V/swing + 1/2)]`` with ``P_lo = 10^(−ER/10)``: a drive
    of ``−swing/2`` gives the "0" level ``IL·P_in/ER`` and ``+swing/2`` the "1" level ``IL·P_in``.
    The bandwidth (if given) filters the drive.  Chirp α: ``φ = (α/2)·ln(P/P̄)``.

    Parameters
    ----------
    extinction_ratio_db : float
        Extinction ratio between the drive extremes in dB, > 0 (default 5 dB).
    swing_v : float
        Peak-to-peak drive in V mapped onto the full extinction (default 1 V), > 0.
    insertion_loss_db : float
        Insertion loss in dB (default 0), >= 0.
    chirp_alpha : float
        Transient chirp α (default 0), −10...10.
    bandwidth_hz : float or None
        3 dB bandwidth in Hz (None: unlimited).
    shape : str
        Roll-off shape (default ``"first-order"``).

    Raises
    ------
    InvalidParameter
        ER <= 0 dB; a drive that overshoots below the zero-power point.
    """

    extinction_ratio_db: float = 5.0
    swing_v: float = 1.0
    insertion_loss_db: float = 0.0
    chirp_alpha: float = 0.0
    bandwidth_hz: float | None = None
    shape: str = "first-order"

    def __post_init__(self) -> None:
        validate.in_range("extinction_ratio_db", self.extinction_ratio_db, 0.0, 60.0, low_inclusive=False, unit="dB")
        validate.positive("swing_v", self.swing_v, "V")
        validate.non_negative("insertion_loss_db", self.insertion_loss_db, "dB")
        validate.in_range("chirp_alpha", self.chirp_alpha, -10.0, 10.0)
        if self.bandwidth_hz is not None:
            validate.positive("bandwidth_hz", self.bandwidth_hz, "Hz")
        response.check_shape("shape", self.shape)

    def modulate(self, light: OpticalField, drive: Waveform) -> OpticalField:
        """Modulate ``light`` with ``drive`` (V); see class docstring."""
        v = _check_drive(light, drive)
        if self.bandwidth_hz is not None:
            v = response.apply_lowpass(v, light.sample_rate_hz, self.bandwidth_hz, self.shape)
        return self.modulate_filtered(light, v, drive)

    @property
    def eo_key(self) -> tuple[float | None, str]:
        """What :meth:`eo_response` depends on (a cache key)."""
        return (self.bandwidth_hz, self.shape)

    def eo_response(self, freq_hz: np.ndarray) -> np.ndarray:
        """Complex response applied to the drive at ``freq_hz`` (Hz); 1 without a bandwidth."""
        if self.bandwidth_hz is None:
            return np.ones(np.shape(freq_hz), dtype=np.complex128)
        return response.lowpass_response(freq_hz, self.bandwidth_hz, self.shape)

    def transfer(self, v: np.ndarray, *, precision: str = "double") -> np.ndarray:
        """Complex field transmission ``sqrt(T(v))·exp(j(α/2)ln(T/mean T))`` for a filtered drive (V).

        ``precision`` is accepted for the common signature; this transfer has no trigonometry
        and is computed in double precision.

        Raises
        ------
        InvalidParameter
            The drive overshoots below the zero-power point.
        """
        is_single_precision(precision)
        p_lo = 10.0 ** (-self.extinction_ratio_db / 10.0)
        t = 10.0 ** (-self.insertion_loss_db / 10.0) * (p_lo + (1.0 - p_lo) * (v / self.swing_v + 0.5))
        if float(np.min(t)) < 0.0:
            raise InvalidParameter(
                f"drive reaches {float(np.min(v)):g} V, below −swing_v/2 = {-self.swing_v / 2:g} V by more "
                f"than the extinction allows: the ideal modulator would need negative power"
            )
        return _apply_chirp(np.sqrt(t).astype(np.complex128), t, self.chirp_alpha)

    def modulate_filtered(self, light: OpticalField, v: np.ndarray, drive: Waveform) -> OpticalField:
        """Static transfer applied to a drive ``v`` (V) already filtered by :meth:`eo_response`."""
        field = light.field * self.transfer(v)
        return _carry(light, drive, field, modulator="ideal")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ElectroAbsorptionModulatedLaser:
    """EML-like source: a DFB followed by a chirped linear intensity modulator.

    Directly usable as a transmitter optical source: ``modulate(drive, ...)`` needs no
    separate CW field.  EA-edge temperature dependence is not modelled (EMLs are usually on a
    TEC, ``silicon-photonics-parameters.md`` §1).

    Parameters
    ----------
    laser : DfbLaser
        The CW section.
    modulator : IdealIntensityModulator
        The EA section (typical EML chirp α ≈ 0...1, UNVERIFIED).
    """

    laser: DfbLaser = dataclasses.field(default_factory=DfbLaser)
    modulator: IdealIntensityModulator = dataclasses.field(
        default_factory=lambda: IdealIntensityModulator(extinction_ratio_db=6.0, chirp_alpha=0.5, bandwidth_hz=50e9)
    )

    def __post_init__(self) -> None:
        if not isinstance(self.laser, DfbLaser):
            raise InvalidParameter(f"laser must be a DfbLaser, got {type(self.laser).__name__}")
        if not isinstance(self.modulator, IdealIntensityModulator):
            raise InvalidParameter(f"modulator must be an IdealIntensityModulator, got {type(self.modulator).__name__}")

    def modulate(
        self, drive: Waveform, *, temperature_c: float | None = None, rng: np.random.Generator | None = None
    ) -> OpticalField:
        """Emit the laser field (with RIN if ``rng``) and modulate it with ``drive`` (V)."""
        light = self.laser.emit(drive.n_samples, drive.sample_rate_hz, temperature_c=temperature_c, rng=rng)
        return self.modulator.modulate(light, drive)


@dataclasses.dataclass(frozen=True)
class RingLock:
    """Result of :meth:`MicroringModulator.lock`.

    Attributes
    ----------
    locked : bool
        True if the heater can hold the resonance at the target.
    heater_power_w : float
        Heater power needed (W); when not locked, the power it would need (may be < 0 or
        above the range), for reporting.
    required_tuning_m : float
        Red-shift the heater must supply, in m.
    max_tuning_m : float
        Tuning range of the heater, in m.
    resonance_wavelength_m : float
        Resonance wavelength (zero drive) with the heater at ``heater_power_w`` clipped to the
        heater range, in m.
    reason : str
        Empty when locked; otherwise why the lock is lost.
    """

    locked: bool
    heater_power_w: float
    required_tuning_m: float
    max_tuning_m: float
    resonance_wavelength_m: float
    reason: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class MicroringModulator:
    """All-pass microring modulator with thermal drift and a heater lock of finite range.

    Field transmission of the all-pass ring (round-trip amplitude ``a``, self-coupling ``r``,
    round-trip phase detuning ``φ``) (Bogaerts et al., "Silicon microring resonators",
    Laser Photonics Rev. 6, 47 (2012), Eq. 1):

    ``t(φ) = (r − a·e^{jφ}) / (1 − r·a·e^{jφ})``,
    ``|t|² = (a² − 2ra·cos φ + r²)/(1 − 2ar·cos φ + (ra)²)``,  ``φ = 2π(λ_res − λ)/FSR``.

    ``(r, a)`` follow from the loaded Q, the FSR and the on-resonance extinction:
    ``FWHM = λ/Q_L = FSR·(1 − ra)/(π·sqrt(ra))`` fixes ``x = ra``, and
    ``T_min = ((r − a)/(1 − ra))²`` fixes ``r − a`` (``r > a`` under-coupled).

    Resonance: ``λ_res = λ_res,0 + (dλ/dT)(T − T_ref) + η_h·P_heater − s·(dλ/dV)·V(t)`` with
    ``s = sign(bias_detuning_m)`` (positive drive moves the resonance away from the laser).
    Dynamics are quasi-static: the drive is low-passed (first order) at
    ``1/f² = 1/f_RC² + 1/f_p²``, ``f_p = c/(λ·Q_L)`` (photon lifetime); optical peaking of
    detuned rings is not modelled.

    Parameters
    ----------
    resonance_wavelength_m : float
        Unheated resonance at ``temperature_ref_c`` and zero drive, m (default 1309.9 nm).
    loaded_q : float
        Loaded quality factor Q_L (default 5000), 100...1e6.
    extinction_db : float
        On-resonance extinction ``−10·log10(T_min)`` in dB (default 10), > 0.
    fsr_m : float
        Free spectral range in m (default 8.7 nm: R = 7.5 µm, n_g = 4.2), > 0.
    coupling : str
        ``"under"`` (r > a, default) or ``"over"``.
    shift_m_per_v : float
        Resonance shift per volt of drive in m/V (default 25 pm/V, Zhang et al.
        Photon. Res. 10, 1127 (2022) via VπL 0.825 V·cm).
    thermal_shift_m_per_k : float
        dλ_res/dT in m/K (default 0.07 nm/K, O-band, §2.2 of the reference notes), >= 0.
    heater_efficiency_m_per_w : float
        Heater tuning efficiency in m/W (default 1e-7 = 0.1 nm/mW, TiN heater), > 0.
    max_heater_power_w : float
        Heater power range in W (default 60 mW), >= 0.
    bias_detuning_m : float
        Target ``λ_laser − λ_res`` at zero drive in m (default 0.12 nm, on the red slope).
    rc_bandwidth_hz : float
        Electrical (RC) bandwidth in Hz (default 60 GHz), > 0.
    insertion_loss_db : float
        Off-resonance (coupling, waveguide) loss in dB (default 1 dB), >= 0.
    temperature_ref_c : float
        Reference temperature in °C (default 25).
    allow_fsr_hop : bool
        If True the lock may move to the next resonance order (tuning modulo FSR).
    """

    resonance_wavelength_m: float = 1309.9e-9
    loaded_q: float = 5000.0
    extinction_db: float = 10.0
    fsr_m: float = 8.7e-9
    coupling: str = "under"
    shift_m_per_v: float = 25e-12
    thermal_shift_m_per_k: float = 0.07e-9
    heater_efficiency_m_per_w: float = 1e-7
    max_heater_power_w: float = 0.06
    bias_detuning_m: float = 0.12e-9
    rc_bandwidth_hz: float = 60e9
    insertion_loss_db: float = 1.0
    temperature_ref_c: float = 25.0
    allow_fsr_hop: bool = False

    def __post_init__(self) -> None:
        validate.in_range("resonance_wavelength_m", self.resonance_wavelength_m, 0.8e-6, 2.0e-6, unit="m")
        validate.in_range("loaded_q", self.loaded_q, 100.0, 1e6)
        validate.in_range("extinction_db", self.extinction_db, 0.0, 60.0, low_inclusive=False, unit="dB")
        validate.in_range("fsr_m", self.fsr_m, 0.0, 200e-9, low_inclusive=False, unit="m")
        if self.coupling not in ("under", "over"):
            raise InvalidParameter(f"coupling = {self.coupling!r}; allowed: 'under', 'over'")
        validate.in_range("shift_m_per_v", self.shift_m_per_v, -1e-9, 1e-9, unit="m/V")
        validate.in_range("thermal_shift_m_per_k", self.thermal_shift_m_per_k, 0.0, 1e-9, unit="m/K")
        validate.positive("heater_efficiency_m_per_w", self.heater_efficiency_m_per_w, "m/W")
        validate.non_negative("max_heater_power_w", self.max_heater_power_w, "W")
        validate.real("bias_detuning_m", self.bias_detuning_m)
        validate.positive("rc_bandwidth_hz", self.rc_bandwidth_hz, "Hz")
        validate.non_negative("insertion_loss_db", self.insertion_loss_db, "dB")
        validate.real("temperature_ref_c", self.temperature_ref_c)
        fwhm = self.resonance_wavelength_m / self.loaded_q
        if fwhm >= self.fsr_m / 2:
            raise InvalidParameter(
                f"loaded_q = {self.loaded_q:g} gives a linewidth {fwhm:g} m wider than half the FSR "
                f"{self.fsr_m:g} m; raise loaded_q above {2 * self.resonance_wavelength_m / self.fsr_m:g}"
            )

    # --- ring constants ----------------------------------------------------------------
    @property
    def fwhm_m(self) -> float:
        """Resonance full width at half maximum ``λ/Q_L`` in m."""
        return self.resonance_wavelength_m / self.loaded_q

    def coupling_coefficients(self) -> tuple[float, float]:
        """Return ``(r, a)`` from Q_L, FSR and extinction (class docstring)."""
        # (1 − x)/(π sqrt(x)) = FWHM/FSR  ->  with s = sqrt(x): s² + π·g·s − 1 = 0
        g = self.fwhm_m / self.fsr_m
        s = (-math.pi * g + math.sqrt((math.pi * g) ** 2 + 4.0)) / 2.0
        x = s * s
        diff = math.sqrt(10.0 ** (-self.extinction_db / 10.0)) * (1.0 - x)  # r − a  (>0 under-coupled)
        # r·a = x, r − a = diff  ->  r = (diff + sqrt(diff² + 4x))/2
        big = (diff + math.sqrt(diff * diff + 4.0 * x)) / 2.0
        small = x / big
        return (big, small) if self.coupling == "under" else (small, big)

    @property
    def photon_lifetime_bandwidth_hz(self) -> float:
        """``f_p = c/(λ·Q_L)`` in Hz."""
        return C_M_PER_S / (self.resonance_wavelength_m * self.loaded_q)

    @property
    def eo_bandwidth_hz(self) -> float:
        """Combined bandwidth ``(1/f_RC² + 1/f_p²)^(−1/2)`` in Hz."""
        return 1.0 / math.sqrt(self.rc_bandwidth_hz**-2 + self.photon_lifetime_bandwidth_hz**-2)

    def field_transmission(self, detuning_m: np.ndarray | float) -> np.ndarray:
        """Complex through-port transmission at ``detuning = λ − λ_res`` (m), including IL."""
        r, a = self.coupling_coefficients()
        phi = (-2.0 * math.pi / self.fsr_m) * np.asarray(detuning_m, dtype=np.float64)
        e = np.exp(1j * phi)
        il = math.sqrt(10.0 ** (-self.insertion_loss_db / 10.0))
        return il * (r - a * e) / (1.0 - r * a * e)

    def power_transmission(self, detuning_m: np.ndarray | float) -> np.ndarray:
        """``|t|²`` at ``detuning = λ − λ_res`` (m)."""
        t = self.field_transmission(detuning_m)
        return t.real**2 + t.imag**2

    # --- temperature and heater ----------------------------------------------------------
    def unheated_resonance_at(self, temperature_c: float) -> float:
        """Resonance (zero drive, heater off) at ``temperature_c``, m."""
        t = validate.real("temperature_c", temperature_c)
        return self.resonance_wavelength_m + self.thermal_shift_m_per_k * (t - self.temperature_ref_c)

    def lock(self, laser_wavelength_m: float, temperature_c: float) -> RingLock:
        """Heater power that puts the resonance at ``λ_laser − bias_detuning_m``.

        Heaters only red-shift.  Needed tuning ``Δ = λ_laser − bias_detuning − λ_res,unheated(T)``
        (modulo FSR if ``allow_fsr_hop``); the lock holds if ``0 <= Δ <= η_h·P_max``.
        """
        lam = validate.real("laser_wavelength_m", laser_wavelength_m)
        target = lam - self.bias_detuning_m
        need = target - self.unheated_resonance_at(temperature_c)
        if self.allow_fsr_hop:
            need = need % self.fsr_m
        max_tuning = self.heater_efficiency_m_per_w * self.max_heater_power_w
        power = need / self.heater_efficiency_m_per_w
        reason = ""
        if need < 0.0:
            reason = (
                f"ring resonance is {-need * 1e9:.3f} nm red of the target at {temperature_c:g} °C; "
                f"a heater can only red-shift"
            )
        elif need > max_tuning:
            reason = (
                f"ring needs {need * 1e9:.3f} nm ({power * 1e3:.1f} mW) of heater tuning at {temperature_c:g} °C, "
                f"beyond the range {max_tuning * 1e9:.3f} nm (max_heater_power_w = {self.max_heater_power_w:g} W)"
            )
        applied = min(max(power, 0.0), self.max_heater_power_w)
        res = self.unheated_resonance_at(temperature_c) + self.heater_efficiency_m_per_w * applied
        return RingLock(not reason, power, need, max_tuning, res, reason)

    def modulate(self, light: OpticalField, drive: Waveform, *, temperature_c: float | None = None) -> OpticalField:
        """Modulate ``light`` with ``drive`` (V) with the heater locked at ``temperature_c``.

        Raises
        ------
        InvalidParameter
            Lock lost (resonance out of heater range), drive mismatch, or sample rate below
            twice the EO bandwidth.
        """
        v = _check_drive(light, drive)
        response.check_sampling("eo_bandwidth_hz", self.eo_bandwidth_hz, light.sample_rate_hz)
        self.lock_or_raise(light.wavelength_m, temperature_c)
        v = response.apply_lowpass(v, light.sample_rate_hz, self.eo_bandwidth_hz, "first-order", name="eo_bandwidth_hz")
        return self.modulate_filtered(light, v, drive, temperature_c=temperature_c)

    def lock_or_raise(self, laser_wavelength_m: float, temperature_c: float | None = None) -> RingLock:
        """:meth:`lock` at ``temperature_c`` (default reference), raising InvalidParameter if lost."""
        t = self.temperature_ref_c if temperature_c is None else temperature_c
        lk = self.lock(laser_wavelength_m, t)
        if not lk.locked:
            raise InvalidParameter(f"microring lock lost: {lk.reason}")
        return lk

    def transfer(self, v: np.ndarray, *, precision: str = "double") -> np.ndarray:
        """Field transmission of the locked ring for a filtered drive ``v`` (V).

        ``precision`` is accepted for the common signature; the ring is computed in double.

        Locked, ``λ_laser − λ_res = δ_b + s·(dλ/dV)·v`` whatever the temperature, with
        ``s = sign(δ_b)``: the driver is wired so that a positive drive moves the resonance
        away from the laser (more light for higher PAM4 symbols, as an MZM on its rising
        slope).
        """
        is_single_precision(precision)
        s = 1.0 if self.bias_detuning_m >= 0.0 else -1.0
        return self.field_transmission(self.bias_detuning_m + s * self.shift_m_per_v * v)

    @property
    def eo_key(self) -> tuple[float, str]:
        """What :meth:`eo_response` depends on (a cache key)."""
        return (self.eo_bandwidth_hz, "first-order")

    def eo_response(self, freq_hz: np.ndarray) -> np.ndarray:
        """First-order response at :attr:`eo_bandwidth_hz` applied to the drive."""
        return response.lowpass_response(freq_hz, self.eo_bandwidth_hz, "first-order")

    def modulate_filtered(
        self, light: OpticalField, v: np.ndarray, drive: Waveform, *, temperature_c: float | None = None
    ) -> OpticalField:
        """Ring transfer applied to a drive ``v`` (V) already filtered by :meth:`eo_response`."""
        lk = self.lock_or_raise(light.wavelength_m, temperature_c)
        field = light.field * self.transfer(v)
        return _carry(light, drive, field, modulator="microring", heater_power_w=lk.heater_power_w)
