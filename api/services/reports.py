"""Reports on an allocation run's plan, or on the confirmed bookings."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from api.db import Database
from api.errors import NotFound
from api.repositories import AuditRepository, BookingRepository, RunRepository
from api.services.problems import ProblemService, build_problem
from api.services.rules import plan_of
from scheduler.kpis import compute_kpis
from scheduler.model import Horizon, Plan, Problem
from scheduler.reports.tables import REPORTS, render

__all__ = ["ReportService"]


def _fingerprint(session: Session, run_id: str | None) -> tuple[Any, ...]:
    """What a report's source depends on, read cheaply: the bookings' count and latest
    change, the latest audited change (every import and catalogue edit is audited), and
    the run's status."""
    count, latest = BookingRepository(session).last_change()
    audited = AuditRepository(session).latest_id()
    run = RunRepository(session).state(run_id) if run_id is not None else None
    return (count, latest, audited, run)


class ReportService:
    def __init__(self, db: Database, problems: ProblemService) -> None:
        self.db = db
        self.problems = problems
        # run_id (or None) -> (fingerprint, (problem, plan)): building a county problem
        # takes seconds, and reports are read far more often than data changes.
        self._cache: dict[str | None, tuple[tuple[Any, ...], tuple[Problem, Plan]]] = {}
        # (run_id, report, format) -> (the source it was made from, the text)
        self._texts: dict[tuple[str | None, str, str], tuple[tuple[Problem, Plan], str]] = {}
        self._locks: dict[str | None, threading.Lock] = defaultdict(threading.Lock)
        self._locks_lock = threading.Lock()

    def text(self, run_id: str | None, name: str, fmt: str) -> str:
        """Report ``name`` as JSON or CSV text, made again only when its source is."""
        source = self.source(run_id)
        key = (run_id, name, fmt)
        cached = self._texts.get(key)
        if cached is not None and cached[0] is source:
            return cached[1]
        text = render(REPORTS[name](*source), fmt)
        self._texts[key] = (source, text)
        return text

    def source(self, run_id: str | None) -> tuple[Problem, Plan]:
        """The problem and plan of :meth:`build`, cached while what they are made of is
        unchanged. One build at a time per source: requests arriving meanwhile wait for
        it rather than each building their own (which would starve the server)."""
        with self.db.read() as session:
            mark = _fingerprint(session, run_id)
        cached = self._cache.get(run_id)
        if cached is not None and cached[0] == mark:
            return cached[1]
        with self._locks_lock:
            lock = self._locks[run_id]
        with lock:
            cached = self._cache.get(run_id)
            if cached is not None and cached[0] == mark:
                return cached[1]  # built by the request this one waited for
            built = self.build(run_id)
            self._cache[run_id] = (mark, built)
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
