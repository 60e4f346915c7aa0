"""Agency night staff (H5): what a stay that brings them costs, and which of them can
be useful to it.

A stay option brings ``extra`` agency staff each of its nights (``sd.StayOption.extra``):
at most what the unit may still add, and only as many as one more occupant could need
(one for a shared or one-to-one resident, two for a two-to-one). What they cost is
spend (H12, budgets and tier 4 alike); tier 4 counts it twice and a penny a staff-night
more (:func:`agency_premium60`), so that agency staff are used only where rostered
staff cannot serve, even where the agency is free.
"""

from __future__ import annotations

from scheduler.model import Unit
from solver import data as sd

__all__ = ["agency_cost60", "agency_premium60", "useful_extras"]

_MOST_USEFUL = {sd.SHARED: 1, sd.ONE_TO_ONE: 1, sd.TWO_TO_ONE: 2}


def agency_cost60(unit: Unit, staff_nights: int) -> int:
    """What ``staff_nights`` agency staff-nights cost, in sixtieths of a penny."""
    return 60 * staff_nights * unit.extra_night_staff_cost_pence


def agency_premium60(unit: Unit, staff_nights: int) -> int:
    """The extra tier-4 cost of agency staff beyond what they cost: as much again and a
    penny a staff-night, so that a plan never buys agency staff rostered staff could
    replace."""
    return agency_cost60(unit, staff_nights) + 60 * staff_nights


def useful_extras(support: int, extra_left: int) -> range:
    """The agency staff a stay of ``support`` may usefully bring: 0, and 1 (2 for a
    two-to-one resident) where the unit may still add them on every night of it."""
    return range(min(_MOST_USEFUL[support], max(extra_left, 0)) + 1)
