"""What a station run keeps besides its records, for the report: eye waveforms and sensitivity
curves (:class:`RunArtifacts`), written as they are taken and read back by :func:`load_artifacts`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from optics.station.sensitivity import SensitivityResult, SweepPoint


@dataclasses.dataclass
class RunArtifacts:
    """What a run keeps besides records, for the report: eye waveforms and sensitivity curves.

    Keys are ``(temperature_c, lane)``.  With ``directory`` set, each item is also written
    there the moment it is taken (``eye_<T>_L<k>.npz``, toolkit NumPy format, and
    ``curve_<T>_L<k>.json``), so a report can be rebuilt after a crash
    (:func:`load_artifacts`).
    """

    eyes: dict[tuple[float | None, int], Any] = dataclasses.field(default_factory=dict)
    curves: dict[tuple[float | None, int], SensitivityResult] = dataclasses.field(default_factory=dict)
    tx_metrics: dict[tuple[float | None, int], dict[str, float]] = dataclasses.field(default_factory=dict)
    directory: Path | None = None

    @staticmethod
    def _stem(kind: str, key: tuple[float | None, int]) -> str:
        t, lane = key
        return f"{kind}_{'none' if t is None else format(t, 'g')}_L{lane}"

    def add_eye(self, key: tuple[float | None, int], wf: Any) -> None:
        """Keep (and write) the exported pattern waveform of a lane."""
        self.eyes[key] = wf
        if self.directory is not None:
            from optics.io import write_npz

            self.directory.mkdir(parents=True, exist_ok=True)
            write_npz(wf, self.directory / f"{self._stem('eye', key)}.npz")

    def add_curve(self, key: tuple[float | None, int], result: SensitivityResult) -> None:
        """Keep (and write) a lane's sensitivity sweep."""
        self.curves[key] = result
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            doc = {"temperature_c": key[0], "lane": key[1], "oma_dbm": result.oma_dbm,
                   "average_power_dbm": result.average_power_dbm, "threshold": result.threshold,
                   "points": [p.to_dict() for p in result.points]}
            (self.directory / f"{self._stem('curve', key)}.json").write_text(json.dumps(doc, indent=1))


def load_artifacts(directory: str | Path) -> RunArtifacts:
    """Read the eyes and curves a run wrote into ``directory`` (missing directory: none)."""
    from optics.io import read_npz

    d = Path(directory)
    art = RunArtifacts()
    if not d.is_dir():
        return art
    for f in sorted(d.glob("eye_*.npz")):
        wf = read_npz(f)
        t = wf.meta.get("temperature_c")
        art.eyes[(None if t is None else float(t), int(wf.meta.get("lane", 0)))] = wf
    for f in sorted(d.glob("curve_*.json")):
        doc = json.loads(f.read_text())
        t = doc["temperature_c"]
        art.curves[(None if t is None else float(t), int(doc["lane"]))] = SensitivityResult(
            oma_dbm=doc["oma_dbm"], average_power_dbm=doc["average_power_dbm"], threshold=doc["threshold"],
            points=tuple(SweepPoint(**p) for p in doc["points"]))
    return art


__all__ = ["RunArtifacts", "load_artifacts"]
