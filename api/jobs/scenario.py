"""What runs inside a scenario's processes: checking a scenario file, and running it.

Both run in child processes of the server (at lower priority), never in a thread
of it: making the base problem and applying the changes, the Dask scheduler, the
summaries and the charts would otherwise hold the server's interpreter (and its
memory) while brokers and providers wait for answers. Each child caps its own
address space (``RLIMIT_AS``, inherited by its Dask workers), so a scenario that
asks for too much fails with :data:`MEMORY_REASON` instead of taking the machine;
the server caps their wall time and kills what overruns.
"""

from __future__ import annotations

import base64
import contextlib
import multiprocessing
import os
import resource
import signal
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from api.clock import utcnow
from api.db import Database
from api.jobs.worker import lower_priority
from api.repositories.scenarios import ScenarioRepository

__all__ = [
    "CHART",
    "MEMORY_REASON",
    "check_scenario_job",
    "end_group",
    "finish_scenario",
    "near_memory_cap",
    "run_scenario_job",
]

CHART = ".png"
MEMORY_REASON = (
    "the scenario needed more memory than its cap of {mb} MB (RESPITE_SCENARIO_MEMORY_MB); "
    "make it smaller (fewer variants, weeks, replications or added items)"
)
WATCH_SECONDS = 1.0  # how often a running scenario looks whether it was cancelled


def cap_memory(memory_mb: int) -> None:
    """Cap this process's address space (and its children's) at ``memory_mb``."""
    limit = int(memory_mb) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def near_memory_cap(memory_mb: int) -> bool:
    """Whether this process's address space came within an eighth of its cap.

    Not every allocation that fails says so: some extensions report a failed
    allocation as another error (``SystemError``). A process that got this close
    to its cap failed for lack of memory, whatever the error says.
    """
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    peak = next((line.split()[1] for line in status.splitlines() if line.startswith("VmPeak:")), 0)
    return int(peak) * 1024 >= (int(memory_mb) << 20) * 7 // 8


def check_scenario_job(job: dict[str, Any], answer: Connection) -> None:
    """Check a scenario file (make its base, apply every change) and send the verdict.

    ``job`` holds ``spec`` (the parsed TOML), ``memory_mb`` and ``nice``. The verdict
    is ``{"total": tasks, "variants": count}``, ``{"invalid": message}`` (the file is
    wrong: 422) or ``{"invalid": MEMORY_REASON}`` when the memory cap was hit.
    """
    lower_priority(int(job.get("nice", 0)))
    cap_memory(job["memory_mb"])
    answer.send(_checked(job))
    answer.close()


def _checked(job: dict[str, Any]) -> dict[str, Any]:
    from scheduler.whatif.scenario import ScenarioError, parse_scenario

    try:
        scenario = parse_scenario(job["spec"])
        count = len(scenario.variants)
        return {"total": count * scenario.simulation.replications, "variants": count}
    except ScenarioError as exc:
        return {"invalid": str(exc)}
    except MemoryError:
        pass  # answered below, once the exception has let go of what filled the memory
    except Exception as exc:  # a value the parser did not foresee
        if not near_memory_cap(job["memory_mb"]):
            return {"invalid": f"scenario: {type(exc).__name__}: {str(exc).splitlines()[0]}"}
    return {"invalid": MEMORY_REASON.format(mb=job["memory_mb"])}


def run_scenario_job(job: dict[str, Any]) -> None:
    """Run the scenario ``job["scenario_id"]`` and store its outcome.

    ``job`` holds plain data: ``scenario_id``, ``database_url``, ``spec`` (the
    scenario file as parsed TOML), ``workers``, ``scheduler``, ``nice`` and
    ``memory_mb`` (the address space of this process and of each of its Dask
    workers).
    """
    lower_priority(int(job.get("nice", 0)))
    cap_memory(job["memory_mb"])
    # Its own process group, which its Dask workers join: ending the group (the
    # server does when this process ends, however it ends) ends them all.
    os.setpgid(0, 0)
    db = Database(job["database_url"])
    scenario_id = job["scenario_id"]
    watch = threading.Thread(
        target=_end_when_stopped, args=(db, scenario_id), name="respite-watch", daemon=True
    )
    watch.start()
    try:
        status, values = _outcome(db, job)
        finish_scenario(db, scenario_id, status, only_active=True, **values)
    finally:
        db.dispose()


def _outcome(db: Database, job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """How the scenario ended and what to store: its results, or why it failed."""
    try:
        return "succeeded", _results(db, job)
    except MemoryError:
        pass  # answered below, once the exception has let go of what filled the memory
    except Exception as exc:  # a failed job says why
        if not near_memory_cap(job["memory_mb"]):
            return "failed", {"reason": f"{type(exc).__name__}: {exc}"}
    return "failed", {"reason": MEMORY_REASON.format(mb=job["memory_mb"])}


def _results(db: Database, job: dict[str, Any]) -> dict[str, Any]:
    """Run the scenario; its summary and its files (charts, report, CSV) as base64."""
    from scheduler.whatif.output import write_outputs
    from scheduler.whatif.run import run_scenario
    from scheduler.whatif.scenario import parse_scenario

    scenario_id = job["scenario_id"]
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
    return {"summary": _json_safe(outcome.summary), "files": files}


def end_group(pid: int) -> None:
    """Kill whatever is left of the process group of the scenario process ``pid``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # nothing left
        os.killpg(pid, signal.SIGKILL)


def _end_when_stopped(db: Database, scenario_id: str) -> None:
    """End the group when the scenario is cancelled (by any server), or when the
    server that started it died: it would otherwise run on for nobody."""
    parent = multiprocessing.parent_process()
    while True:
        if parent is None:
            time.sleep(WATCH_SECONDS)
        else:
            parent.join(WATCH_SECONDS)
            if not parent.is_alive():
                os.killpg(0, signal.SIGKILL)
        with contextlib.suppress(Exception), db.read() as session:  # a passing database fault
            if ScenarioRepository(session).status_of(scenario_id) == "cancelled":
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
