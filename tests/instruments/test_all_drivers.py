"""Meta-test over every driver: property docstrings, unit-carrying names, channel classes."""

import inspect
import re

import pytest

import instruments.hp
import instruments.intest
import instruments.keithley
import instruments.keysight
import instruments.thorlabs
import instruments.yokogawa
from instruments.keysight.e36312a import SupplyChannel6V, SupplyChannel25V
from instruments.keysight.flexdca import FlexDCAChannel
from instruments.keysight.n776x import AttenuatorChannel
from instruments.keysight.n77xx import PowerMeterPort
from instruments.scpi import ScpiInstrument
from instruments.scpi.properties import ScpiProperty

PACKAGES = (instruments.keysight, instruments.hp, instruments.thorlabs, instruments.yokogawa,
            instruments.intest, instruments.keithley)
DRIVERS = sorted({obj for pkg in PACKAGES for obj in vars(pkg).values()
                  if inspect.isclass(obj) and issubclass(obj, ScpiInstrument)}, key=lambda c: c.__name__)
CLASSES = DRIVERS + [PowerMeterPort, AttenuatorChannel, FlexDCAChannel, SupplyChannel6V, SupplyChannel25V]
UNIT_SUFFIX = re.compile(r"_(w|dbm|db|m|s|hz|baud|v|a|c|k|db_per_s|ui)$")
#: Properties that are dimensionless or not numbers.
UNITLESS = {"mode", "coding", "analyzer_coding", "source_function", "sensitivity", "trigger_input", "pattern_length",
            "averaging_count", "rlm"}


def _properties(cls):
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            if isinstance(value, ScpiProperty):
                yield name, value


def test_every_driver_is_found():
    names = {c.__name__ for c in DRIVERS}
    assert {"FlexDCA", "N7744A", "N7745A", "Keysight8163B", "N7762A", "N7764A", "M8040A", "E36312A", "HP8156A",
            "PM100D", "AQ6370", "ThermoStream", "Keithley2400"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_property_docstrings_start_with_a_verb(cls):
    bad = [n for n, p in _properties(cls) if not (p.__doc__ or "").startswith(("Control", "Measure", "Get", "Set"))]
    assert not bad, f"{cls.__name__}: docstrings must start with Control/Measure/Get/Set: {bad}"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_numeric_property_names_carry_units(cls):
    bad = [n for n, p in _properties(cls)
           if p.kind is float and p.choices is None and n not in UNITLESS and not UNIT_SUFFIX.search(n)]
    assert not bad, f"{cls.__name__}: numeric properties without a unit suffix: {bad}"


@pytest.mark.parametrize("cls", DRIVERS, ids=lambda c: c.__name__)
def test_safety_limit_declarations(cls):
    for key, (unit, sense) in cls.SAFETY_LIMITS.items():
        assert sense in ("max", "min", "abs_max") and unit, (cls.__name__, key)
    for name, prop in _properties(cls):
        if prop.safety is not None:
            assert prop.safety in cls.SAFETY_LIMITS, (cls.__name__, name, prop.safety)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_settable_numbers_have_validators(cls):
    missing = [n for n, p in _properties(cls) if p.set_cmd is not None and p.validator is None]
    assert not missing, f"{cls.__name__}: settings without a validator: {missing}"
