"""Bookings: list, make by hand, change, cancel, and publish a run's plan.

Every write follows one path (:func:`confirm`): lock the cases, units and
providers involved; refuse bed-nights and request parts already taken (409);
judge the new bookings with the plan checker; insert them. The unique
constraints on ``bed_nights`` and ``served_parts`` are the last word: if a
racing transaction won, the insert fails and the loser gets 409 too. Sitter
capacity (H9) has no such constraint: the provider's row lock serialises the
checks, and a booking that fits alone but not beside what others hold gets
409 naming the visits that hold the sitters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import Principal
from api.clock import as_utc, utcnow
from api.db import Database
from api.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    RuleBroken,
)
from api.repositories import (
    AuditRepository,
    BookingRepository,
    PlanningRepository,
    RequestRepository,
    UnitRepository,
)
from api.repositories.base import Page
from api.repositories.bookings import BookingFilter, to_booking
from api.schemas import (
    AuditEntryOut,
    BookingChange,
    BookingOut,
    StayBookingIn,
    VisitBookingIn,
)
from api.services.problems import Neighbourhood, problem_around
from api.services.rules import introduced_violations
from api.tables import BookingRow
from scheduler.model import (
    Problem,
    SittingRequest,
    StayBooking,
    StayRequest,
    VisitBooking,
    minutes_of,
)

__all__ = ["BookingService", "booking_out", "confirm", "monday_of", "new_booking_id"]

Booking = StayBooking | VisitBooking
# Capacity others can take first (beds, a provider's sitters): broken only beside
# other bookings, it is a race lost, not a bad request.
_SHARED_CAPACITY_RULES = ("H1", "H9")


def new_booking_id() -> str:
    return f"B-{uuid.uuid4().hex[:12]}"


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def booking_out(row: BookingRow) -> BookingOut:
    """The response body for a booking row."""
    out = BookingOut.model_validate(row, from_attributes=True)
    return out.model_copy(
        update={
            "created_at": as_utc(row.created_at),
            "updated_at": as_utc(row.updated_at),
            # The column's 0 on a visit says nothing: agency night staff are a stay's.
            "extra_night_staff": row.extra_night_staff if row.kind == "stay" else None,
        }
    )


class BookingService:
    """What brokers (and, for their own bookings, providers) do with bookings."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list(
        self, principal: Principal, where: BookingFilter, limit: int, offset: int
    ) -> Page[BookingOut]:
        """Bookings matching ``where``; a provider key sees only its own."""
        with self.db.read() as session:
            page = BookingRepository(session).page(_scoped(principal, where), limit, offset)
            return Page([booking_out(row) for row in page.items], page.total)

    def get(self, principal: Principal, booking_id: str) -> BookingOut:
        with self.db.read() as session:
            return booking_out(_visible(session, principal, booking_id))

    def create(self, principal: Principal, item: StayBookingIn | VisitBookingIn) -> BookingOut:
        """Book by hand, checked against every hard rule.

        Raises
        ------
        Conflict
            The bed-nights, the stay request or the visit are booked already.
        RuleBroken
            The booking breaks a hard rule; ``detail`` names it.
        """
        booking_id = new_booking_id()
        with _conflicts_on_race(), self.db.write() as session:
            booking = _from_input(session, item, booking_id)
            (row,) = confirm(session, [booking], actor=principal.actor, action="create")
            return booking_out(row)

    def change(
        self,
        principal: Principal,
        booking_id: str,
        change: BookingChange,
        if_match: str | None,
    ) -> BookingOut:
        """Move a booking (other bed, nights, time...) if ``if_match`` is its version."""
        with _conflicts_on_race(), self.db.write() as session:
            row = _current(session, principal, booking_id, if_match, required=True)
            booking = _changed(session, to_booking(row), change)
            before = booking_out(row).model_dump(mode="json")
            BookingRepository(session).release(row)
            session.flush()
            confirm(session, [booking], actor=principal.actor, replacing=row, before=before)
            return booking_out(row)

    def audit(
        self, entity: str | None, entity_id: str | None, limit: int, offset: int
    ) -> Page[AuditEntryOut]:
        """The audit trail, oldest first."""
        with self.db.read() as session:
            page = AuditRepository(session).page(entity, entity_id, limit, offset)
            items = [AuditEntryOut.model_validate(row, from_attributes=True) for row in page.items]
            return Page(items, page.total)

    def cancel(self, principal: Principal, booking_id: str, if_match: str | None) -> BookingOut:
        """Cancel a booking and free its bed-nights or sitter time."""
        with self.db.write() as session:
            row = _current(session, principal, booking_id, if_match, required=False)
            before = booking_out(row).model_dump(mode="json")
            now = utcnow()
            BookingRepository(session).cancel(row, now)
            after = booking_out(row).model_dump(mode="json")
            AuditRepository(session).record(
                actor=principal.actor,
                action="cancel",
                entity="booking",
                entity_id=booking_id,
                before=before,
                after=after,
                now=now,
            )
            return booking_out(row)


def confirm(
    session: Session,
    bookings: list[Booking],
    *,
    actor: str,
    action: str = "change",
    run_id: str | None = None,
    week_start: dt.date | None = None,
    strict: bool = False,
    replacing: BookingRow | None = None,
    before: dict[str, Any] | None = None,
) -> list[BookingRow]:
    """Check and store ``bookings`` in the caller's transaction.

    ``strict`` (publishing) turns every broken rule into a 409 (see
    :func:`_refuse_broken`). ``replacing`` changes that row instead of inserting.
    """
    repo = BookingRepository(session)
    around = _neighbourhood(bookings)
    repo.lock(around.case_ids, around.unit_ids, around.provider_ids)
    _refuse_taken(repo, bookings)
    week = week_start or monday_of(_first_day(bookings[0]))
    problem = problem_around(session, around, week)
    if replacing is not None:
        problem.bookings = [b for b in problem.bookings if b.booking_id != replacing.booking_id]
    _refuse_broken(problem, bookings, strict=strict)
    return _store(repo, bookings, actor, action, run_id, replacing, before)


def _store(
    repo: BookingRepository,
    bookings: list[Booking],
    actor: str,
    action: str,
    run_id: str | None,
    replacing: BookingRow | None,
    before: dict[str, Any] | None,
) -> list[BookingRow]:
    now = utcnow()
    audit = AuditRepository(repo.session)
    rows = []
    for booking in bookings:
        if replacing is None:
            row = repo.add(booking, run_id=run_id, now=now)
        else:
            repo.replace(replacing, booking, now)
            row = replacing
        after = booking_out(row).model_dump(mode="json")
        audit.record(
            actor=actor,
            action=action,
            entity="booking",
            entity_id=row.booking_id,
            before=before,
            after=after,
            now=now,
        )
        rows.append(row)
    return rows


def _neighbourhood(bookings: list[Booking]) -> Neighbourhood:
    around = Neighbourhood()
    for booking in bookings:
        around.case_ids.add(booking.case_id)
        around.request_ids.add(booking.request_id)
        if isinstance(booking, StayBooking):
            around.unit_ids.add(booking.unit_id)
            around.nights.update(booking.night_list)
        else:
            around.provider_ids.add(booking.provider_id)
            around.nights.add(booking.day)
    return around


def _refuse_taken(repo: BookingRepository, bookings: list[Booking]) -> None:
    bed_nights = [
        (b.bed_id, night) for b in bookings if isinstance(b, StayBooking) for night in b.night_list
    ]
    parts = [(b.request_id, _part(b)) for b in bookings]
    taken = [str(t) for t in repo.taken_bed_nights(bed_nights)]
    taken += [str(t) for t in repo.taken_parts(parts)]
    if taken:
        raise Conflict(f"already booked: {'; '.join(taken[:5])}", conflicts=taken)


def _refuse_broken(problem: Problem, bookings: list[Booking], *, strict: bool) -> None:
    """422 naming the first rule the bookings break; 409 if others took the capacity.

    ``strict`` (publishing) makes every broken rule a 409: the plan was valid
    when solved, so whatever it breaks now was booked since.
    """
    violations = introduced_violations(problem, bookings)
    if not violations:
        return
    messages = [str(v) for v in violations]
    detail = f"breaks {messages[0]}" + (f" (and {len(messages) - 1} more)" if messages[1:] else "")
    if strict or _capacity_taken(problem, bookings, violations):
        raise Conflict(detail, conflicts=messages + _competing_visits(problem, bookings))
    raise RuleBroken(detail, conflicts=messages)


def _capacity_taken(problem: Problem, bookings: list[Booking], violations: list[Any]) -> bool:
    """Whether every violation is of shared capacity that the bookings alone fit in."""
    rules = {v.rule for v in violations}
    if not rules <= set(_SHARED_CAPACITY_RULES):
        return False
    alone = introduced_violations(problem.model_copy(update={"bookings": []}), bookings)
    return not rules & {v.rule for v in alone}


def _competing_visits(problem: Problem, bookings: list[Booking]) -> list[str]:
    """The confirmed visits holding a provider's sitters while a new visit wants them."""
    new = [b for b in bookings if isinstance(b, VisitBooking)]
    return [
        f"visit {held.request_id}/{held.visit_id} of provider {held.provider_id} on "
        f"{held.day} {held.start} for {held.minutes} min (booking {held.booking_id})"
        for held in problem.bookings
        if isinstance(held, VisitBooking) and any(_overlap(held, visit) for visit in new)
    ]


def _overlap(first: VisitBooking, second: VisitBooking) -> bool:
    """Same provider at the same time; a night visit runs on into the next day."""
    if first.provider_id != second.provider_id:
        return False
    start, other_start = _minute(first), _minute(second)
    return start < other_start + second.minutes and other_start < start + first.minutes


def _minute(visit: VisitBooking) -> int:
    """The visit's start as minutes from the first day of the calendar (day ordinal)."""
    return visit.day.toordinal() * 24 * 60 + minutes_of(visit.start)


@contextmanager
def _conflicts_on_race() -> Iterator[None]:
    """Turn a lost race on a unique constraint into 409."""
    try:
        yield
    except IntegrityError:
        raise Conflict(
            "another booking took these bed-nights or this request first; reload and retry",
            conflicts=["bed-nights or request parts booked concurrently"],
        ) from None


def _part(booking: Booking) -> str:
    return "stay" if isinstance(booking, StayBooking) else booking.visit_id


def _first_day(booking: Booking) -> dt.date:
    return booking.first_night if isinstance(booking, StayBooking) else booking.day


def _scoped(principal: Principal, where: BookingFilter) -> BookingFilter:
    if not principal.is_provider:
        return where
    if principal.provider_id is not None:
        return dataclasses.replace(where, provider_id=principal.provider_id, kind="visit")
    return dataclasses.replace(where, unit_id=principal.unit_id, kind="stay")


def _visible(
    session: Session, principal: Principal, booking_id: str, *, for_update: bool = False
) -> BookingRow:
    row = BookingRepository(session).get(booking_id, for_update=for_update)
    if row is None or not (
        principal.sees_unit(row.unit_id) or principal.sees_provider(row.provider_id)
    ):
        raise NotFound(f"booking {booking_id} does not exist")
    return row


def _current(
    session: Session, principal: Principal, booking_id: str, if_match: str | None, *, required: bool
) -> BookingRow:
    # The lock comes before the comparison: two writers holding the same version
    # would otherwise both pass it, and the later one would undo the earlier.
    row = _visible(session, principal, booking_id, for_update=True)
    if if_match is None and required:
        raise PreconditionRequired('send the booking\'s version in If-Match, e.g. If-Match: "3"')
    if if_match is not None and version_of(if_match) != row.version:
        raise PreconditionFailed(
            f"booking {booking_id} is at version {row.version}, not {if_match.strip()}"
        )
    if row.status != "confirmed":
        raise Conflict(f"booking {booking_id} is {row.status}")
    return row


def version_of(if_match: str) -> int | None:
    """The version in an If-Match header: ``"3"``, ``W/"3"`` or ``3``."""
    text = if_match.strip().removeprefix("W/").strip('"')
    return int(text) if text.isdigit() else None


def _from_input(session: Session, item: StayBookingIn | VisitBookingIn, booking_id: str) -> Booking:
    request = RequestRepository(session).get(item.request_id)
    if request is None:
        raise InvalidInput(f"request_id: '{item.request_id}' is not a request")
    if isinstance(item, StayBookingIn):
        return _stay_from_input(session, request, item, booking_id)
    return _visit_from_input(session, request, item, booking_id)


def _stay_from_input(
    session: Session,
    request: StayRequest | SittingRequest,
    item: StayBookingIn,
    booking_id: str,
) -> StayBooking:
    if not isinstance(request, StayRequest):
        raise InvalidInput(f"request_id: '{item.request_id}' is a sitting request, not a stay")
    unit_id = UnitRepository(session).unit_of_bed(item.bed_id)
    if unit_id is None:
        raise InvalidInput(f"bed_id: '{item.bed_id}' is not a bed")
    return StayBooking(
        booking_id=booking_id,
        request_id=request.request_id,
        case_id=request.case_id,
        unit_id=unit_id,
        bed_id=item.bed_id,
        first_night=item.first_night,
        nights=item.nights,
    )


def _visit_from_input(
    session: Session,
    request: StayRequest | SittingRequest,
    item: VisitBookingIn,
    booking_id: str,
) -> VisitBooking:
    if not isinstance(request, SittingRequest):
        raise InvalidInput(f"request_id: '{item.request_id}' is a stay request, not sitting")
    visit = next((v for v in request.visits if v.visit_id == item.visit_id), None)
    if visit is None:
        raise InvalidInput(f"visit_id: '{item.visit_id}' is not a visit of {item.request_id}")
    if not PlanningRepository(session).existing_ids("provider", [item.provider_id]):
        raise InvalidInput(f"provider_id: '{item.provider_id}' is not a provider")
    return _validated_visit(
        booking_id=booking_id,
        request_id=request.request_id,
        visit_id=visit.visit_id,
        case_id=request.case_id,
        provider_id=item.provider_id,
        day=item.day,
        start=item.start,
        minutes=item.minutes or visit.minutes,
        sitters=item.sitters or (2 if request.double_handed else 1),
    )


def _validated_visit(**fields: Any) -> VisitBooking:
    try:
        return VisitBooking(**fields)
    except ValueError as exc:
        raise InvalidInput(str(exc).splitlines()[-1] if str(exc) else "invalid visit") from None


def _changed(session: Session, booking: Booking, change: BookingChange) -> Booking:
    updates = change.model_dump(exclude_none=True)
    stay_fields = {"bed_id", "first_night", "nights"}
    is_stay = isinstance(booking, StayBooking)
    wrong = set(updates) - stay_fields if is_stay else set(updates) & stay_fields
    if wrong:
        kind = "stay" if is_stay else "visit"
        raise InvalidInput(f"{sorted(wrong)[0]}: cannot be changed on a {kind} booking")
    if "bed_id" in updates:
        updates["unit_id"] = UnitRepository(session).unit_of_bed(updates["bed_id"])
        if updates["unit_id"] is None:
            raise InvalidInput(f"bed_id: '{updates['bed_id']}' is not a bed")
    fields = {**booking.model_dump(), **updates}
    if isinstance(booking, StayBooking):
        return StayBooking(**fields)
    return _validated_visit(**fields)
