"""Allocation runs: the job table that web servers and workers share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.repositories.base import Page, page_of
from api.tables import RunRow

__all__ = ["ACTIVE", "FINISHED", "RunRepository"]

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")


class RunRepository:
    """Reads and moves allocation runs through their states.

    Every state change is one conditional ``UPDATE`` so that a worker, a
    cancelling broker and a recovering server never overwrite each other.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: RunRow) -> None:
        self.session.add(row)

    def get(self, run_id: str) -> RunRow | None:
        return self.session.get(RunRow, run_id)

    def locked(self, run_id: str) -> RunRow | None:
        """The run, its row locked until the transaction ends (PostgreSQL; a SQLite
        writer holds the whole database already), so its status cannot move meanwhile."""
        return self.session.get(RunRow, run_id, with_for_update=True, populate_existing=True)

    def state(self, run_id: str) -> tuple[str, dt.datetime | None] | None:
        """The run's status and when it finished (not its plan), or None if there is no run."""
        query = select(RunRow.status, RunRow.finished_at).where(RunRow.run_id == run_id)
        row = self.session.execute(query).one_or_none()
        return None if row is None else (row.status, row.finished_at)

    def page(self, status: str | None, limit: int, offset: int) -> Page[RunRow]:
        query = select(RunRow).order_by(RunRow.created_at.desc(), RunRow.run_id.desc())
        if status is not None:
            query = query.where(RunRow.status == status)
        return page_of(self.session, query, limit, offset)

    def start(self, run_id: str, worker: str, now: dt.datetime) -> bool:
        """Queued -> running; False if the run was cancelled (or taken) meanwhile."""
        return (
            self._move(
                run_id,
                ("queued",),
                status="running",
                worker=worker,
                started_at=now,
                heartbeat_at=now,
                cancel_requested=False,
            )
            or False
        )

    def heartbeat(self, run_id: str, now: dt.datetime) -> bool:
        """Note that the worker is alive; True if a broker asked to cancel."""
        self.session.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.status == "running")
            .values(heartbeat_at=now)
        )
        return bool(
            self.session.scalar(select(RunRow.cancel_requested).where(RunRow.run_id == run_id))
        )

    def record_progress(self, run_id: str, now: dt.datetime, **progress: Any) -> None:
        """Store the incumbent objective, bound, gap, elapsed seconds and stage."""
        self._move(run_id, ("running",), heartbeat_at=now, **progress)

    def finish(self, run_id: str, status: str, now: dt.datetime, **result: Any) -> bool:
        """Running -> succeeded, cancelled or failed, with the plan or the reason."""
        return self._move(run_id, ("running",), status=status, finished_at=now, **result)

    def request_cancel(self, run_id: str, now: dt.datetime) -> None:
        """Cancel a queued run at once; ask the worker of a running run to stop."""
        self._move(
            run_id,
            ("queued",),
            status="cancelled",
            finished_at=now,
            reason="cancelled before it started",
        )
        self._move(run_id, ("running",), cancel_requested=True)

    def fail(self, run_ids: Iterable[str], reason: str, now: dt.datetime) -> int:
        """Mark these runs failed if they are still queued or running."""
        ids = list(run_ids)
        if not ids:
            return 0
        result = self.session.execute(
            update(RunRow)
            .where(RunRow.run_id.in_(ids), RunRow.status.in_(ACTIVE))
            .values(status="failed", finished_at=now, reason=reason)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def active(self, *, not_owner: str | None = None) -> list[RunRow]:
        """Queued and running runs, optionally only those another server queued."""
        query = select(RunRow).where(RunRow.status.in_(ACTIVE))
        if not_owner is not None:
            query = query.where(RunRow.owner != not_owner)
        return list(self.session.scalars(query))

    def silent_since(self, cutoff: dt.datetime) -> list[RunRow]:
        """Running runs whose worker has not been heard from since ``cutoff``."""
        query = select(RunRow).where(RunRow.status == "running", RunRow.heartbeat_at < cutoff)
        return list(self.session.scalars(query))

    def mark_published(self, run_id: str, now: dt.datetime) -> None:
        self.session.execute(update(RunRow).where(RunRow.run_id == run_id).values(published_at=now))

    def _move(self, run_id: str, from_states: tuple[str, ...], **values: Any) -> bool:
        result = self.session.execute(
            update(RunRow)
            .where(RunRow.run_id == run_id, RunRow.status.in_(from_states))
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))
