"""What-if scenario jobs: queued by planners, each run on Dask from a child process.

The job's state lives in ``scenario_runs``: progress as (done, total) tasks, and
when it ends the comparison (each KPI's mean and 95% interval per variant) and
the charts and HTML report it produced. A scenario that was queued or running
when its server stopped is marked failed at the next start, never left running.

Nothing of a scenario but reading its TOML happens in the server's process: the
file is checked (base made, changes applied) in a short-lived child and run in
another, each under a memory cap (``scenario_memory_mb``) and a wall-time cap
(``scenario_check_seconds``, ``scenario_seconds``). A planner can cancel a
queued or running scenario; a running one's process group is killed.
"""

from __future__ import annotations

import base64
import multiprocessing
import threading
import tomllib
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session

from api.auth import Principal
from api.clock import as_utc, utcnow
from api.db import Database
from api.errors import Conflict, InvalidInput, NotFound
from api.jobs.local import exit_reason
from api.jobs.scenario import (
    CHART,
    check_scenario_job,
    end_group,
    finish_scenario,
    run_scenario_job,
)
from api.repositories.base import Page
from api.repositories.scenarios import ACTIVE, ScenarioRepository
from api.schemas import ScenarioOut
from api.settings import Settings
from api.tables import ScenarioRow

__all__ = ["ScenarioService", "scenario_out"]


def scenario_out(row: ScenarioRow) -> ScenarioOut:
    return ScenarioOut(
        scenario_id=row.scenario_id,
        name=row.name,
        status=row.status,  # type: ignore[arg-type]
        created_by=row.created_by,
        created_at=as_utc(row.created_at) or row.created_at,
        started_at=as_utc(row.started_at),
        finished_at=as_utc(row.finished_at),
        done=row.done,
        total=row.total,
        reason=row.reason,
        summary=row.summary,
        charts=sorted(name for name in (row.files or {}) if name.endswith(CHART)),
    )


class ScenarioService:
    def __init__(self, db: Database, settings: Settings, owner: str) -> None:
        self.db = db
        self.settings = settings
        self.owner = owner
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="respite-whatif")
        self._context: Any = multiprocessing.get_context(settings.start_method)
        self._lock = threading.Lock()
        # One scenario file checked at a time: each check may take its memory cap.
        self._checking = threading.BoundedSemaphore(1)
        self._process: Any = None
        self._running: str | None = None  # the scenario whose process that is
        self._closed = False

    def close(self) -> None:
        """Stop taking scenarios; end the one running (it is marked failed)."""
        with self._lock:
            self._closed = True
            process = self._process
        self._pool.shutdown(wait=False, cancel_futures=True)  # queued ones never start
        if process is not None:
            process.terminate()
        self._pool.shutdown(wait=True)  # the running one records that it was stopped

    def create(self, principal: Principal, text: str, name: str | None) -> ScenarioOut:
        """Check the scenario file (TOML) and queue it; 422 names what is wrong."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"body: not valid TOML ({exc})") from None
        base = data.get("base", {})
        if isinstance(base, dict) and "problem" in base:
            raise InvalidInput("base.problem: the service takes a tier and seed, not a file path")
        checked = self._check(data)
        row = ScenarioRow(
            scenario_id=f"scn-{uuid.uuid4().hex[:12]}",
            status="queued",
            name=name or f"{checked['variants']} variants",
            spec=data,
            created_by=principal.actor,
            created_at=utcnow(),
            owner=self.owner,
            done=0,
            total=checked["total"],
        )
        with self.db.write() as session:
            ScenarioRepository(session).add(row)
            out = scenario_out(row)
        self._pool.submit(self._run, row.scenario_id)
        return out

    def cancel(self, principal: Principal, scenario_id: str) -> ScenarioOut:
        """Cancel a queued or running scenario; a running one's processes are killed.

        Raises
        ------
        Conflict
            The scenario has ended already.
        """
        with self.db.write() as session:
            row = _row(session, scenario_id)
            if row.status not in ACTIVE:
                raise Conflict(f"scenario {scenario_id} is {row.status}; it cannot be cancelled")
            ScenarioRepository(session).finish(
                scenario_id,
                "cancelled",
                utcnow(),
                only_active=True,
                reason=f"cancelled by {principal.actor}",
            )
        self._stop(scenario_id)  # another server's scenario sees the status and stops
        return self.get(scenario_id)

    def get(self, scenario_id: str) -> ScenarioOut:
        with self.db.read() as session:
            return scenario_out(_row(session, scenario_id))

    def list(self, limit: int, offset: int) -> Page[ScenarioOut]:
        with self.db.read() as session:
            page = ScenarioRepository(session).page(limit, offset)
            return Page([scenario_out(row) for row in page.items], page.total)

    def file(self, scenario_id: str, name: str) -> bytes:
        """A chart or the report of a finished scenario."""
        with self.db.read() as session:
            row = _row(session, scenario_id)
            files = row.files or {}
            if row.status != "succeeded":
                raise Conflict(f"scenario {scenario_id} is {row.status}; it has no results yet")
            if name not in files:
                raise NotFound(
                    f"name: scenario {scenario_id} has no '{name}' ({', '.join(sorted(files))})"
                )
            return base64.b64decode(files[name])

    def recover(self) -> int:
        """Fail the scenarios a stopped server left queued or running."""
        with self.db.write() as session:
            return ScenarioRepository(session).fail_unfinished(
                not_owner=self.owner,
                reason="the server stopped before this scenario finished",
                now=utcnow(),
            )

    def _check(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The checking child's verdict on ``spec``; 422 if the file is wrong, needs
        more memory than the cap or takes longer than ``scenario_check_seconds``;
        409 if another file is being checked for all that time."""
        if not self._checking.acquire(timeout=self.settings.scenario_check_seconds):
            raise Conflict("another scenario file is being checked; try again in a minute")
        try:
            return self._check_alone(spec)
        finally:
            self._checking.release()

    def _check_alone(self, spec: dict[str, Any]) -> dict[str, Any]:
        receive, send = self._context.Pipe(duplex=False)
        job = {"spec": spec, "memory_mb": self.settings.scenario_memory_mb}
        process = self._context.Process(
            target=check_scenario_job, args=(job | {"nice": self.settings.job_nice}, send)
        )
        process.start()
        send.close()
        try:
            verdict = _verdict(receive, self.settings.scenario_check_seconds)
            overran = verdict is None and process.is_alive()
        finally:
            process.kill()
            process.join()
            receive.close()
        if verdict is None:
            raise InvalidInput(_died(overran, process.exitcode, self.settings))
        if "invalid" in verdict:
            raise InvalidInput(verdict["invalid"])
        return verdict

    def _stop(self, scenario_id: str) -> None:
        with self._lock:
            process = self._process if self._running == scenario_id else None
        if process is not None:
            process.kill()
            end_group(process.pid)

    # ----------------------------------------------------------------- the job thread

    def _run(self, scenario_id: str) -> None:
        """Run the scenario in a child process and wait for it; if the process dies
        before recording an outcome, the scenario fails with the reason."""
        with self.db.read() as session:
            row = _row(session, scenario_id)
            if row.status != "queued":  # cancelled while it waited
                return
            spec = dict(row.spec)
        job = {
            "scenario_id": scenario_id,
            "database_url": self.settings.worker_database_url(),
            "spec": spec,
            "workers": self.settings.whatif_workers or self.settings.run_workers,
            "scheduler": self.settings.dask_scheduler,
            "nice": self.settings.job_nice,
            "memory_mb": self.settings.scenario_memory_mb,
        }
        try:
            process = self._context.Process(
                target=run_scenario_job, args=(job,), name=f"respite-{scenario_id}", daemon=False
            )
            with self._lock:
                if self._closed:
                    return
                process.start()
                self._process, self._running = process, scenario_id
            reason = self._wait(process)
        except Exception as exc:  # the process could not be started
            reason = f"the scenario could not be started: {exc}"
        finally:
            with self._lock:
                self._process, self._running = None, None
        finish_scenario(self.db, scenario_id, "failed", only_active=True, reason=reason)

    def _wait(self, process: Any) -> str:
        """Wait for the scenario's process, killing it past ``scenario_seconds``; why
        it ended, should it not have recorded an outcome itself."""
        process.join(self.settings.scenario_seconds)
        overran = process.is_alive()
        if overran:
            process.kill()
            process.join()
        end_group(process.pid)  # its Dask workers, if it could not close them
        if overran:
            return (
                f"the scenario ran longer than its cap of {self.settings.scenario_seconds:g} s "
                "(RESPITE_SCENARIO_SECONDS) and was stopped"
            )
        return exit_reason(process.exitcode)


def _verdict(receive: Any, seconds: float) -> dict[str, Any] | None:
    """What the checking child sent within ``seconds``; None if it sent nothing."""
    try:
        if receive.poll(seconds):
            verdict: dict[str, Any] = receive.recv()
            return verdict
    except (EOFError, OSError):  # it died before answering
        pass
    return None


def _died(overran: bool, exitcode: int | None, settings: Settings) -> str:
    """Why the checking child gave no verdict: it overran its time, or it died."""
    if overran:
        return (
            f"scenario: checking it took longer than {settings.scenario_check_seconds:g} s "
            "(RESPITE_SCENARIO_CHECK_SECONDS); make it smaller"
        )
    return (
        f"scenario: checking it stopped the checking process ({exit_reason(exitcode)}); "
        f"it may need more than {settings.scenario_memory_mb} MB (RESPITE_SCENARIO_MEMORY_MB)"
    )


def _row(session: Session, scenario_id: str) -> ScenarioRow:
    row = ScenarioRepository(session).get(scenario_id)
    if row is None:
        raise NotFound(f"scenario_id: no scenario '{scenario_id}'")
    return row
