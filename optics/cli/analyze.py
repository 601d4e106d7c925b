"""``optics analyze``: the PAM4 transmitter analysis of a waveform file.

Usage::

    optics analyze FILE [--symbol-rate BAUD] [--pattern NAME] [--no-reference-filter]
                        [--phy NAME [--allow-draft] [--allow-proposal]] [--tecq-capture FILE]
                        [--stressed-signal] [--json] [--plot OUT.png]

Reads ``FILE`` with :func:`optics.io.read_waveform` (toolkit CSV/NPZ, FlexDCA export),
runs :func:`optics.analyze.analyze` and prints a table, or with ``--json`` one JSON object
whose keys are the cross-team metric names (``tdecq_db``, ``oma_outer_dbm`` ...; a closed
eye's TDECQ is ``null``).  ``--phy`` adds the transmitter verdict of that PHY; its text ends
with the reasons of an outcome other than PASS/FAIL (rows NOT TESTED and the metric missing,
draft/proposal rows that did not decide), ``reasons`` in the JSON verdict
(:meth:`optics.verdict.Verdict.reasons`).  The PHY's DRAFT rows (e.g. IEEE P802.3dj numbers)
decide only with ``--allow-draft``, its task-force PROPOSAL rows only with ``--allow-proposal``.
``--tecq-capture FILE`` gives the same transmitter recorded back-to-back (without the test
fibre; read like ``FILE``, with the same ``--symbol-rate`` / ``--pattern``): its TECQ is
measured with the same method and reported as ``tecq_db``, so the PHY's ``tecq_db`` and
``|TDECQ - TECQ|`` rows are judged instead of NOT TESTED.  ``--stressed-signal`` reads ``FILE``
as a stressed receiver test signal instead: its SECQ is measured with the PHY's TDECQ method and
the PHY's ``secq_db`` rows judged (:func:`optics.stressed_signal.check_stressed_signal`; the
calibration check of the stressed source, whose SECQ a station plan states as
``reference_secq_db``).

Exit status: 0 ok, 1 the verdict is FAIL, 2 error (one-line message on stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, TextIO

from optics.errors import InvalidParameter, value_text


def register(subparsers: Any) -> None:
    """Add the ``analyze`` sub-command."""
    p = subparsers.add_parser(
        "analyze",
        help="TDECQ, OMA, ER, levels, eye and BER of a PAM4 waveform file",
        description="Read a waveform file and report TDECQ, OMA_outer, ER, average power, RLM, "
        "levels, eye heights/widths and BER (statistical, and counted when the pattern is "
        "known). Exit status: 0 ok, 1 failed verdict (--phy), 2 error.",
    )
    p.add_argument("file", metavar="FILE", help="waveform file (.csv, .npz, FlexDCA .txt/.wfmx)")
    p.add_argument("--symbol-rate", dest="symbol_rate", metavar="BAUD", type=float, default=None,
                   help="symbol rate in Bd, e.g. 53.125e9 (required unless the file gives it)")
    p.add_argument("--pattern", metavar="NAME", default=None,
                   help="known pattern (SSPRQ, PRBS13Q ...), overrides the file's")
    p.add_argument("--no-reference-filter", dest="reference_filter", action="store_false",
                   help="the waveform was captured through the reference receiver already")
    p.add_argument("--phy", metavar="NAME", default=None,
                   help="PHY for a transmitter verdict, e.g. 400GBASE-DR4")
    p.add_argument("--allow-draft", dest="allow_draft", action="store_true",
                   help="let the PHY's DRAFT rows (unapproved standard draft numbers) decide the verdict")
    p.add_argument("--allow-proposal", dest="allow_proposal", action="store_true",
                   help="let the PHY's task-force PROPOSAL rows (and DRAFT rows with them) decide the verdict")
    p.add_argument("--tecq-capture", dest="tecq_capture", metavar="FILE", default=None,
                   help="the same transmitter recorded back-to-back (no test fibre): its TECQ is measured "
                   "and the PHY's tecq_db and |TDECQ - TECQ| rows judged")
    p.add_argument("--stressed-signal", dest="stressed_signal", action="store_true",
                   help="FILE is a stressed receiver test signal: measure its SECQ with the PHY's TDECQ method "
                   "and judge the PHY's secq_db rows (the stressed source's calibration check)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="OUT.png", default=None, help="save the eye plot(s)")
    p.set_defaults(func=run)


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _check_plot_path(path: str | Path) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(path)
    kinds = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if out.suffix.lower().lstrip(".") not in kinds:
        raise InvalidParameter(
            f"--plot {out.name}: unsupported image type {out.suffix or '(none)'!r}; use one of "
            f"{', '.join('.' + k for k in sorted(kinds))}"
        )
    return out


def save_plot(result: Any, path: str | Path) -> Path:
    """Save the analysis figure (eye, and TDECQ eye when available) as an image."""
    from matplotlib.figure import Figure

    out = _check_plot_path(path)
    fig = Figure(figsize=(12, 4.5) if result.tdecq is not None else (7, 4.5))
    out.parent.mkdir(parents=True, exist_ok=True)
    result.plot(fig)
    fig.savefig(out, dpi=110)
    return out


def analyze_file(
    path: str | Path,
    *,
    symbol_rate_baud: float | None = None,
    pattern: str | None = None,
    reference_filter: bool = True,
    phy: str | None = None,
    as_json: bool = False,
    plot: str | Path | None = None,
    stream: TextIO | None = None,
    allow_draft: bool = False,
    allow_proposal: bool = False,
    tecq_capture: str | Path | None = None,
    stressed_signal: bool = False,
) -> int:
    """Read, analyse and report one waveform file; returns the exit status (0 or 1).

    The code path of ``optics analyze`` (also used by ``optics demo``).

    Raises
    ------
    OpticsError
        Unreadable file, no eye, unknown PHY ... (the CLI turns it into exit status 2).
    """
    from optics.analyze import analyze
    from optics.io import read_waveform

    out = stream if stream is not None else sys.stdout
    if symbol_rate_baud is not None and not (math.isfinite(symbol_rate_baud) and symbol_rate_baud > 0):
        raise InvalidParameter(
            f"--symbol-rate must be a positive number of Bd, got {value_text(symbol_rate_baud)}"
        )
    if (allow_draft or allow_proposal) and phy is None:
        raise InvalidParameter("--allow-draft/--allow-proposal apply to a PHY verdict: give --phy NAME")
    if phy is not None:
        try:
            import optics.verdict  # noqa: F401
        except ImportError:
            raise InvalidParameter(
                "--phy needs optics.verdict, which is not available in this installation"
            ) from None
    if stressed_signal and (tecq_capture is not None or plot is not None):
        raise InvalidParameter("--stressed-signal measures the SECQ of one record: it takes neither "
                               "--tecq-capture nor --plot")
    if plot is not None:
        _check_plot_path(plot)
    wf = read_waveform(path, symbol_rate_baud=symbol_rate_baud, pattern=pattern)
    if wf.symbol_rate_baud is None:
        raise InvalidParameter(f"{Path(path).name} does not give the symbol rate: use --symbol-rate BAUD")
    if stressed_signal:
        return _stressed_signal(wf, path, out, reference_filter=reference_filter, phy=phy, as_json=as_json,
                                allow_draft=allow_draft, allow_proposal=allow_proposal)
    tecq_wf = None
    if tecq_capture is not None:
        tecq_wf = read_waveform(tecq_capture, symbol_rate_baud=symbol_rate_baud, pattern=pattern)
        if tecq_wf.symbol_rate_baud is None:
            raise InvalidParameter(f"--tecq-capture {Path(tecq_capture).name} does not give the symbol rate: "
                                   "use --symbol-rate BAUD")
    result = analyze(wf, reference_filter=reference_filter, phy=phy, allow_draft=allow_draft,
                     allow_proposal=allow_proposal, tecq_waveform=tecq_wf)
    if plot is not None:
        saved = save_plot(result, plot)
    if as_json:
        d = result.to_dict()
        d["file"] = str(path)
        if tecq_capture is not None:
            d["tecq_file"] = str(tecq_capture)
        if plot is not None:
            d["plot"] = str(saved)
        out.write(json.dumps(_json_safe(d), indent=2) + "\n")
    else:
        out.write(f"{Path(path).name}: {wf!r}\n\n")
        out.write(result.to_text() + "\n")
        if plot is not None:
            out.write(f"\neye plot saved to {saved}\n")
    if result.verdict is not None and result.verdict.outcome == "FAIL":
        return 1
    return 0


def _stressed_signal(wf: Any, path: str | Path, out: TextIO, *, reference_filter: bool, phy: str | None,
                     as_json: bool, allow_draft: bool, allow_proposal: bool) -> int:
    """``--stressed-signal``: the SECQ check of :func:`optics.stressed_signal.check_stressed_signal`."""
    from optics.stressed_signal import check_stressed_signal

    check = check_stressed_signal(wf, phy, reference_filter=reference_filter, allow_draft=allow_draft,
                                  allow_proposal=allow_proposal)
    if as_json:
        out.write(json.dumps(_json_safe({**check.to_dict(), "file": str(path)}), indent=2) + "\n")
    else:
        out.write(f"{Path(path).name}: {wf!r}\n\n{check.to_text()}\n")
    return 1 if check.verdict is not None and check.verdict.outcome == "FAIL" else 0


def run(args: argparse.Namespace) -> int:
    """Entry point of ``optics analyze``."""
    return analyze_file(
        args.file,
        symbol_rate_baud=args.symbol_rate,
        pattern=args.pattern,
        reference_filter=args.reference_filter,
        phy=args.phy,
        as_json=args.json,
        plot=args.plot,
        allow_draft=args.allow_draft,
        allow_proposal=args.allow_proposal,
        tecq_capture=args.tecq_capture,
        stressed_signal=args.stressed_signal,
    )
