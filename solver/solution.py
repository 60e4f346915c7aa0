"""What an engine returns: the options it chose, and how sure it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from solver.data import TIERS, SolverInput

__all__ = ["Solution", "SolveStatus", "StageReport", "tier_values"]


class SolveStatus(StrEnum):
    """How a solve (or one stage of it) ended. The values are what plans, the API and
    the database hold; a status is never an exception."""

    OPTIMAL = "optimal"  # proven best (a whole solve: every stage proven)
    FEASIBLE = "feasible"  # a plan that keeps every rule, not proven best (greedy's always)
    UNKNOWN = "unknown"  # a stage left unsearched, with no time left: it keeps its start
    STOPPED = "stopped"  # asked to stop: the best plan so far
    INFEASIBLE_BOOKINGS = "infeasible_bookings"  # confirmed bookings break a rule: no solve
    MANUAL = "manual"  # a plan made by hand from the bookings, checked but not solved


@dataclass
class StageReport:
    """One stage of the lexicographic solve: its value, CP-SAT's bound and the LP bound,
    each in the stage's own units, given the stages before it at their values."""

    name: str
    value: int
    bound: int | None = None
    lp_bound: int | None = None
    status: SolveStatus = SolveStatus.OPTIMAL

    def add(self, other: StageReport) -> None:
        """Sum over independent parts."""
        self.value += other.value
        self.bound = None if self.bound is None or other.bound is None else self.bound + other.bound
        self.lp_bound = (
            None
            if self.lp_bound is None or other.lp_bound is None
            else self.lp_bound + other.lp_bound
        )
        if other.status != SolveStatus.OPTIMAL:
            self.status = other.status

    @property
    def serves(self) -> bool:
        """True for stages holding a service tier (crisis, health appointments, need):
        the tiers that decide who is served. ``gap`` in a plan is theirs; the stages of
        the tie-breakers (preferences, cost, travel, stability) report their own."""
        return any(name in self.name for name in TIERS[:3])


@dataclass
class Solution:
    """Chosen options: ``stays[request_idx] = option_idx``, ``visits[visit_idx] = option_idx``."""

    stays: dict[int, int]
    visits: dict[int, int]
    engine: str
    status: SolveStatus
    seconds: float = 0.0
    seed: int | None = None
    stages: list[StageReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lp_seconds: float = 0.0  # spent on LP bounds after the search (within ``seconds``)


def tier_values(data: SolverInput, stays: dict[int, int], visits: dict[int, int]) -> list[int]:
    """Value of every tier of :data:`solver.data.TIERS` for the chosen options (tier 2
    with the sitting bonuses they earn: :meth:`SolverInput.sitting_bonus`)."""
    totals = [0] * len(TIERS)
    for opt_idx in stays.values():
        for k, v in enumerate(data.option_tiers("stay", opt_idx)):
            totals[k] += v
    for opt_idx in visits.values():
        for k, v in enumerate(data.option_tiers("visit", opt_idx)):
            totals[k] += v
    totals[TIERS.index("need_weighted_units")] += data.sitting_bonus(visits)
    return totals
