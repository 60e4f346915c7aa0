"""One stage's CP-SAT call: maximise the stage's objective from the plan so far.

A stage (:class:`solver.tiers.Stage`) becomes a :class:`StageObjective`, the
coefficient of every variable; :func:`solve_stage` searches it with CP-SAT, started
from the plan so far (the hint), and returns a :class:`StageOutcome`: never worse
than the hint.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from solver.cpsat_proto import hint, maximize, watch
from solver.model import Model
from solver.run import Run
from solver.solution import SolveStatus
from solver.tiers import Stage

__all__ = ["StageObjective", "StageOutcome", "solve_stage"]


@dataclass(frozen=True)
class StageObjective:
    """A stage's coefficient of every variable, and the variables where it is not 0."""

    coef: list[int]
    nz: list[int]

    @classmethod
    def of(cls, stage: Stage, tier_coef: list[list[int]], num_vars: int) -> StageObjective:
        """The stage's tiers weighed together (``tier_coef[k][var]``: see
        :meth:`solver.model.Model.tier_coefficients`)."""
        coef = [0] * num_vars
        for tier, weight in zip(stage.tiers, stage.weights, strict=True):
            for v, c in enumerate(tier_coef[tier]):
                if c:
                    coef[v] += weight * c
        return cls(coef, [v for v, c in enumerate(coef) if c])


@dataclass(frozen=True)
class StageOutcome:
    """What a stage's call found: the stage's value, CP-SAT's bound (None if it has
    none), its status and the plan (the hint itself if nothing better was found)."""

    value: int
    bound: int | None
    status: SolveStatus
    plan: list[int]


def solve_stage(
    model: Model,
    objective: StageObjective,
    current: list[int],
    seconds: float,
    run: Run,
    name: str,
    *,
    improving: bool = False,
    only: set[int] | None = None,
) -> StageOutcome:
    """One stage's CP-SAT call from ``current`` for ``seconds``. With ``only``, every
    other option variable is held at 0 for the call (see
    :meth:`solver.cpsat.PartSolver.solve`); ``improving``: the call starts from a
    rounded LP solution that already bounds the stage (see :func:`_tune`)."""
    nz, stage_coef = objective.nz, objective.coef
    hinted = sum(stage_coef[v] * current[v] for v in nz)
    if seconds < run.params.search.no_time:
        # The time limit is spent: the stage keeps the plan it has (a call's set-up costs
        # more than it could find).
        return StageOutcome(hinted, None, SolveStatus.UNKNOWN, current)
    if only is not None:
        current = [x if v in only else 0 for v, x in enumerate(current)]
    with _held_at_zero(model, only):
        hint(model.cp, current)
        maximize(model.cp, nz, [stage_coef[v] for v in nz])
        solver = _solver(model, seconds, run, improving)
        if run.stopped:
            return StageOutcome(hinted, None, SolveStatus.STOPPED, current)
        watcher = watch(run.stop, solver)
        status = solver.solve(model.cp, run.progress(name))
        watcher.set()
        run.count(solver)
        return _outcome(solver, status, hinted, current, len(model.vars))


def _solver(model: Model, seconds: float, run: Run, improving: bool) -> cp_model.CpSolver:
    params = run.params
    solver = cp_model.CpSolver()
    run.limit(solver.parameters, max(seconds, 0.05))
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    solver.parameters.log_search_progress = params.log
    _tune(
        solver.parameters,
        params.workers,
        len(model.vars) > params.search.large,
        first_stage=not model.rows.fixed,
        improving=improving,
    )
    return solver


def _outcome(
    solver: cp_model.CpSolver, status: Any, hinted: int, current: list[int], num_vars: int
) -> StageOutcome:
    # Objective values are integers; the float CP-SAT reports may be off in the last bit.
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) and round(solver.objective_value) >= hinted:
        values = list(solver.response_proto.solution)[:num_vars]
        word = SolveStatus.OPTIMAL if status == cp_model.OPTIMAL else SolveStatus.FEASIBLE
        bound = math.floor(solver.best_objective_bound + 1e-6)
        return StageOutcome(round(solver.objective_value), bound, word, values)
    if status == cp_model.UNKNOWN:
        return StageOutcome(hinted, None, SolveStatus.UNKNOWN, current)
    bound = math.floor(solver.best_objective_bound + 1e-6)
    return StageOutcome(hinted, bound, SolveStatus.FEASIBLE, current)


@contextmanager
def _held_at_zero(model: Model, only: set[int] | None) -> Iterator[None]:
    """Hold every option variable outside ``only`` at 0 in the model while the block runs
    (nothing, for None)."""
    left_out = [] if only is None else [v for v in range(model.num_option_vars) if v not in only]
    for v in left_out:
        model.cp.proto.variables[v].domain[1] = 0
    try:
        yield
    finally:
        for v in left_out:
            model.cp.proto.variables[v].domain[1] = 1


def _tune(
    parameters: Any,  # cp_model.CpSolver().parameters
    workers: int,
    large: bool,
    first_stage: bool,
    improving: bool = False,
) -> None:
    """Settings measured on the fixtures (see benchmarks/results/solver-design-notes.md).

    With two workers, the default pair of subsolvers proves bounds slowly on the
    sitting packing; an LP-heavy worker beside a restarting one does much better.
    On ``large`` models (``SearchParams.large``) a full presolve costs seconds at every
    stage: the first stage gets a light one (it proves crisis-first optimal on the
    county fixture), later stages none, so that they start from their hint at once and
    spend their time searching. A large need stage that starts from its rounded LP
    solution has its bound from the LP already, so it keeps CP-SAT's default workers,
    whose neighbourhood searches improve on that start.
    """
    if workers == 2 and not improving:
        parameters.subsolvers.extend(["max_lp", "quick_restart"])
    if large and first_stage:
        parameters.cp_model_probing_level = 0
        parameters.symmetry_level = 0
        parameters.max_presolve_iterations = 1
    elif large:
        parameters.cp_model_presolve = False
