"""The objective of ``shared/spec/domain.md``, evaluated on a plan.

Every engine's plan is scored by :func:`evaluate`, so that plans from
different engines compare. The tiers (most important first) are those of
:data:`solver.data.TIERS`:

1. ``crisis_units`` then ``health_appointment_units``: served demand of crisis,
   then of health-appointment requests (a night is ``night_units`` units, a
   sitting minute 1);
2. ``need_weighted_units``: served units times the request's need
   (:func:`scheduler.compile.need_of`);
3. ``preference_points``: preferred start, preferred unit, continuity;
4. ``cost`` (sixtieths of a penny: what the plan adds to the spend, H12, so a
   block bed's night is 0; spot nights count double, so that a spot bed stays
   dear; agency night staff and sitters at their price) then ``travel`` (tenths
   of a km), both negated;
5. ``kept``: choices of the previous plan kept (re-planning only).

Tiers compare lexicographically. The single number ``objective`` is the
weighted sum with weights derived from each tier's range, so that every tier
dominates all the tiers after it: see :mod:`solver.tiers`.
"""

from __future__ import annotations

from scheduler.compile import (
    Compiled,
    extra_staff_cost60,
    need_of,
    stay_cost60,
    stay_points,
    tenths_km,
    visit_cost60,
    visit_points,
)
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
        cost += extra_staff_cost60(unit, stay.nights, stay.extra_night_staff)
        km = km_between(case.home.lat, case.home.lon, unit.location.lat, unit.location.lon)
        kept = previous.get(stay.request_id) == (stay.unit_id, stay.first_night)
        _add(
            totals,
            request.priority,
            units_served,
            need_of(case, request.received, problem.week_start, weights),
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
            need_of(case, sitting.received, problem.week_start, weights),
            visit_points(case, provider, weights),
            visit_cost60(provider, visit.minutes, visit.sitters),
            tenths_km(km),
            kept,
        )
    return totals


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
