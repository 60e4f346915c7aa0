"""The LP relaxation: the same rows as the CP-SAT model, variables relaxed, solved
with OR-Tools' own LP solver GLOP (HiGHS through highspy cannot share a process
with OR-Tools: their bundled HiGHS libraries clash).

It serves twice: its optimum bounds a stage, and its solution, rounded, is a
starting plan for the search (see ``solver.rounding``). The LP is handed to GLOP as
one sparse matrix (OR-Tools' model builder): far faster than one call per coefficient.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.linear_solver.python import model_builder_helper as mbh
from scipy import sparse

from solver.model import Model

__all__ = ["Relaxation", "lp_bound", "relax"]

INFINITY = 10**9


@dataclass
class _Rows:
    """An LP over [0, 1] variables: ``lo <= matrix @ x <= hi``, maximising ``objective``."""

    matrix: sparse.csr_matrix
    lo: Any  # numpy float arrays (their stubs do not name the dtype the helper wants)
    hi: Any
    objective: Any

    @classmethod
    def of(cls, model: Model, coef: list[int], rows: int | None) -> _Rows:
        items = model.rows.items[:rows]
        lengths = np.fromiter((len(idx) for idx, *_ in items), dtype=np.int64, count=len(items))
        starts = np.zeros(len(items) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        size = int(starts[-1])
        columns = np.fromiter((i for idx, *_ in items for i in idx), dtype=np.int64, count=size)
        values = np.fromiter((c for _, cs, *_ in items for c in cs), dtype=np.float64, count=size)
        shape = (len(items), len(model.vars))
        return cls(
            sparse.csr_matrix((values, columns, starts), shape=shape),
            np.array([lo if lo > -INFINITY else -np.inf for _, _, lo, _ in items], dtype=float),
            np.array([hi if hi < INFINITY else np.inf for *_, hi in items], dtype=float),
            np.array(coef, dtype=float),
        )

    def solve(self, time_limit: float, upper: Any = None) -> tuple[float, list[float]] | None:
        """The LP optimum and each variable's value (variables at most ``upper``, else
        1); None if not solved to optimality within ``time_limit``."""
        num_vars = self.matrix.shape[1]
        builder = mbh.ModelBuilderHelper()
        builder.fill_model_from_sparse_data(
            np.zeros(num_vars),
            np.ones(num_vars) if upper is None else upper,
            self.objective,
            self.lo,
            self.hi,
            self.matrix,
        )
        builder.set_maximize(True)
        solver = mbh.ModelSolverHelper("glop")
        solver.set_time_limit_in_seconds(time_limit)
        solver.solve(builder)
        if solver.status() != mbh.SolveStatus.OPTIMAL:
            return None
        return solver.objective_value(), solver.variable_values().tolist()


@dataclass
class Relaxation:
    """An optimal LP solution: its bound (rounded down) and each variable's value."""

    bound: int
    values: list[float]
    rows: _Rows | None = field(default=None, repr=False)  # kept to solve variants of it

    def with_services(
        self, serve: list[list[int]], refuse: list[int], free_rows: range, time_limit: float = 10.0
    ) -> list[float] | None:
        """Each variable's value in the LP optimum with the rows ``free_rows`` lifted (the
        earlier stages' holds), each group of ``serve`` served exactly once and every
        variable of ``refuse`` at 0; None if that LP is infeasible or unsolved.

        A hold keeps a tier's *total*: the LP meets it with fractions of cheap services
        (one-to-one stays in part, freeing night staff). Serving the plan's own crisis
        and appointment requests instead, its bound falls near the best plans: a far
        better guide for rounding and for the search near the LP."""
        if self.rows is None:
            return None
        rows = self.rows
        lo, hi = rows.lo.copy(), rows.hi.copy()
        lo[free_rows.start : free_rows.stop] = -np.inf
        hi[free_rows.start : free_rows.stop] = np.inf
        num_vars = rows.matrix.shape[1]
        groups = [(g, v) for g, group in enumerate(serve) for v in group]
        served = sparse.csr_matrix(
            (np.ones(len(groups)), ([g for g, _ in groups], [v for _, v in groups])),
            shape=(len(serve), num_vars),
        )
        upper = np.ones(num_vars)
        upper[refuse] = 0.0
        variant = _Rows(
            sparse.vstack([rows.matrix, served], format="csr"),
            np.concatenate([lo, np.ones(len(serve))]),
            np.concatenate([hi, np.ones(len(serve))]),
            rows.objective,
        )
        solved = variant.solve(time_limit, upper)
        return None if solved is None else solved[1]


def relax(
    model: Model,
    nz: list[int],
    coef: list[int],
    *,
    rows: int | None = None,
    time_limit: float = 30.0,
) -> Relaxation | None:
    """Maximise ``sum(coef[v] * var[v])`` over the LP relaxation of ``model`` (of its
    first ``rows`` rows, if given); ``nz`` lists the variables whose ``coef`` is not 0.

    Returns None if the LP is not solved to optimality within ``time_limit``.
    """
    dense = [0] * len(model.vars)
    for v in nz:
        dense[v] = coef[v]
    lp = _Rows.of(model, dense, rows)
    solved = lp.solve(time_limit)
    if solved is None:
        return None
    value, values = solved
    # Coefficients are integers, so the integer optimum is at most the LP value rounded down.
    bound = math.floor(value + 1e-6 * max(1.0, abs(value)))
    return Relaxation(bound, values, lp)


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
