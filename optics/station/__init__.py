"""Manufacturing pass/fail station: test plans, runs, records that are never lost, reports, lot statistics.

Modules
-------
:mod:`optics.station.plan`
    TOML test plans (PHY, lanes, temperatures, steps, limits by PHY row name, guard bands).
:mod:`optics.station.runner`
    :func:`~optics.station.runner.run_plan`: one plan on one module, every record committed
    as it is taken, instruments made safe in any case.
:mod:`optics.station.records`, :mod:`optics.station.store`
    Run and measurement records; the results store (SQLite, WAL, several writers).
:mod:`optics.station.sensitivity`
    The receiver-sensitivity search (attenuator sweep, log-BER interpolation).
:mod:`optics.station.bench_adapter`
    What a station needs from a bench (lane switch, CMIS module) and the virtual bench's
    multi-lane module under test.
:mod:`optics.station.dut`
    Simulated modules with unit-to-unit spread and physical defects.
:mod:`optics.station.report`, :mod:`optics.station.stats`
    Per-module HTML/CSV reports; lot yield, FPY, Cpk and histograms.
:mod:`optics.station.demo`
    :func:`~optics.station.demo.run_demo_lot`: a simulated 800G-DR8 lot on the virtual bench.
"""
