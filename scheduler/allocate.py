"""``allocate(problem, ...)``: one entry point for every engine.

It compiles the problem, runs the chosen engine on the compact input, turns
the chosen options back into a plan (concrete beds, dates, times), explains
every unmet request and fills the KPIs and the ``solver`` block.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from scheduler.compile import Compiled, compile_problem
from scheduler.decode import plan_from_solution
from scheduler.evaluate import evaluate
from scheduler.model import Plan, Problem
from solver.data import TIERS
from solver.greedy import solve_greedy
from solver.solution import Solution, SolveStatus, StageReport
from solver.tiers import Stage, plan_stages, scalar, tier_ranges, tier_weights

__all__ = ["ENGINES", "AllocationResult", "Progress", "SolveStatus", "allocate"]

ENGINES = ("cpsat", "greedy")


@dataclass(frozen=True)
class Progress:
    """A report sent while solving: the best plan so far and the bound."""

    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    stage: str = ""


@dataclass
class AllocationResult:
    """What :func:`allocate` returns: the plan, how the solve ended and how good it is."""

    plan: Plan
    status: SolveStatus
    objective: int | None
    bound: int | None
    gap: float | None
    seconds: float


def allocate(
    problem: Problem,
    *,
    engine: str = "cpsat",
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    previous: Plan | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    lp_bound: bool = False,
    deterministic: bool = False,
) -> AllocationResult:
    """Allocate beds and sitting hours for ``problem``.

    Parameters
    ----------
    engine
        ``"cpsat"`` (default) or ``"greedy"`` (what a brokerage team does by hand).
    time_limit, workers, seed
        CP-SAT's ``max_time_in_seconds``, ``num_workers`` and ``random_seed``.
    previous
        The plan to stay close to when re-planning (tier 5, stability).
    on_progress
        Called with a :class:`Progress` whenever the solver finds a better plan.
    stop
        Set it from another thread to stop the solve; the best plan so far is returned.
    lp_bound
        Also bound each service stage by its LP relaxation (GLOP), after the search.
    deterministic
        Time CP-SAT by its deterministic time instead of the wall clock: with one worker,
        the same problem, seed and time limit give the same plan on any machine.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine: '{engine}' is not one of {', '.join(ENGINES)}")
    started = time.perf_counter()
    compiled = compile_problem(problem, previous)
    if compiled.booking_conflicts:
        return _infeasible_bookings(compiled, engine, seed, started)
    if engine == "greedy":
        solution = solve_greedy(compiled.data, seed=seed)
    else:
        from solver.cpsat import CpSatParams, solve_cpsat

        solution = solve_cpsat(
            compiled.data,
            CpSatParams(
                time_limit=time_limit,
                workers=workers,
                seed=seed,
                lp_bound=lp_bound,
                deterministic=deterministic,
            ),
            on_progress=_forward(on_progress),
            stop=stop,
        )
    return _result(compiled, solution, started)


def _forward(on_progress: Callable[[Progress], None] | None) -> Callable[..., None] | None:
    if on_progress is None:
        return None

    def report(
        objective: float | None, bound: float | None, gap: float | None, seconds: float, stage: str
    ) -> None:
        on_progress(Progress(objective, bound, gap, seconds, stage))

    return report


def _result(compiled: Compiled, solution: Solution, started: float) -> AllocationResult:
    plan = plan_from_solution(compiled, solution)
    ranges = tier_ranges(compiled.data)
    weights = tier_weights(ranges)
    values = evaluate(compiled, plan)
    objective = scalar(values, weights)
    stages = plan_stages(ranges)
    bounds = _tier_bounds(stages, solution.stages, values, ranges) if solution.stages else {}
    gaps = {k: _relative_gap(values[k], b) for k, b in bounds.items() if b is not None}
    service = [k for k in range(3) if ranges[k] > 0]
    gap = _largest(gaps, service)
    seconds = time.perf_counter() - started
    info = plan.solver
    info.objective, info.gap, info.seconds = objective, gap, round(seconds, 3)
    info.bound = _scalar_bound(stages, solution.stages, ranges, weights)
    info.tiers = {
        name: {"value": values[k], "bound": bounds.get(k), "gap": gaps.get(k)}
        for k, name in enumerate(TIERS)
    }
    info.stages = [
        {
            "tiers": s.name,
            "value": s.value,
            "bound": s.bound,
            "lp_bound": s.lp_bound,
            "status": s.status,
        }
        for s in solution.stages
    ]
    info.gap_all_tiers = _largest(gaps, [k for k in range(len(TIERS)) if ranges[k] > 0])
    info.notes = solution.notes
    info.lp_seconds = round(solution.lp_seconds, 3)
    return AllocationResult(plan, solution.status, objective, info.bound, gap, seconds)


def _tighter(report: StageReport) -> int | None:
    bounds = [b for b in (report.bound, report.lp_bound) if b is not None]
    return min(bounds) if bounds else None


def _tier_bounds(
    stages: list[Stage], reports: list[StageReport], values: list[int], ranges: list[int]
) -> dict[int, int | None]:
    """A bound on each tier given the tiers above it at the plan's values.

    A stage's bound B holds for ``sum(w_i * t_i)`` over its tiers; with the tiers above
    tier j at their values and the tiers below at their largest, ``w_j * t_j`` can be
    at most what is left, and never more than the tier's range. So a merged stage's
    tiny relative gap cannot hide a large gap in its last tier.
    """
    bounds: dict[int, int | None] = {}
    for stage, report in zip(stages, reports, strict=True):
        total = _tighter(report)
        for j, tier in enumerate(stage.tiers):
            if total is None:
                bounds[tier] = None
                continue
            above = sum(
                w * values[t] for w, t in zip(stage.weights[:j], stage.tiers[:j], strict=True)
            )
            below = sum(
                w * ranges[t]
                for w, t in zip(stage.weights[j + 1 :], stage.tiers[j + 1 :], strict=True)
            )
            # No plan reaches past the tier's range, which caps a bound left loose when
            # the tier above is not proven (its slack, times its weight, lands here).
            bounds[tier] = min((total - above + below) // stage.weights[j], ranges[tier])
    return bounds


def _relative_gap(value: int, bound: int) -> float:
    return round(max(0, bound - value) / max(1, abs(bound)), 6)


def _largest(gaps: dict[int, float], tiers: list[int]) -> float | None:
    """The largest gap of ``tiers``; None if one of them has no bound."""
    if not tiers or any(k not in gaps for k in tiers):
        return None
    return max(gaps[k] for k in tiers)


def _scalar_bound(
    stages: list[Stage], reports: list[StageReport], ranges: list[int], weights: list[int]
) -> int | None:
    """An upper bound on the scalar objective: each stage at its tighter bound (or, with
    none, at its largest value), and tiers no stage covers at their largest value."""
    if not reports:
        return None
    covered = {tier for stage in stages for tier in stage.tiers}
    total = sum(ranges[k] * weights[k] for k in range(len(ranges)) if k not in covered)
    for stage, report in zip(stages, reports, strict=True):
        bound = _tighter(report)
        if bound is None:
            bound = sum(w * ranges[t] for w, t in zip(stage.weights, stage.tiers, strict=True))
        total += bound * stage.unit
    return total


def _infeasible_bookings(
    compiled: Compiled, engine: str, seed: int, started: float
) -> AllocationResult:
    status = SolveStatus.INFEASIBLE_BOOKINGS
    solution = Solution(stays={}, visits={}, engine=engine, status=status, seed=seed)
    solution.notes = list(compiled.booking_conflicts)
    return _result(compiled, solution, started)
