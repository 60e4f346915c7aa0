"""KPI figures of the tiny plan of conftest, each derived by hand."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.kpis import compute_kpis, in_week, nights_in_horizon
from scheduler.model import Kpis, Plan, Problem

Data = dict[str, Any]


def _kpis(problem: Data, plan: Data) -> Kpis:
    parsed = Plan.model_validate(plan)
    return compute_kpis(Problem.model_validate(problem), parsed.stays, parsed.visits)


def test_tiny_plan_figures(tiny_problem: Data, tiny_plan: Data) -> None:
    kpis = _kpis(tiny_problem, tiny_plan)
    # stays R-1 3 + R-2 2 = 5 of 3 + 2 + 7 = 12 nights
    assert (kpis.nights_requested, kpis.nights_served) == (12, 5)
    # visits 60 + 120 + 60 (double-handed counts once) = 240 of 240 minutes
    assert (kpis.sitting_minutes_requested, kpis.sitting_minutes_served) == (240, 240)
    # crisis: 3 x 60 served of (3 + 7) x 60
    assert kpis.crisis_served_ratio == 0.3
    # U-1's 2 beds x 7 nights, 5 held (U-2 is spot, left out): 0.357142...
    assert kpis.bed_occupancy == 0.3571
    # 60 + 120 + 2 x 60 = 300 sitter-minutes of 2 sitters x 480 min x 7 days = 6,720
    assert kpis.sitter_utilisation == 0.0446
    # U-1 is block (its nights add nothing): 300 sitter-min x 1,800 / 60 = 9,000
    assert kpis.cost_pence == 9000
    # (0.02 + 0.05 + 0.01 + 0.01 + 0.03) degrees of latitude x 111.19493 km = 13.34
    assert kpis.travel_km == 13.3
    # the plan's own block, derived the same way in conftest, agrees
    assert kpis.model_dump(include=set(Kpis.model_fields)) == tiny_plan["kpis"]


def test_tiny_plan_extras(tiny_problem: Data, tiny_plan: Data) -> None:
    extras = _kpis(tiny_problem, tiny_plan).model_extra or {}
    assert extras["by_priority"] == {
        # R-1 (3 nights, served) and R-5 (7 nights, unmet)
        "crisis": {"nights_requested": 10, "nights_served": 3, "minutes_requested": 0,
                   "minutes_served": 0},
        # 60 + 120 minutes, both served
        "health_appointment": {"nights_requested": 0, "nights_served": 0,
                               "minutes_requested": 180, "minutes_served": 180},
        # R-2 (2 nights, booked) and R-4 (60 minutes)
        "planned": {"nights_requested": 2, "nights_served": 2, "minutes_requested": 60,
                    "minutes_served": 60},
    }  # fmt: skip
    # 5 requests, all but R-5 served; R-5 is the only item unmet
    assert (extras["requests_total"], extras["requests_served"], extras["unmet_count"]) == (5, 4, 1)
    assert (extras["stays_planned"], extras["visits_planned"]) == (2, 3)
    assert (extras["sitter_minutes_served"], extras["spot_nights"]) == (300, 0)


def test_no_crisis_requested_is_a_full_ratio(tiny_problem: Data, tiny_plan: Data) -> None:
    for request in tiny_problem["requests"]:
        request["priority"] = "planned"
    assert _kpis(tiny_problem, tiny_plan).crisis_served_ratio == 1.0


def test_an_empty_plan(tiny_problem: Data) -> None:
    # crisis was asked and nothing given: 0; nothing occupied, nothing spent
    kpis = _kpis(tiny_problem, {"solver": {"engine": "none", "status": "empty"}})
    assert kpis.crisis_served_ratio == 0.0
    assert (kpis.nights_served, kpis.sitting_minutes_served, kpis.cost_pence) == (0, 0, 0)
    assert (kpis.bed_occupancy, kpis.sitter_utilisation, kpis.travel_km) == (0.0, 0.0, 0.0)
    assert (kpis.model_extra or {})["unmet_count"] == 3 + 3  # and 3 visits


def test_only_nights_inside_the_horizon_cost_and_occupy(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    # R-2 as 4 nights from 03-07: 03-07 and 03-08 inside, 03-09 and 03-10 after the horizon
    tiny_plan["stays"][1].update(first_night="2026-03-07", nights=4)
    kpis = _kpis(tiny_problem, tiny_plan)
    assert kpis.nights_served == 3 + 4  # as written
    assert kpis.cost_pence == 9000  # block nights add nothing, inside or out
    assert kpis.bed_occupancy == round((3 + 2) / 14, 4)


@pytest.mark.parametrize(
    ("pence_per_hour", "cost_pence"),
    [
        # 305 sitter-min x 1,801 = 549,305 / 60 = 9,155.08 -> 9,155
        (1801, 9155),
        # 305 x 1,799 = 548,695 / 60 = 9,144.92 -> 9,145
        (1799, 9145),
        # 305 x 1,794 = 547,170 / 60 = 9,119.5 -> 9,120 (a half penny rounds up)
        (1794, 9120),
    ],
)
def test_sitting_cost_is_rounded_once_to_the_penny(
    tiny_problem: Data, tiny_plan: Data, pence_per_hour: int, cost_pence: int
) -> None:
    # V2 lasts 125 minutes, so the plan has 60 + 125 + 2 x 60 = 305 sitter-minutes
    tiny_problem["requests"][2]["visits"][1]["minutes"] = 125
    tiny_plan["visits"][1]["minutes"] = 125
    tiny_problem["providers"][0]["cost_per_hour_pence"] = pence_per_hour
    assert _kpis(tiny_problem, tiny_plan).cost_pence == cost_pence


def test_spot_units_are_left_out_of_occupancy(tiny_problem: Data, tiny_plan: Data) -> None:
    # with U-1 spot too there are no block beds: occupancy 0, and U-1's 5 nights are spot,
    # bought at 20,000 each: 100,000 + 9,000 of sitting
    tiny_problem["units"][0]["spot"] = True
    kpis = _kpis(tiny_problem, tiny_plan)
    assert kpis.bed_occupancy == 0.0
    assert (kpis.model_extra or {})["spot_nights"] == 5
    assert kpis.cost_pence == (kpis.model_extra or {})["spend_added_pence"] == 109000


def test_visits_outside_the_week_do_not_use_the_rota(tiny_problem: Data, tiny_plan: Data) -> None:
    # V2 (120 sitter-minutes) moved to 03-09: 180 of 6,720 in the week = 0.0268
    tiny_plan["visits"][1]["day"] = "2026-03-09"
    assert _kpis(tiny_problem, tiny_plan).sitter_utilisation == 0.0268


def test_unknown_references_are_left_out(tiny_problem: Data, tiny_plan: Data) -> None:
    # R-1 in an unknown unit: its 3 nights count as served, but cost and travel drop it
    tiny_problem["units"][0]["spot"] = True  # so that its nights would cost
    tiny_plan["stays"][0]["unit_id"] = "U-9"
    kpis = _kpis(tiny_problem, tiny_plan)
    assert kpis.nights_served == 5
    assert kpis.cost_pence == 2 * 20000 + 9000
    assert kpis.travel_km == round((0.05 + 0.01 + 0.01 + 0.03) * 111.19493, 1)  # 11.1


def test_figures_do_not_depend_on_order(tiny_problem: Data, tiny_plan: Data) -> None:
    forward = _kpis(tiny_problem, tiny_plan)
    tiny_plan["stays"].reverse()
    tiny_plan["visits"].reverse()
    assert _kpis(tiny_problem, tiny_plan).model_dump() == forward.model_dump()


def test_helpers(tiny_problem: Data) -> None:
    problem = Problem.model_validate(tiny_problem)
    # horizon 03-02..03-08: 03-01..03-03 has 2 nights inside, 03-07..03-10 has 2, 03-09.. none
    assert nights_in_horizon(problem, problem.horizon.first_night.replace(day=1), 3) == 2
    assert nights_in_horizon(problem, problem.horizon.last_night.replace(day=7), 4) == 2
    assert nights_in_horizon(problem, problem.horizon.last_night.replace(day=9), 2) == 0
    # the week is Mon 03-02 .. Sun 03-08
    assert in_week(problem, problem.week_start.replace(day=8))
    assert not in_week(problem, problem.week_start.replace(day=9))


def test_spend_added_counts_agency_staff_not_block_nights(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    # R-2 (block U-1, 2 nights) brings 1 agency staff at £250.00 a staff-night: 2 staff-nights
    tiny_problem["units"][0].update(extra_night_staff_max=1, extra_night_staff_cost_pence=25000)
    tiny_plan["stays"][1]["extra_night_staff"] = 1
    kpis = _kpis(tiny_problem, tiny_plan)
    extras = kpis.model_extra or {}
    assert extras["agency_staff_nights"] == 2
    # 2 x 25,000 agency + 9,000 sitting; the block nights add nothing
    assert kpis.cost_pence == extras["spend_added_pence"] == 2 * 25000 + 9000


@pytest.mark.parametrize(
    ("yearly", "expected"),
    [
        (3_650_000, 70000),  # 3,650,000 x 7 / 365 = 70,000 exactly
        (1_000_000, 19178),  # 7,000,000 / 365 = 19,178.08
        (365 * 100 + 27, 701),  # (36,527 x 7 = 255,689) / 365 = 700.52 -> 701 (half up)
    ],
)
def test_block_contract_is_prorated_to_the_horizon(
    tiny_problem: Data, tiny_plan: Data, yearly: int, expected: int
) -> None:
    tiny_problem["units"][0]["block_cost_per_year_pence"] = yearly
    assert (_kpis(tiny_problem, tiny_plan).model_extra or {})["block_contract_pence"] == expected


def test_contributions_are_charged_on_chargeable_stays_only(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    tiny_problem["cases"][0]["contribution_per_night_pence"] = 1500  # C-1, R-1 crisis 3 nights
    tiny_problem["cases"][1]["contribution_per_night_pence"] = 2000  # C-2, R-2 planned 2 nights
    # crisis is allowance-exempt by default, so not charged: 2 x 2,000
    assert (_kpis(tiny_problem, tiny_plan).model_extra or {})["carer_contributions_pence"] == 4000
    # with no priority exempt, R-1 is charged too: 3 x 1,500 + 4,000
    tiny_problem["policy"] = {"allowance_exempt": []}
    assert (_kpis(tiny_problem, tiny_plan).model_extra or {})["carer_contributions_pence"] == 8500


@pytest.mark.parametrize(
    ("release_days", "held", "released"),
    [
        # in force from 03-04: held on 03-05..03-08 (4); on 03-04 both beds are non-crisis
        (2, 4, 0),
        # in force from 03-05: held 4 as above, and 03-04's reserve bed went to a planned stay
        (3, 4, 1),
        # open every night: nothing held; 03-04 released
        (7, 0, 1),
    ],
)
def test_crisis_reserve_held_and_released(
    tiny_problem: Data, tiny_plan: Data, release_days: int, held: int, released: int
) -> None:
    # U-1: 2 beds, 1 held for crisis. R-1 made planned (03-02..03-04) and R-2 moved to
    # 03-04..03-05: on 03-04 two non-crisis stays, so they take the reserve bed; on other
    # nights at most one (the open bed), so the reserve bed is left for crisis.
    tiny_problem["units"][0]["crisis_reserve_beds"] = 1
    tiny_problem["requests"][0]["priority"] = "planned"
    tiny_plan["stays"][1]["first_night"] = "2026-03-04"
    tiny_problem["policy"] = {"reserve_release_days": release_days}
    extras = _kpis(tiny_problem, tiny_plan).model_extra or {}
    assert extras["crisis_reserve_bed_nights_held"] == held
    assert extras["crisis_reserve_bed_nights_released"] == released
    assert extras["agency_staff_nights"] == 0  # no stay brings agency staff


def test_a_unit_without_a_reserve_holds_and_releases_nothing(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    extras = _kpis(tiny_problem, tiny_plan).model_extra or {}
    assert (extras["crisis_reserve_bed_nights_held"], extras["block_contract_pence"]) == (0, 0)
    assert (extras["crisis_reserve_bed_nights_released"], extras["carer_contributions_pence"]) == (
        0,
        0,
    )
