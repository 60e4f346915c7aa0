"""What-if scenario jobs: queued by planners, each run on Dask from a child process.

The job's state lives in ``scenario_runs``: progress as (done, total) tasks, and
when it ends the comparison (each KPI's mean and 95% interval per variant) and
the charts and HTML report it produced. A scenario that was queued or running
when its server stopped is marked failed at the next start, never left running.
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
from api.jobs.scenario import CHART, end_group, finish_scenario, run_scenario_job
from api.repositories.base import Page
from api.repositories.scenarios import ScenarioRepository
from api.schemas import ScenarioOut
from api.settings import Settings
from api.tables import ScenarioRow
from scheduler.whatif.scenario import ScenarioError, parse_scenario

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
        self._process: Any = None
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
        if "problem" in data.get("base", {}):
            raise InvalidInput("base.problem: the service takes a tier and seed, not a file path")
        try:
            scenario = parse_scenario(data)
        except ScenarioError as exc:
            raise InvalidInput(str(exc)) from None
        sim = scenario.simulation
        row = ScenarioRow(
            scenario_id=f"scn-{uuid.uuid4().hex[:12]}",
            status="queued",
            name=name or f"{len(scenario.variants)} variants",
            spec=data,
            created_by=principal.actor,
            created_at=utcnow(),
            owner=self.owner,
            done=0,
            total=len(scenario.variants) * sim.replications,
        )
        with self.db.write() as session:
            ScenarioRepository(session).add(row)
            out = scenario_out(row)
        self._pool.submit(self._run, row.scenario_id)
        return out

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

    # ----------------------------------------------------------------- the job thread

    def _run(self, scenario_id: str) -> None:
        """Run the scenario in a child process and wait for it; if the process dies
        before recording an outcome, the scenario fails with the reason."""
        with self.db.read() as session:
            spec = dict(_row(session, scenario_id).spec)
        job = {
            "scenario_id": scenario_id,
            "database_url": self.settings.worker_database_url(),
            "spec": spec,
            "workers": self.settings.whatif_workers,
            "scheduler": self.settings.dask_scheduler,
            "nice": self.settings.job_nice,
        }
        try:
            process = self._context.Process(
                target=run_scenario_job, args=(job,), name=f"respite-{scenario_id}", daemon=False
            )
            with self._lock:
                if self._closed:
                    return
                process.start()
                self._process = process
            process.join()
            end_group(process.pid)  # its Dask workers, if it could not close them
            reason = exit_reason(process.exitcode)
        except Exception as exc:  # the process could not be started
            reason = f"the scenario could not be started: {exc}"
        finally:
            with self._lock:
                self._process = None
        finish_scenario(self.db, scenario_id, "failed", only_active=True, reason=reason)


def _row(session: Session, scenario_id: str) -> ScenarioRow:
    row = ScenarioRepository(session).get(scenario_id)
    if row is None:
        raise NotFound(f"scenario_id: no scenario '{scenario_id}'")
    return row
