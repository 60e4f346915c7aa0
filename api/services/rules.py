"""The hard rules, judged by ``scheduler.checker`` (the project's one plan checker)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from scheduler.checker import Violation, check
from scheduler.decode import extra_staff
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
        fields = booking.model_dump(exclude={"booking_id", "status"})
        if isinstance(booking, StayBooking):
            stays.append(PlannedStay(**fields))
        else:
            visits.append(PlannedVisit(**fields))
    return Plan(
        stays=stays,
        visits=visits,
        extra_staff=extra_staff(stays),
        solver=SolverInfo(engine="manual", status="manual"),
    )


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


Booking = StayBooking | VisitBooking


def breaches_after_change(
    before: Problem,
    after: Problem,
    suspects: Callable[[Booking], Hashable | None],
    *,
    shared: bool = False,
) -> list[Breach]:
    """The confirmed bookings that a change of capacity (``before`` -> ``after``, the
    same bookings) leaves breaking a hard rule they kept before.

    ``suspects`` puts each booking the change touches in a group (None: not
    touched): bookings can only share a breach within a group (the visits of one
    day, the stays of one night), so each group is checked on its own. With
    ``shared`` a group's bookings all hold the one thing the change cut (the
    staff of one unit-night) and each is named for each new violation; otherwise
    a booking is named for a new violation the checker no longer reports
    without it (an over-full sitter stretch loses a busy sitter with each visit).
    """
    groups: defaultdict[Hashable, list[Booking]] = defaultdict(list)
    for booking in after.bookings:
        if (group := suspects(booking)) is not None:
            groups[group].append(booking)
    breaches: list[Breach] = []
    for bookings in groups.values():
        breaches += _group_breaches(before, after, bookings, shared)
    return breaches


def _group_breaches(
    before: Problem, after: Problem, bookings: list[Booking], shared: bool
) -> list[Breach]:
    # The group's own bookings and requests: the rest would only be unmet, checked
    # (and ignored) once per booking.
    request_ids = {booking.request_id for booking in bookings}
    requests = [r for r in after.requests if r.request_id in request_ids]

    def judged(problem: Problem, held: list[Booking]) -> list[Violation]:
        alone = problem.model_copy(update={"bookings": held, "requests": requests})
        return _hard(alone, plan_of(held))

    def violations(problem: Problem, held: list[Booking]) -> set[str]:
        return {str(v) for v in judged(problem, held)}

    kept = violations(before, bookings)
    new = [v for v in judged(after, bookings) if str(v) not in kept]
    breaches: list[Breach] = []
    for booking in bookings if new else []:
        others = [b for b in bookings if b is not booking]
        still = set() if shared else violations(after, others)
        breaches += [Breach(booking.booking_id, v) for v in new if shared or str(v) not in still]
    return breaches


def _hard(problem: Problem, plan: Plan) -> list[Violation]:
    return [v for v in check(problem, plan, check_kpis=False) if v.rule not in _IGNORED]
