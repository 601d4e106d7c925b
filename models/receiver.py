"""Optical receiver: germanium photodiode and transimpedance amplifier (TIA).

Photocurrent and noise (Agrawal, *Fiber-Optic Communication Systems*, 4th ed., §4.4):

* ``I(t) = R·P(t) + I_d(T)``, responsivity R in A/W;
* dark current ``I_d(T) = I_d,ref · k^((T − T_ref)/10 K)``, k = 1.6-1.9 per 10 K for Ge
  (Colace et al., JLT 26, 2211 (2008); Balbi et al., Physica E 41, 1086 (2009)); default 1.8;
* shot noise: white, one-sided PSD ``2q·I(t)`` (signal dependent), so ``σ² = 2q·I·B`` in a
  noise bandwidth B.  In the sampled model the noise is drawn over the full simulated band
  (``B = fs/2``, variance ``q·I·fs`` per sample) and then filtered by the PD and TIA responses;
* TIA thermal noise: white input-referred density ``i_n`` (A/√Hz), ``σ² = i_n²·B``, added at the
  TIA input (filtered by the TIA response only);
* output voltage ``V = Z_T·i_filtered``.  The TIA raises an error when the peak input current
  exceeds its overload current.

Both responses are :mod:`models.response` low-pass filters, applied in one rfft pass.  Laser RIN
arrives with the optical power; the receiver adds shot and thermal noise.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import optimize, special

from models import gaussian, response
from models.laser import OpticalField
from optics import validate
from optics.errors import InvalidParameter
from optics.waveform import Quantity, Waveform

#: Elementary charge in C.
Q_E = 1.602176634e-19


@dataclasses.dataclass(frozen=True, kw_only=True)
class Photodiode:
    """Germanium waveguide photodiode.

    Parameters
    ----------
    responsivity_a_per_w : float
        Responsivity in A/W (default 0.85; IMEC Ge PD 0.96 A/W at 1310 nm, less coupling
        loss, UNVERIFIED), 0 < R <= 1.6.
    dark_current_a : float
        Dark current at ``temperature_ref_c`` in A (default 10 nA), >= 0.
    dark_current_factor_per_10k : float
        Dark-current growth per 10 K (default 1.8), >= 1.
    bandwidth_hz : float
        3 dB bandwidth in Hz (default 50 GHz), > 0.
    shape : str
        Response shape (default ``"first-order"``).
    temperature_ref_c : float
        Reference temperature in °C (default 25).
    shot_noise : bool
        Add shot noise when a receiver is given an ``rng`` (default True; switch off to
        study thermal noise alone).
    """

    responsivity_a_per_w: float = 0.85
    dark_current_a: float = 10e-9
    dark_current_factor_per_10k: float = 1.8
    bandwidth_hz: float = 50e9
    shape: str = "first-order"
    temperature_ref_c: float = 25.0
    shot_noise: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.shot_noise, bool):
            raise InvalidParameter(f"shot_noise must be True or False, got {self.shot_noise!r}")
        validate.in_range("responsivity_a_per_w", self.responsivity_a_per_w, 0.0, 1.6, low_inclusive=False, unit="A/W")
        validate.non_negative("dark_current_a", self.dark_current_a, "A")
        validate.in_range("dark_current_factor_per_10k", self.dark_current_factor_per_10k, 1.0, 10.0)
        validate.positive("bandwidth_hz", self.bandwidth_hz, "Hz")
        response.check_shape("shape", self.shape)
        validate.real("temperature_ref_c", self.temperature_ref_c)

    def dark_current_at(self, temperature_c: float) -> float:
        """``I_d(T) = I_d,ref·k^((T − T_ref)/10)`` in A."""
        t = validate.real("temperature_c", temperature_c)
        return self.dark_current_a * self.dark_current_factor_per_10k ** ((t - self.temperature_ref_c) / 10.0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Tia:
    """Transimpedance amplifier.

    Parameters
    ----------
    transimpedance_ohm : float
        Gain Z_T in Ω (default 2000 Ω = 66 dBΩ), > 0.
    input_noise_density_a_per_rthz : float
        Input-referred noise density in A/√Hz (default 12 pA/√Hz; 5.6-22 pA/√Hz for
        100G TIAs in the reference table), >= 0.
    bandwidth_hz : float
        3 dB bandwidth in Hz (default 40 GHz), > 0.
    shape : str
        Response shape (default ``"bessel4"``).
    overload_current_a : float
        Peak input current above which the TIA overloads, A (default 5 mA), > 0.
    """

    transimpedance_ohm: float = 2000.0
    input_noise_density_a_per_rthz: float = 12e-12
    bandwidth_hz: float = 40e9
    shape: str = "bessel4"
    overload_current_a: float = 5e-3

    def __post_init__(self) -> None:
        validate.positive("transimpedance_ohm", self.transimpedance_ohm, "Ω")
        validate.in_range("input_noise_density_a_per_rthz", self.input_noise_density_a_per_rthz, 0.0, 1e-9, unit="A/√Hz")
        validate.positive("bandwidth_hz", self.bandwidth_hz, "Hz")
        response.check_shape("shape", self.shape)
        validate.positive("overload_current_a", self.overload_current_a, "A")

    def noise_rms_a(self) -> float:
        """Input-referred rms noise ``i_n·sqrt(ENBW)`` over the TIA's own response, A."""
        return self.input_noise_density_a_per_rthz * math.sqrt(response.noise_bandwidth_hz(self.bandwidth_hz, self.shape))


@dataclasses.dataclass(frozen=True, kw_only=True)
class Receiver:
    """Photodiode followed by a TIA.

    Examples
    --------
    >>> import numpy as np
    >>> from models.laser import OpticalField
    >>> light = OpticalField(field=np.full(1024, 1e-3**0.5), sample_rate_hz=1e12, wavelength_m=1.31e-6)
    >>> wf = Receiver().detect(light)            # noiseless without rng
    >>> round(float(wf.samples.mean()), 4)       # 1 mW · 0.85 A/W · 2000 Ω
    1.7
    """

    photodiode: Photodiode = dataclasses.field(default_factory=Photodiode)
    tia: Tia = dataclasses.field(default_factory=Tia)

    def __post_init__(self) -> None:
        if not isinstance(self.photodiode, Photodiode):
            raise InvalidParameter(f"photodiode must be a Photodiode, got {type(self.photodiode).__name__}")
        if not isinstance(self.tia, Tia):
            raise InvalidParameter(f"tia must be a Tia, got {type(self.tia).__name__}")

    def detect(
        self,
        light: OpticalField | Waveform,
        *,
        rng: np.random.Generator | None = None,
        temperature_c: float | None = None,
    ) -> Waveform:
        """Convert the received light to the TIA output voltage.

        Parameters
        ----------
        light : OpticalField or Waveform
            Received field, or an optical-power waveform (W).
        rng : numpy.random.Generator, optional
            Source of shot and thermal noise; without it the output is noiseless.
        temperature_c : float, optional
            PD temperature for the dark current (default the PD reference temperature).

        Returns
        -------
        Waveform
            Voltage (V) with the light's symbol rate and pattern.

        Raises
        ------
        InvalidParameter
            Peak photocurrent above ``overload_current_a``; sample rate below twice a bandwidth.
        """
        pd, tia = self.photodiode, self.tia
        if isinstance(light, OpticalField):
            fs = light.sample_rate_hz
            baud, pattern, meta = light.symbol_rate_baud, light.pattern, dict(light.meta)
        elif isinstance(light, Waveform) and light.quantity is Quantity.OPTICAL_POWER:
            fs = light.sample_rate_hz
            baud, pattern, meta = light.symbol_rate_baud, light.pattern, dict(light.meta)
        else:
            raise InvalidParameter("light must be an OpticalField or an optical-power Waveform")
        response.check_sampling("photodiode.bandwidth_hz", pd.bandwidth_hz, fs)
        response.check_sampling("tia.bandwidth_hz", tia.bandwidth_hz, fs)
        t = pd.temperature_ref_c if temperature_c is None else temperature_c
        # current = R·|E|² + I_d, built in one buffer (no float64/complex128 temporaries)
        if isinstance(light, OpticalField):
            current = light.power_w
            current *= pd.responsivity_a_per_w
        else:
            current = pd.responsivity_a_per_w * np.asarray(light.samples)
        current += pd.dark_current_at(t)
        peak = float(np.max(current))
        if peak > tia.overload_current_a:
            raise InvalidParameter(
                f"TIA overload: peak photocurrent {peak * 1e3:.3g} mA exceeds overload_current_a = "
                f"{tia.overload_current_a * 1e3:.3g} mA (reduce the received power)"
            )
        n = current.size
        if rng is not None and pd.shot_noise:
            # I + sqrt(q·fs·I)·N(0,1): the signal-dependent shot noise, drawn in the time domain
            shot = np.multiply(current, Q_E * fs)
            np.sqrt(shot, out=shot)
            shot *= gaussian.standard_normal(rng, n)
            current += shot
            del shot
        # one spectrum, one multiply by Z_T·H_pd·H_tia, the TIA noise added as a spectrum
        # shaped by Z_T·H_tia, one inverse transform (all responses cached per grid)
        z = float(tia.transimpedance_ohm)
        h_tia = response.rfft_grid_response(n, fs, ((tia.bandwidth_hz, tia.shape),), gain=z)
        h_all = response.rfft_grid_response(n, fs, ((pd.bandwidth_hz, pd.shape), (tia.bandwidth_hz, tia.shape)), gain=z)
        spec = response.real_spectrum(current)
        del current
        spec *= h_all
        if rng is not None and tia.input_noise_density_a_per_rthz > 0.0:
            # white real noise of variance σ² = i_n²·fs/2, drawn in the frequency domain
            sigma = tia.input_noise_density_a_per_rthz * math.sqrt(fs / 2.0)
            noise = response.white_noise_spectrum(n, sigma, rng)
            noise *= h_tia
            spec += noise
            del noise
        v = response.real_inverse(spec, n)
        meta.update(receiver="pd+tia", dark_current_a=pd.dark_current_at(t))
        return Waveform(
            samples=v, sample_rate_hz=fs, quantity=Quantity.VOLTAGE, symbol_rate_baud=baud, pattern=pattern, meta=meta
        )


def _shot_noise_bandwidth_hz(receiver: Receiver) -> float:
    """Noise bandwidth of the PD × TIA cascade, ``∫|H_pd H_tia|² df`` (the shot noise passes both), Hz."""
    key = (receiver.photodiode.bandwidth_hz, receiver.photodiode.shape, receiver.tia.bandwidth_hz, receiver.tia.shape)
    hit = _SHOT_BANDWIDTHS.get(key)
    if hit is None:
        fs = 16.0 * max(key[0], key[2])
        n = 1 << 15
        h = response.rfft_grid_response(n, fs, ((key[0], key[1]), (key[2], key[3])), gain=1.0)
        hit = float(np.sum(np.abs(h) ** 2) * fs / n)
        _SHOT_BANDWIDTHS[key] = hit
    return hit


_SHOT_BANDWIDTHS: dict[tuple[float, str, float, str], float] = {}


def pam4_ber(receiver: Receiver, oma_outer_w: float, average_power_w: float, *,
             temperature_c: float | None = None) -> float:
    """Bit error ratio of the receiver for a PAM4 signal with Gaussian noise, closed form.

    Four equally spaced power levels ``P_k = P_avg + OMA·(k/3 − 1/2)`` give the photocurrents
    ``I_k = R·P_k + I_d(T)``; each level carries the TIA's thermal noise and its own shot noise,
    ``σ_k² = σ_th² + 2q·I_k·B_shot`` (σ_th = :meth:`Tia.noise_rms_a`, B_shot the noise bandwidth
    of the PD × TIA cascade; no shot term with ``shot_noise=False``).  With thresholds midway
    between levels and equiprobable symbols,

        SER = 1/4 · Σ_k [Q((I_k+1 − I_k)/(2σ_k)) (k < 3) + Q((I_k − I_k−1)/(2σ_k)) (k > 0)],
        BER = SER / 2  (Gray coding: one bit per symbol error),

    ``Q(x) = erfc(x/√2)/2`` (Proakis, *Digital Communications*, 5th ed., §4.3-2; shot and
    thermal noise as in Agrawal, *Fiber-Optic Communication Systems*, §4.4).  Without shot
    noise this is ``0.75·Q(R·OMA/(6σ_th))``.  The receiver's bandwidth limitation (ISI) and the
    transmitter's noise are not included: it is the sensitivity to a clean signal.

    Parameters
    ----------
    receiver : Receiver
    oma_outer_w : float
        Received outer OMA, W, >= 0.
    average_power_w : float
        Received average power, W, >= OMA/2 (the lowest level is not negative).
    temperature_c : float, optional
        Photodiode temperature for the dark current (default its reference temperature).

    Returns
    -------
    float
        BER in [0, 0.375] (0.375 for OMA = 0).

    Raises
    ------
    InvalidParameter
        Negative or non-finite powers, an average below OMA/2, a noiseless receiver at OMA 0.

    Examples
    --------
    >>> r = Receiver(photodiode=Photodiode(shot_noise=False))
    >>> round(pam4_ber(r, 0.0, 1e-4), 3)
    0.375
    """
    if not isinstance(receiver, Receiver):
        raise InvalidParameter(f"receiver must be a models.receiver.Receiver, got {type(receiver).__name__}")
    oma = validate.non_negative("oma_outer_w", oma_outer_w, "W")
    avg = validate.non_negative("average_power_w", average_power_w, "W")
    if avg < 0.5 * oma * (1.0 - 1e-12):
        raise InvalidParameter(f"average_power_w = {avg:.4g} W is below half the OMA ({0.5 * oma:.4g} W): "
                               "the lowest level would be negative")
    pd, tia = receiver.photodiode, receiver.tia
    t = pd.temperature_ref_c if temperature_c is None else validate.real("temperature_c", temperature_c)
    current = pd.responsivity_a_per_w * (avg + oma * (np.arange(4) / 3.0 - 0.5)) + pd.dark_current_at(t)
    var = np.full(4, tia.noise_rms_a() ** 2)
    if pd.shot_noise:
        var = var + 2.0 * Q_E * np.maximum(current, 0.0) * _shot_noise_bandwidth_hz(receiver)
    if oma == 0.0:
        return 0.375
    if not np.all(var > 0.0):
        return 0.0
    half = 0.5 * (current[1:] - current[:-1])          # half eye heights, A
    sigma = np.sqrt(var)
    up = 0.5 * special.erfc(half / sigma[:-1] / math.sqrt(2.0))      # level k crosses up (k = 0..2)
    down = 0.5 * special.erfc(half / sigma[1:] / math.sqrt(2.0))     # level k crosses down (k = 1..3)
    return float(0.25 * (up.sum() + down.sum()) / 2.0)


def sensitivity_oma_w(receiver: Receiver, ber: float, *, extinction_ratio_db: float,
                      temperature_c: float | None = None) -> float:
    """Received outer OMA (W) at which :func:`pam4_ber` equals ``ber``, for a source of the
    given extinction ratio (``P_avg = OMA·(r + 1)/(2(r − 1))``, r = 10^(ER/10)).

    Solved by Brent's method on ``log BER`` (monotone in OMA at a fixed ER).

    Raises
    ------
    InvalidParameter
        BER outside (0, 0.375), ER <= 0 dB, or no OMA up to 1 W reaches the BER.
    """
    target = validate.in_range("ber", ber, 0.0, 0.375, low_inclusive=False, high_inclusive=False)
    er = validate.in_range("extinction_ratio_db", extinction_ratio_db, 0.0, 60.0, low_inclusive=False, unit="dB")
    r = 10.0 ** (er / 10.0)
    avg_per_oma = (r + 1.0) / (2.0 * (r - 1.0))

    def f(log_oma: float) -> float:
        oma = math.exp(log_oma)
        b = pam4_ber(receiver, oma, oma * avg_per_oma, temperature_c=temperature_c)
        return math.log(max(b, 1e-300)) - math.log(target)

    lo, hi = math.log(1e-12), math.log(1.0)
    if f(hi) > 0.0:
        raise InvalidParameter(f"the receiver does not reach BER {target:g} below 1 W OMA (ER {er:g} dB)")
    if f(lo) < 0.0:
        return 1e-12
    return math.exp(optimize.brentq(f, lo, hi, xtol=1e-10, rtol=1e-12))


def adapt_ffe_taps(
    samples: np.ndarray, symbols: np.ndarray, samples_per_symbol: int, n_taps: int, *, n_train: int = 16384
) -> tuple[np.ndarray, int, int]:
    """Least-squares T-spaced FFE taps of a receiver DSP, trained on the known symbols.

    The model knows which symbol occupies which unit interval of the (circular) record, so the
    equalizer is trained as a DSP would be after convergence: for each candidate sampling
    phase ``p`` (every ``sps/16`` samples) the taps minimise
    ``Σ_n (Σ_k c_k x[(n − (k − m))·sps + p] + b − s_n)²`` over ``n_train`` symbols
    (``s_n`` the symbol values 0..3, ``b`` an offset, ``m = n_taps // 2`` precursors); the
    phase of least error wins.  Taps are then scaled to sum to 1 (unity DC gain), the
    convention of :func:`optics.equalizer.apply_ffe`, which applies them.

    Parameters
    ----------
    samples : ndarray
        Received samples (one record, length ``len(symbols)·samples_per_symbol``).
    symbols : ndarray
        Sent symbols 0..3.
    samples_per_symbol : int
        Integer samples per symbol.
    n_taps : int
        Number of taps, 1..41.
    n_train : int
        Symbols used for training (default 16384, at most all).

    Returns
    -------
    taps : ndarray
        Tap weights summing to 1.
    n_precursors : int
        Main-cursor index ``m``.
    phase : int
        Sample offset of the symbol centres within a unit interval.

    Raises
    ------
    InvalidParameter
        Bad tap count or record length, or taps summing to ~0 (no DC path).
    """
    k_taps = validate.integer("n_taps", n_taps, 1, 41)
    sps = validate.integer("samples_per_symbol", samples_per_symbol, 1)
    sym = np.asarray(symbols)
    if samples.size != sym.size * sps:
        raise InvalidParameter(f"record of {samples.size} samples does not hold {sym.size} symbols of {sps} samples")
    m = k_taps // 2
    n_use = min(int(n_train), sym.size)
    target = sym[:n_use].astype(np.float64)
    best: tuple[float, np.ndarray, int] | None = None
    n_sym = sym.size
    # row n of the design matrix holds xs[(n + m − k) mod N] for k = 0..K−1 (see apply_ffe_taps):
    # a sliding window over a circularly extended copy, reversed along the taps
    ext_idx = np.arange(-(k_taps - 1 - m), n_use + m) % n_sym
    at = np.empty((k_taps + 1, n_use))  # the design matrix, transposed: one contiguous row per tap
    at[k_taps] = 1.0
    for p in range(0, sps, max(1, sps // 16)):
        xs = samples[p::sps][:n_sym]
        ext = xs[ext_idx]
        for k in range(k_taps):
            at[k] = ext[k_taps - 1 - k : k_taps - 1 - k + n_use]
        # normal equations (k_taps + 1 unknowns): fast and accurate enough for a few taps.
        # einsum on contiguous rows, not BLAS: these small products gain nothing from BLAS
        # threads, which stall for tens of ms on a loaded machine
        try:
            coef = np.linalg.solve(np.einsum("ik,jk->ij", at, at), np.einsum("ik,k->i", at, target))
        except np.linalg.LinAlgError:
            continue
        r = np.einsum("i,ik->k", coef, at)
        r -= target
        err = float(np.einsum("i,i->", r, r))
        if best is None or err < best[0]:
            best = (err, coef[:-1], p)
    if best is None:
        raise InvalidParameter("the FFE could not be trained: the received signal is constant")
    taps = best[1]
    total = float(np.sum(taps))
    if abs(total) < 1e-12 * float(np.sum(np.abs(taps))):
        raise InvalidParameter("the trained FFE has no DC gain (taps sum to 0); the received signal carries no data")
    return taps / total, m, best[2]


def apply_ffe_taps(samples: np.ndarray, taps: np.ndarray, n_precursors: int, samples_per_symbol: int) -> np.ndarray:
    """T-spaced FFE on a circular record with an integer number of samples per symbol.

    ``y[i] = Σ_k c_k x[i − (k − m)·sps]`` (the convention of :func:`optics.equalizer.apply_ffe`,
    which it equals for integer ``sps``; done with integer shifts, no FFT).
    """
    sps = validate.integer("samples_per_symbol", samples_per_symbol, 1)
    x = np.asarray(samples, dtype=np.float64)
    n = x.size
    y = np.zeros_like(x)
    tmp = np.empty_like(x)
    for k, c in enumerate(np.asarray(taps, dtype=np.float64)):
        if c == 0.0:
            continue
        sh = ((k - n_precursors) * sps) % n  # y[i] += c·x[i − sh]  (circular)
        np.multiply(x, c, out=tmp)
        if sh == 0:
            y += tmp
        else:
            y[sh:] += tmp[: n - sh]
            y[:sh] += tmp[n - sh :]
    return y
