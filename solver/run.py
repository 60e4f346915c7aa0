"""One CP-SAT run's context: its parameters, its clock and deadline, the event that
stops it and the callback told of each better plan.

The clock is the wall clock, or with ``CpSatParams.deterministic`` the deterministic
time of the run's CP-SAT calls so far (each call then limited by deterministic time):
the time shares, and so the plan, no longer depend on how busy the machine is.

Every stage and search of a run reads these from one :class:`Run` instead of having
them passed down from :func:`solver.cpsat.solve_cpsat` layer by layer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from solver.params import CpSatParams, SearchParams

__all__ = ["ProgressFn", "Run"]

ProgressFn = Callable[[float | None, float | None, float | None, float, str], None]


@dataclass
class Run:
    """A run of :func:`solver.cpsat.solve_cpsat`, started at ``started`` (on the clock
    of :meth:`now`) with everything done by ``deadline``."""

    params: CpSatParams
    started: float
    deadline: float
    on_progress: ProgressFn | None = None
    stop: threading.Event | None = None
    spent: float = field(default=0.0, init=False)  # deterministic time of the calls so far

    @classmethod
    def start(
        cls,
        params: CpSatParams,
        on_progress: ProgressFn | None = None,
        stop: threading.Event | None = None,
    ) -> Run:
        """A run starting now, with ``params.time_limit`` seconds."""
        started = time.perf_counter()
        return cls(params, started, started + params.time_limit, on_progress, stop)

    def now(self) -> float:
        """The run's clock, in seconds (deterministic ones in a deterministic run)."""
        if self.params.deterministic:
            return self.started + self.spent
        return time.perf_counter()

    def wall_seconds(self) -> float:
        """Seconds on the wall clock since the run started, for reports."""
        return time.perf_counter() - self.started

    def limit(self, parameters: Any, seconds: float) -> None:
        """Limit a CP-SAT call (its ``parameters``) to ``seconds`` on the run's clock."""
        if self.params.deterministic:
            parameters.max_deterministic_time = seconds
        else:
            parameters.max_time_in_seconds = seconds

    def count(self, solver: cp_model.CpSolver) -> None:
        """Advance a deterministic run's clock by what a CP-SAT call spent."""
        if self.params.deterministic:
            self.spent += solver.response_proto.deterministic_time

    @property
    def search(self) -> SearchParams:
        """The search's tuning knobs."""
        return self.params.search

    @property
    def stopped(self) -> bool:
        """Whether the run was asked to stop."""
        return self.stop is not None and self.stop.is_set()

    def progress(self, stage: str, bound: float | None = None) -> _Progress:
        """A CP-SAT callback that reports each better plan of ``stage``; ``bound`` stands
        for CP-SAT's own where its call does not bound the stage (the search near the LP
        sees only part of the options)."""
        return _Progress(self, stage, bound)


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each better plan to the run's ``on_progress`` (see :meth:`Run.progress`)."""

    def __init__(self, run: Run, stage: str, bound: float | None = None):
        super().__init__()
        self.run = run
        self.stage = stage
        self.bound = bound

    def on_solution_callback(self) -> None:
        report = self.run.on_progress
        if report is None:
            return
        objective = self.objective_value
        bound = self.best_objective_bound if self.bound is None else self.bound
        gap = abs(bound - objective) / max(1.0, abs(bound))
        report(objective, bound, gap, self.run.wall_seconds(), self.stage)
