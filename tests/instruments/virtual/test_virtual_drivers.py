"""The real drivers of :mod:`instruments` against the virtual bench, over pyvisa-py TCP.

The drivers were written from the vendor command sets independently of the virtual
instruments; these tests check that the two meet on the wire, and that the physics behind
the bench comes through the drivers (power vs attenuation, BER, temperature, TDECQ).
"""

import math

import numpy as np
import pytest

from instruments.bench import VirtualBench
from optics.errors import GarbledReply, InstrumentTimeout, MeasurementInvalid, ScpiError
from optics.patterns import pattern


@pytest.fixture(scope="module")
def bench():
    with VirtualBench() as b:
        yield b


@pytest.fixture(scope="module")
def drivers(bench):
    opened = {}

    def get(name, **kwargs):
        if name not in opened:
            opened[name] = bench.connect(name, **kwargs)
        return opened[name]

    yield get
    for inst in opened.values():
        inst.close()


def test_power_meter_and_attenuator_drivers(bench, drivers):
    opm, voa = drivers("power_meter"), drivers("attenuator")
    port, ch = opm.port(1), voa.channel(1)
    port.wavelength_m = 1311e-9
    assert port.wavelength_m == pytest.approx(1311e-9)
    ch.wavelength_m = 1311e-9
    ch.shutter_open = True
    assert ch.shutter_open is True
    readings = []
    for att in (2.0, 4.0, 6.0):
        ch.attenuation_db = att
        assert ch.attenuation_db == pytest.approx(att)
        readings.append(10 * math.log10(port.power_w / 1e-3))
    np.testing.assert_allclose(np.diff(readings), -2.0, atol=0.01)
    assert readings[0] == pytest.approx(10 * math.log10(bench.link.meter_power_w() / 1e-3) + 4.0, abs=0.01)
    # the VOA's own monitor sees the same output power (no meter path loss by default)
    assert ch.power_w == pytest.approx(bench.link.attenuator_output_w(), rel=1e-5)
    with pytest.raises(ScpiError) as info:
        ch.attenuation_offset_db = 10.0
        ch.attenuation_db = 5.0  # below the offset: out of range on the instrument
    assert info.value.code == -222
    ch.attenuation_offset_db = 0.0
    ch.shutter_open = False
    try:
        dark_dbm = port.power_dbm
    except MeasurementInvalid:  # 1 pW rms noise around 0 W: a reading <= 0 W has no dBm value
        dark_dbm = -math.inf
    assert dark_dbm < -80.0


def test_bert_driver_ber_follows_received_oma(bench, drivers):
    voa, bert = drivers("attenuator"), drivers("bert")
    ch = voa.channel(1)
    ch.shutter_open = True
    bert.symbol_rate_baud = 26.5625e9
    bert.coding = "PAM4"
    bert.set_pattern("PRBS13Q")
    bert.output_enabled = True
    bert.global_outputs_enabled = True
    bers = []
    for att in (10.5, 12.0):
        ch.attenuation_db = att
        result = bert.measure_ber(0.2)
        assert result.compared_symbols == round(26.5625e9 * 0.2)
        expected = bench.link.received().ber
        assert result.ber == pytest.approx(expected, rel=5 / math.sqrt(expected * result.compared_bits))
        assert sum(result.errored_per_level) == result.errored_symbols
        bers.append(result.ber)
    assert bers[1] > bers[0]
    bert.set_pattern("PRBS31Q", generator=False)  # analyzer expects another pattern
    with pytest.raises(MeasurementInvalid, match="sync"):
        bert.measure_ber(0.1)
    bert.set_pattern("PRBS13Q", generator=False)
    ch.shutter_open = False


def test_thermostream_driver_and_supply(bench, drivers):
    ts, psu = drivers("thermal"), drivers("supply")
    ts.remote()
    ts.head_down = True
    ts.window_k = 0.5
    ts.soak_time_s = 20.0
    ts.set_temperature(60.0)
    ts.flow_on = True
    assert ts.at_temperature is False
    bench.link.advance(900.0)
    ts.wait_until_at_temperature(5.0)
    assert ts.dut_temperature_c == pytest.approx(60.0, abs=0.1)
    ch = psu.channel(1)
    ch.voltage_setpoint_v = 3.3
    ch.current_limit_a = 5.0
    ch.output_enabled = True
    assert ch.voltage_v * ch.current_a == pytest.approx(bench.link.module_power_w(), rel=1e-5)
    psu.shutdown()
    assert ch.current_a == 0.0
    ts.set_temperature(25.0)
    bench.link.advance(900.0)
    ts.shutdown()


def test_osa_driver_spectrum_and_smsr(bench, drivers):
    osa = drivers("osa")
    osa.login("anonymous", "")
    osa.select_scpi()
    lam = bench.link.wavelength_m()
    osa.center_m = round(lam * 1e12) * 1e-12
    osa.span_m = 4e-9
    osa.resolution_m = 0.02e-9
    osa.sweep()
    spectrum = osa.trace("TRA")
    assert spectrum.wavelength_m[np.argmax(spectrum.power_dbm)] == pytest.approx(lam, abs=5e-12)
    smsr = osa.smsr()
    assert smsr.smsr_db == pytest.approx(bench.link.params.transmitter.smsr_db, abs=0.5)
    assert osa.peak_wavelength_m == pytest.approx(lam, abs=5e-12)


def test_pm100d_and_smu_drivers(bench, drivers):
    pm, smu, voa = drivers("tx_power_meter"), drivers("smu"), drivers("attenuator")
    pm.wavelength_m = 1311e-9
    assert pm.wavelength_m == pytest.approx(1311e-9)
    pm.zero()
    assert pm.power_w == pytest.approx(bench.link.monitor_power_w(), rel=5e-3)
    assert pm.sensor.wavelength_settable
    voa.channel(1).shutter_open = True
    voa.channel(1).attenuation_db = 3.0
    smu.source_function = "voltage"
    smu.compliance_current_a = 1e-3
    smu.source_voltage_v = -2.0
    smu.output_enabled = True
    v, i = smu.measure()
    assert v == -2.0
    r = bench.link.params.receiver.responsivity_a_per_w
    assert i == pytest.approx(-r * bench.link.received().average_power_w, rel=1e-5)
    smu.shutdown()
    voa.channel(1).shutter_open = False


def test_flexdca_driver_tdecq_agrees_with_exported_waveform(bench, drivers):
    from optics.tdecq import tdecq

    dca = drivers("scope", measurement_timeout_s=10.0)
    dca.mode = "eye"
    dca.lock_pattern(symbol_rate_baud=53.125e9, pattern_length=8191)
    assert dca.pattern_lock is True
    dca.set_reference_receiver(symbol_rate_baud=53.125e9)
    dca.configure_tdecq(n_taps=5, n_precursors=2)
    dca.acquire(4)
    metrics = dca.measure_all()
    wf = dca.read_pattern_waveform(pattern=pattern("PRBS13Q"))
    assert wf.n_samples == 8191 * 16
    ours = tdecq(wf, reference_filter=False, n_taps=5, n_precursors=2)
    assert metrics["tdecq_db"] == pytest.approx(ours.tdecq_db, abs=0.02)
    assert metrics["oma_outer_w"] == pytest.approx(ours.oma_outer, rel=1e-3)
    assert metrics["average_power_w"] == pytest.approx(bench.link.tx_average_power_w(), rel=2e-3)
    assert metrics["extinction_ratio_db"] == pytest.approx(bench.link.params.transmitter.extinction_ratio_db
                                                          + bench.link.params.transmitter.extinction_tempco_db_per_k
                                                          * (bench.link.module_temperature_c - 25.0), abs=0.05)
    assert 0.5 < metrics["tdecq_db"] < 3.0


def test_drivers_see_injected_faults(bench, drivers):
    opm = drivers("power_meter")
    server = bench.server("power_meter")
    port = opm.port(1)
    server.inject_fault("garbage")
    with pytest.raises(GarbledReply):
        port.wavelength_m
    bench.inject_fault("power_meter", "error", code=-222, message="Data out of range;injected")
    with pytest.raises(ScpiError) as info:
        port.averaging_time_s = 0.1
    assert info.value.code == -222
    with opm.io_timeout(0.3):
        server.inject_fault("no_reply")
        with pytest.raises(InstrumentTimeout):
            port.wavelength_m
    assert port.wavelength_m > 0  # recovered
    bench.inject_fault("power_meter", "slow", count=None, delay_s=0.1)  # slow, within the timeout
    with opm.io_timeout(0.3):
        assert port.wavelength_m > 0
    bench.clear_faults()
    # every fault kind, recovery checked query by query, drops and unreachable resources:
    # test_virtual_driver_faults.py


def test_flexdca_transition_time_is_the_optics_measurement_of_its_record():
    """The scope's PAM transition time through the driver equals optics.transition on the exported
    record (SSPRQ: 2+2 long edges); with PRBS13Q (no long edges) the scope says invalid, and why."""
    import dataclasses

    from instruments.bench import BenchConfig
    from optics.transition import transition_time

    base = BenchConfig.default()
    cfg = dataclasses.replace(base, physics=dataclasses.replace(
        base.physics, transmitter=dataclasses.replace(base.physics.transmitter, pattern_name="SSPRQ")))
    with VirtualBench(cfg) as ssprq_bench:
        dca = ssprq_bench.connect("scope", measurement_timeout_s=10.0)
        try:
            dca.mode = "eye"
            dca.lock_pattern(symbol_rate_baud=53.125e9, pattern_length=65535)
            dca.set_reference_receiver(symbol_rate_baud=53.125e9)
            dca.configure_tdecq()  # the transition time is sourced from the TDECQ function
            dca.acquire(1)
            measured = dca.measure_transition_time_s()
            wf = dca.read_pattern_waveform(pattern=pattern("SSPRQ"))
        finally:
            dca.close()
    ours = transition_time(wf, reference_filter=False)
    assert ours.n_rising == 2 and ours.n_falling == 2
    # the export is float32: the same number to its rounding
    assert measured == pytest.approx(ours.transition_time_s, rel=1e-4)
    assert 5e-12 < measured < 30e-12


def test_flexdca_transition_time_without_long_edges_is_invalid(bench, drivers):
    dca = drivers("scope", measurement_timeout_s=0.5)
    dca.mode = "eye"
    dca.lock_pattern(symbol_rate_baud=53.125e9, pattern_length=8191)
    dca.set_reference_receiver(symbol_rate_baud=53.125e9)
    dca.configure_tdecq()
    dca.acquire(1)
    with pytest.raises(MeasurementInvalid, match="no rising edge"):
        dca.measure_transition_time_s()
