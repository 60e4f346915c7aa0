"""The one id-to-index table of a compiled problem, and its time steps.

The solver works on indices; the compile step, the decoder and the explanations
translate between them and the problem's ids through one :class:`Index`, made
once per problem.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from typing import TypeVar

from scheduler.model import (
    Problem,
    SittingRequest,
    StayBooking,
    StayRequest,
    Visit,
    VisitBooking,
    minutes_of,
)
from solver import data as sd

__all__ = [
    "MINUTES_PER_DAY",
    "PRIORITY_INDEX",
    "SUPPORT_INDEX",
    "ClassInfo",
    "Index",
    "clock_of",
    "step_minutes",
]

MINUTES_PER_DAY = 24 * 60
PRIORITY_INDEX = {"crisis": sd.CRISIS, "health_appointment": sd.HEALTH_APPOINTMENT, "planned": 2}
SUPPORT_INDEX = {"shared": sd.SHARED, "one_to_one": sd.ONE_TO_ONE, "two_to_one": sd.TWO_TO_ONE}
_Id = TypeVar("_Id", str, dt.date)


@dataclass
class ClassInfo:
    """A bed class: interchangeable beds of one unit, with the same features."""

    unit_id: str
    bed_ids: list[str]
    features: tuple[str, ...]
    booked_by: list[str] = field(default_factory=list)  # confirmed bookings on the bed


@dataclass(frozen=True)
class Index:
    """Where each night, case, unit, provider, request and visit sits in the solver's lists.

    Attributes
    ----------
    nights, night_idx
        The nights planned, and each night's index.
    classes, class_of_bed
        The bed classes (the solver's beds: interchangeable beds of a unit), and each
        bed's class.
    case_ids, case_idx / unit_ids, unit_idx / provider_ids, provider_idx
        Problem order.
    stay_requests
        The stay requests to plan (those not confirmed already), problem order; the
        solver's stay request ``i`` is ``stay_requests[i]``.
    visits
        The visits to plan (not confirmed already), with their request; the solver's
        visit ``i`` is ``visits[i]``.
    sitting_idx
        Each sitting request's place among the problem's sitting requests (the
        solver's ``Visit.request``: visits of one request share it).
    step_minutes, steps_per_day
        The time step of sitting (see :func:`step_minutes`) and the steps in a day.
    """

    nights: list[dt.date]
    night_idx: dict[dt.date, int]
    case_ids: list[str]
    case_idx: dict[str, int]
    unit_ids: list[str]
    unit_idx: dict[str, int]
    provider_ids: list[str]
    provider_idx: dict[str, int]
    classes: list[ClassInfo]
    class_of_bed: dict[str, int]
    stay_requests: list[StayRequest]
    visits: list[tuple[SittingRequest, Visit]]
    sitting_idx: dict[str, int]
    step_minutes: int
    steps_per_day: int

    @classmethod
    def of(cls, problem: Problem) -> Index:
        """The index of ``problem``."""
        nights = problem.horizon.nights
        case_ids = [case.case_id for case in problem.cases]
        unit_ids = [unit.unit_id for unit in problem.units]
        provider_ids = [provider.provider_id for provider in problem.providers]
        sittings = [r for r in problem.requests if isinstance(r, SittingRequest)]
        step = step_minutes(problem)
        classes = bed_classes(problem)
        return cls(
            nights=nights,
            night_idx=_positions(nights),
            case_ids=case_ids,
            case_idx=_positions(case_ids),
            unit_ids=unit_ids,
            unit_idx=_positions(unit_ids),
            provider_ids=provider_ids,
            provider_idx=_positions(provider_ids),
            classes=classes,
            class_of_bed={bed: c for c, info in enumerate(classes) for bed in info.bed_ids},
            stay_requests=_stays_to_plan(problem),
            visits=_visits_to_plan(problem, sittings),
            sitting_idx=_positions([r.request_id for r in sittings]),
            step_minutes=step,
            steps_per_day=MINUTES_PER_DAY // step,
        )


def _positions(items: list[_Id]) -> dict[_Id, int]:
    return {item: i for i, item in enumerate(items)}


def _stays_to_plan(problem: Problem) -> list[StayRequest]:
    booked = {b.request_id for b in problem.bookings if isinstance(b, StayBooking)}
    return [
        r for r in problem.requests if isinstance(r, StayRequest) and r.request_id not in booked
    ]


def _visits_to_plan(
    problem: Problem, sittings: list[SittingRequest]
) -> list[tuple[SittingRequest, Visit]]:
    booked = {(b.request_id, b.visit_id) for b in problem.bookings if isinstance(b, VisitBooking)}
    return [
        (request, visit)
        for request in sittings
        for visit in request.visits
        if (request.request_id, visit.visit_id) not in booked
    ]


def bed_classes(problem: Problem) -> list[ClassInfo]:
    """Interchangeable beds: same unit, same features, no booking; unit by unit.

    A bed with a booking is a class of its own, so that colouring stays exact.
    """
    booked: dict[str, list[str]] = defaultdict(list)
    for booking in problem.bookings:
        if isinstance(booking, StayBooking):
            booked[booking.bed_id].append(booking.booking_id)
    classes: list[ClassInfo] = []
    for unit in problem.units:
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for bed in unit.beds:
            features = tuple(sorted(set(bed.features)))
            if booked.get(bed.bed_id):
                ids = sorted(set(booked[bed.bed_id]))
                classes.append(ClassInfo(unit.unit_id, [bed.bed_id], features, ids))
            else:
                groups[features].append(bed.bed_id)
        for features, bed_ids in sorted(groups.items()):
            classes.append(ClassInfo(unit.unit_id, bed_ids, features))
    return classes


def clock_of(step_idx: int, step_minutes: int) -> str:
    """The "HH:MM" wall-clock time at which time step ``step_idx`` begins."""
    minutes = step_idx * step_minutes
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def step_minutes(problem: Problem) -> int:
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
