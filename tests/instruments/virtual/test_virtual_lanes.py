"""Multi-lane device under test on the virtual bench: BenchLink lane API, the virtual 1xN optical
switch (through the real driver over pyvisa-py TCP), the simulated CMIS bus, and partial benches."""

import math
import socket

import numpy as np
import pytest
import pyvisa
from scipy.stats import norm

from instruments.bench import BenchConfig, VirtualBench
from instruments.cmis import CmisModule
from instruments.keysight.n773x import OpticalSwitch
from instruments.virtual.cmis_module import VirtualCmisBus
from instruments.virtual.physics import (BenchLink, BenchParams, DutIdentity, DutLane, ReceiverParams,
                                         SimpleTransmitter, ThermalParams, TransmitterParams)
from optics.errors import ConfigError, ConnectionLost, InvalidParameter, InvalidType, ScpiError

POWERS_DBM = (-1.0, 0.0, 1.0)
NOISE_A = (3e-6, 6e-6, 9e-6)
TEMPCO_DB_PER_K = -0.03
IL_DB, RX_PATH_DB = 1.5, 0.5          # PathParams defaults: attenuator insertion loss, Rx path loss


def _lanes():
    return [DutLane(SimpleTransmitter(TransmitterParams(average_power_dbm=p, extinction_ratio_db=5.0, seed=3 + k,
                                                        power_tempco_db_per_k=TEMPCO_DB_PER_K)),
                    ReceiverParams(noise_current_a_rms=n), tx_bias_a=0.030 + 0.002 * k)
            for k, (p, n) in enumerate(zip(POWERS_DBM, NOISE_A))]


def _w(dbm):
    return 1e-3 * 10 ** (dbm / 10)


def _ber(oma_w, noise_a, responsivity=0.8):
    # Gray-coded PAM4, thresholds midway: BER = (3/4) Q(R OMA / (6 sigma)) (independent of physics.pam4_ber)
    return 0.75 * norm.sf(responsivity * oma_w / 6 / noise_a)


def _oma(p_w, er_db=5.0):
    r = 10 ** (er_db / 10)
    return 2 * p_w * (r - 1) / (r + 1)


@pytest.fixture
def link():
    lk = BenchLink(BenchParams(time_scale=1.0))
    lk.insert_module(_lanes(), identity=DutIdentity(serial="LANES3", part_number="TEST-3L"))
    return lk


# --- BenchLink lane API (no sockets) ----------------------------------------------------------------
def test_lanes_route_transmitter_and_receiver_independently(link):
    assert link.n_lanes == 3 and link.lane == 0 and link.dut.serial == "LANES3"
    assert link.tx_average_power_w() == pytest.approx(_w(POWERS_DBM[0]), rel=1e-12)
    calls = []
    remove = link.on_change(lambda: calls.append(link.lane))
    link.select_lane(2, side="tx")
    assert (link.tx_lane, link.rx_lane) == (2, 0) and calls == [2]
    assert link.tx_average_power_w() == pytest.approx(_w(POWERS_DBM[2]), rel=1e-12)
    # the receiver is still lane 0's: BER from lane 2's light in lane 0's receiver
    rx_oma = _oma(_w(POWERS_DBM[2])) * 10 ** (-(IL_DB + RX_PATH_DB) / 10)
    link.set_attenuation(12.0)
    rx_oma_att = rx_oma * 10 ** (-12.0 / 10)
    assert link.received().ber == pytest.approx(_ber(rx_oma_att, NOISE_A[0]), rel=1e-9)
    link.select_lane(1, side="rx")
    assert link.received().ber == pytest.approx(_ber(rx_oma_att, NOISE_A[1]), rel=1e-9)
    link.select_lane(1, side="rx")          # unchanged: no notification
    assert calls == [2, 2]
    remove()
    link.select_lane(0)
    assert calls == [2, 2] and (link.tx_lane, link.rx_lane) == (0, 0)


def test_waveform_cache_follows_the_routed_lane(link):
    wf0 = link.transmitter_waveform(25.0)
    link.select_lane(2)
    wf2 = link.transmitter_waveform(25.0)
    assert wf2 is not wf0
    # the mean of a whole pattern period is the lane's average power (noise averages out to ~1e-3)
    assert np.mean(wf2.samples) == pytest.approx(_w(POWERS_DBM[2]), rel=5e-3)
    assert link.transmitter_waveform(25.0) is wf2           # cached
    link.invalidate_cache()
    assert link.transmitter_waveform(25.0) is not wf2


def test_lane_api_bad_input(link):
    with pytest.raises(InvalidParameter, match=r"lane = 3 not in 0\.\.2"):
        link.select_lane(3)
    with pytest.raises(InvalidParameter, match="side"):
        link.select_lane(0, side="both-ways")
    with pytest.raises(InvalidParameter, match="1..16 lanes"):
        link.insert_module([])
    with pytest.raises(InvalidType, match="DutLane"):
        link.insert_module([object()])
    with pytest.raises(InvalidType, match=r"has no waveform\(\)"):
        DutLane(object(), ReceiverParams())
    with pytest.raises(InvalidParameter, match="serial"):
        DutIdentity(serial="X" * 17)


# --- the virtual optical switch through the real driver ---------------------------------------------
def test_switch_routes_lanes_to_the_power_meter(link):
    with VirtualBench(link=link, only=["switch", "power_meter"]) as bench:
        assert set(bench.servers) == {"switch", "power_meter"}
        sw, opm = bench.connect("switch", timeout_s=2.0), bench.connect("power_meter", timeout_s=2.0)
        try:
            assert isinstance(sw, OpticalSwitch) and "N7734A" in sw.identity
            assert sw.adapter.tcp_nodelay_active()
            port = opm.port(1)
            for lane in (2, 0, 1):
                sw.select(lane)
                assert (link.tx_lane, link.rx_lane) == (lane, lane)
                # meter behind the VOA (shutter open, 0 dB): lane power minus the insertion loss
                got_dbm = 10 * math.log10(port.power_w / 1e-3)
                assert got_dbm == pytest.approx(POWERS_DBM[lane] - IL_DB, abs=0.01)
            sw.route(3, channel=1)               # Tx side only
            assert (link.tx_lane, link.rx_lane) == (2, 1) and sw.routed_output(1) == 3
            with pytest.raises(ScpiError) as info:
                sw.route(5, channel=2)          # a 1x8 switch, but the module has 3 lanes
            assert info.value.code == -222 and link.rx_lane == 1
            assert bench.instruments["switch"].routes == {1: 3, 2: 2}
        finally:
            sw.close()
            opm.close()


def test_switch_grammar_over_raw_pyvisa(link):
    with VirtualBench(link=link, only=["switch"]) as bench:
        rm = pyvisa.ResourceManager("@py")
        inst = rm.open_resource(bench.resources["switch"], read_termination="\n", write_termination="\n", timeout=2000)
        try:
            inst.write(":ROUTE1:CHANNEL2 A,3")                     # long form
            assert inst.query("rout1:chan2?") == "A,3" and link.rx_lane == 2
            inst.write("ROUT1 a,2")                                # channel 1 by default, lower case
            assert inst.query(":ROUT1:CHAN1?") == "A,2" and link.tx_lane == 1
            assert inst.query(":ROUT1:CHAN2:CONF?") == "A,A;1,8"
            assert inst.query(":ROUT1:CONF:ROUT?") == ".".join(f"A,{k}" for k in range(1, 9))
            inst.write(":ROUT2:CHAN1 A,1")
            assert inst.query(":SYST:ERR?").startswith('-222,"Data out of range;no switch module in slot 2')
            inst.write(":ROUT1:CHAN1 B,1")
            assert inst.query(":SYST:ERR?").startswith("-222")
            inst.write("*RST")
            assert inst.query(":ROUT1:CHAN1?;:ROUT1:CHAN2?") == "A,1;A,1" and link.lane == 0
        finally:
            inst.close()
            rm.close()


# --- the module's CMIS bus -------------------------------------------------------------------------------
def test_cmis_monitors_follow_the_bench_physics(link):
    link.set_thermal(setpoint_c=70.0, flow_on=True)
    link.advance(600.0)                                   # 15 DUT time constants (40 s): at 70 °C
    link.set_attenuation(3.0)
    link.select_lane(1)
    with VirtualBench(link=link, only=["module"]) as bench:
        assert bench.servers == {} and isinstance(bench.module_bus, VirtualCmisBus)
        mod = bench.connect("module", n_lanes=3)
        t = link.module_temperature_c
        assert t == pytest.approx(70.0, abs=0.05)
        assert mod.temperature_c == pytest.approx(t, abs=1 / 512)        # LSB 1/256 °C
        assert mod.vcc_v == pytest.approx(3.3, abs=1e-4)
        assert mod.vendor_serial_number == "LANES3" and mod.vendor_part_number == "TEST-3L"
        mon = mod.lane_monitors()
        for k in range(3):
            expect_w = _w(POWERS_DBM[k] + TEMPCO_DB_PER_K * (t - 25.0))
            assert mon.tx_power_w[k] == pytest.approx(expect_w, abs=0.1e-6)           # LSB 0.1 µW
            assert mon.tx_bias_a[k] == pytest.approx(0.030 + 0.002 * k, abs=2e-6)      # LSB 2 µA
        rx_expect = _w(POWERS_DBM[1] + TEMPCO_DB_PER_K * (t - 25.0) - IL_DB - 3.0 - RX_PATH_DB)
        assert mon.rx_power_w[1] == pytest.approx(rx_expect, abs=0.1e-6)
        assert mon.rx_power_w[0] == mon.rx_power_w[2] == 0.0
        assert mod.rx_los() == (True, False, True)
        bench.module_bus.fault = "nak"
        with pytest.raises(ConnectionLost, match="no ACK"):
            mod.temperature_c


def test_cmis_bus_needs_a_link():
    with pytest.raises(InvalidType):
        VirtualCmisBus(object())
    assert CmisModule(VirtualCmisBus(BenchLink(BenchParams(thermal=ThermalParams(ambient_c=30.0)))),
                      n_lanes=1).temperature_c == 30.0


# --- partial benches and start failures ------------------------------------------------------------------
def test_only_starts_the_named_instruments():
    with VirtualBench(only=["attenuator"]) as bench:
        assert list(bench.servers) == ["attenuator"] and list(bench.resources) == ["attenuator"]
        assert bench.module_bus is None
        with pytest.raises(ConfigError, match="'scope' was not started"):
            bench.connect("scope")
        with pytest.raises(ConfigError, match="virtual 'module' was not started"):
            bench.connect_module()
    with pytest.raises(ConfigError, match="'nope'.*not on this bench"):
        VirtualBench(only=["attenuator", "nope"])
    with pytest.raises(InvalidType):
        VirtualBench(only="attenuator")


def test_a_failing_instrument_is_named_and_nothing_is_left_running():
    busy = socket.create_server(("127.0.0.1", 0))
    try:
        port = busy.getsockname()[1]
        cfg = BenchConfig.from_dict({"instruments": {"attenuator": {}, "power_meter": {"port": port}}}, source="t.toml")
        bench = VirtualBench(cfg)
        with pytest.raises(ConfigError, match=r"t.toml: virtual instrument 'power_meter' \(model N7744A\) failed to start"):
            bench.start()
        assert bench.servers == {}
        # the broken one left out: the rest of the bench runs
        with VirtualBench(cfg, only=["attenuator"]) as ok:
            assert list(ok.servers) == ["attenuator"]
    finally:
        busy.close()


def test_module_and_switch_entries_in_the_bench_file():
    cfg = BenchConfig.default()
    assert cfg.module is not None and cfg.module.is_virtual and cfg.instruments["switch"].model == "N7734A"
    cfg = BenchConfig.from_dict({"instruments": {"switch": {}, "module": {"resource": "ftdi://0403:6014/1",
                                                                           "driver": "mypkg.i2c:FtdiBus"}}})
    assert not cfg.module.is_virtual and "module" not in cfg.instruments and cfg.virtual_names == ["switch"]
    with pytest.raises(ConfigError, match="instruments.module.model 'SFF8636' unknown"):
        BenchConfig.from_dict({"instruments": {"module": {"model": "SFF8636"}}}, source="b.toml")
    with pytest.raises(ConfigError, match="no \\[instruments.module\\] entry"):
        VirtualBench(BenchConfig.from_dict({"instruments": {"switch": {}}})).connect_module()
    with pytest.raises(ConfigError, match="cannot import"):
        VirtualBench(cfg).connect_module()
