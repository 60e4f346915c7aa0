"""What-if scenarios: the job table that the server and a scenario's process share."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.repositories.base import Page, page_of
from api.tables import ScenarioRow

__all__ = ["ACTIVE", "ScenarioRepository"]

ACTIVE = ("queued", "running")
"""The statuses of a scenario that has not ended."""


class ScenarioRepository:
    """Reads scenarios and moves them through their states."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: ScenarioRow) -> None:
        self.session.add(row)

    def get(self, scenario_id: str) -> ScenarioRow | None:
        return self.session.get(ScenarioRow, scenario_id)

    def status_of(self, scenario_id: str) -> str | None:
        """The scenario's status as stored now (None if there is no such scenario)."""
        query = select(ScenarioRow.status).where(ScenarioRow.scenario_id == scenario_id)
        return self.session.scalar(query)

    def page(self, limit: int, offset: int) -> Page[ScenarioRow]:
        """The newest first."""
        query = select(ScenarioRow).order_by(ScenarioRow.created_at.desc())
        return page_of(self.session, query, limit, offset)

    def start(self, scenario_id: str, now: dt.datetime) -> None:
        self._set(scenario_id, status="running", started_at=now)

    def record_progress(self, scenario_id: str, done: int) -> None:
        """Store how many of the scenario's tasks are done."""
        self._set(scenario_id, done=done)

    def finish(
        self,
        scenario_id: str,
        status: str,
        now: dt.datetime,
        *,
        only_active: bool = False,
        **values: Any,
    ) -> None:
        """Record how a scenario ended; with ``only_active``, only if it has not ended yet."""
        query = update(ScenarioRow).where(ScenarioRow.scenario_id == scenario_id)
        if only_active:
            query = query.where(ScenarioRow.status.in_(ACTIVE))
        self.session.execute(query.values(status=status, finished_at=now, **values))

    def fail_unfinished(self, *, not_owner: str, reason: str, now: dt.datetime) -> int:
        """Fail the queued and running scenarios that another server queued; how many."""
        result = self.session.execute(
            update(ScenarioRow)
            .where(ScenarioRow.status.in_(ACTIVE), ScenarioRow.owner != not_owner)
            .values(status="failed", finished_at=now, reason=reason)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def _set(self, scenario_id: str, **values: Any) -> None:
        self.session.execute(
            update(ScenarioRow).where(ScenarioRow.scenario_id == scenario_id).values(**values)
        )
