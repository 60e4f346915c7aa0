"""What runs inside a scenario's process: one what-if scenario, start to finish.

A scenario runs in a child process of the server (at lower priority), not in a
thread of it: its Dask scheduler, its summaries and its charts would otherwise
hold the server's interpreter while brokers and providers wait for answers.
"""

from __future__ import annotations

import base64
import contextlib
import multiprocessing
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from api.clock import utcnow
from api.db import Database
from api.jobs.worker import lower_priority
from api.repositories.scenarios import ScenarioRepository

__all__ = ["CHART", "end_group", "finish_scenario", "run_scenario_job"]

CHART = ".png"


def run_scenario_job(job: dict[str, Any]) -> None:
    """Run the scenario ``job["scenario_id"]`` and store its outcome.

    ``job`` holds plain data: ``scenario_id``, ``database_url``, ``spec`` (the
    scenario file as parsed TOML), ``workers``, ``scheduler`` and ``nice``.
    """
    from scheduler.whatif.output import write_outputs
    from scheduler.whatif.run import run_scenario
    from scheduler.whatif.scenario import parse_scenario

    lower_priority(int(job.get("nice", 0)))
    # Its own process group, which its Dask workers join: ending the group (the
    # server does when this process ends, however it ends) ends them all.
    os.setpgid(0, 0)
    threading.Thread(target=_end_with_parent, name="respite-orphan", daemon=True).start()
    db = Database(job["database_url"])
    scenario_id = job["scenario_id"]
    try:
        try:
            with db.write() as session:
                ScenarioRepository(session).start(scenario_id, utcnow())
            scenario = parse_scenario(job["spec"])
            outcome = run_scenario(
                scenario,
                workers=job["workers"],
                scheduler=job["scheduler"],
                on_done=lambda done, total: _progress(db, scenario_id, done),
            )
            with tempfile.TemporaryDirectory() as tmp:
                write_outputs(scenario, outcome, Path(tmp))
                files = {
                    path.name: base64.b64encode(path.read_bytes()).decode("ascii")
                    for path in Path(tmp).iterdir()
                    if path.suffix in (CHART, ".html", ".csv")
                }
            summary = _json_safe(outcome.summary)
            finish_scenario(db, scenario_id, "succeeded", summary=summary, files=files)
        except Exception as exc:  # a failed job says why
            finish_scenario(db, scenario_id, "failed", reason=f"{type(exc).__name__}: {exc}")
    finally:
        db.dispose()


def end_group(pid: int) -> None:
    """Kill whatever is left of the process group of the scenario process ``pid``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # nothing left
        os.killpg(pid, signal.SIGKILL)


def _end_with_parent() -> None:
    """A scenario whose server died would otherwise run on for nobody: end the group."""
    parent = multiprocessing.parent_process()
    while parent is not None:
        parent.join(1.0)
        if not parent.is_alive():
            os.killpg(0, signal.SIGKILL)


def finish_scenario(
    db: Database, scenario_id: str, status: str, *, only_active: bool = False, **values: Any
) -> None:
    """Record how a scenario ended; with ``only_active``, only if it has not ended yet."""
    with db.write() as session:
        ScenarioRepository(session).finish(
            scenario_id, status, utcnow(), only_active=only_active, **values
        )


def _progress(db: Database, scenario_id: str, done: int) -> None:
    with db.write() as session:
        ScenarioRepository(session).record_progress(scenario_id, done)


def _json_safe(value: Any) -> Any:
    """NaN (a KPI with nothing to average) as null, so that every database stores it."""
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
