"""A run solved on the server's machine leaves the service a core: fewer solver
workers than cores (``run_workers``), one solve at a time by default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from api.db import Database, upgrade
from api.jobs.local import LocalWorkers
from api.settings import Settings


class _Started:
    """Stands in for a worker process: records the job it was given."""

    jobs: list[dict[str, Any]] = []  # noqa: RUF012 - one list shared by the test

    def __init__(self, *, target: Any, args: tuple[Any, ...], name: str, daemon: bool) -> None:
        self.jobs.append(args[0])
        self.exitcode = 0

    def start(self) -> None: ...

    def join(self) -> None: ...


def test_the_default_leaves_a_core_and_solves_one_run_at_a_time() -> None:
    settings = Settings()
    assert settings.run_workers == max(1, (os.cpu_count() or 1) - 1)
    assert settings.workers == 1


def test_local_workers_cut_a_jobs_solver_threads_to_run_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    upgrade(url)
    db = Database(url)
    workers = LocalWorkers(db, slots=1, start_method="spawn", threads=1)
    workers._context = type("Context", (), {"Process": _Started})()
    try:
        workers._run({"run_id": "run-1", "threads": 4})
        workers._run({"run_id": "run-2", "threads": 1})
    finally:
        workers.close()
        db.dispose()
    assert [job["threads"] for job in _Started.jobs] == [1, 1]
