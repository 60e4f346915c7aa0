"""The search near the LP: CP-SAT on the options the LP solutions use and the plan has.

A relaxation-induced neighbourhood (RINS): every option that no LP solution uses and
the plan does not hold is left out, and CP-SAT solves what is left, with every rule
and every earlier stage's hold. On the fixtures that is a few hundred of ten thousand
options, so an LP-led CP-SAT worker proves the best plan among them quickly; the whole
model's search, started from the same plan, found almost nothing in that time, and
took minutes to reach what this finds in seconds.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solver.cpsat_proto import add_linear, hint, maximize, watch
from solver.model import Model
from solver.params import CpSatParams
from solver.run import Run

__all__ = ["near_lp", "support", "widened"]

EPSILON = 1e-6


def support(*solutions: list[float] | list[int]) -> set[int]:
    """The variables above zero in any of ``solutions``."""
    return {v for values in solutions for v, x in enumerate(values) if x > EPSILON}


def widened(model: Model, allowed: set[int], steps: int) -> set[int]:
    """``allowed`` with every option of the same request (or visit) in the same bed class
    (or with the same provider on the same day) starting at most ``steps`` nights (or
    time steps) from one of them: the plan's stays moved a night or two."""
    data = model.data
    starts: dict[tuple[int, ...], dict[int, int]] = defaultdict(dict)
    for i, opt in enumerate(data.stay_options):
        starts[(0, opt.request, opt.bed_class)][opt.start] = model.x(i)
    for i, vopt in enumerate(data.visit_options):
        starts[(1, vopt.visit, vopt.provider, vopt.day)][vopt.start] = model.y(i)
    key_of = {v: key for key, by_start in starts.items() for v in by_start.values()}
    start_of = {v: start for by_start in starts.values() for start, v in by_start.items()}
    wide = set(allowed)
    for v in allowed:
        if v not in key_of:
            continue  # a sitting bonus, not an option
        by_start = starts[key_of[v]]
        for offset in range(-steps, steps + 1):
            if start_of[v] + offset in by_start:
                wide.add(by_start[start_of[v] + offset])
    return wide


def near_lp(
    model: Model,
    stage_coef: list[int],
    current: list[int],
    allowed: set[int],
    seconds: float,
    *,
    run: Run | None = None,
    on_solution: cp_model.CpSolverSolutionCallback | None = None,
    services: tuple[list[list[int]], range] | None = None,
) -> list[int] | None:
    """The best plan CP-SAT finds in ``seconds`` using only the option variables in
    ``allowed`` (which must hold every option ``current`` takes); None if it finds
    none better than ``current``. ``run``: its workers, seed, clock and stop event
    (by default two workers, seed 0, the wall clock).

    ``services`` (groups, rows): the model's rows ``rows`` (the earlier stages' holds)
    give way to serving each group of option variables exactly once: the plan's own
    earlier-tier services, which meet the holds exactly. Narrower, but the search
    sees whole services instead of a total, and proves its best plan where under the
    holds it found none better.
    """
    # The sitting bonuses are never left out: they only count what the options serve.
    allowed = allowed | set(range(model.num_option_vars, len(model.vars)))
    sub = model.cp.clone()
    for v in range(model.num_option_vars):
        if v not in allowed:
            sub.proto.variables[v].domain[1] = 0  # a Boolean: [0, 1] becomes [0, 0]
    if services is not None:
        groups, rows = services
        for row in rows:
            sub.proto.constraints[row].clear_linear()  # an empty constraint binds nothing
        for group in groups:
            add_linear(sub, group, [1] * len(group), 1, 1)
    hint(sub, current)
    chosen = sorted(v for v in allowed if stage_coef[v])
    maximize(sub, chosen, [stage_coef[v] for v in chosen])
    run = run or Run.start(CpSatParams())
    solver = cp_model.CpSolver()
    run.limit(solver.parameters, seconds)
    solver.parameters.num_workers = run.params.workers
    solver.parameters.random_seed = run.params.seed
    if run.params.workers == 2:
        # The LP-led worker proves these small models; the default pair did not.
        solver.parameters.subsolvers.extend(["max_lp", "quick_restart"])
    done = watch(run.stop, solver)
    status = solver.solve(sub, on_solution)
    done.set()
    run.count(solver)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    before = sum(stage_coef[v] for v in chosen if current[v])
    if round(solver.objective_value) <= before:
        return None
    return list(solver.response_proto.solution)[: len(current)]
