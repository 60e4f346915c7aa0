"""Each hard rule's predicate (scheduler.rules), which the checker and the generator share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from scheduler import rules

CASES: list[tuple[Callable[..., Any], tuple[Any, ...], Any]] = [
    (rules.h1_bed_night_ok, (1,), True),  # one stay in the bed that night
    (rules.h1_bed_night_ok, (2,), False),  # two stays in one bed
    (rules.h2_missing_features, (["hoist"], ["hoist", "ground_floor"]), []),
    (rules.h2_missing_features, (["hoist", "bariatric"], []), ["bariatric", "hoist"]),  # sorted
    (rules.h3_age_ok, (65, 65, 130), True),  # the band's ends are inside it
    (rules.h3_age_ok, (64, 65, 130), False),
    (rules.h3_sex_ok, ("male", "any"), True),
    (rules.h3_sex_ok, ("male", "female"), False),
    (rules.h4_cannot_share, ("C-1", [], "C-2", ["C-1"]), True),  # named by the other only
    (rules.h4_cannot_share, ("C-1", ["C-3"], "C-2", []), False),
    (rules.h5_staff_needed, (1, 2, 5, 4), 6),  # 2 x 1 + 1 x 2 + ceil(5 / 4) = 6
    (rules.h5_staff_needed, (0, 0, 0, 3), 0),  # an empty unit needs none
    (rules.h5_staff_ok, (3, 2, 1), True),  # 2 rostered + 1 agency meet 3 needed
    (rules.h5_staff_ok, (3, 2, 0), False),
    (rules.h5_extra_ok, (2, 2), True),  # exactly the unit's extra_night_staff_max
    (rules.h5_extra_ok, (1, 0), False),  # a unit that may add none
    (rules.h7_within_travel, (50.0000001, 50), True),  # within the 1e-6 km tolerance
    (rules.h7_within_travel, (50.01, 50), False),
    (rules.h8_eligible, ("stay", ["sitting"]), False),
    (rules.h8_nights_ok, (20, 8, 28), True),  # exactly the allowance
    (rules.h8_nights_ok, (21, 8, 28), False),
    (rules.h8_sitting_minutes_ok, (150, 2.5), True),  # 2.5 h = 150 minutes
    (rules.h8_sitting_minutes_ok, (180, 2.5), False),
    # 2 h a week + min(10 banked, 4 weeks x 2) = 10 h = 600 minutes
    (rules.h8_sitting_minutes_ok, (600, 2, 10, 4), True),
    (rules.h8_sitting_minutes_ok, (601, 2, 10, 4), False),
    # 2 h + min(1 banked, 8) = 3 h: the bank is what was banked, not the cap
    (rules.h8_sitting_minutes_ok, (181, 2, 1, 4), False),
    (rules.h8_sitting_minutes_ok, (120, 2, 5, 0), True),  # no banking allowed: 2 h
    (rules.h8_sitting_minutes_ok, (121, 2, 5, 0), False),
    (rules.h8_fresh_year_night, (dt.date(2026, 4, 1), dt.date(2026, 4, 1)), True),  # on it
    (rules.h8_fresh_year_night, (dt.date(2026, 3, 31), dt.date(2026, 4, 1)), False),
    (rules.h9_covers, ("L-1", ["L-1", "L-2"]), True),
    (rules.h9_missing_skills, (["dementia"], ["personal_care"]), ["dementia"]),
    (rules.h9_sitters_ok, (3, 3), True),  # every sitter on shift busy is allowed
    (rules.h9_sitters_ok, (4, 3), False),
    (rules.h9_weekly_minutes_ok, (600, 10), True),  # a 10 h cap is 600 sitter-minutes
    (rules.h9_weekly_minutes_ok, (630, 10), False),
    (rules.h10_overlap, (540, 660, 600, 720), True),  # 09:00-11:00 and 10:00-12:00
    (rules.h10_overlap, (540, 660, 660, 720), False),  # back to back does not overlap
    # 22:00-06:00 (1320..1800) inside the overnight window 22:00-07:00 (1320..1860)
    (rules.h10_within, (1320, 1800, 1320, 1860), True),
    (rules.h10_within, (1380, 1890, 1320, 1860), False),  # 23:00-07:30 runs past 07:00
    (rules.h10_within, (1260, 1320, 1320, 1860), False),  # 21:00-22:00: before it
    (rules.h12_budget_ok, (60 * 20000, 20000), True),  # exactly the limit
    (rules.h12_budget_ok, (60 * 20000 + 1, 20000), False),  # a sixtieth of a penny over
    (rules.h12_stay_cost60, (False, 7, 20000, 0, 15000), 0),  # block nights cost nothing
    (rules.h12_stay_cost60, (True, 7, 20000, 0, 15000), 60 * 140000),  # spot: 7 x £200
    (rules.h12_stay_cost60, (False, 2, 20000, 1, 15000), 60 * 30000),  # 2 agency nights
    (rules.h12_stay_cost60, (True, 2, 100, 2, 1000), 60 * (200 + 4000)),  # both
    (rules.h12_visit_cost60, (120, 1800), 216000),  # 2 sitter-hours at £18: £36 x 60
    (rules.h12b_spot_ok, (False, "planned", False, ["crisis"]), True),  # a block bed
    (rules.h12b_spot_ok, (True, "crisis", False, ["crisis"]), True),
    (rules.h12b_spot_ok, (True, "planned", True, ["crisis"]), True),  # exceptional
    (rules.h12b_spot_ok, (True, "health_appointment", False, ["crisis"]), False),
    # planned on 03-02, released for 2 days: held from 03-04, open on 03-03
    (rules.h13_reserve_applies, (dt.date(2026, 3, 4), dt.date(2026, 3, 2), 2), True),
    (rules.h13_reserve_applies, (dt.date(2026, 3, 3), dt.date(2026, 3, 2), 2), False),
    (rules.h13_reserve_ok, (1, 1, 3, 1), True),  # 2 non-crisis stays, 3 beds - 1 held
    (rules.h13_reserve_ok, (1, 2, 3, 1), False),
    (rules.h13_reserve_ok, (3, 0, 3, 1), True),  # bookings hold more, nothing new: stands
    (rules.h13_reserve_ok, (3, 1, 3, 1), False),  # ... but no new non-crisis stay
]


@pytest.mark.parametrize(
    ("rule", "args", "expected"), CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)]
)
def test_each_rule(rule, args, expected):
    assert rule(*args) == expected


def test_every_rule_has_a_case():
    assert {c[0].__name__ for c in CASES} == {n for n in rules.__all__ if n.startswith("h")}
