"""The KPI block of a plan, recomputed from its stays and visits.

Every engine fills ``plan.kpis`` with :func:`compute_kpis`, and the checker
(:mod:`scheduler.checker`) recomputes it, so the definitions below are the
contract for the figures in ``shared/spec/domain.md``:

``nights_requested``
    Sum of ``nights`` of every stay request.
``nights_served``
    Sum of ``nights`` of the plan's stays, as written (confirmed bookings are in
    the plan's stays, and their requests are always among the requests).
``sitting_minutes_requested``
    Sum of ``minutes`` over every visit of every sitting request.
``sitting_minutes_served``
    Sum of ``minutes`` of the plan's visits; a double-handed visit counts its
    minutes once.
``crisis_served_ratio``
    ``(crisis nights served * W + crisis minutes served) /
    (crisis nights requested * W + crisis minutes requested)`` with
    ``W = weights.night_units``; 1.0 when nothing crisis was requested;
    rounded to 4 decimals.
``bed_occupancy``
    Occupied bed-nights inside the horizon on units that are not ``spot``
    (a bed-night held twice counts once) / (beds of those units * horizon
    nights); 0 when there are no such beds; 4 decimals.
``sitter_utilisation``
    Planned sitter-minutes (``minutes * sitters``) of visits in the week from
    ``week_start`` / rota sitter-minutes of all providers in those 7 days
    (each day's weekday shifts, ``count * length``, a night shift's minutes past
    midnight included); 0 when there is no rota; 4 decimals.
``cost_pence``
    The money the plan adds, ``spend_added_pence`` below (integer pence; budgets,
    H12, count the same way). In v1 it priced every stay night at
    ``cost_per_night_pence``; a block bed is paid for by the year, so since v2 its
    nights cost nothing more and ``cost_pence`` is what a budget holder pays extra.
``travel_km``
    ``km(home, unit)`` summed over stays plus ``km(provider base, home)``
    summed over visits (once per visit, whatever the sitters), summed exactly
    (``math.fsum``, so the order of items does not matter) and rounded to 1
    decimal.

Extra figures (not checked strictly, but deterministic):

``by_priority``
    ``{priority: {nights_requested, nights_served, minutes_requested,
    minutes_served}}`` for "crisis", "health_appointment", "planned".
``requests_total``, ``requests_served``
    Requests, and requests with a stay or at least one visit planned.
``unmet_count``
    Stay requests without a stay plus sitting visits without a planned visit.
``stays_planned``, ``visits_planned``, ``sitter_minutes_served``, ``spot_nights``
    Counts of items, sitter-minutes of all visits, nights inside the horizon
    on spot units.
``spend_added_pence``
    What the plan adds (H12): ``sum(spot stay nights inside the horizon *
    cost_per_night_pence) + sum(agency staff-nights inside the horizon *
    extra_night_staff_cost_pence) + (sum(visit minutes * sitters *
    cost_per_hour_pence) + 30) // 60``; a block unit's night adds nothing.
``agency_staff_nights``
    ``sum(stay extra_night_staff * its nights inside the horizon)``: the sum of the
    counts of ``plan.extra_staff``, which holds, per unit and night, the
    ``extra_night_staff`` of the stays present (bookings included).
``block_contract_pence``
    The block units' yearly contracts prorated to the horizon: the sum over units
    not spot of ``round(block_cost_per_year_pence * horizon nights / 365)`` (each to
    the penny, half up, so that a table by unit adds up to it). Paid whether the beds
    are used or not, so it is set beside
    ``spend_added_pence``, never added to a budget.
``carer_contributions_pence``
    ``sum(stay nights inside the horizon * contribution_per_night_pence of its case)``
    over *chargeable* stays: stays whose request's priority is not in
    ``policy.allowance_exempt`` (a demand-led crisis or health-appointment stay is
    not charged, as it draws on no allowance). Bookings included; a stay whose
    request is unknown is left out.
``crisis_reserve_bed_nights_held``, ``crisis_reserve_bed_nights_released``
    For each unit with ``crisis_reserve_beds`` (H13) and each horizon night, the
    reserve beds taken by non-crisis stays are ``min(reserve, max(0, non-crisis
    stays that night - (block beds - reserve)))``. *Held*: on nights on or after
    ``planning_date + policy.reserve_release_days`` (the reserve is in force),
    ``reserve -`` that, i.e. reserve bed-nights no non-crisis stay used (left for
    crisis, whether one came or not). *Released*: on nights before then (the
    reserve is open to all), that figure, i.e. reserve bed-nights that went to
    non-crisis stays. Stays of unknown requests are left out.

Items that name an unknown request, unit, bed, provider or case (the checker
reports those as ``PLAN``) are left out of the figures that need them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from scheduler.geo import km_between
from scheduler.model import (
    PRIORITIES,
    WEEKDAYS,
    Case,
    Kpis,
    PlannedStay,
    PlannedVisit,
    Problem,
    Provider,
    SittingRequest,
    StayRequest,
    Unit,
)

Request = StayRequest | SittingRequest

__all__ = [
    "block_contract_pence",
    "compute_kpis",
    "contribution_pence",
    "in_week",
    "nights_in_horizon",
    "reserve_bed_nights",
    "rota_minutes",
    "stay_added_pence",
]

WEEK_DAYS = 7


def nights_in_horizon(problem: Problem, first_night: dt.date, nights: int) -> int:
    """Number of the nights ``first_night .. first_night + nights - 1`` inside the horizon."""
    first = max(first_night, problem.horizon.first_night)
    last = min(first_night + dt.timedelta(days=nights - 1), problem.horizon.last_night)
    return max((last - first).days + 1, 0)


def in_week(problem: Problem, day: dt.date) -> bool:
    """Whether ``day`` is one of the 7 days from ``week_start`` (the sitting week planned)."""
    return 0 <= (day - problem.week_start).days < WEEK_DAYS


def rota_minutes(provider: Provider, day: dt.date) -> int:
    """Sitter-minutes a provider's rota offers on ``day`` (its weekday's shifts, a night
    shift wholly on the day it starts)."""
    shifts = provider.sitters.get(WEEKDAYS[day.weekday()], [])
    return sum(s.count * s.length for s in shifts)


def _case_of(
    cases: dict[str, Case], requests: dict[str, Request], case_id: str, request_id: str
) -> Case | None:
    """The case of a planned item: its own ``case_id``, else its request's case."""
    if case_id in cases:
        return cases[case_id]
    request = requests.get(request_id)
    return cases.get(request.case_id) if request is not None else None


def compute_kpis(problem: Problem, stays: list[PlannedStay], visits: list[PlannedVisit]) -> Kpis:
    """Recompute the KPI block of a plan (definitions in this module's docstring).

    Parameters
    ----------
    problem
        The problem the plan answers.
    stays, visits
        The plan's stays and visits, confirmed bookings included.

    Returns
    -------
    Kpis
        The spec's figures, plus the extras ``by_priority``, ``requests_total``,
        ``requests_served``, ``unmet_count``, ``stays_planned``,
        ``visits_planned``, ``sitter_minutes_served``, ``spot_nights``,
        ``spend_added_pence``, ``agency_staff_nights``, ``block_contract_pence``,
        ``carer_contributions_pence``, ``crisis_reserve_bed_nights_held`` and
        ``crisis_reserve_bed_nights_released``.
    """
    by_priority = _by_priority(problem, stays, visits)
    spend = _spend_added_pence(problem, stays, visits)
    return Kpis(
        nights_requested=sum(row["nights_requested"] for row in by_priority.values()),
        nights_served=sum(stay.nights for stay in stays),
        sitting_minutes_requested=sum(row["minutes_requested"] for row in by_priority.values()),
        sitting_minutes_served=sum(visit.minutes for visit in visits),
        crisis_served_ratio=_crisis_ratio(problem, by_priority["crisis"]),
        bed_occupancy=_bed_occupancy(problem, stays),
        sitter_utilisation=_sitter_utilisation(problem, visits),
        cost_pence=spend,
        travel_km=_travel_km(problem, stays, visits),
        **_extras(problem, stays, visits, by_priority),
        **{"spend_added_pence": spend},
    )


def _by_priority(
    problem: Problem, stays: list[PlannedStay], visits: list[PlannedVisit]
) -> dict[str, dict[str, int]]:
    keys = ("nights_requested", "nights_served", "minutes_requested", "minutes_served")
    table = {priority: dict.fromkeys(keys, 0) for priority in PRIORITIES}
    requests = problem.request_by_id()
    for request in problem.requests:
        row = table[request.priority]
        if isinstance(request, StayRequest):
            row["nights_requested"] += request.nights
        else:
            row["minutes_requested"] += sum(visit.minutes for visit in request.visits)
    for stay in stays:
        if isinstance(stay_request := requests.get(stay.request_id), StayRequest):
            table[stay_request.priority]["nights_served"] += stay.nights
    for visit in visits:
        if isinstance(sitting := requests.get(visit.request_id), SittingRequest):
            table[sitting.priority]["minutes_served"] += visit.minutes
    return table


def _crisis_ratio(problem: Problem, crisis: dict[str, int]) -> float:
    weight = problem.weights.night_units
    requested = crisis["nights_requested"] * weight + crisis["minutes_requested"]
    served = crisis["nights_served"] * weight + crisis["minutes_served"]
    return round(served / requested, 4) if requested else 1.0


def _bed_occupancy(problem: Problem, stays: list[PlannedStay]) -> float:
    block_beds = {
        bed.bed_id: unit.unit_id for unit in problem.units if not unit.spot for bed in unit.beds
    }
    horizon = problem.horizon
    occupied = {
        (stay.bed_id, night)
        for stay in stays
        if block_beds.get(stay.bed_id) == stay.unit_id
        for night in stay.night_list
        if horizon.first_night <= night <= horizon.last_night
    }
    available = len(block_beds) * len(horizon.nights)
    return round(len(occupied) / available, 4) if available else 0.0


def _sitter_utilisation(problem: Problem, visits: list[PlannedVisit]) -> float:
    week = [problem.week_start + dt.timedelta(days=i) for i in range(WEEK_DAYS)]
    available = sum(rota_minutes(p, day) for p in problem.providers for day in week)
    providers = problem.provider_by_id()
    planned = sum(
        v.minutes * v.sitters
        for v in visits
        if v.provider_id in providers and in_week(problem, v.day)
    )
    return round(planned / available, 4) if available else 0.0


def stay_added_pence(problem: Problem, unit: Unit, stay: PlannedStay) -> int:
    """What a stay in ``unit`` adds (H12): its nights inside the horizon times the spot
    price (nothing in a block unit) and its agency staff's price per staff-night."""
    inside = nights_in_horizon(problem, stay.first_night, stay.nights)
    night_pence = unit.cost_per_night_pence if unit.spot else 0
    return inside * (night_pence + stay.extra_night_staff * unit.extra_night_staff_cost_pence)


def _spend_added_pence(
    problem: Problem, stays: list[PlannedStay], visits: list[PlannedVisit]
) -> int:
    """Money the plan adds (H12): spot nights, agency staff-nights and sitter time; a
    block bed's night is paid for by its contract."""
    units, providers = problem.unit_by_id(), problem.provider_by_id()
    stay_pence = sum(
        stay_added_pence(problem, units[stay.unit_id], stay)
        for stay in stays
        if stay.unit_id in units
    )
    visit_pence60 = sum(
        v.minutes * v.sitters * providers[v.provider_id].cost_per_hour_pence
        for v in visits
        if v.provider_id in providers
    )
    return stay_pence + (visit_pence60 + 30) // 60


def _travel_km(problem: Problem, stays: list[PlannedStay], visits: list[PlannedVisit]) -> float:
    return round(math.fsum(_legs_km(problem, stays, visits)), 1)


def _legs_km(
    problem: Problem, stays: list[PlannedStay], visits: list[PlannedVisit]
) -> Iterable[float]:
    units, providers = problem.unit_by_id(), problem.provider_by_id()
    cases, requests = problem.case_by_id(), problem.request_by_id()
    for stay in stays:
        case = _case_of(cases, requests, stay.case_id, stay.request_id)
        if case is not None and stay.unit_id in units:
            where = units[stay.unit_id].location
            yield km_between(case.home.lat, case.home.lon, where.lat, where.lon)
    for visit in visits:
        case = _case_of(cases, requests, visit.case_id, visit.request_id)
        if case is not None and visit.provider_id in providers:
            base = providers[visit.provider_id].base
            yield km_between(base.lat, base.lon, case.home.lat, case.home.lon)


def _extras(
    problem: Problem,
    stays: list[PlannedStay],
    visits: list[PlannedVisit],
    by_priority: dict[str, dict[str, int]],
) -> dict[str, Any]:
    served_stays = {stay.request_id for stay in stays}
    served_visits = {(visit.request_id, visit.visit_id) for visit in visits}
    served_requests = served_stays | {request_id for request_id, _ in served_visits}
    return {
        "by_priority": by_priority,
        "requests_total": len(problem.requests),
        "requests_served": sum(r.request_id in served_requests for r in problem.requests),
        "unmet_count": _unserved_count(problem, served_stays, served_visits),
        "stays_planned": len(stays),
        "visits_planned": len(visits),
        "sitter_minutes_served": sum(visit.minutes * visit.sitters for visit in visits),
        "spot_nights": _spot_nights(problem, stays),
        "agency_staff_nights": sum(
            s.extra_night_staff * nights_in_horizon(problem, s.first_night, s.nights) for s in stays
        ),
        "block_contract_pence": sum(block_contract_pence(problem, unit) for unit in problem.units),
        "carer_contributions_pence": sum(contribution_pence(problem, stays).values()),
        **_crisis_reserve(problem, stays),
    }


def _unserved_count(
    problem: Problem, served_stays: set[str], served_visits: set[tuple[str, str]]
) -> int:
    count = 0
    for request in problem.requests:
        if isinstance(request, StayRequest):
            count += request.request_id not in served_stays
        else:
            count += sum(
                (request.request_id, v.visit_id) not in served_visits for v in request.visits
            )
    return count


def _spot_nights(problem: Problem, stays: list[PlannedStay]) -> int:
    spot = {unit.unit_id for unit in problem.units if unit.spot}
    return sum(
        nights_in_horizon(problem, stay.first_night, stay.nights)
        for stay in stays
        if stay.unit_id in spot
    )


DAYS_A_YEAR = 365


def block_contract_pence(problem: Problem, unit: Unit) -> int:
    """``unit``'s yearly block contract for the horizon's nights, to the penny (half up);
    0 for a spot unit."""
    if unit.spot:
        return 0
    share = unit.block_cost_per_year_pence * len(problem.horizon.nights)
    return (share * 2 + DAYS_A_YEAR) // (2 * DAYS_A_YEAR)


def contribution_pence(problem: Problem, stays: list[PlannedStay]) -> dict[str, int]:
    """``{unit_id: pence}`` carers are charged for the chargeable stays in each unit: a
    stay's nights inside the horizon times its case's contribution, if its request draws
    on an allowance (H8); exempt priorities and unknown requests or cases are left out."""
    cases, requests = problem.case_by_id(), problem.request_by_id()
    charged: dict[str, int] = {}
    for stay in stays:
        request = requests.get(stay.request_id)
        case = _case_of(cases, requests, stay.case_id, stay.request_id)
        if request is None or case is None or problem.policy.exempt(request.priority):
            continue
        inside = nights_in_horizon(problem, stay.first_night, stay.nights)
        pence = inside * case.contribution_per_night_pence
        charged[stay.unit_id] = charged.get(stay.unit_id, 0) + pence
    return charged


def reserve_bed_nights(problem: Problem, stays: list[PlannedStay]) -> dict[str, tuple[int, int]]:
    """``{unit_id: (held, released)}`` crisis reserve bed-nights of each unit with a
    reserve (H13; definitions in this module's docstring)."""
    requests = problem.request_by_id()
    others: dict[tuple[str, dt.date], int] = {}  # non-crisis stays per unit and night
    for stay in stays:
        request = requests.get(stay.request_id)
        if request is None or request.priority == "crisis":
            continue
        for night in stay.night_list:
            others[(stay.unit_id, night)] = others.get((stay.unit_id, night), 0) + 1
    in_force = problem.planning_date + dt.timedelta(days=problem.policy.reserve_release_days)
    figures: dict[str, tuple[int, int]] = {}
    for unit in problem.units:
        reserve = min(unit.crisis_reserve_beds, unit.block_beds)
        if not reserve:
            continue
        open_beds = unit.block_beds - reserve
        held = released = 0
        for night in problem.horizon.nights:
            taken = min(reserve, max(0, others.get((unit.unit_id, night), 0) - open_beds))
            if night >= in_force:
                held += reserve - taken
            else:
                released += taken
        figures[unit.unit_id] = (held, released)
    return figures


def _crisis_reserve(problem: Problem, stays: list[PlannedStay]) -> dict[str, int]:
    """Reserve bed-nights held for crisis while in force, and released to others before."""
    figures = reserve_bed_nights(problem, stays).values()
    return {
        "crisis_reserve_bed_nights_held": sum(held for held, _ in figures),
        "crisis_reserve_bed_nights_released": sum(released for _, released in figures),
    }
