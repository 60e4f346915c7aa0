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
    # 5 nights x 20,000 + 300 sitter-min x 1,800 / 60 = 100,000 + 9,000
    assert kpis.cost_pence == 109000
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
    assert kpis.cost_pence == (3 + 2) * 20000 + 9000
    assert kpis.bed_occupancy == round((3 + 2) / 14, 4)


@pytest.mark.parametrize(
    ("pence_per_hour", "cost_pence"),
    [
        # 305 sitter-min x 1,801 = 549,305 / 60 = 9,155.08 -> 9,155
        (1801, 100000 + 9155),
        # 305 x 1,799 = 548,695 / 60 = 9,144.92 -> 9,145
        (1799, 100000 + 9145),
        # 305 x 1,794 = 547,170 / 60 = 9,119.5 -> 9,120 (a half penny rounds up)
        (1794, 100000 + 9120),
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
    # with U-1 spot too there are no block beds: occupancy 0, and U-1's 5 nights are spot
    tiny_problem["units"][0]["spot"] = True
    kpis = _kpis(tiny_problem, tiny_plan)
    assert kpis.bed_occupancy == 0.0
    assert (kpis.model_extra or {})["spot_nights"] == 5


def test_visits_outside_the_week_do_not_use_the_rota(tiny_problem: Data, tiny_plan: Data) -> None:
    # V2 (120 sitter-minutes) moved to 03-09: 180 of 6,720 in the week = 0.0268
    tiny_plan["visits"][1]["day"] = "2026-03-09"
    assert _kpis(tiny_problem, tiny_plan).sitter_utilisation == 0.0268


def test_unknown_references_are_left_out(tiny_problem: Data, tiny_plan: Data) -> None:
    # R-1 in an unknown unit: its 3 nights count as served, but cost and travel drop it
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
