"""Input validation messages name the value as the user wrote it (no numpy reprs)."""

from __future__ import annotations

import numpy as np
import pytest

from optics import validate
from optics.errors import InvalidParameter, InvalidType


@pytest.mark.parametrize("call, text", [
    (lambda: validate.integer("n_taps", np.float64(2.5)), "got 2.5 (float64)"),
    (lambda: validate.real("power_w", np.str_("x")), "got 'x'"),
    (lambda: validate.in_range("swing_v", np.float64(7.0), 0.0, 5.0, unit="V"), "swing_v = 7.0 V"),
    (lambda: validate.real("power_w", np.float64("inf")), "got inf"),
])
def test_messages_have_no_numpy_repr(call, text):
    with pytest.raises((InvalidParameter, InvalidType)) as err:
        call()
    assert text in str(err.value) and "np." not in str(err.value)
