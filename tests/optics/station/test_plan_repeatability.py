"""A plan may state the station's measurement repeatability (used by yield prediction)."""

from __future__ import annotations

import pytest

from optics.errors import ConfigError
from optics.station.plan import load_plan

BODY = 'name = "x"\nphy = "800GBASE-DR8"\nlanes = 1\n{extra}\n[[step]]\nname = "tx"\nkind = "tx"\nlimits = ["tdecq_db"]\n'


def test_repeatability_table_is_read(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(BODY.format(extra="[repeatability]\ntdecq_db = 0.15\noma_outer_dbm = 0.1\n"))
    assert load_plan(p).repeatability == {"tdecq_db": 0.15, "oma_outer_dbm": 0.1}
    p.write_text(BODY.format(extra=""))
    assert load_plan(p).repeatability == {}


@pytest.mark.parametrize("extra, words", [
    ("[repeatability]\ntdecq = 0.1\n", r"p.toml:5: repeatability: 'tdecq' is no measurement"),
    ("[repeatability]\ntdecq_db = -0.1\n", r"p.toml:5: repeatability: tdecq_db = -0.1 must be a finite number >= 0"),
    ("[repeatability]\ntdecq_db = nan\n", r"tdecq_db = nan must be a finite"),
    ("repeatability = 3\n", r"repeatability must be a table"),
])
def test_bad_repeatability_is_refused_with_its_line(tmp_path, extra, words):
    p = tmp_path / "p.toml"
    p.write_text(BODY.format(extra=extra))
    with pytest.raises(ConfigError, match=words):
        load_plan(p)
