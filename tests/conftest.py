"""Fixtures shared by the test packages."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from optics import Waveform
from optics.patterns import prbs_q

#: PAM4 levels of the ISI lanes, W (equally spaced: OMA 0.9 mW).
ISI_LANE_LEVELS_W = np.array([0.2e-3, 0.5e-3, 0.8e-3, 1.1e-3])


def make_isi_lane(baud: float, *, seed: int, sps: int = 16, periods: int = 1, pole_fraction: float = 0.6,
                  noise_w: float = 1.5e-5) -> Waveform:
    """PAM4 PRBS13Q (``periods`` times) through a one-pole response at ``pole_fraction`` x baud (ISI
    a longer FFE can undo) with white Gaussian noise of rms ``noise_w`` from ``seed``."""
    sym = np.tile(prbs_q(13), periods)
    x = np.repeat(ISI_LANE_LEVELS_W[sym], sps)
    f = np.fft.rfftfreq(x.size, 1.0 / (sps * baud))
    x = np.fft.irfft(np.fft.rfft(x) / (1.0 + 1j * f / (pole_fraction * baud)), x.size)
    x += noise_w * np.random.default_rng(seed).standard_normal(x.size)
    return Waveform(samples=x, sample_rate_hz=sps * baud, symbol_rate_baud=baud, pattern=sym)


@pytest.fixture(scope="session")
def isi_lane() -> Callable[..., Waveform]:
    """:func:`make_isi_lane`: the ISI lane of the TDECQ-method tests (issue 15)."""
    return make_isi_lane
