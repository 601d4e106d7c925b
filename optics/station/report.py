"""Per-module reports: a self-contained HTML page, a CSV of every measurement record and the
run as an OpenHTF test record (:mod:`optics.station.openhtf`).

The HTML report holds the run's verdict, the bench identities, per temperature a lane table
(value, limits, margin and outcome of every judged measurement), the eye diagram of every
lane (from the scope's exported pattern waveform, drawn by :func:`optics.eye.plot_eye`) and
the receiver sensitivity curves (counted BER against received OMA, the BER threshold and
the interpolated crossing).  Records come from the store, so a report can be written for
any run in it; eyes and curves come from the run's :class:`~optics.station.runner.RunArtifacts`
(omitted when not given).
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import html
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optics.errors import InvalidParameter
from optics.io.atomic import atomic_file, write_text
from optics.station.records import MeasurementRecord, Outcome, RunRecord, utc_text
from optics.station.store import ResultStore

#: Columns of the CSV report, in order.
CSV_COLUMNS = (
    "serial", "run_id", "plan_name", "plan_hash", "toolkit_version", "step", "name", "lane", "temperature_c",
    "value", "unit", "low_limit", "high_limit", "margin", "outcome", "spec_ref", "verified", "instruments",
    "taken_at_utc", "message",
)

_COLOURS = {"PASS": "#d8f0d8", "MARGINAL": "#fff1b8", "FAIL": "#f7c6c6", "ERROR": "#e0c0f0", "NOT_TESTED": "#eee"}


@dataclasses.dataclass(frozen=True)
class ReportPaths:
    """Files written by :func:`write_report`."""

    html: Path
    csv: Path
    openhtf: Path


def file_stem(serial: str, run_id: str) -> str:
    """Report file name stem ``<serial>_<run id prefix>``, safe for any operator-typed serial.

    Characters other than letters, digits, ``.``, ``-`` and ``_`` become ``_`` and leading dots
    are dropped, so a serial such as ``../x`` or ``LOT7/SN1`` can neither leave the report
    directory nor name a missing one; the run id prefix keeps names unique.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", serial).lstrip(".")[:80] or "serial"
    return f"{safe}_{run_id[:8]}"


def _find_run(store: ResultStore, run_id: str) -> RunRecord:
    for r in store.runs():
        if r.run_id == run_id:
            return r
    raise InvalidParameter(f"no run with run_id {run_id!r} in the store")


#: First characters that make a spreadsheet read a cell as a formula (or start one).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """``text`` made safe for a CSV cell that a spreadsheet may open (no formula injection).

    A text that starts like a formula (``= + - @``, tab, carriage return) and is not a plain
    number gets a leading apostrophe, which spreadsheets show as text: a serial scanned as
    ``=HYPERLINK(...)`` or an instrument reply ``@SUM(...)`` stays a string.  Numbers
    (``-3.5``, ``+1e-3``) are left alone.  (OWASP, "CSV Injection".)

    Examples
    --------
    >>> csv_text("=1+2"), csv_text("-3.5"), csv_text("SN-01")
    ("'=1+2", '-3.5', 'SN-01')
    """
    if text.startswith(_FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def write_csv(run: RunRecord, records: Sequence[MeasurementRecord], path: str | Path) -> Path:
    """Write one CSV row per measurement record (columns :data:`CSV_COLUMNS`).

    Text fields go through :func:`csv_text` (no formula injection); numbers are written as
    numbers.  The file is replaced whole or not at all (:func:`optics.io.atomic.atomic_file`).
    """
    path = Path(path)
    t = csv_text
    with atomic_file(path, newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_COLUMNS)
        for r in records:
            w.writerow([
                t(r.serial), t(r.run_id), t(run.plan_name), t(run.plan_hash), t(run.toolkit_version), t(r.step),
                t(r.name), "" if r.lane is None else r.lane, "" if r.temperature_c is None else r.temperature_c,
                "" if r.value is None else repr(r.value), t(r.unit),
                "" if r.low_limit is None else r.low_limit, "" if r.high_limit is None else r.high_limit,
                "" if r.margin is None else repr(r.margin), r.outcome.value, t(r.spec_ref), int(r.verified),
                t(";".join(f"{k}={v}" for k, v in sorted(r.instruments.items()))), utc_text(r.taken_at_s),
                t(r.message),
            ])
    return path


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _eye_images(eyes: dict) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from optics.eye import plot_eye

    out = []
    for (t, lane), wf in sorted(eyes.items(), key=lambda kv: (kv[0][0] is None, kv[0][0] or 0.0, kv[0][1])):
        fig, ax = plt.subplots(figsize=(3.4, 2.5))
        title = f"lane {lane}" + ("" if t is None else f", {t:g} °C")
        try:
            plot_eye(wf, ax=ax)
            ax.set_title(title, fontsize=9)
        except Exception as exc:  # an unreadable eye must not cost the report: say why instead
            ax.text(0.5, 0.5, f"no eye: {type(exc).__name__}", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(title, fontsize=9)
        fig.subplots_adjust(left=0.2, bottom=0.2, right=0.97, top=0.88)   # tight_layout costs ~0.1 s a plot
        out.append((title, _png(fig)))
    return out


def _curve_images(curves: dict, records: Sequence[MeasurementRecord]) -> list[tuple[str, str]]:
    import matplotlib.pyplot as plt

    limits = {(r.temperature_c, r.lane): r.high_limit for r in records if r.name == "rx_sensitivity_oma_dbm"}
    temps = sorted({k[0] for k in curves}, key=lambda t: (t is None, t or 0.0))
    out = []
    for t in temps:
        fig, ax = plt.subplots(figsize=(6.0, 4.0))
        threshold = limit = None
        for (tt, lane), res in sorted(curves.items(), key=lambda kv: kv[0][1]):
            if tt != t:
                continue
            good = sorted((p for p in res.points if p.ber > 0), key=lambda p: p.oma_dbm)
            if not good:
                continue
            line, = ax.semilogy([p.oma_dbm for p in good], [p.ber for p in good], "o-", ms=3, lw=1, label=f"L{lane}")
            ax.plot([res.oma_dbm], [res.threshold], "x", color=line.get_color(), ms=9)
            threshold = res.threshold
            limit = limits.get((t, lane), limit)
        if threshold is not None:
            ax.axhline(threshold, color="k", lw=0.8, ls="--", label=f"BER {threshold:.2g}")
        if limit is not None:
            ax.axvline(limit, color="red", lw=1.0, label=f"limit {limit:g} dBm")
        ax.set_xlabel("received OMA_outer (dBm)")
        ax.set_ylabel("counted BER")
        ax.set_title("Receiver sensitivity" + ("" if t is None else f", {t:g} °C") + " (x: interpolated crossing)",
                     fontsize=10)
        from matplotlib.ticker import NullLocator

        ax.yaxis.set_minor_locator(NullLocator())      # minor log ticks double the drawing time
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, ncol=2, loc="lower left")
        fig.subplots_adjust(left=0.12, bottom=0.13, right=0.97, top=0.91)
        out.append(("sensitivity" + ("" if t is None else f" {t:g} °C"), _png(fig)))
    return out


def _fmt(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}g}"


def _lane_tables(records: Sequence[MeasurementRecord]) -> str:
    judged = [r for r in records if r.lane is not None and (r.low_limit is not None or r.high_limit is not None
                                                            or r.outcome is Outcome.ERROR)]
    temps = sorted({r.temperature_c for r in judged}, key=lambda t: (t is None, t or 0.0))
    parts = []
    for t in temps:
        rows = [r for r in judged if r.temperature_c == t]
        names = list(dict.fromkeys(r.name for r in rows))
        lanes = sorted({r.lane for r in rows})
        cell = {(r.lane, r.name): r for r in rows}
        head = "".join(
            f"<th>{html.escape(n)}<br><small>{html.escape(_limit_text(rows, n))}</small></th>" for n in names)
        body = []
        for lane in lanes:
            tds = []
            lane_outcomes = []
            for n in names:
                r = cell.get((lane, n))
                if r is None:
                    tds.append("<td></td>")
                    continue
                lane_outcomes.append(r.outcome)
                txt = "ERROR" if r.value is None else f"{r.value:.3f}"
                margin = "" if r.margin is None else f"<br><small>margin {r.margin:+.2f}</small>"
                lim = f"[{_fmt(r.low_limit)} .. {_fmt(r.high_limit)}] {r.unit}"
                tip = html.escape(f"{r.outcome.value}; limits {lim}" + (f"; {r.message}" if r.message else ""),
                                  quote=True)
                tds.append(f"<td style='background:{_COLOURS[r.outcome.value]}' title='{tip}'>{txt}{margin}</td>")
            worst = _worst(lane_outcomes)
            body.append(f"<tr><th>L{lane}</th>{''.join(tds)}<td style='background:{_COLOURS[worst]}'>{worst}</td></tr>")
        title = "no thermal control" if t is None else f"{t:g} °C"
        parts.append(f"<h3>{title}</h3><table><tr><th>lane</th>{head}<th>lane verdict</th></tr>{''.join(body)}</table>")
    return "".join(parts)


def _limit_text(rows: Sequence[MeasurementRecord], name: str) -> str:
    unverified = any(r.name == name and not r.verified for r in rows)
    flag = " UNVERIFIED limit" if unverified else ""
    for r in rows:
        if r.name == name and (r.low_limit is not None or r.high_limit is not None):
            lo = "" if r.low_limit is None else f"{r.low_limit:g}"
            hi = "" if r.high_limit is None else f"{r.high_limit:g}"
            return f"[{lo} .. {hi}] {r.unit}{flag}"
    return next((r.unit for r in rows if r.name == name), "") + flag


def _worst(outcomes: Sequence[Outcome]) -> str:
    for o in (Outcome.ERROR, Outcome.FAIL, Outcome.MARGINAL):
        if o in outcomes:
            return o.value
    return Outcome.PASS.value


def _where(r: MeasurementRecord) -> str:
    return " ".join(x for x in (r.step, "" if r.lane is None else f"L{r.lane}",
                                "" if r.temperature_c is None else f"{r.temperature_c:g} °C") if x)


def _failed_list(records: Sequence[MeasurementRecord]) -> str:
    """The FAIL and ERROR records, first thing on the page: where, value against its own limits, margin, why."""
    bad = [r for r in records if r.outcome in (Outcome.FAIL, Outcome.ERROR)]
    if not bad:
        return "<h2>Failed measurements</h2><p id='failed-none'>None.</p>"
    rows = "".join(
        f"<tr class='failed' style='background:{_COLOURS[r.outcome.value]}'><td>{html.escape(r.name)}</td>"
        f"<td>{html.escape(_where(r))}</td><td>{'' if r.value is None else f'{r.value:.4g}'}</td>"
        f"<td>[{_fmt(r.low_limit)} .. {_fmt(r.high_limit)}] {html.escape(r.unit)}</td>"
        f"<td>{'' if r.margin is None else f'{r.margin:+.3g}'}</td><td>{r.outcome.value}</td>"
        f"<td style='text-align:left'>{html.escape(r.message)}</td></tr>" for r in bad)
    return ("<h2>Failed measurements</h2><table id='failed'><tr><th>measurement</th><th>where</th><th>value</th>"
            f"<th>limits</th><th>margin</th><th>outcome</th><th>message</th></tr>{rows}</table>")


def _bench_notes(run: RunRecord, records: Sequence[MeasurementRecord]) -> str:
    """The run's note and the messages of its other records (retries, values without a limit),
    each once, as plain text (escaped, line breaks kept)."""
    notes = [run.note] if run.note else []
    notes += [r.message for r in records if r.message and r.outcome not in (Outcome.FAIL, Outcome.ERROR)]
    notes = list(dict.fromkeys(notes))
    if not notes:
        return ""
    return "<h2>Bench notes</h2><pre class='notes'>" + html.escape("\n".join(notes)) + "</pre>"


def render_html(run: RunRecord, records: Sequence[MeasurementRecord], artifacts: Any = None) -> str:
    """The module report as one self-contained HTML page."""
    outcome = run.outcome.value if run.outcome else "RUNNING"
    colour = _COLOURS.get(outcome, "#eee")
    bench = "".join(f"<tr><th>{html.escape(str(k))}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>"
                    for k, v in sorted(run.bench.items()))
    errors = [r for r in records if r.outcome is Outcome.ERROR]
    err_html = ""
    if errors:
        err_html = "<h2>Errors</h2><ul>" + "".join(
            f"<li>{html.escape(r.step)} {'' if r.lane is None else f'L{r.lane} '}"
            f"{'' if r.temperature_c is None else f'{r.temperature_c:g} °C '}{html.escape(r.name)}: "
            f"{html.escape(r.message)}</li>" for r in errors) + "</ul>"
    eyes = curves = ""
    if artifacts is not None:
        if getattr(artifacts, "eyes", None):
            eyes = "<h2>Eye diagrams</h2><div>" + "".join(
                f"<img alt='{html.escape(t)}' src='data:image/png;base64,{img}'/>" for t, img in _eye_images(artifacts.eyes)
            ) + "</div>"
        if getattr(artifacts, "curves", None):
            curves = "<h2>Receiver sensitivity</h2><div>" + "".join(
                f"<img alt='{html.escape(t)}' src='data:image/png;base64,{img}'/>"
                for t, img in _curve_images(artifacts.curves, records)) + "</div>"
    failed_html = _failed_list(records)
    notes_html = _bench_notes(run, records)
    n = {o: sum(r.outcome is o for r in records) for o in Outcome}
    counts = ", ".join(f"{v} {k.value}" for k, v in n.items() if v)
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(run.serial)}: {outcome}</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #999;padding:2px 6px;text-align:right;font-size:90%}"
        ".verdict{font-size:150%;padding:.4em .8em;display:inline-block}"
        "pre.notes{white-space:pre-wrap;background:#f4f4f4;padding:.5em}</style></head><body>"
        f"<h1>Module {html.escape(run.serial)}</h1>"
        f"<div class='verdict' style='background:{colour}'>{outcome} ({run.status.value})</div>"
        f"<p>Plan <b>{html.escape(run.plan_name)}</b> (sha256 {run.plan_hash[:16]}…), run {run.run_id}, "
        f"station {html.escape(run.station_id)}, toolkit {html.escape(run.toolkit_version)}.<br>"
        f"Started {utc_text(run.started_at_s)}, ended {utc_text(run.ended_at_s)}. Records: {len(records)} ({counts})."
        "</p>"
        f"{failed_html}{notes_html}"
        f"<h2>Per-lane results</h2>{_lane_tables(records)}"
        "<p><small>Cell: value, margin to the nearest limit (positive inside); colour: outcome "
        "(MARGINAL = inside the limit but within the product guard band).  UNVERIFIED: the PHY "
        "table row was not checked against the IEEE text (see <code>optics phys</code>).</small></p>"
        f"{err_html}{eyes}{curves}"
        f"<h2>Bench</h2><table>{bench}</table></body></html>"
    )


def write_report(store: ResultStore, run_id: str, out_dir: str | Path, *, artifacts: Any = None) -> ReportPaths:
    """Write ``<serial>_<run>.html``, ``.csv`` and ``.openhtf.json`` for run ``run_id`` into
    ``out_dir`` (the serial made file-name safe by :func:`file_stem`).

    Each file is written to a temporary file beside it and renamed over it when complete
    (:mod:`optics.io.atomic`): a report that fails half-way (disk full, an interrupt)
    leaves the previous version of that file intact and no partial file.

    Parameters
    ----------
    store : ResultStore
        Where the run and its records are.
    run_id : str
        The run.
    out_dir : str or Path
        Directory (created if needed).
    artifacts : RunArtifacts, optional
        Eye waveforms and sensitivity curves of the run (from :func:`~optics.station.runner.run_plan`).

    Returns
    -------
    ReportPaths

    Raises
    ------
    InvalidParameter
        No such run in the store.
    """
    run = _find_run(store, run_id)
    records = store.measurements(run_id=run_id)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = file_stem(run.serial, run.run_id)
    csv_path = write_csv(run, records, out / f"{stem}.csv")
    html_path = out / f"{stem}.html"
    write_text(html_path, render_html(run, records, artifacts))
    from optics.station.openhtf import write_openhtf_json

    htf_path = write_openhtf_json(run, records, out / f"{stem}.openhtf.json")
    return ReportPaths(html=html_path, csv=csv_path, openhtf=htf_path)


__all__ = ["CSV_COLUMNS", "ReportPaths", "csv_text", "file_stem", "render_html", "write_csv", "write_report"]
