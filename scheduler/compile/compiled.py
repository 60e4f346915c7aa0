"""What compiling a problem gives: the solver input, the index to read it back by,
and what the filters removed (for the explanations of unmet requests)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from scheduler.compile.capacity import Capacity
from scheduler.compile.index import ClassInfo, Index, clock_of
from scheduler.model import (
    Plan,
    Problem,
    SittingRequest,
    StayBooking,
    StayRequest,
    UnmetReason,
    Visit,
    VisitBooking,
)
from solver import data as sd

__all__ = ["Compiled", "OptionBuilder", "OptionInputs", "Removals", "Removed", "RemovedKey"]

# (request_id, None) for a stay request, (request_id, visit_id) for a visit
RemovedKey = tuple[str, str | None]


@dataclass(frozen=True)
class Removed:
    """Options a filter removed: the unmet reason, and where (a unit, provider or date)."""

    reason: UnmetReason
    where: str
    detail: str


class Removals:
    """What the filters removed, noted once per (request or visit, reason, place).

    With ``on`` false nothing is noted (the what-if simulation explains nothing).
    """

    def __init__(self, on: bool):
        self.on = on
        self.removed: defaultdict[RemovedKey, list[Removed]] = defaultdict(list)
        self._seen: set[tuple[RemovedKey, UnmetReason, str]] = set()

    def note(self, key: RemovedKey, reason: UnmetReason, where: str, detail: str) -> None:
        """Note what a filter removed, unless the same reason was noted there before."""
        if self.on and (key, reason, where) not in self._seen:
            self._seen.add((key, reason, where))
            self.removed[key].append(Removed(reason, where, detail))

    def noted(self, key: RemovedKey, reason: UnmetReason, where: str) -> bool:
        """Whether :meth:`note` would keep nothing (asking first saves making a sentence)."""
        return (key, reason, where) in self._seen

    def extend(self, key: RemovedKey, items: list[Removed]) -> None:
        """Note ``items`` as they are (refusals made once and shared by several keys)."""
        if items and self.on:
            self.removed[key].extend(items)


@dataclass(frozen=True)
class OptionInputs:
    """What the stay and visit options are made from, and where their removals go."""

    problem: Problem
    index: Index
    capacity: Capacity
    previous: Plan | None
    removals: Removals


class OptionBuilder:
    """What the stay and visit option builders share: their inputs, and each case's
    limits by id."""

    def __init__(self, inputs: OptionInputs):
        self.problem = inputs.problem
        self.weights = inputs.problem.weights
        self.index = inputs.index
        self.capacity = inputs.capacity
        self.removals = inputs.removals
        case_ids = inputs.index.case_ids
        self.case_limits = dict(zip(case_ids, inputs.capacity.case_limits, strict=True))


@dataclass
class Compiled:
    """A problem compiled: the solver input and what reads the solution back."""

    problem: Problem
    data: sd.SolverInput
    index: Index
    booked_stays: list[StayBooking]
    booked_visits: list[VisitBooking]
    removed: dict[RemovedKey, list[Removed]] = field(default_factory=dict)
    booking_conflicts: list[str] = field(default_factory=list)

    @property
    def nights(self) -> list[dt.date]:
        return self.index.nights

    @property
    def classes(self) -> list[ClassInfo]:
        return self.index.classes

    @property
    def stay_requests(self) -> list[StayRequest]:
        return self.index.stay_requests

    @property
    def visits(self) -> list[tuple[SittingRequest, Visit]]:
        return self.index.visits

    @property
    def case_ids(self) -> list[str]:
        return self.index.case_ids

    @property
    def unit_ids(self) -> list[str]:
        return self.index.unit_ids

    @property
    def provider_ids(self) -> list[str]:
        return self.index.provider_ids

    @property
    def step(self) -> int:
        return self.data.step_minutes

    def day_of(self, day_idx: int) -> dt.date:
        return self.problem.week_start + dt.timedelta(days=day_idx)

    def clock(self, step_idx: int) -> str:
        return clock_of(step_idx, self.step)
