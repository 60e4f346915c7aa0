"""The CP model of one part: a Boolean per option and the rows the rules write.

One Boolean per option (``x`` for a stay option, ``y`` for a visit option), the
stay options' first, then the sitting bonuses of tier 2 (:class:`Bonuses`: Booleans
that only count what the options serve, so that a plan's options decide them);
every rule the compile step could not settle alone is a linear row over them
(:mod:`solver.constraints`), kept in :class:`Rows` so that the same model can be
handed to an LP solver (:mod:`solver.lp`). A plan of the model is a 0/1 value for
every variable; the functions here read and write such plans.
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
from solver.state import fewest_agency_staff

__all__ = [
    "Bonuses",
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


@dataclass(frozen=True)
class FirstHourTokens:
    """A case's first sitting minutes of the week as tokens of ``sizes`` x ``unit``
    minutes (``sizes`` 1, 2, 4, ... and the rest: any whole number of units up to the
    first-hours minutes is one set of tokens). Their minutes are at most the minutes
    its visits serve; each token earns the case's sitting need per minute."""

    case: int
    unit: int  # minutes: the greatest common divisor of its visits and first-hours minutes
    sizes: list[int]
    first_var: int
    visits: list[int]

    @property
    def variables(self) -> range:
        return range(self.first_var, self.first_var + len(self.sizes))

    def taken(self, minutes: int) -> list[int]:
        """The tokens (0 or 1 each) worth min(``minutes``, their total), whole units."""
        value = min(minutes // self.unit, sum(self.sizes))
        powers = self.sizes if _is_power_run(self.sizes) else self.sizes[:-1]
        rest = [] if powers is self.sizes else [0]
        if powers is not self.sizes and value > sum(powers):
            rest, value = [1], value - self.sizes[-1]
        return [(value >> k) & 1 for k in range(len(powers))] + rest


def _is_power_run(sizes: list[int]) -> bool:
    return all(size == 1 << k for k, size in enumerate(sizes))


def _token_sizes(total: int) -> list[int]:
    """1, 2, 4, ... while they fit, and the rest: every whole number up to ``total`` is a
    sum of some of them, with a handful of variables instead of ``total``."""
    sizes: list[int] = []
    while sum(sizes) + (1 << len(sizes)) <= total:
        sizes.append(1 << len(sizes))
    if total > sum(sizes):
        sizes.append(total - sum(sizes))
    return sizes


@dataclass(frozen=True)
class Bonuses:
    """The sitting bonuses of tier 2 (:class:`scheduler.model.Weights`' formula) as
    Booleans after the option variables: a *served* variable per sitting request that
    earns the break bonus (at most the sum of its visits' options) and a case's
    first-hour tokens (:class:`FirstHourTokens`). All in [0, 1], so the LP stays an LP
    over [0, 1]; every plan built from options sets them at their most
    (:meth:`values`), which is what :meth:`SolverInput.sitting_bonus` counts."""

    served: list[tuple[int, list[int]]]  # (variable, its request's visits)
    tokens: list[FirstHourTokens]
    coef: dict[int, int]  # tier-2 coefficient of each bonus variable

    @classmethod
    def of(cls, data: SolverInput, first_var: int) -> Bonuses:
        served: list[tuple[int, list[int]]] = []
        coef: dict[int, int] = {}
        var = first_var
        for visits in data.bonus_requests().values():
            served.append((var, visits))
            coef[var] = data.visits[visits[0]].need * data.break_bonus
            var += 1
        by_case: dict[int, list[int]] = defaultdict(list)
        for v in sorted({vopt.visit for vopt in data.visit_options}):
            by_case[data.visits[v].case].append(v)
        tokens: list[FirstHourTokens] = []
        for first in data.first_hours:
            visits = by_case.get(first.case, [])
            minutes = min(first.minutes, sum(data.visits[v].minutes for v in visits))
            if minutes <= 0 or first.need <= 0:
                continue
            unit = math.gcd(minutes, *(data.visits[v].minutes for v in visits))
            token = FirstHourTokens(first.case, unit, _token_sizes(minutes // unit), var, visits)
            for v, size in zip(token.variables, token.sizes, strict=True):
                coef[v] = first.need * size * unit
            tokens.append(token)
            var += len(token.sizes)
        return cls(served, tokens, coef)

    def values(self, data: SolverInput, visits: dict[int, int]) -> dict[int, int]:
        """Each bonus variable at its most with the visits ``visits`` serves."""
        values = {v: int(any(w in visits for w in group)) for v, group in self.served}
        for token in self.tokens:
            minutes = sum(data.visits[w].minutes for w in token.visits if w in visits)
            values.update(zip(token.variables, token.taken(minutes), strict=True))
        return values


class Model:
    """Variables and rules of one part of the problem."""

    def __init__(self, data: SolverInput, search: SearchParams | None = None):
        self.data = data
        self.cp = cp_model.CpModel()
        n_stay, n_visit = len(data.stay_options), len(data.visit_options)
        self.vars = [self.cp.new_bool_var(f"x{i}") for i in range(n_stay)]
        self.vars += [self.cp.new_bool_var(f"y{i}") for i in range(n_visit)]
        self.num_stay = n_stay
        self.bonuses = Bonuses.of(data, len(self.vars))
        self.vars += [self.cp.new_bool_var(f"b{v}") for v in sorted(self.bonuses.coef)]
        self.rows = Rows()
        self._siblings: dict[int, list[int]] | None = None
        self.orders = Orders.of(data)  # for the many greedy fills of one part
        Constraints(self, (search or SearchParams()).cover_items).add_constraints()
        self._bonus_rows()

    def _bonus_rows(self) -> None:
        """A request's served variable is at most its visits' options; a case's tokens
        are at most the minutes its visits serve (both in the tokens' units)."""
        options_of: dict[int, list[int]] = defaultdict(list)
        for i, vopt in enumerate(self.data.visit_options):
            options_of[vopt.visit].append(self.y(i))
        for var, visits in self.bonuses.served:
            idx = [w for v in visits for w in options_of[v]]
            self.add_row([var, *idx], [1] + [-1] * len(idx), -len(idx), 0)
        for token in self.bonuses.tokens:
            idx, coef = list(token.variables), list(token.sizes)
            for v in token.visits:
                units = self.data.visits[v].minutes // token.unit
                idx += options_of[v]
                coef += [-units] * len(options_of[v])
            self.add_row(idx, coef, -sum(-c for c in coef if c < 0), 0)

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
        need = TIERS.index("need_weighted_units")
        for v, c in self.bonuses.coef.items():
            coef[need][v] = c
        return coef


def assignment(model: Model, stays: dict[int, int], visits: dict[int, int]) -> list[int]:
    """The plan that takes stay option ``stays[r]`` of each request ``r`` (and visit
    option ``visits[v]`` of each visit ``v``), as a value of every variable: the
    sitting bonuses at their most (:meth:`Bonuses.values`)."""
    values = [0] * len(model.vars)
    for o in stays.values():
        values[model.x(o)] = 1
    for o in visits.values():
        values[model.y(o)] = 1
    for v, value in model.bonuses.values(model.data, visits).items():
        values[v] = value
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
    """The stage's plan with every request it left out that still fits added (greedy),
    and no agency staff where rostered staff suffice (:func:`fewest_agency_staff`)."""
    stays, visits = fill(model.data, *decode(model, values), model.orders)
    return assignment(model, fewest_agency_staff(model.data, stays), visits)


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
