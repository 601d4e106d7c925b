"""Crosstalk between the lanes of a module: optical, electrical and thermal (ring heaters).

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
the modulator drivers (before the modulator's non-linearity) is NOT modelled: it would need
the aggressor's drive inside the victim's lane simulation.

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

    def __post_init__(self) -> None:
        for name in ("optical_adjacent_db", "optical_non_adjacent_db", "electrical_adjacent_db"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, validate.in_range(name, value, -80.0, 0.0, high_inclusive=False,
                                                                 unit="dB"))
        if self.electrical_shape not in ELECTRICAL_SHAPES:
            raise InvalidParameter(
                f"electrical_shape = {self.electrical_shape!r}; allowed: {', '.join(ELECTRICAL_SHAPES)}"
            )
        if self.electrical_reference_hz is not None:
            object.__setattr__(self, "electrical_reference_hz",
                               validate.positive("electrical_reference_hz", self.electrical_reference_hz, "Hz"))
        object.__setattr__(self, "heater_coupling_adjacent",
                           validate.in_range("heater_coupling_adjacent", self.heater_coupling_adjacent, 0.0, 0.5,
                                             high_inclusive=False))

    @property
    def signal_coupled(self) -> bool:
        """True if any optical or electrical coupling is on (the received waveforms change)."""
        return any(v is not None for v in (self.optical_adjacent_db, self.optical_non_adjacent_db,
                                           self.electrical_adjacent_db))

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
) -> list[np.ndarray | None]:
    """Received voltages with the optical and electrical crosstalk of the other lanes added.

    ``v_i' = v_i + sum_j C_ij S_ij v_j + sum_j k_ij IFFT[H_xt F(S_ij v_j)]``, ``S_ij`` the
    circular shift of :func:`decorrelating_shift_symbols`, ``C`` and ``k`` the optical and
    electrical matrices of ``crosstalk``; every aggressor enters with its record before any
    crosstalk is added.  A lane given as None (failed) neither receives nor sends crosstalk.

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
    n_sym = n // sps
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
        acc = np.array(v, dtype=np.float64)
        el = np.zeros(n)
        for j, a in enumerate(received_v):
            if j == i or a is None or (c_opt[i, j] == 0.0 and k_el[i, j] == 0.0):
                continue
            shifted = np.roll(np.asarray(a, dtype=np.float64), decorrelating_shift_symbols(i, j, n_lanes, n_sym) * sps)
            if c_opt[i, j] > 0.0:
                acc += c_opt[i, j] * shifted
            if k_el[i, j] > 0.0:
                el += k_el[i, j] * shifted
        if h is not None and np.any(el):
            acc += np.fft.irfft(np.fft.rfft(el) * h, n)
        out.append(acc)
    return out


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
           "decorrelating_shift_symbols", "electrical_coupling_response", "incoherent_added_power_w",
           "neighbour_matrix", "power_sum_db"]
