"""The fair-share need of a request: the weight of its served demand in tier 2.

Tier 2 of the objective is the sum, over the served units of demand (a sitting
minute is 1 unit, a night ``night_units``), of their request's need::

    unused = 1 - nights_used / nights_allowance      (0 when the allowance is 0)
    waited = min(max(days from received to week_start, 0), wait_cap_days)
    need   = round(need_base + need_allowance * unused
                   + need_wait * waited / wait_cap_days)

so a carer with more of their allowance left, or who has waited longer, comes
first among requests of one priority. The weights are the problem's
:class:`scheduler.model.Weights`; :mod:`scheduler.evaluate` evaluates plans with
the same function.
"""

from __future__ import annotations

import datetime as dt

from scheduler.model import Case, Weights

__all__ = ["need_of"]


def need_of(case: Case, received: dt.date, week_start: dt.date, weights: Weights) -> int:
    """Fair-share need of a request (the formula of this module's docstring).

    Parameters
    ----------
    case
        The person the request is for (their nights allowance and nights used).
    received
        When the request was received.
    week_start
        The first day planned; waiting is counted up to it.
    weights
        The problem's objective weights.
    """
    unused = 0.0
    if case.nights_allowance > 0:
        unused = max(0.0, 1.0 - case.nights_used / case.nights_allowance)
    waited = min(max((week_start - received).days, 0), weights.wait_cap_days)
    need = (
        weights.need_base
        + weights.need_allowance * unused
        + weights.need_wait * waited / weights.wait_cap_days
    )
    return round(need)
