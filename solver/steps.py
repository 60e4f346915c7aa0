"""Time steps of sitting that run past midnight.

A visit option keeps the day and time step it starts at and its length in steps;
an overnight visit (22:00-07:00) has ``start + steps`` past the end of its day.
Every table of sitting time (a provider's sitters free, a home busy) is by
``[day][step]``, with an eighth day for what runs over from Sunday night into the
Monday after the week, so every reader maps step ``t >= steps_per_day`` to
``(day + 1, t - steps_per_day)``: this module is that one mapping.
"""

from __future__ import annotations

__all__ = ["DAYS_HELD", "day_steps"]

# Days of a sitting table: the week planned, and the Monday after it, which a visit
# starting on Sunday evening may run into.
DAYS_HELD = 8


def day_steps(day: int, start: int, steps: int, steps_per_day: int) -> list[tuple[int, int]]:
    """The (day, step of that day) pairs that ``steps`` steps from ``start`` on ``day``
    cover, steps past midnight on the days after."""
    return [(day + t // steps_per_day, t % steps_per_day) for t in range(start, start + steps)]
