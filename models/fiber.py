"""Single-mode fibre channel: attenuation, chromatic dispersion on the complex field,
connector/splice losses and multi-path interference (MPI).

Dispersion (ITU-T G.652 / IEEE 802.3 form, ``silicon-photonics-parameters.md`` §4):

``D(λ) = (S0/4)·(λ − λ0⁴/λ³)``   [ps/(nm·km) with λ in nm, S0 in ps/(nm²·km)],
``β2 = −D·λ²/(2πc)``.

Propagation of the envelope in the frequency domain (Agrawal, *Fiber-Optic Communication
Systems*, 4th ed., §2.4; with this package's ``exp(+jω0 t)`` convention and numpy's FFT sign)::

    E_out(f) = E_in(f) · sqrt(10^(−A/10)) · exp(−j·β2/2·ω²·L),   ω = 2πf.

Small-signal consequence (derived in ``tests/models/test_fiber.py`` and the docs of
:func:`fading_notch_frequencies_hz`): an intensity tone at ``f`` on a field with chirp α sees
``H(f) = cos θ − α·sin θ`` with ``θ = π·λ²·D·L·f²/c`` (Wang & Petermann, JLT 10(1) 96 (1992);
Devaux et al., JLT 11(12) 1937 (1993)).

MPI: two reflections of reflectance R1, R2 (a connector pair) make a delayed copy of power
ratio ``ε = R1·R2`` that beats with the signal: ``E(t) + sqrt(ε)·E(t − τ)·e^{jψ(t)}``.  The
interference term ``2·sqrt(ε)·Re{E(t)E*(t−τ)e^{−jψ}}`` is the intensity noise.  The phase ψ
between the paths wanders (optical path between the reflectors with temperature and strain,
laser phase noise ``2π·Δν·τ``) on times far longer than a simulated record, and a measured BER
integrates over it, so the phase is swept once around the circle over the record,
``ψ(t) = ψ0 + 2π·t/T_record`` (one uniform ψ0 per record from the generator; periodic, so the
circular record stays seamless): every record averages the beat over its phase
(``<cos ψ> = 0``, ``<cos²ψ> = 1/2`` exactly on the sample grid), instead of a
single ψ that put one seed's penalty anywhere between 0 and its maximum.  At a level of power
``P_i`` the beat then has zero mean and variance ``2ε·P_i·<P(t − τ)>``, the interferometric
noise ``σ² = 2ε·P²`` of Gimlett & Cheung, JLT 7(6), 888 (1989) (aligned polarisations), which is
the form the IEEE 802.3 link models use for the MPI penalty.  The receiver's levels and
thresholds are those of the whole record: the BER is that of a receiver whose decision levels do
not follow the slow wander of ψ (ASSUMPTION; one that tracks it sees less), and a reflection
pair at −14 dB each (ε = −28 dB) then costs a 100G PAM4 lane the penalty the Gaussian budget
term predicts, where one ψ per record had left it near zero (``tests/models/test_mpi_lane.py``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import scipy.fft as sfft

from models import response
from models.fft_layout import FourStep
from models.laser import C_M_PER_S, OpticalField
from optics import validate
from optics.errors import InvalidParameter

#: Zero-dispersion wavelength range (m) and maximum slope (ps/(nm²·km)) assumed by IEEE 802.3
#: for worst-case dispersion (G.652; S0 = 0.093 reproduces the FR4 datasheet -11.9/+6.7 ps/nm [D]).
LAMBDA0_RANGE_M: tuple[float, float] = (1300e-9, 1324e-9)
S0_IEEE_PS_PER_NM2_KM = 0.093


def dispersion_ps_per_nm_km(
    wavelength_m: float | np.ndarray,
    zero_dispersion_wavelength_m: float = 1312e-9,
    dispersion_slope_ps_per_nm2_km: float = S0_IEEE_PS_PER_NM2_KM,
) -> float | np.ndarray:
    """``D(λ) = (S0/4)(λ − λ0⁴/λ³)`` in ps/(nm·km) (λ in m on input)."""
    lam = np.asarray(wavelength_m, dtype=np.float64) * 1e9
    l0 = zero_dispersion_wavelength_m * 1e9
    d = dispersion_slope_ps_per_nm2_km / 4.0 * (lam - l0**4 / lam**3)
    return float(d) if np.ndim(d) == 0 else d


def worst_case_dispersion_ps_per_nm(
    wavelength_min_m: float,
    wavelength_max_m: float,
    length_m: float,
    *,
    lambda0_range_m: tuple[float, float] = LAMBDA0_RANGE_M,
    dispersion_slope_ps_per_nm2_km: float = S0_IEEE_PS_PER_NM2_KM,
) -> tuple[float, float]:
    """Minimum and maximum accumulated dispersion (ps/nm) over a wavelength window.

    D falls with λ0 and rises with λ, so the extremes are ``D(λ_min; λ0,max)`` and
    ``D(λ_max; λ0,min)`` times the length in km (IEEE 802.3 method, e.g. 124.7 / 151.10).
    """
    validate.non_negative("length_m", length_m, "m")
    km = length_m / 1e3
    dmin = dispersion_ps_per_nm_km(wavelength_min_m, lambda0_range_m[1], dispersion_slope_ps_per_nm2_km) * km
    dmax = dispersion_ps_per_nm_km(wavelength_max_m, lambda0_range_m[0], dispersion_slope_ps_per_nm2_km) * km
    return float(dmin), float(dmax)


def beta2_s2_per_m(dispersion_ps_per_nm_km_value: float, wavelength_m: float) -> float:
    """Group-velocity dispersion ``β2 = −D·λ²/(2πc)`` in s²/m (D in ps/(nm·km))."""
    d_si = dispersion_ps_per_nm_km_value * 1e-6  # ps/(nm·km) -> s/m²
    return -d_si * wavelength_m**2 / (2.0 * math.pi * C_M_PER_S)


def fading_notch_frequencies_hz(
    dispersion_ps_per_nm: float, wavelength_m: float, chirp_alpha: float = 0.0, n: int = 3
) -> np.ndarray:
    """First ``n`` frequencies (Hz) of the dispersion-induced power-fading notches.

    ``H(f) = cos θ − α sin θ = sqrt(1+α²)·cos(θ + arctan α)``, ``θ = π λ² D L f²/c``, is zero at
    ``θ + arctan α = π/2 + kπ``.  For ``DL > 0``:
    ``f_k² = c/(2λ²·DL)·(1 + 2k − (2/π)·arctan α)``; for ``DL < 0`` the sign of the arctan
    term flips (θ changes sign).  Only notches with ``f_k² > 0`` are returned.
    """
    dl = dispersion_ps_per_nm * 1e-3  # ps/nm -> s/m
    if dl == 0.0:
        return np.array([])
    s = math.copysign(1.0, dl)
    ks = np.arange(0, n + 1)
    f2 = C_M_PER_S / (2.0 * wavelength_m**2 * abs(dl)) * (1.0 + 2.0 * ks - s * (2.0 / math.pi) * math.atan(chirp_alpha))
    return np.sqrt(f2[f2 > 0])[:n]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Fiber:
    """A span of single-mode fibre.

    Parameters
    ----------
    length_m : float
        Length in m (default 500 m), >= 0.
    attenuation_db_per_km : float
        Attenuation in dB/km (default 0.4, OS2 cabled at 1310 nm, TIA FOTC), >= 0.
    zero_dispersion_wavelength_m : float
        λ0 in m (default 1312 nm; IEEE worst cases use 1300 and 1324 nm).
    dispersion_slope_ps_per_nm2_km : float
        S0 in ps/(nm²·km) (default 0.093, IEEE 802.3), >= 0.
    """

    length_m: float = 500.0
    attenuation_db_per_km: float = 0.4
    zero_dispersion_wavelength_m: float = 1312e-9
    dispersion_slope_ps_per_nm2_km: float = S0_IEEE_PS_PER_NM2_KM

    def __post_init__(self) -> None:
        validate.in_range("length_m", self.length_m, 0.0, 1e6, unit="m")
        validate.in_range("attenuation_db_per_km", self.attenuation_db_per_km, 0.0, 100.0, unit="dB/km")
        validate.in_range("zero_dispersion_wavelength_m", self.zero_dispersion_wavelength_m, 1.0e-6, 1.7e-6, unit="m")
        validate.in_range("dispersion_slope_ps_per_nm2_km", self.dispersion_slope_ps_per_nm2_km, 0.0, 1.0, unit="ps/(nm²·km)")

    @property
    def loss_db(self) -> float:
        """Fibre attenuation over the span, dB."""
        return self.attenuation_db_per_km * self.length_m / 1e3

    def dispersion_ps_per_nm(self, wavelength_m: float) -> float:
        """Accumulated dispersion ``D(λ)·L`` in ps/nm."""
        return float(
            dispersion_ps_per_nm_km(wavelength_m, self.zero_dispersion_wavelength_m, self.dispersion_slope_ps_per_nm2_km)
        ) * self.length_m / 1e3

    def propagate(self, light: OpticalField) -> OpticalField:
        """Attenuate and disperse the field (module docstring equation)."""
        return propagate_dispersion(light, self.dispersion_ps_per_nm(light.wavelength_m), loss_db=self.loss_db)


def propagate_dispersion(light: OpticalField, dispersion_ps_per_nm: float, *, loss_db: float = 0.0) -> OpticalField:
    """Apply accumulated dispersion ``D·L`` (ps/nm) and a loss (dB) to the field.

    ``H(f) = 10^(−loss/20)·exp(−j·β2 L/2·ω²)`` with ``β2 L = −D L λ²/(2πc)``.
    """
    validate.real("dispersion_ps_per_nm", dispersion_ps_per_nm)
    validate.non_negative("loss_db", loss_db, "dB")
    gain = 10.0 ** (-loss_db / 20.0)
    b2l = -(dispersion_ps_per_nm * 1e-3) * light.wavelength_m**2 / (2.0 * math.pi * C_M_PER_S)
    n = light.n_samples
    phase_max = abs(b2l) / 2.0 * (math.pi * light.sample_rate_hz) ** 2
    if phase_max < 1e-9:
        return light.with_field(light.field * gain)
    plan = response.pfa_plan(n)
    h = _dispersion_response(n, light.sample_rate_hz, b2l, gain, plan)
    if plan is None:
        spec = sfft.fft(light.field)
        spec *= h
        out = sfft.ifft(spec, overwrite_x=True)
    else:
        imap = plan[2]
        spec = sfft.fft2(light.field[imap], overwrite_x=True)
        spec *= h
        out = np.empty(n, dtype=np.complex128)
        out[imap] = sfft.ifft2(spec, overwrite_x=True)
    return light.with_field(out, dispersion_ps_per_nm=dispersion_ps_per_nm)


_H_CACHE: dict[tuple[int, float, float, float, str], np.ndarray] = {}


def _dispersion_response(
    n: int, sample_rate_hz: float, b2l: float, gain: float = 1.0,
    plan: tuple[int, int, np.ndarray, np.ndarray] | FourStep | None = None,
) -> np.ndarray:
    """``gain·exp(−j β2L/2 ω²)`` on the FFT grid, the 2-D grid of a Good-Thomas ``plan``
    (:func:`models.response.pfa_plan`) or a :class:`models.fft_layout.FourStep` layout; the last
    2 are kept.

    The span loss ``gain`` is folded into the cached response (one multiply per record).
    """
    layout = "1d" if plan is None else "four-step" if isinstance(plan, FourStep) else "pfa"
    key = (n, float(sample_rate_hz), float(b2l), float(gain), layout)
    h = _H_CACHE.get(key)
    if h is None:
        # phase −β2L/2·ω², then gain·(cos + j sin) written straight into the complex array
        # (half the cost of a complex exp on a 2M-point grid)
        if plan is None:
            f = sfft.fftfreq(n, 1.0 / sample_rate_hz)
        elif isinstance(plan, FourStep):
            f = plan.frequencies() * sample_rate_hz
        else:
            f = plan[3] * sample_rate_hz
        phase = np.square(f)
        phase *= -0.5 * b2l * (2.0 * math.pi) ** 2
        h = np.empty(phase.shape, dtype=np.complex128)
        np.cos(phase, out=h.real)
        np.sin(phase, out=h.imag)
        if gain != 1.0:
            h *= gain
        h.setflags(write=False)
        if len(_H_CACHE) >= 2:  # 2M-sample grids are 33 MB each
            _H_CACHE.pop(next(iter(_H_CACHE)))
        _H_CACHE[key] = h
    return h


@dataclasses.dataclass(frozen=True, kw_only=True)
class Channel:
    """Fibre plus discrete losses and reflections between Tx and Rx.

    Parameters
    ----------
    fiber : Fiber
        The span.
    connector_loss_db : float
        Loss per connection in dB (default 0.5, FOA loss-budget default), >= 0.
    n_connectors : int
        Number of connections (default 2).
    splice_loss_db : float
        Loss per splice in dB (default 0.15), >= 0.
    n_splices : int
        Number of splices (default 0).
    reflectance_db : float or None
        Reflectance of each of two discrete reflectors in dB (e.g. −35; None: no MPI).
        MPI ratio ``ε = R²`` (both reflectors alike).
    reflector_spacing_m : float
        Fibre length between the two reflectors in m (default 1 m), sets the delay
        ``τ = n_g·d·2/c`` (n_g = 1.4682), > 0.
    """

    fiber: Fiber = dataclasses.field(default_factory=Fiber)
    connector_loss_db: float = 0.5
    n_connectors: int = 2
    splice_loss_db: float = 0.15
    n_splices: int = 0
    reflectance_db: float | None = None
    reflector_spacing_m: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.fiber, Fiber):
            raise InvalidParameter(f"fiber must be a Fiber, got {type(self.fiber).__name__}")
        validate.in_range("connector_loss_db", self.connector_loss_db, 0.0, 20.0, unit="dB")
        validate.integer("n_connectors", self.n_connectors, 0, 100)
        validate.in_range("splice_loss_db", self.splice_loss_db, 0.0, 20.0, unit="dB")
        validate.integer("n_splices", self.n_splices, 0, 1000)
        if self.reflectance_db is not None:
            validate.in_range("reflectance_db", self.reflectance_db, -100.0, 0.0, high_inclusive=False, unit="dB")
        validate.positive("reflector_spacing_m", self.reflector_spacing_m, "m")

    @property
    def insertion_loss_db(self) -> float:
        """Fibre + connector + splice loss in dB."""
        return self.fiber.loss_db + self.connector_loss_db * self.n_connectors + self.splice_loss_db * self.n_splices

    @property
    def mpi_ratio(self) -> float:
        """Power ratio ε of the double-reflected copy to the signal (0 without reflectors)."""
        if self.reflectance_db is None:
            return 0.0
        return 10.0 ** (2.0 * self.reflectance_db / 10.0)

    def propagate(self, light: OpticalField, *, rng: np.random.Generator | None = None) -> OpticalField:
        """Propagate through the fibre, the discrete losses and (with ``rng``) the MPI copy."""
        disp = self.fiber.dispersion_ps_per_nm(light.wavelength_m)
        out = propagate_dispersion(light, disp, loss_db=self.insertion_loss_db)
        eps = self.mpi_ratio
        if eps > 0.0 and rng is not None:
            delay_s = 2.0 * 1.4682 * self.reflector_spacing_m / C_M_PER_S
            shift = max(1, int(round(delay_s * light.sample_rate_hz)))
            psi = rng.uniform(0.0, 2.0 * math.pi)
            field = out.field + mpi_phase_factor(out.n_samples, psi, math.sqrt(eps)) * np.roll(out.field, shift)
            out = out.with_field(field, mpi_ratio=eps, mpi_phase_rad=psi, mpi_phase_sweep_rad=2.0 * math.pi)
        return out


def mpi_phase_factor(n_samples: int, psi0_rad: float, amplitude: float = 1.0) -> np.ndarray:
    """``amplitude·e^{jψ(t)}`` per sample with ``ψ = ψ0 + 2π·i/n`` (module docstring): the phase
    of the MPI copy swept once around the circle over the ``n_samples`` of a record.

    Raises
    ------
    InvalidParameter
        Fewer than 3 samples (the sweep's ``<cos²ψ> = 1/2`` needs them).
    """
    n = validate.integer("n_samples", n_samples, 3, 2**40)
    psi = np.arange(n, dtype=np.float64)
    psi *= 2.0 * math.pi / n
    psi += validate.real("psi0_rad", psi0_rad)
    out = np.empty(n, dtype=np.complex128)
    np.cos(psi, out=out.real)
    np.sin(psi, out=out.imag)
    if amplitude != 1.0:
        out *= amplitude
    return out
