"""What-if scenario jobs: queued by planners, run on Dask from a thread of the server.

The job's state lives in ``scenario_runs``: progress as (done, total) tasks, and
when it ends the comparison (each KPI's mean and 95% interval per variant) and
the charts and HTML report it produced. A scenario that was queued or running
when its server stopped is marked failed at the next start, never left running.
"""

from __future__ import annotations

import base64
import tempfile
import threading
import tomllib
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from api.auth import Principal
from api.db import Database
from api.errors import Conflict, InvalidInput, NotFound
from api.repositories.base import Page, page_of
from api.schemas import ScenarioOut
from api.services.clock import as_utc, utcnow
from api.settings import Settings
from api.tables import ScenarioRow
from scheduler.whatif.scenario import ScenarioError, parse_scenario

__all__ = ["ScenarioService", "scenario_out"]

ACTIVE = ("queued", "running")
CHART = ".png"


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
        self._lock = threading.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

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
            session.add(row)
            out = scenario_out(row)
        self._pool.submit(self._run, row.scenario_id)
        return out

    def get(self, scenario_id: str) -> ScenarioOut:
        with self.db.read() as session:
            return scenario_out(_row(session, scenario_id))

    def list(self, limit: int, offset: int) -> Page[ScenarioOut]:
        with self.db.read() as session:
            query = select(ScenarioRow).order_by(ScenarioRow.created_at.desc())
            page = page_of(session, query, limit, offset)
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
            result = session.execute(
                update(ScenarioRow)
                .where(ScenarioRow.status.in_(ACTIVE), ScenarioRow.owner != self.owner)
                .values(
                    status="failed",
                    finished_at=utcnow(),
                    reason="the server stopped before this scenario finished",
                )
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # ----------------------------------------------------------------- the job thread

    def _run(self, scenario_id: str) -> None:
        from scheduler.whatif.output import write_outputs
        from scheduler.whatif.run import run_scenario

        try:
            with self.db.write() as session:
                row = _row(session, scenario_id)
                row.status, row.started_at = "running", utcnow()
                spec = dict(row.spec)
            scenario = parse_scenario(spec)
            outcome = run_scenario(
                scenario,
                workers=self.settings.whatif_workers,
                scheduler=self.settings.dask_scheduler,
                on_done=lambda done, total: self._progress(scenario_id, done),
            )
            with tempfile.TemporaryDirectory() as tmp:
                write_outputs(scenario, outcome, Path(tmp))
                files = {
                    path.name: base64.b64encode(path.read_bytes()).decode("ascii")
                    for path in Path(tmp).iterdir()
                    if path.suffix in (CHART, ".html", ".csv")
                }
            self._finish(scenario_id, "succeeded", summary=_json_safe(outcome.summary), files=files)
        except Exception as exc:  # a failed job says why; the server carries on
            self._finish(scenario_id, "failed", reason=f"{type(exc).__name__}: {exc}")

    def _progress(self, scenario_id: str, done: int) -> None:
        with self.db.write() as session:
            session.execute(
                update(ScenarioRow).where(ScenarioRow.scenario_id == scenario_id).values(done=done)
            )

    def _finish(self, scenario_id: str, status: str, **values: Any) -> None:
        with self.db.write() as session:
            session.execute(
                update(ScenarioRow)
                .where(ScenarioRow.scenario_id == scenario_id)
                .values(status=status, finished_at=utcnow(), **values)
            )


def _row(session: Any, scenario_id: str) -> ScenarioRow:
    row = session.get(ScenarioRow, scenario_id)
    if row is None:
        raise NotFound(f"scenario_id: no scenario '{scenario_id}'")
    return row  # type: ignore[no-any-return]


def _json_safe(value: Any) -> Any:
    """NaN (a KPI with nothing to average) as null, so that every database stores it."""
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value
