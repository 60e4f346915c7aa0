"""Provider and unit calendars: confirmed bookings as an RFC 5545 feed.

Rendering is a pure function of the bookings: no clock is read, events are
sorted, and ``DTSTAMP`` and ``LAST-MODIFIED`` come from each booking's last
change, so a feed whose bookings did not change is byte-for-byte the same (and
so is its ETag). Stays are all-day events from check-in to check-out; visits
are timed events in Europe/London with a ``VTIMEZONE`` covering the feed's
dates only; a night visit (22:00 for 540 minutes) ends on the next morning.

Only what staff need on shift goes in: the case reference and the care facts
(night support, bed needs, skills, sitters), never a name, address or date of
birth (the problem file holds none; the feed does not add any).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration

__all__ = ["TIMEZONE", "FeedEvent", "care_facts", "render_feed"]

TIMEZONE = "Europe/London"
PRODID = "-//respite//provider feeds//EN"
REFRESH = dt.timedelta(hours=1)
SUPPORT_WORDS = {
    "shared": "shared night support",
    "one_to_one": "1:1 night support",
    "two_to_one": "2:1 night support",
}


@dataclass(frozen=True)
class FeedEvent:
    """One booking as the feed shows it.

    A stay has ``first_night`` and ``nights``; a visit has ``day``, ``start``
    ("HH:MM", local time) and ``minutes``.
    """

    uid: str
    sequence: int
    last_modified: dt.datetime  # aware, the booking's last change
    summary: str
    description: str
    location: str
    cancelled: bool = False
    first_night: dt.date | None = None
    nights: int | None = None
    day: dt.date | None = None
    start: str | None = None
    minutes: int | None = None

    @property
    def first_day(self) -> dt.date:
        day = self.first_night if self.first_night is not None else self.day
        assert day is not None, "a feed event is a stay or a visit"
        return day

    @property
    def last_day(self) -> dt.date:
        if self.first_night is not None:
            return self.first_night + dt.timedelta(days=self.nights or 0)
        return self.ends.date()

    @property
    def begins(self) -> dt.datetime:
        """A visit's start, wall-clock time in Europe/London."""
        assert self.day is not None and self.start is not None, "a visit has a day and start"
        hour, minute = (int(part) for part in self.start.split(":"))
        return dt.datetime.combine(self.day, dt.time(hour, minute), tzinfo=ZoneInfo(TIMEZONE))

    @property
    def ends(self) -> dt.datetime:
        """A visit's end: ``minutes`` on the wall clock after its start, on the next day
        for a night visit (22:00 for 540 minutes ends 07:00 the next morning), as the
        problem counts a window's or shift's minutes."""
        assert self.minutes is not None, "a visit has minutes"
        return self.begins + dt.timedelta(minutes=self.minutes)


def care_facts(
    case_id: str,
    *,
    night_support: str | None = None,
    needs: Iterable[str] = (),
    sitters: int | None = None,
) -> str:
    """``C-00042 · 1:1 night support · hoist``: the reference and what matters on shift."""
    parts = [case_id]
    if night_support:
        parts.append(SUPPORT_WORDS.get(night_support, night_support))
    if sitters and sitters > 1:
        parts.append(f"{sitters} sitters (double-handed)")
    parts.extend(need.replace("_", " ") for need in sorted(needs))
    return " · ".join(parts)


def render_feed(name: str, events: Iterable[FeedEvent]) -> bytes:
    """The calendar called ``name`` holding ``events``, as RFC 5545 bytes."""
    ordered = sorted(events, key=lambda e: (e.first_day, e.start or "", e.uid))
    calendar = _calendar(name)
    if any(event.day is not None for event in ordered):
        first = min(e.first_day for e in ordered) - dt.timedelta(days=1)
        last = max(e.last_day for e in ordered) + dt.timedelta(days=1)
        calendar.add_component(Timezone.from_tzid(TIMEZONE, first_date=first, last_date=last))
    for event in ordered:
        calendar.add_component(_event(event))
    return calendar.to_ical()


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", TIMEZONE)
    calendar.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    return calendar


def _event(item: FeedEvent) -> Event:
    event = Event()
    stamp = item.last_modified.astimezone(dt.UTC)
    event.add("uid", item.uid)
    event.add("sequence", item.sequence)
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("summary", item.summary)
    event.add("description", item.description)
    event.add("location", item.location)
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if item.first_night is not None:
        event.add("dtstart", item.first_night)
        event.add("dtend", item.last_day)  # check-out morning: DTEND of a DATE is exclusive
    else:
        event.add("dtstart", item.begins)
        event.add("dtend", item.ends)
    return event
