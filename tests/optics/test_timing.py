"""Tests of optics.timing: clock phase, pattern alignment, and the bad-input errors."""

import numpy as np
import pytest
from scipy.special import ndtr

from optics import Waveform
from optics.errors import InvalidParameter, InvalidWaveform, NoEyeFound
from optics.timing import (
    MIN_SYMBOLS,
    SymbolTiming,
    align_pattern,
    n_whole_symbols,
    recover_timing,
    sample_symbols,
    symbols_of,
)

LEVELS_W = np.array([0.2e-3, 0.6e-3, 1.0e-3, 1.4e-3])


def erf_pam4(symbols, sps, *, delay_ui=0.0, edge_ui=0.1, noise_w=0.0, rng=None, pattern=None,
             levels=LEVELS_W, fs=1e11):
    """PAM4 with Gaussian-smoothed (erf) edges evaluated analytically at each sample.

    Symbol k occupies [delay_ui + k, delay_ui + k + 1) UI, so its centre is at sample
    (delay_ui + k + 0.5) * sps: the injected phase is known exactly, for any real sps.
    """
    a = np.asarray(levels)[np.asarray(symbols)]
    n_sym = a.size
    n = int(np.floor((n_sym - 1) * sps))
    t = np.arange(n) / sps - delay_ui
    k = np.floor(t).astype(int)
    x = np.zeros(n)
    for j in range(-3, 4):
        kk = k + j
        ok = (kk >= 0) & (kk < n_sym)
        kc = np.clip(kk, 0, n_sym - 1)
        x += np.where(ok, a[kc] * (ndtr((t - kc) / edge_ui) - ndtr((t - kc - 1) / edge_ui)), 0.0)
    if noise_w:
        x = x + noise_w * rng.standard_normal(n)
    return Waveform(samples=x, sample_rate_hz=fs, symbol_rate_baud=fs / sps, pattern=pattern)


def phase_error_ui(timing, delay_ui, sps):
    true = ((delay_ui + 0.5) * sps) % sps
    return ((timing.centre_index - true + sps / 2) % sps - sps / 2) / sps


@pytest.mark.parametrize(
    "sps, delay_ui, edge_ui",
    [(13.37, 0.3, 0.1), (2.3, 0.7, 0.15), (32.0, 0.1, 0.3), (7.77, 0.9, 0.35)],
)
def test_injected_phase_recovered_within_0p05_ui(sps, delay_ui, edge_ui):
    rng = np.random.default_rng(11)
    wf = erf_pam4(rng.integers(0, 4, 3000), sps, delay_ui=delay_ui, edge_ui=edge_ui,
                  noise_w=2e-5, rng=rng)
    t = recover_timing(wf)
    assert t.samples_per_symbol == pytest.approx(sps)
    assert 0.0 <= t.centre_index < sps
    assert abs(phase_error_ui(t, delay_ui, sps)) < 0.05
    # every centre +- 0.5 UI inside the record, and no further whole symbol fits
    last = t.centre_index + (t.n_symbols - 1) * sps
    assert last + 0.5 * sps <= wf.n_samples - 1 < last + 1.5 * sps


def test_sampled_values_and_sent_symbols_match_the_generator():
    rng = np.random.default_rng(3)
    pat = rng.integers(0, 4, 1000).astype(np.uint8)
    sym = np.roll(pat, -417)
    sps = 8
    wf = Waveform(samples=np.repeat(LEVELS_W[np.tile(sym, 2)], sps), sample_rate_hz=8e9,
                  symbol_rate_baud=1e9, pattern=pat)
    t = recover_timing(wf)
    assert t.centre_index == pytest.approx(3.5, abs=1e-9)  # mid of samples 0..7
    assert t.pattern_offset == 417
    sent = symbols_of(wf, t)
    assert sent.size == t.n_symbols == 1999
    np.testing.assert_array_equal(sent, np.tile(sym, 2)[:1999])
    np.testing.assert_allclose(sample_symbols(wf, t), LEVELS_W[sent], rtol=1e-12)
    # a quarter UI off centre is still inside the flat symbol
    np.testing.assert_allclose(sample_symbols(wf, t, 0.25), LEVELS_W[sent], rtol=1e-12)


def test_rotated_pattern_offset_at_non_integer_sps():
    rng = np.random.default_rng(5)
    pat = rng.integers(0, 4, 8191).astype(np.uint8)
    shift = 5678
    sym = np.tile(np.roll(pat, -shift), 2)[:3000]
    wf = erf_pam4(sym, 5.5, delay_ui=0.2, noise_w=3e-5, rng=rng, pattern=pat)
    t = recover_timing(wf)
    # first whole symbol may be symbol 0 or 1 of the generated stream
    first = int(round((t.centre_index / 5.5) - 0.2 - 0.5))
    assert t.pattern_offset == (shift + first) % pat.size
    np.testing.assert_array_equal(symbols_of(wf, t)[:100], sym[first:first + 100])


@pytest.mark.parametrize("ppm", [-150.0, 80.0])
def test_free_running_clock_offset_is_tracked(ppm):
    # the file says the nominal rate, the data runs ppm off: 20000 symbols drift
    # 20000 * 80e-6 = 1.6 UI, so without the rate search the eye would smear shut
    rng = np.random.default_rng(9)
    pat = rng.integers(0, 4, 4095).astype(np.uint8)
    sent = np.tile(pat, 5)[:20000]
    sps_true = 6.3
    wf = erf_pam4(sent, sps_true, noise_w=2e-5, rng=rng, pattern=pat)
    nominal = wf.replace(symbol_rate_baud=wf.symbol_rate_baud * (1 - ppm * 1e-6))
    t = recover_timing(nominal)
    assert t.samples_per_symbol == pytest.approx(sps_true, rel=1e-6)  # 1 ppm: 0.02 UI drift
    levels = LEVELS_W
    decided = np.searchsorted(0.5 * (levels[1:] + levels[:-1]), sample_symbols(nominal, t))
    np.testing.assert_array_equal(decided, symbols_of(nominal, t))


def test_shortest_record_is_accepted():
    rng = np.random.default_rng(10)
    wf = Waveform(samples=np.repeat(LEVELS_W[rng.integers(0, 4, MIN_SYMBOLS + 1)], 8),
                  sample_rate_hz=8e9, symbol_rate_baud=1e9)
    assert recover_timing(wf).n_symbols == MIN_SYMBOLS


def test_align_pattern_returns_correlation_one_for_exact_copy():
    pat = np.random.default_rng(0).integers(0, 4, 127)
    offset, rho, second = align_pattern(np.roll(pat, -40)[:100].astype(float), pat)
    assert offset == 40
    assert rho == pytest.approx(1.0, abs=1e-3)  # normalised with the global pattern mean
    assert second < 0.8


def test_no_pattern_gives_no_offset():
    rng = np.random.default_rng(1)
    wf = erf_pam4(rng.integers(0, 4, 500), 6.1, rng=rng)
    t = recover_timing(wf)
    assert t.pattern_offset is None
    assert symbols_of(wf, t) is None


def test_wrong_pattern_is_invalid_waveform():
    rng = np.random.default_rng(2)
    sent = rng.integers(0, 4, 2000)
    other = rng.integers(0, 4, 4095).astype(np.uint8)
    wf = erf_pam4(sent, 6.1, noise_w=1e-5, rng=rng, pattern=other)
    with pytest.raises(InvalidWaveform, match="pattern was not found"):
        recover_timing(wf)


def test_closed_eye_is_timed_through_its_known_pattern():
    # 4th-order Bessel at 0.25 x baud closes the unequalized eye; with the pattern the
    # timing is still found (TDECQ's equalizer can open it), without it: NoEyeFound
    from scipy.signal import bessel, sosfilt

    rng = np.random.default_rng(12)
    pat = rng.integers(0, 4, 4095).astype(np.uint8)
    sos = bessel(4, 0.25 / 16, norm="mag", output="sos", fs=1.0)
    x = sosfilt(sos, np.repeat(LEVELS_W[np.tile(pat, 3)], 16)) + 5e-6 * rng.standard_normal(
        3 * 4095 * 16)
    wf = Waveform(samples=x, sample_rate_hz=16e9, symbol_rate_baud=1e9, pattern=pat)
    t = recover_timing(wf)
    # group delay of the filter ~ 0.64 UI: the first whole symbol is symbol 0 or 4095 - 1
    assert t.pattern_offset in (0, pat.size - 1)
    with pytest.raises(NoEyeFound, match="no open PAM4 eye"):
        recover_timing(wf.replace(pattern=None))


def test_nrz_sent_with_a_pam4_pattern_is_not_pam4():
    rng = np.random.default_rng(13)
    pat = rng.integers(0, 4, 2047).astype(np.uint8)
    two_level = np.array([0.2e-3, 0.2e-3, 1.4e-3, 1.4e-3])  # only the MSB modulates
    x = np.repeat(two_level[np.tile(pat, 2)], 8) + 1e-5 * rng.standard_normal(2 * 2047 * 8)
    wf = Waveform(samples=x, sample_rate_hz=8e9, symbol_rate_baud=1e9, pattern=pat)
    with pytest.raises(NoEyeFound, match="not four ordered levels"):
        recover_timing(wf)


def test_too_few_symbols_names_the_minimum():
    rng = np.random.default_rng(4)
    wf = Waveform(samples=np.repeat(LEVELS_W[rng.integers(0, 4, 50)], 8), sample_rate_hz=8e9,
                  symbol_rate_baud=1e9)
    with pytest.raises(InvalidWaveform, match=f"at least {MIN_SYMBOLS + 1}"):
        recover_timing(wf)


def test_too_few_samples_per_symbol_rejected():
    with pytest.raises(InvalidWaveform, match="samples per symbol"):
        Waveform(samples=np.ones(1000), sample_rate_hz=1.9e9, symbol_rate_baud=1e9)


def test_missing_symbol_rate_rejected():
    wf = Waveform(samples=np.ones(1000), sample_rate_hz=1e9)
    with pytest.raises(InvalidWaveform, match="symbol rate"):
        recover_timing(wf)


@pytest.mark.parametrize("factor", [0.97, 0.99, 0.9997, 1.0003, 1.003, 1.02])
def test_wrong_symbol_rate_gives_no_eye(factor):
    rng = np.random.default_rng(6)
    wf = erf_pam4(rng.integers(0, 4, 4000), 13.37, noise_w=2e-5, rng=rng)
    with pytest.raises(NoEyeFound, match="wrong symbol rate"):
        recover_timing(wf.replace(symbol_rate_baud=wf.symbol_rate_baud * factor))


def test_pure_noise_gives_no_eye():
    rng = np.random.default_rng(7)
    wf = Waveform(samples=1e-3 + 1e-4 * rng.standard_normal(50_000), sample_rate_hz=1e11,
                  symbol_rate_baud=1e10)
    with pytest.raises(NoEyeFound):
        recover_timing(wf)


def test_sine_gives_no_eye():
    n = np.arange(50_000)
    wf = Waveform(samples=1e-3 * (1 + 0.5 * np.sin(2 * np.pi * 0.037 * n)),
                  sample_rate_hz=1e11, symbol_rate_baud=1e11 / 13.37)
    with pytest.raises(NoEyeFound):
        recover_timing(wf)


def test_nrz_is_not_pam4():
    rng = np.random.default_rng(8)
    wf = erf_pam4(3 * rng.integers(0, 2, 4000), 13.37, noise_w=5e-5, rng=rng)
    with pytest.raises(NoEyeFound, match="4 separated levels"):
        recover_timing(wf)


def test_constant_gives_no_eye():
    wf = Waveform(samples=np.full(5000, 1e-3), sample_rate_hz=1e11, symbol_rate_baud=1e10)
    with pytest.raises(NoEyeFound, match="constant"):
        recover_timing(wf)


def test_sample_phase_outside_half_ui_rejected():
    t = SymbolTiming(8.0, 3.5, 10, None)
    wf = Waveform(samples=np.zeros(100), sample_rate_hz=8e9, symbol_rate_baud=1e9)
    with pytest.raises(InvalidParameter, match="phase_ui"):
        sample_symbols(wf, t, 0.6)


def test_clock_phase_agrees_with_recover_timing_and_names_bad_input():
    import numpy as np
    import pytest

    from optics import Waveform
    from optics.errors import InvalidParameter
    from optics.timing import clock_phase, n_whole_symbols, recover_timing

    rng = np.random.default_rng(4)
    sym = rng.integers(0, 4, 3000)
    x = np.repeat(sym * 1e-3, 10).astype(float)
    x = np.convolve(np.concatenate([x[-20:], x]), np.ones(4) / 4, mode="valid")[17:]
    wf = Waveform(samples=x, sample_rate_hz=10e9, symbol_rate_baud=1e9)
    t = recover_timing(wf)
    centre, snr = clock_phase(wf.samples, 10.0)
    assert centre == pytest.approx(t.centre_index, abs=1e-9) and snr > 10
    assert n_whole_symbols(wf.n_samples, 10.0, centre) == t.n_symbols
    assert clock_phase(np.ones(100), 10.0) == (0.0, 0.0)
    with pytest.raises(InvalidParameter, match="samples_per_symbol"):
        clock_phase(x, -1.0)


def _nearest_recorded(x, t):
    """The recorded sample nearest each instant t (a tie to the later one), by brute force."""
    grid = np.arange(x.size)
    dist = np.abs(grid[None, :] - np.asarray(t)[:, None])
    # the last of the nearest: argmin on the reversed grid
    idx = x.size - 1 - np.argmin(dist[:, ::-1], axis=1)
    return x[idx]


def test_sample_symbols_takes_the_nearest_recorded_sample():
    # whole samples per symbol take one strided slice, other rates a gather; both must give
    # the recorded sample nearest each instant, never a value between samples
    rng = np.random.default_rng(8)
    x = rng.standard_normal(16 * 300 + 5)
    wf = Waveform(samples=x, sample_rate_hz=16e9, symbol_rate_baud=1e9)
    for centre, phase in ((7.25, 0.0), (0.0, 0.0), (3.6, -0.2), (15.9, 0.5), (0.3, -0.5),
                          (7.5, 0.0)):
        timing = SymbolTiming(16.0, centre, n_whole_symbols(x.size, 16.0, centre), None)
        t = np.clip(centre + 16.0 * (np.arange(timing.n_symbols) + phase), 0, x.size - 1)
        got = sample_symbols(wf, timing, phase)
        np.testing.assert_array_equal(got, _nearest_recorded(x, t))
        assert np.all(np.isin(got, x))
    # non-integer samples per symbol: the general rule
    wf2 = Waveform(samples=x, sample_rate_hz=15.5e9, symbol_rate_baud=1e9)
    timing = SymbolTiming(15.5, 2.2, n_whole_symbols(x.size, 15.5, 2.2), None)
    t = 2.2 + 15.5 * np.arange(timing.n_symbols)
    np.testing.assert_array_equal(sample_symbols(wf2, timing), _nearest_recorded(x, t))


def test_align_pattern_folds_records_of_any_length():
    pat = np.random.default_rng(9).integers(0, 4, 127)
    for offset, n in ((5, 60), (40, 127), (100, 127 * 3 + 50)):
        values = pat[(offset + np.arange(n)) % pat.size] * 1.0 + 0.01
        k, rho, second = align_pattern(values, pat)
        assert k == offset and rho > 0.9 and second < 0.5


def test_pattern_period_of_standard_patterns_and_of_repeated_arrays():
    from optics.patterns import pattern
    from optics.timing import MIN_PATTERN_REPEAT_SYMBOLS, pattern_period

    # one period of each standard pattern: 2^n - 1 symbols (PRBSnQ), 65535 (SSPRQ)
    for name, length in (("PRBS7Q", 127), ("PRBS9Q", 511), ("PRBS13Q", 8191), ("SSPRQ", 65535)):
        assert pattern_period(pattern(name)) == length
        assert pattern_period(np.resize(pattern(name), int(3.6 * length))) == length
    rng = np.random.default_rng(3)
    random = rng.integers(0, 4, 3000).astype(np.uint8)
    assert pattern_period(random) == 3000
    # ends that agree on fewer than MIN_PATTERN_REPEAT_SYMBOLS symbols are no repetition
    short = np.resize(random[:1000], 1000 + MIN_PATTERN_REPEAT_SYMBOLS - 1)
    assert pattern_period(short) == short.size
    assert pattern_period(np.resize(random[:1000], 1000 + MIN_PATTERN_REPEAT_SYMBOLS)) == 1000
    assert pattern_period(np.zeros(200, dtype=np.uint8)) == 1


def test_symbols_of_a_repeated_pattern_array_follow_its_period():
    from optics.patterns import pattern

    prbs = pattern("PRBS9Q")
    sent = np.resize(np.roll(prbs, -300), 6 * 511 + 200)
    given = pattern("PRBS9Q", 3 * 511 + 77)  # the symbols a generator wrote, 3.15 periods
    wf = Waveform(samples=np.repeat(LEVELS_W[sent], 8), sample_rate_hz=8e9, symbol_rate_baud=1e9,
                  pattern=given)
    t = recover_timing(wf)
    assert t.pattern_offset == 300
    np.testing.assert_array_equal(symbols_of(wf, t), sent[: t.n_symbols])


@pytest.mark.parametrize("with_pattern", [True, False])
@pytest.mark.parametrize("factor, word", [(2.0, "half"), (0.5, "twice")])
def test_symbol_rate_twice_or_half_the_true_one_is_named(factor, word, with_pattern):
    # issue 11 item 16: a rate given 2x (e.g. the bit rate) or 1/2x the true one is
    # diagnosed as a wrong rate, not as a closed eye
    rng = np.random.default_rng(14)
    pat = rng.integers(0, 4, 2047).astype(np.uint8)
    wf = erf_pam4(np.tile(pat, 2), 16, delay_ui=0.3, noise_w=2e-5, rng=rng,
                  pattern=pat if with_pattern else None)  # 6.25 GBd
    bad = wf.replace(symbol_rate_baud=wf.symbol_rate_baud * factor)
    with pytest.raises(NoEyeFound) as info:
        recover_timing(bad)
    msg = str(info.value)
    given = f"{6.25 * factor:g}"
    assert f"the record's clock line is at 6.25 GBd, {word} the given {given} GBd: is the " \
           "symbol rate right?" in msg
    assert "no open PAM4 eye" not in msg and "np." not in msg


def test_messages_show_no_numpy_reprs():
    # NumPy 2 prints its scalars as np.float64(inf); messages give plain numbers
    from optics.ber import count_errors
    from optics.levels import measure_levels
    from optics.tdecq.clock import _check_timing

    rng = np.random.default_rng(15)
    pat = rng.integers(0, 4, 1023).astype(np.uint8)
    wf = erf_pam4(np.tile(pat, 2), 8.0, noise_w=1e-5, rng=rng, pattern=pat)
    good = recover_timing(wf)
    messages = []
    for call in (
        lambda: recover_timing(wf.replace(symbol_rate_baud=wf.symbol_rate_baud * 1.01)),
        lambda: recover_timing(erf_pam4(3 * rng.integers(0, 2, 4000), 8.0, noise_w=5e-5, rng=rng)),
        lambda: recover_timing(wf.replace(pattern=np.roll(pat, 5)[::-1].copy())),
        lambda: measure_levels(wf.replace(pattern=None, samples=1e-3 + 0 * wf.samples)),
        lambda: count_errors(wf, good, thresholds=np.array([np.float64(np.inf), 1.0, 2.0])),
        lambda: _check_timing(wf, SymbolTiming(good.samples_per_symbol, good.centre_index,
                                               good.n_symbols, np.int64(99999))),
    ):
        with pytest.raises(InvalidParameter) as info:
            call()
        messages.append(str(info.value))
    for msg in messages:
        assert "np." not in msg and "float64" not in msg and "int64" not in msg, msg


def _optics_imports(module_name):
    """Every optics module a module's source imports, anywhere (also in functions and
    under TYPE_CHECKING)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module_name)
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in found if n.startswith("optics.") and _is_module(n)}


def _is_module(name):
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ModuleNotFoundError, ValueError):  # a name inside a module, not a module
        return False


def test_timing_does_not_import_levels_at_all():
    # issue 11 item 3: levels and timing imported each other; levels now uses timing and
    # timing (and all it imports) never reaches optics.levels, even lazily
    seen, todo = set(), ["optics.timing"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_optics_imports(name) - seen)
    assert "optics.levels" not in seen, sorted(seen)


def test_timing_imports_in_a_fresh_interpreter_without_levels():
    import subprocess
    import sys

    code = ("import sys; sys.modules['optics.levels'] = None\n"
            "import optics.timing\n"
            "print(optics.timing.recover_timing.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "recover_timing"
