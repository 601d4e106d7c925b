"""What a lot of evaluated modules says: yield with its interval, yield per temperature, the
failure Pareto, mean/σ/Cpk per measurement and temperature, and guard bands against test
escapes.  :class:`YieldSummary` takes :class:`~optics.volume.evaluate.ModuleOutcome` one at a
time (streaming: memory does not grow with the lot beyond a bounded sample of values kept for
the histograms).

Definitions
-----------
* **Yield** = passing modules / modules (PASS and MARGINAL pass, as at the station); its 95 %
  interval is Clopper-Pearson (:func:`optics.ber.clopper_pearson`).
* **Burn-in**: modules the burn-in screened (a ``burn_in_fallout`` record,
  :data:`optics.volume.evaluate.BURN_IN_FALLOUT`), their fraction with its Clopper-Pearson
  95 % interval, and the model's expectation
  (:meth:`models.population.Population.burn_in_fallout_expected`, given by the caller).
  **Yield of the survivors** = passing modules / (modules − screened): the yield of the
  modules that reached the test (screened modules never pass), with its interval.
* **Yield at a temperature**: modules tested there with no FAIL/ERROR record at that
  temperature (a module the burn-in screened was tested at no temperature).
* **Pareto**: per measurement, the fraction of modules with at least one FAIL/ERROR record of it
  (a module failing two measurements counts for both).
* **Cpk** = min(USL − μ, μ − LSL) / 3σ over the lanes' values at one temperature (one-sided
  with one limit), with μ, σ from Welford's streaming moments.
* **Guard bands and escapes**: with a measurement repeatability σ_m per measurement (the
  station's, from a repeatability study or stated by the user), a record whose true value (the
  model's) lies ``margin`` inside its limit is measured inside the test limit (the limit moved
  inwards by the guard band g) with probability ``Φ((margin − g)/σ_m)``.  A module passes the
  test with ``Π`` over its records; its expected contribution is an **escape** when it is truly
  out of spec (some margin < 0) and a **false reject** when it is truly good.  Sums over the lot
  are expected counts, for guard bands ``g = k·σ_m``, k in :data:`GUARD_BAND_STEPS`, applied to
  every measurement at once, and for each measurement alone (the others at g = 0).  Records of a
  measurement without a σ_m count as measured exactly.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import special

from optics.ber import clopper_pearson
from optics.volume.evaluate import BURN_IN_FALLOUT, ModuleOutcome

#: Guard bands of the escape analysis, in multiples of each measurement's repeatability σ.
GUARD_BAND_STEPS = tuple(np.round(np.arange(0.0, 3.01, 0.25), 2))
#: Values kept per measurement and temperature for histograms (a reservoir sample beyond).
SAMPLE_SIZE = 20_000
_FAILING = ("FAIL", "ERROR")


@dataclasses.dataclass
class _Moments:
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    low: float | None = None
    high: float | None = None
    unit_low: float = math.inf
    unit_high: float = -math.inf
    values: list[float] = dataclasses.field(default_factory=list)
    seen: int = 0

    def add(self, x: float, key: int) -> None:
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self.m2 += d * (x - self.mean)
        self.unit_low, self.unit_high = min(self.unit_low, x), max(self.unit_high, x)
        # reservoir sample with a deterministic key: the same lot keeps the same values
        self.seen += 1
        if len(self.values) < SAMPLE_SIZE:
            self.values.append(x)
        else:
            j = key % self.seen
            if j < SAMPLE_SIZE:
                self.values[j] = x

    @property
    def sigma(self) -> float:
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0

    def cpk(self) -> float | None:
        s = self.sigma
        if s <= 0.0 or (self.low is None and self.high is None):
            return None
        sides = [(self.high - self.mean) if self.high is not None else math.inf,
                 (self.mean - self.low) if self.low is not None else math.inf]
        return min(sides) / (3.0 * s)


class YieldSummary:
    """Streaming statistics of evaluated modules (see the module docstring).

    Parameters
    ----------
    repeatability : mapping, optional
        Measurement name → repeatability σ in its unit; enables the escape analysis.
    keep_modules : bool
        Keep each module's ``to_dict()`` for ``per_module`` (small; default False).
    burn_in_expected : float, optional
        The model's expected burn-in fallout per module
        (:meth:`~models.population.Population.burn_in_fallout_expected`), shown beside the
        count; None when the population has no burn-in.
    """

    def __init__(self, repeatability: Mapping[str, float] | None = None, *, keep_modules: bool = False,
                 burn_in_expected: float | None = None) -> None:
        self.repeatability = {k: float(v) for k, v in (repeatability or {}).items()}
        for k, v in self.repeatability.items():
            if not (math.isfinite(v) and v >= 0.0):
                raise ValueError(f"repeatability of {k} = {v!r} must be a finite number >= 0")
        if burn_in_expected is not None:
            burn_in_expected = float(burn_in_expected)
            if not 0.0 <= burn_in_expected <= 1.0:
                raise ValueError(f"burn_in_expected = {burn_in_expected!r} must be a fraction in [0, 1]")
        self.burn_in_expected = burn_in_expected
        self.n = 0
        self.n_pass = 0
        self.n_screened = 0
        self.verdicts: dict[str, int] = {}
        self.by_temperature: dict[float | None, list[int]] = {}
        self.failures: dict[str, int] = {}
        self.failures_by_step: dict[str, int] = {}
        self.moments: dict[tuple[str, float | None], _Moments] = {}
        self.units: dict[str, str] = {}
        self.seconds = 0.0
        self.keep_modules = keep_modules
        self.modules: list[dict[str, Any]] = []
        k = np.asarray(GUARD_BAND_STEPS)
        self._escape_all = np.zeros(k.size)
        self._reject_all = np.zeros(k.size)
        self._escape_one: dict[str, np.ndarray] = {}
        self._reject_one: dict[str, np.ndarray] = {}
        self.n_truly_bad = 0

    # ------------------------------------------------------------------ streaming
    def add(self, outcome: ModuleOutcome) -> None:
        """Take one module's outcome."""
        self.n += 1
        self.n_pass += outcome.passed
        self.verdicts[outcome.verdict] = self.verdicts.get(outcome.verdict, 0) + 1
        self.seconds += outcome.seconds
        self.n_screened += any(r.name == BURN_IN_FALLOUT for r in outcome.records)
        if self.keep_modules:
            self.modules.append(outcome.to_dict())
        temps: dict[float | None, bool] = {}
        failed_names: set[str] = set()
        failed_steps: set[str] = set()
        for i, r in enumerate(outcome.records):
            tested = r.name != BURN_IN_FALLOUT     # a screened module was tested at no temperature
            if tested:
                temps.setdefault(r.temperature_c, True)
            if r.outcome in _FAILING:
                if tested:
                    temps[r.temperature_c] = False
                failed_names.add(r.name)
                failed_steps.add(r.step)
            if r.value is not None and math.isfinite(r.value):
                m = self.moments.setdefault((r.name, r.temperature_c), _Moments())
                if m.low is None and m.high is None:
                    m.low, m.high = r.low, r.high
                m.add(float(r.value), zlib.crc32(f"{outcome.index}:{i}".encode()))
        for t, ok in temps.items():
            counts = self.by_temperature.setdefault(t, [0, 0])
            counts[0] += ok
            counts[1] += 1
        for name in failed_names:
            self.failures[name] = self.failures.get(name, 0) + 1
        for step in failed_steps:
            self.failures_by_step[step] = self.failures_by_step.get(step, 0) + 1
        self._guard_bands(outcome)

    def _guard_bands(self, outcome: ModuleOutcome) -> None:
        judged = [r for r in outcome.records if r.margin is not None and r.outcome in ("PASS", "MARGINAL", "FAIL")]
        if not self.repeatability or not judged:
            return
        margins = np.array([r.margin for r in judged])
        sig = np.array([self.repeatability.get(r.name, 0.0) for r in judged])
        names = [r.name for r in judged]
        truly_good = bool(np.all(margins >= 0.0)) and not any(r.outcome == "ERROR" for r in outcome.records)
        self.n_truly_bad += not truly_good
        k = np.asarray(GUARD_BAND_STEPS)[:, None]

        def p_pass(guard: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(sig > 0, (margins - guard) / np.where(sig > 0, sig, 1.0), np.where(margins >= guard, np.inf, -np.inf))
            return np.prod(special.ndtr(z), axis=-1)

        p_all = p_pass(k * sig)
        if truly_good:
            self._reject_all += 1.0 - p_all
        else:
            self._escape_all += p_all
        for name in dict.fromkeys(names):
            if self.repeatability.get(name, 0.0) <= 0:
                continue
            mask = np.array([n == name for n in names])
            p = p_pass(k * sig * mask)
            esc = self._escape_one.setdefault(name, np.zeros(k.shape[0]))
            rej = self._reject_one.setdefault(name, np.zeros(k.shape[0]))
            if truly_good:
                rej += 1.0 - p
            else:
                esc += p

    # ------------------------------------------------------------------ results
    @property
    def yield_fraction(self) -> float:
        """Passing modules / modules (0 for none)."""
        return self.n_pass / self.n if self.n else 0.0

    def yield_ci95(self) -> tuple[float, float]:
        """Clopper-Pearson 95 % interval of the yield."""
        return clopper_pearson(self.n_pass, self.n) if self.n else (0.0, 1.0)

    @property
    def survivors(self) -> int:
        """Modules that reached the test (not screened by the burn-in)."""
        return self.n - self.n_screened

    @property
    def yield_survivors(self) -> float:
        """Passing modules / modules that reached the test (0 for none)."""
        return self.n_pass / self.survivors if self.survivors else 0.0

    def yield_survivors_ci95(self) -> tuple[float, float]:
        """Clopper-Pearson 95 % interval of the survivors' yield."""
        return clopper_pearson(self.n_pass, self.survivors) if self.survivors else (0.0, 1.0)

    def burn_in(self) -> dict[str, Any] | None:
        """``{screened, fraction, fraction_ci95, expected}`` (None with neither a burn-in model
        nor a screened module)."""
        if self.burn_in_expected is None and not self.n_screened:
            return None
        lo, hi = clopper_pearson(self.n_screened, self.n) if self.n else (0.0, 1.0)
        return {"screened": self.n_screened, "fraction": self.n_screened / self.n if self.n else 0.0,
                "fraction_ci95": [lo, hi], "expected": self.burn_in_expected}

    def pareto(self) -> list[dict[str, Any]]:
        """Measurements by the fraction of modules they fail, largest first."""
        rows = [{"measurement": k, "modules": v, "fraction": v / self.n} for k, v in self.failures.items()]
        return sorted(rows, key=lambda r: (-r["modules"], r["measurement"]))

    def measurements(self) -> list[dict[str, Any]]:
        """Per measurement and temperature: n, mean, sigma, min, max, limits, Cpk."""
        out = []
        for (name, t), m in sorted(self.moments.items(), key=lambda kv: (kv[0][0], -1e9 if kv[0][1] is None else kv[0][1])):
            out.append({"measurement": name, "temperature_c": t, "n": m.n, "mean": m.mean, "sigma": m.sigma,
                        "min": m.unit_low, "max": m.unit_high, "low_limit": m.low, "high_limit": m.high,
                        "cpk": m.cpk()})
        return out

    def guard_bands(self) -> dict[str, Any] | None:
        """The escape analysis (None without repeatability): expected escapes and false
        rejects per module for guard bands ``k·σ_m`` on every measurement and on each alone."""
        if not self.repeatability or not self.n:
            return None
        n = self.n
        return {
            "k_sigma": list(GUARD_BAND_STEPS),
            "repeatability": dict(self.repeatability),
            "truly_out_of_spec": self.n_truly_bad / n,
            "all": {"escapes": list(self._escape_all / n), "false_rejects": list(self._reject_all / n)},
            "each": {name: {"guard_band": [float(k) * self.repeatability[name] for k in GUARD_BAND_STEPS],
                            "escapes": list(self._escape_one[name] / n),
                            "false_rejects": list(self._reject_one[name] / n)}
                     for name in sorted(self._escape_one)},
        }

    def to_dict(self, *, wall_seconds: float | None = None) -> dict[str, Any]:
        """JSON-ready summary: ``modules, yield, yield_ci95, burn_in, yield_survivors,
        yield_survivors_ci95, by_temperature, failures (Pareto), failures_by_step, verdicts,
        measurements, guard_bands, seconds, modules_per_s``."""
        lo, hi = self.yield_ci95()
        s_lo, s_hi = self.yield_survivors_ci95()
        secs = self.seconds if wall_seconds is None else wall_seconds
        out = {
            "modules": self.n,
            "yield": self.yield_fraction,
            "yield_ci95": [lo, hi],
            "burn_in": self.burn_in(),
            "yield_survivors": self.yield_survivors,
            "yield_survivors_ci95": [s_lo, s_hi],
            "verdicts": dict(sorted(self.verdicts.items())),
            "by_temperature": [{"temperature_c": t, "yield": ok / tot if tot else 0.0, "modules": tot}
                               for t, (ok, tot) in sorted(self.by_temperature.items(),
                                                          key=lambda kv: -1e9 if kv[0] is None else kv[0])],
            "failures": self.pareto(),
            "failures_by_step": dict(sorted(self.failures_by_step.items(), key=lambda kv: -kv[1])),
            "measurements": self.measurements(),
            "guard_bands": self.guard_bands(),
            "seconds": secs,
            "modules_per_s": self.n / secs if secs > 0 else None,
        }
        if self.keep_modules:
            out["per_module"] = list(self.modules)
        return out

    def to_text(self, *, wall_seconds: float | None = None) -> str:
        """A terminal summary (yield, per temperature, Pareto, Cpk)."""
        d = self.to_dict(wall_seconds=wall_seconds)
        lo, hi = d["yield_ci95"]
        lines = [f"modules {d['modules']}: yield {100 * d['yield']:.1f} % (95 % CI {100 * lo:.1f}-{100 * hi:.1f} %)"]
        bi = d["burn_in"]
        if bi is not None:
            b_lo, b_hi = bi["fraction_ci95"]
            s_lo, s_hi = d["yield_survivors_ci95"]
            expected = "" if bi["expected"] is None else f", expected {100 * bi['expected']:.2f} %"
            lines.append(f"burn-in: {bi['screened']} screened, {100 * bi['fraction']:.2f} % "
                         f"(95 % CI {100 * b_lo:.2f}-{100 * b_hi:.2f} %{expected}); "
                         f"yield of the {self.survivors} tested: {100 * d['yield_survivors']:.1f} % "
                         f"(95 % CI {100 * s_lo:.1f}-{100 * s_hi:.1f} %)")
        for row in d["by_temperature"]:
            t = "no temperature" if row["temperature_c"] is None else f"{row['temperature_c']:g} °C"
            lines.append(f"  at {t}: {100 * row['yield']:.1f} %")
        if d["failures"]:
            lines.append("failures (modules failing each measurement):")
            lines += [f"  {r['measurement']:<28} {r['modules']:6d}  {100 * r['fraction']:5.1f} %" for r in d["failures"]]
        lines.append(f"{'measurement':<28} {'T °C':>6} {'n':>6} {'mean':>10} {'sigma':>9} {'Cpk':>6}")
        for m in d["measurements"]:
            t = "" if m["temperature_c"] is None else f"{m['temperature_c']:g}"
            cpk = "" if m["cpk"] is None else f"{m['cpk']:.2f}"
            lines.append(f"{m['measurement']:<28} {t:>6} {m['n']:6d} {m['mean']:10.4g} {m['sigma']:9.3g} {cpk:>6}")
        gb = d["guard_bands"]
        if gb:
            lines.append(f"guard bands (k·σ on every measurement): truly out of spec {100 * gb['truly_out_of_spec']:.2f} %")
            for k, e, r in zip(gb["k_sigma"], gb["all"]["escapes"], gb["all"]["false_rejects"]):
                lines.append(f"  k = {k:4.2f}: escapes {1e6 * e:10.1f} ppm, false rejects {100 * r:6.2f} %")
        if d["modules_per_s"]:
            lines.append(f"{d['modules']} modules in {d['seconds']:.1f} s ({d['modules_per_s']:.2f} modules/s)")
        return "\n".join(lines)


def json_ready(obj: Any) -> Any:
    """``obj`` with non-finite floats replaced by None and tuples by lists (strict JSON)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.floating):
        return json_ready(float(obj))
    return obj


__all__ = ["GUARD_BAND_STEPS", "SAMPLE_SIZE", "YieldSummary", "json_ready"]
