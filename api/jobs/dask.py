"""Runs on a Dask distributed cluster, so several API servers share many workers.

Workers need the package installed and the database reachable at the same URL.
A run outlives the server that queued it: its task is fired and forgotten, so
closing this server's client neither cancels it nor fails it; if its worker
falls silent, any server's reaper fails it.
"""

from __future__ import annotations

from typing import Any

from api.clock import utcnow
from api.db import Database
from api.jobs.worker import run_allocation
from api.repositories.runs import RunRepository

__all__ = ["DaskWorkers"]


class DaskWorkers:
    """Submits each job as one Dask task; plain data in and out."""

    embedded = False

    def __init__(self, db: Database, address: str) -> None:
        from distributed import Client

        self.db = db
        self.client = Client(address, set_as_default=False)
        self._closing = False

    def submit(self, job: dict[str, Any]) -> None:
        from distributed import fire_and_forget

        future = self.client.submit(
            run_allocation, job, key=f"respite-{job['run_id']}", pure=False, retries=0
        )
        fire_and_forget(future)
        future.add_done_callback(lambda done: self._settle(job["run_id"], done))

    def close(self) -> None:
        self._closing = True
        self.client.close()

    def _settle(self, run_id: str, future: Any) -> None:
        # Closing the client cancels its futures, not the tasks: those runs go on.
        if future.status == "finished" or (self._closing and future.status == "cancelled"):
            return
        try:
            reason = f"the Dask task ended {future.status}: {future.exception(timeout=5)!r}"
        except Exception as exc:
            reason = f"the Dask task ended {future.status}: {exc!r}"
        with self.db.write() as session:
            RunRepository(session).fail([run_id], reason, utcnow())
