"""Bookings and the rows that make double booking impossible.

A booking is confirmed, offered (made to the carer and not yet answered) or cancelled.
An offered booking holds its capacity as a confirmed one does: its bed-nights and
request part are claimed, and the problems runs and booking checks are built from
include it (with its status). "Holding" below means confirmed or offered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, tuple_
from sqlalchemy.orm import Session

from api.repositories.base import Page, next_position, page_of
from api.tables import (
    BedNightRow,
    BookingRow,
    CaseRow,
    ProviderRow,
    ServedPartRow,
    UnitRow,
)
from scheduler.model import StayBooking, VisitBooking

__all__ = ["HOLDING", "BookingFilter", "BookingRepository", "TakenBedNight", "TakenPart"]

Booking = StayBooking | VisitBooking
# The statuses that hold capacity (a bed-night, a request part, sitters).
HOLDING = ("confirmed", "offered")
_OWNER_COLUMNS = {"unit": BookingRow.unit_id, "provider": BookingRow.provider_id}


@dataclass(frozen=True)
class BookingFilter:
    """What a booking list may be narrowed to; None means any.

    ``status`` is one status, or ``"holding"`` for confirmed and offered ones.
    """

    status: str | None = "confirmed"
    kind: str | None = None
    case_id: str | None = None
    request_id: str | None = None
    unit_id: str | None = None
    provider_id: str | None = None
    run_id: str | None = None
    on_or_after: dt.date | None = None
    before: dt.date | None = None


_HOLDING = BookingFilter(status="holding")


@dataclass(frozen=True)
class TakenBedNight:
    bed_id: str
    night: dt.date
    booking_id: str

    def __str__(self) -> str:
        return f"bed {self.bed_id} night {self.night} (booking {self.booking_id})"


@dataclass(frozen=True)
class TakenPart:
    request_id: str
    part: str
    booking_id: str

    def __str__(self) -> str:
        what = "stay" if self.part == "stay" else f"visit {self.part}"
        return f"request {self.request_id} {what} (booking {self.booking_id})"


def to_booking(row: BookingRow) -> Booking:
    """The domain booking a row holds."""
    if row.kind == "stay":
        return StayBooking(
            booking_id=row.booking_id,
            request_id=row.request_id,
            case_id=row.case_id,
            unit_id=row.unit_id or "",
            bed_id=row.bed_id or "",
            first_night=row.first_night or dt.date.min,
            nights=row.nights or 0,
            status="offered" if row.status == "offered" else "confirmed",
            extra_night_staff=row.extra_night_staff or 0,
        )
    return VisitBooking(
        booking_id=row.booking_id,
        request_id=row.request_id,
        visit_id=row.visit_id or "",
        case_id=row.case_id,
        provider_id=row.provider_id or "",
        day=row.day or dt.date.min,
        start=row.start or "",
        minutes=row.minutes or 0,
        sitters=2 if row.sitters == 2 else 1,
        status="offered" if row.status == "offered" else "confirmed",
    )


def _last_night(row: BookingRow) -> dt.date | None:
    if row.first_night is None or row.nights is None:
        return None
    return row.first_night + dt.timedelta(days=row.nights - 1)


class BookingRepository:
    """Bookings, their bed-nights and the request parts they serve."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, booking_id: str, *, for_update: bool = False) -> BookingRow | None:
        """The booking; with ``for_update``, locked until commit and read afresh.

        A writer that compares ``If-Match`` must hold the lock first: on
        PostgreSQL ``SELECT ... FOR UPDATE`` waits for a racing writer to commit
        and then returns the row as that writer left it. SQLite needs no row
        lock: its writers begin with ``BEGIN IMMEDIATE`` and hold the database.
        """
        if not for_update:
            return self.session.get(BookingRow, booking_id)
        return self.session.get(
            BookingRow, booking_id, with_for_update=True, populate_existing=True
        )

    def page(self, where: BookingFilter, limit: int, offset: int) -> Page[BookingRow]:
        return page_of(self.session, self._query(where), limit, offset)

    def confirmed(
        self,
        *,
        case_ids: Iterable[str] = (),
        unit_ids: Iterable[str] = (),
        provider_ids: Iterable[str] = (),
    ) -> list[BookingRow]:
        """Holding (confirmed or offered) bookings of any of these cases, units or
        providers."""
        wanted = [
            BookingRow.case_id.in_(set(case_ids)),
            BookingRow.unit_id.in_(set(unit_ids)),
            BookingRow.provider_id.in_(set(provider_ids)),
        ]
        query = self._query(_HOLDING).where(or_(*wanted))
        return list(self.session.scalars(query))

    def confirmed_all(self) -> list[BookingRow]:
        """Every holding (confirmed or offered) booking, in the order they were made."""
        return list(self.session.scalars(self._query(_HOLDING)))

    def overlapping(self, first_night: dt.date, last_night: dt.date) -> list[BookingRow]:
        """Holding (confirmed or offered) stays holding a night in, and visits on a day
        in, the range."""
        stays = and_(
            BookingRow.kind == "stay",
            BookingRow.first_night <= last_night,
        )
        visits = and_(
            BookingRow.kind == "visit",
            BookingRow.day >= first_night,
            BookingRow.day <= last_night,
        )
        query = self._query(_HOLDING).where(or_(stays, visits))
        return [
            row
            for row in self.session.scalars(query)
            if row.kind == "visit" or (_last_night(row) or dt.date.min) >= first_night
        ]

    def last_change(
        self, owner_kind: str | None = None, owner_id: str | None = None
    ) -> tuple[int, dt.datetime | None]:
        """How many bookings (of any status) there are and when the latest changed:
        of every unit and provider, or of one (``owner_kind`` "unit" or "provider")."""
        query = select(func.count(), func.max(BookingRow.updated_at))
        if owner_kind is not None:
            query = query.where(_OWNER_COLUMNS[owner_kind] == owner_id)
        count, latest = self.session.execute(query).one()
        return count, latest

    def calendar(
        self, owner_kind: str, owner_id: str, *, cancelled_since: dt.datetime
    ) -> list[tuple[BookingRow, dict[str, Any]]]:
        """A unit's or provider's confirmed bookings and those cancelled since
        ``cancelled_since``, each with its case's details, by booking id."""
        query = (
            select(BookingRow, CaseRow.body)
            .join(CaseRow, CaseRow.case_id == BookingRow.case_id)
            .where(
                _OWNER_COLUMNS[owner_kind] == owner_id,
                or_(
                    BookingRow.status == "confirmed",
                    and_(
                        BookingRow.status == "cancelled", BookingRow.updated_at >= cancelled_since
                    ),
                ),
            )
            .order_by(BookingRow.booking_id)
        )
        return [(row, care) for row, care in self.session.execute(query).all()]

    def add(self, booking: Booking, *, run_id: str | None, now: dt.datetime) -> BookingRow:
        """Insert a booking (confirmed, or offered as its ``status`` says) with its
        bed-nights and served part.

        Raises ``sqlalchemy.exc.IntegrityError`` (on flush) when a bed-night or a
        request part is already taken.
        """
        row = BookingRow(
            **_columns(booking),
            status=booking.status,
            version=1,
            run_id=run_id,
            position=next_position(self.session, BookingRow.position),
            created_at=now,
            updated_at=now,
        )
        self.session.add(row)
        self.session.flush()
        self._claim(booking)
        self.session.flush()
        return row

    def replace(self, row: BookingRow, booking: Booking, now: dt.datetime) -> None:
        """Change a booking in place: new bed-nights, one version up."""
        self.release(row)
        for name, value in _columns(booking).items():
            setattr(row, name, value)
        row.version += 1
        row.updated_at = now
        self.session.flush()
        self._claim(booking)
        self.session.flush()

    def cancel(self, row: BookingRow, now: dt.datetime) -> None:
        """Mark a booking cancelled and free its bed-nights and request part."""
        self.release(row)
        row.status = "cancelled"
        row.version += 1
        row.updated_at = now
        self.session.flush()

    def release(self, row: BookingRow) -> None:
        for table in (BedNightRow, ServedPartRow):
            self.session.execute(delete(table).where(table.booking_id == row.booking_id))

    def taken_bed_nights(self, bed_nights: Iterable[tuple[str, dt.date]]) -> list[TakenBedNight]:
        """Those of ``bed_nights`` already held, with the booking holding each."""
        pairs = sorted(set(bed_nights))
        if not pairs:
            return []
        query = (
            select(BedNightRow)
            .where(tuple_(BedNightRow.bed_id, BedNightRow.night).in_(pairs))
            .order_by(BedNightRow.bed_id, BedNightRow.night)
        )
        return [
            TakenBedNight(row.bed_id, row.night, row.booking_id)
            for row in self.session.scalars(query)
        ]

    def taken_parts(self, parts: Iterable[tuple[str, str]]) -> list[TakenPart]:
        """Those of ``(request_id, part)`` already served by a holding booking."""
        pairs = sorted(set(parts))
        if not pairs:
            return []
        query = select(ServedPartRow).where(
            tuple_(ServedPartRow.request_id, ServedPartRow.part).in_(pairs)
        )
        return [
            TakenPart(row.request_id, row.part, row.booking_id)
            for row in self.session.scalars(query)
        ]

    def lock(
        self, case_ids: Iterable[str], unit_ids: Iterable[str], provider_ids: Iterable[str]
    ) -> None:
        """Lock these cases, units and providers until commit, always in one order.

        Whoever checks a booking against the hard rules holds these locks, so
        two bookings can't both pass a capacity check that only one fits.
        SQLite needs nothing here: its writers already hold the database lock.
        """
        if self.session.get_bind().dialect.name == "sqlite":
            return
        for column, ids in (
            (CaseRow.case_id, case_ids),
            (UnitRow.unit_id, unit_ids),
            (ProviderRow.provider_id, provider_ids),
        ):
            if ids:
                query = select(column).where(column.in_(set(ids))).order_by(column)
                self.session.execute(query.with_for_update())

    def twice_held_bed_nights(self) -> list[tuple[str, dt.date]]:
        """Bed-nights held by more than one row (the unique constraint forbids it)."""
        query = (
            select(BedNightRow.bed_id, BedNightRow.night)
            .group_by(BedNightRow.bed_id, BedNightRow.night)
            .having(func.count() > 1)
        )
        return [(bed_id, night) for bed_id, night in self.session.execute(query).all()]

    def disagreeing(self) -> list[str]:
        """Bookings whose bed-night and served-part rows disagree with their status.

        A confirmed or offered stay holds exactly its bed's nights and its request's
        stay; such a visit holds its visit and no bed-night; a cancelled booking holds
        nothing.
        """
        nights: dict[str, set[tuple[str, dt.date]]] = {}
        for bed_night in self.session.scalars(select(BedNightRow)):
            nights.setdefault(bed_night.booking_id, set()).add((bed_night.bed_id, bed_night.night))
        parts: dict[str, set[tuple[str, str]]] = {}
        for served in self.session.scalars(select(ServedPartRow)):
            parts.setdefault(served.booking_id, set()).add((served.request_id, served.part))
        return [
            row.booking_id
            for row in self.session.scalars(select(BookingRow).order_by(BookingRow.booking_id))
            if _held(row) != (nights.get(row.booking_id, set()), parts.get(row.booking_id, set()))
        ]

    def _claim(self, booking: Booking) -> None:
        if isinstance(booking, StayBooking):
            for night in booking.night_list:
                self.session.add(
                    BedNightRow(bed_id=booking.bed_id, night=night, booking_id=booking.booking_id)
                )
            part = "stay"
        else:
            part = booking.visit_id
        self.session.add(
            ServedPartRow(request_id=booking.request_id, part=part, booking_id=booking.booking_id)
        )

    @staticmethod
    def _query(where: BookingFilter) -> Select[BookingRow]:
        query = select(BookingRow).order_by(BookingRow.position)
        if where.status == "holding":
            query = query.where(BookingRow.status.in_(HOLDING))
        elif where.status is not None:
            query = query.where(BookingRow.status == where.status)
        for column, value in (
            (BookingRow.kind, where.kind),
            (BookingRow.case_id, where.case_id),
            (BookingRow.request_id, where.request_id),
            (BookingRow.unit_id, where.unit_id),
            (BookingRow.provider_id, where.provider_id),
            (BookingRow.run_id, where.run_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.on_or_after is not None:
            query = query.where(
                or_(
                    BookingRow.day >= where.on_or_after, BookingRow.first_night >= where.on_or_after
                )
            )
        if where.before is not None:
            query = query.where(
                or_(BookingRow.day < where.before, BookingRow.first_night < where.before)
            )
        return query


def _held(row: BookingRow) -> tuple[set[tuple[str, dt.date]], set[tuple[str, str]]]:
    """The bed-nights and request parts a booking row should hold, by its status."""
    if row.status not in HOLDING:
        return set(), set()
    if row.kind == "visit":
        return set(), {(row.request_id, row.visit_id or "")}
    first, count = row.first_night or dt.date.min, row.nights or 0
    held = {(row.bed_id or "", first + dt.timedelta(days=n)) for n in range(count)}
    return held, {(row.request_id, "stay")}


def _columns(booking: Booking) -> dict[str, object]:
    common = {
        "booking_id": booking.booking_id,
        "request_id": booking.request_id,
        "case_id": booking.case_id,
    }
    if isinstance(booking, StayBooking):
        return {
            **common,
            "kind": "stay",
            "unit_id": booking.unit_id,
            "bed_id": booking.bed_id,
            "first_night": booking.first_night,
            "nights": booking.nights,
            "extra_night_staff": booking.extra_night_staff,
        }
    return {
        **common,
        "kind": "visit",
        "visit_id": booking.visit_id,
        "provider_id": booking.provider_id,
        "day": booking.day,
        "start": booking.start,
        "minutes": booking.minutes,
        "sitters": booking.sitters,
    }
