"""The greedy baseline: what a brokerage team does by hand today.

Crisis referrals first, then everything else first come, first served by the
date received; each request takes the first option (earliest start, then
nearest) that still fits every rule. Sitting is shared before it is lengthened:
every sitting request's first visit (by date received), then every second
visit, and so on, each where it first fits; in each round the requests given
fewest visits so far go first.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

from solver.data import CRISIS, SolverInput
from solver.solution import Solution, SolveStatus
from solver.state import State

__all__ = ["Orders", "fill", "solve_greedy"]


def solve_greedy(data: SolverInput, seed: int | None = None) -> Solution:
    """Serve requests in referral order, each in its first fitting option."""
    started = time.perf_counter()
    stays, visits = fill(data, {}, {})
    return Solution(
        stays=stays,
        visits=visits,
        engine="greedy",
        status=SolveStatus.FEASIBLE,
        seconds=time.perf_counter() - started,
        seed=seed,
    )


@dataclass(frozen=True)
class Orders:
    """The order ``fill`` serves in: requests by referral, each one's options first to last."""

    referral: list[tuple[str, int]]
    stay_options: dict[int, list[int]]
    visit_options: dict[int, list[int]]
    rounds: dict[int, tuple[bool, int]]  # visit -> (not crisis, its place in its request)

    @classmethod
    def of(cls, data: SolverInput) -> Orders:
        return cls(referral_order(data), *options_in_order(data), visit_rounds(data))


def fill(
    data: SolverInput,
    stays: dict[int, int],
    visits: dict[int, int],
    orders: Orders | None = None,
) -> tuple[dict[int, int], dict[int, int]]:
    """Keep what is chosen, then give every request left out its first option that
    still fits, in referral order. Serving more never lowers tiers 1 and 2, so a
    stage's plan can be filled before the next stage starts from it.

    ``orders`` is :meth:`Orders.of` ``data``, for callers that fill the same data again
    and again (sorting the options again was much of every fill)."""
    state = State(data)
    for opt_idx in stays.values():
        state.take_stay(data.stay_options[opt_idx])
    for opt_idx in visits.values():
        state.take_visit(data.visit_options[opt_idx])
    stays, visits = dict(stays), dict(visits)
    orders = orders or Orders.of(data)
    stay_opts, visit_opts = orders.stay_options, orders.visit_options
    given: dict[int, int] = defaultdict(int)  # sitting request -> its visits served
    for v in visits:
        given[data.visits[v].request] += 1
    for kind, run in _runs(orders):
        if kind == "stay":
            idx = run[0]
            for opt_idx in stay_opts[idx] if idx not in stays else []:
                if state.stay_fits(data.stay_options[opt_idx]):
                    state.take_stay(data.stay_options[opt_idx])
                    stays[idx] = opt_idx
                    break
            continue
        # One round of visits (each request's n-th): requests given fewest visits so far
        # first, then in referral order, so that breaks are shared before lengthened.
        for idx in sorted(run, key=lambda v: given[data.visits[v].request]):
            if idx in visits:
                continue
            for opt_idx in visit_opts[idx]:
                if state.visit_fits(data.visit_options[opt_idx]):
                    state.take_visit(data.visit_options[opt_idx])
                    visits[idx] = opt_idx
                    given[data.visits[idx].request] += 1
                    break
    return stays, visits


def _runs(orders: Orders) -> list[tuple[str, list[int]]]:
    """The referral order as steps: each stay alone; the visits of one round (same
    crisis-or-not, same place in their requests) together."""
    runs: list[tuple[str, list[int]]] = []
    for kind, idx in orders.referral:
        if kind == "visit" and runs and runs[-1][0] == "visit":
            last = runs[-1][1][-1]
            if orders.rounds[last] == orders.rounds[idx]:
                runs[-1][1].append(idx)
                continue
        runs.append((kind, [idx]))
    return runs


def options_in_order(data: SolverInput) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Each request's options, earliest first, then nearest."""
    stay_opts: dict[int, list[int]] = defaultdict(list)
    for opt_idx, opt in enumerate(data.stay_options):
        stay_opts[opt.request].append(opt_idx)
    for opts in stay_opts.values():
        opts.sort(key=lambda i: (data.stay_options[i].start, data.stay_options[i].travel, i))
    visit_opts: dict[int, list[int]] = defaultdict(list)
    for opt_idx, vopt in enumerate(data.visit_options):
        visit_opts[vopt.visit].append(opt_idx)
    for opts in visit_opts.values():
        opts.sort(
            key=lambda i: (
                data.visit_options[i].day,
                data.visit_options[i].start,
                data.visit_options[i].travel,
                i,
            )
        )
    return stay_opts, visit_opts


def visit_rounds(data: SolverInput) -> dict[int, tuple[bool, int]]:
    """Each visit's round: (not crisis, its place among its request's visits)."""
    seen: dict[int, int] = defaultdict(int)
    rounds = {}
    for idx, visit in enumerate(data.visits):
        rounds[idx] = (visit.priority != CRISIS, seen[visit.request])
        seen[visit.request] += 1
    return rounds


def referral_order(data: SolverInput) -> list[tuple[str, int]]:
    """Crisis first, then by date received; stays before sitting. Sitting is shared before
    it is lengthened, as the objective asks (spec, tier 2): every request's first visit,
    by date received, then every request's second, and so on (``fill`` takes each round
    fewest-served first), so that of two carers asking alike each gets a visit before
    either gets two."""
    keyed: list[tuple[int, int, int, int, int, str, int]] = []
    for idx, req in enumerate(data.stay_requests):
        keyed.append((req.priority != CRISIS, 0, 0, req.arrival, idx, "stay", idx))
    ordinal: dict[int, int] = defaultdict(int)  # visits of each request seen so far
    for idx, visit in enumerate(data.visits):
        nth = ordinal[visit.request]
        ordinal[visit.request] += 1
        keyed.append((visit.priority != CRISIS, 1, nth, visit.arrival, visit.request, "visit", idx))
    keyed.sort()
    return [(kind, idx) for *_, kind, idx in keyed]
