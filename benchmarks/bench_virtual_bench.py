"""Speed of the virtual bench through real pyvisa + pyvisa-py over loopback TCP.

Targets:

* a 20-point attenuation sweep reading, at each point, the power meter, the scope's TDECQ
  (pattern-locked, limit-test acquisition, ``STATus?`` polled until ``CORR``) and a BER
  (0.1 s simulated ERATio gate) in < 20 s;
* the overhead of one query round trip (``*IDN?``) over loopback in < 2 ms.

Run: ``.venv/bin/python benchmarks/bench_virtual_bench.py`` (exit code 0; prints the figures).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyvisa  # noqa: E402

from instruments.bench import VirtualBench  # noqa: E402

SWEEP_TARGET_S = 20.0
QUERY_TARGET_MS = 2.0


def _open(rm, resource, timeout_ms=20000):
    return rm.open_resource(resource, read_termination="\n", write_termination="\n", timeout=timeout_ms)


def main() -> int:
    """Run both measurements and print them against their targets."""
    with VirtualBench() as bench:
        rm = pyvisa.ResourceManager("@py")
        try:
            res = bench.resources
            opm, voa, bert, dca = (_open(rm, res[n]) for n in ("power_meter", "attenuator", "bert", "scope"))

            # query overhead: many *IDN? round trips
            for _ in range(50):
                opm.query("*IDN?")
            samples = []
            for _ in range(5):
                n = 500
                t0 = time.perf_counter()
                for _ in range(n):
                    opm.query("*IDN?")
                samples.append((time.perf_counter() - t0) / n * 1e3)
            query_ms = statistics.median(samples)

            # the sweep
            t0 = time.perf_counter()
            voa.query(":OUTP1:STAT ON;*OPC?")
            bert.query(":OUTP:STAT 'M1.DataOut1',1;:OUTP:GLOB 'M1.System',1;:PLUG:ERAT:NEW 'S';"
                       ":PLUG:ERAT:ACQ:TIME 'S',0.1;*OPC?")
            dca.query(":TIM:SRAT 53.125E9;:TRIG:PLEN 8191;:TRIG:PLOC ON;:CHAN1A:SIRC ON;"
                      ":MEAS:EYE:TDEQ:SOUR1 CHAN1A;:MEAS:EYE:TDEQ;*OPC?")
            rows = []
            for k in range(20):
                att = 6.0 + 0.5 * k
                voa.query(f":INP1:ATT {att}DB;*OPC?")
                power_dbm = float(opm.query(":READ1:POW?"))
                dca.query(":ACQ:STOP;:ACQ:CDIS;:LTES:ACQ:CTYP:PATT 4;:LTES:ACQ:STAT ON;:ACQ:RUN;*OPC?")
                while dca.query(":MEAS:EYE:TDEQ:STAT?") != "CORR":
                    time.sleep(0.001)
                tdecq_db = float(dca.query(":MEAS:EYE:TDEQ?"))
                bert.write(":PLUG:ERAT:STAR 'S'")
                while bert.query(":PLUG:ERAT:RUN:STAT? 'S'") != "0":
                    time.sleep(0.001)
                f = bert.query(":PLUG:ERAT:FETC:DATA? 'S'").strip("()").split(",")
                ber = (int(f[4]) + int(f[5])) / (int(f[2]) + int(f[3]))
                rows.append((att, power_dbm, tdecq_db, ber))
            sweep_s = time.perf_counter() - t0
        finally:
            rm.close()

    print("attenuation_db  power_dbm  tdecq_db  ber")
    for att, p, t, b in rows:
        print(f"{att:14.1f}  {p:9.3f}  {t:8.3f}  {b:.3e}")
    print(f"20-point sweep (power, TDECQ, BER per point): {sweep_s:.2f} s  (target < {SWEEP_TARGET_S:g} s)"
          f"  {'OK' if sweep_s < SWEEP_TARGET_S else 'MISSED'}")
    print(f"query round trip over loopback (*IDN?, median of 5 x 500): {query_ms:.3f} ms  "
          f"(target < {QUERY_TARGET_MS:g} ms)  {'OK' if query_ms < QUERY_TARGET_MS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
