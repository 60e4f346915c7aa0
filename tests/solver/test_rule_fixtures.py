"""One test per hard rule: the hand-made fixtures of fixtures/rules/, solved by CP-SAT.

The expected outcomes are derived by hand in fixtures/rules/README.md (one row
per file, with the reasoning); this table restates them: what is served (stays by
request, visits as request/visit) and the reason of every unmet item.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.allocate import allocate
from scheduler.checker import check
from scheduler.files import load_problem

RULES = Path(__file__).resolve().parents[2] / "fixtures" / "rules"

EXPECTED = {
    # H1: one bed, two crisis stays on the same nights; R-1 has used less (need 225 > 175).
    "h01_one_bed": ({"R-1"}, {"R-2": "beds_taken"}),
    # H2: only B1 has a hoist; R-1 (need 225) beats R-2 (175); nobody has a bariatric bed.
    "h02_bed_fits": ({"R-1"}, {"R-2": "beds_taken", "R-3": "no_suitable_bed"}),
    # H3: U-1 is 18-64, U-2 women only: the 70-year-old man fits neither.
    "h03_unit_admits": ({"R-2", "R-3"}, {"R-1": "no_suitable_bed"}),
    # H4: R-2 must start 03-05 to avoid C-1; C-3 names C-1 and overlaps R-1.
    "h04_compatibility": ({"R-1", "R-2"}, {"R-3": "incompatible_resident"}),
    # H5: a two_to_one booking uses both staff on 03-02..03-04.
    "h05_night_staff": ({"R-1", "R-2"}, {"R-3": "no_night_staff"}),
    # H6: no 4 nights in a row around the booking; R-4 cannot end inside the horizon.
    "h06_whole_stays": ({"R-2", "R-3"}, {"R-1": "beds_taken", "R-4": "outside_horizon"}),
    # H7: R-1 only reaches U-1, so R-2 goes to U-2; the rest are out of reach.
    "h07_travel": (
        {"R-1", "R-2"},
        {"R-3": "too_far", "R-4/V1": "too_far", "R-5/V1": "too_far"},
    ),
    # H8: planned R-3 (3 nights beat 2) leaves C-3 one night; C-1 has 120 sitting minutes,
    # V1 (90) wins.
    "h08_allowance": (
        {"R-3", "R-5/V1"},
        {
            "R-1": "not_eligible",
            "R-2": "allowance_used",
            "R-4": "allowance_used",
            "R-5/V2": "allowance_used",
        },
    ),
    # H9: the health appointment takes the only sitter 10-12 Tue; 120 of 240 h-minutes left.
    "h09_sitters": (
        {"R-2/V1"},
        {
            "R-1/V1": "no_sitter_free",
            "R-1/V2": "provider_hours_used",
            "R-3/V1": "no_provider",
            "R-4/V1": "no_provider",
        },
    ),
    # H10: one visit at a time in a home: V1 09:00 + V2 11:00 (240 min) beat V3 + V2.
    "h10_windows": ({"R-1/V1", "R-1/V2", "R-2/V1"}, {"R-1/V3": "no_sitter_free"}),
    # H11: the bookings stand although crisis requests want the same bed and sitter.
    "h11_bookings_stand": ({"R-1", "R-3/V1"}, {"R-2": "beds_taken", "R-4/V1": "no_sitter_free"}),
    # H12: U-1 is spot: £600 left buys exceptional R-2 exactly; £40 buys R-4/V1 (120 min
    # beat 60).
    "h12_budget": ({"R-3", "R-2", "R-4/V1"}, {"R-1": "over_budget", "R-4/V2": "over_budget"}),
}


def test_every_rule_fixture_has_an_expectation():
    assert sorted(p.stem for p in RULES.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rule_fixture(name: str):
    problem = load_problem(RULES / f"{name}.json")
    result = allocate(problem, engine="cpsat", time_limit=5, workers=1, seed=0)
    plan = result.plan
    served = {s.request_id for s in plan.stays} | {
        f"{v.request_id}/{v.visit_id}" for v in plan.visits
    }
    unmet = {u.request_id + (f"/{u.visit_id}" if u.visit_id else ""): u.reason for u in plan.unmet}
    expected_served, expected_unmet = EXPECTED[name]
    assert check(problem, plan) == []
    assert result.status == "optimal"
    assert served == expected_served
    assert unmet == expected_unmet
