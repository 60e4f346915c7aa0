"""What is still free while options are taken one by one.

Used by the greedy baseline, and to check that a solution taken from any
engine keeps every capacity rule of the compact input.
"""

from __future__ import annotations

import math
from collections import defaultdict

from solver.data import (
    CRISIS,
    ONE_TO_ONE,
    SHARED,
    TWO_TO_ONE,
    SolverInput,
    StayOption,
    VisitOption,
)
from solver.steps import day_steps

__all__ = ["State", "fewest_agency_staff"]


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
        self.nights_left = [c.nights_left for c in data.cases]  # this allowance year
        self.nights_left_next = [c.nights_left_next for c in data.cases]  # the next one
        # Agency staff the stays taken so far bring, and what each unit may still add (H5).
        self.added_staff = [[0] * len(u.staff) for u in data.units]
        self.extra_left = [[u.extra_left(n) for n in range(len(u.staff))] for u in data.units]
        self.minutes_left = [c.minutes_left for c in data.cases]
        # [unit][night]: beds still open to stays that are not crisis (H13); None: no reserve
        self.reserve_left = [
            list(u.reserve_cap) if u.reserve_cap is not None else None for u in data.units
        ]
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
            and self.allowance_ok(opt)
            and self.reserve_ok(opt)
            and not (self.case_nights[request.case] & set(nights))
            and all(self.staff_ok(unit, request.support, n, opt.extra) for n in nights)
            and not any(
                self.case_unit_nights[(other, unit)] & set(nights)
                for other in self.partners[request.case]
            )
            and all(self.budget_left[b] >= opt.cost for b in self.unit_budgets[unit])
        )

    def allowance_ok(self, opt: StayOption) -> bool:
        """H8: the nights the option draws in this allowance year and the next are left
        (a request of an allowance-exempt priority draws none)."""
        before, after = self.data.nights_drawn(opt)
        case = self.data.stay_requests[opt.request].case
        return before <= self.nights_left[case] and after <= self.nights_left_next[case]

    def reserve_ok(self, opt: StayOption) -> bool:
        """H13: a stay that is not crisis finds a bed outside the unit's crisis reserve on
        each of its nights."""
        request = self.data.stay_requests[opt.request]
        left = self.reserve_left[self.data.bed_classes[opt.bed_class].unit]
        if left is None or request.priority == CRISIS:
            return True
        return all(left[n] > 0 for n in range(opt.start, opt.start + request.nights))

    def visit_allowance_ok(self, visit_idx: int) -> bool:
        """H8: the visit's minutes are left this week (an exempt visit draws none)."""
        visit = self.data.visits[visit_idx]
        return not visit.draws or self.minutes_left[visit.case] >= visit.minutes

    def staff_ok(self, unit: int, support: int, night: int, extra: int = 0) -> bool:
        """Whether one more occupant of ``support``, bringing ``extra`` agency staff,
        keeps the unit's night staffing on ``night`` (H5): within the staff on duty, the
        agency staff taken so far and its own, and within the agency staff the unit may
        add."""
        load = self.load[unit]
        table = self.data.units[unit]
        two = load[TWO_TO_ONE][night] + (support == TWO_TO_ONE)
        one = load[ONE_TO_ONE][night] + (support == ONE_TO_ONE)
        shared = load[SHARED][night] + (support == SHARED)
        need = 2 * two + one + math.ceil(shared / table.shared_ratio)
        staff = table.staff[night] + self.added_staff[unit][night] + extra
        return need <= staff and extra <= self.extra_left[unit][night]

    def spare_staff(self, unit: int, night: int) -> int:
        """Staff on duty (agency staff taken included) beyond what the residents need."""
        load = self.load[unit]
        table = self.data.units[unit]
        need = (
            2 * load[TWO_TO_ONE][night]
            + load[ONE_TO_ONE][night]
            + math.ceil(load[SHARED][night] / table.shared_ratio)
        )
        return table.staff[night] + self.added_staff[unit][night] - need

    def take_stay(self, opt: StayOption) -> None:
        request = self.data.stay_requests[opt.request]
        unit = self.data.bed_classes[opt.bed_class].unit
        for n in range(opt.start, opt.start + request.nights):
            self.class_free[opt.bed_class][n] -= 1
            self.load[unit][request.support][n] += 1
            self.added_staff[unit][n] += opt.extra
            self.extra_left[unit][n] -= opt.extra
            self.case_nights[request.case].add(n)
            self.case_unit_nights[(request.case, unit)].add(n)
        before, after = self.data.nights_drawn(opt)
        self.nights_left[request.case] -= before
        self.nights_left_next[request.case] -= after
        left = self.reserve_left[unit]
        if left is not None and request.priority != CRISIS:
            for n in range(opt.start, opt.start + request.nights):
                left[n] -= 1
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
            and self.visit_allowance_ok(opt.visit)
            and self.provider_minutes[opt.provider] >= visit.minutes * visit.sitters
            and all(self.budget_left[b] >= opt.cost for b in self.provider_budgets[opt.provider])
        )

    def take_visit(self, opt: VisitOption) -> None:
        visit = self.data.visits[opt.visit]
        for day, t in self.visit_steps(opt):
            self.sitters_free[opt.provider][day][t] -= visit.sitters
            self.case_busy[(visit.case, day)].add(t)
        if visit.draws:
            self.minutes_left[visit.case] -= visit.minutes
        self.provider_minutes[opt.provider] -= visit.minutes * visit.sitters
        for b in self.provider_budgets[opt.provider]:
            self.budget_left[b] -= opt.cost


def fewest_agency_staff(data: SolverInput, stays: dict[int, int]) -> dict[int, int]:
    """``stays`` with each stay that brings agency staff moved to its variant (same bed
    class and nights) with fewest, where the unit's staff suffice without the others
    (H5): the same service for less money. A plan whose cost stage was not proven may
    hold agency staff that rostered staff could replace."""
    with_extra = {r for r, o in stays.items() if data.stay_options[o].extra}
    if not with_extra:
        return stays
    variants: dict[tuple[int, int, int], dict[int, int]] = defaultdict(dict)
    for opt_idx, opt in enumerate(data.stay_options):
        if opt.request in with_extra:
            variants[(opt.request, opt.bed_class, opt.start)][opt.extra] = opt_idx
    state = State(data)
    for opt_idx in stays.values():
        state.take_stay(data.stay_options[opt_idx])
    trimmed = dict(stays)
    for r in sorted(with_extra):
        opt = data.stay_options[stays[r]]
        unit = data.bed_classes[opt.bed_class].unit
        nights = range(opt.start, opt.start + data.stay_requests[r].nights)
        spare = min(state.spare_staff(unit, n) for n in nights)
        for extra, fewer in sorted(variants[(r, opt.bed_class, opt.start)].items()):
            if extra < opt.extra and opt.extra - extra <= spare:
                trimmed[r] = fewer
                for n in nights:
                    state.added_staff[unit][n] -= opt.extra - extra
                    state.extra_left[unit][n] += opt.extra - extra
                break
    return trimmed
