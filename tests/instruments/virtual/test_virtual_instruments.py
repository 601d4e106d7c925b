"""Each virtual instrument, in process (no sockets): its commands and its coupling to the link."""

import math

import numpy as np
import pytest

from instruments.virtual import (
    AQ6370,
    E36312A,
    PM100D,
    BenchLink,
    FlexDCA,
    Keithley2400,
    Keysight8163B,
    M8040A,
    N7744A,
    N7764A,
    ThermoStream,
)
from instruments.virtual.physics import dbm_to_w, w_to_dbm


def ask(inst, message):
    reply = inst.handle(message)
    assert inst.errors() == [], inst.errors()
    return None if reply is None else reply.decode("latin-1")


def run(inst, message):
    inst.execute(message)
    assert inst.errors() == [], inst.errors()


def codes(inst):
    out = [c for c, _ in inst.errors()]
    inst.execute("*CLS")
    return out


@pytest.fixture
def link():
    return BenchLink()


# --- power meters and attenuator ------------------------------------------------------------
def test_power_meter_follows_attenuator(link):
    opm, voa = N7744A(link), N7764A(link)
    assert ask(voa, ":OUTP1:STAT?") == "0"  # shutter closed at power-on: no light
    dark = float(ask(opm, ":READ1:POW?"))  # 1 pW rms noise: below -80 dBm, or <= 0 W (invalid)
    assert dark == 9.91e37 or dark < -80
    run(voa, ":OUTP1:STAT ON")
    expected = w_to_dbm(link.tx_average_power_w()) - link.params.path.attenuator_insertion_loss_db
    readings = []
    for att in (0.0, 5.0, 12.5):
        run(voa, f":INP1:ATT {att}DB")
        readings.append(float(ask(opm, ":READ1:POW?")))
    assert readings[0] == pytest.approx(expected, abs=0.01)
    assert readings[1] - readings[0] == pytest.approx(-5.0, abs=0.01)
    assert readings[2] - readings[0] == pytest.approx(-12.5, abs=0.01)
    # watts and dBm agree, other ports are dark
    run(opm, ":SENS1:POW:UNIT W")
    watts = float(ask(opm, ":READ1:POW?"))
    assert w_to_dbm(watts) == pytest.approx(readings[2], abs=0.01)
    run(opm, ":SENS2:POW:UNIT 1")
    assert abs(float(ask(opm, ":READ2:POW?"))) < 1e-10
    assert ask(opm, ":FETC1:POW?") == f"{watts:+.6E}"  # FETCh: last value, no new reading


def test_power_meter_settings_and_errors(link):
    opm = N7744A(link)
    run(opm, ":SENS1:POW:WAV 1310NM;ATIM 200MS")
    assert float(ask(opm, ":SENS1:POW:WAV?")) == pytest.approx(1.31e-6)
    assert float(ask(opm, ":SENS1:POW:ATIM?")) == pytest.approx(0.2)
    opm.execute(":SENS1:POW:WAV 2000NM")
    opm.execute(":READ5:POW?")
    opm.execute(":SENS1:POW:WAV 1310 S")
    assert codes(opm) == [-222, -114, -131]


def test_8163b_slot_channel_addressing(link):
    mf, voa = Keysight8163B(link), N7764A(link)
    run(voa, ":OUTP1:STAT ON;:INP1:ATT 3")
    lit = float(ask(mf, ":READ1:CHAN1:POW?"))
    assert lit == pytest.approx(w_to_dbm(link.meter_power_w()), abs=0.01)
    run(mf, ":SENS1:CHAN2:POW:UNIT 1")
    assert abs(float(ask(mf, ":READ1:CHAN2:POW?"))) < 1e-10
    mf.execute(":READ1:CHAN3:POW?")
    assert codes(mf) == [-114]


def test_power_meter_logging_block(link):
    opm, voa = N7744A(link), N7764A(link)
    run(voa, ":OUTP1:STAT ON")
    run(opm, ":SENS1:FUNC:PAR:LOGG 100,1MS;:SENS1:FUNC:STAT LOGG,STAR")
    link.advance(1.0)
    assert ask(opm, ":SENS1:FUNC:STAT?") == "LOGGING_STABILITY,COMPLETE"
    block = opm.handle(":SENS1:FUNC:RES?")
    assert block[:5] == b"#3400"
    values = np.frombuffer(block[5:], "<f4")
    assert values.size == 100
    assert np.mean(values) == pytest.approx(link.meter_power_w(), rel=1e-3)


def test_attenuator_power_control_offset_and_range(link):
    voa = N7764A(link)
    run(voa, ":OUTP1:STAT ON;:INP1:ATT 20")
    run(voa, ":OUTP1:APM 1")  # kept for 8156A compatibility: switches nothing
    assert link.attenuation_db == pytest.approx(20.0)
    assert ask(voa, ":OUTP1:APM?") == "0"  # the attenuation was changed last
    p_20db = float(ask(voa, ":READ1:POW?"))
    run(voa, ":OUTP1:POW -8DBM")  # power control off: the set point is only stored
    assert link.attenuation_db == pytest.approx(20.0)
    assert ask(voa, ":OUTP1:APM?") == "1"
    run(voa, ":OUTP1:POW:CONTR ON")  # now the attenuation moves until the output is -8 dBm
    assert float(ask(voa, ":READ1:POW?")) == pytest.approx(-8.0, abs=1e-6)
    # output scales as 10^(-A/10): the new excess attenuation follows from the old reading
    assert link.attenuation_db == pytest.approx(20.0 + p_20db + 8.0, abs=1e-6)
    run(voa, ":OUTP1:POW:UN 1;:OUTP1:POW 50UW")
    assert float(ask(voa, ":READ1:POW?")) == pytest.approx(50e-6, rel=1e-9)
    voa.execute(":INP1:ATT 3")  # not allowed under power control
    assert codes(voa) == [-221]
    run(voa, ":OUTP1:POW:CONTR OFF;:INP1:OFFS 2;:INP1:ATT 12")
    # displayed attenuation includes the offset: 10 dB above the insertion loss
    assert link.attenuation_db == pytest.approx(10.0)
    voa.execute(":INP1:ATT 1")  # below the offset
    voa.execute(":INP2:ATT 1")  # channel 2 does not exist on the N7764A (1, 3, 5, 7)
    assert codes(voa) == [-222, -114]
    run(voa, ":OUTP1:STAT OFF")
    assert link.shutter_open is False


def test_pm100d_reads_monitor_tap_in_nm_units(link):
    pm = PM100D(link)
    run(pm, "SENS:CORR:WAV 1310")
    assert float(ask(pm, "SENS:CORR:WAV?")) == pytest.approx(1310.0)
    run(pm, "SENS:CORR:COLL:ZERO")
    assert float(ask(pm, "MEAS:POW?")) == pytest.approx(link.monitor_power_w(), rel=5e-3)
    assert ask(pm, "MEAS:POW?")[0] != "+"  # Thorlabs style: no leading plus
    fields = ask(pm, "SYST:SENS:IDN?").split(",")
    assert len(fields) == 6 and int(fields[5]) & 32


# --- thermal ----------------------------------------------------------------------------------------
def test_thermostream_soak_and_tecr(link):
    ts = ThermoStream(link)
    assert ask(ts, "TEMP?") == "25.0"
    run(ts, "SETN 0;SETP 75.0;WNDW 1.0;SOAK 30;FLOW 1")
    assert ask(ts, "SETP?") == "75.0"
    assert ask(ts, "TECR?") == "2"  # not at temperature
    link.advance(60.0)
    assert 25.0 < float(ask(ts, "TMPD?")) < float(ask(ts, "TMPA?")) <= 75.05
    assert ask(ts, "TECR?") == "2"
    link.advance(600.0)
    assert float(ask(ts, "TEMP?")) == pytest.approx(75.0, abs=0.1)
    assert ask(ts, "TECR?") == "1"
    ts.execute("SETP 300")
    ts.execute("FLOW 2X")
    assert codes(ts) == [-222, -224]
    run(ts, "ULIM 60")
    ts.execute("SETP 70")
    assert codes(ts) == [-222]


# --- supplies --------------------------------------------------------------------------------------
def test_e36312a_module_load_and_current_limit(link):
    ps = E36312A(link)
    run(ps, "VOLT 3.3, (@1);CURR 5, (@1);OUTP 1, (@1)")
    v, i = (float(x) for x in (ask(ps, "MEAS:VOLT? (@1)"), ask(ps, "MEAS:CURR? (@1)")))
    assert v == pytest.approx(3.3)
    assert v * i == pytest.approx(link.module_power_w(), rel=2e-6)  # 7-digit replies
    needed_a = link.module_power_w() / 3.3
    run(ps, f"CURR {0.9 * needed_a:.3f}, (@1)")  # below what the module needs: it browns out
    v, i = float(ask(ps, "MEAS:VOLT? (@1)")), float(ask(ps, "MEAS:CURR? (@1)"))
    assert i == 0.0 and v == pytest.approx(3.3)  # never above the set voltage
    assert ask(ps, "MEAS:CURR? (@2,3)") == "+0.000000E+00,+0.000000E+00"
    ps.execute("VOLT 9, (@1)")
    assert codes(ps) == [-222]


def test_keithley_2400_reads_photocurrent(link):
    smu, voa = Keithley2400(link), N7764A(link)
    run(voa, ":OUTP1:STAT ON;:INP1:ATT 5")
    smu.execute(":READ?")
    assert [c for c, _ in smu.errors()] == [803]  # output off
    smu.execute("*CLS")
    run(smu, ":SOUR:FUNC VOLT;:SOUR:VOLT -2;:SENS:CURR:PROT 1E-3;:OUTP ON;:FORM:ELEM VOLT,CURR")
    v, i = (float(x) for x in ask(smu, ":READ?").split(","))
    expected = -(link.params.receiver.responsivity_a_per_w * link.received().average_power_w)
    assert v == -2.0
    assert i == pytest.approx(expected, rel=1e-6)
    run(smu, ":SOUR:VOLT 1")  # forward bias: compliance at 1 mA
    v, i = (float(x) for x in ask(smu, ":READ?").split(","))
    assert i == pytest.approx(1e-3) and v < 1.0


# --- OSA ---------------------------------------------------------------------------------------------
def test_osa_sweep_peak_and_smsr(link):
    osa = AQ6370(link)
    lam = link.wavelength_m()
    run(osa, f"CFORM1;:SENS:WAV:CENT {lam * 1e9:.3f}NM;SPAN 5NM;:SENS:BWID:RES 0.02NM;:SENS:SWE:POIN 2001;:INIT")
    assert ask(osa, ":STAT:OPER:COND?") == "0"  # sweeping
    link.advance(10.0)
    assert ask(osa, ":STAT:OPER:EVEN?") == "1"
    assert ask(osa, ":STAT:OPER:EVEN?") == "0"  # event register cleared by reading
    x = np.array([float(v) for v in ask(osa, ":TRAC:X? TRA").split(",")])
    y = np.array([float(v) for v in ask(osa, ":TRAC:Y? TRA").split(",")])
    assert x.size == y.size == 2001
    assert x[np.argmax(y)] == pytest.approx(lam, abs=3e-12)
    run(osa, ":CALC:CAT SMSR;:CALC")
    peak_wl, peak_dbm, side_wl, side_dbm, dwl, smsr = (float(v) for v in ask(osa, ":CALC:DATA?").split(","))
    assert smsr == pytest.approx(link.params.transmitter.smsr_db, abs=0.5)
    assert dwl == pytest.approx(0.8e-9, abs=0.01e-9)
    run(osa, ":FORM:DATA REAL,64")
    block = osa.handle(":TRAC:Y? TRA")
    np.testing.assert_allclose(np.frombuffer(block[2 + int(block[1:2]):], "<f8"), y, atol=6e-4)
    assert set(ask(osa, ":FORM:DATA ASC;:TRAC:Y? TRB").split(",")) == {"-210.000"}


# --- BERT --------------------------------------------------------------------------------------------
def _bert_on(bert):
    run(bert, ":SOUR:FREQ 'M1.ClkGen',26.5625E9;:DATA:LIN:VAL 'M1.DataOut1',PAM4;:DATA:LIN:VAL 'M1.DataIn1',PAM4")
    run(bert, ':DATA:SEQ:SET "Generator",PRBS,"2^13-1";:DATA:SEQ:SET "Analyzer",PRBS,"2^13-1"')
    run(bert, ":OUTP:STAT 'M1.DataOut1',1;:OUTP:GLOB 'M1.System',ON")


def _fetch(bert, name="B"):
    text = ask(bert, f":PLUG:ERAT:FETC:DATA? '{name}'")
    assert text[0] == "(" and text[-1] == ")"
    fields = [f.strip("'") for f in text[1:-1].split(",")]
    return fields[0], [int(f) for f in fields[2:]]


def test_bert_ber_lifecycle_and_pam4_counts(link):
    bert, voa = M8040A(link), N7764A(link)
    run(voa, ":OUTP1:STAT ON;:INP1:ATT 10")
    _bert_on(bert)
    assert ask(bert, ":STAT:INST:SLOS? 'M1.DataIn1'") == "0"
    run(bert, ":PLUG:ERAT:NEW 'B';:PLUG:ERAT:ACQ:ALOC 'B','M1.DataIn1';:PLUG:ERAT:ACQ:DUR 'B',FTIM;:PLUG:ERAT:ACQ:TIME 'B',0.5")
    run(bert, ":PLUG:ERAT:STAR 'B'")
    assert ask(bert, ":PLUG:ERAT:RUN:STAT? 'B'") == "1"
    link.advance(1.0)
    assert ask(bert, ":PLUG:ERAT:RUN:STAT? 'B'") == "0"
    loc, n = _fetch(bert)
    assert loc == "M1.DataIn1" and len(n) == 14
    cmp1, cmp0, err1, err0, cmp_sym, err_sym = n[:6]
    assert cmp1 + cmp0 == 2 * cmp_sym == 2 * round(26.5625e9 * 0.5)  # 0.5 s gate, 2 bits/symbol
    ber = (err1 + err0) / (cmp1 + cmp0)
    expected = link.received().ber
    assert ber == pytest.approx(expected, rel=5 / math.sqrt(expected * (cmp1 + cmp0)))
    cmp_levels, err_levels = np.array(n[6::2]), np.array(n[7::2])
    assert cmp_levels.sum() == cmp_sym and err_levels.sum() == err_sym
    # outer levels have one neighbour, inner two: 1 : 2 : 2 : 1
    np.testing.assert_allclose(err_levels / err_sym, [1 / 6, 1 / 3, 1 / 3, 1 / 6], atol=0.01)
    assert ask(bert, ":PLUG:ERAT:CAT?") == '"B"'
    run(bert, ":PLUG:ERAT:DEL 'B'")
    bert.execute(":PLUG:ERAT:FETC:DATA? 'B'")
    assert codes(bert) == [-224]


def test_bert_more_attenuation_more_errors_and_sync_loss(link):
    bert, voa = M8040A(link), N7764A(link)
    run(voa, ":OUTP1:STAT ON")
    _bert_on(bert)
    run(bert, ":PLUG:ERAT:NEW 'B';:PLUG:ERAT:ACQ:TIME 'B',0.2")
    ratios = []
    for att in (9.0, 10.5, 12.0):
        run(voa, f":INP1:ATT {att}")
        run(bert, ":PLUG:ERAT:STAR 'B'")
        link.advance(0.5)
        _, n = _fetch(bert)
        ratios.append((n[2] + n[3]) / (n[0] + n[1]))
    assert ratios[0] < ratios[1] < ratios[2]
    run(bert, ':DATA:SEQ:SET "Analyzer",PRBS,"2^31-1"')  # analyzer expects another pattern
    assert ask(bert, ":STAT:INST:SLOS? 'M1.DataIn1'") == "1"
    run(bert, ":PLUG:ERAT:STAR 'B'")
    link.advance(0.5)
    _, n = _fetch(bert)
    assert (n[2] + n[3]) / (n[0] + n[1]) == pytest.approx(0.5, abs=1e-3)


# --- FlexDCA -----------------------------------------------------------------------------------------
def _lock(dca):
    run(dca, ":TIM:SRAT 53.125E9;:TRIG:MODE CLOC;:TRIG:PLEN 8191;:TRIG:PLOC ON")


def test_flexdca_status_inv_until_locked_and_acquired(link):
    dca = FlexDCA(link)
    assert ask(dca, ":MEAS:EYE:TDEQ:STAT?") == "INV"
    assert ask(dca, ":MEAS:EYE:TDEQ:STAT:REAS?") == '"Pattern lock required"'
    assert ask(dca, ":MEAS:EYE:TDEQ?") == "9.91E+37"
    assert ask(dca, ":TRIG:SRAT:AUT?;:TRIG:PLEN:AUT?") == "1;1"  # autodetection on after *RST
    run(dca, ":TRIG:SRAT:AUT OFF;:TRIG:PLEN:AUT OFF")
    run(dca, ":TIM:SRAT 26.5625E9;:TRIG:PLEN 8191;:TRIG:PLOC ON")  # wrong rate: no lock
    assert ask(dca, ":TRIG:PLOC?") == "0"
    _lock(dca)
    assert ask(dca, ":TRIG:PLOC?") == "1"
    assert ask(dca, ":MEAS:EYE:OOMA:STAT?") == "INV"  # free run: waiting for data
    link.advance(2.0)
    assert ask(dca, ":MEAS:EYE:OOMA:STAT?") == "CORR"
    run(dca, ":ACQ:STOP;:ACQ:CDIS")
    assert ask(dca, ":MEAS:EYE:OOMA:STAT?") == "INV"
    run(dca, ":LTES:ACQ:CTYP:PATT 4;:LTES:ACQ:STAT ON;:ACQ:RUN")
    assert ask(dca, "*OPC?;:MEAS:EYE:OOMA:STAT?") == "1;CORR"
    dca.unlock()
    assert ask(dca, ":MEAS:EYE:OOMA:STAT?") == "INV"


def test_flexdca_autodetection_overwrites_the_rate_and_length_entered(link):
    # with autodetection on (the default set-up) PLOCk ON takes rate and length from the
    # signal: a lock "at" 26.5625 GBd and 65535 symbols silently becomes the signal's own
    dca = FlexDCA(link)
    assert link.symbol_rate_baud != 26.5625e9 and link.transmitter_waveform().pattern.size != 65535
    run(dca, ":TIM:SRAT 26.5625E9;:TRIG:PLEN 65535;:TRIG:PLOC ON")
    assert ask(dca, ":TRIG:PLOC?") == "1"
    assert float(ask(dca, ":TIM:SRAT?")) == pytest.approx(link.symbol_rate_baud)
    assert int(ask(dca, ":TRIG:PLEN?")) == link.transmitter_waveform().pattern.size
    run(dca, ":SYST:DEF;:TRIG:SRAT:AUT 0;:TRIG:PLEN:AUT 0;:TIM:SRAT 26.5625E9;:TRIG:PLEN 65535;:TRIG:PLOC ON")
    assert ask(dca, ":TRIG:PLOC?") == "0"  # the values entered are used, and do not match
    assert float(ask(dca, ":TIM:SRAT?")) == pytest.approx(26.5625e9)


def test_flexdca_metrics_equal_optics_on_exported_waveform(link):
    from optics import Waveform
    from optics.levels import measure_levels
    from optics.tdecq import tdecq

    dca = FlexDCA(link)
    _lock(dca)
    run(dca, ":CHAN1A:SIRC ON;:CHAN1A:SIRC:FRAT 53.125GHZ;:CHAN1A:SIRC:FBAN 26.5625GHZ")
    run(dca, ":LTES:ACQ:STAT ON;:ACQ:RUN;:SYST:BORD LEND;:WAV:SOUR CHAN1A")
    n = int(ask(dca, ":WAV:XYFOR:POIN?"))
    assert n == 8191 * 16 and ask(dca, ":WAV:PATT:BITS?") == "8191"
    xb, yb = dca.handle(":WAV:XYFOR:FLO:XDAT?"), dca.handle(":WAV:XYFOR:FLO:YDAT?")
    hdr = 2 + int(yb[1:2])
    x, y = np.frombuffer(xb[hdr:], "<f4"), np.frombuffer(yb[hdr:], "<f4")
    wf = Waveform(samples=y, sample_rate_hz=(n - 1) / float(x[-1] - x[0]), symbol_rate_baud=53.125e9,
                  pattern=link.transmitter_waveform().pattern)
    reported = float(ask(dca, ":MEAS:EYE:TDEQ?"))
    ours = tdecq(wf, reference_filter=False).tdecq_db
    assert reported == pytest.approx(ours, abs=0.02)
    levels = measure_levels(wf)
    run(dca, ":MEAS:EYE:OOMA:UNIT WATT;:MEAS:EYE:OER:UNIT DEC;:MEAS:EYE:APOW:UNIT DBM")
    assert float(ask(dca, ":MEAS:EYE:OOMA?")) == pytest.approx(levels.oma_outer, rel=1e-4)
    assert float(ask(dca, ":MEAS:EYE:OER?")) == pytest.approx(levels.extinction_ratio_db, abs=1e-3)
    assert float(ask(dca, ":MEAS:EYE:PAM:LIN?")) == pytest.approx(levels.rlm, abs=1e-4)
    assert float(ask(dca, ":MEAS:EYE:APOW?")) == pytest.approx(w_to_dbm(levels.average), abs=1e-3)
    # big-endian export carries the same values
    run(dca, ":SYST:BORD BEND")
    yb2 = dca.handle(":WAV:XYFOR:FLO:YDAT?")
    np.testing.assert_array_equal(np.frombuffer(yb2[hdr:], ">f4"), y)


def test_flexdca_export_without_data_is_an_error(link):
    dca = FlexDCA(link)
    assert dca.handle(":WAV:XYFOR:FLO:YDAT?") == b"#10"
    assert codes(dca) == [-221]
    dca.execute(":MEAS:EYE:OOMA:UNIT FURLONG")
    dca.execute(":CHAN9A:SIRC ON")
    assert codes(dca) == [-224, -114]


def test_flexdca_temperature_changes_average_power(link):
    dca, ts = FlexDCA(link), ThermoStream(link)
    _lock(dca)
    run(dca, ":MEAS:EYE:APOW:UNIT DBM")
    link.advance(2.0)
    cold = float(ask(dca, ":MEAS:EYE:APOW?"))
    run(ts, "SETP 75;FLOW 1")
    link.advance(900.0)
    hot = float(ask(dca, ":MEAS:EYE:APOW?"))
    tempco = link.params.transmitter.power_tempco_db_per_k
    assert hot - cold == pytest.approx(50 * tempco, abs=0.02)
    assert w_to_dbm(dbm_to_w(hot)) == pytest.approx(hot)


def test_osa_linear_y_spacing_reads_watts(link):
    osa = AQ6370(link)
    run(osa, ":INIT:SMOD 1;:INIT")
    link.advance(60.0)
    y_log = np.array([float(v) for v in ask(osa, ":TRAC:Y? TRA").split(",")])
    run(osa, ":DISP:TRAC:Y1:SPAC LIN")
    assert ask(osa, ":DISPlay:TRACe:Y1:SPACing?") == "1"
    y_lin = np.array([float(v) for v in ask(osa, ":TRAC:Y? TRA").split(",")])
    keep = y_log > -200
    np.testing.assert_allclose(y_lin[keep], 1e-3 * 10 ** (y_log[keep] / 10), rtol=2e-3)


def test_flexdca_tpui_is_taps_per_ui(link):
    scope = FlexDCA(link)
    run(scope, ":SPRocess1:TEQualizer:TSPacing:TPUI 2")
    assert ask(scope, ":SPRocess1:TEQualizer:TSPacing:TPUI?") == "2"
    scope.execute(":SPRocess1:TEQualizer:TSPacing:TPUI 3")
    assert codes(scope) == [-224]
