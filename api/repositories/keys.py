"""API keys, stored as the SHA-256 of their token."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.repositories.base import Page, page_of
from api.tables import ApiKeyRow

__all__ = ["KeyRepository"]


class KeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: ApiKeyRow) -> None:
        self.session.add(row)

    def get(self, key_id: str) -> ApiKeyRow | None:
        return self.session.get(ApiKeyRow, key_id)

    def by_token_hash(self, token_sha256: str) -> ApiKeyRow | None:
        """The live key with this token hash, if any."""
        query = select(ApiKeyRow).where(
            ApiKeyRow.token_sha256 == token_sha256, ApiKeyRow.revoked_at.is_(None)
        )
        return self.session.scalar(query)

    def page(self, limit: int, offset: int) -> Page[ApiKeyRow]:
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.key_id)
        return page_of(self.session, query, limit, offset)

    def revoke(self, row: ApiKeyRow, now: dt.datetime) -> None:
        row.revoked_at = now
