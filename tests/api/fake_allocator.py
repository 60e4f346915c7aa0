"""A stand-in for ``scheduler.allocate.allocate`` that worker processes import by name.

Deterministic and fast: each stay request gets the first free bed from its
earliest start, each visit the first provider at the start of its first
window; confirmed bookings stay. With ``engine="cpsat"`` it behaves like a
long solve: it reports progress every 0.05 s until ``stop`` is set or
``time_limit`` passes, so tests can watch, cancel or kill it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

from scheduler.allocate import AllocationResult, Progress, SolveStatus
from scheduler.model import (
    Plan,
    PlannedStay,
    PlannedVisit,
    Problem,
    SittingRequest,
    SolverInfo,
    StayBooking,
    StayRequest,
    Unmet,
    VisitBooking,
)


def allocate(
    problem: Problem,
    *,
    engine: str = "cpsat",
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    previous: Plan | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
) -> AllocationResult:
    started = time.monotonic()
    plan = _first_fit(problem, engine)
    if engine == "cpsat":
        _pretend_to_search(started, time_limit, on_progress, stop)
    seconds = time.monotonic() - started
    objective = len(plan.stays) + len(plan.visits)
    return AllocationResult(plan, SolveStatus.FEASIBLE, objective, objective + 1, 0.5, seconds)


def _pretend_to_search(
    started: float,
    time_limit: float,
    on_progress: Callable[[Progress], None] | None,
    stop: threading.Event | None,
) -> None:
    step = 0
    while time.monotonic() - started < time_limit and not (stop and stop.is_set()):
        step += 1
        if on_progress is not None:
            seconds = time.monotonic() - started
            on_progress(Progress(float(step), 1000.0, (1000.0 - step) / 1000.0, seconds, "search"))
        time.sleep(0.05)


def _first_fit(problem: Problem, engine: str) -> Plan:
    taken: set[tuple[str, dt.date]] = set()
    stays: list[PlannedStay] = []
    visits: list[PlannedVisit] = []
    served: set[tuple[str, str]] = set()
    for booking in problem.bookings:
        fields: dict[str, Any] = booking.model_dump(exclude={"booking_id", "status"})
        if isinstance(booking, StayBooking):
            stays.append(PlannedStay(**fields))
            taken.update((booking.bed_id, night) for night in booking.night_list)
            served.add((booking.request_id, "stay"))
        elif isinstance(booking, VisitBooking):
            visits.append(PlannedVisit(**fields))
            served.add((booking.request_id, booking.visit_id))
    unmet: list[Unmet] = []
    for request in problem.requests:
        if isinstance(request, StayRequest) and (request.request_id, "stay") not in served:
            stay = _first_bed(problem, request, taken)
            if stay is None:
                unmet.append(_unmet(request.request_id))
            else:
                stays.append(stay)
        elif isinstance(request, SittingRequest):
            visits.extend(_visits(problem, request, served))
    solver = SolverInfo(engine=engine, status=SolveStatus.FEASIBLE)
    return Plan(stays=stays, visits=visits, unmet=unmet, solver=solver)


def _first_bed(
    problem: Problem, request: StayRequest, taken: set[tuple[str, dt.date]]
) -> PlannedStay | None:
    for unit in problem.units:
        for bed in unit.beds:
            nights = [request.earliest_start + dt.timedelta(days=i) for i in range(request.nights)]
            if nights[-1] > problem.horizon.last_night:
                return None
            if not any((bed.bed_id, night) in taken for night in nights):
                taken.update((bed.bed_id, night) for night in nights)
                return PlannedStay(
                    request_id=request.request_id,
                    case_id=request.case_id,
                    unit_id=unit.unit_id,
                    bed_id=bed.bed_id,
                    first_night=request.earliest_start,
                    nights=request.nights,
                )
    return None


def _visits(
    problem: Problem, request: SittingRequest, served: set[tuple[str, str]]
) -> list[PlannedVisit]:
    provider = problem.providers[0]
    return [
        PlannedVisit(
            request_id=request.request_id,
            visit_id=visit.visit_id,
            case_id=request.case_id,
            provider_id=provider.provider_id,
            day=visit.windows[0].day,
            start=visit.windows[0].start,
            minutes=visit.minutes,
            sitters=2 if request.double_handed else 1,
        )
        for visit in request.visits
        if (request.request_id, visit.visit_id) not in served
    ]


def _unmet(request_id: str) -> Unmet:
    return Unmet(request_id=request_id, reason="beds_taken", detail="every bed was taken")
