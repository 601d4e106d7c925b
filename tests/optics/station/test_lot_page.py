"""The lot page in a real headless browser (chromium; CI installs it in .ci/run), and the
module report's failed measurements and bench notes."""

import re
import shutil
import subprocess
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from optics.station.records import MeasurementRecord, Outcome, RunRecord, RunStatus, judge
from optics.station.report import file_stem, render_html, write_report
from optics.station.stats import lot_stats
from optics.station.store import SQLiteStore

#: Appended to a copy of the page: after load, every image says whether the browser decoded it.
DECODE_PROBE = ("<script>window.addEventListener('load', () => { for (const i of document.images) "
                "{ i.setAttribute('data-decoded', i.complete ? String(i.naturalWidth) : '0'); } "
                "document.body.setAttribute('data-probed', 'yes'); });</script>")


def chromium() -> str:
    """The browser; missing is a failure (CI installs it: .ci/run), never a skip."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is not installed: apt-get install -y chromium (.ci/run does it in CI)"
    return exe


def browser(*args: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess:
    return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--no-first-run", "--virtual-time-budget=5000", *args], capture_output=True, text=True,
                          timeout=timeout_s)


def make_lot(tmp_path: Path):
    rng = np.random.default_rng(2)
    db = tmp_path / "lot.sqlite"
    t0 = time.time() - 600
    with SQLiteStore(db) as st:
        for k, serial in enumerate(["SN01", "SN02", "SN03", "SN04", "SN02"]):
            run = RunRecord(run_id=str(uuid.uuid4()), serial=serial, plan_name="800G-DR8", plan_hash="ab" * 32,
                            station_id=f"line-{k % 2}", started_at_s=t0 + 60 * k, toolkit_version="t")
            st.begin_run(run)
            recs = []
            for temp in (25.0, 70.0):
                recs.append(MeasurementRecord(run_id=run.run_id, serial=serial, step="thermal",
                                              name="case_temperature_c", value=temp + 0.2, unit="°C",
                                              outcome=Outcome.PASS, temperature_c=temp))
                for lane in range(4):
                    v = 3.7 if (serial == "SN03" and lane == 2 and temp == 70.0) else float(rng.normal(2.0, 0.3))
                    o, m = judge(v, None, 3.4)
                    recs.append(MeasurementRecord(run_id=run.run_id, serial=serial, step="tx", name="tdecq_db",
                                                  value=v, unit="dB", outcome=o, lane=lane, temperature_c=temp,
                                                  high_limit=3.4, margin=m))
            st.add_measurements(recs)
            bad = any(r.outcome is Outcome.FAIL for r in recs)
            st.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.FAIL if bad else Outcome.PASS,
                       note="lane switch re-homed once" if serial == "SN04" else "")
            write_report(st, run.run_id, tmp_path / "reports")
        stats = lot_stats(st)
    page = stats.write_html(tmp_path / "lot.html", reports_dir=tmp_path / "reports")
    return stats, page


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.links, self.images, self.ids, self.body = 0, [], [], set(), {}
        self._in_modules = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table":
            self._in_modules = a.get("id") == "modules"
        if tag == "tr" and "module" in a.get("class", "").split():
            self.rows += 1
        if tag == "a" and self._in_modules:
            self.links.append(a.get("href"))
        if tag == "img":
            self.images.append(a)
        if tag == "body":
            self.body = a


def test_lot_page_in_a_headless_browser(tmp_path):
    stats, page = make_lot(tmp_path)
    probe = tmp_path / "lot-probe.html"
    probe.write_text(page.read_text().replace("</body>", DECODE_PROBE + "</body>"))
    proc = browser("--dump-dom", probe.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = _Dom()
    dom.feed(proc.stdout)
    assert dom.body.get("data-probed") == "yes"                  # the browser ran the page to its load event
    assert dom.rows == 4                                          # one row per module (SN02 retested: once)
    assert {"modules", "pareto", "by-temperature", "measurements", "conditions", "throughput"} <= dom.ids
    # every verdict links to that module's report, which exists
    assert len(dom.links) == 4
    for href, m in zip(dom.links, stats.modules):
        assert href == f"reports/{file_stem(m['serial'], m['run_id'])}.html"
        assert (tmp_path / href).is_file()
    classes = sorted(i.get("class") for i in dom.images)
    assert classes == ["control-chart", "histogram", "histogram", "pareto"]      # histograms at 25 and 70 °C
    assert all(int(i.get("data-decoded", "0")) > 100 for i in dom.images), [i.get("data-decoded") for i in dom.images]
    text = proc.stdout
    assert "800G-DR8" in text and "line-0, line-1" in text and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text)


@pytest.mark.slow
def test_lot_page_screenshot(tmp_path):
    import matplotlib.image

    _, page = make_lot(tmp_path)
    shot = tmp_path / "lot.png"
    proc = browser(f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri())
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    img = matplotlib.image.imread(shot)
    assert img.shape[:2] == (2400, 1200) and float(img[..., :3].std()) > 0.05     # not a blank page


def test_module_report_lists_failed_measurements_first_and_bench_notes_as_text(tmp_path):
    with SQLiteStore(tmp_path / "r.sqlite") as st:
        run = RunRecord(run_id=str(uuid.uuid4()), serial="SNF", plan_name="p", plan_hash="ab" * 32, station_id="st",
                        started_at_s=time.time(), toolkit_version="t")
        st.begin_run(run)
        for lane, v in enumerate([1.0, 3.9]):
            o, m = judge(v, None, 3.4)
            st.add_measurement(MeasurementRecord(run_id=run.run_id, serial="SNF", step="tx", name="tdecq_db", value=v,
                                                 unit="dB", outcome=o, lane=lane, temperature_c=70.0,
                                                 high_limit=3.4, margin=m,
                                                 message="retried after: <scope> timeout" if lane == 0 else ""))
        st.end_run(run.run_id, status=RunStatus.COMPLETE, outcome=Outcome.FAIL,
                   note="BENCH NOT SAFE: attenuator shutter <open>")
        (stored,) = st.runs()
        page = render_html(stored, st.measurements(run_id=run.run_id))
    failed_at = page.index("<h2>Failed measurements</h2>")
    assert failed_at < page.index("<h2>Per-lane results</h2>")
    failed = page[failed_at:page.index("</table>", failed_at)]
    assert failed.count("<tr class='failed'") == 1 and "tx L1 70 °C" in failed and "3.9" in failed
    assert "-0.5" in failed                                     # margin 3.4 - 3.9
    notes = re.search(r"<pre class='notes'>(.*?)</pre>", page, re.S).group(1)
    assert notes.splitlines() == ["BENCH NOT SAFE: attenuator shutter &lt;open&gt;",
                                  "retried after: &lt;scope&gt; timeout"]
