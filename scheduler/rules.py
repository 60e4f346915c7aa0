"""The hard rules of ``shared/spec/domain.md``, each stated once as a predicate on plain
values.

The plan checker (:mod:`scheduler.checker`) checks a whole plan with them; the
synthetic generator (:mod:`scheduler.synthetic.bookings`) books its confirmed
bookings with them, one at a time. They take numbers, ids and lists rather than
models, so that both can call them: the checker on pydantic models, the generator
on the JSON it is building. Like the checker, this module imports nothing from the
solver.

Tolerances: distances (H7) are compared within :data:`KM_TOLERANCE` km, weekly
minutes (H8 sitting hours, H9 contracted hours) within :data:`HOURS_TOLERANCE`
minutes (the limits are 60 x a float number of hours); money (H12) is compared
exactly, in sixtieths of a penny.

Times of sitting (H9, H10) are *absolute* minutes (a day's number x 1440 + the minute
of the day), so that what runs past midnight (an overnight window, a night shift, a
visit from 22:00) is one interval rather than two pieces.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Iterable

__all__ = [
    "HOURS_TOLERANCE",
    "KM_TOLERANCE",
    "h1_bed_night_ok",
    "h2_missing_features",
    "h3_age_ok",
    "h3_sex_ok",
    "h4_cannot_share",
    "h5_extra_ok",
    "h5_staff_needed",
    "h5_staff_ok",
    "h7_within_travel",
    "h8_eligible",
    "h8_fresh_year_night",
    "h8_nights_ok",
    "h8_sitting_minutes_ok",
    "h9_covers",
    "h9_missing_skills",
    "h9_sitters_ok",
    "h9_weekly_minutes_ok",
    "h10_overlap",
    "h10_within",
    "h12_budget_ok",
    "h12_stay_cost60",
    "h12_visit_cost60",
    "h12b_spot_ok",
    "h13_reserve_applies",
    "h13_reserve_ok",
]

KM_TOLERANCE = 1e-6
HOURS_TOLERANCE = 1e-6  # minutes; caps are 60 x a float number of hours


def h1_bed_night_ok(holders: int) -> bool:
    """H1: a bed holds at most one stay a night (``holders``: stays holding it)."""
    return holders <= 1


def h2_missing_features(bed_needs: Iterable[str], features: Iterable[str]) -> list[str]:
    """H2: the features a person needs that the bed lacks, sorted; none when it fits."""
    return sorted(set(bed_needs) - set(features))


def h3_age_ok(age: int, age_min: int, age_max: int) -> bool:
    """H3: the unit's age band takes the person."""
    return age_min <= age <= age_max


def h3_sex_ok(sex: str, sex_policy: str) -> bool:
    """H3: the unit's sex policy (``"any"``, ``"female"`` or ``"male"``) takes the person."""
    return sex_policy in ("any", sex)


def h4_cannot_share(
    case_id: str,
    incompatible_with: Collection[str],
    other_id: str,
    other_incompatible: Collection[str],
) -> bool:
    """H4: two people may not be in one unit on one night if either names the other."""
    return other_id in incompatible_with or case_id in other_incompatible


def h5_staff_needed(two_to_one: int, one_to_one: int, shared: int, shared_ratio: int) -> int:
    """H5: night staff a unit needs for its occupants of a night: 2 per two_to_one, 1 per
    one_to_one, 1 per started group of ``shared_ratio`` shared."""
    return 2 * two_to_one + one_to_one + math.ceil(shared / shared_ratio)


def h5_staff_ok(needed: int, rostered: int, extra: int) -> bool:
    """H5: the staff a night needs within those rostered plus the agency staff added."""
    return needed <= rostered + extra


def h5_extra_ok(extra: int, extra_max: int) -> bool:
    """H5: agency night staff added in a unit on a night within its ``extra_night_staff_max``."""
    return extra <= extra_max


def h7_within_travel(km: float, limit_km: float) -> bool:
    """H7: a distance within a travel limit (the request's, or a provider's)."""
    return km <= limit_km + KM_TOLERANCE


def h8_eligible(kind: str, eligible: Collection[str]) -> bool:
    """H8: the person is eligible for ``kind`` (``"stay"`` or ``"sitting"``)."""
    return kind in eligible


def h8_nights_ok(nights_used: int, nights_planned: int, nights_allowance: int) -> bool:
    """H8: nights used this year and nights planned within the yearly allowance."""
    return nights_used + nights_planned <= nights_allowance


def h8_fresh_year_night(night: dt.date, fresh_year: dt.date) -> bool:
    """H8: a night counts in the case's next allowance year (from 0), not in this one."""
    return night >= fresh_year


def h8_sitting_minutes_ok(
    minutes: int, hours_per_week: float, banked: float = 0.0, bank_weeks: int = 0
) -> bool:
    """H8: sitting minutes of the week within the person's weekly hours plus what they
    banked, at most ``bank_weeks`` weeks' entitlement of it (policy.sitting_bank_weeks)."""
    hours = hours_per_week + min(banked, bank_weeks * hours_per_week)
    return minutes <= 60 * hours + HOURS_TOLERANCE


def h9_covers(locality_id: str, localities: Collection[str]) -> bool:
    """H9: the provider covers the person's locality."""
    return locality_id in localities


def h9_missing_skills(sitting_skills: Iterable[str], skills: Iterable[str]) -> list[str]:
    """H9: the skills a person needs that the provider's sitters lack, sorted."""
    return sorted(set(sitting_skills) - set(skills))


def h9_sitters_ok(busy: int, on_shift: int) -> bool:
    """H9: at every moment, the provider's sitters busy are no more than those on shift."""
    return busy <= on_shift


def h9_weekly_minutes_ok(sitter_minutes: int, weekly_hours_cap: float) -> bool:
    """H9: the provider's sitter-minutes of the week within its contracted hours."""
    return sitter_minutes <= 60 * weekly_hours_cap + HOURS_TOLERANCE


def h10_overlap(start: int, end: int, other_start: int, other_end: int) -> bool:
    """H10: two visits to one home overlap (minutes of one day, or absolute minutes for
    visits that pass midnight; end excluded)."""
    return start < other_end and other_start < end


def h10_within(start: int, end: int, window_start: int, window_end: int) -> bool:
    """H10: a visit lies wholly inside a window (absolute minutes: an overnight window's
    end is on the next day, and so may the visit's be)."""
    return window_start <= start and end <= window_end


def h12_budget_ok(planned60: int, limit_pence: int) -> bool:
    """H12: what a budget pays for, in sixtieths of a penny, within its limit."""
    return planned60 <= 60 * limit_pence


def h12_stay_cost60(
    spot: bool, nights: int, cost_per_night_pence: int, extra_staff: int, extra_cost_pence: int
) -> int:
    """H12: what a stay of ``nights`` costs a budget, in sixtieths of a penny: a spot
    bed's nights at its price (a block bed's nights cost nothing more: the contract is
    paid for the year), and ``extra_staff`` agency staff on each night at theirs."""
    bed = cost_per_night_pence if spot else 0
    return 60 * nights * (bed + extra_staff * extra_cost_pence)


def h12_visit_cost60(sitter_minutes: int, cost_per_hour_pence: int) -> int:
    """H12: what a visit costs a budget, in sixtieths of a penny (a minute is 1/60 h)."""
    return sitter_minutes * cost_per_hour_pence


def h12b_spot_ok(spot: bool, priority: str, exceptional: bool, spot_for: Collection[str]) -> bool:
    """H12b: a spot bed only for a priority the policy names (``spot_for``), or a request a
    manager approved as exceptional; a block bed for anyone."""
    return not spot or exceptional or priority in spot_for


def h13_reserve_applies(night: dt.date, planned_on: dt.date, release_days: int) -> bool:
    """H13: a unit's crisis reserve is held on ``night`` (it opens to everyone on the
    nights fewer than ``release_days`` days after the plan is made)."""
    return (night - planned_on).days >= release_days


def h13_reserve_ok(booked: int, new: int, block_beds: int, reserve_beds: int) -> bool:
    """H13: the non-crisis stays of a unit on a night, ``booked`` ones and ``new`` ones,
    hold at most ``block_beds - reserve_beds`` beds; where bookings alone hold more, no
    new one is planned there (the bookings stand)."""
    return new == 0 or booked + new <= block_beds - reserve_beds
