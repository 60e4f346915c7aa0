"""Allocation runs executed outside the web process.

A job is plain data (a dict of JSON values): the run id, the database URL and
the problem. :func:`api.jobs.worker.run_allocation` solves it in a worker
process, keeping the run's row current (state, progress, heartbeat) and
reading the cancel flag from it. :class:`LocalWorkers` starts one process per
run on this machine, each solving with at most ``run_workers`` CP-SAT workers
(fewer than the cores, so that the service keeps one to answer on);
:class:`DaskWorkers` sends runs to a Dask cluster.
"""

from __future__ import annotations

from typing import Any, Protocol

from api.db import Database
from api.settings import Settings

__all__ = ["Workers", "make_workers"]


class Workers(Protocol):
    """Where allocation jobs go."""

    embedded: bool  # True when runs die with this server

    def submit(self, job: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def make_workers(settings: Settings, db: Database) -> Workers:
    """Local worker processes, or a Dask cluster if ``dask_scheduler`` is set."""
    if settings.dask_scheduler:
        from api.jobs.dask import DaskWorkers

        return DaskWorkers(db, settings.dask_scheduler)
    from api.jobs.local import LocalWorkers

    return LocalWorkers(
        db,
        slots=settings.workers,
        start_method=settings.start_method,
        threads=settings.run_workers,
    )
