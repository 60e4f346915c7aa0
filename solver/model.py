"""The CP model of one part: a Boolean per option and the rows the rules write.

One Boolean per option (``x`` for a stay option, ``y`` for a visit option), the
stay options' first; every rule the compile step could not settle alone is a
linear row over them (:mod:`solver.constraints`), kept in :class:`Rows` so that the same
model can be handed to an LP solver (:mod:`solver.lp`). A plan of the model is a
0/1 value for every variable; the functions here read and write such plans.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from solver.constraints import Constraints
from solver.cpsat_proto import add_linear
from solver.data import TIERS, SolverInput
from solver.greedy import Orders, fill
from solver.params import SearchParams

__all__ = [
    "Model",
    "Rows",
    "assignment",
    "decode",
    "filled",
    "holds_earlier_stages",
    "served",
    "stage_value",
]


@dataclass
class Rows:
    """Linear rows ``lo <= sum(coef * var) <= hi`` over option variables, kept so that
    the same model can be handed to an LP solver for a bound."""

    items: list[tuple[list[int], list[int], int, int]] = field(default_factory=list)
    fixed: int = 0  # stages held at their values so far

    @property
    def holds(self) -> range:
        """The rows that hold the earlier stages at their values (the last ``fixed``)."""
        return range(len(self.items) - self.fixed, len(self.items))


class Model:
    """Variables and rules of one part of the problem."""

    def __init__(self, data: SolverInput, search: SearchParams | None = None):
        self.data = data
        self.cp = cp_model.CpModel()
        n_stay, n_visit = len(data.stay_options), len(data.visit_options)
        self.vars = [self.cp.new_bool_var(f"x{i}") for i in range(n_stay)]
        self.vars += [self.cp.new_bool_var(f"y{i}") for i in range(n_visit)]
        self.num_stay = n_stay
        self.rows = Rows()
        self._siblings: dict[int, list[int]] | None = None
        self.orders = Orders.of(data)  # for the many greedy fills of one part
        Constraints(self, (search or SearchParams()).cover_items).add_constraints()

    def siblings(self, v: int) -> list[int]:
        """The option variables of the same stay request (or visit) as variable ``v``."""
        if self._siblings is None:
            groups: dict[tuple[str, int], list[int]] = defaultdict(list)
            for i, opt in enumerate(self.data.stay_options):
                groups[("stay", opt.request)].append(self.x(i))
            for i, vopt in enumerate(self.data.visit_options):
                groups[("visit", vopt.visit)].append(self.y(i))
            self._siblings = {w: group for group in groups.values() for w in group}
        return self._siblings[v]

    @property
    def num_option_vars(self) -> int:
        """Stay and visit option variables: every variable of the model."""
        return self.num_stay + len(self.data.visit_options)

    def x(self, opt_idx: int) -> int:
        return opt_idx

    def y(self, opt_idx: int) -> int:
        return self.num_stay + opt_idx

    def add_row(self, idx: list[int], coef: list[int], lo: int, hi: int) -> None:
        add_linear(self.cp, idx, coef, lo, hi)
        self.rows.items.append((idx, coef, lo, hi))

    def add_capacity(self, idx: list[int], coef: list[int], cap: int) -> None:
        """``sum(coef * var) <= cap`` over Booleans, with positive whole ``coef``: divided
        by the coefficients' greatest common divisor and the capacity rounded down (a
        Chvatal-Gomory rounding), the same in whole numbers and tighter in the LP. A case
        whose visits last 3 hours with 8 hours left may take 2 of them, not the LP's 2.67
        (it lowers the need-stage LP bounds of the sitting parts)."""
        divisor = math.gcd(*coef)
        self.add_row(idx, [c // divisor for c in coef], 0, max(cap, 0) // divisor)

    def tier_coefficients(self) -> list[list[int]]:
        """coef[k][var]: the contribution of each variable to tier k."""
        data = self.data
        coef = [[0] * len(self.vars) for _ in TIERS]
        for i in range(self.num_stay):
            for k, v in enumerate(data.option_tiers("stay", i)):
                coef[k][i] = v
        for i in range(len(data.visit_options)):
            for k, v in enumerate(data.option_tiers("visit", i)):
                coef[k][self.num_stay + i] = v
        return coef


def assignment(model: Model, stays: dict[int, int], visits: dict[int, int]) -> list[int]:
    """The plan that takes stay option ``stays[r]`` of each request ``r`` (and visit
    option ``visits[v]`` of each visit ``v``), as a value of every variable."""
    values = [0] * len(model.vars)
    for o in stays.values():
        values[model.x(o)] = 1
    for o in visits.values():
        values[model.y(o)] = 1
    return values


def decode(model: Model, values: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """The stay option of each request and the visit option of each visit ``values`` takes."""
    data = model.data
    stays = {data.stay_options[i].request: i for i in range(model.num_stay) if values[model.x(i)]}
    visits = {
        data.visit_options[i].visit: i for i in range(len(data.visit_options)) if values[model.y(i)]
    }
    return stays, visits


def filled(model: Model, values: list[int]) -> list[int]:
    """The stage's plan with every request it left out that still fits added (greedy)."""
    stays, visits = fill(model.data, *decode(model, values), model.orders)
    return assignment(model, stays, visits)


def served(model: Model, values: list[int], v: int) -> bool:
    """Whether the request (or visit) of option variable ``v`` is served in ``values``."""
    return any(values[w] for w in model.siblings(v))


def stage_value(stage_coef: list[int], values: list[int]) -> int:
    """The stage's objective at the plan ``values``."""
    return sum(c * x for c, x in zip(stage_coef, values, strict=False))


def holds_earlier_stages(model: Model, values: list[int]) -> bool:
    """Whether the plan ``values`` keeps every earlier stage's hold."""
    fixed = model.rows.items[len(model.rows.items) - model.rows.fixed :]
    return all(
        lo <= sum(c * values[i] for i, c in zip(idx, row_coef, strict=True)) <= hi
        for idx, row_coef, lo, hi in fixed
    )
