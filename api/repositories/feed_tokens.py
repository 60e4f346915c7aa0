"""The tokens that open providers' and units' calendar feeds, kept as their SHA-256."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from api.tables import FeedTokenRow

__all__ = ["FeedTokenRepository"]


class FeedTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, kind: str, owner_id: str) -> FeedTokenRow | None:
        """The token of the feed of provider or unit (``kind``) ``owner_id``, if any."""
        return self.session.get(FeedTokenRow, (kind, owner_id))

    def replace(
        self, kind: str, owner_id: str, *, token_sha256: str, by: str, now: dt.datetime
    ) -> None:
        """Store a new token for the feed, in place of any earlier one."""
        row = self.get(kind, owner_id)
        if row is None:
            row = FeedTokenRow(owner_kind=kind, owner_id=owner_id)
            self.session.add(row)
        row.token_sha256 = token_sha256
        row.created_by = by
        row.created_at = now
