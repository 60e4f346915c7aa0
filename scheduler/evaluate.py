"""The objective of ``shared/spec/domain.md``, evaluated on a plan.

Every engine's plan is scored by :func:`evaluate`, so that plans from
different engines compare. The tiers (most important first) are those of
:data:`solver.data.TIERS`:

1. ``crisis_units`` then ``health_appointment_units``: served demand of crisis,
   then of health-appointment requests (a night is ``night_units`` units, a
   sitting minute 1);
2. ``need_weighted_units``: served units times the request's need
   (:func:`scheduler.compile.need_of`), with the break bonus of each request served
   and each case's first sitting hours counted twice (:mod:`scheduler.compile.need`);
3. ``preference_points``: preferred start, preferred unit, continuity;
4. ``cost`` (sixtieths of a penny: what the plan adds to the spend, H12, so a block
   bed's night is 0; spot nights count double, agency staff-nights double and a penny
   more, so that both stay dear: :mod:`scheduler.compile.agency`; sitters at their
   price) then ``travel`` (tenths of a km), both negated;
5. ``kept``: choices of the previous plan kept (re-planning only).

Tiers compare lexicographically. The single number ``objective`` is the
weighted sum with weights derived from each tier's range, so that every tier
dominates all the tiers after it: see :mod:`solver.tiers`.
"""

from __future__ import annotations

from collections import defaultdict

from scheduler.compile import (
    Compiled,
    need_of,
    stay_cost60,
    stay_points,
    tenths_km,
    visit_cost60,
    visit_points,
)
from scheduler.compile.agency import agency_cost60, agency_premium60
from scheduler.compile.need import first_minutes, sitting_needs
from scheduler.geo import km_between
from scheduler.model import Plan, SittingRequest, StayRequest
from solver.data import TIERS

__all__ = ["evaluate"]


def evaluate(compiled: Compiled, plan: Plan) -> list[int]:
    """Tier values of ``plan`` (confirmed bookings are constant and left out)."""
    problem = compiled.problem
    booked_keys = {(b.request_id, getattr(b, "visit_id", None)) for b in problem.bookings}
    cases, units, providers = problem.case_by_id(), problem.unit_by_id(), problem.provider_by_id()
    requests = problem.request_by_id()
    weights = problem.weights
    previous = _previous_choices(compiled)
    totals = [0] * len(TIERS)
    for stay in plan.stays:
        if (stay.request_id, None) in booked_keys:
            continue
        request = requests[stay.request_id]
        assert isinstance(request, StayRequest)
        case, unit = cases[stay.case_id], units[stay.unit_id]
        units_served = stay.nights * weights.night_units
        cost = stay_cost60(unit, stay.nights) * (2 if unit.spot else 1)
        staff_nights = stay.extra_night_staff * stay.nights
        cost += agency_cost60(unit, staff_nights) + agency_premium60(unit, staff_nights)
        need = need_of(case, request.received, problem.week_start, weights)
        totals[2] += need * weights.break_bonus
        km = km_between(case.home.lat, case.home.lon, unit.location.lat, unit.location.lon)
        kept = previous.get(stay.request_id) == (stay.unit_id, stay.first_night)
        _add(
            totals,
            request.priority,
            units_served,
            need,
            stay_points(request, case, unit, stay.first_night, weights),
            cost,
            tenths_km(km),
            kept,
        )
    for visit in plan.visits:
        if (visit.request_id, visit.visit_id) in booked_keys:
            continue
        sitting = requests[visit.request_id]
        assert isinstance(sitting, SittingRequest)
        case, provider = cases[visit.case_id], providers[visit.provider_id]
        km = km_between(provider.base.lat, provider.base.lon, case.home.lat, case.home.lon)
        kept = previous.get((visit.request_id, visit.visit_id)) == (
            visit.provider_id,
            visit.day,
            visit.start,
        )
        _add(
            totals,
            sitting.priority,
            visit.minutes,
            need_of(case, sitting.received, problem.week_start, weights, "sitting"),
            visit_points(case, provider, weights),
            visit_cost60(provider, visit.minutes, visit.sitters),
            tenths_km(km),
            kept,
        )
    totals[2] += _sitting_bonus(compiled, plan)
    return totals


def _sitting_bonus(compiled: Compiled, plan: Plan) -> int:
    """What the plan's new visits add to tier 2 beyond need x minutes: each sitting
    request they serve first earns need x break_bonus, and each case's minutes up to
    its first minutes count again at its sitting need (:mod:`scheduler.compile.need`)."""
    problem = compiled.problem
    weights, requests, cases = problem.weights, problem.request_by_id(), problem.case_by_id()
    booked = {b.request_id for b in compiled.booked_visits}
    booked_keys = {(b.request_id, b.visit_id) for b in compiled.booked_visits}
    new = [v for v in plan.visits if (v.request_id, v.visit_id) not in booked_keys]
    total = 0
    for request_id in sorted({v.request_id for v in new} - booked):
        sitting = requests[request_id]
        assert isinstance(sitting, SittingRequest)
        need = need_of(
            cases[sitting.case_id], sitting.received, problem.week_start, weights, "sitting"
        )
        total += need * weights.break_bonus
    minutes: dict[str, int] = defaultdict(int)
    for visit in new:
        minutes[visit.case_id] += visit.minutes
    first, needs = first_minutes(problem, compiled.booked_visits), sitting_needs(problem)
    for case_id, served in minutes.items():
        total += needs.get(case_id, 0) * min(served, first[case_id])
    return total


def _add(
    totals: list[int],
    priority: str,
    units: int,
    need: int,
    points: int,
    cost: int,
    travel: int,
    kept: bool,
) -> None:
    totals[0] += units if priority == "crisis" else 0
    totals[1] += units if priority == "health_appointment" else 0
    totals[2] += units * need
    totals[3] += points
    totals[4] -= cost
    totals[5] -= travel
    totals[6] += int(kept)


def _previous_choices(compiled: Compiled) -> dict[object, tuple[object, ...]]:
    """What the previous plan chose, as marked on the compiled options."""
    data = compiled.data
    choices: dict[object, tuple[object, ...]] = {}
    for opt in data.stay_options:
        if opt.kept:
            request = compiled.stay_requests[opt.request]
            unit_id = compiled.classes[opt.bed_class].unit_id
            choices[request.request_id] = (unit_id, compiled.nights[opt.start])
    for vopt in data.visit_options:
        if vopt.kept:
            sitting, visit = compiled.visits[vopt.visit]
            choices[(sitting.request_id, visit.visit_id)] = (
                compiled.provider_ids[vopt.provider],
                compiled.day_of(vopt.day),
                compiled.clock(vopt.start),
            )
    return choices
