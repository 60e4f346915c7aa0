"""Capacity left once bookings (confirmed or offered) are counted: the night staff of
each unit (H5), the beds in classes of interchangeable beds (H1), what each case may
still have (H8 nights allowance in this and the next allowance year, sitting hours
with banked hours, the hours its home is busy), the sitters each provider has on
shift and its weekly hours (H9), the money each budget has left (H12) and the beds
each unit may still give to stays that are not crisis (H13). Bookings of requests
whose priority is allowance-exempt draw on no allowance. A booking that breaks a
rule on its own is noted as a conflict.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

from scheduler.compile.agency import agency_cost60
from scheduler.compile.index import Index
from scheduler.compile.terms import stay_cost60, visit_cost60
from scheduler.model import (
    WEEKDAYS,
    Case,
    Problem,
    Provider,
    StayBooking,
    Unit,
    VisitBooking,
    minutes_of,
)
from solver import data as sd
from solver.steps import DAYS_HELD, day_steps

__all__ = ["Capacity", "count_capacity", "night_load", "provider_week", "staff_needed"]


@dataclass
class Capacity:
    """The solver's capacity tables, each in the :class:`Index`'s order."""

    units: list[sd.UnitNights]
    classes: list[sd.BedClass]  # the index's bed classes, with their free beds each night
    case_limits: list[sd.CaseLimits]
    providers: list[sd.ProviderWeek]
    budgets: list[sd.Budget]
    incompatible: list[tuple[int, int]]
    residents: dict[tuple[str, int], set[str]]  # (unit_id, night): cases booked (H4)
    conflicts: list[str]


def night_load(two: int, one: int, shared: int, shared_ratio: int) -> int:
    """Staff a night needs (H5): 2 per two_to_one, 1 per one_to_one, shared in groups."""
    return 2 * two + one + math.ceil(shared / shared_ratio)


def staff_needed(table: sd.UnitNights, support: int, night: int) -> int:
    """Night staff the unit needs on ``night`` with its bookings and one more
    occupant of ``support`` (H5)."""
    two = table.booked_two[night] + (support == sd.TWO_TO_ONE)
    one = table.booked_one[night] + (support == sd.ONE_TO_ONE)
    shared = table.booked_shared[night] + (support == sd.SHARED)
    return night_load(two, one, shared, table.shared_ratio)


def count_capacity(
    problem: Problem,
    index: Index,
    booked_stays: list[StayBooking],
    booked_visits: list[VisitBooking],
) -> Capacity:
    """The capacity tables of ``problem`` with its confirmed bookings taken out."""
    counting = _Counting(problem, index, booked_stays, booked_visits)
    units = [counting.unit_nights(unit) for unit in problem.units]
    for unit, table in zip(problem.units, units, strict=True):
        table.reserve_cap = counting.reserve_cap(unit)
    classes = counting.bed_classes()
    case_limits = counting.case_limits()
    providers = [
        provider_week(problem, index, provider, booked_visits, counting.conflicts)
        for provider in problem.providers
    ]
    return Capacity(
        units=units,
        classes=classes,
        case_limits=case_limits,
        providers=providers,
        budgets=counting.budgets(),
        incompatible=_incompatible_pairs(problem, index),
        residents=_booked_residents(booked_stays, index),
        conflicts=counting.conflicts,
    )


def provider_week(
    problem: Problem,
    index: Index,
    provider: Provider,
    booked_visits: list[VisitBooking],
    conflicts: list[str],
) -> sd.ProviderWeek:
    """The provider's sitters on shift by day and step less those booked, and the weekly
    hours left (H9); bookings beyond either are noted in ``conflicts``.

    Days are the week's seven and the Monday after it (:data:`solver.steps.DAYS_HELD`),
    which a Sunday-night visit runs into. A booking holds its sitters on every day it
    covers (an overnight one on two), and counts against the weekly hours of the week
    it starts in, wholly."""
    free = [_on_shift(problem, provider, day, index) for day in range(DAYS_HELD)]
    used = 0
    for booking in booked_visits:
        if booking.provider_id != provider.provider_id:
            continue
        day = (booking.day - problem.week_start).days
        if 0 <= day < 7:
            used += booking.minutes * booking.sitters
        for d, t in _booked_steps(booking, day, index):
            free[d][t] -= booking.sitters
            if free[d][t] < 0:
                conflicts.append(
                    f"H9 bookings of provider {provider.provider_id} need more sitters "
                    f"than are on shift on {booking.day} at {booking.start}"
                )
                free[d][t] = 0
    cap = round(60 * provider.weekly_hours_cap)
    if used > cap:
        conflicts.append(
            f"H9 bookings of provider {provider.provider_id} exceed its weekly hours cap"
        )
    return sd.ProviderWeek(free=free, minutes_left=max(cap - used, 0))


def _booked_steps(booking: VisitBooking, day: int, index: Index) -> list[tuple[int, int]]:
    """The (day, step) pairs of the sitting tables a booked visit covers; ``day`` is its
    day in the week (a booking of the Sunday before may run into the Monday)."""
    first = minutes_of(booking.start) // index.step_minutes
    steps = day_steps(day, first, booking.minutes // index.step_minutes, index.steps_per_day)
    return [(d, t) for d, t in steps if 0 <= d < DAYS_HELD]


def _on_shift(problem: Problem, provider: Provider, day: int, index: Index) -> list[int]:
    """``[step]``: the provider's sitters on shift on day ``day`` of the week: that
    weekday's shifts until midnight, and the rest of the night shifts of the day before
    (the rota repeats each week, so Monday's early hours hold Sunday night's sitters)."""
    row = [0] * index.steps_per_day
    for back in (1, 0):
        date = problem.week_start + dt.timedelta(days=day - back)
        for shift in provider.sitters.get(WEEKDAYS[date.weekday()], []):
            first = minutes_of(shift.start) // index.step_minutes
            steps = shift.length // index.step_minutes
            for d, t in day_steps(day - back, first, steps, index.steps_per_day):
                if d == day:
                    row[t] += shift.count
    return row


def _booked_residents(
    booked_stays: list[StayBooking], index: Index
) -> dict[tuple[str, int], set[str]]:
    """Cases in each (unit, night) from confirmed bookings, for H4."""
    residents: dict[tuple[str, int], set[str]] = defaultdict(set)
    for booking in booked_stays:
        for night in booking.night_list:
            if night in index.night_idx:
                residents[(booking.unit_id, index.night_idx[night])].add(booking.case_id)
    return residents


def _incompatible_pairs(problem: Problem, index: Index) -> list[tuple[int, int]]:
    pairs = set()
    for case in problem.cases:
        a = index.case_idx[case.case_id]
        for other in case.incompatible_with:
            b = index.case_idx[other]
            pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


class _Counting:
    """The bookings counted against units, beds, cases and budgets, noting conflicts."""

    def __init__(
        self,
        problem: Problem,
        index: Index,
        booked_stays: list[StayBooking],
        booked_visits: list[VisitBooking],
    ):
        self.problem = problem
        self.index = index
        self.booked_stays = booked_stays
        self.booked_visits = booked_visits
        self.requests = problem.request_by_id()
        self.conflicts: list[str] = []

    def unit_nights(self, unit: Unit) -> sd.UnitNights:
        """The unit's night staff, its booked occupants by support each night and the
        agency staff it may add (H5). Agency staff a booking was made with are on duty
        its nights: they count in ``staff`` and against ``extra_max``."""
        nights, night_idx = self.index.nights, self.index.night_idx
        cases = self.problem.case_by_id()
        counts = {kind: [0] * len(nights) for kind in ("shared", "one_to_one", "two_to_one")}
        booked_extra = [0] * len(nights)
        for booking in self.booked_stays:
            if booking.unit_id != unit.unit_id:
                continue
            support = cases[booking.case_id].night_support
            for night in booking.night_list:
                if night in night_idx:
                    counts[support][night_idx[night]] += 1
                    booked_extra[night_idx[night]] += booking.extra_night_staff
        table = sd.UnitNights(
            staff=[unit.staff_on(night) + booked_extra[i] for i, night in enumerate(nights)],
            shared_ratio=unit.shared_ratio,
            booked_shared=counts["shared"],
            booked_one=counts["one_to_one"],
            booked_two=counts["two_to_one"],
            extra_max=unit.extra_night_staff_max,
            extra_cost=60 * unit.extra_night_staff_cost_pence,
            booked_extra=booked_extra,
        )
        for i, night in enumerate(nights):
            load = night_load(
                table.booked_two[i], table.booked_one[i], table.booked_shared[i], unit.shared_ratio
            )
            if load > table.staff[i]:
                self.conflicts.append(
                    f"H5 bookings in unit {unit.unit_id} need {load} staff on {night}, "
                    f"it has {table.staff[i]}"
                )
            if booked_extra[i] > unit.extra_night_staff_max:
                self.conflicts.append(
                    f"H5 bookings in unit {unit.unit_id} bring {booked_extra[i]} agency staff "
                    f"on {night}, it may add {unit.extra_night_staff_max}"
                )
        return table

    def bed_classes(self) -> list[sd.BedClass]:
        """The free beds of each of the index's bed classes, each night (H1): all of a
        class without bookings; none on the nights a booked bed is held."""
        booked: dict[str, list[StayBooking]] = defaultdict(list)
        for booking in self.booked_stays:
            booked[booking.bed_id].append(booking)
        num_nights = len(self.index.nights)
        classes: list[sd.BedClass] = []
        for info in self.index.classes:
            unit_idx = self.index.unit_idx[info.unit_id]
            if info.booked_by:
                free = self._free_nights(info.bed_ids[0], booked[info.bed_ids[0]])
            else:
                free = [len(info.bed_ids)] * num_nights
            classes.append(sd.BedClass(unit=unit_idx, free=free, num_beds=len(info.bed_ids)))
        return classes

    def _free_nights(self, bed_id: str, bookings: list[StayBooking]) -> list[int]:
        free = [1] * len(self.index.nights)
        for booking in bookings:
            for night in booking.night_list:
                idx = self.index.night_idx.get(night)
                if idx is None:
                    continue
                if free[idx] == 0:
                    self.conflicts.append(f"H1 bed {bed_id} is booked twice on {night}")
                free[idx] = 0
        return free

    def draws(self, request_id: str) -> bool:
        """Whether a booking of ``request_id`` draws on its case's allowances (H8): not
        when the request's priority is allowance-exempt."""
        request = self.requests.get(request_id)
        return request is None or not self.problem.policy.exempt(request.priority)

    def fresh_night(self, case: Case) -> int | None:
        """The index of the first night planned that counts in the case's next
        allowance year (H8), or None when the horizon ends before it."""
        fresh = self.problem.fresh_year(case)
        nights = self.index.nights
        if fresh > nights[-1]:
            return None
        return max((fresh - nights[0]).days, 0)

    def case_limits(self) -> list[sd.CaseLimits]:
        """What each case may still have (H8) and when its home is busy with a visit (H10).

        Nights: this allowance year's allowance less ``nights_used`` and the drawing
        nights booked before the next year begins; the next year's allowance less the
        drawing nights booked in it. Sitting: the week's hours plus the banked hours
        (at most ``policy.sitting_bank_weeks`` weeks' worth), less drawing visits booked.
        """
        night_idx = self.index.night_idx
        fresh_of = {case.case_id: self.fresh_night(case) for case in self.problem.cases}
        booked_before: dict[str, int] = defaultdict(int)
        booked_after: dict[str, int] = defaultdict(int)
        for stay in self.booked_stays:
            if not self.draws(stay.request_id):
                continue
            fresh = fresh_of.get(stay.case_id)
            for night in stay.night_list:
                n = night_idx.get(night)
                if n is None:
                    continue
                if fresh is not None and n >= fresh:
                    booked_after[stay.case_id] += 1
                else:
                    booked_before[stay.case_id] += 1
        booked_minutes: dict[str, int] = defaultdict(int)
        for booking in self.booked_visits:
            if self.draws(booking.request_id):
                booked_minutes[booking.case_id] += booking.minutes
        busy = self._busy_homes()
        bank_weeks = self.problem.policy.sitting_bank_weeks
        limits = []
        for case in self.problem.cases:
            cid = case.case_id
            nights_left = case.nights_allowance - case.nights_used - booked_before[cid]
            next_left = case.nights_allowance - booked_after[cid]
            weekly = case.sitting_hours_per_week
            banked = min(case.sitting_hours_banked, bank_weeks * weekly)
            minutes_left = round(60 * (weekly + banked)) - booked_minutes[cid]
            if (nights_left < 0 and booked_before[cid]) or next_left < 0:
                self.conflicts.append(f"H8 bookings of case {cid} exceed its nights allowance")
            if minutes_left < 0:
                self.conflicts.append(f"H8 bookings of case {cid} exceed its sitting hours")
            limits.append(
                sd.CaseLimits(
                    max(nights_left, 0),
                    max(minutes_left, 0),
                    busy.get(cid, []),
                    fresh_night=fresh_of[cid],
                    nights_left_next=max(next_left, 0),
                )
            )
        return limits

    def reserve_cap(self, unit: Unit) -> list[int] | None:
        """``[night]``: how many more stays that are not crisis the unit may hold (H13),
        or None when it keeps no crisis reserve. From ``planning_date +
        policy.reserve_release_days`` on: its block beds less the reserve less the
        non-crisis stays booked (confirmed or offered) that night, never below 0; before
        that the reserve is released, and the unit's bed count stands (it never binds)."""
        if not unit.crisis_reserve_beds:
            return None
        policy = self.problem.policy
        opens = self.problem.planning_date + dt.timedelta(days=policy.reserve_release_days)
        nights, night_idx = self.index.nights, self.index.night_idx
        booked = [0] * len(nights)
        for stay in self.booked_stays:
            request = self.requests.get(stay.request_id)
            if stay.unit_id != unit.unit_id or (request and request.priority == "crisis"):
                continue
            for night in stay.night_list:
                if night in night_idx:
                    booked[night_idx[night]] += 1
        held = unit.block_beds - unit.crisis_reserve_beds
        return [
            max(held - booked[n], 0) if night >= opens else len(unit.beds)
            for n, night in enumerate(nights)
        ]

    def _busy_homes(self) -> dict[str, list[list[int]]]:
        """``[case_id][day][step]``: 1 where a booked visit is at the home, over the week
        and the Monday after it (an overnight visit holds the home on both days)."""
        busy: dict[str, list[list[int]]] = {}
        for booking in self.booked_visits:
            day = (booking.day - self.problem.week_start).days
            for d, t in _booked_steps(booking, day, self.index):
                grid = busy.setdefault(
                    booking.case_id,
                    [[0] * self.index.steps_per_day for _ in range(DAYS_HELD)],
                )
                grid[d][t] = 1
        return busy

    def budgets(self) -> list[sd.Budget]:
        """Each budget's money left after the bookings (H12), and what it pays for: what
        a booking adds is counted as a plan's stays are (spot nights, agency staff
        nights; a block bed's nights cost nothing more), and visits' sitter-minutes."""
        units = self.problem.unit_by_id()
        providers = self.problem.provider_by_id()
        unit_idx, provider_idx = self.index.unit_idx, self.index.provider_idx
        budgets = []
        for budget in self.problem.budgets:
            spent = 0
            owners = set(budget.applies_to)
            for stay in self.booked_stays:
                if stay.unit_id in owners:
                    inside = sum(1 for n in stay.night_list if n in self.index.night_idx)
                    unit = units[stay.unit_id]
                    spent += stay_cost60(unit, inside)
                    spent += agency_cost60(unit, inside * stay.extra_night_staff)
            for visit in self.booked_visits:
                if visit.provider_id in owners:
                    spent += visit_cost60(
                        providers[visit.provider_id], visit.minutes, visit.sitters
                    )
            left = 60 * budget.limit_pence - spent
            if left < 0:
                self.conflicts.append(f"H12 bookings alone overspend budget {budget.budget_id}")
            budgets.append(
                sd.Budget(
                    left=max(left, 0),
                    units=sorted(unit_idx[o] for o in owners if o in unit_idx),
                    providers=sorted(provider_idx[o] for o in owners if o in provider_idx),
                )
            )
        return budgets
