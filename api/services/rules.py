"""The hard rules, judged by ``scheduler.checker`` (the project's one plan checker)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

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

__all__ = ["Breach", "Violation", "breaches_after_change", "introduced_violations", "plan_of"]

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


@dataclass(frozen=True)
class Breach:
    """A confirmed booking and a hard rule it breaks."""

    booking_id: str
    violation: Violation


def breaches_after_change(
    before: Problem,
    after: Problem,
    suspects: Callable[[StayBooking | VisitBooking], bool],
    *,
    shared: bool = False,
) -> list[Breach]:
    """The confirmed bookings that a change of capacity (``before`` -> ``after``, the
    same bookings) leaves breaking a hard rule they kept before.

    Only ``suspects`` (the bookings the change touches) are named. With ``shared``
    they all hold the one thing the change cut (the staff of one unit-night), so
    each is named for each new violation; otherwise a suspect is named for a new
    violation that the checker no longer reports without it (a sitter-stretch
    over-full loses a busy sitter with each visit in it). Only when something new
    broke is more than one check made.
    """
    kept = {str(v) for v in _hard(before, plan_of(before.bookings))}
    new = [v for v in _hard(after, plan_of(after.bookings)) if str(v) not in kept]
    breaches: list[Breach] = []
    for booking in [b for b in after.bookings if suspects(b)] if new else []:
        if shared:
            breaches += [Breach(booking.booking_id, v) for v in new]
            continue
        others = [b for b in after.bookings if b.booking_id != booking.booking_id]
        still = {str(v) for v in _hard(after, plan_of(others))}
        breaches += [Breach(booking.booking_id, v) for v in new if str(v) not in still]
    return breaches


def _hard(problem: Problem, plan: Plan) -> list[Violation]:
    return [v for v in check(problem, plan, check_kpis=False) if v.rule not in _IGNORED]
