"""The LP relaxation: the same rows as the CP-SAT model, variables relaxed, solved
with OR-Tools' own LP solver GLOP (HiGHS through highspy cannot share a process
with OR-Tools: their bundled HiGHS libraries clash).

It serves twice: its optimum bounds a stage, and its solution, rounded, is a
starting plan for the search (see ``solver.rounding``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ortools.linear_solver import pywraplp

if TYPE_CHECKING:
    from solver.cpsat import Model

__all__ = ["Relaxation", "lp_bound", "relax"]

INFINITY = 10**9


@dataclass
class Relaxation:
    """An optimal LP solution: its bound (rounded down) and each variable's value."""

    bound: int
    values: list[float]
    solver: Any = field(default=None, repr=False)  # the GLOP model, kept for a warm re-solve

    def with_ones(self, ones: list[int], time_limit: float = 10.0) -> list[float] | None:
        """Each variable's value in the LP optimum with the variables ``ones`` held at 1,
        solved again from this optimum; None if that LP is infeasible or unsolved.
        The variables stay free afterwards."""
        if self.solver is None:
            return None
        lp, columns = self.solver
        for v in ones:
            columns[v].SetLb(1.0)
        lp.SetTimeLimit(int(time_limit * 1000))
        solved = lp.Solve() == pywraplp.Solver.OPTIMAL
        values = [column.solution_value() for column in columns] if solved else None
        for v in ones:
            columns[v].SetLb(0.0)
        return values


def relax(
    model: Model,
    nz: list[int],
    coef: list[int],
    *,
    rows: int | None = None,
    time_limit: float = 30.0,
) -> Relaxation | None:
    """Maximise ``sum(coef[v] * var[v])`` over the LP relaxation of ``model`` (of its
    first ``rows`` rows, if given).

    Returns None if the LP is not solved to optimality within ``time_limit``.
    """
    lp = pywraplp.Solver.CreateSolver("GLOP")
    columns = [lp.NumVar(0.0, 1.0, "") for _ in model.vars]
    inf = lp.infinity()
    for idx, row_coef, lo, hi in model.rows.items[:rows]:
        row = lp.RowConstraint(lo if lo > -INFINITY else -inf, hi if hi < INFINITY else inf, "")
        for i, c in zip(idx, row_coef, strict=True):
            row.SetCoefficient(columns[i], c)
    objective = lp.Objective()
    for v in nz:
        objective.SetCoefficient(columns[v], coef[v])
    objective.SetMaximization()
    lp.SetTimeLimit(int(time_limit * 1000))
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    value = objective.Value()
    # Coefficients are integers, so the integer optimum is at most the LP value rounded down.
    bound = math.floor(value + 1e-6 * max(1.0, abs(value)))
    return Relaxation(bound, [column.solution_value() for column in columns], (lp, columns))


def lp_bound(
    model: Model,
    nz: list[int],
    coef: list[int],
    *,
    rows: int | None = None,
    time_limit: float = 30.0,
) -> int | None:
    """Upper bound on ``sum(coef[v] * var[v])`` over the LP relaxation; None if unsolved."""
    relaxation = relax(model, nz, coef, rows=rows, time_limit=time_limit)
    return None if relaxation is None else relaxation.bound
