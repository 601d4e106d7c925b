"""Test plans: what a station measures on a product, and against which limits.

A plan is a TOML file, one per product::

    name = "800G-DR8-demo"          # plan name, stored with every record
    phy = "800GBASE-DR8"            # limits are taken from this PHY table by row name
    lanes = 8                       # lanes 0 .. lanes-1
    temperatures_c = [25.0, 70.0]   # case temperatures, in this order
    guard_band = 0.2                # product guard band (dB) on every dB/dBm limit, default 0;
                                    # a linear-unit row gets one only from guard_bands
    characterisation = false        # true: a plan that records values without judging them

    [repeatability]                 # optional: the station's 1-sigma measurement repeatability
    tdecq_db = 0.15                 # (row unit), from a repeatability study; yield prediction's
    oma_outer_dbm = 0.1             # guard-band / test-escape analysis uses it (optics yield)

    [burn_in]                       # optional: the line burns modules in before this test
    hours = 48.0                    # 0 ... 10^4 h (0: no screen)
    temperature_c = 125.0           # -40 ... 200 °C
    source = "line process sheet"   # optional: where the numbers come from

    [thermal]                       # optional: how each temperature is reached
    window_k = 1.0                  # at temperature within +- window (K) ...
    soak_s = 30.0                   # ... for this long (s)
    timeout_s = 900.0               # give up (ERROR) if not at temperature by then (s)

    [[step]]
    name = "tx"
    kind = "tx"                     # tx | rx_sensitivity | ddm
    retries = 1                     # extra attempts of this step group after an ERROR
    limits = ["average_power_dbm", "oma_outer_dbm", "extinction_ratio_db", "tdecq_db"]
    guard_bands = { tdecq_db = 0.3 }    # per-limit product guard bands (override)
    settings = { pattern = "PRBS13Q" }  # step settings, see STEP_SETTINGS

``[burn_in]`` is a process step before the test, not a step of it: the station does not run
it; the yield prediction (``optics yield``, :mod:`optics.volume.evaluate`) removes the modules
it screens, with these hours and temperature overriding the population's (the command line's
``--burn-in-hours/--burn-in-temperature-c`` override both), the weak subpopulation being the
population's.

Each limit names a row of the PHY table (see ``optics phys NAME``); the product guard band
tightens it (a value inside the guard band is MARGINAL).  ``transition_time_s`` (the scope's
PAM transition time) needs a pattern with long 0 <-> 3 edges: SSPRQ on the module and in the
step's ``pattern`` setting.

**Every plan judges.**  A ``tx`` or ``rx_sensitivity`` step without ``limits`` would record
its values as "recorded, no limit in the plan" and pass whatever it measured, and a ``ddm``
step only records the module's monitors; so a plan in which a ``tx`` / ``rx_sensitivity``
step has no limits, or in which no step has any, is refused -- unless it declares
``characterisation = true``: a characterisation plan (design validation, a monitor read-out)
records values without judging them, and says so in its file (and in its hash).

**Guard bands** (``guard_band`` and each ``guard_bands`` entry) are finite numbers >= 0 in the
row's unit.  A value whose margin to a limit is below the guard band is MARGINAL, so on a
two-sided window ``[min, max]`` only ``[min + g, max - g]`` can PASS: a guard band ``g`` with
``2 g >= max - min`` leaves nothing that could pass and is refused, naming the window (for a
metric the table gives as a min row and a max row, the window of the two; per-lane rows, each
lane's; windows with an equation bound are not checked, they depend on the measured values).

Everything is checked when the plan is loaded, before any instrument is touched: unknown
keys, a limit naming no PHY row, a step needing an instrument the bench lacks, a plan that
judges nothing, a guard band that is not finite or leaves no PASS window.  Errors name the
file, the key and its line.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from optics.errors import ConfigError
from optics.toml_lines import line_of as _line_of
from optics.phy.limits import LOG_UNITS as _LOG_UNITS
from optics.phy.method import resolve_ffe
from optics.station.records import plan_hash

#: Instruments each step kind needs on the bench.
STEP_INSTRUMENTS: Mapping[str, tuple[str, ...]] = {
    "tx": ("scope", "power_meter"),
    "rx_sensitivity": ("attenuator", "bert", "power_meter"),
    "ddm": ("module",),
}

#: Measurements each step kind produces (limits must be among them).
STEP_METRICS: Mapping[str, tuple[str, ...]] = {
    "tx": ("average_power_dbm", "oma_outer_dbm", "extinction_ratio_db", "tdecq_db", "ceq_db",
           "tdecq_minus_ceq_db", "oma_minus_tdecq_dbm", "rlm", "transition_time_s"),
    "rx_sensitivity": ("rx_sensitivity_oma_dbm", "rx_sensitivity_average_dbm"),
    "ddm": ("module_temperature_c", "supply_voltage_v", "tx_power_dbm", "rx_power_dbm",
            "laser_bias_a"),
}

#: Settings each step kind accepts: name -> (allowed types, meaning).  Unknown settings are errors.
STEP_SETTINGS: Mapping[str, Mapping[str, tuple[tuple[type, ...], str]]] = {
    "tx": {
        "pattern": ((str,), "transmitted PAM4 pattern name (optics.patterns), sets the scope's pattern lock"),
        "symbol_rate_baud": ((int, float), "symbol rate, Bd (default: the PHY's)"),
        "n_patterns": ((int,), "pattern repetitions acquired per lane (default 1)"),
        "tdecq_taps": ((int,), "TDECQ reference equaliser taps (default: the PHY's TDECQ method's, else 5)"),
        "tdecq_precursors": ((int,), "of which precursors (default: the PHY method's when its taps are used, else 1)"),
        "export_eye": ((bool,), "export the pattern waveform for the report's eye diagram (default true)"),
    },
    "rx_sensitivity": {
        "pattern": ((str,), "BERT pattern (PRBSnQ)"),
        "symbol_rate_baud": ((int, float), "symbol rate, Bd (default: the PHY's)"),
        "ber_threshold": ((float,), "BER defining the sensitivity (default: the PHY's BER limit)"),
        "gate_time_s": ((int, float), "BERT gate time per point, s (default 0.01)"),
        "coarse_step_db": ((int, float), "attenuation step of the coarse sweep, dB (default 1)"),
        "refine_points": ((int,), "interpolated points measured around the crossing (default 2)"),
        "max_points": ((int,), "most BER points per lane before giving up (default 20)"),
        "start_margin_db": ((int, float), "first point this far above the sensitivity limit, dB (default 3)"),
        "rx_path_offset_db": ((int, float), "receiver input power minus power-meter reading, dB (bench calibration)"),
        "reference_secq_db": ((int, float), "SECQ of the reference source, dB (for SECQ-dependent limits)"),
    },
    "ddm": {},
}

#: Allowed ranges of numeric settings, ``(low, high, unit)`` inclusive: a plan whose settings cannot
#: work is refused when it is loaded, not found out lane by lane after the bench was set up.
SETTING_RANGES: Mapping[str, Mapping[str, tuple[float, float, str]]] = {
    "tx": {
        "symbol_rate_baud": (1e9, 300e9, "Bd"),
        "n_patterns": (1, 10**6, ""),
        "tdecq_taps": (1, 41, ""),
        "tdecq_precursors": (0, 40, ""),
    },
    "rx_sensitivity": {
        "symbol_rate_baud": (1e9, 300e9, "Bd"),
        "ber_threshold": (1e-15, 0.5, ""),
        "gate_time_s": (1e-3, 1e6, "s"),          # the BERT's gate-time range
        "coarse_step_db": (0.01, 20.0, "dB"),
        "refine_points": (0, 20, ""),
        "max_points": (2, 1000, ""),
        "start_margin_db": (-20.0, 40.0, "dB"),
        "rx_path_offset_db": (-40.0, 40.0, "dB"),
        "reference_secq_db": (0.0, 20.0, "dB"),
    },
    "ddm": {},
}

_THERMAL_KEYS = {"window_k", "soak_s", "timeout_s"}
_TOP_KEYS = {"name", "phy", "lanes", "temperatures_c", "guard_band", "step", "description", "thermal",
             "characterisation", "repeatability", "burn_in"}
_BURN_IN_KEYS = ("hours", "temperature_c", "source")
#: Step kinds that judge their values against limits (a ``ddm`` step only records monitors).
JUDGING_KINDS = ("tx", "rx_sensitivity")
_STEP_KEYS = {"name", "kind", "retries", "limits", "guard_bands", "settings"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    """One step group of a plan."""

    name: str
    kind: str
    retries: int
    limits: tuple[str, ...]
    guard_bands: Mapping[str, float]
    settings: Mapping[str, Any]

    @property
    def instruments(self) -> tuple[str, ...]:
        """Bench instruments this step needs."""
        return STEP_INSTRUMENTS[self.kind]

    def guard_band(self, metric: str, default: float) -> float:
        """Product guard band for ``metric`` (row unit)."""
        return float(self.guard_bands.get(metric, default))


@dataclasses.dataclass(frozen=True, kw_only=True)
class TestPlan:
    """A validated test plan (see the module docstring for the file format)."""

    __test__ = False  # not a pytest test class

    name: str
    phy: str
    lanes: int
    temperatures_c: tuple[float, ...]
    guard_band: float
    steps: tuple[Step, ...]
    path: Path | None
    sha256: str
    description: str = ""
    thermal: Mapping[str, float] = dataclasses.field(default_factory=dict)
    characterisation: bool = False
    repeatability: Mapping[str, float] = dataclasses.field(default_factory=dict)
    #: ``{"hours": h, "temperature_c": T}`` of the plan's ``[burn_in]`` (empty without one).
    burn_in: Mapping[str, float] = dataclasses.field(default_factory=dict)

    @property
    def instruments(self) -> tuple[str, ...]:
        """All bench instruments the plan needs (with ``thermal`` when temperatures are set)."""
        needed: list[str] = []
        for s in self.steps:
            needed.extend(i for i in s.instruments if i not in needed)
        if self.temperatures_c and "thermal" not in needed:
            needed.append("thermal")
        return tuple(needed)

    def check_bench(self, available: Iterable[str]) -> None:
        """Raise :class:`ConfigError` if a step needs an instrument the bench lacks."""
        have = set(available)
        for s in self.steps:
            missing = [i for i in s.instruments if i not in have]
            if missing:
                raise ConfigError(
                    f"{self.path or 'plan'}: step {s.name!r} (kind {s.kind!r}) needs "
                    f"instrument(s) {', '.join(missing)} which the bench lacks "
                    f"(bench has: {', '.join(sorted(have)) or 'nothing'})"
                )
        if self.temperatures_c and "thermal" not in have:
            raise ConfigError(
                f"{self.path or 'plan'}: temperatures_c is set but the bench has no 'thermal' instrument"
            )


def load_plan(
    path: str | Path,
    *,
    phy_rows: Callable[[str], Iterable[str]] | None = None,
    bench_instruments: Iterable[str] | None = None,
) -> TestPlan:
    """Read and validate a plan file.

    Parameters
    ----------
    path : str or Path
        The TOML plan.
    phy_rows : callable, optional
        ``phy_rows(phy_name)`` returns the metric names of that PHY's rows (raises for an unknown
        PHY).  Defaults to the package's PHY tables (:mod:`optics.phy`).
    bench_instruments : iterable of str, optional
        Instrument names the bench offers; when given, the plan is checked against them.

    Raises
    ------
    ConfigError
        Unreadable file, TOML syntax, unknown key, bad value or a setting out of its range
        (:data:`SETTING_RANGES`), a limit naming no PHY row or a metric the step does not
        measure, a limit equation needing an input the step does not supply (e.g. SECQ without
        ``reference_secq_db``; checked against the package's PHY tables), an instrument the
        bench lacks.  The message names the file, the key and its line.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read plan {path}: {exc.strerror}") from None
    text = raw.decode("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None

    def fail(msg: str, key: str, *, header: str | None = None, occurrence: int = 0) -> ConfigError:
        line = _line_of(text, key, header=header, occurrence=occurrence)
        where = f"{path}:{line}" if line else str(path)
        return ConfigError(f"{where}: {msg}")

    for key in data:
        if key not in _TOP_KEYS:
            raise fail(f"unknown key {key!r}; allowed: {', '.join(sorted(_TOP_KEYS))}", key)
    for key in ("name", "phy", "step"):
        if key not in data:
            raise ConfigError(f"{path}: missing required key {key!r}")
    name, phy = data["name"], data["phy"]
    if not isinstance(name, str) or not name.strip():
        raise fail("name must be a non-empty string", "name")
    if not isinstance(phy, str):
        raise fail("phy must be a string naming a PHY table", "phy")
    lanes = data.get("lanes", 1)
    if isinstance(lanes, bool) or not isinstance(lanes, int) or not 1 <= lanes <= 32:
        raise fail(f"lanes = {lanes!r} must be an integer in [1, 32]", "lanes")
    temps = data.get("temperatures_c", [])
    if not isinstance(temps, list) or not all(
        isinstance(t, (int, float)) and not isinstance(t, bool) and -60 <= t <= 150 for t in temps
    ):
        raise fail(f"temperatures_c = {temps!r} must be a list of numbers in [-60, 150] °C",
                   "temperatures_c")
    guard = data.get("guard_band", 0.0)
    if isinstance(guard, bool) or not isinstance(guard, (int, float)) or not (math.isfinite(guard) and guard >= 0):
        raise fail(f"guard_band = {guard!r} must be a finite number >= 0 (dB)", "guard_band")
    characterisation = data.get("characterisation", False)
    if not isinstance(characterisation, bool):
        raise fail(f"characterisation = {characterisation!r} must be true or false", "characterisation")

    repeatability = data.get("repeatability", {})
    if not isinstance(repeatability, dict):
        raise fail("repeatability must be a table { measurement = sigma }", "repeatability")
    all_metrics = {m for names in STEP_METRICS.values() for m in names}
    for key, val in repeatability.items():
        if key not in all_metrics:
            raise fail(f"repeatability: {key!r} is no measurement of a step; allowed: "
                       f"{', '.join(sorted(all_metrics))}", key, header="repeatability")
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not (math.isfinite(val) and val >= 0):
            raise fail(f"repeatability: {key} = {val!r} must be a finite number >= 0 (the measurement's "
                       "1-sigma repeatability in its unit)", key, header="repeatability")

    burn_in = _burn_in(data, fail)

    thermal = data.get("thermal", {})
    if not isinstance(thermal, dict):
        raise fail("[thermal] must be a table", "thermal")
    for key, val in thermal.items():
        if key not in _THERMAL_KEYS:
            raise fail(f"[thermal]: unknown key {key!r}; allowed: {', '.join(sorted(_THERMAL_KEYS))}", key,
                       header="thermal")
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not 0 <= val <= 86400:
            raise fail(f"[thermal]: {key} = {val!r} must be a number in [0, 86400]", key, header="thermal")

    limit_inputs = limit_windows = phy_method = None
    if phy_rows is None:
        phy_rows = _package_phy_rows
        limit_inputs = _package_limit_inputs
        limit_windows = _package_limit_windows
        phy_method = _package_phy_method
    try:
        rows = set(phy_rows(phy))
    except Exception as exc:  # unknown PHY: the PHY loader's message suggests names
        raise fail(f"phy = {phy!r}: {exc}", "phy") from None

    raw_steps = data["step"]
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fail("'step' must be one or more [[step]] tables", "step")
    steps = []
    names_seen: set[str] = set()
    for k, st in enumerate(raw_steps):
        def sfail(msg: str, key: str) -> ConfigError:
            return fail(f"[[step]] #{k + 1}: {msg}", key, header="step", occurrence=k)

        for key in st:
            if key not in _STEP_KEYS:
                raise sfail(f"unknown key {key!r}; allowed: {', '.join(sorted(_STEP_KEYS))}", key)
        sname = st.get("name")
        if not isinstance(sname, str) or not sname:
            raise sfail("name must be a non-empty string", "name")
        if sname in names_seen:
            raise sfail(f"duplicate step name {sname!r}", "name")
        names_seen.add(sname)
        kind = st.get("kind")
        if kind not in STEP_INSTRUMENTS:
            raise sfail(f"kind = {kind!r}; allowed: {', '.join(STEP_INSTRUMENTS)}", "kind")
        retries = st.get("retries", 0)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
            raise sfail(f"retries = {retries!r} must be an integer in [0, 10]", "retries")
        limits = st.get("limits", [])
        if not isinstance(limits, list) or not all(isinstance(x, str) for x in limits):
            raise sfail("limits must be a list of PHY row names", "limits")
        for lim in limits:
            if lim not in STEP_METRICS[kind]:
                raise sfail(
                    f"limit {lim!r} is not measured by a {kind!r} step; it measures: "
                    f"{', '.join(STEP_METRICS[kind])}", "limits")
            if lim not in rows:
                raise sfail(f"limit {lim!r} names no row of PHY {phy}; its rows: "
                            f"{', '.join(sorted(rows))}", "limits")
            for source, names in (limit_inputs(phy, lim) if limit_inputs is not None else []):
                # a limit equation's inputs: what the step measures, or a setting
                supplied = set(STEP_METRICS[kind]) | (
                    {"secq_db"} if "reference_secq_db" in st.get("settings", {}) else set())
                missing = sorted(set(names) - supplied)
                if missing:
                    hint = "; set reference_secq_db in the step's settings" if "secq_db" in missing else ""
                    raise sfail(f"limit {lim!r} is {source}: it needs {', '.join(missing)}, which a {kind!r} "
                                f"step does not supply{hint}", "limits")
        gbs = st.get("guard_bands", {})
        if not isinstance(gbs, dict):
            raise sfail("guard_bands must be a table of limit name = number", "guard_bands")
        for key, val in gbs.items():
            if key not in limits:
                raise sfail(f"guard band for {key!r}, which is not among this step's limits", key)
            if isinstance(val, bool) or not isinstance(val, (int, float)) or not (math.isfinite(val) and val >= 0):
                raise sfail(f"guard band {key} = {val!r} must be a finite number >= 0", key)
        for lim in limits if limit_windows is not None else ():
            # the guard band each limit gets (verdict.evaluate): its own, else the plan's on dB rows
            g, key = (float(gbs[lim]), lim) if lim in gbs else (float(guard), "guard_band")
            for lo, hi, unit in limit_windows(phy, lim):
                applies = key != "guard_band" or unit in _LOG_UNITS
                if applies and g > 0 and 2 * g >= hi - lo:
                    du = "dB" if unit in _LOG_UNITS else unit          # a dBm window is dB wide
                    what = f"guard_band = {g:g} dB" if key == "guard_band" else f"guard band {lim} = {g:g} {du}"
                    msg = (f"{what} leaves no value of {lim!r} that could PASS: its {phy} window is "
                           f"[{lo:g}, {hi:g}] {unit}, {hi - lo:g} {du} wide, and a guard band on each of its "
                           f"limits must be below half of that (< {(hi - lo) / 2:g} {du})")
                    if key == "guard_band":
                        raise fail(f"[[step]] #{k + 1}: {msg}", "guard_band")
                    raise sfail(msg, key)
        settings = st.get("settings", {})
        if not isinstance(settings, dict):
            raise sfail("settings must be a table", "settings")
        allowed = STEP_SETTINGS[kind]
        for key, val in settings.items():
            if key not in allowed:
                raise sfail(f"unknown setting {key!r} for a {kind!r} step; allowed: "
                            f"{', '.join(sorted(allowed)) or 'none'}", key)
            types = allowed[key][0]
            if isinstance(val, bool) and bool not in types or not isinstance(val, types):
                raise sfail(f"setting {key} = {val!r} must be of type {'/'.join(t.__name__ for t in types)}", key)
            rng = SETTING_RANGES[kind].get(key)
            if rng is not None and not rng[0] <= val <= rng[1]:      # also refuses nan / inf
                raise sfail(f"setting {key} = {val!r} must be in [{rng[0]:g}, {rng[1]:g}]"
                            + (f" {rng[2]}" if rng[2] else ""), key)
        if kind == "tx":
            # the taps and precursors the step measures with: the same resolution as the station's
            # and the prediction's (optics.phy.method.step_tdecq), from the plan's PHY method
            taps, pre = resolve_ffe(settings, phy_method(phy) if phy_method is not None else None)
            if pre >= taps:
                src = "" if "tdecq_taps" in settings else f" (PHY {phy}'s TDECQ method or the default)"
                raise sfail(f"setting tdecq_precursors = {pre} must be below tdecq_taps = {taps}{src}",
                            "tdecq_precursors" if "tdecq_precursors" in settings else "tdecq_taps")
        if kind in JUDGING_KINDS and not limits and not characterisation:
            raise sfail(f"step {sname!r} (kind {kind!r}) has no limits: it would record every value as "
                        f"'no limit in the plan' and pass it; list its limits (rows of PHY {phy}: "
                        f"{', '.join(m for m in STEP_METRICS[kind] if m in rows) or 'none'}), or declare "
                        "characterisation = true for a plan that records without judging", "limits")
        steps.append(Step(name=sname, kind=kind, retries=retries, limits=tuple(limits),
                          guard_bands=dict(gbs), settings=dict(settings)))

    if not characterisation and not any(s.limits for s in steps):
        raise fail(f"no step of plan {name!r} judges anything (its steps: "
                   f"{', '.join(f'{s.name} ({s.kind})' for s in steps)}; a ddm step only records the "
                   "module's monitors): every run would PASS unjudged.  Add a tx or rx_sensitivity step "
                   "with limits, or declare characterisation = true for a plan that records without judging",
                   "step")

    plan = TestPlan(name=name, phy=phy, lanes=lanes, temperatures_c=tuple(float(t) for t in temps),
                    guard_band=float(guard), steps=tuple(steps), path=path, sha256=plan_hash(raw),
                    description=str(data.get("description", "")),
                    thermal={k: float(v) for k, v in thermal.items()}, characterisation=characterisation,
                    repeatability={k: float(v) for k, v in repeatability.items()}, burn_in=burn_in)
    if bench_instruments is not None:
        plan.check_bench(bench_instruments)
    return plan


def _burn_in(data: Mapping[str, Any], fail: Callable[..., ConfigError]) -> dict[str, float]:
    """The plan's ``[burn_in]`` (hours, temperature_c in the population file's ranges), {} without one."""
    if "burn_in" not in data:
        return {}
    from models.population import BURN_IN_HOURS_RANGE, BURN_IN_TEMPERATURE_RANGE_C

    table = data["burn_in"]
    if not isinstance(table, dict):
        raise fail("burn_in must be a table [burn_in] with hours and temperature_c", "burn_in")
    out: dict[str, float] = {}
    for key, val in table.items():
        if key not in _BURN_IN_KEYS:
            raise fail(f"[burn_in]: unknown key {key!r}; allowed: {', '.join(_BURN_IN_KEYS)}", key, header="burn_in")
        if key == "source":
            if not isinstance(val, str):
                raise fail(f"[burn_in]: source = {val!r} must be a string", key, header="burn_in")
            continue
        low, high, unit = (*BURN_IN_HOURS_RANGE, "h") if key == "hours" else (*BURN_IN_TEMPERATURE_RANGE_C, "°C")
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not (math.isfinite(val) and low <= val <= high):
            raise fail(f"[burn_in]: {key} = {val!r} must be a number in [{low:g}, {high:g}] {unit}", key,
                       header="burn_in")
        out[key] = float(val)
    for key in ("hours", "temperature_c"):
        if key not in out:
            raise fail(f"[burn_in] needs {key}", "burn_in")
    return out


def _package_limit_inputs(phy: str, metric: str) -> list[tuple[str, frozenset[str]]]:
    """``(equation, its input names)`` of each limit equation of ``metric`` in the PHY table."""
    from optics.phy import load_phy

    out = []
    for row in load_phy(phy).rows:
        if row.metric == metric:
            for lim in (row.min, row.max):
                names = getattr(lim, "names", None)
                if names:
                    out.append((str(getattr(lim, "source", lim)), frozenset(names)))
    return out


def _package_limit_windows(phy: str, metric: str) -> list[tuple[float, float, str]]:
    """``(min, max, unit)`` of each two-sided numeric window ``metric`` is judged on.

    The rows a verdict merges (a min row and a max row of one metric) give one window; per-lane
    rows one window per lane.  Windows with an equation bound are left out.
    """
    from optics.phy import load_phy

    by_lane: dict[int | None, list[Any]] = {}
    for row in load_phy(phy).rows:
        if row.metric == metric:
            by_lane.setdefault(row.lane, []).append(row)
    out = []
    for rows in by_lane.values():
        bounds = [b for r in rows for b in (r.min, r.max) if b is not None]
        if any(not isinstance(b, (int, float)) for b in bounds):
            continue
        mins = [float(r.min) for r in rows if r.min is not None]
        maxs = [float(r.max) for r in rows if r.max is not None]
        if mins and maxs:
            out.append((max(mins), min(maxs), rows[0].unit))
    return out


def _package_phy_method(phy: str) -> Any:
    """The PHY table's TDECQ method (:class:`optics.phy.method.TdecqMethod`), None without one."""
    from optics.phy import load_phy

    return load_phy(phy).tdecq_method


def _package_phy_rows(phy: str) -> Iterable[str]:
    from optics.phy import load_phy  # the PHY tables of this package

    spec = load_phy(phy)
    return [row.metric for row in spec.rows]
