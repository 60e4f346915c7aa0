"""The independent plan checker: does a plan keep every rule of the spec?

Every engine (greedy, CP-SAT) and every manual booking made through the API is
trusted because this module says so, so it shares no code with the solver: it
imports neither OR-Tools nor anything from ``solver/``, and reads the rules
straight from ``shared/spec/domain.md``.

:func:`check` returns every :class:`Violation`, each with a rule code:

``PLAN``
    The plan does not fit the problem: an unknown request, visit, unit, bed or
    provider; a stay for a sitting request or a visit for a stay request; a
    ``case_id`` other than its request's; a visit's ``minutes`` other than
    the request's; ``sitters`` other than 2 for a double-handed request, else 1.
    Items with an unknown reference are left out of the rule checks.
``H1`` .. ``H12``, ``H12b``, ``H13``
    The hard rules of the spec, one private function each (``_h1_one_bed`` ...
    ``_h13_crisis_reserve``), each testing the rule's predicate of :mod:`scheduler.rules`
    (which the synthetic generator books with too). Choices made where the spec
    is silent:

    - the plan's stays and visits are what is checked; bookings, confirmed or
      offered, are among them (a booking missing from the plan, or changed, its
      ``extra_night_staff`` included, is an ``H11`` violation);
    - H1 and H4 look at every night of a stay, H5 only at nights inside the
      horizon (the nights that have a staff figure to plan with);
    - H5 counts each stay's ``extra_night_staff`` as staff on its nights; the plan's
      ``extra_staff`` must say, for every unit and night inside the horizon, the sum
      of them (no entry when it is 0); an entry for a night outside the horizon
      must be that sum too;
    - a stay that is a booking, unchanged, is exempt from the start window and the
      horizon (H6) and from H12b (the spot bed was bought when it was booked);
      other stays must lie inside the horizon;
    - weekly figures (H8 sitting hours, H9 contracted hours) count the visits of
      the 7 days from ``week_start``; a visit that is not a booking must be in that
      week (H10); a visit is of the day of the window it lies in (one starting 01:00
      in Sunday night's window is Sunday's), else of its own ``day``;
    - times of sitting are absolute: a visit, a window or a shift whose end is at
      or before its start runs into the next day, and sitters (H9) count on the
      day each minute falls on (a Sunday-night visit runs into the Monday after,
      whose rota is that week's Monday's);
    - H8 allowance, H12 budgets and H13 count a stay's nights inside the horizon
      (H13 only from ``planned_on + policy.reserve_release_days``); requests of a
      ``policy.allowance_exempt`` priority draw on no allowance; a night on or
      after the case's next allowance year start counts in that year, from 0;
    - distances (H7) are compared with a tolerance of 1e-6 km; money (H12) is
      compared exactly in sixtieths of a penny.
``UNMET``
    A stay request without a stay, or a visit without a planned visit, that
    is not listed in ``unmet``; an ``unmet`` entry for something planned, or
    listed twice, or with a reason not in the spec's list. A sitting request
    with no visit planned may be listed once per visit or once with no
    ``visit_id`` (meaning all its visits).
``ALT``
    An ``unmet`` entry's alternative that is not true: its stay or visit is not for
    the unmet request (or visit) itself, or, added alone to the plan, it breaks a
    hard rule (H1..H13, budgets included) other than what its ``relaxes`` names:
    ``start_window`` (the request's earliest/latest start), ``travel`` (H7 for the
    placement), ``visit_window`` (its H10 window), ``spot_approval`` (H12b for it),
    ``night_staff`` (H5, by at most one more member of staff on the unit on the
    stay's nights). The message names the request and the rule broken. Only what
    the placement adds is blamed (a violation the plan has without it is the plan's).
``KPI``
    A named figure of ``plan.kpis`` differs from :func:`scheduler.kpis.compute_kpis`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from scheduler import rules
from scheduler.geo import km_between
from scheduler.kpis import compute_kpis, in_week, nights_in_horizon
from scheduler.model import (
    UNMET_REASONS,
    WEEKDAYS,
    Alternative,
    Bed,
    Case,
    Plan,
    PlannedStay,
    PlannedVisit,
    Point,
    Problem,
    Provider,
    SittingRequest,
    StayBooking,
    StayRequest,
    Unit,
    Unmet,
    Visit,
    VisitBooking,
    Window,
    minutes_of,
)

__all__ = ["RULES", "Violation", "check", "summary"]

RULES = ("PLAN", *(f"H{n}" for n in range(1, 13)), "H12b", "H13", "UNMET", "ALT", "KPI")
DAY_MINUTES = 24 * 60
KPI_FIELDS = (
    "nights_requested",
    "nights_served",
    "sitting_minutes_requested",
    "sitting_minutes_served",
    "crisis_served_ratio",
    "bed_occupancy",
    "sitter_utilisation",
    "cost_pence",
    "travel_km",
)


@dataclass(frozen=True)
class Violation:
    """One broken rule.

    Attributes
    ----------
    rule
        One of :data:`RULES`: "PLAN", "H1".."H12", "H12b", "H13", "UNMET", "ALT", "KPI".
    message
        What is wrong, naming the items, the date and the numbers.
    """

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule} {self.message}"


# ---------------------------------------------------------------------- public


def check(problem: Problem, plan: Plan, *, check_kpis: bool = True) -> list[Violation]:
    """Check a plan against every hard rule, the unmet list and the KPI block.

    Parameters
    ----------
    problem
        The problem the plan answers.
    plan
        The plan, confirmed bookings included in its stays and visits.
    check_kpis
        Whether to compare ``plan.kpis`` with the recomputed figures.

    Returns
    -------
    list of Violation
        Every violation, without repeats, sorted by rule (PLAN, H1..H13, UNMET,
        ALT, KPI) then message; empty when the plan is valid.
    """
    ctx = _resolve(problem, plan)
    violations = set(ctx.structural)
    for rule in _RULE_CHECKS:
        violations.update(rule(ctx))
    violations.update(_unmet_listed(ctx))
    violations.update(_false_alternatives(ctx))
    if check_kpis:
        violations.update(_kpi_figures(ctx))
    return sorted(violations, key=lambda v: (RULES.index(v.rule), v.message))


def summary(problem: Problem, plan: Plan) -> str:
    """One line saying whether a plan is valid and what it gives.

    Returns
    -------
    str
        E.g. ``"valid: 38 stays (152 nights), 240 visits (412.5 h), 57 unmet;
        cost £12,345.67"``, or ``"invalid (3 violations: H1 x2, H5): ..."``.
    """
    violations = check(problem, plan)
    kpis = compute_kpis(problem, plan.stays, plan.visits)
    verdict = "valid"
    if violations:
        counts = Counter(v.rule for v in violations)
        broken = ", ".join(
            f"{r} x{counts[r]}" if counts[r] > 1 else r for r in RULES if r in counts
        )
        verdict = f"invalid ({_count(len(violations), 'violation')}: {broken})"
    return (
        f"{verdict}: {len(plan.stays)} stays ({kpis.nights_served} nights), "
        f"{len(plan.visits)} visits ({kpis.sitting_minutes_served / 60:.1f} h), "
        f"{len(plan.unmet)} unmet; cost {_pounds(kpis.cost_pence)}"
    )


# ------------------------------------------------------------- resolved items


@dataclass(frozen=True)
class _Stay:
    item: PlannedStay
    request: StayRequest
    case: Case
    unit: Unit
    bed: Bed
    booked: bool

    @property
    def name(self) -> str:
        return f"stay {self.item.request_id}"


@dataclass(frozen=True)
class _Visit:
    item: PlannedVisit
    request: SittingRequest
    case: Case
    provider: Provider
    visit: Visit
    booked: bool
    start: int  # absolute minutes (see scheduler.rules): past midnight is the next day
    end: int

    @property
    def ref(self) -> str:
        return f"{self.item.request_id}/{self.item.visit_id}"

    @property
    def name(self) -> str:
        return f"visit {self.ref}"

    @property
    def when(self) -> str:
        return f"{self.item.day} {_clock(self.start)}-{_clock(self.end)}"

    @property
    def week_day(self) -> dt.date:
        """The day whose week the visit counts in: that of a window it lies in (a visit
        from 01:00 in a Sunday night's window is Sunday's), else its own."""
        days = [window.day for window in self.visit.windows if _in_window(self, window)]
        return min(days, default=self.item.day)


@dataclass(frozen=True)
class _Context:
    problem: Problem
    plan: Plan
    stays: list[_Stay]
    visits: list[_Visit]
    structural: list[Violation]


def _resolve(problem: Problem, plan: Plan) -> _Context:
    resolver = _Resolver(problem)
    stays = [stay for item in plan.stays if (stay := resolver.stay(item)) is not None]
    visits = [visit for item in plan.visits if (visit := resolver.visit(item)) is not None]
    for entry in plan.extra_staff:
        if entry.unit_id not in resolver.units:
            resolver.flag(f"extra_staff unit_id {entry.unit_id} is not a unit")
    return _Context(problem, plan, stays, visits, resolver.violations)


class _Resolver:
    """Looks up what each planned item names; what cannot be found is a PLAN violation."""

    def __init__(self, problem: Problem):
        self.requests = problem.request_by_id()
        self.cases = problem.case_by_id()
        self.units = problem.unit_by_id()
        self.providers = problem.provider_by_id()
        self.beds = {bed.bed_id: (unit.unit_id, bed) for unit in problem.units for bed in unit.beds}
        self.booked_stays = {_stay_key(b) for b in problem.bookings if isinstance(b, StayBooking)}
        self.booked_visits = {
            _visit_key(b) for b in problem.bookings if isinstance(b, VisitBooking)
        }
        self.violations: list[Violation] = []

    def flag(self, message: str) -> None:
        self.violations.append(Violation("PLAN", message))

    def stay(self, item: PlannedStay) -> _Stay | None:
        request = self.requests.get(item.request_id)
        problem = self._stay_problem(item, request)
        if problem is not None:
            self.flag(f"stay {item.request_id} {problem}")
            return None
        assert isinstance(request, StayRequest)
        case = self._case(f"stay {item.request_id}", item.case_id, request.case_id)
        unit, bed = self.units[item.unit_id], self.beds[item.bed_id][1]
        return _Stay(item, request, case, unit, bed, _stay_key(item) in self.booked_stays)

    def _stay_problem(
        self, item: PlannedStay, request: StayRequest | SittingRequest | None
    ) -> str | None:
        if request is None:
            return "names no request (request_id is unknown)"
        if not isinstance(request, StayRequest):
            return "is for a sitting request"
        if item.unit_id not in self.units:
            return f"unit_id {item.unit_id} is not a unit"
        if self.beds.get(item.bed_id, ("", None))[0] != item.unit_id:
            return f"bed_id {item.bed_id} is not a bed of unit {item.unit_id}"
        return None

    def visit(self, item: PlannedVisit) -> _Visit | None:
        where = f"visit {item.request_id}/{item.visit_id}"
        request = self.requests.get(item.request_id)
        visit = self._find_visit(where, item, request)
        if visit is None:
            return None
        assert isinstance(request, SittingRequest)
        case = self._case(where, item.case_id, request.case_id)
        self._check_size(where, item, visit, request)
        start = _absolute(item.day, item.start)
        booked = _visit_key(item) in self.booked_visits
        provider = self.providers[item.provider_id]
        return _Visit(item, request, case, provider, visit, booked, start, start + item.minutes)

    def _find_visit(
        self, where: str, item: PlannedVisit, request: StayRequest | SittingRequest | None
    ) -> Visit | None:
        if request is None:
            self.flag(f"{where} names no request (request_id is unknown)")
        elif not isinstance(request, SittingRequest):
            self.flag(f"{where} is for a stay request")
        elif item.provider_id not in self.providers:
            self.flag(f"{where} provider_id {item.provider_id} is not a provider")
        else:
            found = [v for v in request.visits if v.visit_id == item.visit_id]
            if found:
                return found[0]
            self.flag(f"{where} visit_id {item.visit_id} is not a visit of its request")
        return None

    def _case(self, where: str, item_case_id: str, request_case_id: str) -> Case:
        if item_case_id != request_case_id:
            self.flag(f"{where} case_id {item_case_id} is not its request's case {request_case_id}")
        return self.cases[request_case_id]

    def _check_size(
        self, where: str, item: PlannedVisit, visit: Visit, request: SittingRequest
    ) -> None:
        if item.minutes != visit.minutes:
            self.flag(f"{where} lasts {item.minutes} minutes, the visit asks {visit.minutes}")
        sitters = 2 if request.double_handed else 1
        if item.sitters != sitters:
            self.flag(f"{where} has {_count(item.sitters, 'sitter')}, the request needs {sitters}")


def _stay_key(stay: PlannedStay | StayBooking) -> tuple[object, ...]:
    return (
        stay.request_id,
        stay.case_id,
        stay.unit_id,
        stay.bed_id,
        stay.first_night,
        stay.nights,
        stay.extra_night_staff,
    )


def _visit_key(visit: PlannedVisit | VisitBooking) -> tuple[object, ...]:
    return (
        visit.request_id,
        visit.visit_id,
        visit.case_id,
        visit.provider_id,
        visit.day,
        minutes_of(visit.start),
        visit.minutes,
        visit.sitters,
    )


# ------------------------------------------------------------------ the rules


def _h1_one_bed(ctx: _Context) -> Iterator[Violation]:
    holders: defaultdict[tuple[str, dt.date], list[str]] = defaultdict(list)
    for stay in ctx.stays:
        for night in stay.item.night_list:
            holders[(stay.bed.bed_id, night)].append(stay.item.request_id)
    for (bed_id, night), request_ids in holders.items():
        if not rules.h1_bed_night_ok(len(request_ids)):
            yield Violation("H1", f"bed {bed_id} night {night} holds {_and(request_ids)}")


def _h2_bed_fits(ctx: _Context) -> Iterator[Violation]:
    for stay in ctx.stays:
        missing = rules.h2_missing_features(stay.case.bed_needs, stay.bed.features)
        if missing:
            yield Violation(
                "H2",
                f"bed {stay.bed.bed_id} lacks {', '.join(missing)} "
                f"for case {stay.case.case_id} ({stay.name})",
            )


def _h3_unit_admits(ctx: _Context) -> Iterator[Violation]:
    for stay in ctx.stays:
        case, unit = stay.case, stay.unit
        where = f"unit {unit.unit_id} does not admit case {case.case_id} ({stay.name})"
        if not rules.h3_age_ok(case.age, unit.age_min, unit.age_max):
            yield Violation("H3", f"{where}: age {case.age}, unit {unit.age_min}..{unit.age_max}")
        if not rules.h3_sex_ok(case.sex, unit.sex_policy):
            yield Violation("H3", f"{where}: {case.sex}, unit {unit.sex_policy} only")


def _h4_compatibility(ctx: _Context) -> Iterator[Violation]:
    residents: defaultdict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for stay in ctx.stays:
        for night in stay.item.night_list:
            residents[(stay.unit.unit_id, night)].add(stay.case.case_id)
    cases = {stay.case.case_id: stay.case for stay in ctx.stays}
    for (unit_id, night), case_ids in residents.items():
        ordered = sorted(case_ids)
        pairs = [
            (first, second)
            for i, first in enumerate(ordered)
            for second in ordered[i + 1 :]
            if rules.h4_cannot_share(
                first, cases[first].incompatible_with, second, cases[second].incompatible_with
            )
        ]
        for first, second in pairs:
            yield Violation(
                "H4", f"unit {unit_id} night {night} holds incompatible cases {first} and {second}"
            )


def _h5_night_staffing(ctx: _Context) -> Iterator[Violation]:
    occupants: defaultdict[tuple[str, dt.date], Counter[str]] = defaultdict(Counter)
    extra: Counter[tuple[str, dt.date]] = Counter()
    for stay in ctx.stays:
        for night in _horizon_nights(ctx.problem, stay.item):
            occupants[(stay.unit.unit_id, night)][stay.case.night_support] += 1
            extra[(stay.unit.unit_id, night)] += stay.item.extra_night_staff
    units = ctx.problem.unit_by_id()
    for (unit_id, night), support in occupants.items():
        unit, added = units[unit_id], extra[(unit_id, night)]
        needed = rules.h5_staff_needed(
            support["two_to_one"], support["one_to_one"], support["shared"], unit.shared_ratio
        )
        where = f"unit {unit_id} night {night}"
        if not rules.h5_staff_ok(needed, unit.staff_on(night), added):
            agency = f" and {added} agency" if added else ""
            yield Violation(
                "H5", f"{where} needs {needed} staff, has {unit.staff_on(night)}{agency}"
            )
        if not rules.h5_extra_ok(added, unit.extra_night_staff_max):
            yield Violation(
                "H5",
                f"{where} adds {added} agency staff, at most {unit.extra_night_staff_max}",
            )


def _h5_extra_staff_listed(ctx: _Context) -> Iterator[Violation]:
    """The plan's ``extra_staff`` is the sum of its stays' ``extra_night_staff``."""
    brought: Counter[tuple[str, dt.date]] = Counter()
    for stay in ctx.stays:
        for night in stay.item.night_list:
            brought[(stay.unit.unit_id, night)] += stay.item.extra_night_staff
    listed: Counter[tuple[str, dt.date]] = Counter()
    units = ctx.problem.unit_by_id()
    for entry in ctx.plan.extra_staff:
        if entry.unit_id in units:  # else a PLAN violation
            listed[(entry.unit_id, entry.night)] += entry.count
    horizon = ctx.problem.horizon
    for key in sorted(set(brought) | set(listed)):
        inside = horizon.first_night <= key[1] <= horizon.last_night
        if listed[key] != brought[key] and (inside or key in listed):
            unit_id, night = key
            yield Violation(
                "H5",
                f"extra_staff for unit {unit_id} night {night} is {listed[key]}, "
                f"its stays bring {brought[key]}",
            )


def _horizon_nights(problem: Problem, stay: PlannedStay) -> list[dt.date]:
    horizon = problem.horizon
    return [n for n in stay.night_list if horizon.first_night <= n <= horizon.last_night]


def _h6_whole_stays(ctx: _Context) -> Iterator[Violation]:
    for stay in ctx.stays:
        yield from _h6_one_stay(ctx.problem, stay)
    counts = Counter(stay.item.request_id for stay in ctx.stays)
    for request_id, count in counts.items():
        if count > 1:
            yield Violation("H6", f"request {request_id} has {count} stays, at most 1 allowed")


def _h6_one_stay(problem: Problem, stay: _Stay) -> Iterator[Violation]:
    item, request, horizon = stay.item, stay.request, problem.horizon
    if item.nights != request.nights:
        yield Violation(
            "H6",
            f"{stay.name} has {_count(item.nights, 'night')}, the request asks {request.nights}",
        )
    if stay.booked:  # a confirmed booking stands even if it began before this horizon
        return
    if not request.earliest_start <= item.first_night <= request.latest_start:
        yield Violation(
            "H6",
            f"{stay.name} starts {item.first_night}, outside "
            f"{request.earliest_start}..{request.latest_start}",
        )
    last = item.night_list[-1]
    if item.first_night < horizon.first_night or last > horizon.last_night:
        yield Violation(
            "H6",
            f"{stay.name} nights {item.first_night}..{last} leave the horizon "
            f"{horizon.first_night}..{horizon.last_night}",
        )


def _h7_travel(ctx: _Context) -> Iterator[Violation]:
    yield from _h7_stays(ctx)
    yield from _h7_visits(ctx)


def _h7_stays(ctx: _Context) -> Iterator[Violation]:
    for stay in ctx.stays:
        km = _km(stay.case.home, stay.unit.location)
        if not rules.h7_within_travel(km, stay.request.max_travel_km):
            yield Violation(
                "H7",
                f"{stay.name} unit {stay.unit.unit_id} is {km:.3f} km from case "
                f"{stay.case.case_id}, the request allows {stay.request.max_travel_km:g} km",
            )


def _h7_visits(ctx: _Context) -> Iterator[Violation]:
    for visit in ctx.visits:
        km = _km(visit.provider.base, visit.case.home)
        limits = {"provider": visit.provider.max_travel_km, "request": visit.request.max_travel_km}
        for whose, limit in limits.items():
            if not rules.h7_within_travel(km, limit):
                yield Violation(
                    "H7",
                    f"{visit.name} provider {visit.provider.provider_id} base is {km:.3f} km "
                    f"from case {visit.case.case_id}, the {whose} allows {limit:g} km",
                )


def _h8_eligibility_allowance(ctx: _Context) -> Iterator[Violation]:
    yield from _h8_eligible(ctx)
    yield from _h8_nights_allowance(ctx)
    yield from _h8_sitting_hours(ctx)


def _h8_eligible(ctx: _Context) -> Iterator[Violation]:
    items: list[tuple[str, Case, str]] = [(s.name, s.case, "stay") for s in ctx.stays]
    items += [(v.name, v.case, "sitting") for v in ctx.visits]
    for name, case, kind in items:
        if not rules.h8_eligible(kind, case.eligible):
            yield Violation("H8", f"case {case.case_id} is not eligible for {kind} ({name})")


def _h8_nights_allowance(ctx: _Context) -> Iterator[Violation]:
    problem = ctx.problem
    planned: Counter[tuple[str, bool]] = Counter()  # (case, in its next year): nights
    for stay in ctx.stays:
        if problem.policy.exempt(stay.request.priority):
            continue
        fresh = problem.fresh_year(stay.case)
        for night in _horizon_nights(problem, stay.item):
            planned[(stay.case.case_id, rules.h8_fresh_year_night(night, fresh))] += 1
    cases = {stay.case.case_id: stay.case for stay in ctx.stays}
    for (case_id, next_year), nights in sorted(planned.items()):
        case = cases[case_id]
        used = 0 if next_year else case.nights_used
        if rules.h8_nights_ok(used, nights, case.nights_allowance):
            continue
        if next_year:
            fresh = problem.fresh_year(case)
            said = f"has {_count(nights, 'night')} planned from {fresh}, its next year"
        else:
            said = f"nights_used {used} + {nights} planned = {used + nights}"
        yield Violation("H8", f"case {case_id} {said}, over allowance {case.nights_allowance}")


def _h8_sitting_hours(ctx: _Context) -> Iterator[Violation]:
    problem = ctx.problem
    planned: Counter[str] = Counter()
    for visit in ctx.visits:
        drawing = not problem.policy.exempt(visit.request.priority)
        if drawing and in_week(problem, visit.week_day):
            planned[visit.case.case_id] += visit.item.minutes
    cases = {visit.case.case_id: visit.case for visit in ctx.visits}
    weeks = problem.policy.sitting_bank_weeks
    for case_id, minutes in planned.items():
        case = cases[case_id]
        hours, banked = case.sitting_hours_per_week, case.sitting_hours_banked
        if not rules.h8_sitting_minutes_ok(minutes, hours, banked, weeks):
            entitled = 60 * (hours + min(banked, weeks * hours))
            yield Violation(
                "H8",
                f"case {case_id} has {minutes} sitting minutes planned in the week, "
                f"entitled to {entitled:g}",
            )


def _h9_on_shift(ctx: _Context) -> Iterator[Violation]:
    by_provider: defaultdict[str, list[_Visit]] = defaultdict(list)
    for visit in ctx.visits:
        by_provider[visit.provider.provider_id].append(visit)
    for visits in by_provider.values():
        yield from _overbooked(visits[0].provider, visits)


def _overbooked(provider: Provider, visits: list[_Visit]) -> Iterator[Violation]:
    """Sweep the changes in busy and on-shift sitters, in absolute minutes (a night shift
    or visit runs on past midnight); report each over-full stretch."""
    busy_change: Counter[int] = Counter()
    shift_change: Counter[int] = Counter()
    days: set[dt.date] = set()
    for visit in visits:
        busy_change[visit.start] += visit.item.sitters
        busy_change[visit.end] -= visit.item.sitters
        # a shift on duty at a minute of the visit began that day or the day before
        first, last = _date_of(visit.start) - dt.timedelta(days=1), _date_of(visit.end - 1)
        days.update(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    for day in days:
        for shift in provider.sitters.get(WEEKDAYS[day.weekday()], []):
            start = _absolute(day, shift.start)
            shift_change[start] += shift.count
            shift_change[start + shift.length] -= shift.count
    busy = on_shift = 0
    reported: tuple[int, int] | None = None
    for minute in sorted(set(busy_change) | set(shift_change)):
        busy, on_shift = busy + busy_change[minute], on_shift + shift_change[minute]
        state = None if rules.h9_sitters_ok(busy, on_shift) else (busy, on_shift)
        if state is not None and state != reported:
            yield Violation(
                "H9",
                f"provider {provider.provider_id} {_date_of(minute)} {_clock(minute)} "
                f"has {_count(busy, 'sitter')} busy, {on_shift} on shift",
            )
        reported = state


def _h9_weekly_hours(ctx: _Context) -> Iterator[Violation]:
    yield from _over_weekly_cap(ctx.problem, _weekly_sitter_minutes(ctx))


def _weekly_sitter_minutes(ctx: _Context) -> Counter[str]:
    planned: Counter[str] = Counter()
    for visit in ctx.visits:
        planned[visit.provider.provider_id] += _week_sitter_minutes(ctx.problem, visit)
    return planned


def _week_sitter_minutes(problem: Problem, visit: _Visit) -> int:
    """A visit's sitter-minutes counted in the week's contracted hours (H9)."""
    in_the_week = in_week(problem, visit.week_day)
    return visit.item.minutes * visit.item.sitters if in_the_week else 0


def _over_weekly_cap(problem: Problem, planned: Counter[str]) -> Iterator[Violation]:
    providers = problem.provider_by_id()
    for provider_id, sitter_minutes in planned.items():
        hours_cap = providers[provider_id].weekly_hours_cap
        if not rules.h9_weekly_minutes_ok(sitter_minutes, hours_cap):
            cap = 60 * hours_cap
            yield Violation(
                "H9",
                f"provider {provider_id} has {sitter_minutes} sitter-minutes planned in the "
                f"week, cap {cap:g}",
            )


def _h9_coverage(ctx: _Context) -> Iterator[Violation]:
    for visit in ctx.visits:
        provider, case = visit.provider, visit.case
        if not rules.h9_covers(case.locality_id, provider.localities):
            yield Violation(
                "H9",
                f"provider {provider.provider_id} does not serve locality {case.locality_id} "
                f"of case {case.case_id} ({visit.name})",
            )
        missing = rules.h9_missing_skills(case.sitting_skills, provider.skills)
        if missing:
            yield Violation(
                "H9",
                f"provider {provider.provider_id} lacks {', '.join(missing)} "
                f"for case {case.case_id} ({visit.name})",
            )


def _h10_visit_windows(ctx: _Context) -> Iterator[Violation]:
    yield from _h10_in_window(ctx)
    yield from _h10_no_overlap(ctx)
    counts = Counter((v.item.request_id, v.item.visit_id) for v in ctx.visits)
    for (request_id, visit_id), count in counts.items():
        if count > 1:
            yield Violation("H10", f"visit {request_id}/{visit_id} is planned {count} times")


def _h10_in_window(ctx: _Context) -> Iterator[Violation]:
    for visit in ctx.visits:
        if not any(_in_window(visit, window) for window in visit.visit.windows):
            yield Violation("H10", f"{visit.name} {visit.when} is outside its windows")
        elif not visit.booked and not in_week(ctx.problem, visit.week_day):
            yield Violation(
                "H10",
                f"{visit.name} {visit.item.day} is outside the week from {ctx.problem.week_start}",
            )


def _in_window(visit: _Visit, window: Window) -> bool:
    start = _absolute(window.day, window.start)
    return rules.h10_within(visit.start, visit.end, start, start + window.length)


def _h10_no_overlap(ctx: _Context) -> Iterator[Violation]:
    by_case: defaultdict[str, list[_Visit]] = defaultdict(list)
    for visit in ctx.visits:
        by_case[visit.case.case_id].append(visit)
    for case_id, visits in by_case.items():
        ordered = sorted(visits, key=lambda v: (v.start, v.end, v.name))
        latest = ordered[0]  # of the visits so far, the one ending last
        for visit in ordered[1:]:
            if rules.h10_overlap(visit.start, visit.end, latest.start, latest.end):
                yield Violation(
                    "H10",
                    f"case {case_id} visits {latest.ref} {latest.when} and "
                    f"{visit.ref} {visit.when} overlap",
                )
            if visit.end > latest.end:
                latest = visit


def _h11_bookings_stand(ctx: _Context) -> Iterator[Violation]:
    stays = {_stay_key(stay) for stay in ctx.plan.stays}
    visits = {_visit_key(visit) for visit in ctx.plan.visits}
    for booking in ctx.problem.bookings:
        if isinstance(booking, StayBooking):
            kept = _stay_key(booking) in stays
        else:
            kept = _visit_key(booking) in visits
        if not kept:
            yield Violation(
                "H11", f"booking {booking.booking_id} ({_booked(booking)}) is missing or changed"
            )


def _booked(booking: StayBooking | VisitBooking) -> str:
    if isinstance(booking, StayBooking):
        extra = booking.extra_night_staff
        agency = f", {extra} agency staff a night" if extra else ""
        return (
            f"stay {booking.request_id} bed {booking.bed_id} from {booking.first_night}, "
            f"{_count(booking.nights, 'night')}{agency}"
        )
    return (
        f"visit {booking.request_id}/{booking.visit_id} provider {booking.provider_id} "
        f"{booking.day} {booking.start}, {booking.minutes} min, {_count(booking.sitters, 'sitter')}"
    )


def _h12_budgets(ctx: _Context) -> Iterator[Violation]:
    yield from _over_budget(ctx.problem, _spend60(ctx))


def _spend60(ctx: _Context) -> Counter[str]:
    """What the plan adds, by unit and provider, in sixtieths of a penny (so that
    sitter-minutes x pence per hour stay exact)."""
    cost60: Counter[str] = Counter()
    for stay in ctx.stays:
        cost60[stay.unit.unit_id] += _stay_cost60(ctx.problem, stay)
    for visit in ctx.visits:
        cost60[visit.provider.provider_id] += _visit_cost60(visit)
    return cost60


def _stay_cost60(problem: Problem, stay: _Stay) -> int:
    nights = nights_in_horizon(problem, stay.item.first_night, stay.item.nights)
    unit = stay.unit
    return rules.h12_stay_cost60(
        unit.spot,
        nights,
        unit.cost_per_night_pence,
        stay.item.extra_night_staff,
        unit.extra_night_staff_cost_pence,
    )


def _visit_cost60(visit: _Visit) -> int:
    sitter_minutes = visit.item.minutes * visit.item.sitters
    return rules.h12_visit_cost60(sitter_minutes, visit.provider.cost_per_hour_pence)


def _over_budget(problem: Problem, cost60: Counter[str]) -> Iterator[Violation]:
    for budget in problem.budgets:
        planned60 = sum(cost60[owner] for owner in set(budget.applies_to))
        if not rules.h12_budget_ok(planned60, budget.limit_pence):
            yield Violation(
                "H12",
                f"budget {budget.budget_id} planned {_pounds(-(-planned60 // 60))} "
                f"over limit {_pounds(budget.limit_pence)}",
            )


def _h12b_spot_purchase(ctx: _Context) -> Iterator[Violation]:
    policy = ctx.problem.policy
    for stay in ctx.stays:
        request = stay.request
        if stay.booked or rules.h12b_spot_ok(
            stay.unit.spot, request.priority, request.exceptional, policy.spot_for
        ):
            continue
        allowed = ", ".join(policy.spot_for) or "no priority"
        yield Violation(
            "H12b",
            f"{stay.name} is in spot unit {stay.unit.unit_id}, but {request.request_id} is "
            f"{request.priority} and not exceptional (spot_for: {allowed})",
        )


def _h13_crisis_reserve(ctx: _Context) -> Iterator[Violation]:
    problem = ctx.problem
    release_days = problem.policy.reserve_release_days
    held: defaultdict[tuple[str, dt.date], list[_Stay]] = defaultdict(list)
    for stay in ctx.stays:
        if stay.unit.crisis_reserve_beds == 0 or stay.request.priority == "crisis":
            continue
        for night in _horizon_nights(problem, stay.item):
            if rules.h13_reserve_applies(night, problem.planning_date, release_days):
                held[(stay.unit.unit_id, night)].append(stay)
    for (unit_id, night), stays in sorted(held.items(), key=lambda pair: pair[0]):
        yield from _reserve_taken(unit_id, night, stays)


def _reserve_taken(unit_id: str, night: dt.date, stays: list[_Stay]) -> Iterator[Violation]:
    unit = stays[0].unit
    booked = sum(stay.booked for stay in stays)
    new = [stay.item.request_id for stay in stays if not stay.booked]
    if not rules.h13_reserve_ok(booked, len(new), unit.block_beds, unit.crisis_reserve_beds):
        cap = unit.block_beds - unit.crisis_reserve_beds
        yield Violation(
            "H13",
            f"unit {unit_id} night {night} holds {_count(len(stays), 'non-crisis stay')} "
            f"({booked} booked; new {_and(new)}), at most {cap} "
            f"with {_count(unit.crisis_reserve_beds, 'bed')} held for crisis",
        )


_RULE_CHECKS: tuple[Callable[[_Context], Iterable[Violation]], ...] = (
    _h1_one_bed,
    _h2_bed_fits,
    _h3_unit_admits,
    _h4_compatibility,
    _h5_night_staffing,
    _h5_extra_staff_listed,
    _h6_whole_stays,
    _h7_travel,
    _h8_eligibility_allowance,
    _h9_on_shift,
    _h9_weekly_hours,
    _h9_coverage,
    _h10_visit_windows,
    _h11_bookings_stand,
    _h12_budgets,
    _h12b_spot_purchase,
    _h13_crisis_reserve,
)


# An alternative's placement, added alone to the plan, is judged by these: H11 and the
# plan's extra_staff list are about the plan as written (the placement's agency staff
# are taken as listed); H9's weekly hours and H12 are judged on the plan's totals plus
# the placement's (see _AlternativeJudge).
_PLACEMENT_CHECKS = tuple(
    rule
    for rule in _RULE_CHECKS
    if rule not in (_h5_extra_staff_listed, _h9_weekly_hours, _h11_bookings_stand, _h12_budgets)
)


# ------------------------------------------------------------- alternatives


def _false_alternatives(ctx: _Context) -> Iterator[Violation]:
    judge: _AlternativeJudge | None = None
    for entry in ctx.plan.unmet:
        alternative = entry.alternative
        if alternative is None or (alternative.stay is None and alternative.visit is None):
            continue
        judge = judge or _AlternativeJudge(ctx)
        name = (
            entry.request_id if entry.visit_id is None else f"{entry.request_id}/{entry.visit_id}"
        )
        for fault in judge.faults(entry, alternative):
            yield Violation("ALT", f"alternative for {name} {fault}")


class _AlternativeJudge:
    """Adds one alternative's placement to the plan and says what it breaks beyond what
    its ``relaxes`` names.

    Only some items can break a rule together with the placement: the stays of its
    case, and those in its unit on one of its nights (H1, H4, H5, H6, H8, H13); the
    visits of its case, and those of its provider that share a minute with it (H8, H9,
    H10). The rules run on those alone, with and without the placement, and what is
    new is the placement's; the week's sitter-minutes (H9) and budgets (H12) are judged
    on the plan's totals plus the placement's. A county plan may carry a thousand
    alternatives: each costs a handful of items.
    """

    def __init__(self, ctx: _Context):
        self.ctx = ctx
        self.resolver = _Resolver(ctx.problem)
        self.stays: defaultdict[tuple[str, str], list[_Stay]] = defaultdict(list)
        for stay in ctx.stays:
            self.stays[("unit", stay.unit.unit_id)].append(stay)
            self.stays[("case", stay.case.case_id)].append(stay)
        self.visits: defaultdict[tuple[str, str], list[_Visit]] = defaultdict(list)
        for visit in ctx.visits:
            self.visits[("provider", visit.provider.provider_id)].append(visit)
            self.visits[("case", visit.case.case_id)].append(visit)
        self.spend60 = _spend60(ctx)
        self.sitter_minutes = _weekly_sitter_minutes(ctx)

    def faults(self, entry: Unmet, alternative: Alternative) -> list[str]:
        """What is wrong with the alternative, each a phrase after its request's name."""
        wrong = _not_for_entry(entry, alternative)
        if wrong is not None:
            return [wrong]
        self.resolver.violations = []
        relaxes: set[str] = set(alternative.relaxes)
        placed: _Stay | _Visit | None
        if alternative.stay is not None:
            placed = self.resolver.stay(alternative.stay)
        else:
            assert alternative.visit is not None
            placed = self.resolver.visit(alternative.visit)
        if self.resolver.violations or placed is None:
            return [
                f"is not a placement the plan could hold: {v.message}"
                for v in self.resolver.violations
            ]
        new = (
            self._stay_breaks(placed, relaxes)
            if isinstance(placed, _Stay)
            else (self._visit_breaks(placed, relaxes))
        )
        ordered = sorted(set(new), key=lambda v: (RULES.index(v.rule), v.message))
        return [f"breaks {v.rule}: {v.message}" for v in ordered]

    def _stay_breaks(self, stay: _Stay, relaxes: set[str]) -> list[Violation]:
        problem, plan = self.ctx.problem, self.ctx.plan
        nights = set(stay.item.night_list)
        near = _each_once(
            [s for s in self.stays[("unit", stay.unit.unit_id)] if nights & set(s.item.night_list)]
            + self.stays[("case", stay.case.case_id)]
        )
        relaxed_problem, relaxed = _relax_stay(problem, stay, relaxes)
        before = _Context(problem, plan, near, [], [])
        after = _Context(relaxed_problem, plan, [*near, relaxed], [], [])
        spend60 = self.spend60.copy()
        spend60[stay.unit.unit_id] += _stay_cost60(problem, stay)
        had = {*_placement_checks(before), *_over_budget(problem, self.spend60)}
        now = [*_placement_checks(after), *_over_budget(problem, spend60)]
        return [v for v in now if v not in had]

    def _visit_breaks(self, visit: _Visit, relaxes: set[str]) -> list[Violation]:
        problem, plan = self.ctx.problem, self.ctx.plan
        provider_id = visit.provider.provider_id
        near = _each_once(
            [
                v
                for v in self.visits[("provider", provider_id)]
                if rules.h10_overlap(v.start, v.end, visit.start, visit.end)
            ]
            + self.visits[("case", visit.case.case_id)]
        )
        before = _Context(problem, plan, [], near, [])
        after = _Context(problem, plan, [], [*near, _relax_visit(visit, relaxes)], [])
        spend60 = self.spend60.copy()
        spend60[provider_id] += _visit_cost60(visit)
        minutes = self.sitter_minutes.copy()
        minutes[provider_id] += _week_sitter_minutes(problem, visit)
        had = {
            *_placement_checks(before),
            *_over_budget(problem, self.spend60),
            *_over_weekly_cap(problem, self.sitter_minutes),
        }
        now = [
            *_placement_checks(after),
            *_over_budget(problem, spend60),
            *_over_weekly_cap(problem, minutes),
        ]
        return [v for v in now if v not in had]


def _each_once(items: list[Any]) -> list[Any]:
    """The items, each once (an item may be filed under its unit and its case)."""
    return list({id(item): item for item in items}.values())


def _placement_checks(ctx: _Context) -> Iterator[Violation]:
    for rule in _PLACEMENT_CHECKS:
        yield from rule(ctx)


def _not_for_entry(entry: Unmet, alternative: Alternative) -> str | None:
    """Why the alternative's placement is not for the unmet request (or visit) itself."""
    stay, visit = alternative.stay, alternative.visit
    if stay is not None and visit is not None:
        return "gives both a stay and a visit"
    if stay is not None and (stay.request_id != entry.request_id or entry.visit_id is not None):
        return f"places request {stay.request_id}, not the one unmet"
    if visit is not None and (
        visit.request_id != entry.request_id or entry.visit_id not in (None, visit.visit_id)
    ):
        return f"places visit {visit.request_id}/{visit.visit_id}, not the one unmet"
    return None


def _relax_stay(problem: Problem, stay: _Stay, relaxes: set[str]) -> tuple[Problem, _Stay]:
    """The problem and the stay with what the alternative asks to change changed."""
    request, item = stay.request, stay.item
    changes: dict[str, Any] = {}
    if "start_window" in relaxes:
        changes["earliest_start"] = min(request.earliest_start, item.first_night)
        changes["latest_start"] = max(request.latest_start, item.first_night)
    if "travel" in relaxes:
        changes["max_travel_km"] = math.inf
    if "spot_approval" in relaxes:
        changes["exceptional"] = True
    stay = replace(stay, request=request.model_copy(update=changes))
    if "night_staff" in relaxes:  # one more member of staff on each of the stay's nights
        unit = stay.unit
        staff = dict(unit.night_staff)
        staff.update({night: unit.staff_on(night) + 1 for night in item.night_list})
        unit = unit.model_copy(update={"night_staff": staff})
        units = [unit if u.unit_id == unit.unit_id else u for u in problem.units]
        problem = problem.model_copy(update={"units": units})
        stay = replace(stay, unit=unit)
    return problem, stay


def _relax_visit(visit: _Visit, relaxes: set[str]) -> _Visit:
    """The visit with what the alternative asks to change changed."""
    if "travel" in relaxes:
        far = {"max_travel_km": math.inf}
        visit = replace(
            visit,
            request=visit.request.model_copy(update=far),
            provider=visit.provider.model_copy(update=far),
        )
    if "visit_window" in relaxes:
        item = visit.item
        window = Window(day=item.day, start=item.start, end=_clock(visit.end))
        visit = replace(visit, visit=visit.visit.model_copy(update={"windows": [window]}))
    return visit


# ----------------------------------------------------------- unmet and KPIs


def _unmet_listed(ctx: _Context) -> Iterator[Violation]:
    served_stays = {stay.request_id for stay in ctx.plan.stays}
    served_visits = {(visit.request_id, visit.visit_id) for visit in ctx.plan.visits}
    listed = Counter((entry.request_id, entry.visit_id) for entry in ctx.plan.unmet)
    requests = ctx.problem.request_by_id()
    for (request_id, visit_id), count in listed.items():
        name = request_id if visit_id is None else f"{request_id}/{visit_id}"
        if count > 1:
            yield Violation("UNMET", f"{name} is listed {count} times in unmet")
        yield from _unmet_entry(
            requests.get(request_id), name, visit_id, served_stays, served_visits
        )
    for entry in ctx.plan.unmet:
        if entry.reason not in UNMET_REASONS:
            yield Violation(
                "UNMET", f"{entry.request_id} has reason {entry.reason!r}, not in the spec"
            )
    for request in ctx.problem.requests:
        yield from _unmet_missing(request, listed, served_stays, served_visits)


def _unmet_entry(
    request: StayRequest | SittingRequest | None,
    name: str,
    visit_id: str | None,
    served_stays: set[str],
    served_visits: set[tuple[str, str]],
) -> Iterator[Violation]:
    """An entry of ``unmet`` must name something that exists and is not planned."""
    if request is None:
        yield Violation("PLAN", f"unmet {name} names no request (request_id is unknown)")
    elif isinstance(request, StayRequest):
        if visit_id is not None:
            yield Violation("UNMET", f"{name} names a visit of stay request {request.request_id}")
        elif request.request_id in served_stays:
            yield Violation("UNMET", f"{name} is listed in unmet but has a stay")
    elif visit_id is None:
        served = [
            v.visit_id for v in request.visits if (request.request_id, v.visit_id) in served_visits
        ]
        if served:
            yield Violation(
                "UNMET",
                f"{name} is listed in unmet as a whole but visits {_and(served)} are planned",
            )
    elif visit_id not in {v.visit_id for v in request.visits}:
        yield Violation("PLAN", f"unmet {name} names no visit of its request")
    elif (request.request_id, visit_id) in served_visits:
        yield Violation("UNMET", f"{name} is listed in unmet but is planned")


def _unmet_missing(
    request: StayRequest | SittingRequest,
    listed: Counter[tuple[str, str | None]],
    served_stays: set[str],
    served_visits: set[tuple[str, str]],
) -> Iterator[Violation]:
    """What is not planned must be listed in ``unmet``."""
    request_id = request.request_id
    if isinstance(request, StayRequest):
        if request_id not in served_stays and (request_id, None) not in listed:
            yield Violation("UNMET", f"request {request_id} has no stay and is not listed in unmet")
        return
    for visit in request.visits:
        key = (request_id, visit.visit_id)
        if key not in served_visits and key not in listed and (request_id, None) not in listed:
            yield Violation(
                "UNMET", f"visit {request_id}/{visit.visit_id} is not planned nor listed in unmet"
            )


def _kpi_figures(ctx: _Context) -> Iterator[Violation]:
    expected = compute_kpis(ctx.problem, ctx.plan.stays, ctx.plan.visits)
    for name in KPI_FIELDS:
        planned, recomputed = getattr(ctx.plan.kpis, name), getattr(expected, name)
        if abs(planned - recomputed) > 1e-9:
            yield Violation("KPI", f"{name} is {planned}, recomputed {recomputed}")


# ------------------------------------------------------------------- helpers


def _km(a: Point, b: Point) -> float:
    return km_between(a.lat, a.lon, b.lat, b.lon)


def _absolute(day: dt.date, clock: str) -> int:
    """Absolute minutes of ``clock`` on ``day`` (see :mod:`scheduler.rules`)."""
    return day.toordinal() * DAY_MINUTES + minutes_of(clock)


def _date_of(minute: int) -> dt.date:
    return dt.date.fromordinal(minute // DAY_MINUTES)


def _clock(minute: int) -> str:
    """The wall clock of a minute (of the day, or absolute)."""
    minute %= DAY_MINUTES
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _pounds(pence: int) -> str:
    return f"£{pence // 100:,}.{pence % 100:02d}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _and(names: Iterable[str]) -> str:
    ordered = sorted(names)
    return ", ".join(ordered[:-1]) + " and " + ordered[-1] if len(ordered) > 1 else "".join(ordered)
