"""Compile a problem into the solver's compact, index-based input.

Every option a request could take is generated and filtered by the rules that
concern it alone (H2 bed fits, H3 unit admits, H6 whole stays in the horizon,
H7 travel, H8 eligibility and allowance, H9 provider coverage, skills and
sitters on shift, H10 windows), and by what confirmed bookings already hold
(H1 beds, H4 residents, H5 staff, H9 sitters, H12 budgets). What a filter
removes is kept, with the rule and the reason, in :attr:`Compiled.removed`:
that is what unmet-demand explanations are built from.

Served demand, need, preference points, cost and travel of an option are
computed here by the functions :func:`need_of`, :func:`stay_points`,
:func:`visit_points`, :func:`stay_cost60` and :func:`visit_cost60`, which the
plan evaluation in :mod:`scheduler.objective` uses too.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce

from scheduler.geo import km_between
from scheduler.model import (
    WEEKDAYS,
    Case,
    Plan,
    Problem,
    Provider,
    SittingRequest,
    StayBooking,
    StayRequest,
    Unit,
    UnmetReason,
    Visit,
    VisitBooking,
    Weights,
    minutes_of,
)
from solver import data as sd

__all__ = [
    "Compiled",
    "Removed",
    "compile_problem",
    "need_of",
    "night_load",
    "stay_cost60",
    "stay_points",
    "visit_cost60",
    "visit_points",
]

PRIORITY_INDEX = {"crisis": sd.CRISIS, "health_appointment": sd.HEALTH_APPOINTMENT, "planned": 2}
SUPPORT_INDEX = {"shared": sd.SHARED, "one_to_one": sd.ONE_TO_ONE, "two_to_one": sd.TWO_TO_ONE}
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Removed:
    """Options a filter removed: the unmet reason, and where (a unit, provider or date)."""

    reason: UnmetReason
    where: str
    detail: str


@dataclass
class ClassInfo:
    unit_id: str
    bed_ids: list[str]
    features: tuple[str, ...]
    booked_by: list[str] = field(default_factory=list)  # confirmed bookings on the bed


@dataclass
class Compiled:
    problem: Problem
    data: sd.SolverInput
    nights: list[dt.date]
    stay_requests: list[StayRequest]
    visits: list[tuple[SittingRequest, Visit]]
    case_ids: list[str]
    unit_ids: list[str]
    provider_ids: list[str]
    classes: list[ClassInfo]
    booked_stays: list[StayBooking]
    booked_visits: list[VisitBooking]
    removed: dict[tuple[str, str | None], list[Removed]] = field(default_factory=dict)
    booking_conflicts: list[str] = field(default_factory=list)

    @property
    def step(self) -> int:
        return self.data.step_minutes

    def day_of(self, day_idx: int) -> dt.date:
        return self.problem.week_start + dt.timedelta(days=day_idx)

    def clock(self, step_idx: int) -> str:
        return clock_of(step_idx, self.step)


# ------------------------------------------------------------------ shared formulas


def need_of(case: Case, received: dt.date, week_start: dt.date, weights: Weights) -> int:
    """Fair-share need of a request (see :class:`scheduler.model.Weights`)."""
    unused = 0.0
    if case.nights_allowance > 0:
        unused = max(0.0, 1.0 - case.nights_used / case.nights_allowance)
    waited = min(max((week_start - received).days, 0), weights.wait_cap_days)
    need = (
        weights.need_base
        + weights.need_allowance * unused
        + weights.need_wait * waited / weights.wait_cap_days
    )
    return round(need)


def stay_points(
    request: StayRequest, case: Case, unit: Unit, start: dt.date, weights: Weights
) -> int:
    """Tier-3 points of a stay: preferred start, preferred unit, same unit as last time.

    Spot beds earn none: preferences never pull a stay into an overflow bed.
    """
    if unit.spot:
        return 0
    points = weights.preferred_start if request.preferred_start == start else 0
    points += weights.preferred_unit if unit.unit_id in request.preferred_units else 0
    points += weights.continuity if case.previous_unit_id == unit.unit_id else 0
    return points


def visit_points(case: Case, provider: Provider, weights: Weights) -> int:
    return weights.continuity if case.previous_provider_id == provider.provider_id else 0


def stay_cost60(unit: Unit, nights: int) -> int:
    """Cost of a stay in sixtieths of a penny."""
    return 60 * nights * unit.cost_per_night_pence


def visit_cost60(provider: Provider, minutes: int, sitters: int) -> int:
    """Cost of a visit in sixtieths of a penny: sitter-minutes x pence per hour."""
    return minutes * sitters * provider.cost_per_hour_pence


def night_load(two: int, one: int, shared: int, shared_ratio: int) -> int:
    """Staff a night needs (H5): 2 per two_to_one, 1 per one_to_one, shared in groups."""
    return 2 * two + one + math.ceil(shared / shared_ratio)


def clock_of(step_idx: int, step_minutes: int) -> str:
    """The "HH:MM" wall-clock time at which time step ``step_idx`` begins."""
    minutes = step_idx * step_minutes
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def tenths_km(km: float) -> int:
    return round(km * 10)


# ------------------------------------------------------------------ compile


def compile_problem(
    problem: Problem, previous: Plan | None = None, *, reasons: bool = True
) -> Compiled:
    """Build the solver input for ``problem``.

    Parameters
    ----------
    problem
        A validated problem.
    previous
        The previous plan when re-planning; options that keep its choices are marked.
    reasons
        Note why each option left out was left out (``Compiled.removed``, which the
        explanations of unmet requests read). The what-if simulation, which explains
        nothing, compiles faster without; the solver input is the same.
    """
    return _Compiler(problem, previous, reasons).run()


class _Compiler:
    def __init__(self, problem: Problem, previous: Plan | None, reasons: bool = True):
        self.p = problem
        self.reasons = reasons
        self.w = problem.weights
        self.nights = problem.horizon.nights
        self.night_idx = {night: i for i, night in enumerate(self.nights)}
        self.cases = problem.case_by_id()
        self.case_ids = [case.case_id for case in problem.cases]
        self.case_idx = {cid: i for i, cid in enumerate(self.case_ids)}
        self.unit_ids = [unit.unit_id for unit in problem.units]
        self.unit_idx = {uid: i for i, uid in enumerate(self.unit_ids)}
        self.provider_ids = [prov.provider_id for prov in problem.providers]
        self.provider_idx = {pid: i for i, pid in enumerate(self.provider_ids)}
        self.step = _step_minutes(problem)
        self.steps_per_day = MINUTES_PER_DAY // self.step
        self.removed: dict[tuple[str, str | None], list[Removed]] = defaultdict(list)
        self.conflicts: list[str] = []
        self.seen: set[tuple[tuple[str, str | None], UnmetReason, str]] = set()
        self.limits: list[sd.CaseLimits] = []
        self._fits_cache: dict[tuple[int, int, int], list[list[bool]]] = {}
        self._serving_cache: dict[str, tuple[list[tuple[int, float]], list[Removed]]] = {}
        self._fitting_cache: dict[tuple[int, frozenset[str]], list[tuple[int, list[int]]]] = {}
        self._km_cache: dict[str, list[float]] = {}
        self._room_cache: dict[tuple[int, int], list[int]] = {}
        self._wary = {c.case_id for c in problem.cases if c.incompatible_with} | {
            other for c in problem.cases for other in c.incompatible_with
        }
        self.previous_stays = {
            s.request_id: (s.unit_id, s.first_night) for s in (previous.stays if previous else [])
        }
        self.previous_visits = {
            (v.request_id, v.visit_id): (v.provider_id, v.day, v.start)
            for v in (previous.visits if previous else [])
        }
        self.booked_stays = [b for b in problem.bookings if isinstance(b, StayBooking)]
        self.booked_visits = [b for b in problem.bookings if isinstance(b, VisitBooking)]

    def run(self) -> Compiled:
        units = [self._unit_nights(unit) for unit in self.p.units]
        classes, class_infos = self._bed_classes()
        case_limits = self.limits = self._case_limits()
        providers = [self._provider_week(prov) for prov in self.p.providers]
        budgets = self._budgets()
        stay_requests, stay_options, stay_models = self._stays(units, classes, class_infos)
        visits, visit_options, visit_models = self._visits(providers, case_limits)
        data = sd.SolverInput(
            num_nights=len(self.nights),
            step_minutes=self.step,
            steps_per_day=self.steps_per_day,
            night_units=self.w.night_units,
            units=units,
            bed_classes=classes,
            stay_requests=stay_requests,
            stay_options=stay_options,
            visits=visits,
            visit_options=visit_options,
            providers=providers,
            cases=case_limits,
            incompatible=self._incompatible_pairs(),
            budgets=budgets,
            spot_units=[i for i, unit in enumerate(self.p.units) if unit.spot],
        )
        return Compiled(
            problem=self.p,
            data=data,
            nights=self.nights,
            stay_requests=stay_models,
            visits=visit_models,
            case_ids=self.case_ids,
            unit_ids=self.unit_ids,
            provider_ids=self.provider_ids,
            classes=class_infos,
            booked_stays=self.booked_stays,
            booked_visits=self.booked_visits,
            removed=dict(self.removed),
            booking_conflicts=self.conflicts,
        )

    # -------------------------------------------------------------- capacity tables

    def _unit_nights(self, unit: Unit) -> sd.UnitNights:
        n = len(self.nights)
        counts = {kind: [0] * n for kind in ("shared", "one_to_one", "two_to_one")}
        for booking in self.booked_stays:
            if booking.unit_id != unit.unit_id:
                continue
            support = self.cases[booking.case_id].night_support
            for night in booking.night_list:
                if night in self.night_idx:
                    counts[support][self.night_idx[night]] += 1
        table = sd.UnitNights(
            staff=[unit.staff_on(night) for night in self.nights],
            shared_ratio=unit.shared_ratio,
            booked_shared=counts["shared"],
            booked_one=counts["one_to_one"],
            booked_two=counts["two_to_one"],
        )
        for i, night in enumerate(self.nights):
            load = night_load(
                table.booked_two[i], table.booked_one[i], table.booked_shared[i], unit.shared_ratio
            )
            if load > table.staff[i]:
                self.conflicts.append(
                    f"H5 bookings in unit {unit.unit_id} need {load} staff on {night}, "
                    f"it has {table.staff[i]}"
                )
        return table

    def _bed_booked_nights(self) -> dict[str, list[StayBooking]]:
        by_bed: dict[str, list[StayBooking]] = defaultdict(list)
        for booking in self.booked_stays:
            by_bed[booking.bed_id].append(booking)
        return by_bed

    def _bed_classes(self) -> tuple[list[sd.BedClass], list[ClassInfo]]:
        """Interchangeable beds: same unit, same features, no booking in the horizon.

        A bed with a booking is a class of its own, so that colouring stays exact.
        """
        booked = self._bed_booked_nights()
        n = len(self.nights)
        classes: list[sd.BedClass] = []
        infos: list[ClassInfo] = []
        for unit_idx, unit in enumerate(self.p.units):
            groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
            for bed in unit.beds:
                features = tuple(sorted(set(bed.features)))
                if booked.get(bed.bed_id):
                    free = self._free_nights(bed.bed_id, booked[bed.bed_id])
                    classes.append(sd.BedClass(unit=unit_idx, free=free, num_beds=1))
                    ids = sorted({b.booking_id for b in booked[bed.bed_id]})
                    infos.append(ClassInfo(unit.unit_id, [bed.bed_id], features, ids))
                else:
                    groups[features].append(bed.bed_id)
            for features, bed_ids in sorted(groups.items()):
                classes.append(
                    sd.BedClass(unit=unit_idx, free=[len(bed_ids)] * n, num_beds=len(bed_ids))
                )
                infos.append(ClassInfo(unit.unit_id, bed_ids, features))
        return classes, infos

    def _free_nights(self, bed_id: str, bookings: list[StayBooking]) -> list[int]:
        free = [1] * len(self.nights)
        for booking in bookings:
            for night in booking.night_list:
                idx = self.night_idx.get(night)
                if idx is None:
                    continue
                if free[idx] == 0:
                    self.conflicts.append(f"H1 bed {bed_id} is booked twice on {night}")
                free[idx] = 0
        return free

    def _case_limits(self) -> list[sd.CaseLimits]:
        booked_nights: dict[str, int] = defaultdict(int)
        for stay in self.booked_stays:
            booked_nights[stay.case_id] += sum(1 for n in stay.night_list if n in self.night_idx)
        booked_minutes: dict[str, int] = defaultdict(int)
        busy: dict[str, list[list[int]]] = {}
        for booking in self.booked_visits:
            booked_minutes[booking.case_id] += booking.minutes
            day = (booking.day - self.p.week_start).days
            if 0 <= day < 7:
                grid = busy.setdefault(
                    booking.case_id, [[0] * self.steps_per_day for _ in range(7)]
                )
                first = minutes_of(booking.start) // self.step
                for t in range(first, first + booking.minutes // self.step):
                    grid[day][t] = 1
        limits = []
        for case in self.p.cases:
            cid = case.case_id
            nights_left = case.nights_allowance - case.nights_used - booked_nights[cid]
            minutes_left = round(60 * case.sitting_hours_per_week) - booked_minutes[cid]
            if nights_left < 0 and booked_nights[cid]:
                self.conflicts.append(f"H8 bookings of case {cid} exceed its nights allowance")
            if minutes_left < 0:
                self.conflicts.append(f"H8 bookings of case {cid} exceed its sitting hours")
            limits.append(
                sd.CaseLimits(max(nights_left, 0), max(minutes_left, 0), busy.get(cid, []))
            )
        return limits

    def _provider_week(self, provider: Provider) -> sd.ProviderWeek:
        free = []
        for day in range(7):
            weekday = WEEKDAYS[(self.p.week_start + dt.timedelta(days=day)).weekday()]
            row = [0] * self.steps_per_day
            for shift in provider.sitters.get(weekday, []):
                for t in range(
                    minutes_of(shift.start) // self.step, minutes_of(shift.end) // self.step
                ):
                    row[t] += shift.count
            free.append(row)
        used = 0
        for booking in self.booked_visits:
            if booking.provider_id != provider.provider_id:
                continue
            used += booking.minutes * booking.sitters
            day = (booking.day - self.p.week_start).days
            if not 0 <= day < 7:
                continue
            first = minutes_of(booking.start) // self.step
            for t in range(first, first + booking.minutes // self.step):
                free[day][t] -= booking.sitters
                if free[day][t] < 0:
                    self.conflicts.append(
                        f"H9 bookings of provider {provider.provider_id} need more sitters "
                        f"than are on shift on {booking.day} at {booking.start}"
                    )
                    free[day][t] = 0
        cap = round(60 * provider.weekly_hours_cap)
        if used > cap:
            self.conflicts.append(
                f"H9 bookings of provider {provider.provider_id} exceed its weekly hours cap"
            )
        return sd.ProviderWeek(free=free, minutes_left=max(cap - used, 0))

    def _budgets(self) -> list[sd.Budget]:
        units = self.p.unit_by_id()
        providers = self.p.provider_by_id()
        budgets = []
        for budget in self.p.budgets:
            spent = 0
            owners = set(budget.applies_to)
            for stay in self.booked_stays:
                if stay.unit_id in owners:
                    inside = sum(1 for n in stay.night_list if n in self.night_idx)
                    spent += stay_cost60(units[stay.unit_id], inside)
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
                    units=sorted(self.unit_idx[o] for o in owners if o in self.unit_idx),
                    providers=sorted(
                        self.provider_idx[o] for o in owners if o in self.provider_idx
                    ),
                )
            )
        return budgets

    def _incompatible_pairs(self) -> list[tuple[int, int]]:
        pairs = set()
        for case in self.p.cases:
            a = self.case_idx[case.case_id]
            for other in case.incompatible_with:
                b = self.case_idx[other]
                pairs.add((min(a, b), max(a, b)))
        return sorted(pairs)

    # -------------------------------------------------------------- stays

    def _stays(
        self, units: list[sd.UnitNights], classes: list[sd.BedClass], infos: list[ClassInfo]
    ) -> tuple[list[sd.StayRequest], list[sd.StayOption], list[StayRequest]]:
        booked_requests = {b.request_id for b in self.booked_stays}
        residents = self._booked_residents()
        classes_of_unit: dict[int, list[int]] = defaultdict(list)
        for class_idx, bed_class in enumerate(classes):
            classes_of_unit[bed_class.unit].append(class_idx)
        requests: list[sd.StayRequest] = []
        options: list[sd.StayOption] = []
        models: list[StayRequest] = []
        for request in self.p.requests:
            if not isinstance(request, StayRequest) or request.request_id in booked_requests:
                continue
            case = self.cases[request.case_id]
            request_idx = len(requests)
            requests.append(
                sd.StayRequest(
                    case=self.case_idx[case.case_id],
                    priority=PRIORITY_INDEX[request.priority],
                    nights=request.nights,
                    support=SUPPORT_INDEX[case.night_support],
                    need=need_of(case, request.received, self.p.week_start, self.w),
                    arrival=request.received.toordinal(),
                )
            )
            models.append(request)
            options.extend(
                self._stay_options(
                    request, request_idx, case, units, classes, infos, classes_of_unit, residents
                )
            )
        return requests, options, models

    def _booked_residents(self) -> dict[tuple[str, int], set[str]]:
        """Cases in each (unit, night) from confirmed bookings, for H4."""
        residents: dict[tuple[str, int], set[str]] = defaultdict(set)
        for booking in self.booked_stays:
            for night in booking.night_list:
                if night in self.night_idx:
                    residents[(booking.unit_id, self.night_idx[night])].add(booking.case_id)
        return residents

    def _remove(
        self, key: tuple[str, str | None], reason: UnmetReason, where: str, detail: str
    ) -> None:
        """Note what a filter removed: once per (request or visit, reason, place)."""
        if self.reasons and (key, reason, where) not in self.seen:
            self.seen.add((key, reason, where))
            self.removed[key].append(Removed(reason, where, detail))

    def _starts(self, request: StayRequest) -> range:
        """Night indices a stay may start on (H6: inside the horizon, whole)."""
        first = self.nights[0]
        earliest = max((request.earliest_start - first).days, 0)
        latest = min((request.latest_start - first).days, len(self.nights) - request.nights)
        return range(earliest, latest + 1)

    def _stay_options(
        self,
        request: StayRequest,
        request_idx: int,
        case: Case,
        units: list[sd.UnitNights],
        classes: list[sd.BedClass],
        infos: list[ClassInfo],
        classes_of_unit: dict[int, list[int]],
        residents: dict[tuple[str, int], set[str]],
    ) -> list[sd.StayOption]:
        key = (request.request_id, None)
        if "stay" not in case.eligible:
            self._remove(key, "not_eligible", "", "this person is not eligible for respite stays")
            return []
        left = self._nights_left(case)
        if left < request.nights:
            self._remove(
                key,
                "allowance_used",
                "",
                f"only {left} of the {case.nights_allowance} nights allowed this year "
                f"{'is' if left == 1 else 'are'} left; the stay asked for {request.nights}",
            )
            return []
        starts = self._starts(request)
        if not starts:
            self._remove(
                key,
                "no_suitable_bed",
                "",
                f"no start from {request.earliest_start} to {request.latest_start} fits "
                f"{request.nights} nights inside the plan's nights "
                f"{self.nights[0]}..{self.nights[-1]}",
            )
            return []
        options: list[sd.StayOption] = []
        needs = frozenset(case.bed_needs)
        support = SUPPORT_INDEX[case.night_support]
        wary = case.case_id in self._wary  # H4 concerns this case at all
        nights = request.nights
        kms = self._km_to_units(case)
        for unit_idx, unit in enumerate(self.p.units):
            fitting = self._fitting_classes(unit_idx, needs, classes_of_unit, classes, infos)
            km = kms[unit_idx]
            if self._unit_refuses(request, case, unit, bool(fitting), km):
                continue
            room = self._staff_room(unit_idx, support, units[unit_idx])
            cost = stay_cost60(unit, nights)
            travel = tenths_km(km)
            # _remove keeps the first reason per place only: the later ones are not made.
            short_staffed = taken = not self.reasons
            for start in starts:
                if room[start] < nights:
                    if not short_staffed:
                        short_staffed = True
                        self._no_staff(units[unit_idx], start + room[start], case, key, unit)
                    continue
                if wary and self._resident_conflict(case, unit, start, nights, residents, key):
                    continue
                for class_idx, free_run in fitting:
                    if free_run[start] < nights:
                        if not taken:
                            taken = True
                            self._remove(
                                key,
                                "beds_taken",
                                unit.unit_id,
                                f"bed {infos[class_idx].bed_ids[0]} in {unit.name} is held on "
                                f"the nights asked by confirmed booking "
                                f"{', '.join(infos[class_idx].booked_by)}",
                            )
                        continue
                    kept = self.previous_stays.get(request.request_id) == (
                        unit.unit_id,
                        self.nights[start],
                    )
                    options.append(
                        sd.StayOption(
                            request=request_idx,
                            bed_class=class_idx,
                            start=start,
                            cost=cost,
                            travel=travel,
                            points=stay_points(request, case, unit, self.nights[start], self.w),
                            kept=int(kept),
                            premium=cost if unit.spot else 0,
                        )
                    )
        return options

    def _fitting_classes(
        self,
        unit_idx: int,
        needs: frozenset[str],
        classes_of_unit: dict[int, list[int]],
        classes: list[sd.BedClass],
        infos: list[ClassInfo],
    ) -> list[tuple[int, list[int]]]:
        """The unit's bed classes with every feature in ``needs`` (H2), each with its
        free runs (``[night]``: for how many nights from it a bed of the class is free,
        H1). Made once per unit and needs."""
        cache_key = (unit_idx, needs)
        found = self._fitting_cache.get(cache_key)
        if found is None:
            found = self._fitting_cache[cache_key] = [
                (c, _runs([f >= 1 for f in classes[c].free]))
                for c in classes_of_unit[unit_idx]
                if needs <= set(infos[c].features)
            ]
        return found

    def _km_to_units(self, case: Case) -> list[float]:
        """``[unit]``: the distance from the case's home to each unit (H7), once per case."""
        kms = self._km_cache.get(case.case_id)
        if kms is None:
            home = case.home
            kms = self._km_cache[case.case_id] = [
                km_between(home.lat, home.lon, unit.location.lat, unit.location.lon)
                for unit in self.p.units
            ]
        return kms

    def _staff_room(self, unit_idx: int, support: int, table: sd.UnitNights) -> list[int]:
        """``[night]``: for how many nights from it one more occupant of ``support``
        keeps the unit's staffing (H5) with the bookings alone. Once per unit and support."""
        cache_key = (unit_idx, support)
        room = self._room_cache.get(cache_key)
        if room is None:
            room = self._room_cache[cache_key] = _runs(
                [
                    self._staff_needed(table, support, n) <= table.staff[n]
                    for n in range(len(self.nights))
                ]
            )
        return room

    def _nights_left(self, case: Case) -> int:
        return self.limits[self.case_idx[case.case_id]].nights_left

    def _unit_refuses(
        self, request: StayRequest, case: Case, unit: Unit, has_fitting_bed: bool, km: float
    ) -> bool:
        """H3 and H2 first (is the unit suitable at all?), then H7 (is it near enough?):
        a suitable unit too far away is nearer to serving than an unsuitable one."""
        refusal = _unit_refusal(request, case, unit, has_fitting_bed, km)
        if refusal is not None and self.reasons:
            reason, detail = refusal
            self._remove((request.request_id, None), reason, unit.unit_id, detail())
        return refusal is not None

    @staticmethod
    def _staff_needed(table: sd.UnitNights, support: int, night: int) -> int:
        """Night staff the unit needs on ``night`` with its bookings and one more
        occupant of ``support`` (H5)."""
        two = table.booked_two[night] + (support == sd.TWO_TO_ONE)
        one = table.booked_one[night] + (support == sd.ONE_TO_ONE)
        shared = table.booked_shared[night] + (support == sd.SHARED)
        return night_load(two, one, shared, table.shared_ratio)

    def _no_staff(
        self,
        table: sd.UnitNights,
        n: int,
        case: Case,
        key: tuple[str, str | None],
        unit: Unit,
    ) -> None:
        """Note night ``n``, without the staff for one more."""
        need = self._staff_needed(table, SUPPORT_INDEX[case.night_support], n)
        self._remove(
            key,
            "no_night_staff",
            unit.unit_id,
            f"{unit.name} would need {need} night staff on {self.nights[n]}, "
            f"it has {table.staff[n]}",
        )

    def _resident_conflict(
        self,
        case: Case,
        unit: Unit,
        start: int,
        nights: int,
        residents: dict[tuple[str, int], set[str]],
        key: tuple[str, str | None],
    ) -> bool:
        for n in range(start, start + nights):
            for other in residents.get((unit.unit_id, n), ()):
                if (
                    other in case.incompatible_with
                    or case.case_id in self.cases[other].incompatible_with
                ):
                    self._remove(
                        key,
                        "incompatible_resident",
                        unit.unit_id,
                        f"a resident who cannot share with this person is booked in "
                        f"{unit.name} on {self.nights[n]}",
                    )
                    return True
        return False

    # -------------------------------------------------------------- visits

    def _visits(
        self, providers: list[sd.ProviderWeek], limits: list[sd.CaseLimits]
    ) -> tuple[list[sd.Visit], list[sd.VisitOption], list[tuple[SittingRequest, Visit]]]:
        booked = {(b.request_id, b.visit_id) for b in self.booked_visits}
        visits: list[sd.Visit] = []
        options: list[sd.VisitOption] = []
        models: list[tuple[SittingRequest, Visit]] = []
        request_count = 0
        for request in self.p.requests:
            if not isinstance(request, SittingRequest):
                continue
            case = self.cases[request.case_id]
            need = need_of(case, request.received, self.p.week_start, self.w)
            for visit in request.visits:
                if (request.request_id, visit.visit_id) in booked:
                    continue
                visit_idx = len(visits)
                visits.append(
                    sd.Visit(
                        case=self.case_idx[case.case_id],
                        priority=PRIORITY_INDEX[request.priority],
                        minutes=visit.minutes,
                        sitters=2 if request.double_handed else 1,
                        need=need,
                        request=request_count,
                        arrival=request.received.toordinal(),
                    )
                )
                models.append((request, visit))
                options.extend(
                    self._visit_options(request, visit, visit_idx, case, providers, limits)
                )
            request_count += 1
        return visits, options, models

    def _visit_options(
        self,
        request: SittingRequest,
        visit: Visit,
        visit_idx: int,
        case: Case,
        providers: list[sd.ProviderWeek],
        limits: list[sd.CaseLimits],
    ) -> list[sd.VisitOption]:
        key = (request.request_id, visit.visit_id)
        if "sitting" not in case.eligible:
            self._remove(key, "not_eligible", "", "this person is not eligible for sitting")
            return []
        case_limits = limits[self.case_idx[case.case_id]]
        if case_limits.minutes_left < visit.minutes:
            self._remove(
                key,
                "allowance_used",
                "",
                f"only {case_limits.minutes_left} of this week's "
                f"{round(60 * case.sitting_hours_per_week)} sitting minutes are left; "
                f"the visit needs {visit.minutes}",
            )
            return []
        slots = self._visit_slots(visit, key)
        sitters = 2 if request.double_handed else 1
        steps = visit.minutes // self.step
        busy = case_limits.busy
        kept_at = self.previous_visits.get(key)
        options: list[sd.VisitOption] = []
        serving, refusals = self._serving(case)
        if refusals and self.reasons:  # providers not covering the area or lacking a skill
            self.removed[key].extend(refusals)
        for provider_idx, km in serving:
            provider = self.p.providers[provider_idx]
            limit = min(provider.max_travel_km, request.max_travel_km)
            if km > limit + 1e-9:
                self._remove(
                    key,
                    "too_far",
                    provider.provider_id,
                    f"{provider.name} is {km:.0f} km away, the limit is {limit:.0f} km",
                )
                continue
            week = providers[provider_idx]
            if week.minutes_left < visit.minutes * sitters:
                self._remove(
                    key,
                    "provider_hours_used",
                    provider.provider_id,
                    f"{provider.name} has used its contracted hours this week",
                )
                continue
            fits = self._fits(provider_idx, week, steps, sitters)
            cost = visit_cost60(provider, visit.minutes, sitters)
            travel = tenths_km(km)
            points = visit_points(case, provider, self.w)
            for day, start in slots:
                if not fits[day][start]:
                    # _remove keeps the first reason only; asking first saves making the
                    # sentence for every slot of a busy provider.
                    if (key, "no_sitter_free", provider.provider_id) not in self.seen:
                        self._remove(
                            key,
                            "no_sitter_free",
                            provider.provider_id,
                            f"{provider.name} has no sitter free on "
                            f"{self.p.week_start + dt.timedelta(days=day)} at "
                            f"{self._clock(start)}",
                        )
                    continue
                if busy and any(busy[day][t] for t in range(start, start + steps)):
                    self._remove(
                        key, "no_sitter_free", provider.provider_id, "another visit is booked then"
                    )
                    continue
                kept = kept_at is not None and kept_at == (
                    provider.provider_id,
                    self.p.week_start + dt.timedelta(days=day),
                    self._clock(start),
                )
                options.append(
                    sd.VisitOption(
                        visit=visit_idx,
                        provider=provider_idx,
                        day=day,
                        start=start,
                        steps=steps,
                        cost=cost,
                        travel=travel,
                        points=points,
                        kept=int(kept),
                    )
                )
        return options

    def _fits(
        self, provider_idx: int, week: sd.ProviderWeek, steps: int, sitters: int
    ) -> list[list[bool]]:
        """``[day][start]``: ``sitters`` of the provider are free for ``steps`` from ``start``.

        Made once per provider, length and sitters (the tables do not change while
        compiling); a start whose span runs past the day does not fit.
        """
        cache_key = (provider_idx, steps, sitters)
        fits = self._fits_cache.get(cache_key)
        if fits is None:
            fits = []
            for free in week.free:
                ends = len(free) - steps + 1
                day = [min(free[t : t + steps]) >= sitters for t in range(max(ends, 0))]
                fits.append(day + [False] * (len(free) - len(day)))
            self._fits_cache[cache_key] = fits
        return fits

    def _clock(self, step_idx: int) -> str:
        return clock_of(step_idx, self.step)

    def _visit_slots(self, visit: Visit, key: tuple[str, str | None]) -> list[tuple[int, int]]:
        """(day, start step) pairs inside the visit's windows and the week (H10)."""
        slots: list[tuple[int, int]] = []
        for window in visit.windows:
            day = (window.day - self.p.week_start).days
            if not 0 <= day < 7:
                self._remove(
                    key, "no_sitter_free", "", f"window on {window.day} is outside the week planned"
                )
                continue
            first = minutes_of(window.start) // self.step
            last = (minutes_of(window.end) - visit.minutes) // self.step
            slots.extend((day, t) for t in range(first, last + 1))
        return slots

    def _serving(self, case: Case) -> tuple[list[tuple[int, float]], list[Removed]]:
        """The providers that may serve the case (H9: area and skills), with their distance
        from base to home; and why each of the others may not. Made once per case."""
        found = self._serving_cache.get(case.case_id)
        if found is None:
            serving: list[tuple[int, float]] = []
            refusals: list[Removed] = []
            for provider_idx, provider in enumerate(self.p.providers):
                missing = set(case.sitting_skills) - set(provider.skills)
                if case.locality_id not in provider.localities:
                    detail = f"{provider.name} does not cover the area"
                elif missing:
                    detail = f"{provider.name} has no sitters with {', '.join(sorted(missing))}"
                else:
                    home, base = case.home, provider.base
                    serving.append(
                        (provider_idx, km_between(base.lat, base.lon, home.lat, home.lon))
                    )
                    continue
                refusals.append(Removed("no_provider", provider.provider_id, detail))
            found = self._serving_cache[case.case_id] = (serving, refusals)
        return found


def _unit_refusal(
    request: StayRequest, case: Case, unit: Unit, has_fitting_bed: bool, km: float
) -> tuple[UnmetReason, Callable[[], str]] | None:
    """Why the unit cannot take the request at all, or None: the reason and its sentence
    (made only when asked for)."""
    if not unit.age_min <= case.age <= unit.age_max:
        return (
            "no_suitable_bed",
            lambda: (
                f"{unit.name} takes ages {unit.age_min}-{unit.age_max}, the person is {case.age}"
            ),
        )
    if unit.sex_policy not in ("any", case.sex):
        return "no_suitable_bed", lambda: f"{unit.name} is {unit.sex_policy} only"
    if not has_fitting_bed:
        return (
            "no_suitable_bed",
            lambda: f"{unit.name} has no bed with {', '.join(sorted(case.bed_needs))}",
        )
    if km > request.max_travel_km + 1e-9:
        return (
            "too_far",
            lambda: f"{unit.name} is {km:.0f} km away, the limit is {request.max_travel_km:.0f} km",
        )
    return None


def _runs(ok: list[bool]) -> list[int]:
    """``[i]``: how many of ``ok[i], ok[i + 1], ...`` are true before the first false."""
    runs = [0] * (len(ok) + 1)
    for i in range(len(ok) - 1, -1, -1):
        runs[i] = runs[i + 1] + 1 if ok[i] else 0
    return runs[:-1]


def _step_minutes(problem: Problem) -> int:
    """The time step: the gcd of every clock time and length that sitting uses."""
    values = [MINUTES_PER_DAY]
    for provider in problem.providers:
        for shifts in provider.sitters.values():
            for shift in shifts:
                values += [minutes_of(shift.start), minutes_of(shift.end)]
    for request in problem.requests:
        if isinstance(request, SittingRequest):
            for visit in request.visits:
                values.append(visit.minutes)
                for window in visit.windows:
                    values += [minutes_of(window.start), minutes_of(window.end)]
    for booking in problem.bookings:
        if isinstance(booking, VisitBooking):
            values += [minutes_of(booking.start), booking.minutes]
    return reduce(math.gcd, values)
