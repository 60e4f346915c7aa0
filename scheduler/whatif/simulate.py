"""One (variant, replication): a year of weeks, each allocated by the engine.

Demand arrives week by week from a seeded model fitted to the base problem:
for each (kind, priority, locality) the base problem's requests per week are
the Poisson rate (times the variant's demand scale), and each arrival copies a
base request of that group picked at random (so stay lengths, windows, visit
patterns and the cases who ask follow the base problem), moved to its week on
the same weekday. Each week's problem holds that week's arrivals, the planned
and health-appointment stay requests still waiting, and, pinned as bookings, the
stays confirmed in earlier weeks; it is allocated by the engine (greedy, or
CP-SAT with a short time limit). What is served is confirmed; a crisis request
not served in its own week is lost (turned away); other stay requests wait and
come back the next week, until after ``max_wait_weeks`` (default 8) they are
withdrawn and counted unmet. Sitting is asked afresh every week (the rate is
the base problem's sitting week), so a week's sitting not given lapses and is
counted unmet rather than asked for twice. Each arrival is made by a carer of its
locality eligible for its kind, picked at random (the base problem is a snapshot of
a month's requests: its own askers would otherwise ask twelve times a year).

Each week is planned on its Monday (``planned_on``) under the base problem's
``policy``: exempt priorities draw on no allowance, spot beds go to whom the policy
allows, crisis reserves hold. Each case keeps its own allowance year: its
``allowance_year_start`` if the base problem gives one, else a day spread through the
year (fixed by its ``case_id``, see :func:`spread_year_start`), as councils' carers
join through the year. ``nights_used`` counts the nights of the case's stays that draw
on its allowance since its current year began, from zero at the simulation's start, and
starts again at each anniversary: allowances no longer all run out together late in
the simulated year, emptying the beds.

With the greedy engine a week's sitting is allocated apart from its stays, without
compiling it (:mod:`scheduler.whatif.sitting`: the same visits as the greedy on the
compiled week, since here nothing links sitting to the beds or to other weeks).

Tasks take and return plain data (dicts), so that they travel to Dask workers.
Budgets are left out of the weekly problems (they cover the base problem's
horizon, not a week); money is reported instead: what the plans add (spot nights,
agency staff, sitting; H12) and the block contracts prorated to the weeks simulated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import math
import time
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scheduler.compile import compile_problem
from scheduler.decode import new_items
from scheduler.kpis import rota_minutes
from scheduler.model import (
    Case,
    Horizon,
    PlannedStay,
    PlannedVisit,
    Problem,
    SittingRequest,
    StayBooking,
    StayRequest,
    Visit,
    Window,
    anniversary,
    first_april_before,
)
from scheduler.whatif.sitting import ServedVisit, SittingArrival, SittingGreedy
from solver.greedy import solve_greedy

__all__ = ["HORIZON_NIGHTS", "run_replication", "spread_year_start", "year_start_on"]

HORIZON_NIGHTS = 28  # a week of starts plus the longest stay (14) and a week to spare
MAX_WAIT_WEEKS = 8  # a planned request unserved this long is withdrawn (counted unmet)
Request = StayRequest | SittingRequest
Arrival = StayRequest | SittingArrival


@dataclass
class _Waiting:
    request: StayRequest
    arrived: int  # week index


@dataclass
class _Tally:
    # Requests by (kind, priority); the figures by priority or by kind are sums of these.
    arrived: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    served: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    lost_crisis: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # by kind
    withdrawn: int = 0
    unmet_by_locality: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    waits: list[int] = field(default_factory=list)  # weeks waited by served planned stays
    occupancy: list[float] = field(default_factory=list)
    utilisation: list[float] = field(default_factory=list)
    nights: int = 0
    sitting_minutes: int = 0
    cost_pence: float = 0.0  # what the plans add (H12)
    agency_staff_nights: int = 0
    spot_nights: int = 0
    seconds: float = 0.0


def run_replication(task: dict[str, Any]) -> dict[str, Any]:
    """Simulate ``task['weeks']`` weeks of ``task['problem']`` (a variant applied).

    ``task`` holds ``problem`` (JSON), ``demand`` ({"priority|locality": factor}),
    ``weeks``, ``engine``, ``time_limit``, ``seed``, ``variant`` and ``replication``.
    Returns the replication's KPIs as plain numbers.
    """
    started = time.perf_counter()
    problem = Problem.model_validate(task["problem"])
    rng = np.random.default_rng([int(task["seed"]), int(task["replication"])])
    model = _DemandModel(problem, _demand_scale(task.get("demand", {})))
    sim = _Simulation(problem, task)
    with _fewer_collections():
        for week in range(int(task["weeks"])):
            sim.step(week, model.arrivals(rng, week, sim.week_start(week)))
    result = sim.result()
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often while weeks are simulated.

    A week makes hundreds of thousands of short-lived objects (options, copies of
    requests) and almost no cycles, while the objects that live on (the base problem,
    the bookings) are many; with the default thresholds the collector walked them
    so often that it took about a third of a county replication's time.
    """
    before = gc.get_threshold()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _demand_scale(raw: dict[str, float]) -> dict[tuple[str, str], float]:
    return {tuple(key.split("|", 1)): value for key, value in raw.items()}  # type: ignore[misc]


class _DemandModel:
    """Poisson arrivals by (kind, priority, locality), copying base requests."""

    def __init__(self, problem: Problem, scale: dict[tuple[str, str], float]):
        cases = problem.case_by_id()
        # The carers of a locality who may ask for a kind of break: those eligible for it.
        askers: dict[tuple[str, str], list[str]] = defaultdict(list)
        for case in problem.cases:
            for eligible in case.eligible:
                askers[(case.locality_id, eligible)].append(case.case_id)
        self.askers = dict(askers)
        base_weeks = max(1.0, len(problem.horizon.nights) / 7)
        groups: dict[tuple[str, str, str], list[Request]] = defaultdict(list)
        for request in problem.requests:
            locality = cases[request.case_id].locality_id
            groups[(request.kind, request.priority, locality)].append(request)
        self.groups = sorted(groups.items())
        self.rates = []
        for (kind, priority, locality), requests in self.groups:
            # A sitting request covers the one sitting week of the base problem.
            weeks = 1.0 if kind == "sitting" else base_weeks
            factor = 1.0
            for (p, loc), f in scale.items():
                if p in ("*", priority) and loc in ("*", locality):
                    factor *= f
            self.rates.append(len(requests) / weeks * factor)
        self.origin = problem.week_start
        self.count = 0

    def arrivals(self, rng: np.random.Generator, week: int, week_start: dt.date) -> list[Arrival]:
        """This week's requests: stays dated in the week, sitting as its base request
        and the carer who asks (:meth:`_Simulation._dated` dates it when needed)."""
        out: list[Arrival] = []
        moved: dict[int, dict[str, Any]] = {}  # a template's dates in this week, made once
        counts = rng.poisson(self.rates)
        for ((kind, _, locality), requests), count in zip(self.groups, counts, strict=True):
            if not count:
                continue
            cases = self.askers.get((locality, kind), [])
            # Any carer of the locality eligible for the kind may ask: the base problem
            # is a month's snapshot of requests, so its own askers would ask twelve
            # times a year. (None eligible: the base request's own carer asks.)
            askers = rng.integers(len(cases), size=count).tolist() if cases else [None] * count
            for pick, asker in zip(
                rng.integers(len(requests), size=count).tolist(), askers, strict=True
            ):
                template = requests[pick]
                case_id = template.case_id if asker is None else cases[asker]
                self.count += 1
                request_id = f"W{week}-{self.count}"
                if isinstance(template, SittingRequest):
                    out.append(SittingArrival(request_id, case_id, template.priority, template))
                    continue
                dates = moved.get(id(template))
                if dates is None:
                    dates = moved[id(template)] = _moved(template, self.origin, week_start)
                out.append(
                    template.model_copy(
                        update={**dates, "request_id": request_id, "case_id": case_id}
                    )
                )
        return out


def _moved(request: Request, origin: dt.date, week_start: dt.date) -> dict[str, Any]:
    """The dates of a base request moved to the week from ``week_start`` (same weekdays),
    as a ``model_copy`` update."""

    def shift(day: dt.date) -> dt.date:
        return week_start + dt.timedelta(days=(day - origin).days % 7)

    if isinstance(request, StayRequest):
        start = shift(request.earliest_start)
        window = request.latest_start - request.earliest_start
        return {
            "received": start,
            "earliest_start": start,
            "latest_start": start + window,
            "preferred_start": None,
        }
    visits = [
        Visit.model_construct(
            visit_id=visit.visit_id,
            minutes=visit.minutes,
            windows=[
                Window.model_construct(day=shift(w.day), start=w.start, end=w.end)
                for w in visit.windows
            ],
        )
        for visit in request.visits
    ]
    return {"received": week_start, "visits": visits}


DAYS_A_YEAR = 365


def spread_year_start(case_id: str, on: dt.date) -> dt.date:
    """An allowance year start for a case that has none: a day of the year fixed by its
    ``case_id`` (CRC-32, so the same in every run and replication), on or before ``on``.
    Carers of a council join through the year, so their years start through it too."""
    april = first_april_before(on)
    start = april + dt.timedelta(days=zlib.crc32(case_id.encode()) % DAYS_A_YEAR)
    return start if start <= on else anniversary(start, -1)


def year_start_on(first: dt.date, day: dt.date) -> dt.date:
    """The start of the allowance year that holds ``day``, for years starting on the
    anniversaries of ``first`` (before or after ``day``)."""
    years = day.year - first.year
    while anniversary(first, years) > day:
        years -= 1
    while anniversary(first, years + 1) <= day:
        years += 1
    return anniversary(first, years)


class _Simulation:
    def __init__(self, problem: Problem, task: dict[str, Any]):
        self.problem = problem
        self.task = task
        self.cases = problem.case_by_id()
        self.units = problem.unit_by_id()
        self.providers = problem.provider_by_id()
        # Stays confirmed in earlier weeks that have not ended (bookings of later weeks),
        # and, by case, every night of its stays that draws on its allowance (H8).
        self.booked: list[StayBooking] = []
        self.drawn: dict[str, list[dt.date]] = defaultdict(list)
        self.policy = problem.policy
        self.first_year_start = {
            case.case_id: case.allowance_year_start
            or spread_year_start(case.case_id, problem.week_start)
            for case in problem.cases
        }
        self.waiting: list[_Waiting] = []
        self.tally = _Tally()
        self.nights_of: dict[str, int] = defaultdict(int)
        self.asked_stay: set[str] = set()
        self.block_beds = sum(len(u.beds) for u in problem.units if not u.spot)
        self.sitting = SittingGreedy(problem)
        self.used_copies: dict[tuple[str, int, dt.date], Case] = {}

    def week_start(self, week: int) -> dt.date:
        return self.problem.week_start + dt.timedelta(days=7 * week)

    def step(self, week: int, arrivals: list[Arrival]) -> None:
        start = self.week_start(week)
        self._retire(start)
        for request in arrivals:
            self.tally.arrived[(request.kind, request.priority)] += 1
            if request.kind == "stay":
                self.asked_stay.add(request.case_id)
        waiting = [_redated(w.request, start) for w in self.waiting]
        arrived_week = {r.request_id: week for r in arrivals}
        arrived_week.update({w.request.request_id: w.arrived for w in self.waiting})
        visits: list[ServedVisit] | list[PlannedVisit]
        if self.task["engine"] == "greedy":
            # Sitting does not touch the beds or other weeks here (see sitting.py):
            # the week's stays are compiled, its sitting allocated apart, the same way.
            stays_asked = [r for r in arrivals if isinstance(r, StayRequest)]
            compiled = compile_problem(
                self._problem(start, [*stays_asked, *waiting]), reasons=False
            )
            stays, _ = new_items(compiled, solve_greedy(compiled.data))
            visits = self.sitting.week([r for r in arrivals if isinstance(r, SittingArrival)])
        else:
            dated = [self._dated(r, start) for r in arrivals]
            compiled = compile_problem(self._problem(start, [*dated, *waiting]), reasons=False)
            stays, visits = new_items(compiled, self._solve_cpsat(compiled))
        self._record(week, start, [*arrivals, *waiting], arrived_week, stays, visits)

    def _dated(self, arrival: Arrival, start: dt.date) -> Request:
        """A sitting arrival as the request it is, dated in the week from ``start``."""
        if isinstance(arrival, StayRequest):
            return arrival
        template = arrival.template
        update = _moved(template, self.problem.week_start, start)
        update.update(request_id=arrival.request_id, case_id=arrival.case_id)
        return template.model_copy(update=update)

    def _solve_cpsat(self, compiled: Any) -> Any:
        from solver.cpsat import CpSatParams, solve_cpsat

        params = CpSatParams(
            time_limit=float(self.task["time_limit"]), workers=1, seed=int(self.task["seed"])
        )
        return solve_cpsat(compiled.data, params)

    def _problem(self, start: dt.date, requests: list[Request]) -> Problem:
        last = start + dt.timedelta(days=HORIZON_NIGHTS - 1)
        bookings = self.booked
        cases = [self._case_on(case, start) for case in self.problem.cases]
        return Problem.model_construct(
            horizon=Horizon.model_construct(first_night=start, last_night=last),
            week_start=start,
            localities=self.problem.localities,
            cases=cases,
            units=self.problem.units,
            # Providers only matter to sitting (a stays-only week compiles faster without).
            providers=self.problem.providers
            if any(isinstance(r, SittingRequest) for r in requests)
            else [],
            requests=requests,
            bookings=bookings,
            budgets=[],
            policy=self.policy,
            planned_on=start,  # each week is planned on its Monday
            weights=self.problem.weights,
        )

    def _retire(self, start: dt.date) -> None:
        """Stays ended before ``start`` are no longer bookings (their drawing nights are
        in ``drawn``)."""
        self.booked = [
            booking
            for booking in self.booked
            if booking.first_night + dt.timedelta(days=booking.nights) > start
        ]

    def _case_on(self, case: Case, start: dt.date) -> Case:
        """The case as the week from ``start`` sees it: its current allowance year's start,
        and the drawing nights it has had in that year before ``start`` (a copy made once
        per year and count)."""
        year = year_start_on(self.first_year_start[case.case_id], start)
        used = sum(1 for night in self.drawn.get(case.case_id, ()) if year <= night < start)
        key = (case.case_id, used, year)
        copy = self.used_copies.get(key)
        if copy is None:
            copy = self.used_copies[key] = case.model_copy(
                update={"nights_used": used, "allowance_year_start": year}
            )
        return copy

    def _record(
        self,
        week: int,
        start: dt.date,
        requests: list[Arrival],
        arrived_week: dict[str, int],
        stays: list[PlannedStay],
        visits: list[ServedVisit] | list[PlannedVisit],
    ) -> None:
        tally = self.tally
        served_stays = {s.request_id for s in stays}
        served_visits: dict[str, set[str]] = defaultdict(set)
        for visit in visits:
            served_visits[visit.request_id].add(visit.visit_id)
        self.booked += [
            StayBooking.model_construct(booking_id=f"S-{week}-{i}", **stay.model_dump())
            for i, stay in enumerate(stays)
        ]
        priority = {r.request_id: r.priority for r in requests}
        for stay in stays:
            unit = self.units[stay.unit_id]
            tally.nights += stay.nights
            tally.agency_staff_nights += stay.nights * stay.extra_night_staff
            if unit.spot:
                tally.spot_nights += stay.nights
            # What the plan adds (H12): a block bed's night is paid for by its contract.
            night_pence = unit.cost_per_night_pence if unit.spot else 0
            extra_pence = stay.extra_night_staff * unit.extra_night_staff_cost_pence
            tally.cost_pence += stay.nights * (night_pence + extra_pence)
            self.nights_of[stay.case_id] += stay.nights
            if not self.policy.exempt(priority.get(stay.request_id, "planned")):
                self.drawn[stay.case_id] += stay.night_list
        for visit in visits:
            tally.sitting_minutes += visit.minutes
            provider = self.providers[visit.provider_id]
            tally.cost_pence += visit.minutes * visit.sitters * provider.cost_per_hour_pence / 60
        self.waiting = []
        for request in requests:
            self._settle(
                week, request, arrived_week[request.request_id], served_stays, served_visits
            )
        tally.occupancy.append(self._occupancy(start))
        tally.utilisation.append(self._utilisation(start, visits))

    def _settle(
        self,
        week: int,
        request: Arrival,
        arrived: int,
        served_stays: set[str],
        served_visits: dict[str, set[str]],
    ) -> None:
        """Count what was served; what was not waits, or is lost.

        A crisis request not served in its week is turned away. Sitting is weekly and
        asked afresh each week by the demand model, so a week's visits not given lapse
        (the request is unmet if none was given): carrying them over would ask for the
        same week twice. A planned or health-appointment stay not served waits.
        """
        if isinstance(request, StayRequest):
            served = request.request_id in served_stays
            if served and request.priority == "planned":
                self.tally.waits.append(week - arrived)
        else:
            served = request.request_id in served_visits
        if served:
            self.tally.served[(request.kind, request.priority)] += 1
            return
        locality = self.cases[request.case_id].locality_id
        if request.priority == "crisis":
            self.tally.lost_crisis[request.kind] += 1
        elif isinstance(request, StayRequest):
            if week - arrived + 1 < int(self.task.get("max_wait_weeks", MAX_WAIT_WEEKS)):
                self.waiting.append(_Waiting(request, arrived))
                return
            self.tally.withdrawn += 1  # waited too long: the carer gives up
        self.tally.unmet_by_locality[locality] += 1

    def _occupancy(self, start: dt.date) -> float:
        week = {start + dt.timedelta(days=d) for d in range(7)}
        block = {u.unit_id for u in self.problem.units if not u.spot}
        held = sum(
            1
            for stay in self.booked
            if stay.unit_id in block
            for night in stay.night_list
            if night in week
        )
        return held / (7 * self.block_beds) if self.block_beds else 0.0

    def _utilisation(self, start: dt.date, visits: list[ServedVisit] | list[PlannedVisit]) -> float:
        rota = sum(
            rota_minutes(provider, start + dt.timedelta(days=d))
            for provider in self.problem.providers
            for d in range(7)
        )
        used = sum(v.minutes * v.sitters for v in visits)
        return used / rota if rota else 0.0

    def result(self) -> dict[str, Any]:
        tally = self.tally
        for waiting in self.waiting:
            tally.unmet_by_locality[self.cases[waiting.request.case_id].locality_id] += 1
        arrived = _by(tally.arrived, 1)
        served = _by(tally.served, 1)
        served_share = {
            p: _share(served[p], arrived[p]) for p in ("crisis", "health_appointment", "planned")
        }
        arrived_kind, served_kind = _by(tally.arrived, 0), _by(tally.served, 0)
        asked = sorted(self.asked_stay)
        nights = [self.nights_of[c] for c in asked]
        below_half = [
            self.nights_of[c] < self.cases[c].nights_allowance / 2
            for c in asked
            if self.cases[c].nights_allowance > 0
        ]
        served_units = tally.nights + tally.sitting_minutes / 60
        # The block contracts for the nights simulated, paid whether the beds are used or not.
        yearly = sum(u.block_cost_per_year_pence for u in self.problem.units if not u.spot)
        block_pence = yearly * 7 * len(tally.occupancy) / DAYS_A_YEAR
        return {
            "variant": self.task["variant"],
            "replication": self.task["replication"],
            "served_share": served_share,
            # Beds and sitting apart: what a bed buys shows in the stays alone.
            "served_by_kind": {
                kind: _share(served_kind[kind], arrived_kind[kind]) for kind in ("stay", "sitting")
            },
            # A crisis stay not served in its week is turned away (no bed): Erlang B's loss.
            "crisis_turned_away": _share(
                tally.lost_crisis["stay"], tally.arrived[("stay", "crisis")], empty=0.0
            ),
            "crisis_sitting_not_given": _share(
                tally.lost_crisis["sitting"], tally.arrived[("sitting", "crisis")], empty=0.0
            ),
            "crisis_stay_arrivals": tally.arrived[("stay", "crisis")],
            "arrived": dict(sorted(arrived.items())),
            "served": dict(sorted(served.items())),
            "nights_per_carer": float(np.mean(nights)) if nights else 0.0,
            "share_below_half_allowance": float(np.mean(below_half)) if below_half else 0.0,
            "planned_wait_weeks": float(np.mean(tally.waits)) if tally.waits else 0.0,
            "unmet_by_locality": dict(sorted(tally.unmet_by_locality.items())),
            "occupancy_by_week": [round(x, 4) for x in tally.occupancy],
            "occupancy": float(np.mean(tally.occupancy)) if tally.occupancy else 0.0,
            "sitter_utilisation": float(np.mean(tally.utilisation)) if tally.utilisation else 0.0,
            "cost_pounds": round(tally.cost_pence / 100, 2),
            "block_contract_pounds": round(block_pence / 100, 2),
            # Contracts included: what a night or an hour of sitting costs the council.
            "cost_per_night_or_hour": round(
                (tally.cost_pence + block_pence) / 100 / served_units, 2
            )
            if served_units
            else 0.0,
            "agency_staff_nights": tally.agency_staff_nights,
            "spot_nights": tally.spot_nights,
            "nights_served": tally.nights,
            "sitting_hours_served": round(tally.sitting_minutes / 60, 1),
            "still_waiting": len(self.waiting),
            "withdrawn": tally.withdrawn,
        }


def _by(counts: dict[tuple[str, str], int], position: int) -> dict[str, int]:
    """``counts`` by (kind, priority) summed by kind (``position`` 0) or priority (1)."""
    out: dict[str, int] = defaultdict(int)
    for key, count in counts.items():
        out[key[position]] += count
    return out


def _share(part: int, whole: int, empty: float = math.nan) -> float:
    """``part / whole``, or ``empty`` when nothing arrived (NaN: left out of the means)."""
    return part / whole if whole else empty


def _redated(request: StayRequest, start: dt.date) -> StayRequest:
    """A waiting stay request moved to the week from ``start`` (same weekday and window)."""
    offset = (request.earliest_start.weekday() - start.weekday()) % 7
    first = start + dt.timedelta(days=offset)
    window = request.latest_start - request.earliest_start
    return request.model_copy(update={"earliest_start": first, "latest_start": first + window})
