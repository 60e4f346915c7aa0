"""Allocation runs: queue, watch, cancel, read the plan; recover after a crash."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from typing import Any

from api.auth import Principal
from api.clock import as_utc, utcnow
from api.db import Database
from api.errors import Conflict, NotFound
from api.jobs import Workers
from api.repositories import RunRepository
from api.repositories.base import Page
from api.schemas import RunCreate, RunOut, RunProgress
from api.services.problems import run_dates
from api.settings import Settings
from api.tables import RunRow
from scheduler.model import Horizon, Plan

__all__ = ["RunService", "new_owner", "run_out"]


def new_owner() -> str:
    """A name for this server instance, stored on the runs it queues."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def run_out(row: RunRow) -> RunOut:
    """The response body for a run row."""
    return RunOut(
        run_id=row.run_id,
        status=row.status,  # type: ignore[arg-type]
        week_start=row.week_start,
        horizon=Horizon(first_night=row.first_night, last_night=row.last_night),
        engine=row.engine,
        time_limit=row.time_limit,
        seed=row.seed,
        created_by=row.created_by,
        created_at=as_utc(row.created_at) or row.created_at,
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        progress=RunProgress(
            objective=row.objective,
            bound=row.bound,
            gap=row.gap,
            elapsed=row.elapsed,
            stage=row.stage,
        ),
        solver_status=row.solver_status,
        reason=row.reason,
        cancel_requested=row.cancel_requested,
        published_at=as_utc(row.published_at),
        has_plan=_has_plan(row),
    )


class RunService:
    """Allocation runs as jobs whose state lives in the database."""

    def __init__(self, db: Database, workers: Workers, settings: Settings, owner: str) -> None:
        self.db = db
        self.workers = workers
        self.settings = settings
        self.owner = owner

    def create(self, principal: Principal, body: RunCreate) -> RunOut:
        """Queue a run. Its worker reads the problem as stored when it starts solving
        (confirmed bookings then pinned): building a county problem takes the server
        half a second, which its other requests would wait for."""
        with self.db.read() as session:
            dates = run_dates(session, body.week_start, body.horizon)
            week_start, horizon = dates.week_start, dates.horizon
        row = RunRow(
            run_id=f"run-{uuid.uuid4().hex[:12]}",
            status="queued",
            week_start=week_start,
            first_night=horizon.first_night,
            last_night=horizon.last_night,
            engine=body.engine,
            time_limit=body.time_limit,
            seed=body.seed,
            created_by=principal.actor,
            created_at=utcnow(),
            owner=self.owner,
            cancel_requested=False,
        )
        with self.db.write() as session:
            RunRepository(session).add(row)
        self.workers.submit(self._job(row))
        return run_out(row)

    def get(self, run_id: str) -> RunOut:
        with self.db.read() as session:
            return run_out(_run(RunRepository(session), run_id))

    def list(self, status: str | None, limit: int, offset: int) -> Page[RunOut]:
        with self.db.read() as session:
            page = RunRepository(session).page(status, limit, offset)
            return Page([run_out(row) for row in page.items], page.total)

    def cancel(self, run_id: str) -> RunOut:
        """Cancel a queued run now; ask a running one to stop and keep its best plan."""
        with self.db.write() as session:
            runs = RunRepository(session)
            _run(runs, run_id)
            runs.request_cancel(run_id, utcnow())
        return self.get(run_id)

    def plan(self, run_id: str) -> Plan:
        """The run's plan file, unmet requests and their reasons included.

        Raises
        ------
        Conflict
            The run has no plan (yet).
        """
        with self.db.read() as session:
            row = _run(RunRepository(session), run_id)
            if row.plan is None:
                raise Conflict(f"run {run_id} is {row.status} and has no plan")
            return Plan.model_validate(row.plan)

    def recover(self) -> int:
        """Fail the runs a dead server left queued or running; how many were failed.

        With embedded workers every run of another server instance died with
        it; with Dask only runs whose worker has gone silent are failed.
        """
        now = utcnow()
        with self.db.write() as session:
            runs = RunRepository(session)
            if self.workers.embedded:
                orphans = [row.run_id for row in runs.active(not_owner=self.owner)]
                reason = "the server stopped before this run finished; start a new run"
                return runs.fail(orphans, reason, now)
        return self.fail_silent()

    def fail_silent(self) -> int:
        """Fail running runs whose worker has sent no heartbeat for a while."""
        limit = self.settings.stale_after_seconds
        with self.db.write() as session:
            runs = RunRepository(session)
            silent = runs.silent_since(utcnow() - dt.timedelta(seconds=limit))
            reason = f"no word from the worker for {limit:g} s; it has stopped"
            return runs.fail([row.run_id for row in silent], reason, utcnow())

    def _job(self, row: RunRow) -> dict[str, Any]:
        return {
            "run_id": row.run_id,
            "database_url": self.settings.worker_database_url(),
            "week_start": row.week_start.isoformat(),
            "first_night": row.first_night.isoformat(),
            "last_night": row.last_night.isoformat(),
            "engine": row.engine,
            "time_limit": row.time_limit,
            "seed": row.seed,
            "threads": self.settings.solver_threads,
            "allocator": self.settings.allocator,
            "heartbeat_seconds": self.settings.heartbeat_seconds,
            "progress_seconds": self.settings.progress_seconds,
            "nice": self.settings.job_nice,
        }


def _has_plan(row: RunRow) -> bool:
    """Whether the run has a plan, without reading the plan (a deferred column)."""
    loaded = row.__dict__
    if "plan" in loaded:  # set here, or read already
        return loaded["plan"] is not None
    return bool(loaded.get("has_plan"))  # read with the row (a new row has no plan)


def _run(runs: RunRepository, run_id: str) -> RunRow:
    row = runs.get(run_id)
    if row is None:
        raise NotFound(f"allocation run {run_id} does not exist")
    return row
