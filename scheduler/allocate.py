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
from scheduler.model import Plan, Problem
from scheduler.objective import evaluate
from solver.data import TIERS
from solver.greedy import solve_greedy
from solver.objective import plan_stages, scalar, tier_ranges, tier_weights
from solver.solution import Solution, StageReport

__all__ = ["ENGINES", "AllocationResult", "Progress", "allocate"]

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
    plan: Plan
    status: str  # "optimal", "feasible", "infeasible_bookings", ...
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
            CpSatParams(time_limit=time_limit, workers=workers, seed=seed, lp_bound=lp_bound),
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
    bound = _bound(solution, ranges, weights)
    gap = _largest_gap([s for s in solution.stages if s.serves])
    gap_all = _largest_gap(solution.stages)
    seconds = time.perf_counter() - started
    info = plan.solver
    info.objective, info.bound, info.gap, info.seconds = objective, bound, gap, round(seconds, 3)
    info.tiers = dict(zip(TIERS, values, strict=True))  # type: ignore[attr-defined]
    info.stages = [  # type: ignore[attr-defined]
        {
            "tiers": s.name,
            "value": s.value,
            "bound": s.bound,
            "lp_bound": s.lp_bound,
            "gap": None if s.gap is None else round(s.gap, 6),
            "status": s.status,
        }
        for s in solution.stages
    ]
    info.notes = solution.notes  # type: ignore[attr-defined]
    info.gap_all_stages = gap_all  # type: ignore[attr-defined]
    return AllocationResult(plan, solution.status, objective, bound, gap, seconds)


def _largest_gap(stages: list[StageReport]) -> float | None:
    """The largest relative gap of the stages, each against its tighter bound."""
    gaps = [stage.gap for stage in stages]
    if not gaps or any(g is None for g in gaps):
        return None
    return round(max(g for g in gaps if g is not None), 6)


def _bound(solution: Solution, ranges: list[int], weights: list[int]) -> int | None:
    """An upper bound on the scalar objective: stages at their bounds (the tighter of
    CP-SAT's and the LP's), and tiers no stage covers at their largest value."""
    if not solution.stages:
        return None
    stages = plan_stages(ranges)
    covered = {tier for stage in stages for tier in stage.tiers}
    total = sum(ranges[k] * weights[k] for k in range(len(ranges)) if k not in covered)
    for stage, report in zip(stages, solution.stages, strict=True):
        bounds = [b for b in (report.bound, report.lp_bound) if b is not None]
        if not bounds:
            return None
        total += min(bounds) * stage.unit
    return total


def _infeasible_bookings(
    compiled: Compiled, engine: str, seed: int, started: float
) -> AllocationResult:
    solution = Solution(stays={}, visits={}, engine=engine, status="infeasible_bookings", seed=seed)
    solution.notes = list(compiled.booking_conflicts)
    return _result(compiled, solution, started)
