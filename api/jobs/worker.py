"""What runs inside a worker process: one allocation run, start to finish.

This module must stay light and free of FastAPI: it is imported by every
worker process (local or Dask).
"""

from __future__ import annotations

import datetime as dt
import importlib
import multiprocessing
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from api.clock import utcnow
from api.db import Database
from api.repositories.runs import RunRepository

__all__ = ["lower_priority", "resolve_allocator", "run_allocation"]


def resolve_allocator(path: str) -> Callable[..., Any]:
    """``"package.module:function"`` -> the function."""
    module_name, _, name = path.partition(":")
    return getattr(importlib.import_module(module_name), name or "allocate")  # type: ignore[no-any-return]


def lower_priority(nice: int) -> None:
    """Run this process at niceness ``nice`` (at least), so that a server on the same
    machine answers first; a worker process reused for many jobs goes no lower."""
    if nice > 0 and hasattr(os, "nice"):
        os.nice(max(0, nice - os.nice(0)))


def run_allocation(job: dict[str, Any]) -> dict[str, Any]:
    """Solve one run and store its outcome; returns ``{"run_id", "status"}``.

    ``job`` holds plain data: ``run_id``, ``database_url``, ``week_start``,
    ``first_night`` and ``last_night`` (ISO dates; the problem is read from the
    database when solving starts), ``engine``, ``time_limit``, ``seed``, ``threads``,
    ``allocator``, ``heartbeat_seconds``, ``progress_seconds`` and ``nice``.
    """
    lower_priority(int(job.get("nice", 0)))
    db = Database(job["database_url"])
    run_id = job["run_id"]
    try:
        with db.write() as session:
            started = RunRepository(session).start(run_id, _worker_name(), utcnow())
        if not started:  # cancelled while queued, or taken by another worker
            return {"run_id": run_id, "status": "skipped"}
        return {"run_id": run_id, "status": _Solve(db, job).run()}
    finally:
        db.dispose()


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class _Unreadable(Exception):
    """The problem could not be read from the database."""


class _Solve:
    """One solve with its watcher thread: heartbeat, cancel flag, orphan check."""

    def __init__(self, db: Database, job: dict[str, Any]) -> None:
        self.db = db
        self.job = job
        self.run_id: str = job["run_id"]
        self.stop = threading.Event()
        self.done = threading.Event()
        self.cancelled = False
        self.orphaned = False
        self._last_progress = 0.0

    def run(self) -> str:
        watcher = threading.Thread(target=self._watch, name="respite-watch", daemon=True)
        watcher.start()
        try:
            status, result = self._solve()
        except _Unreadable as exc:
            status, result = "failed", {"reason": f"the stored problem cannot be solved: {exc}"}
        except Exception as exc:
            status = "failed"
            result = {"reason": f"the solver raised {type(exc).__name__}: {exc}"}
            traceback.print_exc()
        finally:
            self.done.set()
            watcher.join()
        with self.db.write() as session:
            RunRepository(session).finish(self.run_id, status, utcnow(), **result)
        return status

    def _solve(self) -> tuple[str, dict[str, Any]]:
        from pydantic import ValidationError

        from api.errors import InvalidInput
        from api.services.problems import build_problem
        from scheduler.model import Horizon

        horizon = Horizon(
            first_night=dt.date.fromisoformat(self.job["first_night"]),
            last_night=dt.date.fromisoformat(self.job["last_night"]),
        )
        try:
            with self.db.read() as session:
                week_start = dt.date.fromisoformat(self.job["week_start"])
                problem = build_problem(session, week_start, horizon)
        except InvalidInput as exc:  # the stored data breaks the problem contract
            raise _Unreadable(exc.detail) from exc
        except ValidationError as exc:  # a stored row no longer makes its model
            where = "; ".join(
                f"{exc.title}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise _Unreadable(where) from exc
        allocate = resolve_allocator(self.job["allocator"])
        outcome = allocate(
            problem,
            engine=self.job["engine"],
            time_limit=self.job["time_limit"],
            workers=self.job["threads"],
            seed=self.job["seed"],
            on_progress=self._progress,
            stop=self.stop,
        )
        result = {
            "plan": outcome.plan.model_dump(mode="json"),
            "objective": outcome.objective,
            "bound": outcome.bound,
            "gap": outcome.gap,
            "elapsed": round(outcome.seconds, 3),
            "solver_status": outcome.status,
            "stage": "done",  # not the last stage that happened to report progress
        }
        if self.orphaned:
            return "failed", {**result, "reason": "the server that queued this run stopped"}
        if self.cancelled:
            return "cancelled", {**result, "reason": "cancelled; the best plan found is kept"}
        return "succeeded", result

    def _progress(self, progress: Any) -> None:
        now = time.monotonic()
        if now - self._last_progress < self.job["progress_seconds"]:
            return
        self._last_progress = now
        with self.db.write() as session:
            RunRepository(session).record_progress(
                self.run_id,
                utcnow(),
                objective=progress.objective,
                bound=progress.bound,
                gap=progress.gap,
                elapsed=round(progress.seconds, 3),
                stage=progress.stage or None,
            )

    def _watch(self) -> None:
        parent = multiprocessing.parent_process()
        while not self.done.wait(self.job["heartbeat_seconds"]):
            with self.db.write() as session:
                self.cancelled = RunRepository(session).heartbeat(self.run_id, utcnow())
            # A local worker whose server died would otherwise solve for nobody.
            self.orphaned = parent is not None and not parent.is_alive()
            if self.cancelled or self.orphaned:
                self.stop.set()
