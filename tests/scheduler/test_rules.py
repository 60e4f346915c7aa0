"""Each hard rule's predicate (scheduler.rules), which the checker and the generator share."""

from __future__ import annotations

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
    (rules.h7_within_travel, (50.0000001, 50), True),  # within the 1e-6 km tolerance
    (rules.h7_within_travel, (50.01, 50), False),
    (rules.h8_eligible, ("stay", ["sitting"]), False),
    (rules.h8_nights_ok, (20, 8, 28), True),  # exactly the allowance
    (rules.h8_nights_ok, (21, 8, 28), False),
    (rules.h8_sitting_minutes_ok, (150, 2.5), True),  # 2.5 h = 150 minutes
    (rules.h8_sitting_minutes_ok, (180, 2.5), False),
    (rules.h9_covers, ("L-1", ["L-1", "L-2"]), True),
    (rules.h9_missing_skills, (["dementia"], ["personal_care"]), ["dementia"]),
    (rules.h9_sitters_ok, (3, 3), True),  # every sitter on shift busy is allowed
    (rules.h9_sitters_ok, (4, 3), False),
    (rules.h9_weekly_minutes_ok, (600, 10), True),  # a 10 h cap is 600 sitter-minutes
    (rules.h9_weekly_minutes_ok, (630, 10), False),
    (rules.h10_overlap, (540, 660, 600, 720), True),  # 09:00-11:00 and 10:00-12:00
    (rules.h10_overlap, (540, 660, 660, 720), False),  # back to back does not overlap
    (rules.h12_budget_ok, (60 * 20000, 20000), True),  # exactly the limit
    (rules.h12_budget_ok, (60 * 20000 + 1, 20000), False),  # a sixtieth of a penny over
]


@pytest.mark.parametrize(
    ("rule", "args", "expected"), CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)]
)
def test_each_rule(rule, args, expected):
    assert rule(*args) == expected


def test_every_rule_has_a_case():
    assert {c[0].__name__ for c in CASES} == {n for n in rules.__all__ if n.startswith("h")}
