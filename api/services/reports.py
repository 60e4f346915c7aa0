"""Reports on an allocation run's plan, or on the confirmed bookings."""

from __future__ import annotations

from api.db import Database
from api.errors import NotFound
from api.repositories.runs import RunRepository
from api.services.problems import ProblemService, build_problem
from api.services.rules import plan_of
from scheduler.kpis import compute_kpis
from scheduler.model import Horizon, Plan, Problem

__all__ = ["ReportService"]


class ReportService:
    def __init__(self, db: Database, problems: ProblemService) -> None:
        self.db = db
        self.problems = problems

    def source(self, run_id: str | None) -> tuple[Problem, Plan]:
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
