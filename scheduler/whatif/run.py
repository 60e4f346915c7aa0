"""Fan (variant, replication) tasks out on Dask and gather KPIs with 95% intervals.

Every task is independent and travels as plain data: the variant's problem as
JSON in, a dict of numbers out (CP-SAT objects never cross a process). A
``LocalCluster`` sized to the machine runs them by default; ``scheduler`` sends
them to a real cluster (``tcp://host:8786``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scheduler.model import Problem
from scheduler.whatif.scenario import Scenario, apply_changes
from scheduler.whatif.simulate import run_replication

__all__ = ["KPIS", "Outcome", "run_scenario", "summarise", "tasks_of"]

# Student's t, two-sided 95%, by degrees of freedom (replications - 1); 1.96 beyond 30.
T_95 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
    9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
    17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
    25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042,
}  # fmt: skip

# name -> (label, how to read it from a replication's result)
KPIS: dict[str, tuple[str, Callable[[dict[str, Any]], float]]] = {
    "served_crisis": ("crisis requests served", lambda r: r["served_share"]["crisis"]),
    "served_health_appointment": (
        "health-appointment requests served",
        lambda r: r["served_share"]["health_appointment"],
    ),
    "served_planned": ("planned requests served", lambda r: r["served_share"]["planned"]),
    "served_stays": ("stay requests served", lambda r: r["served_by_kind"]["stay"]),
    "served_sitting": ("sitting requests served", lambda r: r["served_by_kind"]["sitting"]),
    "crisis_turned_away": ("crisis stays turned away", lambda r: r["crisis_turned_away"]),
    "crisis_sitting_not_given": (
        "crisis sitting not given",
        lambda r: r["crisis_sitting_not_given"],
    ),
    "nights_per_carer": ("nights per carer asking", lambda r: r["nights_per_carer"]),
    "share_below_half_allowance": (
        "carers under half their allowance",
        lambda r: r["share_below_half_allowance"],
    ),
    "planned_wait_weeks": ("wait for a planned break (weeks)", lambda r: r["planned_wait_weeks"]),
    "occupancy": ("bed occupancy", lambda r: r["occupancy"]),
    "sitter_utilisation": ("sitter utilisation", lambda r: r["sitter_utilisation"]),
    "cost_pounds": ("money added: spot, agency staff, sitting (£)", lambda r: r["cost_pounds"]),
    "block_contract_pounds": (
        "block contracts for the weeks (£)",
        lambda r: r.get("block_contract_pounds", 0.0),
    ),
    "cost_per_night_or_hour": (
        "cost per night or hour, contracts included (£)",
        lambda r: r["cost_per_night_or_hour"],
    ),
    "agency_staff_nights": ("agency staff nights", lambda r: r.get("agency_staff_nights", 0)),
    "spot_nights": ("spot nights", lambda r: r.get("spot_nights", 0)),
}


@dataclass
class Outcome:
    """Every replication's result, and the summary per variant."""

    results: list[dict[str, Any]]
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 1


def tasks_of(scenario: Scenario) -> list[dict[str, Any]]:
    """One task per (variant, replication), each with its variant applied."""
    base = Problem.model_validate(scenario.base)
    sim = scenario.simulation
    tasks = []
    for variant in scenario.variants:
        problem, demand = apply_changes(base, variant)
        payload = problem.model_dump(mode="json")
        for replication in range(sim.replications):
            tasks.append(
                {
                    "variant": variant.name,
                    "replication": replication,
                    "problem": payload,
                    "demand": {f"{p}|{loc}": f for (p, loc), f in demand.items()},
                    "weeks": sim.weeks,
                    "engine": sim.engine,
                    "time_limit": sim.time_limit,
                    "seed": sim.seed,
                    "max_wait_weeks": sim.max_wait_weeks,
                }
            )
    return tasks


# Workers of the LocalCluster run one pure-Python task at a time: Dask's sampling
# profiler (a stack walk every 10 ms) and returning freed memory to the system at
# every 64 kB (its MALLOC_TRIM_THRESHOLD_) slowed them by about a tenth, measured on
# the county benchmark. Nobody watches a local cluster's profile.
LOCAL_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 256 * 1024 * 1024,
}


def run_scenario(
    scenario: Scenario,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    on_done: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Run every task on Dask (a LocalCluster of ``workers`` processes, or the cluster
    at ``scheduler``) and summarise. ``on_done(done, total)`` is called as tasks end."""
    import time

    import dask
    from dask.distributed import Client, LocalCluster, as_completed

    tasks = tasks_of(scenario)
    started = time.perf_counter()
    cluster = None
    if scheduler is None:
        count = workers or max(1, os.cpu_count() or 1)
        # ":0": the scheduler's HTTP server takes a free port (None still binds 8787,
        # so two clusters on one machine would clash).
        with dask.config.set(LOCAL_WORKERS):
            cluster = LocalCluster(
                n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
    try:
        with Client(scheduler or cluster) as client:
            used = len(client.scheduler_info()["workers"])
            futures = client.map(run_replication, tasks, pure=False)
            results = []
            for done, future in enumerate(as_completed(futures), start=1):
                results.append(future.result())
                if on_done:
                    on_done(done, len(tasks))
    finally:
        if cluster is not None:
            cluster.close()
    order = {v.name: i for i, v in enumerate(scenario.variants)}
    results.sort(key=lambda r: (order[r["variant"]], r["replication"]))
    outcome = Outcome(results, seconds=time.perf_counter() - started, workers=used)
    outcome.summary = summarise(results, [v.name for v in scenario.variants])
    return outcome


def summarise(results: list[dict[str, Any]], variants: list[str]) -> dict[str, dict[str, Any]]:
    """Mean and 95% confidence half-width (Student's t over replications) of each KPI."""
    summary: dict[str, dict[str, Any]] = {}
    for name in variants:
        mine = [r for r in results if r["variant"] == name]
        row: dict[str, Any] = {}
        for key, (_, read) in KPIS.items():
            values = [read(r) for r in mine if not math.isnan(read(r))]
            row[key] = _interval(values)
        localities = sorted({loc for r in mine for loc in r["unmet_by_locality"]})
        row["unmet_by_locality"] = {
            loc: _interval([r["unmet_by_locality"].get(loc, 0) for r in mine]) for loc in localities
        }
        weeks = np.array([r["occupancy_by_week"] for r in mine], dtype=float)
        row["occupancy_by_week"] = weeks.mean(axis=0).round(4).tolist() if len(mine) else []
        row["replications"] = len(mine)
        summary[name] = row
    return summary


def _interval(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": math.nan, "half_width": math.nan}
    mean = float(np.mean(values))
    if len(values) < 2:
        return {"mean": mean, "half_width": math.nan}
    t = T_95.get(len(values) - 1, 1.96)
    half = t * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return {"mean": round(mean, 6), "half_width": round(half, 6)}
