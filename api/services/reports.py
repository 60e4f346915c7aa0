"""Reports on an allocation run's plan, or on the confirmed bookings."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import func, select

from api.db import Database
from api.errors import NotFound
from api.repositories.runs import RunRepository
from api.services.problems import ProblemService, build_problem
from api.services.rules import plan_of
from api.tables import BookingRow, RunRow
from scheduler.kpis import compute_kpis
from scheduler.model import Horizon, Plan, Problem

__all__ = ["FRESH_SECONDS", "ReportService"]

FRESH_SECONDS = 60.0


def _fingerprint(session: Any, run_id: str | None) -> tuple[Any, ...]:
    count, latest = session.execute(select(func.count(), func.max(BookingRow.updated_at))).one()
    run = session.get(RunRow, run_id) if run_id is not None else None
    return (count, latest, None if run is None else (run.status, run.finished_at))


class ReportService:
    def __init__(self, db: Database, problems: ProblemService) -> None:
        self.db = db
        self.problems = problems
        # run_id (or None) -> (fingerprint, when, (problem, plan)): building a county
        # problem takes seconds, and reports are read far more often than data changes.
        self._cache: dict[str | None, tuple[tuple[Any, ...], float, tuple[Problem, Plan]]] = {}

    def source(self, run_id: str | None) -> tuple[Problem, Plan]:
        """The problem and plan of :meth:`build`, cached while the bookings and the run
        are unchanged, for at most ``FRESH_SECONDS`` (catalogue edits show after that)."""
        with self.db.read() as session:
            mark = _fingerprint(session, run_id)
        cached = self._cache.get(run_id)
        if (
            cached is not None
            and cached[0] == mark
            and time.monotonic() - cached[1] < FRESH_SECONDS
        ):
            return cached[2]
        built = self.build(run_id)
        self._cache[run_id] = (mark, time.monotonic(), built)
        return built

    def build(self, run_id: str | None) -> tuple[Problem, Plan]:
        """The problem and plan a report is about.

        With ``run_id``: that run's plan, against the stored data for its dates.
        Without: the confirmed bookings as a plan (no unmet list: bookings alone
        do not say who went without).
        """
        if run_id is None:
            problem = self.problems.export_problem()
            plan = plan_of(problem.bookings)
            plan.kpis = compute_kpis(problem, plan.stays, plan.visits)
            return problem, plan
        with self.db.read() as session:
            row = RunRepository(session).get(run_id)
            if row is None:
                raise NotFound(f"run_id: no allocation run '{run_id}'")
            if row.plan is None:
                raise NotFound(f"run_id: run {run_id} is {row.status} and has no plan")
            horizon = Horizon(first_night=row.first_night, last_night=row.last_night)
            problem = build_problem(session, row.week_start, horizon)
            return problem, Plan.model_validate(row.plan)
