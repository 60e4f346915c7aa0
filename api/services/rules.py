"""The hard rules, judged by ``scheduler.checker`` (the project's one plan checker)."""

from __future__ import annotations

from collections.abc import Iterable

from scheduler.checker import Violation, check
from scheduler.model import (
    Plan,
    PlannedStay,
    PlannedVisit,
    Problem,
    SolverInfo,
    StayBooking,
    VisitBooking,
)

__all__ = ["Violation", "introduced_violations", "plan_of"]

_IGNORED = ("UNMET", "KPI")  # a hand-made set of bookings is not a whole plan


def plan_of(bookings: Iterable[StayBooking | VisitBooking]) -> Plan:
    """A plan holding exactly these bookings."""
    stays: list[PlannedStay] = []
    visits: list[PlannedVisit] = []
    for booking in bookings:
        fields = booking.model_dump(exclude={"booking_id"})
        if isinstance(booking, StayBooking):
            stays.append(PlannedStay(**fields))
        else:
            visits.append(PlannedVisit(**fields))
    return Plan(stays=stays, visits=visits, solver=SolverInfo(engine="manual", status="manual"))


def introduced_violations(
    problem: Problem, new: Iterable[StayBooking | VisitBooking]
) -> list[Violation]:
    """The hard-rule violations that adding ``new`` to the problem's bookings causes.

    Violations already present without them (say, night staff cut after a
    booking was made) are not blamed on the new bookings.
    """
    before = {str(v) for v in _hard(problem, plan_of(problem.bookings))}
    after = _hard(problem, plan_of([*problem.bookings, *new]))
    return [violation for violation in after if str(violation) not in before]


def _hard(problem: Problem, plan: Plan) -> list[Violation]:
    return [v for v in check(problem, plan, check_kpis=False) if v.rule not in _IGNORED]
