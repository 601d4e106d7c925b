"""The device in the virtual bench's socket: a module of the link models.

A station on the virtual bench tests a :class:`models.population.PopulationModule`: a module
of a population (``[virtual] population = "800g-dr8"`` in the bench file: the serial given to
``optics station run --serial`` names the module, :func:`socket_module`) or, without one, the
nominal module of a design (:func:`design_module`).  Its lanes' transmitters, receivers and
laser bias come from :mod:`models` (:func:`instruments.virtual.model_transmitter.population_lanes`),
so the station measures the same physics yield prediction evaluates
(:mod:`optics.volume`).  This module only chooses the module; it holds no physics.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Mapping
from typing import Any

from optics import validate
from optics.errors import InvalidParameter

#: The design of a socket without a population.
DEFAULT_DESIGN = "800GBASE-DR8"


def design_module(serial: str, *, n_lanes: int | None = None, design: str = DEFAULT_DESIGN,
                  seed: int | None = None) -> Any:
    """The nominal module of ``design`` (a :func:`models.presets.preset`) under ``serial``:
    its first ``n_lanes`` lanes (default all), noise seeded by ``seed`` (default from the serial).

    Raises
    ------
    InvalidParameter
        Unknown design, ``n_lanes`` out of 1..the design's lanes.
    """
    from models.population import PopulationModule
    from models.presets import preset

    module = preset(design)
    if n_lanes is not None:
        validate.integer("n_lanes", n_lanes, 1, module.n_lanes)
        module = dataclasses.replace(module, lanes=module.lanes[:n_lanes])
    s = zlib.crc32(str(serial).encode()) if seed is None else validate.integer("seed", seed, 0)
    return PopulationModule.of_design(module, serial=str(serial), seed=s)


#: The former name (a nominal module for a serial).
nominal_module = design_module


def with_lane(module: Any, lane: int | None, note: str, changes: Mapping[str, float]) -> Any:
    """``module`` with model parameters of one lane changed (a defect), noted
    (:func:`models.population.with_values`; paths as ``optics yield --list-parameters``)."""
    from models.population import with_values

    return with_values(module, lane, note, changes)


def socket_module(serial: str, *, population: Any = None, n_lanes: int | None = None,
                  design: str = DEFAULT_DESIGN) -> Any:
    """The module a serial names: module ``population.index_of(serial)`` of ``population``
    (a :class:`models.population.Population`), or without one the design's nominal module.

    Raises
    ------
    InvalidParameter
        A serial that is not one of the population's.
    """
    if population is None:
        return design_module(serial, n_lanes=n_lanes, design=design)
    pm = population.module(population.index_of(serial))
    if n_lanes is not None and n_lanes < pm.module.n_lanes:
        pm = dataclasses.replace(pm, module=dataclasses.replace(pm.module, lanes=pm.module.lanes[:n_lanes]))
    elif n_lanes is not None and n_lanes > pm.module.n_lanes:
        raise InvalidParameter(f"the plan tests {n_lanes} lanes but {serial} ({population.design}) has "
                               f"{pm.module.n_lanes}")
    return pm


def bench_socket_module(params: Any, serial: str, *, n_lanes: int | None = None) -> Any:
    """The module for ``serial`` on a virtual bench with physics ``params``
    (:class:`~instruments.virtual.bench_params.BenchParams`): from its ``population`` if it
    names one, else the nominal design module (:func:`socket_module`)."""
    population = None
    if getattr(params, "population", None):
        population = _population(params.population)
    return socket_module(serial, population=population, n_lanes=n_lanes)


_POPULATIONS: dict[str, Any] = {}


def _population(path: str) -> Any:
    from models.population import load_population

    hit = _POPULATIONS.get(path)
    if hit is None:
        hit = _POPULATIONS[path] = load_population(path)
    return hit


__all__ = ["DEFAULT_DESIGN", "bench_socket_module", "design_module", "nominal_module", "socket_module",
           "with_lane"]
