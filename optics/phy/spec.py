"""PHY specification tables: the frozen :class:`PhySpec` and its TOML loader.

Each PHY is one TOML file in ``optics/phy/data/`` with the sections ``[phy]`` (lanes,
wavelength windows, symbol rate, FEC, BER/SER target, reach), ``[sources]`` (citation per
source id), optional ``[dispersion]`` (fibre model for the derived dispersion row),
optional ``[budget]`` (channel allocations), optional ``[tdecq_method]`` (the transmitter-test
method, :class:`optics.phy.method.TdecqMethod`) and ``[[row]]`` limit rows.  Unknown keys, a
missing unit, min > max, a value out of range or an equation naming an unknown metric are
:class:`SpecError` naming the file, the line (when the TOML text is known) and the row.

A row's ``status`` is ``draft`` (a number from an unapproved draft of the standard, e.g.
IEEE P802.3dj D1.3-D3.2) or ``proposal`` (task-force material); the older ``proposal = true``
still means ``status = "proposal"``.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from optics.errors import InvalidParameter, SpecError
from optics.phy.dispersion import DispersionLimits, dispersion_limits
from optics.phy.limits import METRICS, Expression, LimitRow, bound_text
from optics.phy.method import TdecqMethod, parse_method

#: Display scaling of SI metrics in text tables: metric -> (shown unit, factor).
DISPLAY_SCALE: Mapping[str, tuple[str, float]] = MappingProxyType(
    {"transition_time_s": ("ps", 1e12), "wavelength_m": ("nm", 1e9)}
)

_PHY_KEYS = {
    "name": str, "standard": str, "clause": str, "confidence": str, "lanes": int, "modulation": str,
    "symbol_rate_baud": float, "symbol_rate_tolerance_ppm": float, "fec": str, "ber_limit": float,
    "ber_limit_status": str, "ber_limit_source": str,
    "ser_target": float, "reach_min_m": float, "reach_m": float, "fiber": str,
    "wavelength_windows_nm": list, "orl_tolerance_db": float, "unverified_fields": list, "note": str,
}
_PHY_REQUIRED = ("name", "standard", "lanes", "modulation", "symbol_rate_baud", "reach_m", "wavelength_windows_nm")
_ROW_KEYS = {
    "metric", "label", "group", "unit", "min", "max", "clause", "source", "verified", "informative",
    "proposal", "required", "lane", "note", "condition", "status", "confidence",
}
_ROW_STATUSES = ("draft", "proposal")
_ROW_REQUIRED = ("metric", "label", "group", "unit", "clause", "source", "verified")
_DISPERSION_KEYS = {"s0_ps_per_nm2_km", "lambda0_min_nm", "lambda0_max_nm", "clause", "source", "note"}
_BUDGET_KEYS = {
    "fiber_attenuation_db_per_km", "connection_allocation_db", "connector_loss_db",
    "mpi_dgd_allocation_db", "source", "verified", "note",
}
_TOP_KEYS = {"schema", "phy", "sources", "dispersion", "budget", "row", "tdecq_method"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class BudgetAllocation:
    """Channel allocations a link budget uses (dB), with provenance.

    ``connection_allocation_db`` is the total connection-and-splice allocation that the
    standard's channel insertion loss assumes; ``connector_loss_db`` is the loss per connection
    used when a budget is asked for an explicit number of connectors.
    """

    fiber_attenuation_db_per_km: float
    connection_allocation_db: float
    connector_loss_db: float
    mpi_dgd_allocation_db: float
    source: str
    verified: bool
    note: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class PhySpec:
    """One PHY's specification table (frozen).  Build it with :func:`load_phy`.

    Wavelengths are held in m (``wavelength_windows_m``), rates in Bd, reach in m.
    ``ber_limit`` is the pre-FEC BER limit; ``ber_limit_status`` is None for a published one,
    ``"draft"`` / ``"proposal"`` (with ``ber_limit_source``, the citation) for one taken from an
    unapproved draft or task-force material: it decides a verdict only with ``allow_draft`` /
    ``allow_proposal`` (:class:`optics.verdict.BerCheck`), like a draft / proposal row.
    """

    name: str
    standard: str
    clause: str
    confidence: str
    lanes: int
    modulation: str
    symbol_rate_baud: float
    symbol_rate_tolerance_ppm: float | None
    fec: str
    ber_limit: float | None
    ser_target: float | None
    reach_min_m: float | None
    reach_m: float
    fiber: str
    wavelength_windows_m: tuple[tuple[float, float], ...]
    orl_tolerance_db: float | None
    unverified_fields: tuple[str, ...]
    note: str
    rows: tuple[LimitRow, ...]
    dispersion: DispersionLimits | None
    budget: BudgetAllocation | None
    sources: Mapping[str, str]
    path: str
    tdecq_method: TdecqMethod | None = None
    ber_limit_status: str | None = None
    ber_limit_source: str = ""

    @property
    def wavelength_range_m(self) -> tuple[float, float]:
        """Shortest and longest wavelength over all lanes, m."""
        return (min(w[0] for w in self.wavelength_windows_m), max(w[1] for w in self.wavelength_windows_m))

    def rows_for(self, metric: str) -> tuple[LimitRow, ...]:
        """All rows on ``metric`` (several for per-lane rows or split min/max rows)."""
        return tuple(r for r in self.rows if r.metric == metric)

    def rows_in(self, scope: str) -> tuple[LimitRow, ...]:
        """Rows of scope ``"tx"``, ``"rx"``, ``"channel"`` or ``"all"``."""
        if scope == "all":
            return self.rows
        if scope not in ("tx", "rx", "channel"):
            raise InvalidParameter(f"scope = {scope!r}; allowed: 'tx', 'rx', 'channel', 'all'")
        return tuple(r for r in self.rows if r.group == scope)

    @property
    def unverified_rows(self) -> tuple[LimitRow, ...]:
        """Rows whose value was not quoted from a copy of the standard's table."""
        return tuple(r for r in self.rows if not r.verified)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the header and all rows."""
        d = self.dispersion
        return {
            "name": self.name,
            "standard": self.standard,
            "clause": self.clause,
            "confidence": self.confidence,
            "lanes": self.lanes,
            "modulation": self.modulation,
            "symbol_rate_baud": self.symbol_rate_baud,
            "symbol_rate_tolerance_ppm": self.symbol_rate_tolerance_ppm,
            "fec": self.fec,
            "ber_limit": self.ber_limit,
            "ber_limit_status": self.ber_limit_status,
            "ber_limit_source": self.ber_limit_source,
            "ser_target": self.ser_target,
            "reach_min_m": self.reach_min_m,
            "reach_m": self.reach_m,
            "fiber": self.fiber,
            "wavelength_windows_m": [list(w) for w in self.wavelength_windows_m],
            "orl_tolerance_db": self.orl_tolerance_db,
            "unverified_fields": list(self.unverified_fields),
            "note": self.note,
            "dispersion": None if d is None else {
                "min_ps_per_nm": d.min_ps_per_nm, "max_ps_per_nm": d.max_ps_per_nm,
                "s0_ps_per_nm2_km": d.s0_ps_per_nm2_km, "lambda0_range_nm": list(d.lambda0_range_nm),
            },
            "budget": None if self.budget is None else dataclasses.asdict(self.budget),
            "tdecq_method": None if self.tdecq_method is None else self.tdecq_method.to_dict(),
            "rows": [r.to_dict() for r in self.rows],
            "unverified_rows": [r.label for r in self.unverified_rows],
            "draft_rows": [r.label for r in self.rows if r.draft],
            "proposal_rows": [r.label for r in self.rows if r.proposal and not r.draft],
            "path": self.path,
        }

    def to_text(self) -> str:
        """The table as aligned text; UNVERIFIED and PROPOSAL rows are marked as such."""
        rate = f"{self.symbol_rate_baud / 1e9:.6g} GBd"
        windows = ", ".join(f"{a * 1e9:.1f}-{b * 1e9:.1f}" for a, b in self.wavelength_windows_m)
        lines = [
            f"{self.name}  ({self.standard}, clause {self.clause}; confidence {self.confidence})",
            f"  {self.lanes} lane(s) {self.modulation} at {rate}; FEC {self.fec}; "
            f"BER limit {self.ber_limit if self.ber_limit is not None else 'n/a'}"
            f"{f' [{self.ber_limit_status.upper()}]' if self.ber_limit_status else ''}, "
            f"SER target {self.ser_target if self.ser_target is not None else 'n/a'}",
            f"  reach {self.reach_min_m if self.reach_min_m is not None else '?'}-{self.reach_m:g} m, "
            f"{self.fiber}; wavelength windows {windows} nm",
        ]
        if self.unverified_fields:
            lines.append(f"  UNVERIFIED header fields: {', '.join(self.unverified_fields)}")
        if self.note:
            lines.append(f"  note: {self.note}")
        if self.tdecq_method is not None:
            lines.append("  " + self.tdecq_method.to_text())
        header = ("grp", "parameter", "metric", "min", "max", "unit", "status", "clause")
        table = [header]
        order = {"tx": 0, "rx": 1, "channel": 2}
        for r in sorted(self.rows, key=lambda row: order[row.group]):
            unit, scale = DISPLAY_SCALE.get(r.metric, (r.unit, 1.0))
            label = r.label + (f" (lane {r.lane})" if r.lane is not None else "")
            label += " [informative]" if r.informative else ""
            table.append((r.group, label, r.metric, bound_text(r.min, scale), bound_text(r.max, scale),
                          unit, r.status, r.clause))
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        for row in table:
            lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        n_unv = len(self.unverified_rows)
        lines.append(f"  {n_unv} of {len(self.rows)} rows UNVERIFIED (not quoted from a copy of the IEEE table)")
        n_draft = sum(r.draft for r in self.rows)
        n_prop = sum(r.proposal and not r.draft for r in self.rows)
        if n_draft or n_prop:
            lines.append(f"  {n_draft} DRAFT row(s) (decide a verdict only with --allow-draft), {n_prop} PROPOSAL "
                         "row(s) (only with --allow-proposal)")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------
def _fail(path: str, where: str, msg: str, line: int | None = None) -> SpecError:
    return SpecError(f"{path}{'' if line is None else f':{line}'}: {where}: {msg}")


class _Lines:
    """Line numbers of a TOML text's ``[[row]]`` headers, sections and keys (for error messages)."""

    def __init__(self, text: str | None) -> None:
        self.rows: list[int] = []
        self.keys: dict[tuple[str, str], int] = {}
        self.sections: dict[str, int] = {}
        section = ""
        for n, raw in enumerate((text or "").splitlines(), start=1):
            line = raw.strip()
            if line.startswith("[["):
                section = f"row {len(self.rows)}"
                self.rows.append(n)
            elif line.startswith("["):
                section = line.strip("[]").strip()
                self.sections[section] = n
            elif "=" in line and not line.startswith("#"):
                self.keys.setdefault((section, line.split("=", 1)[0].strip()), n)

    def row(self, i: int, key: str | None = None) -> int | None:
        if key is not None and (f"row {i}", key) in self.keys:
            return self.keys[(f"row {i}", key)]
        return self.rows[i] if i < len(self.rows) else None

    def key(self, section: str, key: str | None) -> int | None:
        if key is not None and (section, key) in self.keys:
            return self.keys[(section, key)]
        return self.sections.get(section)


def _num(path: str, where: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(path, where, f"{key} must be a finite number, got {value!r}")
    return float(value)


def _bound(path: str, where: str, key: str, value: Any, known: set[str]) -> float | Expression | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            expr = Expression(value)
        except SpecError as exc:
            raise _fail(path, where, f"{key}: {exc}") from None
        unknown = sorted(expr.names - known)
        if unknown:
            raise _fail(path, where, f"{key} equation {value!r} names unknown metric(s) {', '.join(unknown)}")
        return expr
    return _num(path, where, key, value)


def _parse_row(path: str, i: int, raw: Any, sources: Mapping[str, str], known: set[str],
               lines: _Lines | None = None) -> LimitRow:
    try:
        return _parse_row_at(path, i, raw, sources, known)
    except _RowError as exc:
        line = None if lines is None else lines.row(i, exc.key)
        raise _fail(path, exc.where, exc.msg, line) from None


class _RowError(Exception):
    def __init__(self, where: str, msg: str, key: str | None = None) -> None:
        super().__init__(msg)
        self.where, self.msg, self.key = where, msg, key


def _parse_row_at(path: str, i: int, raw: Any, sources: Mapping[str, str], known: set[str]) -> LimitRow:
    if not isinstance(raw, dict):
        raise _RowError(f"row {i}", "must be a table")
    where = f"row {i} ({raw.get('metric', '?')!s}: {raw.get('label', '?')!s})"

    def fail(msg: str, key: str | None = None) -> _RowError:
        return _RowError(where, msg, key)

    extra = sorted(set(raw) - _ROW_KEYS)
    if extra:
        raise fail(f"unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(_ROW_KEYS))}", extra[0])
    missing = [k for k in _ROW_REQUIRED if k not in raw]
    if missing:
        raise fail(f"missing {', '.join(missing)}")
    if "min" not in raw and "max" not in raw:
        raise fail("needs a min or a max")
    metric = raw["metric"]
    if metric not in METRICS:
        close = difflib.get_close_matches(metric, list(METRICS), n=3)
        raise fail(f"unknown metric {metric!r}" + (f"; did you mean {', '.join(close)}?" if close else ""), "metric")
    src = raw["source"]
    if src not in sources:
        raise fail(f"source {src!r} is not in [sources] ({', '.join(sorted(sources))})", "source")
    for flag in ("verified", "informative", "proposal", "required"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise fail(f"{flag} must be true or false, got {raw[flag]!r}", flag)
    lane = raw.get("lane")
    if lane is not None and (isinstance(lane, bool) or not isinstance(lane, int) or lane < 0):
        raise fail(f"lane must be an integer >= 0, got {lane!r}", "lane")
    bounds = []
    for side in ("min", "max"):
        try:
            bounds.append(_bound(path, where, side, raw.get(side), known))
        except SpecError as exc:
            raise fail(str(exc).split(f"{where}: ", 1)[-1], side) from None
    lo, hi = bounds
    status = raw.get("status")
    if status is not None and status not in _ROW_STATUSES:
        raise fail(f"status = {status!r}; allowed: {', '.join(_ROW_STATUSES)} (or leave it out for a published row)",
                   "status")
    if status == "draft" and raw.get("proposal") is True:
        raise fail("status = 'draft' with proposal = true: a row is a draft number or a proposal, not both", "status")
    if status is not None and raw.get("verified") is True:
        raise fail(f"a {status} row cannot be verified = true (no published table to check it against)", "verified")
    confidence = raw.get("confidence", "")
    if not isinstance(confidence, str):
        raise fail(f"confidence must be a string (high/medium/low), got {confidence!r}", "confidence")
    if isinstance(lo, float) and isinstance(hi, float) and lo > hi:
        raise fail(f"min {lo} > max {hi}", "min")
    try:
        return LimitRow(
            metric=metric, label=str(raw["label"]), group=raw["group"], unit=raw["unit"], min=lo, max=hi,
            clause=str(raw["clause"]), source=sources[src], verified=raw["verified"],
            informative=raw.get("informative", False),
            proposal=raw.get("proposal", False) or status == "proposal", draft=status == "draft",
            confidence=confidence,
            required=raw.get("required"), lane=lane, note=str(raw.get("note", "")),
            condition=str(raw.get("condition", "")),
        )
    except SpecError as exc:
        raise fail(str(exc)) from None


def _check_keys(path: str, where: str, table: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _fail(path, where, "must be a table")
    extra = sorted(set(table) - allowed)
    if extra:
        raise _fail(path, where, f"unknown key(s) {', '.join(extra)}; allowed: {', '.join(sorted(allowed))}")
    return table


def parse_spec(data: Mapping[str, Any], path: str = "<memory>", text: str | None = None) -> PhySpec:
    """Build a :class:`PhySpec` from a parsed TOML mapping; ``path`` names it in errors.

    ``text`` (the TOML source) adds the line number of a bad row or ``[tdecq_method]`` key
    to the error message (``file:line: where: what``).

    Raises
    ------
    SpecError
        On unknown keys, missing fields, a missing unit, min > max, a bad or unknown source id,
        or an equation with a bad construct or an unknown metric name.
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"{path}: a PHY spec must be a mapping (parsed TOML), got {type(data).__name__}")
    lines = _Lines(text)
    _check_keys(path, "top level", dict(data), _TOP_KEYS)
    phy = _check_keys(path, "[phy]", data.get("phy"), set(_PHY_KEYS))
    missing = [k for k in _PHY_REQUIRED if k not in phy]
    if missing:
        raise _fail(path, "[phy]", f"missing {', '.join(missing)}")
    for key, typ in _PHY_KEYS.items():
        if key in phy:
            ok = isinstance(phy[key], typ) if typ is not float else isinstance(phy[key], (int, float))
            if not ok or isinstance(phy[key], bool):
                raise _fail(path, "[phy]", f"{key} must be {typ.__name__}, got {phy[key]!r}")
    windows = []
    for w in phy["wavelength_windows_nm"]:
        if not (isinstance(w, list) and len(w) == 2) or not all(isinstance(x, (int, float)) for x in w) or w[0] > w[1]:
            raise _fail(path, "[phy]", f"wavelength window {w!r} must be [shortest_nm, longest_nm]")
        windows.append((float(w[0]), float(w[1])))
    if not windows:
        raise _fail(path, "[phy]", "wavelength_windows_nm is empty")
    sources = data.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise _fail(path, "[sources]", "must map source ids to citation strings")
    known = set(METRICS)
    rows_raw = data.get("row", [])
    if not isinstance(rows_raw, list):
        raise _fail(path, "[[row]]", "must be an array of tables")
    rows = [_parse_row(path, i, r, sources, known, lines) for i, r in enumerate(rows_raw)]

    reach_m = _num(path, "[phy]", "reach_m", phy["reach_m"])
    disp = None
    if "dispersion" in data:
        dt = _check_keys(path, "[dispersion]", data["dispersion"], _DISPERSION_KEYS)
        for k in ("s0_ps_per_nm2_km", "lambda0_min_nm", "lambda0_max_nm", "clause", "source"):
            if k not in dt:
                raise _fail(path, "[dispersion]", f"missing {k}")
        if dt["source"] not in sources:
            raise _fail(path, "[dispersion]", f"source {dt['source']!r} is not in [sources]")
        lo_nm = min(w[0] for w in windows)
        hi_nm = max(w[1] for w in windows)
        try:
            disp = dispersion_limits(
                (lo_nm, hi_nm), reach_m, s0_ps_per_nm2_km=_num(path, "[dispersion]", "s0", dt["s0_ps_per_nm2_km"]),
                lambda0_range_nm=(float(dt["lambda0_min_nm"]), float(dt["lambda0_max_nm"])),
            )
        except InvalidParameter as exc:
            raise _fail(path, "[dispersion]", str(exc)) from None
        rows.append(LimitRow(
            metric="chromatic_dispersion_ps_per_nm", label="Chromatic dispersion", group="channel",
            unit="ps/nm", min=round(disp.min_ps_per_nm, 4), max=round(disp.max_ps_per_nm, 4),
            clause=str(dt["clause"]), source=sources[dt["source"]], verified=False,
            note=(f"[D] computed: D = S0/4 (λ - λ0^4/λ^3), S0 = {disp.s0_ps_per_nm2_km} ps/(nm^2 km), "
                  f"λ0 {disp.lambda0_range_nm[0]:g}-{disp.lambda0_range_nm[1]:g} nm, window "
                  f"{lo_nm:g}-{hi_nm:g} nm, {reach_m:g} m. " + str(dt.get("note", ""))).strip(),
        ))
    budget = None
    if "budget" in data:
        bt = _check_keys(path, "[budget]", data["budget"], _BUDGET_KEYS)
        for k in ("fiber_attenuation_db_per_km", "connection_allocation_db", "mpi_dgd_allocation_db",
                  "source", "verified"):
            if k not in bt:
                raise _fail(path, "[budget]", f"missing {k}")
        if bt["source"] not in sources:
            raise _fail(path, "[budget]", f"source {bt['source']!r} is not in [sources]")
        vals = {k: _num(path, "[budget]", k, bt[k]) for k in
                ("fiber_attenuation_db_per_km", "connection_allocation_db", "mpi_dgd_allocation_db")}
        if any(v < 0 for v in vals.values()):
            raise _fail(path, "[budget]", f"allocations must be >= 0, got {vals}")
        budget = BudgetAllocation(
            **vals, connector_loss_db=_num(path, "[budget]", "connector_loss_db", bt.get("connector_loss_db", 0.5)),
            source=sources[bt["source"]], verified=bool(bt["verified"]), note=str(bt.get("note", "")),
        )

    method = None
    if "tdecq_method" in data:
        table = data["tdecq_method"]
        try:
            method = parse_method(table, sources, float(phy["symbol_rate_baud"]))
        except SpecError as exc:
            msg = str(exc)
            key = next((k for k in (table if isinstance(table, dict) else ()) if msg.startswith(k)
                        or f" {k}" in msg.split(";")[0]), None)
            raise _fail(path, "[tdecq_method]", msg, lines.key("tdecq_method", key)) from None

    def opt(key: str) -> float | None:
        return float(phy[key]) if key in phy else None

    # a draft / proposal BER limit (e.g. 802.3dj) carries its status and source like a row
    ber_status, ber_source = phy.get("ber_limit_status"), phy.get("ber_limit_source")
    if (ber_status is not None or ber_source is not None) and "ber_limit" not in phy:
        raise _fail(path, "[phy]", "ber_limit_status / ber_limit_source describe a ber_limit, which is missing")
    if ber_status is not None and ber_status not in _ROW_STATUSES:
        raise _fail(path, "[phy]", f"ber_limit_status = {ber_status!r}; allowed: {', '.join(_ROW_STATUSES)} "
                    "(leave it out for a published limit)", lines.key("phy", "ber_limit_status"))
    if ber_source is not None and ber_source not in sources or ber_status is not None and ber_source is None:
        raise _fail(path, "[phy]", f"ber_limit_source = {ber_source!r} must name an entry of [sources] "
                    f"({', '.join(sorted(sources))})", lines.key("phy", "ber_limit_source"))

    return PhySpec(
        name=phy["name"], standard=phy["standard"], clause=phy.get("clause", "?"),
        confidence=phy.get("confidence", "?"), lanes=phy["lanes"], modulation=phy["modulation"],
        symbol_rate_baud=float(phy["symbol_rate_baud"]), symbol_rate_tolerance_ppm=opt("symbol_rate_tolerance_ppm"),
        fec=phy.get("fec", "?"), ber_limit=opt("ber_limit"), ser_target=opt("ser_target"),
        reach_min_m=opt("reach_min_m"), reach_m=reach_m, fiber=phy.get("fiber", "SMF"),
        wavelength_windows_m=tuple((a * 1e-9, b * 1e-9) for a, b in windows),
        orl_tolerance_db=opt("orl_tolerance_db"), unverified_fields=tuple(phy.get("unverified_fields", ())),
        note=phy.get("note", ""), rows=tuple(rows), dispersion=disp, budget=budget,
        sources=MappingProxyType(dict(sources)), path=path, tdecq_method=method,
        ber_limit_status=ber_status, ber_limit_source="" if ber_source is None else sources[ber_source],
    )


def load_spec_file(path: str | Path) -> PhySpec:
    """Load a PHY table from a TOML file anywhere on disk (for custom or draft tables).

    Raises
    ------
    SpecError
        If the file is not valid TOML or the table is malformed (message names file and row).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{p}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{p}: cannot read the PHY table ({exc})") from None
    return parse_spec(data, str(p), text)


def _data_files() -> list[Any]:
    return sorted((f for f in resources.files("optics.phy").joinpath("data").iterdir()
                   if f.name.endswith(".toml")), key=lambda f: f.name)


@functools.lru_cache(maxsize=None)
def _catalogue() -> Mapping[str, PhySpec]:
    out: dict[str, PhySpec] = {}
    for f in _data_files():
        text = f.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{f.name}: not valid TOML: {exc}") from None
        spec = parse_spec(data, f"optics/phy/data/{f.name}", text)
        if spec.name.upper() in out:
            raise SpecError(f"{f.name}: PHY {spec.name!r} is defined twice")
        out[spec.name.upper()] = spec
    return MappingProxyType(out)


def list_phys() -> list[str]:
    """Names of the PHYs with a table in the package, sorted.

    >>> "400GBASE-DR4" in list_phys()
    True
    """
    return sorted(s.name for s in _catalogue().values())


def load_phy(name: str) -> PhySpec:
    """Return the specification table of PHY ``name`` (case-insensitive).

    Raises
    ------
    SpecError
        For an unknown name; the message suggests the closest names.

    Examples
    --------
    >>> spec = load_phy("400GBASE-DR4")
    >>> spec.lanes, spec.symbol_rate_baud
    (4, 53125000000.0)
    """
    if not isinstance(name, str):
        raise SpecError(f"a PHY name must be a string, got {name!r}")
    cat = _catalogue()
    key = name.strip().upper()
    if key in cat:
        return cat[key]
    names = list_phys()
    close = difflib.get_close_matches(key, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise SpecError(f"unknown PHY {name!r}{hint} Known PHYs: {', '.join(names)}")
