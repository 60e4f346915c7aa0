"""The planning data as a whole: is there any, clear it all, which ids exist, and
the problem-wide settings (horizon, sitting week, planned_on, policy, weights).

Each kind of planning item has its own repository (localities, cases, units,
providers, requests, budgets); bookings have theirs too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.tables import (
    BedNightRow,
    BedRow,
    BookingRow,
    BudgetRow,
    CaseRow,
    LocalityRow,
    NightStaffRow,
    PlanningRow,
    ProviderRow,
    RequestRow,
    ServedPartRow,
    UnitRow,
)
from scheduler.model import Horizon, Policy, Problem, Weights

__all__ = ["PlanningRepository", "ProblemSettings"]

_ID_COLUMNS = {
    "locality": LocalityRow.locality_id,
    "case": CaseRow.case_id,
    "unit": UnitRow.unit_id,
    "bed": BedRow.bed_id,
    "provider": ProviderRow.provider_id,
    "request": RequestRow.request_id,
    "budget": BudgetRow.budget_id,
}


class PlanningRepository:
    """What concerns the whole of the planning data that problems are built from."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def is_empty(self) -> bool:
        """True when nothing has been imported or created yet."""
        return self.session.scalar(select(LocalityRow.locality_id).limit(1)) is None

    def clear(self) -> None:
        """Delete every planning item and booking (runs, keys and audit stay)."""
        for table in (
            BedNightRow,
            ServedPartRow,
            BookingRow,
            RequestRow,
            BudgetRow,
            NightStaffRow,
            BedRow,
            UnitRow,
            ProviderRow,
            CaseRow,
            LocalityRow,
            PlanningRow,
        ):
            self.session.execute(delete(table))

    def existing_ids(self, noun: str, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that name a stored ``noun`` ("case", "unit", "bed", ...)."""
        wanted = set(ids)
        if not wanted:
            return set()
        column = _ID_COLUMNS[noun]
        return set(self.session.scalars(select(column).where(column.in_(wanted))))

    def save_settings(self, settings: ProblemSettings) -> None:
        """Store the problem-wide settings of the imported problem."""
        row = self.session.get(PlanningRow, 1) or PlanningRow(planning_id=1)
        row.first_night = settings.horizon.first_night
        row.last_night = settings.horizon.last_night
        row.week_start = settings.week_start
        row.planned_on = settings.planned_on
        row.policy = settings.policy.model_dump(mode="json")
        row.weights = settings.weights.model_dump(mode="json")
        self.session.add(row)

    def settings(self) -> ProblemSettings | None:
        """The stored problem-wide settings, or None before any import."""
        row = self.session.get(PlanningRow, 1)
        if row is None:
            return None
        return ProblemSettings(
            horizon=Horizon(first_night=row.first_night, last_night=row.last_night),
            week_start=row.week_start,
            planned_on=row.planned_on,
            policy=Policy.model_validate(row.policy or {}),
            weights=Weights.model_validate(row.weights),
        )


@dataclass(frozen=True)
class ProblemSettings:
    """A problem's settings beside its items: the nights and week planned, the day the
    plan is made (None: the horizon's first night), the council's policy, the weights."""

    horizon: Horizon
    week_start: dt.date
    planned_on: dt.date | None = None
    policy: Policy = field(default_factory=Policy)
    weights: Weights = field(default_factory=Weights)

    @classmethod
    def of(cls, problem: Problem) -> ProblemSettings:
        return cls(
            horizon=problem.horizon,
            week_start=problem.week_start,
            planned_on=problem.planned_on,
            policy=problem.policy,
            weights=problem.weights,
        )
