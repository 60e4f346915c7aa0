"""A night visit competes for its provider's sitters on the next morning too."""

from __future__ import annotations

import datetime as dt

from api.services.bookings import _overlap
from scheduler.model import VisitBooking


def visit(booking_id: str, day: str, start: str, minutes: int) -> VisitBooking:
    return VisitBooking(
        booking_id=booking_id,
        request_id=f"R-{booking_id}",
        visit_id="V-1",
        case_id="C-1",
        provider_id="P-1",
        day=dt.date.fromisoformat(day),
        start=start,
        minutes=minutes,
    )


def test_a_night_visit_overlaps_a_visit_of_the_next_morning():
    # Tuesday 22:00 for 540 minutes runs to Wednesday 07:00: a Wednesday visit at
    # 06:00 overlaps it, one at 07:00 does not (it starts as the night ends).
    night = visit("B-1", "2026-03-03", "22:00", 540)
    assert _overlap(night, visit("B-2", "2026-03-04", "06:00", 60))
    assert not _overlap(night, visit("B-3", "2026-03-04", "07:00", 60))
    assert not _overlap(night, visit("B-4", "2026-03-03", "20:00", 120))
