"""Calendar feeds for providers and units, opened by a secret token in the URL.

Calendar clients cannot send headers, so the token travels in the query string.
It is 32 random bytes (``secrets.token_urlsafe``), kept only as its SHA-256,
compared in constant time, and replaced (the old one dead at once) by an admin
or broker. A wrong, missing or revoked token and an unknown provider all get the
same 404: the answer never says whether the provider exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.orm import Session

from api.clock import as_utc, utcnow
from api.db import Database
from api.errors import NotFound
from api.repositories import (
    AuditRepository,
    BookingRepository,
    FeedTokenRepository,
    ProviderRepository,
    UnitRepository,
)
from api.tables import BookingRow
from scheduler.ical import FeedEvent, care_facts, render_feed

__all__ = ["CANCELLED_KEPT", "Feed", "FeedService", "OwnerKind"]

OwnerKind = Literal["provider", "unit"]
CANCELLED_KEPT = dt.timedelta(days=7)  # a cancelled booking shows as CANCELLED this long
NO_FEED = "no calendar feed at this address"  # the one answer to every bad feed URL


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str


@dataclass(frozen=True)
class IssuedToken:
    token: str
    path: str


class FeedService:
    def __init__(self, db: Database, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.db = db
        self.clock = clock
        # (kind, owner) -> (fingerprint, feed): most refreshes find nothing changed.
        self._cache: dict[tuple[str, str], tuple[tuple[Any, ...], Feed]] = {}

    def issue(self, kind: OwnerKind, owner_id: str, *, actor: str) -> IssuedToken:
        """A new token for the feed of ``owner_id``; any earlier token stops working."""
        token = secrets.token_urlsafe(32)
        with self.db.write() as session:
            if _owner_name(session, kind, owner_id) is None:
                raise NotFound(f"{kind}_id: no {kind} '{owner_id}'")
            FeedTokenRepository(session).replace(
                kind, owner_id, token_sha256=_digest(token), by=actor, now=self.clock()
            )
            AuditRepository(session).record(
                actor=actor,
                action="issue",
                entity="feed_token",
                entity_id=f"{kind}:{owner_id}",
                before=None,
                after={"owner_kind": kind, "owner_id": owner_id},  # never the token
                now=self.clock(),
            )
        return IssuedToken(token, f"/v1/feeds/{kind}s/{owner_id}.ics?token={token}")

    def feed(self, kind: OwnerKind, owner_id: str, token: str | None) -> Feed:
        """The calendar of ``owner_id``'s confirmed bookings, if ``token`` opens it."""
        with self.db.read() as session:
            stored = FeedTokenRepository(session).get(kind, owner_id)
            given = _digest(token or "")
            if stored is None or not token or not hmac.compare_digest(given, stored.token_sha256):
                raise NotFound(NO_FEED)
            name = _owner_name(session, kind, owner_id)
            if name is None:
                raise NotFound(NO_FEED)
            key = (kind, owner_id)
            mark = (name, self._fingerprint(session, kind, owner_id))
            cached = self._cache.get(key)
            if cached is not None and cached[0] == mark:
                return cached[1]  # nothing the feed shows has changed
            events = [
                _event(row, care, names)
                for row, care, names in self._bookings(session, kind, owner_id)
            ]
        body = render_feed(f"Respite bookings: {name}", events)
        feed = Feed(body, '"' + hashlib.sha256(body).hexdigest() + '"')
        self._cache[key] = (mark, feed)
        return feed

    def _fingerprint(self, session: Session, kind: OwnerKind, owner_id: str) -> tuple[Any, ...]:
        """What the feed depends on, read cheaply: its bookings' count and latest change,
        and the day (a cancelled booking leaves after 7 days)."""
        count, latest = BookingRepository(session).last_change(kind, owner_id)
        return (count, latest, self._kept_since())

    def _kept_since(self) -> dt.datetime:
        """Cancellations since the start of the day 7 days ago stay in the feed."""
        day = (self.clock() - CANCELLED_KEPT).date()
        return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)

    def _bookings(
        self, session: Session, kind: OwnerKind, owner_id: str
    ) -> list[tuple[BookingRow, dict[str, Any], dict[str, str]]]:
        names = UnitRepository(session).names()
        bookings = BookingRepository(session).calendar(
            kind, owner_id, cancelled_since=self._kept_since()
        )
        return [(row, care, names) for row, care in bookings]


def _event(row: BookingRow, case: dict[str, Any], unit_names: dict[str, str]) -> FeedEvent:
    changed = as_utc(row.updated_at) or row.updated_at
    common: dict[str, Any] = {
        "uid": f"{row.booking_id}@respite",
        "sequence": max(0, row.version - 1),
        "last_modified": changed,
        "cancelled": row.status == "cancelled",
    }
    if row.kind == "stay":
        unit = unit_names.get(row.unit_id or "", row.unit_id or "")
        facts = care_facts(
            row.case_id, night_support=case.get("night_support"), needs=case.get("bed_needs", [])
        )
        return FeedEvent(
            **common,
            summary=f"{row.case_id} stay, {row.nights} night(s)",
            description=facts,
            location=f"{unit}, bed {row.bed_id}",
            first_night=row.first_night,
            nights=row.nights,
        )
    facts = care_facts(row.case_id, needs=case.get("sitting_skills", []), sitters=row.sitters)
    return FeedEvent(
        **common,
        summary=f"{row.case_id} sitting visit, {row.minutes} min",
        description=facts,
        location=f"at home ({row.case_id})",
        day=row.day,
        start=row.start,
        minutes=row.minutes,
    )


def _owner_name(session: Session, kind: OwnerKind, owner_id: str) -> str | None:
    if kind == "provider":
        return ProviderRepository(session).name(owner_id)
    return UnitRepository(session).name(owner_id)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
