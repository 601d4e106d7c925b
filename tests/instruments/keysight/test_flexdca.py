"""Protocol tests: Keysight FlexDCA, including the pattern-waveform export."""

import math

import numpy as np
import pytest

from instruments.keysight.flexdca import FlexDCA
from instruments.scpi.protocol import expected_protocol
from instruments.scpi.replies import ieee_block
from optics.errors import GarbledReply, InvalidParameter, MeasurementInvalid, SafetyLimitError, ScpiError
from optics.waveform import Quantity

OK = '+0,"No error"'
IDN = "Keysight Technologies,N1000A,MY59120001,A.07.00.123"


def _set(cmd):
    return [(cmd, None), (":SYST:ERR?", OK)]


#: lock_pattern switches rate and length autodetection off before entering them
_AUTODETECT_OFF = [*_set(":TRIGger:SRATe:AUTodetect OFF"), *_set(":TRIGger:PLENgth:AUTodetect OFF")]


def test_mode_rate_length_lock_properties():
    pairs = [*_set(":SYSTem:MODE EYE"), (":SYSTem:MODE?", "OSC"),
             *_set(":TIMebase:SRATe 53125000000"), (":TIMebase:SRATe?", "+5.3125E+10"),
             *_set(":TRIGger:PLENgth 8191"), (":TRIGger:PLENgth?", "+8191"),
             (":TRIGger:PLOCk?", "1"),
             *_set(":CHAN2B:DISPlay 1"), (":CHAN2B:DISPlay?", "1")]
    with expected_protocol(FlexDCA, pairs) as dca:
        dca.mode = "eye"
        assert dca.mode == "oscilloscope"
        dca.symbol_rate_baud = 53.125e9
        assert dca.symbol_rate_baud == 53.125e9
        dca.pattern_length = 8191
        assert dca.pattern_length == 8191
        assert dca.pattern_lock is True
        dca.channel("2b").display = True
        assert dca.channel("2B").display is True


def test_lock_pattern_sequence():
    pairs = [*_set(":TRIGger:MODE CLOCk"), *_AUTODETECT_OFF, *_set(":TIMebase:SRATe 26562500000"), *_set(":TRIGger:PLENgth 65535"),
             (":TRIGger:PLOCk ON", None), ("*OPC?", "1"), (":SYST:ERR?", OK)]
    with expected_protocol(FlexDCA, pairs) as dca:
        dca.lock_pattern(symbol_rate_baud=26.5625e9, pattern_length=65535)


def test_lock_pattern_refuses_before_sending():
    with expected_protocol(FlexDCA, []) as dca:
        with pytest.raises(InvalidParameter):
            dca.lock_pattern(symbol_rate_baud=5e11, pattern_length=8191)
        with pytest.raises(InvalidParameter):
            dca.lock_pattern(symbol_rate_baud=53.125e9, pattern_length=0)
        with pytest.raises(InvalidParameter):
            dca.channel("9A")


def test_reference_receiver_default_bandwidth_is_half_baud():
    pairs = [*_set(":CHAN1A:SIRC 1"), *_set(":CHAN1A:SIRC:FRATe 53125000000"),
             *_set(":CHAN1A:SIRC:FBANdwidth 26562500000"),
             (":CHAN1A:SIRC?", "1"), (":CHAN1A:SIRC:FBANdwidth?", "+2.65625E+10"), (":CHAN1A:SIRC:FRATe?", "5.3125E10")]
    with expected_protocol(FlexDCA, pairs) as dca:
        dca.set_reference_receiver(symbol_rate_baud=53.125e9)
        ch = dca.channel("1A")
        assert ch.reference_receiver is True
        assert ch.reference_receiver_bandwidth_hz == 26.5625e9
        assert ch.reference_receiver_rate_baud == 53.125e9
    with expected_protocol(FlexDCA, []) as dca:
        with pytest.raises(InvalidParameter):
            dca.set_reference_receiver(symbol_rate_baud=53.125e9, bandwidth_hz=2e11)


def test_configure_tdecq_commands():
    pairs = [*_set(":FUNCtion1:FOPerator TEQualizer"), *_set(":FUNCtion1:OPERand1 CHAN3A"),
             *_set(":SPRocess1:TEQualizer:TSPacing:TPUI 1"), *_set(":SPRocess1:TEQualizer:TAPS:COUNt 5"),
             *_set(":SPRocess1:TEQualizer:NPRecursors 2"), *_set(":MEASure:EYE:TDEQ:SOURce1 FUNCtion1"),
             *_set(":MEASure:EYE:TDEQ")]
    with expected_protocol(FlexDCA, pairs, channel="3A") as dca:
        dca.configure_tdecq()
    with expected_protocol(FlexDCA, []) as dca:
        with pytest.raises(InvalidParameter):
            dca.configure_tdecq(n_taps=5, n_precursors=5)


def test_acquire_and_autoscale():
    pairs = [*_set(":ACQuire:STOP"), *_set(":ACQuire:CDISplay"), *_set(":LTESt:ACQuire:CTYPe:PATTerns 10"),
             *_set(":LTESt:ACQuire:STATe ON"), (":ACQuire:RUN", None), ("*OPC?", "1"),
             *_set(":LTESt:ACQuire:STATe OFF"),
             *_set(":SYSTem:AUToscale"), ("*OPC?", "1")]
    with expected_protocol(FlexDCA, pairs) as dca:
        dca.acquire(10)
        dca.autoscale()


def test_measurement_polls_status_until_correct():
    pairs = [(":MEASure:EYE:TDEQ:STATus?", "INV"), (":SYST:ERR?", OK), (":MEASure:EYE:TDEQ:STATus?", "QUES"), (":SYST:ERR?", OK),
             (":MEASure:EYE:TDEQ:STATus?", "CORR"), (":SYST:ERR?", OK), (":MEASure:EYE:TDEQ?", "+2.3400E+00"), (":SYST:ERR?", OK)]
    with expected_protocol(FlexDCA, pairs, poll_interval_s=0.0) as dca:
        assert dca.measure_tdecq_db() == 2.34


def test_measurement_invalid_when_status_persists():
    pairs = [(":MEASure:EYE:TDEQ:STATus?", "INV"), (":SYST:ERR?", OK), (":MEASure:EYE:TDEQ:STATus:REASon?", '"Pattern lock lost"'), (":SYST:ERR?", OK)]
    with expected_protocol(FlexDCA, pairs, measurement_timeout_s=0.0) as dca:
        with pytest.raises(MeasurementInvalid, match="Pattern lock lost"):
            dca.measure_tdecq_db()


def test_invalid_value_after_correct_status():
    pairs = [(":MEASure:EYE:TDEQ:STATus?", "CORR"), (":SYST:ERR?", OK), (":MEASure:EYE:TDEQ?", "9.91E+37"), (":SYST:ERR?", OK)]
    with expected_protocol(FlexDCA, pairs) as dca:
        with pytest.raises(MeasurementInvalid):
            dca.measure_tdecq_db()


def _meas(base, extra, value):
    pairs = [*_set(f"{base}:SOURce1 CHAN1A")]
    for e in extra:
        pairs += _set(e)
    return pairs + [*_set(base), (f"{base}:STATus?", "CORR"), (":SYST:ERR?", OK), (f"{base}?", value), (":SYST:ERR?", OK)]


def test_measure_all_metric_names_and_units():
    pairs = (_meas(":MEASure:EYE:OOMA", [":MEASure:EYE:OOMA:UNITs WATT"], "+1.000E-03")
             + _meas(":MEASure:EYE:OER", [":MEASure:EYE:OER:UNITs DECibel"], "+4.50E+00")
             + _meas(":MEASure:EYE:PAM:LINearity", [":MEASure:EYE:PAM:LINearity:DEFinition RLMA120"], "+9.6E-01")
             + _meas(":MEASure:EYE:APOWer", [":MEASure:EYE:APOWer:UNITs WATT"], "+5.000E-04")
             + [(":MEASure:EYE:TDEQ:STATus?", "CORR"), (":SYST:ERR?", OK), (":MEASure:EYE:TDEQ?", "+1.9E+00"), (":SYST:ERR?", OK)]
             + [*_set(":MEASure:EYE:CEQ:SOURce1 FUNCtion1"), *_set(":MEASure:EYE:CEQ"),
                (":MEASure:EYE:CEQ:STATus?", "CORR"), (":SYST:ERR?", OK), (":MEASure:EYE:CEQ?", "+7.5E-01"), (":SYST:ERR?", OK)])
    with expected_protocol(FlexDCA, pairs) as dca:
        m = dca.measure_all()
    assert m["oma_outer_w"] == 1e-3 and m["oma_outer_dbm"] == pytest.approx(0.0, abs=1e-12)
    assert m["average_power_w"] == 5e-4
    assert m["average_power_dbm"] == pytest.approx(10 * math.log10(0.5), abs=1e-12)   # -3.0103 dBm
    assert (m["extinction_ratio_db"], m["rlm"], m["tdecq_db"], m["ceq_db"]) == (4.5, 0.96, 1.9, 0.75)


def test_input_power_safety():
    with expected_protocol(FlexDCA, [], safety_limits={"input_power_w": 2e-3}) as dca:
        dca.check_input_power(1.9e-3)
        with pytest.raises(SafetyLimitError, match="input_power_w"):
            dca.check_input_power(2.1e-3)
    pairs = _meas(":MEASure:EYE:APOWer", [":MEASure:EYE:APOWer:UNITs WATT"], "+3.0E-03")
    with expected_protocol(FlexDCA, pairs, safety_limits={"input_power_w": 2e-3}) as dca:
        with pytest.raises(SafetyLimitError, match="measured average input power"):
            dca.measure_average_power_w()


def test_scpi_error_on_measurement_setup():
    pairs = [(":MEASure:EYE:OOMA:SOURce1 CHAN1A", None), (":SYST:ERR?", '-241,"Hardware missing"'), (":SYST:ERR?", OK)]
    with expected_protocol(FlexDCA, pairs) as dca:
        with pytest.raises(ScpiError) as info:
            dca.measure_outer_oma_w()
    assert info.value.code == -241


# --- waveform export -----------------------------------------------------------------------
BAUD = 53.125e9
SPS = 16
LEVELS_W = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])


def _export_pairs(x, y, *, n_pattern, n_points=None, complete="1"):
    n_points = x.size if n_points is None else n_points
    return [*_set(":WAVeform:SOURce CHAN1A"), *_set(":SYSTem:BORDer LENDian"),
            (":WAVeform:PATTern:COMPlete?", complete), (":WAVeform:PATTern:BITS?", str(n_pattern)),
            (":WAVeform:XYFORmat:POINts?", str(n_points)),
            (":WAVeform:XYFORmat:FLOat:XDATa?", ieee_block(x.astype("<f4").tobytes()) + b"\n"),
            (":WAVeform:XYFORmat:FLOat:YDATa?", ieee_block(y.astype("<f4").tobytes()) + b"\n"),
            (":TIMebase:SRATe?", "+5.3125E+10"), ("*IDN?", IDN)]


def _pattern_record(n_symbols=64, t0=2.0e-9):
    rng = np.random.default_rng(3)
    pattern = rng.integers(0, 4, n_symbols).astype(np.uint8)
    y = np.repeat(LEVELS_W[pattern], SPS)
    dt = 1.0 / (BAUD * SPS)
    x = t0 + dt * np.arange(y.size)
    return pattern, x, y, dt


def test_pattern_waveform_export_builds_waveform():
    pattern, x, y, dt = _pattern_record()
    with expected_protocol(FlexDCA, _export_pairs(x, y, n_pattern=pattern.size)) as dca:
        wf = dca.read_pattern_waveform(pattern=pattern)
    assert wf.quantity is Quantity.OPTICAL_POWER
    assert wf.n_samples == pattern.size * SPS
    # float32 time stamps: the fitted rate agrees with 16 x 53.125 GHz to float32 precision
    assert wf.sample_rate_hz == pytest.approx(SPS * BAUD, rel=1e-5)
    assert wf.symbol_rate_baud == BAUD
    assert wf.samples_per_symbol == pytest.approx(SPS, rel=1e-5)
    assert wf.t0_s == pytest.approx(2.0e-9, rel=1e-7)
    np.testing.assert_allclose(wf.samples, y, rtol=1e-7)        # float32 -> float64, W
    np.testing.assert_array_equal(wf.pattern, pattern)
    assert wf.meta["source"] == "instrument"
    assert wf.meta["instrument_idn"] == IDN
    assert wf.meta["channel"] == "CHAN1A"
    assert wf.meta["settings"]["pattern_length_symbols"] == pattern.size
    assert wf.meta["settings"]["symbol_rate_baud"] == BAUD


def test_second_export_does_not_ask_idn_again():
    pattern, x, y, _ = _pattern_record()
    pairs = _export_pairs(x, y, n_pattern=pattern.size) + _export_pairs(x, y, n_pattern=pattern.size)[:-1]
    with expected_protocol(FlexDCA, pairs) as dca:
        dca.read_pattern_waveform()
        wf = dca.read_pattern_waveform(meta={"lane": 2})
    assert wf.meta["lane"] == 2 and wf.pattern is None


def test_export_incomplete_pattern():
    pairs = [*_set(":WAVeform:SOURce CHAN1A"), *_set(":SYSTem:BORDer LENDian"), (":WAVeform:PATTern:COMPlete?", "0")]
    with expected_protocol(FlexDCA, pairs) as dca:
        with pytest.raises(MeasurementInvalid, match="not complete"):
            dca.read_pattern_waveform()


def test_export_point_count_mismatch():
    pattern, x, y, _ = _pattern_record()
    with expected_protocol(FlexDCA, _export_pairs(x, y, n_pattern=pattern.size, n_points=x.size + 1)) as dca:
        with pytest.raises(GarbledReply, match="POINts"):
            dca.read_pattern_waveform()


def test_export_invalid_samples():
    pattern, x, y, _ = _pattern_record()
    y = y.copy()
    y[10] = 9.91e37
    with expected_protocol(FlexDCA, _export_pairs(x, y, n_pattern=pattern.size)) as dca:
        with pytest.raises(MeasurementInvalid, match="1 of"):
            dca.read_pattern_waveform()


def test_export_nonuniform_x_and_wrong_span():
    pattern, x, y, dt = _pattern_record()
    bad = x.copy()
    bad[100:] += 0.5 * dt
    with expected_protocol(FlexDCA, _export_pairs(bad, y, n_pattern=pattern.size)) as dca:
        with pytest.raises(GarbledReply, match="uniformly"):
            dca.read_pattern_waveform()
    with expected_protocol(FlexDCA, _export_pairs(x, y, n_pattern=2 * pattern.size)) as dca:
        with pytest.raises(GarbledReply, match="does not span"):
            dca.read_pattern_waveform()


def test_export_pattern_length_mismatch():
    pattern, x, y, _ = _pattern_record()
    with expected_protocol(FlexDCA, _export_pairs(x, y, n_pattern=pattern.size)) as dca:
        with pytest.raises(InvalidParameter, match="pattern has 10 symbols"):
            dca.read_pattern_waveform(pattern=pattern[:10])


def test_default_setup_entire_pattern_and_ui_axis():
    pairs = [*_set(":SYSTem:DEFault"), ("*OPC?", "1"),
             *_set(":ACQuire:EPATtern 1"), (":ACQuire:EPATtern?", "1"),
             (":TRIGger:PLENgth?", "8191"), *_set(":TIMebase:UNITs UINTerval"), *_set(":TIMebase:UIRange 8191"),
             *_set(":TIMebase:UNITs UINTerval"), *_set(":TIMebase:UIRange 2.5")]
    with expected_protocol(FlexDCA, pairs) as dca:
        dca.default_setup()
        dca.entire_pattern = True
        assert dca.entire_pattern
        dca.show_pattern()
        dca.show_pattern(2.5)


def test_pattern_lock_setter():
    with expected_protocol(FlexDCA, [*_set(":TRIGger:PLOCk 0")]) as dca:
        dca.pattern_lock = False


def test_tdecq_tap_spacing_is_sent_as_taps_per_ui():
    # TPUI is "taps per UI" (Keysight's TDECQ example: "TSPacing:TPUI 1 # Set taps per UI"):
    # a T/2-spaced equaliser (0.5 UI) is TPUI 2, not 0.5
    pairs = [*_set(":FUNCtion1:FOPerator TEQualizer"), *_set(":FUNCtion1:OPERand1 CHAN1A"),
             *_set(":SPRocess1:TEQualizer:TSPacing:TPUI 2"), *_set(":SPRocess1:TEQualizer:TAPS:COUNt 9"),
             *_set(":SPRocess1:TEQualizer:NPRecursors 4"), *_set(":MEASure:EYE:TDEQ:SOURce1 FUNCtion1"),
             *_set(":MEASure:EYE:TDEQ")]
    with expected_protocol(FlexDCA, pairs) as dca:
        dca.configure_tdecq(n_taps=9, n_precursors=4, tap_spacing_ui=0.5)
    with expected_protocol(FlexDCA, []) as dca:
        with pytest.raises(InvalidParameter, match="tap_spacing_ui"):
            dca.configure_tdecq(tap_spacing_ui=0.3)          # 1/0.3 taps per UI is not a whole number


def test_long_operations_wait_with_the_measurement_timeout():
    # pattern lock, autoscale and default set-up take far longer than a 5 s I/O timeout on a
    # real DCA: their *OPC? must wait up to measurement_timeout_s, then the timeout is restored
    from instruments.scpi.protocol import ProtocolAdapter

    class Recording(ProtocolAdapter):
        def __init__(self, pairs):
            super().__init__(pairs)
            self.timeouts = []

        def read(self):
            self.timeouts.append((self.sent[-1], self.timeout_s))
            return super().read()

    pairs = [*_set(":TRIGger:MODE CLOCk"), *_AUTODETECT_OFF, *_set(":TIMebase:SRATe 26562500000"), *_set(":TRIGger:PLENgth 65535"),
             (":TRIGger:PLOCk ON", None), ("*OPC?", "1"), (":SYST:ERR?", OK),
             *_set(":SYSTem:AUToscale"), ("*OPC?", "1"), *_set(":SYSTem:DEFault"), ("*OPC?", "1")]
    adapter = Recording(pairs)
    dca = FlexDCA(adapter, measurement_timeout_s=120.0)
    dca.lock_pattern(symbol_rate_baud=26.5625e9, pattern_length=65535)
    dca.autoscale()
    dca.default_setup()
    adapter.check_all_consumed()
    opc = [t for cmd, t in adapter.timeouts if cmd == "*OPC?"]
    assert opc == [120.0, 120.0, 120.0]
    assert adapter.timeout_s == 5.0


def test_exported_sample_rate_is_free_of_float32_time_rounding():
    """float32 X data put 7.9999998 samples in a UI; the pattern-locked rate is exact."""
    import numpy as np

    from optics.io.flexdca import pattern_sample_interval

    baud, n_pattern, sps = 53.125e9, 8191, 8
    n = n_pattern * sps
    x = (np.arange(n) / (sps * baud)).astype(np.float32).astype(float)
    dt = (x[-1] - x[0]) / (n - 1)
    assert abs(dt * sps * baud - 1.0) > 1e-9  # the rounding is really there
    assert pattern_sample_interval(dt, n, n_pattern, baud) * sps * baud == pytest.approx(1.0, abs=1e-15)
    # a record that is not one exact pattern repetition keeps its own interval
    assert pattern_sample_interval(1.01 * dt, n, n_pattern, baud) == 1.01 * dt


def test_lock_pattern_switches_rate_and_length_autodetection_off_first():
    # with autodetection on, :TRIGger:PLOCk ON detects rate and length itself and ignores the
    # values entered (FlexDCA-PG :SLOT:TRIGger:SRATe:AUTodetect); both go off before them
    pairs = [*_set(":TRIGger:MODE CLOCk"), *_set(":TRIGger:SRATe:AUTodetect OFF"),
             *_set(":TRIGger:PLENgth:AUTodetect OFF"), *_set(":TIMebase:SRATe 53125000000"),
             *_set(":TRIGger:PLENgth 8191"), (":TRIGger:PLOCk ON", None), ("*OPC?", "1"), (":SYST:ERR?", OK)]
    with expected_protocol(FlexDCA, pairs) as dca:
        dca.lock_pattern(symbol_rate_baud=53.125e9, pattern_length=8191)


def test_transition_time_is_measured_on_the_tdecq_function():
    # like C_eq and TDECQ, the PAM transition time is sourced from the TDECQ function
    checked = [(":SYST:ERR?", OK)] if getattr(FlexDCA, "CHECK_ERRORS_AFTER_MEASUREMENTS", False) else []
    pairs = [*_set(":MEASure:EYE:TTIMe:SOURce1 FUNCtion1"), *_set(":MEASure:EYE:TTIMe"),
             (":MEASure:EYE:TTIMe:STATus?", "CORR"), *checked, (":MEASure:EYE:TTIMe?", "+1.25E-11"), *checked]
    with expected_protocol(FlexDCA, pairs) as dca:
        assert dca.measure_transition_time_s() == pytest.approx(12.5e-12)
