import math

import pytest
from scipy.special import erfc, erfcinv

from optics.errors import InvalidParameter, MeasurementInvalid
from optics.station.sensitivity import SweepPoint, find_sensitivity

R, SIGMA = 0.8, 6.5e-6          # A/W, A rms
OMA0_DBM = 2.0                  # received OMA at 0 dB attenuation
BITS = 10**9


def ber_of(oma_dbm):
    """Gray PAM4 with Gaussian noise: BER = 0.75 Q(R*OMA/(6 sigma))."""
    q = R * 1e-3 * 10 ** (oma_dbm / 10) / (6 * SIGMA)
    return 0.75 * 0.5 * erfc(q / math.sqrt(2))


def oma_at_ber(ber):
    """Closed-form inverse of ber_of (independent of the search)."""
    q = math.sqrt(2) * erfcinv(2 * ber / 0.75)
    return 10 * math.log10(q * 6 * SIGMA / R / 1e-3)


def measure(att):
    oma = OMA0_DBM - att
    ber = ber_of(oma)
    errors = int(round(ber * BITS))
    return SweepPoint(att, oma, oma - 0.3, errors / BITS, errors, BITS)


@pytest.mark.parametrize("start", [3.0, 6.5, 12.0])
def test_crossing_matches_closed_form(start):
    res = find_sensitivity(measure, threshold=2.4e-4, start_db=start, step_db=1.0, refine_points=2)
    expected = oma_at_ber(2.4e-4)                      # about -8.1 dBm for these numbers
    # log(BER) is not exactly linear in dBm: after two secant refinements the bracket is narrow
    assert res.oma_dbm == pytest.approx(expected, abs=0.02)
    assert res.average_power_dbm == pytest.approx(expected - 0.3, abs=0.02)
    assert 4 <= len(res.points) <= 12
    # the curve brackets the threshold
    bers = [p.ber for p in res.points]
    assert min(bers) < 2.4e-4 < max(bers)


def test_without_refinement_is_coarser_but_close():
    res = find_sensitivity(measure, threshold=2.4e-4, start_db=6.0, refine_points=0)
    assert res.oma_dbm == pytest.approx(oma_at_ber(2.4e-4), abs=0.15)


def test_zero_error_bracket_end_is_bisected():
    # a coarse 4 dB step jumps from "no errors" straight past the threshold
    res = find_sensitivity(measure, threshold=2.4e-4, start_db=4.0, step_db=4.0, refine_points=2)
    assert res.oma_dbm == pytest.approx(oma_at_ber(2.4e-4), abs=0.05)


def test_no_crossing_in_range():
    def flat(att):
        return SweepPoint(att, -att, -att, 1e-9, 1, BITS)

    with pytest.raises(MeasurementInvalid, match="did not cross"):
        find_sensitivity(flat, threshold=2.4e-4, start_db=40.0, step_db=2.0, max_db=45.0)
    with pytest.raises(MeasurementInvalid, match="within 5 points"):
        find_sensitivity(flat, threshold=2.4e-4, start_db=0.0, step_db=1.0, max_points=5)


def test_bad_arguments():
    with pytest.raises(InvalidParameter, match="start_db"):
        find_sensitivity(measure, threshold=2.4e-4, start_db=50.0)
    with pytest.raises(InvalidParameter, match="threshold"):
        find_sensitivity(measure, threshold=0.7, start_db=5.0)
    with pytest.raises(InvalidParameter, match="step_db"):
        find_sensitivity(measure, threshold=2.4e-4, start_db=5.0, step_db=0.0)


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda att: SweepPoint(att, 2.0 - att, 1.7 - att, 0.0, 0, 0), r"no bits compared at 9.00 dB"),
        (lambda att: SweepPoint(att, 2.0 - att, 1.7 - att, float("nan"), 0, BITS), r"BER nan at 9.00 dB"),
        (lambda att: SweepPoint(att, float("nan"), 1.7 - att, 1e-6, 1000, BITS), r"received OMA nan dBm at 9.00 dB"),
        (lambda att: SweepPoint(att, 2.0 - att, 1.7 - att, 2e-3, 5, 1000), r"BER 0.002 .* 5 errors in 1000 bits"),
    ],
)
def test_a_point_without_a_usable_count_is_refused_not_searched_on(bad, match):
    """Loss of sync (nothing compared) counts 0 errors: taking it for an error-free point would
    steer the search and could end in a made-up sensitivity."""
    calls = []

    def meas(att):
        calls.append(att)
        return bad(att) if att >= 9.0 else measure(att)

    with pytest.raises(MeasurementInvalid, match=match):
        find_sensitivity(meas, threshold=2.4e-4, start_db=9.0)
    assert len(calls) == 1


def test_no_crossing_measures_the_range_end_and_says_which_side():
    """The coarse sweep steps 1 dB from 9.2 dB: it must measure 0 dB itself (not stop at 0.2 dB)
    before concluding, and the error carries the side and the last point (for a FAIL bound)."""
    from optics.station.sensitivity import NoCrossing

    seen = []

    def deaf(att):
        seen.append(att)
        return SweepPoint(att, 1.0 - att, 0.7 - att, 1e-2, 10**7, 10**9)

    with pytest.raises(NoCrossing, match=r"minimum \(0 dB\); last BER 0.01 at 0.00 dB") as info:
        find_sensitivity(deaf, threshold=2.4e-4, start_db=9.2)
    assert seen[-1] == 0.0 and seen[-2] == pytest.approx(0.2)
    assert info.value.side == "minimum" and info.value.last.attenuation_db == 0.0
    assert len(info.value.points) == len(seen)
