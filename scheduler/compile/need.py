"""The fair-share need of a request and the sitting bonuses: tier 2 of the objective.

The need of a request weighs its served demand (a sitting minute is 1 unit, a night
``night_units``)::

    used   = nights_used / nights_allowance                          for a stay
           = sitting_hours_recent / (4 x sitting_hours_per_week)     for sitting
             (0 when the allowance is 0, as Weights says; at most 1)
    waited = min(max(days from received to week_start, 0), wait_cap_days)
    need   = round(need_base + need_allowance x (1 - used)
                   + need_wait x waited / wait_cap_days)

so a carer with more of their allowance *of that kind* left, or who has waited longer,
comes first among requests of one priority. Tier 2 (:class:`scheduler.model.Weights`)
is then::

    sum over served requests of need x (units served + break_bonus)
      + sum over cases of sitting need x min(sitting minutes served, first minutes)

where a case's *sitting need* is the greatest need of its sitting requests, and its
*first minutes* are ``60 x first_sitting_hours`` less the minutes its booked visits
already have that week: the first hours of a case's sitting count double. Requests
(and minutes) served by bookings earn nothing more. The weights are the problem's;
:mod:`scheduler.evaluate` evaluates plans with these same functions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Literal

from scheduler.compile.index import Index
from scheduler.model import Case, Problem, SittingRequest, VisitBooking, Weights
from solver import data as sd

__all__ = ["first_minutes", "need_of", "sitting_fairness", "sitting_needs"]

Kind = Literal["stay", "sitting"]


def need_of(
    case: Case, received: dt.date, week_start: dt.date, weights: Weights, kind: Kind = "stay"
) -> int:
    """Fair-share need of a request (the formula of this module's docstring).

    Parameters
    ----------
    case
        The person the request is for (their allowance and how much of it was used).
    received
        When the request was received.
    week_start
        The first day planned; waiting is counted up to it.
    weights
        The problem's objective weights.
    kind
        "stay" (nights used of the nights allowance) or "sitting" (sitting hours in the
        last 4 weeks against 4 weeks' entitlement).
    """
    waited = min(max((week_start - received).days, 0), weights.wait_cap_days)
    need = (
        weights.need_base
        + weights.need_allowance * (1.0 - _used(case, kind))
        + weights.need_wait * waited / weights.wait_cap_days
    )
    return round(need)


def _used(case: Case, kind: Kind) -> float:
    """The share of the case's allowance of ``kind`` already had (0 with no allowance:
    a demand-led request of someone without an allowance of that kind is not behind)."""
    if kind == "stay":
        had, allowance = float(case.nights_used), float(case.nights_allowance)
    else:
        had, allowance = case.sitting_hours_recent, 4 * case.sitting_hours_per_week
    if allowance <= 0:
        return 0.0
    return min(max(had / allowance, 0.0), 1.0)


def sitting_needs(problem: Problem) -> dict[str, int]:
    """Each case's sitting need: the greatest need of its sitting requests."""
    cases = problem.case_by_id()
    needs: dict[str, int] = {}
    for request in problem.requests:
        if isinstance(request, SittingRequest):
            case = cases[request.case_id]
            need = need_of(case, request.received, problem.week_start, problem.weights, "sitting")
            needs[case.case_id] = max(needs.get(case.case_id, 0), need)
    return needs


def first_minutes(problem: Problem, booked_visits: list[VisitBooking]) -> dict[str, int]:
    """Each case's first sitting minutes of the week that bookings leave to the plan."""
    booked: dict[str, int] = defaultdict(int)
    for booking in booked_visits:
        booked[booking.case_id] += booking.minutes
    first = round(60 * problem.weights.first_sitting_hours)
    return {case.case_id: max(first - booked[case.case_id], 0) for case in problem.cases}


def sitting_fairness(
    problem: Problem, index: Index, booked_visits: list[VisitBooking]
) -> tuple[list[sd.FirstHours], list[int]]:
    """The solver's first hours of each case with sitting requests, and the sitting
    requests a booked visit already serves (they earn no break bonus)."""
    needs, minutes = sitting_needs(problem), first_minutes(problem, booked_visits)
    first_hours = [
        sd.FirstHours(index.case_idx[case_id], minutes[case_id], need)
        for case_id, need in sorted(needs.items())
        if minutes[case_id] > 0
    ]
    served = sorted({index.sitting_idx[b.request_id] for b in booked_visits})
    return first_hours, served
