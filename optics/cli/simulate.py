"""``optics simulate``: simulate a PAM4 link module from a TOML link file or a preset.

Usage::

    optics simulate (LINK.toml | --preset NAME) [--temperature-c T | --sweep-temperature A:B:STEP]
                    [--rx-power-dbm P] [--symbols N] [--samples-per-symbol S] [--pattern NAME]
                    [--seed S] [--no-tdecq] [--phy NAME [--allow-draft] [--allow-proposal]]
                    [--guard-band-db DB] [--json] [--plot DIR]
                    [--laser-age-hours H [--laser-age-temperature-c T]] [--save-waveforms DIR]

Runs :func:`models.link.simulate` (or :func:`models.thermal.sweep_temperature`) and prints a
table per lane, or with ``--json`` one JSON object: ``name``, ``temperature_c``, ``lanes``
(objects with ``tdecq_db, oma_outer_dbm, extinction_ratio_db, average_power_dbm,
ber_estimate, ber_counted``, ``chip_temperature_c``, ``laser_bias_a`` (the bias the laser
takes at the chip temperature: under automatic power control it rises with temperature) and
``laser_apc_limited`` (the APC servo at its current limit, so the power is below its set
point) ...), ``module_power_w``, ``energy_pj_per_bit``, ``power_blocks_w`` and
``junction_temperature_c`` (the electronics' self-consistent junction temperature); a sweep gives
``{"name", "sweep": [one such object per temperature]}``.  ``--plot DIR`` writes the Tx eye
of each lane (``eye_lane<i>.png``) or the sweep figure (``temperature_sweep.png``).

``--laser-age-hours H`` simulates the module after ``H`` hours of laser operation at the chip
temperature ``--laser-age-temperature-c`` (default 55 °C; :func:`models.aging.aged_module`):
an APC laser then needs more bias (and the module more power); the JSON gains
``laser_age_hours``, ``laser_age_temperature_c`` and ``laser_hours_to_end_of_life`` (at that
temperature, :meth:`models.aging.LaserAging.hours_to_end_of_life`).

``--save-waveforms DIR`` writes each lane's Tx optical waveform (W) back-to-back (TP2: what
``tecq_db`` is measured on) and, where the link made one, its Rx TIA waveform (V) as
``DIR/lane<k>_tx_<T>C.npz`` / ``DIR/lane<k>_rx_<T>C.npz``, and with a PHY that has a compliance
fibre the Tx record after it as ``DIR/lane<k>_tdecq_<T>C.npz`` (what ``tdecq_db`` is measured
on: :func:`models.compliance.through_compliance_fibre`; ``optics analyze --phy`` of it gives
simulate's ``tdecq_db``)
(``k`` the lane index from 0, ``T`` the case temperature as ``%g``, e.g. ``lane0_tx_25C.npz``,
``lane3_rx_-5C.npz``; a sweep writes them per lane and temperature) in the format of
:func:`optics.io.write_npz` (symbol rate, one pattern period of symbols, and in ``meta`` the
pattern name, samples per symbol, lane, temperature, module/preset/PHY and unit), each file
replaced atomically; ``optics analyze FILE`` reads them with no other option.  A sweep keeps
every waveform in memory until it is written (16.8 MB per waveform at SSPRQ x 32 samples/UI).

With a PHY (``--phy``, or the preset's own table) every lane is judged (Tx rows and the
pre-FEC BER); the text ends with the reasons of any lane verdict other than PASS/FAIL (rows NOT
TESTED and the metric missing, draft/proposal rows that did not decide and the flag that would
make them decide: ``verdict_reasons`` per lane in the JSON).  The PHY's DRAFT rows (e.g. IEEE
P802.3dj numbers) decide only with ``--allow-draft``, its PROPOSAL rows only with
``--allow-proposal``.  A sweep's text starts with one summary table: temperature x lane
verdicts and the worst margin of each temperature (dB rows) with its row name.

Exit status: 0 every lane links, 1 a lane failed (lock lost, no light, overload), 2 error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from optics.errors import InvalidParameter, SpecError

_TABLE_KEYS = (
    ("tdecq_db", "TDECQ dB", "{:.2f}"),
    ("oma_outer_dbm", "OMA dBm", "{:.2f}"),
    ("extinction_ratio_db", "ER dB", "{:.2f}"),
    ("average_power_dbm", "Pave dBm", "{:.2f}"),
    ("receive_power_dbm", "Prx dBm", "{:.2f}"),
    ("ber_estimate", "BER est", "{:.2e}"),
    ("ber_counted", "BER cnt", "{:.2e}"),
    ("heater_power_w", "heater mW", "{:.1f}"),
    ("laser_bias_a", "bias mA", "{:.1f}"),
)


def register(subparsers: Any) -> None:
    """Add the ``simulate`` sub-command."""
    p = subparsers.add_parser(
        "simulate",
        help="simulate a 400G/800G/1.6T PAM4 link module (preset or TOML link file)",
        description=__doc__.split("\n\n")[0],
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("link", nargs="?", metavar="LINK.toml", help="TOML link file (models.config)")
    src.add_argument("--preset", metavar="NAME", help="a preset module, e.g. 400GBASE-DR4 (see models.presets)")
    temp = p.add_mutually_exclusive_group()
    temp.add_argument("--temperature-c", dest="temperature_c", type=float, default=None, metavar="T",
                      help="case temperature in °C (default from the file, else 25)")
    temp.add_argument("--sweep-temperature", dest="sweep", default=None, metavar="A:B:STEP",
                      help="sweep the case temperature, e.g. 0:70:5 (negative start: --sweep-temperature=-40:85:5), "
                           "or commercial/extended/industrial (15 points)")
    p.add_argument("--rx-power-dbm", dest="rx_power_dbm", type=float, default=None, metavar="P",
                   help="set the average power into each receiver (dBm)")
    p.add_argument("--symbols", dest="n_symbols", type=int, default=None, metavar="N",
                   help="symbols per lane (default one pattern period)")
    p.add_argument("--samples-per-symbol", dest="sps", type=int, default=None, metavar="S",
                   help="samples per symbol (default 32)")
    p.add_argument("--pattern", default=None, metavar="NAME", help="test pattern (default SSPRQ)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--no-tdecq", dest="tdecq", action="store_false", help="skip TDECQ (faster)")
    p.add_argument("--phy", default=None, metavar="NAME",
                   help="judge every lane against this PHY (default: the preset's or link's name "
                   "when it is a PHY table; 'none' to skip the verdict)")
    p.add_argument("--guard-band-db", dest="guard_band_db", type=float, default=0.0, metavar="DB",
                   help="product guard band on dB limits (MARGINAL inside it; default 0)")
    p.add_argument("--allow-draft", dest="allow_draft", action="store_true",
                   help="let the PHY's DRAFT rows (unapproved standard draft numbers) decide the verdict")
    p.add_argument("--allow-proposal", dest="allow_proposal", action="store_true",
                   help="let the PHY's task-force PROPOSAL rows (and DRAFT rows with them) decide the verdict")
    p.add_argument("--laser-age-hours", dest="age_hours", type=float, default=None, metavar="H",
                   help="age the lasers by H hours of operation first (models.aging; default: new lasers)")
    p.add_argument("--laser-age-temperature-c", dest="age_temperature_c", type=float, default=55.0, metavar="T",
                   help="chip temperature of that operation, °C (default 55)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="DIR", default=None, help="write eye / sweep figures into DIR")
    p.add_argument("--save-waveforms", dest="save_waveforms", metavar="DIR", default=None,
                   help="write each lane's Tx (and Rx) waveform as DIR/lane<k>_tx_<T>C.npz / lane<k>_rx_<T>C.npz "
                        "(k lane index from 0, T case temperature °C as %%g, e.g. lane0_tx_25C.npz), and with a PHY "
                        "the Tx record after its compliance fibre (what TDECQ is measured on) as "
                        "lane<k>_tdecq_<T>C.npz, readable by 'optics analyze'; a sweep writes every temperature "
                        "(held in memory until written)")
    p.set_defaults(func=run)


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _json_safe(obj.item())
    return obj


def _fmt(value: Any, fmt: str, key: str) -> str:
    if value is None:
        return "-"
    if key in ("heater_power_w", "laser_bias_a"):
        value = value * 1e3
    return fmt.format(value)


#: Transmitter metrics a simulation always gives (required for a complete verdict).
_TX_REQUIRED = ("tdecq_db", "oma_outer_dbm", "extinction_ratio_db", "average_power_dbm")


def _resolve_phy(requested: str | None, module_name: str) -> Any:
    """The PHY spec to judge against, or None ('none', or a module name that is no PHY)."""
    from optics.phy import load_phy

    if requested is not None:
        return None if requested.lower() == "none" else load_phy(requested)
    try:
        return load_phy(module_name)
    except SpecError:
        return None


#: Context for a metric a simulated lane did not give (reasons of a NOT TESTED row).
_SIM_HINTS = {
    "tdecq_db": "TDECQ not computed (run without --no-tdecq, with enough symbols)",
    "wavelength_m": "the simulation reports no wavelength row value",
    "transition_time_s": "the simulation reports no transition time",
}


def _add_verdicts(doc: dict[str, Any], spec: Any, guard_band_db: float, *, allow_draft: bool = False,
                  allow_proposal: bool = False) -> str | None:
    """Judge each lane of ``doc`` (a ModuleResult dict) against ``spec``; return the overall outcome.

    Each lane gets ``verdict`` (outcome), ``verdict_rows`` (records), ``verdict_reasons``
    (:class:`optics.verdict.Reason` dicts, empty for PASS/FAIL) and ``verdict_worst_margin``
    (the judged dB row with the smallest margin, or None); the transmitter rows use the lane's
    Tx metrics, and the received pre-FEC BER (``ber_estimate``, else ``ber_counted``) is
    checked against the PHY's BER limit (:class:`optics.verdict.BerCheck`).  A lane whose
    link failed is FAIL.  Draft / proposal rows decide only with ``allow_draft`` /
    ``allow_proposal``.
    """
    from optics.verdict import FAIL, INCOMPLETE, NOT_TESTED, PASS, BerCheck, evaluate

    if spec is None:
        return None
    tx_rows = {row.metric for row in spec.rows_in("tx")}
    outcomes = []
    for lane in doc["lanes"]:
        metrics = {k: v for k, v in lane.items() if k in tx_rows or k in _TX_REQUIRED}
        require = [m for m in _TX_REQUIRED if m in tx_rows]
        v = evaluate(metrics, spec, scope="tx", guard_band_db=guard_band_db, require=require,
                     allow_draft=allow_draft, allow_proposal=allow_proposal)
        outcome = v.outcome
        ber = lane.get("ber_estimate")
        if ber is None:
            ber = lane.get("ber_counted")
        check = BerCheck.from_spec(ber, spec, allow_draft=allow_draft, allow_proposal=allow_proposal,
                                   missing_hint="the lane gave neither ber_estimate nor ber_counted")
        # a draft / proposal BER limit without its flag is judged and shown but does not decide
        if (check.decides and check.status == FAIL) or lane.get("failure"):
            outcome = FAIL
        elif check.decides and check.status == NOT_TESTED and outcome == PASS:
            outcome = INCOMPLETE
        reasons = []
        if outcome not in (PASS, FAIL):
            ber_reason = check.reason()
            reasons = [*v.explain(_SIM_HINTS), *([ber_reason] if ber_reason is not None else [])]
        worst = v.worst_margin()
        lane["verdict"] = outcome
        lane["verdict_rows"] = v.to_records() + [check.to_record()]
        lane["verdict_unverified_rows"] = [r.row.metric for r in v.unverified_rows]
        lane["verdict_reasons"] = [r.to_dict() for r in reasons]
        lane["verdict_worst_margin"] = None if worst is None else {
            "metric": worst.row.metric, "label": worst.row.label, "unit": worst.row.unit, "margin": worst.margin,
            "status": worst.status, "row_status": worst.row.status, "decides": worst.decides}
        outcomes.append(outcome)
    order = ("FAIL", "INCOMPLETE", "MARGINAL", "PASS")
    overall = next((o for o in order if o in outcomes), "INCOMPLETE")
    doc["phy"] = spec.name
    doc["verdict"] = overall
    doc["allow_draft"], doc["allow_proposal"] = allow_draft, allow_proposal
    return overall


def _add_power_state(doc: dict[str, Any], res: Any) -> None:
    """``junction_temperature_c`` of the module's electronics (None without a power result)."""
    doc["junction_temperature_c"] = None if res.power is None else res.power.junction_temperature_c


def _add_laser_state(doc: dict[str, Any], module: Any) -> None:
    """Put each lane's ``laser_bias_a`` / ``laser_apc_limited`` (at its chip temperature,
    :func:`models.lane_metrics.laser_state`) and the module's junction temperature into ``doc``
    (a ModuleResult dict)."""
    from models.lane_metrics import laser_state

    for lane, d in zip(module.lanes, doc["lanes"]):
        t_chip = d.get("chip_temperature_c")
        if t_chip is None:
            from models.thermal import chip_temperature_c

            t_chip = chip_temperature_c(module, float(doc["temperature_c"]))
        d.update(laser_state(lane, float(t_chip)))


def _print_result(d: dict[str, Any], out: Any) -> None:
    print(f"{d['name']} at {d['temperature_c']:g} °C case", file=out)
    head = f"{'lane':<18}" + "".join(f"{label:>11}" for _, label, _ in _TABLE_KEYS)
    print(head, file=out)
    for lane in d["lanes"]:
        row = f"{lane['name']:<18}" + "".join(f"{_fmt(lane.get(k), f, k):>11}" for k, _, f in _TABLE_KEYS)
        print(row, file=out)
        if lane.get("failure"):
            print(f"  link failed: {lane['failure']}", file=out)
    mp, ep = d.get("module_power_w"), d.get("energy_pj_per_bit")
    if mp is not None:
        tj = d.get("junction_temperature_c")
        at = f" (electronics junction {tj:.1f} °C)" if tj is not None else ""
        print(f"module power {mp:.2f} W, {ep:.2f} pJ/bit{at}", file=out)
    limited = [lane["name"] for lane in d["lanes"] if lane.get("laser_apc_limited")]
    if limited:
        print(f"  laser at its APC current limit (power below the set point): {', '.join(limited)}", file=out)
    if d.get("verdict") is not None:
        lanes = ", ".join(f"{lane['name']} {lane['verdict']}" for lane in d["lanes"])
        print(f"verdict against {d['phy']} (Tx rows and pre-FEC BER): {d['verdict']}  [{lanes}]", file=out)
        unverified = sorted({m for lane in d["lanes"] for m in lane.get("verdict_unverified_rows", [])})
        if unverified:
            print(f"  rows not verified against the standard: {', '.join(unverified)}", file=out)
        for line in _reason_lines(d):
            print(line, file=out)


def _reason_lines(d: dict[str, Any]) -> list[str]:
    """The ``why OUTCOME`` blocks of the lanes whose verdict is neither PASS nor FAIL; each
    reason once (without its numbers, which are in the table and the JSON), with the lanes it
    applies to when not all of them."""
    lines: list[str] = []
    by_outcome: dict[str, list[dict[str, Any]]] = {}
    for lane in d["lanes"]:
        if lane.get("verdict") not in (None, "PASS", "FAIL"):
            by_outcome.setdefault(lane["verdict"], []).append(lane)
    for outcome, lanes in by_outcome.items():
        texts: dict[str, list[str]] = {}
        flags: set[str] = set()
        for lane in lanes:
            for r in lane.get("verdict_reasons", []):
                texts.setdefault(r["text_without_values"], []).append(lane["name"])
                if r.get("flag"):
                    flags.add(r["flag"])
        names = [lane["name"] for lane in lanes]
        which = "every lane" if len(lanes) == len(d["lanes"]) else ", ".join(names)
        lines.append(f"  why {outcome} ({which}):")
        for text, on in texts.items():
            lines.append(f"    - {text}" + ("" if on == names else f"  [{', '.join(on)}]"))
        if not texts:
            lines.append("    - no reason recorded")
        if flags:
            lines.append(f"    {' / '.join(sorted(flags))} would let the draft/proposal rows decide")
    return lines


def _sweep_summary(doc: dict[str, Any]) -> list[str]:
    """One table for a sweep: temperature x lane verdicts and the worst margin of each
    temperature (the judged dB row with the smallest margin over the lanes, with its name)."""
    points = doc["sweep"]
    if not points or points[0].get("verdict") is None:
        return []
    names = [lane["name"] for lane in points[0]["lanes"]]
    head = ["T °C", *names, "module", "worst margin"]
    table = [head]
    for d in points:
        worst = [(lane["verdict_worst_margin"], lane["name"]) for lane in d["lanes"]
                 if lane.get("verdict_worst_margin") is not None]
        if worst:
            w, lane_name = min(worst, key=lambda x: x[0]["margin"])
            tag = "" if w["decides"] else f" [{w['row_status']}, advisory]"
            worst_text = f"{w['margin']:+.2f} {w['unit']} {w['metric']} ({lane_name}){tag}"
        else:
            worst_text = "-"
        table.append([f"{d['temperature_c']:g}", *(lane["verdict"] for lane in d["lanes"]), d["verdict"], worst_text])
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines = [f"{doc.get('name', points[0]['name'])}: verdicts against {points[0]['phy']} "
             f"over {len(points)} temperature(s) (Tx rows and pre-FEC BER)"]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    return lines


def run(args: argparse.Namespace) -> int:
    """Run the simulation described by ``args``; returns the exit status."""
    import dataclasses

    from models.config import load_link
    from models.link import SimulationSettings, simulate
    from models.presets import preset

    if args.preset:
        module, settings = preset(args.preset), SimulationSettings()
    else:
        cfg = load_link(args.link)
        module, settings = cfg.module, cfg.settings
    changes: dict[str, Any] = {}
    if args.temperature_c is not None:
        changes["temperature_c"] = args.temperature_c
    if args.rx_power_dbm is not None:
        changes["rx_power_dbm"] = args.rx_power_dbm
    if args.n_symbols is not None:
        changes["n_symbols"] = args.n_symbols
    if args.sps is not None:
        changes["samples_per_symbol"] = args.sps
    if args.pattern is not None:
        changes["pattern"] = args.pattern
    if not args.tdecq:
        changes["compute_tdecq"] = False
    settings = dataclasses.replace(settings, **changes)
    age: dict[str, Any] = {}
    if args.age_hours is not None:
        from models.aging import LaserAging, aged_module

        module = aged_module(module, args.age_hours, temperature_c=args.age_temperature_c)
        age = {"laser_age_hours": args.age_hours, "laser_age_temperature_c": args.age_temperature_c,
               "laser_hours_to_end_of_life": LaserAging().hours_to_end_of_life(args.age_temperature_c)}
    plot_dir = Path(args.plot) if args.plot else None
    spec = _resolve_phy(args.phy, module.name)
    if spec is not None and spec.tdecq_method is not None and settings.compute_tdecq:
        # TDECQ with the PHY's transmitter-test method (as optics analyze --phy)
        settings = dataclasses.replace(settings, tdecq_method=spec.tdecq_method)
    if spec is not None and settings.compute_tdecq:
        # TDECQ after the PHY's compliance fibre, TECQ back-to-back (models.compliance)
        from models.compliance import compliance_channel

        settings = dataclasses.replace(settings, compliance=compliance_channel(spec))

    if args.sweep is not None:
        from models.thermal import parse_range, sweep_temperature

        temps = parse_range(args.sweep)
        sweep = sweep_temperature(module, temps, settings, seed=args.seed,
                                  keep_waveforms=args.save_waveforms is not None)
        if args.save_waveforms is not None:
            for r in sweep.results:
                _save_waveforms(r, args, settings, spec)
        doc = sweep.to_dict()
        ok = all(r.ok for r in sweep.results)
        for d, r in zip(doc["sweep"], sweep.results):
            _add_power_state(d, r)
            _add_laser_state(d, module)
            d.update(age)
        for d in doc["sweep"]:
            ok = _add_verdicts(d, spec, args.guard_band_db, allow_draft=args.allow_draft,
                               allow_proposal=args.allow_proposal) != "FAIL" and ok
        if plot_dir is not None:
            _save(sweep.plot(), plot_dir / "temperature_sweep.png")
        if args.json:
            print(json.dumps(_json_safe(doc)))
        else:
            summary = _sweep_summary(doc)
            if summary:
                print("\n".join(summary) + "\n", file=sys.stdout)
            for d in doc["sweep"]:
                _print_result(d, sys.stdout)
                print(file=sys.stdout)
        return 0 if ok else 1

    res = simulate(module, settings, seed=args.seed)
    if args.save_waveforms is not None:
        _save_waveforms(res, args, settings, spec)
    doc = res.to_dict()
    _add_power_state(doc, res)
    _add_laser_state(doc, module)
    doc.update(age)
    verdict = _add_verdicts(doc, spec, args.guard_band_db, allow_draft=args.allow_draft,
                            allow_proposal=args.allow_proposal)
    if plot_dir is not None:
        from matplotlib.figure import Figure

        from optics.eye import plot_eye

        for i, lane in enumerate(res.lanes):
            if lane.tx_waveform is None:
                continue
            fig = Figure(figsize=(7, 4.5))
            ax = fig.add_subplot()
            try:
                plot_eye(lane.tx_waveform, ax=ax)
            except InvalidParameter:  # closed eye: nothing to draw
                continue
            ax.set_title(f"{res.name} {lane.name}: Tx optical eye")
            _save(fig, plot_dir / f"eye_lane{i}.png")
    if args.json:
        print(json.dumps(_json_safe(doc)))
    else:
        _print_result(doc, sys.stdout)
    return 0 if res.ok and verdict != "FAIL" else 1


def _save(fig: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def _save_waveforms(res: Any, args: argparse.Namespace, settings: Any, spec: Any) -> list[Path]:
    """Write each lane's Tx (and Rx) waveform of ``res`` (a ModuleResult) into ``args.save_waveforms``."""
    from optics.io import write_npz

    directory = Path(args.save_waveforms)
    directory.mkdir(parents=True, exist_ok=True)
    info = {"temperature_c": float(res.temperature_c), "module": res.name, "preset": args.preset,
            "link_file": args.link, "phy": None if spec is None else spec.name, "pattern_name": settings.pattern,
            "samples_per_symbol": settings.samples_per_symbol}
    from models.compliance import compliance_channel, through_compliance_fibre

    # what the scope behind the PHY's compliance spool captures: the record tdecq_db is measured on
    channel = None if spec is None else compliance_channel(spec)
    written = []
    for k, lane in enumerate(res.lanes):
        records = [("tx", lane.tx_waveform), ("rx", lane.rx_waveform)]
        if channel is not None and lane.tx_waveform is not None:
            records.append(("tdecq", through_compliance_fibre(lane.tx_waveform, channel)))
        for role, wf in records:
            if wf is None:
                continue
            wf = wf.with_meta(waveform=role, lane=lane.name, lane_index=k, unit=wf.unit, **info)
            written.append(write_npz(wf, directory / f"lane{k}_{role}_{res.temperature_c:g}C.npz"))
    return written
