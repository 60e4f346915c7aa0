"""The database's own state: the migration it is at."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = ["MigrationRepository"]


class MigrationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def revision(self) -> str | None:
        """The Alembic revision the database is migrated to; raises if it never was."""
        return self.session.scalar(text("SELECT version_num FROM alembic_version"))
