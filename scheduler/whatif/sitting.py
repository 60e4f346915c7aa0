"""Sitting in the simulation, allocated the greedy's way without compiling each week.

In the what-if simulation sitting is independent week by week: a week's visits
not given lapse, the rota and the weekly caps start afresh, and the weekly
problems carry no budgets, so nothing links sitting to the beds or to other
weeks. Each arrival copies a base sitting request onto the same weekdays, so
what it may be given depends only on its template and its carer: the
(day, start) slots inside its windows are the template's, once and for all, and
the providers that may serve the carer (area, skills, travel) are the carer's.

:class:`SittingGreedy` makes those once and then allocates a week as
:func:`solver.greedy.solve_greedy` does on the compiled week (crisis first, then
in order of arrival; each visit in the earliest slot, then the nearest provider,
that still has the sitters, the weekly hours and the carer's own time and
allowance free). The simulation uses it for the greedy engine; a test compares
it with compiling each week and running the greedy on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scheduler.compile import Index, tenths_km
from scheduler.compile.capacity import provider_week
from scheduler.compile.visits import serving_providers, window_starts
from scheduler.model import Problem, SittingRequest
from solver.steps import day_steps

__all__ = ["ServedVisit", "SittingArrival", "SittingGreedy"]


@dataclass(frozen=True, slots=True)
class SittingArrival:
    """A sitting request of the simulated week: a base request asked by ``case_id``."""

    request_id: str
    case_id: str
    priority: str
    template: SittingRequest
    kind: str = "sitting"


@dataclass(frozen=True, slots=True)
class ServedVisit:
    """A visit given (what the simulation's tally reads of a planned visit)."""

    request_id: str
    visit_id: str
    provider_id: str
    day: int  # 0..6 from the week's first day
    start: int  # minute of the day
    minutes: int
    sitters: int


@dataclass(frozen=True, slots=True)
class _Shape:
    visit_id: str
    minutes: int
    steps: int
    slots: tuple[tuple[int, int], ...]  # (day, start step), earliest first


@dataclass
class _Week:
    """What is left in one simulated week as its visits are placed."""

    free: list[list[list[int]]]  # [provider][day][step] sitters free
    provider_left: list[int]  # [provider] weekly sitter-minutes left under the cap
    case_left: dict[str, int] = field(default_factory=dict)  # sitting minutes left
    case_busy: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # (first, end)


class SittingGreedy:
    """The greedy's sitting for any week of ``problem``'s simulation.

    ``problem`` is the base problem (its providers, cases and sitting requests, with
    dates in the week from ``problem.week_start``); weeks are whole weeks later.
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        self.origin = problem.week_start
        # The compile step's own tables, made on the base problem without its bookings
        # (a simulated week books no sitting): its time step, each provider's sitters on
        # shift by day and step and weekly cap (H9), and who may serve a carer (H9 area
        # and skills, with the distance). A week compiled alone takes the gcd of its own
        # times, which can only be as fine or coarser; on the fixtures it is the same,
        # and the test compares there.
        index = Index.of(problem.model_copy(update={"bookings": []}))
        self.step = index.step_minutes
        self.steps_per_day = index.steps_per_day
        weeks = [provider_week(problem, index, p, [], []) for p in problem.providers]
        # [provider][day][step] sitters on shift, days 0..7 (7: the Monday after the week,
        # which a Sunday-night visit runs into)
        self.rota = [week.free for week in weeks]
        self.caps = [week.minutes_left for week in weeks]
        self.cases = problem.case_by_id()
        self._shapes: dict[int, list[_Shape]] = {}
        self._near: dict[str, list[tuple[int, int, float]]] = {}
        self._serving: dict[tuple[str, float], list[int]] = {}

    def week(self, arrivals: list[SittingArrival]) -> list[ServedVisit]:
        """Allocate one week's sitting arrivals; the visits given. In the compiled greedy's
        order (``solver.greedy.fill``): crisis first; within each, every request's first
        visit, then every second visit, and so on, each round fewest-served first, then in
        arrival order."""
        week = _Week(
            free=[[list(row) for row in days] for days in self.rota],
            provider_left=list(self.caps),
        )
        served: list[ServedVisit] = []
        given: dict[str, int] = {}  # request -> its visits served
        for crisis in (True, False):
            group = [a for a in arrivals if (a.priority == "crisis") == crisis]
            rounds = max((len(a.template.visits) for a in group), default=0)
            for nth in range(rounds):
                # fewest visits given so far first, then in arrival order (a stable sort)
                for arrival in sorted(group, key=lambda a: given.get(a.request_id, 0)):
                    shapes = self._shapes_of(arrival.template)
                    if nth < len(shapes):
                        visit = self._place(week, arrival, shapes[nth])
                        if visit is not None:
                            served.append(visit)
                            given[arrival.request_id] = given.get(arrival.request_id, 0) + 1
        return served

    def _place(self, week: _Week, arrival: SittingArrival, shape: _Shape) -> ServedVisit | None:
        """The visit ``shape`` of ``arrival`` where it first fits (taken from ``week``),
        or None."""
        template = arrival.template
        providers = self._providers(arrival.case_id, template)
        if not providers:
            return None
        sitters = 2 if template.double_handed else 1
        # H8 as the compile step counts it: exempt priorities draw nothing; the others
        # draw on the week's hours plus the banked hours the policy lets a carer use.
        draws = not self.problem.policy.exempt(arrival.priority)
        left = week.case_left.get(arrival.case_id)
        if left is None:
            case = self.cases[arrival.case_id]
            weekly = case.sitting_hours_per_week
            bank_weeks = self.problem.policy.sitting_bank_weeks
            left = round(60 * (weekly + min(case.sitting_hours_banked, bank_weeks * weekly)))
            week.case_left[arrival.case_id] = left
        if draws and left < shape.minutes:
            return None
        need = shape.minutes * sitters
        busy = week.case_busy.setdefault(arrival.case_id, [])
        for day, start in shape.slots:
            first = day * self.steps_per_day + start  # steps from the week's start
            end = first + shape.steps
            if any(s < end and first < e for s, e in busy):
                continue
            covered = day_steps(day, start, shape.steps, self.steps_per_day)
            for p in providers:
                rows = week.free[p]
                if week.provider_left[p] >= need and all(rows[d][t] >= sitters for d, t in covered):
                    for d, t in covered:
                        rows[d][t] -= sitters
                    week.provider_left[p] -= need
                    if draws:
                        week.case_left[arrival.case_id] = left - shape.minutes
                    busy.append((first, end))
                    return ServedVisit(
                        request_id=arrival.request_id,
                        visit_id=shape.visit_id,
                        provider_id=self.problem.providers[p].provider_id,
                        day=day,
                        start=start * self.step,
                        minutes=shape.minutes,
                        sitters=sitters,
                    )
        return None

    def _shapes_of(self, template: SittingRequest) -> list[_Shape]:
        """The template's visits with their slots inside their windows (H10)."""
        shapes = self._shapes.get(id(template))
        if shapes is None:
            shapes = []
            for visit in template.visits:
                slots: set[tuple[int, int]] = set()
                for window in visit.windows:
                    day = (window.day - self.origin).days % 7
                    starts = window_starts(window, visit.minutes, self.step)
                    # As the compile step: a start after midnight of Sunday's overnight
                    # window is in the next week, and left out.
                    slots.update((day + later, t) for later, t in starts if day + later < 7)
                shapes.append(
                    _Shape(
                        visit.visit_id,
                        visit.minutes,
                        visit.minutes // self.step,
                        tuple(sorted(slots)),
                    )
                )
            self._shapes[id(template)] = shapes
        return shapes

    def _providers(self, case_id: str, template: SittingRequest) -> list[int]:
        """The providers that may serve the carer (H8 eligibility, H9 area and skills,
        H7 travel), nearest first (ties in the problem's order)."""
        key = (case_id, template.max_travel_km)
        found = self._serving.get(key)
        if found is None:
            near = self._near.get(case_id)
            if near is None:
                near = self._near[case_id] = self._near_providers(case_id)
            limit = template.max_travel_km + 1e-9
            found = self._serving[key] = [idx for _, idx, km in near if km <= limit]
        return found

    def _near_providers(self, case_id: str) -> list[tuple[int, int, float]]:
        """(tenths of a km, provider, km) of the providers that may serve the carer
        (H8 eligibility, H9 area and skills) within their own travel limit (H7);
        nearest first."""
        case = self.cases[case_id]
        if "sitting" not in case.eligible:
            return []
        serving, _ = serving_providers(self.problem.providers, case)
        providers = self.problem.providers
        return sorted(
            (tenths_km(km), idx, km)
            for idx, km in serving
            if km <= providers[idx].max_travel_km + 1e-9
        )
