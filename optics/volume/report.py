"""The yield prediction's report: one HTML page with the yield, the Pareto, the distributions
of every measurement against its limits, and escapes against guard bands.

:func:`write_yield_report` writes ``yield.html`` (figures embedded as PNG) and ``yield.json``
(:meth:`~optics.volume.summary.YieldSummary.to_dict`) into a directory, each written to a
temporary file first and renamed, so a report is never half written.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from optics.volume.summary import YieldSummary, json_ready


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _distribution_figures(summary: YieldSummary) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    figs = []
    by_name: dict[str, list[Any]] = {}
    for (name, t), m in summary.moments.items():
        by_name.setdefault(name, []).append((t, m))
    for name in sorted(by_name):
        rows = sorted(by_name[name], key=lambda tm: -1e9 if tm[0] is None else tm[0])
        fig, ax = plt.subplots(figsize=(6.0, 3.0))
        for t, m in rows:
            label = "all" if t is None else f"{t:g} °C"
            ax.hist(m.values, bins=40, histtype="step", label=f"{label} (n={m.n})")
        limits = {x for _, m in rows for x in (m.low, m.high) if x is not None}
        for x in sorted(limits):
            ax.axvline(x, color="red", linestyle="--", linewidth=1.2)
        ax.set_xlabel(name)
        ax.set_ylabel("lanes")
        ax.legend(fontsize=7)
        figs.append((name, _png(fig)))
    return figs


def _guard_band_figure(gb: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    k = gb["k_sigma"]
    ax.semilogy(k, [max(e, 1e-9) * 1e6 for e in gb["all"]["escapes"]], "o-", label="escapes (ppm)")
    ax.semilogy(k, [max(r, 1e-9) * 1e6 for r in gb["all"]["false_rejects"]], "s-", label="false rejects (ppm)")
    ax.set_xlabel("guard band on every measurement, multiples of its repeatability σ")
    ax.set_ylabel("per module (ppm)")
    if not any(gb["all"]["escapes"]) and not any(gb["all"]["false_rejects"]):
        ax.set_title("no module within reach of a limit: no escapes, no false rejects", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _burn_in_html(d: dict[str, Any]) -> str:
    """The burn-in paragraph: screened modules against the model, the survivors' yield."""
    bi = d.get("burn_in")
    if bi is None:
        return ""
    b_lo, b_hi = bi["fraction_ci95"]
    s_lo, s_hi = d["yield_survivors_ci95"]
    expected = "" if bi["expected"] is None else f"; the burn-in model expects {100 * bi['expected']:.2f} %"
    return (f"<p>Burn-in screened {bi['screened']} modules, {100 * bi['fraction']:.2f} % "
            f"(95 % interval {100 * b_lo:.2f}-{100 * b_hi:.2f} %{expected}). "
            f"Yield of the {d['modules'] - bi['screened']} modules tested: {100 * d['yield_survivors']:.2f} % "
            f"(95 % interval {100 * s_lo:.2f}-{100 * s_hi:.2f} %).</p>")


def to_html(summary: YieldSummary, *, title: str, wall_seconds: float | None = None) -> str:
    """The report page as HTML text."""
    d = summary.to_dict(wall_seconds=wall_seconds)
    esc = html.escape
    lo, hi = d["yield_ci95"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title>",
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}th{background:#eee}</style></head><body>",
             f"<h1>{esc(title)}</h1>",
             f"<p><b>Yield {100 * d['yield']:.2f} %</b> of {d['modules']} modules "
             f"(95 % Clopper-Pearson interval {100 * lo:.2f}-{100 * hi:.2f} %).</p>",
             _burn_in_html(d),
             "<h2>Yield by temperature</h2><table><tr><th>case temperature</th><th>yield</th></tr>"]
    for row in d["by_temperature"]:
        t = "-" if row["temperature_c"] is None else f"{row['temperature_c']:g} °C"
        parts.append(f"<tr><td>{t}</td><td>{100 * row['yield']:.2f} %</td></tr>")
    parts.append("</table><h2>Failures (Pareto)</h2><table><tr><th>measurement</th><th>modules</th><th>fraction</th></tr>")
    for r in d["failures"]:
        parts.append(f"<tr><td>{esc(r['measurement'])}</td><td>{r['modules']}</td><td>{100 * r['fraction']:.2f} %</td></tr>")
    parts.append("</table><h2>Measurements</h2><table><tr><th>measurement</th><th>T</th><th>n</th><th>mean</th>"
                 "<th>σ</th><th>low limit</th><th>high limit</th><th>Cpk</th></tr>")

    def num(x: Any, fmt: str = ".4g") -> str:
        return "" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, fmt)

    for m in d["measurements"]:
        parts.append(f"<tr><td>{esc(m['measurement'])}</td><td>{num(m['temperature_c'], 'g')}</td><td>{m['n']}</td>"
                     f"<td>{num(m['mean'])}</td><td>{num(m['sigma'], '.3g')}</td><td>{num(m['low_limit'])}</td>"
                     f"<td>{num(m['high_limit'])}</td><td>{num(m['cpk'], '.2f')}</td></tr>")
    parts.append("</table><h2>Distributions against limits</h2>")
    for name, png in _distribution_figures(summary):
        parts.append(f"<h3>{esc(name)}</h3><img alt='{esc(name)}' src='data:image/png;base64,{png}'>")
    gb = d["guard_bands"]
    parts.append("<h2>Guard bands and test escapes</h2>")
    if gb is None:
        parts.append("<p>No measurement repeatability given (--repeatability): no escape analysis.</p>")
    else:
        parts.append(f"<p>Truly out of spec: {100 * gb['truly_out_of_spec']:.3f} % of modules. "
                     f"Repeatability σ: {esc(', '.join(f'{k} {v:g}' for k, v in gb['repeatability'].items()))}.</p>")
        parts.append(f"<img alt='guard bands' src='data:image/png;base64,{_guard_band_figure(gb)}'>")
        parts.append("<table><tr><th>k·σ</th><th>escapes (ppm)</th><th>false rejects (%)</th></tr>")
        for k, e, r in zip(gb["k_sigma"], gb["all"]["escapes"], gb["all"]["false_rejects"]):
            parts.append(f"<tr><td>{k:.2f}</td><td>{1e6 * e:.1f}</td><td>{100 * r:.3f}</td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_yield_report(summary: YieldSummary, out_dir: str | Path, *, title: str,
                       wall_seconds: float | None = None) -> tuple[Path, Path]:
    """Write ``yield.html`` and ``yield.json`` into ``out_dir`` (created); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    page, data = out / "yield.html", out / "yield.json"
    _atomic_write(page, to_html(summary, title=title, wall_seconds=wall_seconds))
    _atomic_write(data, json.dumps(json_ready(summary.to_dict(wall_seconds=wall_seconds)), indent=1,
                                   allow_nan=False))
    return page, data


__all__ = ["to_html", "write_yield_report"]
