"""Turn an engine's chosen options back into a plan file.

Stays are given concrete beds by colouring: within a bed class every bed is
free for the whole horizon, so taking stays by first night and giving each
the first bed already free again uses no more beds than the busiest night
needs (interval graphs colour exactly).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from scheduler.compile import Compiled
from scheduler.explain import explain_unmet
from scheduler.kpis import compute_kpis
from scheduler.model import ExtraStaff, Plan, PlannedStay, PlannedVisit, SolverInfo
from solver.solution import Solution

__all__ = ["extra_staff", "new_items", "plan_from_solution"]


def plan_from_solution(compiled: Compiled, solution: Solution) -> Plan:
    """The plan file of ``solution``: bookings, new stays with beds, visits, unmet, KPIs."""
    stays = _booked_stays(compiled) + _new_stays(compiled, solution)
    visits = _booked_visits(compiled) + _new_visits(compiled, solution)
    stays.sort(key=lambda s: (s.first_night, s.unit_id, s.bed_id, s.request_id))
    visits.sort(key=lambda v: (v.day, v.start, v.provider_id, v.request_id, v.visit_id))
    unmet = explain_unmet(compiled, solution, stays)
    return Plan(
        stays=stays,
        visits=visits,
        extra_staff=extra_staff(stays),
        unmet=unmet,
        kpis=compute_kpis(compiled.problem, stays, visits),
        solver=SolverInfo(
            engine=solution.engine,
            status=solution.status,
            seconds=round(solution.seconds, 3),
            seed=solution.seed,
        ),
    )


def new_items(
    compiled: Compiled, solution: Solution
) -> tuple[list[PlannedStay], list[PlannedVisit]]:
    """The stays (beds coloured) and visits ``solution`` adds to the bookings, without
    the explanations of unmet requests (the what-if simulation needs only these)."""
    return _new_stays(compiled, solution), _new_visits(compiled, solution)


def _booked_stays(compiled: Compiled) -> list[PlannedStay]:
    return [
        PlannedStay(
            request_id=b.request_id,
            case_id=b.case_id,
            unit_id=b.unit_id,
            bed_id=b.bed_id,
            first_night=b.first_night,
            nights=b.nights,
            extra_night_staff=b.extra_night_staff,
        )
        for b in compiled.booked_stays
    ]


def _booked_visits(compiled: Compiled) -> list[PlannedVisit]:
    return [
        PlannedVisit(
            request_id=b.request_id,
            visit_id=b.visit_id,
            case_id=b.case_id,
            provider_id=b.provider_id,
            day=b.day,
            start=b.start,
            minutes=b.minutes,
            sitters=b.sitters,
        )
        for b in compiled.booked_visits
    ]


def _new_stays(compiled: Compiled, solution: Solution) -> list[PlannedStay]:
    data = compiled.data
    by_class: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for request_idx, opt_idx in solution.stays.items():
        opt = data.stay_options[opt_idx]
        nights = data.stay_requests[request_idx].nights
        by_class[opt.bed_class].append((opt.start, nights, request_idx, opt.extra))
    stays = []
    for class_idx, items in by_class.items():
        beds = compiled.classes[class_idx].bed_ids
        free_from = [0] * len(beds)
        for start, nights, request_idx, extra in sorted(items):
            bed = next(b for b in range(len(beds)) if free_from[b] <= start)
            free_from[bed] = start + nights
            request = compiled.stay_requests[request_idx]
            stays.append(
                PlannedStay(
                    request_id=request.request_id,
                    case_id=request.case_id,
                    unit_id=compiled.classes[class_idx].unit_id,
                    bed_id=beds[bed],
                    first_night=compiled.nights[start],
                    nights=nights,
                    extra_night_staff=extra,
                )
            )
    return stays


def extra_staff(stays: list[PlannedStay]) -> list[ExtraStaff]:
    """The agency night staff of ``stays`` (bookings included) in each unit on each
    night they bring any (H5), by night then unit."""
    count: dict[tuple[dt.date, str], int] = defaultdict(int)
    for stay in stays:
        if stay.extra_night_staff:
            for night in stay.night_list:
                count[(night, stay.unit_id)] += stay.extra_night_staff
    return [
        ExtraStaff(unit_id=unit_id, night=night, count=n)
        for (night, unit_id), n in sorted(count.items())
    ]


def _new_visits(compiled: Compiled, solution: Solution) -> list[PlannedVisit]:
    data = compiled.data
    visits = []
    for visit_idx, opt_idx in solution.visits.items():
        vopt = data.visit_options[opt_idx]
        sitting, visit = compiled.visits[visit_idx]
        visits.append(
            PlannedVisit(
                request_id=sitting.request_id,
                visit_id=visit.visit_id,
                case_id=sitting.case_id,
                provider_id=compiled.provider_ids[vopt.provider],
                day=compiled.day_of(vopt.day),
                start=compiled.clock(vopt.start),
                minutes=visit.minutes,
                sitters=2 if sitting.double_handed else 1,
            )
        )
    return visits
