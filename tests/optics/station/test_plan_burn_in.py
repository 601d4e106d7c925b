"""A plan may state the line's burn-in before the test (applied by yield prediction)."""

from __future__ import annotations

import pytest

from optics.errors import ConfigError
from optics.station.plan import load_plan

BODY = 'name = "x"\nphy = "800GBASE-DR8"\nlanes = 1\n{extra}\n[[step]]\nname = "tx"\nkind = "tx"\nlimits = ["tdecq_db"]\n'


def test_burn_in_table_is_read(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(BODY.format(extra='[burn_in]\nhours = 48\ntemperature_c = 125.0\nsource = "process sheet"\n'))
    assert load_plan(p).burn_in == {"hours": 48.0, "temperature_c": 125.0}
    p.write_text(BODY.format(extra=""))
    assert load_plan(p).burn_in == {}


@pytest.mark.parametrize("extra, words", [
    ("[burn_in]\nhours = 48.0\ntemperature_c = 125.0\nweak_fraction = 0.1\n",
     r"p.toml:7: \[burn_in\]: unknown key 'weak_fraction'; allowed: hours, temperature_c, source"),
    ("[burn_in]\nhours = -1.0\ntemperature_c = 125.0\n", r"p.toml:5: \[burn_in\]: hours = -1.0 must be a number in \[0, 10000\] h"),
    ("[burn_in]\nhours = 48.0\ntemperature_c = 201\n", r"p.toml:6: \[burn_in\]: temperature_c = 201 must be a number in \[-40, 200\]"),
    ("[burn_in]\nhours = true\ntemperature_c = 125.0\n", r"p.toml:5: \[burn_in\]: hours = True must be a number"),
    ("[burn_in]\nhours = 48.0\n", r"p.toml:4: \[burn_in\] needs temperature_c"),
    ("[burn_in]\nhours = 48.0\ntemperature_c = 125.0\nsource = 3\n", r"p.toml:7: \[burn_in\]: source = 3 must be a string"),
    ("burn_in = 48\n", r"p.toml:4: burn_in must be a table"),
])
def test_bad_burn_in_is_refused_with_its_line(tmp_path, extra, words):
    p = tmp_path / "p.toml"
    p.write_text(BODY.format(extra=extra))
    with pytest.raises(ConfigError, match=words):
        load_plan(p)
