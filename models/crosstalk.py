"""Crosstalk between a module's lanes: optical, electrical (receiver and driver side), thermal (ring heaters).

Lanes are numbered in their physical order (wavelength order of a WDM demultiplexer, fibre
order of a parallel array, ring order on the chip), so lane ``i``'s neighbours are ``i - 1``
and ``i + 1``; :func:`neighbour_matrix` holds the couplings ``C[i, j]`` (victim ``i``,
aggressor ``j``, zero diagonal).

Optical crosstalk (incoherent)
------------------------------
A demultiplexer or fibre-array leakage of ``X`` dB (``optical_adjacent_db``, negative) lets
the fraction ``c = 10^(X/10)`` of the aggressor's received power onto the victim's
photodiode.  The aggressor is at another wavelength (CWDM: THz away) or has lost its coherence
with the victim, so the two fields do not beat within the receiver bandwidth and the
photocurrents add::

    i_v(t) = R (P_v(t) + sum_j C_ij P_j(t))          (incoherent crosstalk)

The added average power is ``sum_j C_ij <P_j>`` (:func:`incoherent_added_power_w`).  The
receiver is linear up to its decision, so the victim's received voltage gains
``C_ij v_j(t)`` of each aggressor's received voltage.  LIMITS: lanes fed by one split laser
(the parallel DR presets) are mutually coherent within the laser's coherence length, and
leakage between them also beats (interferometric crosstalk, like MPI: ``2 sqrt(c P_v P_j)
cos(phi)``): only the power term is modelled here.  The aggressor's own receiver noise
rides along at ``c`` (at -20 dB, 1 % of its amplitude: negligible), and with a receiver FFE
the aggressor's equalised voltage stands for the victim FFE's output of it (identical lanes:
nearly the same taps).  Source: the incoherent crosstalk model of e.g. G. P. Agrawal,
*Fiber-Optic Communication Systems* (4th ed., 2010), sec. 6.1.4 ("heterowavelength" linear
crosstalk: the powers add).  The leakage values are ASSUMPTIONS (no sourced module figure in
the reference notes; CWDM demultiplexers are commonly specified at >= 20-30 dB isolation).

Electrical crosstalk (receiver package / TIA array)
---------------------------------------------------
Coupling between neighbouring TIA outputs or package traces at ``Y`` dB
(``electrical_adjacent_db``, amplitude ratio ``k = 10^(Y/20)``) adds the aggressor's AC
voltage through a coupling response ``H_xt(f)``::

    v_v(t) += sum_j  IFFT[ k_ij H_xt(f) V_j(f) ],   H_xt = 1 ("flat")  or  j f / f_ref ("capacitive")

"capacitive" is the derivative (near-end capacitive/mutual-inductive) coupling, ``|H_xt|``
rising at 20 dB/decade and equal to ``k`` at ``f_ref`` (default half the symbol rate); DC
does not couple (``H_xt(0) = 0`` in both).  The coupling values are ASSUMPTIONS.  Coupling at
the modulator drivers, before the modulator's non-linearity, is the driver-side model below.

Electrical crosstalk at the modulator drivers (driver / package side)
---------------------------------------------------------------------
Neighbouring drivers' output traces, package or flex lines and modulator electrodes couple
at ``Z`` dB (``driver_adjacent_db``, amplitude ratio ``k = 10^(Z/20)``): the victim's modulator
sees, besides its own drive ``v_i(t)``, its neighbours' drives through the same kind of
coupling response ``H_xt(f)`` (``driver_shape``: flat, or capacitive ``j f / f_ref``, the
near-end capacitive coupling of two adjacent lines, ``f_ref`` default half the symbol rate)::

    v_i'(t) = v_i(t) + x_i(t),   x_i = sum_j k_ij IFFT[ H_xt(f) F(S_ij v_j) ]

(:func:`driver_crosstalk_v`), ahead of the modulator's non-linear transfer, so the coupled
interference is compressed and mixed as the victim's own signal is.  ``v_j`` is aggressor
``j``'s drive as its own transmitter makes it (driver levels and FFE, rise time, host channel,
its modulator's EO response: :meth:`models.lane.Transmitter.drive_voltage`) for its data
(the victim's pattern shifted by :func:`decorrelating_shift_symbols`), without its driver
jitter and noise (second order in the interference), and the victim's EO response is taken
as the aggressor's (identical lanes).  With a flat coupling and one aggressor the added
power is exactly ``<x_i^2> = k^2 var(v_j)``; with several, nearly uncorrelated aggressors the
powers add.  The coupling value is an ASSUMPTION (no sourced package or driver NEXT/FEXT
figure in the reference notes; values of -30 to -40 dB at Nyquist are a common design aim,
UNVERIFIED).  The driver jitter of the aggressor and its chip temperature's EO bandwidth are
not carried into the coupled drive.

Thermal crosstalk between ring heaters
--------------------------------------
A heater dissipating ``P_j`` shifts its own ring by ``eta P_j`` and its neighbour by
``kappa eta P_j`` (``heater_coupling_adjacent = kappa``, the fraction of the heat reaching
the neighbour).  Each ring's lock needs its own total shift ``Delta_i = eta P_i^0`` (``P_i^0``
the heater power the lane needs alone), so the locked heaters solve::

    (I + K) P = P^0                                   (K = kappa neighbour matrix)

(:func:`coupled_heater_powers`): with equal needs and two neighbours the inner heaters drop
to ``P^0 / (1 + 2 kappa)``.  A negative solution means a ring pushed past its target by its
neighbours with no way to cool: the lock fails.  kappa is an ASSUMPTION (a few % to tens of %
for rings tens of micrometres apart without thermal trenches; not in the reference notes).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from optics import validate
from optics.errors import InvalidParameter

#: Shapes of the electrical coupling response.
ELECTRICAL_SHAPES: tuple[str, ...] = ("flat", "capacitive")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModuleCrosstalk:
    """Crosstalk between a module's lanes (module docstring); every coupling off by default.

    Parameters
    ----------
    optical_adjacent_db : float or None
        Optical power leakage from each adjacent lane (dB, in [-80, 0), e.g. -25); None: none.
    optical_non_adjacent_db : float or None
        Leakage from every non-adjacent lane (dB, in [-80, 0)); None: none.
    electrical_adjacent_db : float or None
        Electrical amplitude coupling between adjacent receivers (dB, in [-80, 0)); None: none.
    electrical_shape : str
        ``"flat"`` (default) or ``"capacitive"`` (``|H| = k f / f_ref``).
    electrical_reference_hz : float or None
        ``f_ref`` of the capacitive shape (Hz, > 0; default half the symbol rate).
    heater_coupling_adjacent : float
        Fraction of a ring heater's shift felt by each adjacent ring, in [0, 0.5) (default 0).
    driver_adjacent_db : float or None
        Amplitude coupling between adjacent lanes' modulator drives (dB, in [-80, 0), e.g. -35);
        None: none.
    driver_shape : str
        ``"flat"`` (default) or ``"capacitive"`` (``|H| = k f / f_ref``) for the driver coupling.
    driver_reference_hz : float or None
        ``f_ref`` of the capacitive driver coupling (Hz, > 0; default half the symbol rate).

    Raises
    ------
    InvalidParameter
        Values outside the stated ranges, an unknown shape.
    """

    optical_adjacent_db: float | None = None
    optical_non_adjacent_db: float | None = None
    electrical_adjacent_db: float | None = None
    electrical_shape: str = "flat"
    electrical_reference_hz: float | None = None
    heater_coupling_adjacent: float = 0.0
    driver_adjacent_db: float | None = None
    driver_shape: str = "flat"
    driver_reference_hz: float | None = None

    def __post_init__(self) -> None:
        for name in ("optical_adjacent_db", "optical_non_adjacent_db", "electrical_adjacent_db",
                     "driver_adjacent_db"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, validate.in_range(name, value, -80.0, 0.0, high_inclusive=False,
                                                                 unit="dB"))
        for name in ("electrical_shape", "driver_shape"):
            if getattr(self, name) not in ELECTRICAL_SHAPES:
                raise InvalidParameter(f"{name} = {getattr(self, name)!r}; allowed: {', '.join(ELECTRICAL_SHAPES)}")
        for name in ("electrical_reference_hz", "driver_reference_hz"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, validate.positive(name, getattr(self, name), "Hz"))
        object.__setattr__(self, "heater_coupling_adjacent",
                           validate.in_range("heater_coupling_adjacent", self.heater_coupling_adjacent, 0.0, 0.5,
                                             high_inclusive=False))

    @property
    def signal_coupled(self) -> bool:
        """True if any optical or electrical coupling is on (the received waveforms change)."""
        return any(v is not None for v in (self.optical_adjacent_db, self.optical_non_adjacent_db,
                                           self.electrical_adjacent_db))

    @property
    def driver_coupled(self) -> bool:
        """True if the modulator drives couple (:func:`driver_crosstalk_v`)."""
        return self.driver_adjacent_db is not None

    def driver_matrix(self, n_lanes: int) -> np.ndarray:
        """Amplitude coupling ``k[i, j] = 10^(Z/20)`` of adjacent lanes' modulator drives."""
        k = 0.0 if self.driver_adjacent_db is None else 10.0 ** (self.driver_adjacent_db / 20.0)
        return neighbour_matrix(n_lanes, k, 0.0)

    def optical_matrix(self, n_lanes: int) -> np.ndarray:
        """Power coupling ``C[i, j] = 10^(X/10)`` (victim i, aggressor j) of ``n_lanes`` lanes."""
        return neighbour_matrix(n_lanes, _power_ratio(self.optical_adjacent_db),
                                _power_ratio(self.optical_non_adjacent_db))

    def electrical_matrix(self, n_lanes: int) -> np.ndarray:
        """Amplitude coupling ``k[i, j] = 10^(Y/20)`` of adjacent receivers."""
        k = 0.0 if self.electrical_adjacent_db is None else 10.0 ** (self.electrical_adjacent_db / 20.0)
        return neighbour_matrix(n_lanes, k, 0.0)


def _power_ratio(db: float | None) -> float:
    return 0.0 if db is None else 10.0 ** (db / 10.0)


def neighbour_matrix(n_lanes: int, adjacent: float, non_adjacent: float = 0.0) -> np.ndarray:
    """``n x n`` coupling matrix: ``adjacent`` for ``|i - j| = 1``, ``non_adjacent`` for
    ``|i - j| > 1``, 0 on the diagonal (lanes in a row, not a ring).

    Examples
    --------
    >>> neighbour_matrix(3, 0.1).tolist()
    [[0.0, 0.1, 0.0], [0.1, 0.0, 0.1], [0.0, 0.1, 0.0]]
    """
    n = validate.integer("n_lanes", n_lanes, 1)
    a = validate.non_negative("adjacent", adjacent)
    b = validate.non_negative("non_adjacent", non_adjacent)
    d = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return np.where(d == 1, a, np.where(d > 1, b, 0.0))


def incoherent_added_power_w(aggressor_powers_w: Sequence[float], crosstalk_db: Sequence[float] | float) -> float:
    """Average power an incoherent crosstalk adds to the victim: ``sum_j P_j 10^(X_j/10)`` (W).

    Examples
    --------
    >>> round(incoherent_added_power_w([1e-3, 1e-3], -20.0) * 1e6, 6)   # two aggressors at -20 dB
    20.0
    """
    p = validate.finite_array("aggressor_powers_w", aggressor_powers_w, min_size=1)
    if np.any(p < 0):
        raise InvalidParameter("aggressor_powers_w must be >= 0 W")
    x = np.broadcast_to(np.asarray(crosstalk_db, dtype=np.float64), p.shape)
    if not np.all(np.isfinite(x)) or np.any(x > 0):
        raise InvalidParameter("crosstalk_db must be finite and <= 0 dB")
    return float(np.sum(p * 10.0 ** (x / 10.0)))


def decorrelating_shift_symbols(victim: int, aggressor: int, n_lanes: int, n_symbols: int) -> int:
    """Circular shift (symbols) applied to aggressor ``aggressor``'s record seen by ``victim``:
    ``((aggressor - victim) mod n_lanes) * (n_symbols // n_lanes)``.

    The simulated lanes all send the same pattern in phase; real lanes carry independent
    data.  A shift by a large whole number of symbols makes the aggressor's pattern (PRBS,
    SSPRQ) nearly uncorrelated with the victim's while keeping the record circular.
    ``n_symbols`` is the pattern's period: a record of several periods shifted by a fraction
    of its whole length could land on a whole period and repeat the victim's own data
    (two lanes, four PRBS9Q periods: a half-record shift is two periods).
    """
    n = validate.integer("n_lanes", n_lanes, 1)
    m = validate.integer("n_symbols", n_symbols, 1)
    return ((int(aggressor) - int(victim)) % n) * (m // n)


def electrical_coupling_response(freq_hz: np.ndarray, shape: str, reference_hz: float) -> np.ndarray:
    """``H_xt(f)``: 1 (flat) or ``j f / f_ref`` (capacitive), 0 at DC in both (module docstring)."""
    f = np.asarray(freq_hz, dtype=np.float64)
    if shape == "flat":
        h = np.ones(f.shape, dtype=np.complex128)
    elif shape == "capacitive":
        h = 1j * f / validate.positive("reference_hz", reference_hz, "Hz")
    else:
        raise InvalidParameter(f"shape = {shape!r}; allowed: {', '.join(ELECTRICAL_SHAPES)}")
    h[f == 0.0] = 0.0
    return h


def add_received_crosstalk(
    received_v: Sequence[np.ndarray | None],
    crosstalk: ModuleCrosstalk,
    *,
    samples_per_symbol: int,
    sample_rate_hz: float,
    symbol_rate_baud: float,
    period_symbols: int | None = None,
) -> list[np.ndarray | None]:
    """Received voltages with the optical and electrical crosstalk of the other lanes added.

    ``v_i' = v_i + sum_j C_ij S_ij v_j + sum_j k_ij IFFT[H_xt F(S_ij v_j)]``, ``S_ij`` the
    circular shift of :func:`decorrelating_shift_symbols`, ``C`` and ``k`` the optical and
    electrical matrices of ``crosstalk``; every aggressor enters with its record before any
    crosstalk is added.  A lane given as None (failed) neither receives nor sends crosstalk.
    ``period_symbols``: the pattern's period the records repeat (default the record length).

    Raises
    ------
    InvalidParameter
        Records of different lengths or not whole symbols.
    """
    sps = validate.integer("samples_per_symbol", samples_per_symbol, 1)
    n_lanes = len(received_v)
    live = [np.asarray(v, dtype=np.float64) for v in received_v if v is not None]
    if not live:
        return list(received_v)
    n = live[0].size
    if any(v.size != n for v in live) or n % sps:
        raise InvalidParameter("received records must have one length, a whole number of symbols")
    c_opt = crosstalk.optical_matrix(n_lanes)
    k_el = crosstalk.electrical_matrix(n_lanes)
    h = None
    if np.any(k_el > 0):
        f_ref = crosstalk.electrical_reference_hz or 0.5 * validate.positive("symbol_rate_baud", symbol_rate_baud, "Bd")
        h = electrical_coupling_response(np.fft.rfftfreq(n, 1.0 / sample_rate_hz), crosstalk.electrical_shape, f_ref)
    out: list[np.ndarray | None] = []
    for i, v in enumerate(received_v):
        if v is None:
            out.append(None)
            continue
        acc = np.array(v, dtype=np.float64) + _coupled_sum(received_v, i, c_opt[i], None, sps, period_symbols)
        if h is not None:
            acc += _coupled_sum(received_v, i, k_el[i], h, sps, period_symbols)
        out.append(acc)
    return out


def _coupled_sum(records: Sequence[np.ndarray | None], victim: int, coupling: np.ndarray,
                 response_h: np.ndarray | None, samples_per_symbol: int, period_symbols: int | None) -> np.ndarray:
    """``sum_j coupling[j] S_ij r_j`` over the other live records (``S_ij`` the circular shift of
    :func:`decorrelating_shift_symbols` within the pattern period ``period_symbols``, default the
    record), filtered by ``response_h`` (an rfft-grid response) if given."""
    live = next(np.asarray(r) for r in records if r is not None)
    n = live.size
    n_sym = _period(n // samples_per_symbol, period_symbols)
    acc = np.zeros(n)
    for j, a in enumerate(records):
        if j == victim or a is None or coupling[j] == 0.0:
            continue
        shift = decorrelating_shift_symbols(victim, j, len(records), n_sym) * samples_per_symbol
        acc += coupling[j] * np.roll(np.asarray(a, dtype=np.float64), shift)
    if response_h is not None and np.any(acc):
        acc = np.fft.irfft(np.fft.rfft(acc) * response_h, n)
    return acc


def driver_crosstalk_v(
    drives_v: Sequence[np.ndarray | None],
    victim: int,
    crosstalk: ModuleCrosstalk,
    *,
    samples_per_symbol: int,
    sample_rate_hz: float,
    symbol_rate_baud: float,
    period_symbols: int | None = None,
) -> np.ndarray:
    """Voltage (V) the other lanes' drives add to lane ``victim``'s modulator drive.

    ``x_i = sum_j k_ij IFFT[H_xt F(S_ij v_j)]`` (module docstring, driver-side electrical
    crosstalk): ``drives_v[j]`` the drive of lane ``j`` for the common pattern (None: a lane
    that sends nothing), ``k`` the :meth:`ModuleCrosstalk.driver_matrix`, ``H_xt`` its shape
    (:func:`electrical_coupling_response`, no DC), ``S_ij`` the decorrelating circular shift
    within the pattern's period ``period_symbols`` (default the record length).

    Raises
    ------
    InvalidParameter
        Records of different lengths or not whole symbols, a victim out of range.

    Examples
    --------
    >>> import numpy as np
    >>> v = np.repeat([-1.0, 1.0, 1.0, -1.0], 4)                 # 4 symbols, 4 samples each
    >>> x = driver_crosstalk_v([v, v], 0, ModuleCrosstalk(driver_adjacent_db=-20.0), samples_per_symbol=4,
    ...                        sample_rate_hz=4e9, symbol_rate_baud=1e9)
    >>> round(float(np.mean(x ** 2)) / float(np.var(v)), 6)     # k^2 of one flat aggressor
    0.01
    """
    sps = validate.integer("samples_per_symbol", samples_per_symbol, 1)
    n_lanes = len(drives_v)
    victim = validate.integer("victim", victim, 0, n_lanes - 1)
    live = [np.asarray(v, dtype=np.float64) for v in drives_v if v is not None]
    if not live:
        raise InvalidParameter("driver_crosstalk_v needs at least one drive record")
    n = live[0].size
    if any(v.size != n for v in live) or n % sps:
        raise InvalidParameter("drive records must have one length, a whole number of symbols")
    f_ref = crosstalk.driver_reference_hz or 0.5 * validate.positive("symbol_rate_baud", symbol_rate_baud, "Bd")
    h = electrical_coupling_response(np.fft.rfftfreq(n, 1.0 / validate.positive("sample_rate_hz", sample_rate_hz, "Hz")),
                                     crosstalk.driver_shape, f_ref)
    return _coupled_sum(drives_v, victim, crosstalk.driver_matrix(n_lanes)[victim], h, sps, period_symbols)


def _period(n_symbols: int, period_symbols: int | None) -> int:
    """The period the shifts are taken in: ``period_symbols`` (dividing the record) or the record."""
    if period_symbols is None:
        return n_symbols
    p = validate.integer("period_symbols", period_symbols, 1, n_symbols)
    if n_symbols % p:
        raise InvalidParameter(f"period_symbols = {p} does not divide the record's {n_symbols} symbols")
    return p


def coupled_heater_powers(uncoupled_w: Sequence[float], coupling_adjacent: float, *, check: bool = True) -> np.ndarray:
    """Heater powers (W) that lock every ring with neighbour thermal coupling ``kappa``.

    Solves ``(I + kappa N) P = P^0`` (``N`` the adjacency matrix of rings in a row, module
    docstring) for the heater powers each lane needs alone, ``P^0 = uncoupled_w``.

    Raises
    ------
    InvalidParameter
        Negative or non-finite ``uncoupled_w``, ``kappa`` outside [0, 0.5), or a ring that
        would need negative heater power (its neighbours overshoot it: lock lost; the message
        names the lane).  With ``check=False`` the solution is returned as it is (negative
        entries included) for the caller to report.

    Examples
    --------
    >>> coupled_heater_powers([0.02, 0.02], 0.25).round(6).tolist()   # P0 / (1 + kappa)
    [0.016, 0.016]
    """
    p0 = validate.finite_array("uncoupled_w", uncoupled_w, min_size=1)
    if np.any(p0 < 0):
        raise InvalidParameter("uncoupled_w must be >= 0 W (heaters only heat)")
    kappa = validate.in_range("coupling_adjacent", coupling_adjacent, 0.0, 0.5, high_inclusive=False)
    if kappa == 0.0 or p0.size == 1:
        return p0.copy()
    a = np.eye(p0.size) + neighbour_matrix(p0.size, kappa)
    p = np.linalg.solve(a, p0)
    if not check:
        return p
    bad = np.flatnonzero(p < -1e-15 * max(1.0, float(np.max(p0))))
    if bad.size:
        i = int(bad[0])
        raise InvalidParameter(
            f"thermal crosstalk: ring {i} would need {p[i] * 1e3:.3g} mW of heater power (its neighbours "
            f"heat it past its target with kappa = {kappa:g}): lock lost"
        )
    return np.maximum(p, 0.0)


def power_sum_db(values_db: Sequence[float]) -> float:
    """``10 log10(sum 10^(x/10))`` (dB): the total of several incoherent leakages."""
    x = validate.finite_array("values_db", values_db, min_size=1)
    return float(10.0 * math.log10(np.sum(10.0 ** (x / 10.0))))


__all__ = ["ELECTRICAL_SHAPES", "ModuleCrosstalk", "add_received_crosstalk", "coupled_heater_powers",
           "decorrelating_shift_symbols", "driver_crosstalk_v", "electrical_coupling_response",
           "incoherent_added_power_w", "neighbour_matrix", "power_sum_db"]
