"""The audit trail: who changed what, when, before and after."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.repositories.base import Page, page_of
from api.tables import AuditRow

__all__ = ["AuditRepository"]


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(
        self,
        *,
        actor: str,
        action: str,
        entity: str,
        entity_id: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        now: dt.datetime,
    ) -> None:
        """Add one entry; it commits or rolls back with the change it describes."""
        self.session.add(
            AuditRow(
                at=now,
                actor=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                before=before,
                after=after,
            )
        )

    def latest_id(self) -> int | None:
        """The id of the latest entry, or None if there is none: it changes with every
        audited change."""
        return self.session.scalar(select(func.max(AuditRow.audit_id)))

    def page(
        self, entity: str | None, entity_id: str | None, limit: int, offset: int
    ) -> Page[AuditRow]:
        query = select(AuditRow).order_by(AuditRow.audit_id)
        if entity is not None:
            query = query.where(AuditRow.entity == entity)
        if entity_id is not None:
            query = query.where(AuditRow.entity_id == entity_id)
        return page_of(self.session, query, limit, offset)
