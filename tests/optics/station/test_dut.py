"""The virtual socket's module: a design's or a population's, built by the link models."""

from __future__ import annotations

import dataclasses

import pytest

from instruments.bench import load_bench_config
from models.population import load_population, shipped_population
from models.presets import preset
from optics.errors import InvalidParameter
from optics.station.dut import bench_socket_module, design_module, socket_module, with_lane


def test_design_module_is_the_preset_under_a_serial():
    m = design_module("SN42", n_lanes=3)
    ref = preset("800GBASE-DR8")
    assert m.serial == "SN42" and m.module.n_lanes == 3 and m.defects == ()
    assert m.module.lanes[2] == ref.lanes[2]
    assert design_module("SN42").population_seed == m.population_seed != design_module("SN43").population_seed
    with pytest.raises(InvalidParameter, match="n_lanes"):
        design_module("SN1", n_lanes=9)


def test_socket_module_is_the_population_module_the_serial_names():
    pop = load_population(shipped_population("800g-dr8"))
    m = socket_module("DR8P000008", population=pop)
    assert m.values == pop.module(8).values and "weak laser die" in m.note
    assert socket_module("DR8P000008", population=pop, n_lanes=2).module.n_lanes == 2
    with pytest.raises(InvalidParameter, match="not one of population"):
        socket_module("SN0001", population=pop)


def test_with_lane_changes_the_models_parameters_of_one_lane():
    m = with_lane(design_module("SNW", n_lanes=2), 1, "weak laser", {"laser.slope_efficiency_w_per_a": 0.1})
    assert m.module.lanes[1].transmitter.laser.slope_efficiency_w_per_a == 0.1
    assert m.module.lanes[0].transmitter.laser.slope_efficiency_w_per_a == 0.3
    assert m.note == "weak laser (lane 1)"
    with pytest.raises(InvalidParameter, match="unknown parameter"):
        with_lane(m, 0, "x", {"laser.colour": 1.0})


def test_a_bench_file_with_a_population_fills_its_socket(tmp_path):
    bench = tmp_path / "bench.toml"
    bench.write_text('[virtual]\npopulation = "800g-dr8"\n')
    cfg = load_bench_config(bench)
    assert bench_socket_module(cfg.physics, "DR8P000003").values == \
        load_population(shipped_population("800g-dr8")).module(3).values
    plain = dataclasses.replace(cfg.physics, population=None)
    assert bench_socket_module(plain, "ANY1").module.name == "800GBASE-DR8"
