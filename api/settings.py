"""Service settings, read from ``RESPITE_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from scheduler.model import MAX_WORKERS

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Settings of the brokerage service.

    Every field can be set with ``RESPITE_<FIELD>``, e.g.
    ``RESPITE_DATABASE_URL=postgresql+psycopg://user@host/respite``.
    """

    model_config = SettingsConfigDict(env_prefix="RESPITE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///respite.db",
        description="SQLAlchemy URL; the default is a SQLite file in the working directory.",
    )
    dask_scheduler: str | None = Field(
        default=None, description="e.g. tcp://host:8786: run solves on a Dask cluster."
    )
    workers: int = Field(
        default=1, ge=1, le=MAX_WORKERS, description="Solves run at once by local workers."
    )
    solver_threads: int = Field(
        default=2, ge=1, le=MAX_WORKERS, description="CP-SAT num_workers per solve."
    )
    start_method: Literal["spawn", "forkserver"] = "spawn"
    allocator: str = Field(
        default="scheduler.allocate:allocate",
        description="module:function called by workers; tests swap in a fake.",
    )
    heartbeat_seconds: float = Field(default=1.0, gt=0)
    progress_seconds: float = Field(default=0.5, ge=0)
    stale_after_seconds: float = Field(
        default=60.0, gt=0, description="A running job silent this long is marked failed."
    )
    migrate_on_start: bool = True
    max_page_size: int = Field(default=500, ge=1)
    whatif_workers: int | None = Field(
        default=None,
        ge=1,
        le=MAX_WORKERS,
        description="Local Dask workers for what-if scenarios (default: run_workers).",
    )
    job_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="Niceness of solver and scenario processes, so the API answers first.",
    )
    run_workers: int = Field(
        default_factory=lambda: max(1, (os.cpu_count() or 1) - 1),
        ge=1,
        description="At most this many CP-SAT workers (threads) in a run solved on this "
        "machine, and Dask workers in a what-if scenario run here (default: cores - 1, at "
        "least 1), so that a solve leaves the service a core to answer on.",
    )
    scenario_memory_mb: int = Field(
        default=2048,
        ge=64,
        description="Address space of each process of a what-if scenario (checking it "
        "at POST, and running it with its Dask workers), in MB; past it the scenario fails.",
    )
    scenario_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="Wall time a what-if scenario may run; past it, it is stopped and fails.",
    )
    scenario_check_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Wall time to check a scenario file (make its base, apply its changes) "
        "when it is posted; past it the POST is refused with 422.",
    )
    max_upload_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Larger uploads are refused with 413."
    )
    max_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Larger request bodies (but uploads) are refused with 413 before parsing; "
        "a county's problem file is 2.2 MB.",
    )

    def worker_database_url(self) -> str:
        """The database URL with a relative SQLite path made absolute, for other processes."""
        prefix = "sqlite:///"
        path = self.database_url.removeprefix(prefix)
        if not self.database_url.startswith(prefix) or path.startswith("/") or path == ":memory:":
            return self.database_url
        return prefix + str(Path(path).resolve())
