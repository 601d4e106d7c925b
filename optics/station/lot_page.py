"""The lot page: one self-contained HTML file a line engineer opens for a lot.

On top the plan(s), the dates (first start, last end, UTC) and the stations; then yield,
first-pass yield and yield by temperature; the module table (serial, verdict linking to the
module's report, runs, first outcome, station, start); the Pareto of failure causes; the
control charts with their run-rule violations; the statistics table per measurement and
temperature; and the histograms against the limits, one figure per case temperature.
Images are PNGs embedded as ``data:`` URIs.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from optics.station.records import utc_text

_COLOURS = {"PASS": "#d8f0d8", "MARGINAL": "#fff1b8", "FAIL": "#f7c6c6", "ERROR": "#e0c0f0",
            "INCOMPLETE": "#e0c0f0", "RUNNING": "#eee"}
#: Most control charts / histogram panels drawn on the page (the JSON holds them all).
MAX_PANELS = 24


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _img(alt: str, data: str, cls: str) -> str:
    return f"<img class='{cls}' alt='{html.escape(alt, quote=True)}' src='data:image/png;base64,{data}'/>"


def _t(t: float | None) -> str:
    return "no thermal control" if t is None else f"{t:g} °C"


def _grid(n: int) -> tuple[int, int]:
    cols = min(3, max(1, n))
    return math.ceil(max(1, n) / cols), cols


def histogram_images(stats: Any) -> list[tuple[str, str]]:
    """One figure per case temperature: each measurement's histogram with its limits (a shaded
    band where the limits differ per record)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    temps = sorted({m.temperature_c for m in stats.measurements if m.n > 0}, key=lambda t: (t is None, t or 0.0))
    out = []
    for t in temps:
        items = [m for m in stats.measurements if m.temperature_c == t and m.n > 0][:MAX_PANELS]
        rows, cols = _grid(len(items))
        fig, axes = plt.subplots(rows, cols, figsize=(4.0 * cols, 2.8 * rows), squeeze=False)
        for ax, m in zip(axes.ravel(), items):
            ax.stairs(np.asarray(m.histogram_counts), np.asarray(m.histogram_edges), fill=True, alpha=0.7)
            for lim, rng in ((m.low_limit, m.low_limit_range), (m.high_limit, m.high_limit_range)):
                if rng is not None:
                    ax.axvspan(rng[0], rng[1], color="red", alpha=0.2, lw=0)
                elif lim is not None:
                    ax.axvline(lim, color="red", lw=1.2)
            cpk_txt = "n/a" if m.cpk is None else f"{m.cpk:.2f}"
            per = ", limits per record" if m.limits_per_record else ""
            ax.set_title(f"{m.name} ({m.step})\nCpk {cpk_txt}{per}", fontsize=8)
            ax.set_xlabel(m.unit, fontsize=8)
            ax.tick_params(labelsize=7)
        for ax in axes.ravel()[len(items):]:
            ax.set_visible(False)
        fig.suptitle(f"Histograms at {_t(t)}", fontsize=10)
        fig.tight_layout()
        out.append((f"histograms {_t(t)}", _png(fig)))
    return out


def control_chart_image(stats: Any) -> str | None:
    """The control charts (I charts) of the lot in one figure, or None without any."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from optics.station.control_charts import ControlChart, RuleViolation, plot_chart

    charts = [c for c in stats.control_charts if c["n"] > 0][:MAX_PANELS]
    if not charts:
        return None
    rows, cols = _grid(len(charts))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.5 * rows), squeeze=False)
    for ax, c in zip(axes.ravel(), charts):
        chart = ControlChart(values=tuple(c["values"]), positions=tuple(c["positions"]), labels=tuple(c["labels"]),
                             centre=c["centre"], sigma=c["sigma"], mr_mean=c["mr_mean"],
                             violations=tuple(RuleViolation(v["rule"], v["index"]) for v in c["violations"]))
        plot_chart(chart, ax, title=f"{c['name']} {_t(c['temperature_c'])}", unit=c["unit"])
    for ax in axes.ravel()[len(charts):]:
        ax.set_visible(False)
    fig.tight_layout()
    return _png(fig)


def pareto_image(stats: Any) -> str | None:
    """Bar chart of failing modules per measurement with the cumulative share, or None."""
    items = stats.pareto.get("by_measurement") or []
    if not items:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    x = np.arange(len(items))
    ax.bar(x, [p["n_modules"] for p in items], color="#cc4444")
    ax.set_xticks(x, [p["key"] for p in items], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("failing modules")
    ax2 = ax.twinx()
    ax2.plot(x, [100 * p["cumulative_fraction"] for p in items], "ko-", ms=3)
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("cumulative %")
    fig.tight_layout()
    return _png(fig)


def _link(reports_dir: str | os.PathLike[str] | None, page_path: str | os.PathLike[str] | None,
          serial: str, run_id: str) -> str | None:
    if reports_dir is None:
        return None
    from optics.station.report import file_stem

    target = Path(reports_dir) / f"{file_stem(serial, run_id)}.html"
    base = Path(page_path).resolve().parent if page_path is not None else Path.cwd()
    return Path(os.path.relpath(target.resolve(), base)).as_posix()


def render_lot_page(stats: Any, *, reports_dir: str | os.PathLike[str] | None = None,
                    page_path: str | os.PathLike[str] | None = None) -> str:
    """The lot page of a :class:`~optics.station.stats.LotStats` as HTML text.

    Parameters
    ----------
    stats : LotStats
    reports_dir : path, optional
        Where the module reports are (``<serial>_<run>.html``, :func:`optics.station.report.file_stem`);
        the verdicts link there.  Without it the verdicts are plain text.
    page_path : path, optional
        Where the page will be written (links are made relative to it).
    """
    esc = html.escape

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f} %"

    def num(x: Any) -> str:
        return "-" if x is None else (f"{x:.4g}" if isinstance(x, float) else esc(str(x)))

    head = stats.lot
    plans = ", ".join(head.get("plans", [])) or "-"
    stations = ", ".join(head.get("stations", [])) or "-"
    top = (f"<table class='lot'><tr><th>plan</th><td>{esc(plans)}</td></tr>"
           f"<tr><th>dates</th><td>{utc_text(head.get('first_start_s'))} .. {utc_text(head.get('last_end_s'))}</td></tr>"
           f"<tr><th>stations</th><td>{esc(stations)}</td></tr>"
           f"<tr><th>modules / runs</th><td>{stats.n_modules} / {stats.n_runs} ({stats.n_incomplete_runs} incomplete)"
           f"</td></tr><tr><th>statistics over</th><td>{esc(stats.runs_policy)} run(s) of each module</td></tr></table>")
    temps = "".join(f"<tr><td>{_t(t['temperature_c'])}</td><td>{t['n_tested']}</td><td>{t['n_pass']}</td>"
                    f"<td>{pct(t['yield'])}</td></tr>" for t in stats.by_temperature)
    yields = (f"<p>Yield: <b>{pct(stats.yield_fraction)}</b>; first-pass yield: <b>{pct(stats.first_pass_yield)}</b>"
              "</p><table id='by-temperature'><tr><th>temperature</th><th>tested</th><th>passed</th><th>yield</th>"
              f"</tr>{temps}</table>")
    mod_rows = []
    for m in stats.modules:
        link = _link(reports_dir, page_path, m["serial"], m["run_id"])
        verdict = esc(m["outcome"])
        if link is not None:
            verdict = f"<a href='{esc(link, quote=True)}'>{verdict}</a>"
        mod_rows.append(
            f"<tr class='module'><td>{esc(m['serial'])}</td>"
            f"<td class='verdict' style='background:{_COLOURS.get(m['outcome'], '#eee')}'>{verdict}</td>"
            f"<td>{m['n_runs']}</td><td>{esc(m['first_outcome'])}</td><td>{esc(m['station_id'])}</td>"
            f"<td>{utc_text(m['started_at_s'])}</td><td style='text-align:left'>{esc(m['note'])}</td></tr>")
    modules = ("<table id='modules'><tr><th>serial</th><th>verdict</th><th>runs</th><th>first run</th>"
               f"<th>station</th><th>last run started</th><th>note</th></tr>{''.join(mod_rows)}</table>")
    pareto_rows = "".join(
        f"<tr><td>{esc(label)}</td><td>{esc(p['key'])}</td><td>{p['n_modules']}</td><td>{p['n_records']}</td>"
        f"<td>{100 * p['cumulative_fraction']:.0f} %</td></tr>"
        for label, key in (("measurement", "by_measurement"), ("step", "by_step"))
        for p in stats.pareto.get(key, []))
    pareto_img = pareto_image(stats)
    pareto = ("<table id='pareto'><tr><th>by</th><th>cause</th><th>modules</th><th>records</th><th>cumulative</th>"
              f"</tr>{pareto_rows}</table>" if pareto_rows else "<p>No failing record.</p>")
    if pareto_img:
        pareto += _img("pareto", pareto_img, "pareto")
    from optics.station.control_charts import RULES

    flagged = "".join(
        f"<li>{esc(c['name'])} {_t(c['temperature_c'])}: "
        + ", ".join(f"rule {v['rule']} ({esc(v['description'])}) at {esc(c['labels'][v['index']])}"
                    for v in c["violations"][:8])
        + (" ..." if len(c["violations"]) > 8 else "") + "</li>"
        for c in stats.control_charts if c["violations"])
    cc_img = control_chart_image(stats)
    charts = ("<p><small>I charts, one point per run (mean over lanes) in module order; centre line, ±3σ "
              "(σ = MR̄/1.128), violations circled.  Rules: "
              + "; ".join(f"{k}: {esc(v)}" for k, v in RULES.items()) + ".</small></p>"
              + (f"<ul id='violations'>{flagged}</ul>" if flagged else "<p>No run-rule violation.</p>")
              + (_img("control charts", cc_img, "control-chart") if cc_img else ""))
    cols = ("step", "measurement", "temperature", "unit", "n", "fail", "error", "mean", "σ", "LSL", "USL", "Cpk")
    stat_rows = []
    for m in stats.measurements:
        lsl = (f"{m.low_limit_range[0]:.4g}..{m.low_limit_range[1]:.4g} per record" if m.low_limit_range
               else num(m.low_limit))
        usl = (f"{m.high_limit_range[0]:.4g}..{m.high_limit_range[1]:.4g} per record" if m.high_limit_range
               else num(m.high_limit))
        stat_rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in (
            esc(m.step), esc(m.name), _t(m.temperature_c), esc(m.unit), m.n, m.n_fail, m.n_error, num(m.mean),
            num(m.sigma), lsl, usl, num(m.cpk))) + "</tr>")
    cond = "".join(f"<li>{esc(c['name'])} at the {_t(c['temperature_c'])} set point: {num(c['minimum'])} .. "
                   f"{num(c['maximum'])} {esc(c['unit'])} ({c['n']} readings)</li>" for c in stats.conditions)
    rep = "".join(f"<tr><td>{esc(r['name'])}</td><td>{r['sigma']:.3g} {esc(r['unit'])}</td><td>{r['dof']}</td>"
                  f"<td>{r['n_modules']}</td></tr>" for r in stats.repeatability_detail)
    thr = stats.throughput.get("by_station", {})
    thr_rows = "".join(f"<tr><td>{esc(s)}</td><td>{t['n_runs']}</td><td>{num(t['modules_per_hour'])}</td>"
                       f"<td>{num(t['mean_test_time_s'])}</td></tr>" for s, t in thr.items())
    hists = "".join(_img(alt, data, "histogram") for alt, data in histogram_images(stats))
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Lot statistics</title>"
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1em}"
        "td,th{border:1px solid #999;padding:2px 6px;text-align:right;font-size:90%}</style></head><body>"
        f"<h1>Lot statistics</h1>{top}{yields}"
        f"<h2>Modules</h2>{modules}"
        f"<h2>Pareto of failure causes</h2>{pareto}"
        f"<h2>Control charts</h2>{charts}"
        f"<h2>Measurements</h2><table id='measurements'><tr>{''.join(f'<th>{c}</th>' for c in cols)}</tr>"
        f"{''.join(stat_rows)}</table>"
        + (f"<h3>Conditions</h3><ul id='conditions'>{cond}</ul>" if cond else "")
        + (f"<h2>Repeatability (retests)</h2><table id='repeatability'><tr><th>measurement</th><th>σ</th>"
           f"<th>dof</th><th>modules</th></tr>{rep}</table>" if rep else "")
        + (f"<h2>Throughput</h2><table id='throughput'><tr><th>station</th><th>runs</th><th>modules/h</th>"
           f"<th>mean test time (s)</th></tr>{thr_rows}</table>" if thr_rows else "")
        + f"<h2>Histograms against limits</h2>{hists}</body></html>"
    )


__all__ = ["MAX_PANELS", "control_chart_image", "histogram_images", "pareto_image", "render_lot_page"]
