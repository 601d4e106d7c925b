"""Serial numbers: one check (records.validate_serial), enforced where a run is stored."""

import time
import uuid

import pytest

from optics.errors import InvalidParameter
from optics.station.records import MAX_SERIAL_LENGTH, RunRecord, validate_serial
from optics.station.store import SQLiteStore

BAD = [
    ("SN1\n", "'\\n'"), ("SN1\r", "'\\r'"), ("SN\t1", "'\\t'"), ("SN\x001", "'\\x00'"),
    ("SN\x1b[2J1", "'\\x1b'"), ("SN\x7f", "'\\x7f'"), ("SN\u200b1", "'\\u200b'"),   # DEL; zero-width space (Cf)
    ("\u202eSN1", "'\\u202e'"),                                                    # right-to-left override (Cf)
    ("SN\u20281", "'\\u2028'"),                                                    # line separator (Zl)
    ("SN\udcff", "'\\udcff'"),                                                     # an undecodable argv byte
]


@pytest.mark.parametrize("serial, shown", BAD)
def test_control_and_format_characters_are_refused_and_shown_escaped(serial, shown):
    with pytest.raises(InvalidParameter) as err:
        validate_serial(serial)
    msg = str(err.value)
    assert repr(serial) in msg and shown in msg
    assert msg.isprintable()                       # the message itself carries no control character


@pytest.mark.parametrize("serial, why", [
    ("", "non-empty"), ("   ", "non-empty"), (" SN1", "leading or trailing whitespace"),
    ("SN1 ", "leading or trailing whitespace"), ("S" * (MAX_SERIAL_LENGTH + 1), f"at most {MAX_SERIAL_LENGTH}"),
    (1234, "must be a string"),
])
def test_empty_padded_long_and_non_text_serials_are_refused(serial, why):
    with pytest.raises(InvalidParameter, match=why):
        validate_serial(serial)


@pytest.mark.parametrize("serial", ["DR800001", "LOT7/SN 01", "S" * MAX_SERIAL_LENGTH, "Ü-模块-1", "=SUM(1)"])
def test_ordinary_serials_pass_unchanged(serial):
    assert validate_serial(serial) is serial


def test_the_store_refuses_a_run_with_a_control_character_in_its_serial(tmp_path):
    with SQLiteStore(tmp_path / "r.sqlite") as store:
        run = RunRecord(run_id=str(uuid.uuid4()), serial="SN1\x1b[0m", plan_name="p", plan_hash="h",
                        station_id="st", started_at_s=time.time(), toolkit_version="t")
        with pytest.raises(InvalidParameter, match=r"'SN1\\x1b\[0m'"):
            store.begin_run(run)
        assert store.runs() == []
