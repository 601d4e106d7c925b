"""Pass/fail verdicts of measured or simulated metrics against an IEEE 802.3 PHY table.

:func:`evaluate` takes a mapping of metric names (cross-team names, unit in the suffix) to
values and a PHY, checks every applicable row of the PHY's table and returns a
:class:`Verdict`: per row PASS, FAIL, MARGINAL (inside the guard band) or NOT TESTED, the
margin in the row's unit, and an overall outcome.

Rules
-----
* margin = value - min for a lower limit, max - value for an upper limit (the smaller of the
  two when both exist), in the row's unit; limits are inclusive.
* FAIL if margin < 0; MARGINAL if 0 <= margin < guard band; else PASS.  ``guard_band_db``
  applies to rows in dB, dBm or dB/Hz; rows in linear units (s, m, ...) take a guard band in
  their own unit from ``guard_bands={metric: value}`` (which also overrides dB rows).
* A missing metric, or a metric an equation limit needs, gives NOT TESTED - never a pass.
* Overall: FAIL if any deciding row fails; else INCOMPLETE if a required row is NOT TESTED (or
  nothing was tested); else MARGINAL if any deciding row is marginal; else PASS.  Informative
  rows are reported but never decide.  DRAFT rows (numbers of an unapproved draft of the
  standard, e.g. IEEE P802.3dj) and task-force PROPOSAL rows are shown, judged and marked like
  every row, but decide the outcome only on request: ``allow_draft=True`` (``--allow-draft``)
  for draft rows, ``allow_proposal=True`` (``--allow-proposal``) for proposal rows.
* :meth:`Verdict.reasons` says why an outcome is neither PASS nor FAIL, as data: the required
  rows that were NOT TESTED and the metric that was missing, the draft/proposal rows that did
  not decide and the flag that would make them decide, the rows inside the guard band.
* Rows not quoted from a copy of the standard are flagged UNVERIFIED in every output, and
  ``decided_by_unverified`` says whether dropping them would change the outcome.

Derived metrics (``oma_minus_tdecq_dbm`` = OMA - TDECQ, ``tdecq_minus_ceq_db`` = TDECQ -
10log10(Ceq), dBm from W) are computed from the given ones.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from optics import validate
from optics.errors import InvalidParameter, InvalidType, UnitError
from optics.phy import PhySpec, load_phy
from optics.phy.limits import DERIVED, LOG_UNITS, METRICS, RATIO, LimitRow, split_unit, unit_of, with_derived
from optics.phy.spec import DISPLAY_SCALE

PASS, FAIL, MARGINAL, NOT_TESTED, INCOMPLETE = "PASS", "FAIL", "MARGINAL", "NOT TESTED", "INCOMPLETE"
#: Command-line flags (and :func:`evaluate` keywords) that let draft / proposal rows decide.
DRAFT_FLAG, PROPOSAL_FLAG = "--allow-draft", "--allow-proposal"
_FLAG_KEYWORDS = {DRAFT_FLAG: "allow_draft", PROPOSAL_FLAG: "allow_proposal"}
#: Kinds of :class:`Reason`.
NOT_TESTED_REASON, ADVISORY_REASON, MARGINAL_REASON = "not_tested", "advisory", "marginal"

#: What a missing metric usually means, for the reasons of a NOT TESTED row (callers may add
#: their own context with ``Verdict.reasons(hints=...)``).
MISSING_HINTS: Mapping[str, str] = {
    "tdecq_db": "no TDECQ computed (an optical-power waveform with enough symbols is needed; not with --no-tdecq)",
    "ceq_db": "no TDECQ computed, so no Ceq",
    "transition_time_s": "no transition time measured (needs a known pattern: --pattern)",
    "wavelength_m": "a waveform gives no wavelength (an optical spectrum measurement is needed)",
    "smsr_db": "a waveform gives no side-mode suppression ratio (an optical spectrum measurement is needed)",
    "rin_db_per_hz": "RIN is not measured from a PAM4 waveform",
    "ber_estimate": "no BER measured",
    "ber_counted": "no BER counted (needs a known pattern)",
}
SCOPES = ("tx", "rx", "channel", "all")

_UNIT_ALIASES = {"dbm": "dBm", "db": "dB", "db/hz": "dB/Hz", "": RATIO, "1": RATIO, "ratio": RATIO}
_KNOWN_STEMS = {split_unit(m)[0]: m for m in METRICS if split_unit(m)[1] is not None}


def _canon_unit(unit: Any, metric: str) -> str:
    if not isinstance(unit, str):
        raise UnitError(f"{metric}: unit must be a string, got {unit!r}")
    u = unit.strip()
    return _UNIT_ALIASES.get(u.lower(), u)


def normalize_metrics(metrics: Mapping[str, object]) -> tuple[dict[str, float], tuple[str, ...]]:
    """Check names and units of ``metrics``; return (scalar values by name, ignored keys).

    Values may be plain numbers in the unit the name says, or mappings ``{"value": v,
    "unit": u}`` whose unit must agree with the name.  ``None`` means not measured; +-inf is
    accepted (a closed eye's infinite TDECQ fails its row), NaN is not.  Lists and arrays (``levels_w``,
    ``eye_heights``) are accepted and ignored (no table row uses them).

    Raises
    ------
    UnitError
        A key names a known metric in another unit (``oma_outer_mw``), has no unit suffix
        (``tdecq``), or a value's unit field disagrees with its name.
    InvalidType, InvalidParameter
        A value is not a real number, or is NaN/inf.
    """
    if not isinstance(metrics, Mapping):
        raise InvalidType(f"metrics must be a mapping of metric names to values, got {type(metrics).__name__}")
    values: dict[str, float] = {}
    ignored: list[str] = []
    for key, raw in metrics.items():
        if not isinstance(key, str):
            raise InvalidType(f"metric names must be strings, got {key!r}")
        if key not in METRICS:
            stem, unit = split_unit(key)
            known = _KNOWN_STEMS.get(stem) or (_KNOWN_STEMS.get(key) if unit is None else None)
            if known is not None:
                what = f"unit {unit}" if unit else "no unit suffix"
                raise UnitError(
                    f"metric {key!r} has {what}; the verdict expects {known!r} in {unit_of(known)}"
                    + (" (or oma_outer_w / average_power_w in W)" if stem in ("oma_outer", "average_power") else "")
                )
            ignored.append(key)
            continue
        if raw is None:
            continue
        if isinstance(raw, Mapping):
            if "value" not in raw:
                raise InvalidType(f"metric {key!r}: a mapping value needs a 'value' field, got keys {sorted(raw)}")
            if "unit" in raw and raw["unit"] is not None:
                got = _canon_unit(raw["unit"], key)
                if got != unit_of(key):
                    raise UnitError(f"metric {key!r} is given in {raw['unit']!r}, its name requires {unit_of(key)!r}")
            raw = raw["value"]
            if raw is None:
                continue
        if isinstance(raw, (list, tuple)) or (isinstance(raw, np.ndarray) and raw.ndim > 0):
            ignored.append(key)
            continue
        if isinstance(raw, np.ndarray) and raw.ndim == 0:
            raw = raw[()]  # a 0-d array (e.g. from np.mean) is a scalar
        if isinstance(raw, (float, np.floating)) and math.isinf(raw):
            raw = float(raw)
            values[key] = raw  # e.g. TDECQ of a closed eye: a legitimate, failing value
        else:
            values[key] = validate.real(key, raw)
    return values, tuple(ignored)


@dataclasses.dataclass(frozen=True)
class RowResult:
    """Outcome of one limit row: status, value, evaluated limits and margin (row unit)."""

    row: LimitRow
    status: str
    value: float | None
    min: float | None
    max: float | None
    margin: float | None
    derived: bool
    note: str = ""
    opted_in: bool = False
    missing: tuple[str, ...] = ()
    superseded_by: str = ""

    @property
    def decides(self) -> bool:
        """Whether the row can decide the overall outcome.

        Informative rows never decide, nor a row superseded by a row of more authority on the
        same limit (``superseded_by``); draft and proposal rows only when the caller allowed
        them (``opted_in``: ``allow_draft`` / ``allow_proposal`` of :func:`evaluate`).
        """
        if self.row.informative or self.superseded_by:
            return False
        return self.opted_in or not self.row.proposal

    @property
    def advisory_flag(self) -> str | None:
        """The command-line flag that would make this draft/proposal row decide, or None
        (a row that decides already, an informative row, a firm row, a superseded row)."""
        if self.decides or self.row.informative or not self.row.proposal or self.superseded_by:
            return None
        return DRAFT_FLAG if self.row.draft else PROPOSAL_FLAG

    def to_record(self) -> dict[str, Any]:
        """Flat dict (pandas-friendly)."""
        r = self.row
        return {
            "metric": r.metric, "label": r.label, "group": r.group, "lane": r.lane, "unit": r.unit,
            "value": self.value if self.value is None or math.isfinite(self.value) else None,
            "min": self.min, "max": self.max, "margin": self.margin,
            "status": self.status, "verified": r.verified, "row_status": r.status,
            "informative": r.informative, "proposal": r.proposal, "draft": r.draft, "required": r.required,
            "decides": self.decides, "superseded_by": self.superseded_by or None, "derived": self.derived,
            "clause": r.clause, "source": r.source,
            "condition": r.condition, "note": "; ".join(x for x in (self.note, r.note) if x),
        }


def _fmt(v: float | None, scale: float) -> str:
    return "" if v is None else f"{v * scale:.6g}"


@dataclasses.dataclass(frozen=True)
class Reason:
    """One part of why a verdict is neither PASS nor FAIL (see :meth:`Verdict.reasons`).

    Attributes
    ----------
    kind : {"not_tested", "advisory", "marginal", "nothing_tested"}
        ``not_tested``: a row that decides was NOT TESTED (``missing`` names the metric(s) that
        were not given); ``advisory``: a draft/proposal row was judged but did not decide
        (``flag`` would make it decide); ``marginal``: a deciding row inside the guard band;
        ``nothing_tested``: no row that decides could be checked at all.
    metric, label : str
        The row's metric and title (empty for ``nothing_tested``).
    status : str
        The row's result (PASS, FAIL, MARGINAL, NOT TESTED).
    row_status : str
        VERIFIED, UNVERIFIED, DRAFT or PROPOSAL.
    detail : str
        Plain-language explanation (what was missing and what would provide it, ...).
    missing : tuple of str
        Metric names that were missing (``not_tested``).
    flag : str or None
        ``--allow-draft`` / ``--allow-proposal`` for an ``advisory`` row, else None.
    value_text : str
        The row's numbers (``margin 1.2 dB``), kept apart from ``detail`` so that the same
        reason of several lanes reads the same without them.
    """

    kind: str
    metric: str
    label: str
    status: str
    row_status: str
    detail: str
    missing: tuple[str, ...] = ()
    flag: str | None = None
    value_text: str = ""

    @property
    def keyword(self) -> str | None:
        """The :func:`evaluate` keyword of :attr:`flag` (``allow_draft`` / ``allow_proposal``)."""
        return _FLAG_KEYWORDS.get(self.flag) if self.flag is not None else None

    def to_text(self, values: bool = True) -> str:
        """One line: ``metric: STATUS [ROW STATUS] — numbers; detail`` (``values=False``:
        without the numbers)."""
        if not self.metric:
            return self.detail
        tag = f" [{self.row_status}]" if self.row_status in ("DRAFT", "PROPOSAL") else ""
        numbers = f"{self.value_text}; " if values and self.value_text else ""
        return f"{self.metric}: {self.status}{tag} — {numbers}{self.detail}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (with ``keyword`` and the one-line ``text``)."""
        return {**dataclasses.asdict(self), "missing": list(self.missing), "keyword": self.keyword,
                "text": self.to_text(), "text_without_values": self.to_text(values=False)}


def _margin_text(r: RowResult) -> str:
    if r.margin is None:
        return ""
    unit, scale = DISPLAY_SCALE.get(r.row.metric, (r.row.unit, 1.0))
    return f"margin {r.margin * scale:.3g} {unit}".rstrip()


def _missing_detail(r: RowResult, hints: Mapping[str, str]) -> str:
    what = ", ".join(r.missing) if r.missing else r.row.metric
    parts = [f"no {what} given" if r.value is None else f"the limit equation needs {what}"]
    parts += [hints[m] for m in (r.missing or (r.row.metric,)) if m in hints]
    if r.value is None and r.row.metric in DERIVED and r.missing == (r.row.metric,):
        parts.append(f"or give {' and '.join(DERIVED[r.row.metric][0])} to derive it")
    return "; ".join(parts)


def explain_rows(rows: Iterable[RowResult], *, hints: Mapping[str, str] | None = None,
                 explain_untested: bool = False) -> tuple[Reason, ...]:
    """The reasons (:class:`Reason`) behind the outcome of ``rows``, whatever that outcome.

    Required deciding rows NOT TESTED come first (all deciding NOT TESTED rows when
    ``explain_untested`` or when no deciding row was tested), then draft/proposal rows that
    did not decide (with the flag that would make them decide), then marginal deciding rows.
    ``hints`` ({metric: text}) add context to a missing metric (defaults: :data:`MISSING_HINTS`).
    """
    rows = tuple(rows)
    table = {**MISSING_HINTS, **(hints or {})}
    deciding = [r for r in rows if r.decides]
    none_tested = not any(r.status in (PASS, MARGINAL, FAIL) for r in deciding)
    out: list[Reason] = []
    for r in deciding:
        if r.status == NOT_TESTED and (r.row.required or explain_untested or none_tested):
            out.append(Reason(NOT_TESTED_REASON, r.row.metric, r.row.label, r.status, r.row.status,
                              _missing_detail(r, table), missing=r.missing or (r.row.metric,)))
    for r in rows:
        flag = r.advisory_flag
        if flag is None:
            continue
        kind = "draft" if r.row.draft else "proposal"
        missing = f"no {', '.join(r.missing or (r.row.metric,))} given; " if r.status == NOT_TESTED else ""
        out.append(Reason(ADVISORY_REASON, r.row.metric, r.row.label, r.status, r.row.status,
                          f"{missing}{kind} rows decide only with {flag}", flag=flag, value_text=_margin_text(r)))
    for r in rows:
        if r.superseded_by and not r.row.informative:
            out.append(Reason(ADVISORY_REASON, r.row.metric, r.row.label, r.status, r.row.status,
                              f"superseded by the {r.superseded_by} row of the same limit, which decides instead",
                              value_text=_margin_text(r)))
    for r in deciding:
        if r.status == MARGINAL:
            out.append(Reason(MARGINAL_REASON, r.row.metric, r.row.label, r.status, r.row.status,
                              "inside the guard band", value_text=_margin_text(r)))
    if none_tested and not out:
        out.append(Reason("nothing_tested", "", "", NOT_TESTED, "",
                          "no row that decides the verdict could be checked"))
    return tuple(out)


def reason_lines(outcome: str, reasons: Iterable[Reason], *, indent: str = "") -> list[str]:
    """Text block of ``reasons``: ``why OUTCOME:`` and one line each for an outcome other than
    PASS/FAIL; for PASS/FAIL only a note on advisory (draft/proposal) rows that failed."""
    reasons = tuple(reasons)
    if outcome in (PASS, FAIL):
        failing = [x for x in reasons if x.kind == ADVISORY_REASON and x.status == FAIL]
        if not failing:
            return []
        what = ", ".join(f"{x.metric} [{x.row_status}]" for x in failing)
        flags = ", ".join(sorted({x.flag for x in failing if x.flag}))
        return [f"{indent}note: advisory row(s) failing without deciding: {what} ({flags} would make them decide)"]
    lines = [f"{indent}why {outcome}:"]
    lines += [f"{indent}  - {x.to_text()}" for x in reasons]
    flags = sorted({x.flag for x in reasons if x.flag})
    if flags:
        lines.append(f"{indent}  {' / '.join(flags)} would let the draft/proposal rows decide")
    return lines


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Result of :func:`evaluate`: per-row results and the overall outcome."""

    phy: str
    scope: str
    outcome: str
    rows: tuple[RowResult, ...]
    guard_band_db: float
    ignored_metrics: tuple[str, ...]
    decided_by_unverified: bool
    allow_draft: bool = False
    allow_proposal: bool = False

    def explain(self, hints: Mapping[str, str] | None = None) -> tuple[Reason, ...]:
        """Every reason of :func:`explain_rows` for these rows, whatever the outcome."""
        return explain_rows(self.rows, hints=hints)

    def reasons(self, hints: Mapping[str, str] | None = None) -> tuple[Reason, ...]:
        """Why the outcome is neither PASS nor FAIL, as data; empty for PASS and FAIL.

        INCOMPLETE: the required rows NOT TESTED with the metrics that were missing, and the
        draft/proposal rows that did not decide with the flag (``--allow-draft`` /
        ``--allow-proposal``) that would make them decide.  MARGINAL: the rows inside the
        guard band (and any advisory rows).  ``hints`` ({metric: text}) add context to a
        missing metric.
        """
        if self.outcome in (PASS, FAIL):
            return ()
        return self.explain(hints)

    def worst_margin(self) -> RowResult | None:
        """The judged row (PASS/MARGINAL/FAIL, finite margin) with the smallest margin among the
        rows in dB, dBm or dB/Hz (margins in other units do not compare), advisory rows
        included; None if there is none."""
        judged = [r for r in self.rows if r.status in (PASS, MARGINAL, FAIL) and r.margin is not None
                  and r.row.unit in LOG_UNITS]
        return min(judged, key=lambda r: r.margin, default=None)

    @property
    def unverified_rows(self) -> tuple[RowResult, ...]:
        """Row results whose limit is UNVERIFIED or a PROPOSAL."""
        return tuple(r for r in self.rows if not r.row.verified)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per row (``pandas.DataFrame(verdict.to_records())``)."""
        return [{"phy": self.phy, "scope": self.scope, **r.to_record()} for r in self.rows]

    def to_frame(self) -> Any:
        """The records as a :class:`pandas.DataFrame`."""
        import pandas as pd

        return pd.DataFrame(self.to_records())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        counts = {s: sum(r.status == s for r in self.rows) for s in (PASS, MARGINAL, FAIL, NOT_TESTED)}
        return {
            "phy": self.phy,
            "scope": self.scope,
            "outcome": self.outcome,
            "guard_band_db": self.guard_band_db,
            "counts": counts,
            "decided_by_unverified": self.decided_by_unverified,
            "allow_draft": self.allow_draft,
            "allow_proposal": self.allow_proposal,
            "reasons": [x.to_dict() for x in self.reasons()],
            "unverified_rows": [r.row.label for r in self.unverified_rows],
            "ignored_metrics": list(self.ignored_metrics),
            "rows": [r.to_record() for r in self.rows],
        }

    def to_text(self) -> str:
        """Aligned text table with the outcome, UNVERIFIED/DRAFT/PROPOSAL flags and NOT TESTED rows;
        it ends with the reasons of an outcome other than PASS/FAIL (:meth:`reasons`)."""
        lines = [f"{self.phy} verdict (scope {self.scope}, guard band {self.guard_band_db:g} dB): {self.outcome}"]
        table = [("status", "parameter", "value", "min", "max", "unit", "margin", "limit")]
        for r in self.rows:
            unit, scale = DISPLAY_SCALE.get(r.row.metric, (r.row.unit, 1.0))
            label = r.row.label + (" [informative]" if r.row.informative else "") + (" *" if r.derived else "")
            limit = r.row.status + (" (advisory)" if r.advisory_flag else "")
            table.append((r.status, label, _fmt(r.value, scale), _fmt(r.min, scale), _fmt(r.max, scale), unit,
                          _fmt(r.margin, scale), limit))
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
        if any(r.derived for r in self.rows):
            lines.append("  * value derived from other metrics")
        n_nt = sum(r.status == NOT_TESTED for r in self.rows)
        if n_nt:
            lines.append(f"  {n_nt} row(s) NOT TESTED (missing metrics are never counted as passing)")
        if self.unverified_rows:
            lines.append(f"  {len(self.unverified_rows)} row(s) UNVERIFIED/PROPOSAL: limits not checked against "
                         "the IEEE text" + ("; the outcome depends on them" if self.decided_by_unverified else ""))
        if self.ignored_metrics:
            lines.append(f"  ignored metrics (no row): {', '.join(self.ignored_metrics)}")
        lines += reason_lines(self.outcome, self.reasons() if self.outcome not in (PASS, FAIL)
                              else self.explain(), indent="  ")
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class BerCheck:
    """The pre-FEC BER of a lane against the PHY's BER limit (``PhySpec.ber_limit``).

    ``status`` is PASS if ``value <= limit``, FAIL above it, NOT TESTED when either is missing
    (a PHY table without a BER limit, or no BER measured); :meth:`reason` says which.  A draft
    or proposal limit (``limit_status``, ``PhySpec.ber_limit_status``) is judged but decides
    only when ``opted_in`` (``allow_draft`` / ``allow_proposal``), like a draft / proposal row:
    :attr:`decides`, and :meth:`reason` names the flag.  :meth:`from_spec` builds it so.
    """

    value: float | None
    limit: float | None
    phy: str = ""
    missing_hint: str = ""
    limit_status: str | None = None
    opted_in: bool = False
    source: str = ""

    @classmethod
    def from_spec(cls, value: float | None, spec: Any, *, allow_draft: bool = False, allow_proposal: bool = False,
                  missing_hint: str = "") -> "BerCheck":
        """The check of ``value`` against ``spec``'s BER limit, its status and the caller's opt-ins."""
        status = getattr(spec, "ber_limit_status", None)
        # as the PHY's rows: a draft limit decides with allow_draft (or allow_proposal, which admits
        # drafts too), a proposal one with allow_proposal
        opted = (status == "draft" and (allow_draft or allow_proposal)) or (status == "proposal" and allow_proposal)
        return cls(value, spec.ber_limit, phy=spec.name, missing_hint=missing_hint, limit_status=status,
                   opted_in=opted, source=getattr(spec, "ber_limit_source", ""))

    @property
    def decides(self) -> bool:
        """Whether the check can decide the outcome: a published limit, or an opted-in draft/proposal one."""
        return self.limit_status is None or self.opted_in

    @property
    def flag(self) -> str | None:
        """The flag that would make a draft/proposal limit decide (None when it decides)."""
        if self.decides:
            return None
        return DRAFT_FLAG if self.limit_status == "draft" else PROPOSAL_FLAG

    @property
    def status(self) -> str:
        """PASS, FAIL or NOT TESTED."""
        if self.value is None or self.limit is None:
            return NOT_TESTED
        return PASS if self.value <= self.limit else FAIL

    def to_record(self) -> dict[str, Any]:
        """``{"metric": "ber", "value", "max", "status", "row_status", "decides", "source"}``."""
        return {"metric": "ber", "value": self.value, "max": self.limit, "status": self.status,
                "row_status": self.limit_status.upper() if self.limit_status else None, "decides": self.decides,
                "source": self.source}

    def reason(self) -> Reason | None:
        """Why the BER does not decide: NOT TESTED (a missing measurement or a missing limit), or
        a draft/proposal limit without its flag; else None."""
        row_status = (self.limit_status or "").upper()
        if self.flag is not None:
            kind = self.limit_status
            detail = "no BER measured; " if self.value is None else ""
            return Reason(ADVISORY_REASON, "ber", "pre-FEC BER (max)", self.status, row_status,
                          f"{detail}{kind} BER limits decide only with {self.flag}", flag=self.flag,
                          value_text="" if self.value is None else f"BER {self.value:.3g} vs {self.limit:g}")
        if self.status != NOT_TESTED:
            return None
        if self.value is None:
            detail = "no BER measured" + (f" ({self.missing_hint})" if self.missing_hint else "")
            return Reason(NOT_TESTED_REASON, "ber", "pre-FEC BER (max)", NOT_TESTED, row_status, detail,
                          missing=("ber_estimate",))
        detail = (f"the {self.phy or 'PHY'} table gives no pre-FEC BER limit (ber_limit), so the BER is not "
                  "judged; no flag changes that")
        return Reason(NOT_TESTED_REASON, "ber", "pre-FEC BER (max)", NOT_TESTED, "", detail,
                      value_text=f"BER {self.value:.3g}")


def _margin_ok(margin: float, limit: float, unit: str) -> bool:
    """margin >= 0 up to rounding: 1e-9 dB for log units, 1e-9 relative otherwise."""
    tol = 1e-9 if unit in LOG_UNITS else 1e-9 * abs(limit)
    return margin >= -tol


def _evaluate_row(row: LimitRow, values: Mapping[str, float], given: set[str], guard: float | None,
                  note: str = "", warn_no_guard: bool = False) -> RowResult:
    derived = row.metric not in given and row.metric in values
    if row.metric not in values:
        hint = ""
        if row.metric in DERIVED:
            hint = f"; derived from {' and '.join(DERIVED[row.metric][0])}"
        return RowResult(row, NOT_TESTED, None, None, None, None, False, (note + f"missing {row.metric}{hint}").strip(),
                         missing=(row.metric,))
    v = values[row.metric]
    needs = sorted(n for n in row.depends_on if n not in values)
    if needs:
        return RowResult(row, NOT_TESTED, v, None, None, None, derived,
                         (note + f"limit equation needs {', '.join(needs)}").strip(), missing=tuple(needs))
    try:
        lo, hi = row.bounds(values)
    except InvalidParameter as exc:  # e.g. an equation of an infinite TDECQ
        return RowResult(row, NOT_TESTED, v, None, None, None, derived,
                         (note + f"limit not computable: {exc}").strip())
    margins = []
    if lo is not None:
        margins.append((v - lo, lo))
    if hi is not None:
        margins.append((hi - v, hi))
    margin, limit = min(margins)
    if not _margin_ok(margin, limit, row.unit):
        status = FAIL
    elif guard is not None and margin < guard:
        status = MARGINAL
    else:
        status = PASS
    if not math.isfinite(v):
        note = (note + "infinite value (e.g. closed eye)").strip()
        margin = None
    if guard is None and warn_no_guard and status == PASS:
        note = (note + "no guard band for a linear-unit row (pass guard_bands={metric: value})").strip()
    return RowResult(row, status, v, lo, hi, margin, derived, note)


def _pick_lane_rows(rows: list[LimitRow], values: Mapping[str, float], lane: int | None) -> tuple[LimitRow, str]:
    """Among per-lane rows of one metric, the one for ``lane`` (or inferred from the value)."""
    if lane is not None:
        for r in rows:
            if r.lane == lane:
                return r, ""
        raise InvalidParameter(f"lane = {lane} has no {rows[0].metric} row; lanes: {sorted(r.lane for r in rows)}")
    metric = rows[0].metric
    if metric not in values:
        return rows[0], "lane unknown; "
    v = values[metric]

    def distance(r: LimitRow) -> float:
        lo, hi = r.bounds(values)
        lo = -math.inf if lo is None else lo
        hi = math.inf if hi is None else hi
        return 0.0 if lo <= v <= hi else min(abs(v - lo), abs(v - hi))

    best = min(rows, key=distance)
    return best, f"lane L{best.lane} inferred from the value; "


#: Authority of a limit row, highest first: a published standard's row (verified or not), a draft
#: standard's, a task-force proposal's.  A row on the same limit (metric, lane, condition and
#: bounds) as a row of more authority that decides is judged and shown but never decides: with
#: ``--allow-proposal`` (which admits drafts too) a proposal's TDECQ 3.0 dB does not overrule the
#: draft's 3.4 dB: the budget's precedence (:func:`optics.budget.standard._rows`).
AUTHORITY = ("published", "draft", "proposal")


def _authority(row: LimitRow) -> int:
    return 0 if not row.proposal else 1 if row.draft else 2


def _limit_key(row: LimitRow) -> tuple[Any, ...]:
    return row.metric, row.lane, row.condition, row.min is not None, row.max is not None


def _outcome(results: Iterable[RowResult]) -> str:
    deciding = [r for r in results if r.decides]
    if any(r.status == FAIL for r in deciding):
        return FAIL
    if any(r.status == NOT_TESTED and r.row.required for r in deciding):
        return INCOMPLETE
    if not any(r.status in (PASS, MARGINAL) for r in deciding):
        return INCOMPLETE
    if any(r.status == MARGINAL for r in deciding):
        return MARGINAL
    return PASS


def evaluate(
    metrics: Mapping[str, object],
    phy: str | PhySpec,
    *,
    guard_band_db: float = 0.0,
    scope: str = "all",
    guard_bands: Mapping[str, float] | None = None,
    require: Iterable[str] | None = None,
    lane: int | None = None,
    allow_draft: bool = False,
    allow_proposal: bool = False,
) -> Verdict:
    """Check ``metrics`` against the limits of ``phy``.

    Parameters
    ----------
    metrics : mapping
        Metric name -> value in the unit the name says (``tdecq_db``, ``oma_outer_dbm``,
        ``transition_time_s`` ...) or ``{"value": v, "unit": u}``; e.g. ``optics analyze
        --json`` metrics, a simulation, or station readings.
    phy : str or PhySpec
        PHY name (see :func:`optics.phy.list_phys`) or a loaded spec.
    guard_band_db : float
        Guard band (>= 0) for rows in dB/dBm/dB/Hz: a margin in [0, guard) is MARGINAL.
    scope : {"tx", "rx", "channel", "all"}
        Which rows to check.
    guard_bands : mapping, optional
        Per-metric guard band in the row's unit (needed for linear-unit rows such as
        ``transition_time_s``); overrides ``guard_band_db`` for those metrics.
    require : str or iterable of str, optional
        If given, only rows on these metrics are required for a complete verdict (instead of
        every normative row).
    lane : int, optional
        Lane index for per-lane rows (CWDM wavelength windows); inferred from the wavelength
        when omitted.
    allow_draft : bool
        Let DRAFT rows (numbers of an unapproved standard draft, e.g. IEEE P802.3dj) decide the
        outcome (default False: they are judged and shown, but advisory).
    allow_proposal : bool
        Let task-force PROPOSAL rows decide the outcome, and DRAFT rows with them: a proposal has
        less authority than a draft, so trusting one trusts the other (default False: advisory).
        A row on the same limit as a row of more authority that decides (:data:`AUTHORITY`:
        published > draft > proposal) is superseded by it and never decides.

    Returns
    -------
    Verdict

    Raises
    ------
    UnitError
        A metric carries a unit other than the one its name requires.
    InvalidType
        ``allow_draft`` / ``allow_proposal`` not a bool.
    SpecError
        Unknown PHY name.
    InvalidParameter
        Negative guard band, unknown scope, unknown metric in ``require``, bad lane.

    Examples
    --------
    >>> v = evaluate({"tdecq_db": 2.0, "oma_outer_dbm": 1.0}, "400GBASE-DR4", scope="tx",
    ...              require=["tdecq_db", "oma_outer_dbm"])
    >>> v.outcome
    'PASS'
    """
    guard_band_db = validate.non_negative("guard_band_db", guard_band_db, "dB")
    for name, flag in (("allow_draft", allow_draft), ("allow_proposal", allow_proposal)):
        if not isinstance(flag, (bool, np.bool_)):
            raise InvalidType(f"{name} must be True or False, got {flag!r}")
    allow_draft, allow_proposal = bool(allow_draft), bool(allow_proposal)
    if scope not in SCOPES:
        raise InvalidParameter(f"scope = {scope!r}; allowed: {', '.join(SCOPES)}")
    spec = phy if isinstance(phy, PhySpec) else load_phy(phy)
    if guard_bands is not None and not isinstance(guard_bands, Mapping):
        raise InvalidType(
            f"guard_bands must be a mapping {{metric: guard}}, got {type(guard_bands).__name__}"
        )
    gb = {}
    for k, g in (guard_bands or {}).items():
        if k not in METRICS:
            raise InvalidParameter(f"guard_bands: unknown metric {k!r}")
        gb[k] = validate.non_negative(f"guard_bands[{k!r}]", g, unit_of(k))
    req = None
    if require is not None:
        if isinstance(require, str):
            require = [require]
        if not isinstance(require, Iterable):
            raise InvalidType(f"require must be metric names (str), got {require!r}")
        require = list(require)  # a generator is read once
        if not all(isinstance(m, str) for m in require):
            raise InvalidType(f"require must be metric names (str), got {require!r}")
        req = set(require)
        unknown = sorted(req - set(METRICS))
        if unknown:
            raise InvalidParameter(f"require: unknown metric(s) {', '.join(unknown)}")
    if lane is not None:
        lane = validate.integer("lane", lane, 0, spec.lanes - 1)

    given, ignored = normalize_metrics(metrics)
    values = with_derived(given)
    for name, (inputs, fn, text) in DERIVED.items():
        if name in given and all(i in given for i in inputs):
            expected = float(fn(given))
            if abs(expected - given[name]) > 1e-6 * max(1.0, abs(expected)):
                raise InvalidParameter(
                    f"metrics are inconsistent: {name} = {given[name]:.6g} but {text} = {expected:.6g}"
                )
    rows = list(spec.rows_in(scope))
    allowed = (True, allow_draft or allow_proposal, allow_proposal)     # which authorities decide
    best = {}
    for r in rows:
        if not r.informative and allowed[_authority(r)]:
            key = _limit_key(r)
            best[key] = min(best.get(key, len(AUTHORITY)), _authority(r))
    results: list[RowResult] = []
    done_lane_metrics: set[str] = set()
    for row in rows:
        note = ""
        if row.lane is not None:
            if row.metric in done_lane_metrics:
                continue
            done_lane_metrics.add(row.metric)
            row, note = _pick_lane_rows([r for r in rows if r.metric == row.metric and r.lane is not None],
                                        values, lane)
        if req is not None:
            row = dataclasses.replace(row, required=row.metric in req)
        if row.metric in gb:
            guard: float | None = gb[row.metric]
        elif row.unit in LOG_UNITS:
            guard = guard_band_db
        else:
            guard = None
        result = _evaluate_row(row, values, set(given), guard, note, warn_no_guard=guard_band_db > 0)
        if not row.informative and _authority(row) > best.get(_limit_key(row), len(AUTHORITY)):
            result = dataclasses.replace(result, superseded_by=AUTHORITY[best[_limit_key(row)]])
        elif row.proposal and (allow_draft or allow_proposal if row.draft else allow_proposal):
            result = dataclasses.replace(result, opted_in=True)
        results.append(result)
    outcome = _outcome(results)
    verified_only = _outcome([r for r in results if r.row.verified])
    return Verdict(
        phy=spec.name, scope=scope, outcome=outcome, rows=tuple(results), guard_band_db=guard_band_db,
        ignored_metrics=ignored, decided_by_unverified=verified_only != outcome,
        allow_draft=allow_draft, allow_proposal=allow_proposal,
    )
