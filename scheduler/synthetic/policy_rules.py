"""The v2 hard rules the booker needs that :mod:`scheduler.rules` does not state (yet):
H5 with agency staff, H8 with exempt priorities, a fresh allowance year and banked
sitting hours, H12b spot purchase and H13 crisis reserve, as ``shared/spec/domain.md``
words them. Like :mod:`scheduler.rules`, each is a predicate on plain values, so that
they can move there unchanged; the council policy is the model's default
:class:`~scheduler.model.Policy`, the one the generated problems carry.
"""

from __future__ import annotations

import datetime as dt

from scheduler import rules
from scheduler.model import Policy, anniversary

__all__ = [
    "POLICY",
    "fresh_year",
    "h5_staffed",
    "h8_sitting_hours",
    "h12b_spot_ok",
    "h13_reserve_ok",
]

POLICY = Policy()


def fresh_year(year_start: dt.date, planned_on: dt.date) -> dt.date:
    """H8: the first night counting in the case's next allowance year, the first
    anniversary of ``year_start`` after ``planned_on`` (as :meth:`Problem.fresh_year`)."""
    years = 1
    while anniversary(year_start, years) <= planned_on:
        years += 1
    return anniversary(year_start, years)


def h5_staffed(
    two_to_one: int, one_to_one: int, shared: int, shared_ratio: int, staff: int, extra: int
) -> bool:
    """H5: the night's occupants within the rostered staff plus the agency staff added."""
    return rules.h5_staff_needed(two_to_one, one_to_one, shared, shared_ratio) <= staff + extra


def h8_sitting_hours(hours_per_week: float, banked: float, policy: Policy = POLICY) -> float:
    """H8: the sitting hours a case may have planned in the week: its entitlement plus what
    it banked, up to ``policy.sitting_bank_weeks`` weeks' entitlement."""
    return hours_per_week + min(banked, policy.sitting_bank_weeks * hours_per_week)


def h12b_spot_ok(spot: bool, priority: str, exceptional: bool, policy: Policy = POLICY) -> bool:
    """H12b: a spot bed only for a ``spot_for`` priority or an exceptional request."""
    return not spot or policy.may_buy_spot(priority, exceptional)


def h13_reserve_ok(
    crisis: bool,
    non_crisis_stays: int,
    block_beds: int,
    reserve: int,
    days_after_planning: int,
    policy: Policy = POLICY,
) -> bool:
    """H13: on a night ``days_after_planning`` days after ``planned_on``, ``non_crisis_stays``
    (the new one included) hold at most ``block_beds - reserve`` beds, once the reserve is no
    longer released (``policy.reserve_release_days``). Crisis stays may use any bed."""
    if crisis or not reserve or days_after_planning < policy.reserve_release_days:
        return True
    return non_crisis_stays <= block_beds - reserve
