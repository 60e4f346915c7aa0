"""What is still free while options are taken one by one.

Used by the greedy baseline, and to check that a solution taken from any
engine keeps every capacity rule of the compact input.
"""

from __future__ import annotations

import math
from collections import defaultdict

from solver.data import ONE_TO_ONE, SHARED, TWO_TO_ONE, SolverInput, StayOption, VisitOption
from solver.steps import day_steps

__all__ = ["State"]


class State:
    """Remaining capacity after bookings and the options taken so far."""

    def __init__(self, data: SolverInput):
        self.data = data
        self.class_free = [list(c.free) for c in data.bed_classes]
        self.load = [
            {
                SHARED: list(u.booked_shared),
                ONE_TO_ONE: list(u.booked_one),
                TWO_TO_ONE: list(u.booked_two),
            }
            for u in data.units
        ]
        self.nights_left = [c.nights_left for c in data.cases]
        self.minutes_left = [c.minutes_left for c in data.cases]
        self.case_busy: dict[tuple[int, int], set[int]] = defaultdict(set)  # (case, day) -> steps
        for case_idx, case in enumerate(data.cases):
            for day, row in enumerate(case.busy):
                self.case_busy[(case_idx, day)] = {t for t, b in enumerate(row) if b}
        self.case_nights: dict[int, set[int]] = defaultdict(set)
        self.case_unit_nights: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.partners: dict[int, list[int]] = defaultdict(list)
        for a, b in data.incompatible:
            self.partners[a].append(b)
            self.partners[b].append(a)
        self.sitters_free = [[list(row) for row in p.free] for p in data.providers]
        self.provider_minutes = [p.minutes_left for p in data.providers]
        self.budget_left = [b.left for b in data.budgets]
        self.unit_budgets: dict[int, list[int]] = defaultdict(list)
        self.provider_budgets: dict[int, list[int]] = defaultdict(list)
        for budget_idx, budget in enumerate(data.budgets):
            for u in budget.units:
                self.unit_budgets[u].append(budget_idx)
            for p in budget.providers:
                self.provider_budgets[p].append(budget_idx)

    # ------------------------------------------------------------------ stays

    def stay_fits(self, opt: StayOption) -> bool:
        data = self.data
        request = data.stay_requests[opt.request]
        unit = data.bed_classes[opt.bed_class].unit
        nights = range(opt.start, opt.start + request.nights)
        free = self.class_free[opt.bed_class]
        return (
            all(free[n] > 0 for n in nights)
            and self.nights_left[request.case] >= request.nights
            and not (self.case_nights[request.case] & set(nights))
            and all(self.staff_ok(unit, request.support, n) for n in nights)
            and not any(
                self.case_unit_nights[(other, unit)] & set(nights)
                for other in self.partners[request.case]
            )
            and all(self.budget_left[b] >= opt.cost for b in self.unit_budgets[unit])
        )

    def staff_ok(self, unit: int, support: int, night: int) -> bool:
        load = self.load[unit]
        table = self.data.units[unit]
        two = load[TWO_TO_ONE][night] + (support == TWO_TO_ONE)
        one = load[ONE_TO_ONE][night] + (support == ONE_TO_ONE)
        shared = load[SHARED][night] + (support == SHARED)
        need = 2 * two + one + math.ceil(shared / table.shared_ratio)
        return need <= table.staff[night]

    def take_stay(self, opt: StayOption) -> None:
        request = self.data.stay_requests[opt.request]
        unit = self.data.bed_classes[opt.bed_class].unit
        for n in range(opt.start, opt.start + request.nights):
            self.class_free[opt.bed_class][n] -= 1
            self.load[unit][request.support][n] += 1
            self.case_nights[request.case].add(n)
            self.case_unit_nights[(request.case, unit)].add(n)
        self.nights_left[request.case] -= request.nights
        for b in self.unit_budgets[unit]:
            self.budget_left[b] -= opt.cost

    # ------------------------------------------------------------------ visits

    def visit_steps(self, opt: VisitOption) -> list[tuple[int, int]]:
        """The (day, step) pairs the visit covers; past midnight on the next day."""
        return day_steps(opt.day, opt.start, opt.steps, self.data.steps_per_day)

    def sitters_short(self, opt: VisitOption) -> bool:
        """The provider has fewer sitters free than the visit needs at some step of it."""
        sitters = self.data.visits[opt.visit].sitters
        free = self.sitters_free[opt.provider]
        return any(free[day][t] < sitters for day, t in self.visit_steps(opt))

    def home_busy(self, opt: VisitOption) -> bool:
        """Another visit is at the home at some step of this one (H10)."""
        case = self.data.visits[opt.visit].case
        return any(t in self.case_busy[(case, day)] for day, t in self.visit_steps(opt))

    def visit_fits(self, opt: VisitOption) -> bool:
        visit = self.data.visits[opt.visit]
        return (
            not self.sitters_short(opt)
            and not self.home_busy(opt)
            and self.minutes_left[visit.case] >= visit.minutes
            and self.provider_minutes[opt.provider] >= visit.minutes * visit.sitters
            and all(self.budget_left[b] >= opt.cost for b in self.provider_budgets[opt.provider])
        )

    def take_visit(self, opt: VisitOption) -> None:
        visit = self.data.visits[opt.visit]
        for day, t in self.visit_steps(opt):
            self.sitters_free[opt.provider][day][t] -= visit.sitters
            self.case_busy[(visit.case, day)].add(t)
        self.minutes_left[visit.case] -= visit.minutes
        self.provider_minutes[opt.provider] -= visit.minutes * visit.sitters
        for b in self.provider_budgets[opt.provider]:
            self.budget_left[b] -= opt.cost
