"""Bench configuration, VirtualBench, ``optics bench serve``, and end to end over real pyvisa."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import pyvisa

from instruments.bench import DEFAULTS, BenchConfig, VirtualBench, load_bench_config, resolve_driver
from optics.cli import main
from optics.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


# --- configuration ------------------------------------------------------------------------------
def test_default_config_is_all_virtual():
    cfg = BenchConfig.default()
    assert set(cfg.instruments) == set(DEFAULTS)
    assert cfg.virtual_names == list(DEFAULTS)
    assert cfg.instruments["scope"].driver == "instruments.keysight.flexdca:FlexDCA"


def test_toml_config_overrides(tmp_path):
    path = tmp_path / "bench.toml"
    path.write_text(
        """
[virtual]
time_scale = 1000.0
[virtual.transmitter]
average_power_dbm = 0.5
[virtual.path]
attenuator_insertion_loss_db = 2.0

[instruments.power_meter]
model = "8163B"
driver = "instruments.keysight.n77xx:Keysight8163B"
[instruments.attenuator]
[instruments.scope]
resource = "TCPIP0::10.0.0.9::hislip0::INSTR"
options = { channel = "2A" }
"""
    )
    cfg = load_bench_config(path)
    assert cfg.source == str(path)
    assert list(cfg.instruments) == ["power_meter", "attenuator", "scope"]
    assert cfg.virtual_names == ["power_meter", "attenuator"]
    assert cfg.physics.time_scale == 1000.0
    assert cfg.physics.transmitter.average_power_dbm == 0.5
    assert cfg.physics.path.attenuator_insertion_loss_db == 2.0
    assert cfg.instruments["scope"].options == {"channel": "2A"}
    with VirtualBench(cfg) as bench:
        res = bench.resources
        assert res["scope"] == "TCPIP0::10.0.0.9::hislip0::INSTR"
        assert res["power_meter"].startswith("TCPIP::127.0.0.1::")
        assert type(bench.instruments["power_meter"]).__name__ == "Keysight8163B"
        with pytest.raises(ConfigError, match="not a running virtual instrument"):
            bench.server("scope")


@pytest.mark.parametrize(
    "text, key",
    [
        ("[instrument.scope]\n", "'instrument'"),
        ("[instruments.scope]\nresorce = 'virtual'\n", "instruments.scope.resorce"),
        ("[instruments.laser]\n", "instruments.laser"),
        ("[virtual]\ntimescale = 3\n", "virtual.timescale"),
        ("[virtual.transmitter]\npower_dbm = 3\n", "virtual.transmitter.power_dbm"),
        ("[instruments.scope]\nmodel = 'DSA8300'\n", "instruments.scope.model"),
        ("[instruments.scope]\nport = 'x'\n", "instruments.scope.port"),
        ("[virtual.transmitter]\nextinction_ratio_db = -1.0\n", "extinction_ratio_db"),
        ("[virtual]\nmodel_preset = '9000GBASE-XX'\n", "virtual.model_preset"),
    ],
)
def test_config_errors_name_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_bench_config(path)
    assert str(path) in str(info.value)
    assert key in str(info.value)


def test_config_file_problems(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_bench_config(tmp_path / "missing.toml")
    bad = tmp_path / "broken.toml"
    bad.write_text("[virtual\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_bench_config(bad)
    with pytest.raises(ConfigError, match="cannot import"):
        resolve_driver("instruments.nowhere:Thing")
    with pytest.raises(ConfigError, match="has no"):
        resolve_driver("instruments.bench:Nothing")
    assert resolve_driver("instruments.bench:VirtualBench") is VirtualBench


# --- end to end over real pyvisa + pyvisa-py -------------------------------------------------------
@pytest.fixture(scope="module")
def bench():
    with VirtualBench() as b:
        yield b


@pytest.fixture(scope="module")
def visa(bench):
    rm = pyvisa.ResourceManager("@py")
    sessions = {}

    def open_(name, timeout_ms=5000):
        if name not in sessions:
            sessions[name] = rm.open_resource(
                bench.resources[name], read_termination="\n", write_termination="\n", timeout=timeout_ms
            )
        return sessions[name]

    yield open_
    rm.close()


def _no_error(inst):
    assert inst.query(":SYST:ERR?") == '+0,"No error"'


def test_attenuation_sweep_moves_power_meter_and_ber(bench, visa):
    opm, voa, bert = visa("power_meter"), visa("attenuator"), visa("bert")
    opm.write(":SENS1:POW:WAV 1311NM;:SENS1:POW:UNIT 0")
    voa.write(":INP1:WAV 1311NM;:OUTP1:STAT ON")
    bert.write(":OUTP:STAT 'M1.DataOut1',1;:OUTP:GLOB 'M1.System',1;:PLUG:ERAT:NEW 'E2E';:PLUG:ERAT:ACQ:TIME 'E2E',0.2")
    powers, bers = [], []
    for att in (10.0, 11.5, 13.0, 14.5):
        assert voa.query(f":INP1:ATT {att}DB;*OPC?") == "1"  # settle before reading elsewhere
        powers.append(float(opm.query(":READ1:POW?")))
        bert.write(":PLUG:ERAT:STAR 'E2E'")
        while bert.query(":PLUG:ERAT:RUN:STAT? 'E2E'") != "0":
            time.sleep(0.002)
        fields = bert.query(":PLUG:ERAT:FETC:DATA? 'E2E'").strip("()").split(",")
        cmp_bits, err_bits = int(fields[2]) + int(fields[3]), int(fields[4]) + int(fields[5])
        bers.append(err_bits / cmp_bits)
    for inst in (opm, voa, bert):
        _no_error(inst)
    # dB for dB (reading noise 5e-4 relative = 0.002 dB)
    np.testing.assert_allclose(np.diff(powers), -1.5, atol=0.01)
    assert all(b2 > b1 for b1, b2 in zip(bers, bers[1:]))
    assert bers[0] > 0


def test_thermal_set_point_changes_scope_average_power(bench, visa):
    dca, ts = visa("scope", 20000), visa("thermal")
    dca.write(":TIM:SRAT 53.125E9;:TRIG:PLEN 8191;:TRIG:PLOC ON;:MEAS:EYE:APOW:UNIT DBM;:MEAS:EYE:APOW")
    assert dca.query("*OPC?") == "1"

    def apow():
        deadline = time.monotonic() + 10
        while dca.query(":MEAS:EYE:APOW:STAT?") != "CORR":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        return float(dca.query(":MEAS:EYE:APOW?"))

    assert ts.query("SETN 0;SETP 25;FLOW 1;SETP?") == "25.0"  # the query also syncs
    bench.link.advance(600.0)
    at_25 = apow()
    assert ts.query("SETP 70;SETP?") == "70.0"
    bench.link.advance(900.0)
    assert ts.query("TECR?") == "1"
    assert float(ts.query("TEMP?")) == pytest.approx(70.0, abs=0.2)
    at_70 = apow()
    _no_error(dca)
    tempco = bench.link.params.transmitter.power_tempco_db_per_k
    assert at_70 - at_25 == pytest.approx(45 * tempco, abs=0.05)
    ts.write("FLOW 0")


def test_unknown_command_over_the_wire(bench, visa):
    osa = visa("osa")
    osa.write(":SENS:WAV:CENT 3000NM")
    osa.write(":NOT:A:COMMAND")
    assert osa.query(":SYST:ERR?").startswith('-222,"Data out of range')
    assert osa.query(":SYST:ERR?").startswith('-113,"Undefined header')


# --- command line -----------------------------------------------------------------------------------
def test_cli_bench_serve_prints_resources():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["bench", "serve", "--duration", "0.1", "--json"]) == 0
    resources = json.loads(out.getvalue())
    assert set(resources) == set(DEFAULTS)
    assert all(r.startswith("TCPIP::127.0.0.1::") and r.endswith("::SOCKET") for r in resources.values())


def test_cli_bench_serve_bad_config(tmp_path):
    path = tmp_path / "bench.toml"
    path.write_text("[instruments.laser]\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["bench", "serve", "--config", str(path)]) == 2
    assert "instruments.laser" in err.getvalue()


@pytest.mark.skipif(os.name != "posix", reason="SIGTERM")
def test_cli_bench_serve_stops_on_sigterm():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "optics", "bench", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().split()
        assert first[0] == "scope"
        rm = pyvisa.ResourceManager("@py")
        try:
            scope = rm.open_resource(first[1], read_termination="\n", write_termination="\n", timeout=5000)
            assert "N1000A" in scope.query("*IDN?")
        finally:
            rm.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
