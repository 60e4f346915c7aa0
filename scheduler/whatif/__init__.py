"""The what-if capacity planner: scenarios over a year of simulated demand.

- :mod:`scheduler.whatif.scenario` reads the TOML file and applies a variant's
  changes to the base problem;
- :mod:`scheduler.whatif.simulate` runs one (variant, replication): a rolling
  horizon of weeks, each allocated by the engine;
- :mod:`scheduler.whatif.run` fans (variant, replication) tasks out on Dask and
  gathers the KPIs with 95% confidence intervals;
- :mod:`scheduler.whatif.output` writes the comparison table, charts and report.
"""
