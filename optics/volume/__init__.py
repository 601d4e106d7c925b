"""Yield prediction at volume: modules of a population (:mod:`models.population`) tested as a
plan would test them, straight through the models and the :mod:`optics` metrics.

* :mod:`optics.volume.evaluate`: one module → :class:`~optics.volume.evaluate.ModuleOutcome`;
* :mod:`optics.volume.engine`: many modules on local processes or a Dask cluster, in order;
* :mod:`optics.volume.summary`: yield with its interval, per temperature, Pareto, Cpk, guard
  bands against test escapes, streamed module by module.
"""
