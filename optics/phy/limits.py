"""Limit rows of a PHY table, the tiny expression language for equation limits, metric units.

IEEE 802.3 gives some limits as equations of other measured quantities, e.g. the
400GBASE-DR4 transmitter OMA floor ``max(-0.8, -2.2 + TDECQ)`` dBm (802.3bs, Clause 124)
or the 400GBASE-FR4 ``OMAouter - TDECQ`` floor that depends on the extinction ratio.
Such limits are written in the spec files as strings in a deliberately tiny language:

* numbers, metric names (``tdecq_db``, ``extinction_ratio_db``, ``secq_db`` ...);
* ``+ - * /`` and unary minus;
* ``max(a, b, ...)``, ``min(a, b, ...)``, ``log10(x)``;
* comparisons ``< <= > >=`` and the conditional ``a if condition else b`` (for the ER split).

The string is parsed with :mod:`ast` and every node is checked against that list; it is then
evaluated by the small interpreter below.  Nothing is ever passed to ``eval``.

Metric names carry their unit in a suffix (``_dbm``, ``_db``, ``_s``, ``_m``,
``_db_per_hz``, ``_ps_per_nm`` ...), following the cross-team metric names.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from optics.errors import InvalidParameter, SpecError

#: Unit suffix of a metric name -> unit string used in the spec tables.  Longest first.
UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_db_per_hz", "dB/Hz"),
    ("_ps_per_nm", "ps/nm"),
    ("_dbm", "dBm"),
    ("_db", "dB"),
    ("_ui", "UI"),
    ("_baud", "Bd"),
    ("_hz", "Hz"),
    ("_w", "W"),
    ("_s", "s"),
    ("_m", "m"),
)

#: Suffixes that name a unit the toolkit does not use for metrics (so a key ending in one of
#: them is a unit mistake, e.g. ``oma_outer_mw``), with the unit they mean.
FOREIGN_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_db_per_km", "dB/km"),
    ("_ps_per_nm_km", "ps/(nm km)"),
    ("_mw", "mW"),
    ("_uw", "uW"),
    ("_nw", "nW"),
    ("_ps", "ps"),
    ("_ns", "ns"),
    ("_fs", "fs"),
    ("_nm", "nm"),
    ("_um", "um"),
    ("_mm", "mm"),
    ("_km", "km"),
    ("_ghz", "GHz"),
    ("_mhz", "MHz"),
    ("_gbd", "GBd"),
    ("_percent", "%"),
)

#: Units in which a margin is itself in dB (guard bands in dB apply directly).
LOG_UNITS = frozenset({"dB", "dBm", "dB/Hz"})

#: Dimensionless unit string.
RATIO = "1"

FUNCTIONS = ("max", "min", "log10")


def unit_of(metric: str) -> str:
    """Return the unit implied by a metric name's suffix (``"1"`` for plain ratios like ``rlm``).

    >>> unit_of("oma_outer_dbm"), unit_of("transition_time_s"), unit_of("rlm")
    ('dBm', 's', '1')
    """
    for suffix, unit in UNIT_SUFFIXES:
        if metric.endswith(suffix):
            return unit
    return RATIO


def split_unit(metric: str) -> tuple[str, str | None]:
    """Split ``metric`` into (stem, unit) using both known and foreign suffixes.

    The unit is ``None`` when the name has no recognised unit suffix.
    """
    for suffix, unit in sorted(UNIT_SUFFIXES + FOREIGN_UNIT_SUFFIXES, key=lambda p: -len(p[0])):
        if metric.endswith(suffix) and len(metric) > len(suffix):
            return metric[: -len(suffix)], unit
    return metric, None


# --------------------------------------------------------------------------------------
# Expression language
# --------------------------------------------------------------------------------------
_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: None,  # handled separately (division by zero check)
}
_CMPOPS = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}


def _check_node(node: ast.AST, source: str, names: set[str]) -> None:
    """Raise SpecError unless ``node`` uses only the allowed constructs; collect names."""
    if isinstance(node, ast.Expression):
        _check_node(node.body, source, names)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise SpecError(f"expression {source!r}: only numbers are allowed, got {node.value!r}")
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise SpecError(f"expression {source!r}: function {node.id!r} used without a call")
        names.add(node.id)
    elif isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise SpecError(f"expression {source!r}: operator {type(node.op).__name__} is not allowed")
        _check_node(node.left, source, names)
        _check_node(node.right, source, names)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise SpecError(f"expression {source!r}: operator {type(node.op).__name__} is not allowed")
        _check_node(node.operand, source, names)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise SpecError(f"expression {source!r}: only calls to {', '.join(FUNCTIONS)} are allowed")
        if node.keywords:
            raise SpecError(f"expression {source!r}: keyword arguments are not allowed")
        if node.func.id == "log10" and len(node.args) != 1:
            raise SpecError(f"expression {source!r}: log10 takes exactly one argument")
        if node.func.id in ("max", "min") and len(node.args) < 2:
            raise SpecError(f"expression {source!r}: {node.func.id} needs at least two arguments")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise SpecError(f"expression {source!r}: starred arguments are not allowed")
            _check_node(arg, source, names)
    elif isinstance(node, ast.IfExp):
        for part in (node.test, node.body, node.orelse):
            _check_node(part, source, names)
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _CMPOPS:
                raise SpecError(f"expression {source!r}: comparison {type(op).__name__} is not allowed")
        _check_node(node.left, source, names)
        for comp in node.comparators:
            _check_node(comp, source, names)
    else:
        raise SpecError(f"expression {source!r}: {type(node).__name__} is not allowed")


def _eval(node: ast.AST, values: Mapping[str, float], source: str) -> Any:
    if isinstance(node, ast.Expression):
        return _eval(node.body, values, source)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return float(values[node.id])
    if isinstance(node, ast.BinOp):
        a = _eval(node.left, values, source)
        b = _eval(node.right, values, source)
        if isinstance(node.op, ast.Div):
            if b == 0.0:
                raise InvalidParameter(f"expression {source!r}: division by zero")
            return a / b
        return _BINOPS[type(node.op)](a, b)
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, values, source)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call):
        args = [_eval(a, values, source) for a in node.args]
        if node.func.id == "log10":
            if args[0] <= 0.0:
                raise InvalidParameter(f"expression {source!r}: log10 of {args[0]!r}, needs > 0")
            return math.log10(args[0])
        return max(args) if node.func.id == "max" else min(args)
    if isinstance(node, ast.IfExp):
        return _eval(node.body if _eval(node.test, values, source) else node.orelse, values, source)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values, source)
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, values, source)
            if not _CMPOPS[type(op)](left, right):
                return False
            left = right
        return True
    raise SpecError(f"expression {source!r}: cannot evaluate {type(node).__name__}")  # pragma: no cover


@dataclasses.dataclass(frozen=True, eq=False)
class Expression:
    """A limit given as an equation of named metrics, parsed safely with :mod:`ast`.

    Parameters
    ----------
    source : str
        The equation, e.g. ``"max(-0.8, -2.2 + tdecq_db)"``.

    Raises
    ------
    SpecError
        On a syntax error or any construct outside the allowed set.

    Examples
    --------
    >>> e = Expression("max(-0.8, -2.2 + tdecq_db)")
    >>> sorted(e.names), round(e({"tdecq_db": 3.4}), 9)
    (['tdecq_db'], 1.2)
    """

    source: str
    names: frozenset[str] = dataclasses.field(init=False)
    _tree: ast.Expression = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source.strip():
            raise SpecError(f"an equation must be a non-empty string, got {self.source!r}")
        names: set[str] = set()
        try:
            tree = ast.parse(self.source.strip(), mode="eval")
            _check_node(tree, self.source, names)
        except SyntaxError as exc:
            raise SpecError(f"expression {self.source!r} is not valid: {exc.msg}") from None
        except (RecursionError, MemoryError):
            raise SpecError(f"expression {self.source[:40]!r}... is nested too deeply") from None
        object.__setattr__(self, "names", frozenset(names))
        object.__setattr__(self, "_tree", tree)

    def __call__(self, values: Mapping[str, float]) -> float:
        """Evaluate with ``values`` (metric name -> float in the metric's unit).

        Raises
        ------
        InvalidParameter
            If a needed metric is missing, or on division by zero / log10 of a value <= 0.
        """
        missing = sorted(n for n in self.names if n not in values)
        if missing:
            raise InvalidParameter(f"expression {self.source!r} needs metric(s) {', '.join(missing)}")
        out = _eval(self._tree, values, self.source)
        if isinstance(out, bool):
            raise InvalidParameter(f"expression {self.source!r} gives a truth value, not a number")
        out = float(out)
        if not math.isfinite(out):
            raise InvalidParameter(f"expression {self.source!r} gives a non-finite value {out!r}")
        return out

    def __str__(self) -> str:
        return self.source


Bound = float | Expression | None


def bound_text(bound: Bound, scale: float = 1.0) -> str:
    """Human text for a bound: a number (times ``scale``), the equation, or empty."""
    if bound is None:
        return ""
    if isinstance(bound, Expression):
        return bound.source
    return f"{bound * scale:.6g}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class LimitRow:
    """One row of a PHY table: a metric with its unit, bounds and provenance.

    Parameters
    ----------
    metric : str
        Metric name (cross-team names where one applies), its suffix giving the unit.
    label : str
        The row title as in the standard's table.
    group : {"tx", "rx", "channel"}
        Which table the row belongs to.
    unit : str
        Unit of the value and bounds; must agree with the metric's suffix.
    min, max : float or Expression or None
        Bounds (inclusive).  At least one is given.  Expressions are evaluated on the metrics.
    clause : str
        Clause / table of the standard it comes from (table numbers may be UNVERIFIED).
    source : str
        Where the number was seen (full citation).
    verified : bool
        True only when the value was quoted from a copy of the table ([S] in the reference).
    informative : bool
        The standard marks the row informative; it is reported but not required.
    proposal : bool
        The number is not a published limit (a task-force proposal, or a draft number: see
        ``draft``): advisory, it decides the overall verdict only on request
        (:func:`optics.verdict.evaluate`'s ``allow_proposal`` / ``allow_draft``).  Code that
        knows only this flag (the link budget) treats draft rows as proposals.
    draft : bool
        The number is from an unapproved draft of the standard (e.g. IEEE P802.3dj D1.3-D3.2);
        implies ``proposal`` (set by the constructor), decides with ``allow_draft``.
    confidence : str
        How far the source can be trusted (``high``/``medium``/``low``, the reference notes'
        scale), empty when not stated.
    required : bool
        A missing metric makes the verdict INCOMPLETE (when the row decides).  Defaults to
        ``not informative and not proposal`` (draft rows: ``not informative``).
    lane : int or None
        Lane index for per-lane rows (CWDM wavelength windows), else None.
    note, condition : str
        Free notes; the test condition of the row (e.g. "SECQ 3.4 dB").
    """

    metric: str
    label: str
    group: str
    unit: str
    min: Bound = None
    max: Bound = None
    clause: str
    source: str
    verified: bool
    informative: bool = False
    proposal: bool = False
    draft: bool = False
    confidence: str = ""
    required: bool | None = None
    lane: int | None = None
    note: str = ""
    condition: str = ""

    def __post_init__(self) -> None:
        if self.group not in ("tx", "rx", "channel"):
            raise SpecError(f"row {self.metric!r}: group must be tx, rx or channel, got {self.group!r}")
        if self.min is None and self.max is None:
            raise SpecError(f"row {self.metric!r}: needs a min or a max")
        if self.unit != unit_of(self.metric):
            raise SpecError(
                f"row {self.metric!r}: unit {self.unit!r} disagrees with the metric name, "
                f"which implies {unit_of(self.metric)!r}"
            )
        if isinstance(self.min, (int, float)) and isinstance(self.max, (int, float)) and self.min > self.max:
            raise SpecError(f"row {self.metric!r}: min {self.min} > max {self.max}")
        if self.draft:
            object.__setattr__(self, "proposal", True)  # not a published limit (see the class notes)
        if self.required is None:
            object.__setattr__(self, "required", not self.informative if self.draft
                               else not (self.informative or self.proposal))

    @property
    def depends_on(self) -> frozenset[str]:
        """Metric names the bounds' equations need (empty for numeric bounds)."""
        out: set[str] = set()
        for b in (self.min, self.max):
            if isinstance(b, Expression):
                out |= b.names
        return frozenset(out)

    @property
    def status(self) -> str:
        """``"VERIFIED"``, ``"UNVERIFIED"``, ``"DRAFT"`` or ``"PROPOSAL"`` (shown in every output)."""
        if self.draft:
            return "DRAFT"
        if self.proposal:
            return "PROPOSAL"
        return "VERIFIED" if self.verified else "UNVERIFIED"

    def bounds(self, values: Mapping[str, float]) -> tuple[float | None, float | None]:
        """Numeric (min, max) with equations evaluated on ``values``.

        Raises
        ------
        InvalidParameter
            If an equation needs a metric that ``values`` lacks.
        """
        lo = self.min(values) if isinstance(self.min, Expression) else self.min
        hi = self.max(values) if isinstance(self.max, Expression) else self.max
        return lo, hi

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (equations as their strings), JSON-ready."""
        def b(v: Bound) -> Any:
            return v.source if isinstance(v, Expression) else v

        return {
            "metric": self.metric,
            "label": self.label,
            "group": self.group,
            "unit": self.unit,
            "min": b(self.min),
            "max": b(self.max),
            "clause": self.clause,
            "source": self.source,
            "verified": self.verified,
            "status": self.status,
            "informative": self.informative,
            "proposal": self.proposal,
            "draft": self.draft,
            "confidence": self.confidence,
            "required": self.required,
            "lane": self.lane,
            "note": self.note,
            "condition": self.condition,
        }


# --------------------------------------------------------------------------------------
# Metric registry
# --------------------------------------------------------------------------------------
#: Every metric name a PHY table or a verdict may use, with a short description.  The first
#: block is the cross-team contract (API.md); the rest are rows of the 802.3 tables.
METRICS: Mapping[str, str] = {
    # cross-team names
    "tdecq_db": "TDECQ, dB",
    "ceq_db": "10log10(Ceq), reference-equalizer noise enhancement, dB",
    "oma_outer_dbm": "OMA_outer, dBm",
    "oma_outer_w": "OMA_outer, W",
    "extinction_ratio_db": "outer extinction ratio 10log10(P3/P0), dB",
    "average_power_dbm": "average launch power, dBm",
    "average_power_w": "average launch power, W",
    "rlm": "level separation mismatch ratio",
    "levels_w": "the four PAM4 levels, W",
    "ber_estimate": "estimated BER",
    "ber_counted": "counted BER",
    "ser": "symbol error ratio",
    "eye_heights": "eye heights",
    "eye_widths_ui": "eye widths, UI",
    "transition_time_s": "transmitter transition time, s",
    "rin_db_per_hz": "RIN_xOMA, dB/Hz",
    "smsr_db": "side-mode suppression ratio, dB",
    "wavelength_m": "centre wavelength, m",
    "rx_sensitivity_oma_dbm": "receiver sensitivity (OMA_outer), dBm",
    "receive_power_dbm": "average receive power, dBm",
    # table rows without a cross-team name
    "oma_minus_tdecq_dbm": "OMA_outer minus TDECQ, dBm (derived)",
    "tdecq_minus_ceq_db": "TDECQ minus 10log10(Ceq), dB (derived)",
    "secq_db": "stressed eye closure of the receiver test signal, dB",
    "tecq_db": "TECQ: TDECQ of the transmitter without the test fibre's dispersion, dB",
    "tdecq_tecq_difference_db": "|TDECQ - TECQ|, dB (derived)",
    "total_average_power_dbm": "total average launch power of all lanes, dBm",
    "lane_oma_difference_db": "difference in OMA_outer between any two lanes, dB",
    "off_power_dbm": "average launch power of an OFF transmitter, dBm",
    "tx_reflectance_db": "transmitter reflectance, dB",
    "rx_reflectance_db": "receiver reflectance, dB",
    "damage_threshold_dbm": "receiver damage threshold (average power it survives), dBm",
    "receive_oma_dbm": "receive power OMA_outer, dBm",
    "lane_receive_power_difference_db": "difference in average receive power between lanes, dB",
    "stressed_rx_sensitivity_oma_dbm": "stressed receiver sensitivity (OMA_outer), dBm",
    "channel_insertion_loss_db": "channel insertion loss, dB",
    "chromatic_dispersion_ps_per_nm": "channel chromatic dispersion, ps/nm",
    "reach_m": "operating range (fibre length), m",
}


def _dbm_from_w(w: float, name: str) -> float:
    """``10 log10(w / 1 mW)``; 0 W (no light, e.g. a dead laser) is -inf dBm, which fails
    every dBm floor instead of aborting the verdict; negative power is an error."""
    if w == 0.0:
        return -math.inf
    if w < 0.0:
        raise InvalidParameter(f"{name} = {w!r} W must be >= 0 to express it in dBm")
    return 10.0 * math.log10(w / 1e-3)


#: Derived metrics: name -> (inputs, function of the inputs mapping, equation text).
DERIVED: Mapping[str, tuple[tuple[str, ...], Any, str]] = {
    "oma_outer_dbm": (
        ("oma_outer_w",),
        lambda m: _dbm_from_w(m["oma_outer_w"], "oma_outer_w"),
        "10log10(oma_outer_w / 1 mW)",
    ),
    "average_power_dbm": (
        ("average_power_w",),
        lambda m: _dbm_from_w(m["average_power_w"], "average_power_w"),
        "10log10(average_power_w / 1 mW)",
    ),
    "oma_minus_tdecq_dbm": (
        ("oma_outer_dbm", "tdecq_db"),
        lambda m: m["oma_outer_dbm"] - m["tdecq_db"],
        "oma_outer_dbm - tdecq_db",
    ),
    "tdecq_tecq_difference_db": (
        ("tdecq_db", "tecq_db"),
        lambda m: abs(m["tdecq_db"] - m["tecq_db"]),
        "|tdecq_db - tecq_db|",
    ),
    "tdecq_minus_ceq_db": (
        ("tdecq_db", "ceq_db"),
        lambda m: m["tdecq_db"] - m["ceq_db"],
        "tdecq_db - ceq_db  (ceq_db = 10log10(Ceq))",
    ),
}


def with_derived(values: Mapping[str, float]) -> dict[str, float]:
    """Return ``values`` plus every derived metric computable from them (given values win).

    >>> with_derived({"oma_outer_w": 1e-3, "tdecq_db": 2.0})["oma_minus_tdecq_dbm"]
    -2.0
    """
    out = dict(values)
    changed = True
    while changed:
        changed = False
        for name, (inputs, fn, _text) in DERIVED.items():
            if name not in out and all(i in out for i in inputs):
                value = float(fn(out))
                if not math.isnan(value):  # e.g. inf - inf from two closed-eye inputs: not derived
                    out[name] = value
                    changed = True
    return out
