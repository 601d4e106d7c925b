import numpy as np
import pytest

from optics import Quantity, Waveform
from optics.errors import InvalidWaveform


def make(**kw):
    base = dict(samples=np.linspace(0, 1e-3, 64), sample_rate_hz=64e9)
    base.update(kw)
    return Waveform(**base)


def test_derived_quantities():
    wf = make(symbol_rate_baud=2e9)
    assert wf.n_samples == 64
    assert wf.samples_per_symbol == pytest.approx(32.0)
    assert wf.n_symbols == pytest.approx(2.0)
    assert wf.duration_s == pytest.approx(1e-9)
    assert wf.time_s[1] - wf.time_s[0] == pytest.approx(1 / 64e9)
    assert wf.unit == "W"


def test_samples_are_read_only_copies():
    data = np.ones(8)
    wf = make(samples=data)
    data[0] = 5.0
    assert wf.samples[0] == 1.0
    with pytest.raises(ValueError):
        wf.samples[0] = 2.0


def test_meta_is_read_only():
    wf = make(meta={"source": "model", "seed": 3})
    with pytest.raises(TypeError):
        wf.meta["seed"] = 4
    assert wf.with_meta(seed=5).meta["seed"] == 5
    assert wf.meta["seed"] == 3


def test_quantity_parsing():
    assert make(quantity="voltage").quantity is Quantity.VOLTAGE
    assert make(quantity="A").quantity is Quantity.CURRENT
    with pytest.raises(ValueError, match="unknown quantity 'furlongs'"):
        make(quantity="furlongs")


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"samples": []}, "at least 2"),
        ({"samples": [1.0, np.nan, 2.0]}, "non-finite"),
        ({"samples": [1.0, np.inf]}, "non-finite"),
        ({"samples": np.ones((2, 2))}, "1-dimensional"),
        ({"sample_rate_hz": 0.0}, "sample_rate_hz = 0.0"),
        ({"sample_rate_hz": -1.0}, "sample_rate_hz"),
        ({"symbol_rate_baud": 40e9}, "samples per symbol"),
        ({"symbol_rate_baud": -1.0}, "symbol_rate_baud"),
        ({"pattern": [0, 1, 4]}, "0..3"),
        ({"pattern": [0.5, 1]}, "integer"),
        ({"samples": ["a", "b"]}, "real numbers"),
    ],
)
def test_bad_input_is_named(kw, message):
    with pytest.raises(InvalidWaveform, match=message):
        make(**kw)


def test_symbol_rate_required_message():
    with pytest.raises(InvalidWaveform, match="symbol rate"):
        make().samples_per_symbol


def test_pattern_stored_as_uint8():
    wf = make(pattern=[0, 3, 2, 1])
    assert wf.pattern.dtype == np.uint8
    assert list(wf.pattern) == [0, 3, 2, 1]


def test_complex_samples_are_rejected_not_truncated():
    # np.asarray(complex, float64) silently drops the imaginary part (ComplexWarning only)
    with pytest.raises(InvalidWaveform, match="complex"):
        make(samples=np.array([1.0 + 1.0j, 2.0]))


@pytest.mark.parametrize("pattern", [np.array(["0", "1"]), [True, False]])
def test_non_numeric_pattern_is_named(pattern):
    with pytest.raises(InvalidWaveform, match="pattern must hold integer PAM4 symbols"):
        make(pattern=pattern)


def test_samples_per_symbol_overflow_is_rejected():
    # 1e300 Hz / 1e-10 Bd = inf samples per symbol passed the ">= 2" check
    with pytest.raises(InvalidWaveform, match="overflows"):
        make(sample_rate_hz=1e300, symbol_rate_baud=1e-10)


def test_ragged_samples_are_named():
    with pytest.raises(InvalidWaveform, match="samples must be an array of real numbers"):
        make(samples=[[1.0, 2.0], [3.0]])


def test_samples_are_copied_unless_handed_over_read_only():
    mine = np.linspace(0.0, 1.0, 100)
    wf = Waveform(samples=mine, sample_rate_hz=1e9)
    mine[0] = 5.0  # the caller's writable array: copied, the waveform is unaffected
    assert wf.samples[0] == 0.0 and not wf.samples.flags.writeable
    fresh = np.arange(100.0) / 99.0
    fresh.setflags(write=False)  # a read-only array that owns its memory: kept, no copy
    assert Waveform(samples=fresh, sample_rate_hz=1e9).samples is fresh
    base = np.linspace(0.0, 1.0, 200)
    view = base[::2]
    view.setflags(write=False)  # a read-only view of a writable base: copied
    wf2 = Waveform(samples=view, sample_rate_hz=1e9)
    base[0] = 7.0
    assert wf2.samples[0] == 0.0


@pytest.mark.parametrize("bad, where", [(np.nan, 3), (np.inf, 0), (-np.inf, 99)])
def test_non_finite_samples_are_named_with_their_index(bad, where):
    x = np.zeros(100)
    x[where] = bad
    with pytest.raises(InvalidWaveform, match=f"non-finite value.*first at index {where}"):
        Waveform(samples=x, sample_rate_hz=1e9)
