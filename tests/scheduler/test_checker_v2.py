"""The plan checker on the rules v2 of the spec added or changed: agency night staff (H5),
exempt priorities, the fresh allowance year and banked hours (H8), overnight sitting (H9,
H10), bookings' agency staff and offered bookings (H11), block and spot money (H12), spot
approval (H12b), the crisis reserve (H13), and alternatives (ALT).

Each scenario starts from conftest's tiny problem and its valid plan (see there for the
numbers), changes them into a valid v2 plan (nothing reported), then breaks that plan one
way (exactly the rule named is reported). The planning date is the horizon's first night,
Monday 2 March 2026, unless a test says otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.scheduler.plan_data import Data, Scenario, find_item, unmet_of, violations_of


def _case(problem: Data, case_id: str) -> Data:
    return find_item(problem["cases"], case_id=case_id)


def _unit(problem: Data, unit_id: str) -> Data:
    return find_item(problem["units"], unit_id=unit_id)


def _request(problem: Data, request_id: str) -> Data:
    return find_item(problem["requests"], request_id=request_id)


def _stay(plan: Data, request_id: str) -> Data:
    return find_item(plan["stays"], request_id=request_id)


def _booking(problem: Data, booking_id: str) -> Data:
    return find_item(problem["bookings"], booking_id=booking_id)


def _both(problem: Data, plan: Data, **fields: Any) -> None:
    """Change booked stay R-2 (BK-1) and its place in the plan alike."""
    _booking(problem, "BK-1").update(fields)
    _stay(plan, "R-2").update(fields)


# ------------------------------------------------------------- the scenarios


def agency(problem: Data, plan: Data) -> None:
    """C-2 becomes two_to_one: on 03-05 (1 rostered) and 03-06 (2 rostered) U-1 needs 2.
    R-2 was booked with 1 agency member of staff a night (U-1 may add 1, at £100.00),
    so 1 + 1 and 2 + 1 >= 2; extra_staff lists 1 on each night. BUD-1: block nights
    free + 2 agency nights x £100 + P-1 £90 = £290.00, its limit."""
    _case(problem, "C-2")["night_support"] = "two_to_one"
    _unit(problem, "U-1").update(extra_night_staff_max=1, extra_night_staff_cost_pence=10000)
    _both(problem, plan, extra_night_staff=1)
    plan["extra_staff"] = [
        {"unit_id": "U-1", "night": "2026-03-05", "count": 1},
        {"unit_id": "U-1", "night": "2026-03-06", "count": 1},
    ]
    problem["budgets"][0]["limit_pence"] = 29000


def fresh_year(problem: Data, plan: Data) -> None:
    """C-2's allowance year began 2025-03-06, so 03-06 is the first night of its next
    year. R-2 (planned, booked 03-05..06): 21 used + 1 (03-05) = 22 <= 22 this year,
    1 (03-06) <= 22 in the next, counted from 0."""
    _case(problem, "C-2").update(
        allowance_year_start="2025-03-06", nights_used=21, nights_allowance=22
    )


def banked(problem: Data, plan: Data) -> None:
    """C-4 (R-4, planned, 60 minutes) has 0.5 h a week and 10 h banked; 4 weeks may be
    banked, so 60 x (0.5 + min(10, 4 x 0.5)) = 150 >= 60. C-3's visits (180 minutes) are
    a health appointment, exempt: 0 h a week is no bar."""
    _case(problem, "C-4").update(sitting_hours_per_week=0.5, sitting_hours_banked=10)
    _case(problem, "C-3")["sitting_hours_per_week"] = 0


def overnight(problem: Data, plan: Data) -> None:
    """R-6, C-4 planned: V1, 480 minutes in Saturday 03-07's 22:00-07:00 window, planned
    22:00 (to 06:00 Sunday); V2, 60 minutes in Sunday 03-08's 23:00-07:00, planned 23:00
    (to 00:00 Monday 03-09). P-1 works 22:00-08:00 on Saturday and 22:00-00:00 on Sunday
    with 2 sitters; Monday's rota starts 00:00-07:00 with 1. C-4: 60 + 480 + 60 = 600
    minutes <= 10 h. P-1: 300 + 540 = 840 sitter-minutes <= 2,400; BUD-1 limit raised."""
    sitters = problem["providers"][0]["sitters"]
    sitters["sat"] = [{"start": "22:00", "end": "08:00", "count": 2}]
    sitters["sun"] = [{"start": "22:00", "end": "00:00", "count": 2}]
    sitters["mon"] = [*sitters["mon"], {"start": "00:00", "end": "07:00", "count": 1}]
    _case(problem, "C-4")["sitting_hours_per_week"] = 10
    problem["budgets"][0]["limit_pence"] = 10**9
    windows = {
        "V1": ("2026-03-07", "22:00", "07:00", 480),
        "V2": ("2026-03-08", "23:00", "07:00", 60),
    }
    problem["requests"].append(
        {
            "request_id": "R-6", "case_id": "C-4", "kind": "sitting", "priority": "planned",
            "received": "2026-02-01", "max_travel_km": 10,
            "visits": [
                {"visit_id": v, "minutes": m, "windows": [{"day": d, "start": s, "end": e}]}
                for v, (d, s, e, m) in windows.items()
            ],
        }
    )  # fmt: skip
    for visit_id, (day, start, _, minutes) in windows.items():
        plan["visits"].append(
            {
                "request_id": "R-6", "visit_id": visit_id, "case_id": "C-4",
                "provider_id": "P-1", "day": day, "start": start, "minutes": minutes,
            }
        )  # fmt: skip


def spot(problem: Data, plan: Data) -> None:
    """U-2 (spot, £300.00 a night) now takes men and R-5 (C-4, crisis) 20 km: R-5 gets
    B-2-1 for its 7 nights (U-2 is 7.78 km away). Crisis is in spot_for (H12b). BUD-2 on
    U-2: 7 x £300 = £2,100.00, its limit; BUD-1 is unchanged (U-1's nights are free)."""
    _unit(problem, "U-2")["sex_policy"] = "any"
    _request(problem, "R-5")["max_travel_km"] = 20
    problem["budgets"].append({"budget_id": "BUD-2", "limit_pence": 210000, "applies_to": ["U-2"]})
    plan["unmet"].remove(unmet_of(plan, "R-5"))
    plan["stays"].append(
        {
            "request_id": "R-5", "case_id": "C-4", "unit_id": "U-2", "bed_id": "B-2-1",
            "first_night": "2026-03-02", "nights": 7,
        }
    )  # fmt: skip


def reserve(problem: Data, plan: Data) -> None:
    """U-1 holds 1 of its 2 beds for crisis from 03-04 (planned 03-02 + 2 days): 1
    non-crisis stay a night. R-1 (crisis) moves to 03-04..06, beside booked R-2
    (planned) on 03-05..06: 1 non-crisis stay. C-1 and C-2 made compatible; U-1 has 2
    staff every night (03-05: 1 shared + 1 one_to_one = 2)."""
    _unit(problem, "U-1").update(crisis_reserve_beds=1, night_staff={})
    _case(problem, "C-1")["incompatible_with"] = []
    _stay(plan, "R-1")["first_night"] = "2026-03-04"


def offered(problem: Data, plan: Data) -> None:
    """BK-1 is an offer not yet answered: it holds its bed like a confirmed booking."""
    _booking(problem, "BK-1")["status"] = "offered"


SCENARIOS = [agency, fresh_year, banked, overnight, spot, reserve, offered]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_each_scenario_is_valid(tiny_problem: Data, tiny_plan: Data, scenario: Scenario) -> None:
    scenario(tiny_problem, tiny_plan)
    assert violations_of(tiny_problem, tiny_plan) == []


# ---------------------------------------------------------------- broken


def _drop_extra_staff(problem: Data, plan: Data) -> None:
    plan["extra_staff"] = plan["extra_staff"][1:]


# (scenario, break, rules reported, a fragment of one message)
ROWS = [
    # H5: without its agency member of staff R-2's first night needs 2, has 1
    pytest.param(
        agency,
        lambda pb, pl: (_both(pb, pl, extra_night_staff=0), pl.update(extra_staff=[])),
        {"H5"},
        "unit U-1 night 2026-03-05 needs 2 staff, has 1",
        id="H5-no-agency",
    ),
    # H5: on 03-05 no staff is rostered: 0 + 1 agency < 2
    pytest.param(
        agency,
        lambda pb, pl: _unit(pb, "U-1")["night_staff"].update({"2026-03-05": 0}),
        {"H5"},
        "unit U-1 night 2026-03-05 needs 2 staff, has 0 and 1 agency",
        id="H5-agency-short",
    ),
    # H5: U-1 may add no agency staff
    pytest.param(
        agency,
        lambda pb, pl: _unit(pb, "U-1").update(extra_night_staff_max=0),
        {"H5"},
        "unit U-1 night 2026-03-05 adds 1 agency staff, at most 0",
        id="H5-agency-max",
    ),
    # H5: extra_staff forgets 03-05
    pytest.param(
        agency,
        _drop_extra_staff,
        {"H5"},
        "extra_staff for unit U-1 night 2026-03-05 is 0, its stays bring 1",
        id="H5-extra-staff-list",
    ),
    # H5: extra_staff lists a night no stay brings agency staff to
    pytest.param(
        agency,
        lambda pb, pl: pl["extra_staff"].append(
            {"unit_id": "U-1", "night": "2026-03-02", "count": 1}
        ),
        {"H5"},
        "extra_staff for unit U-1 night 2026-03-02 is 1, its stays bring 0",
        id="H5-extra-staff-unbrought",
    ),
    # PLAN: extra_staff in a unit that does not exist
    pytest.param(
        agency,
        lambda pb, pl: pl["extra_staff"].append(
            {"unit_id": "U-9", "night": "2026-03-02", "count": 1}
        ),
        {"PLAN"},
        "extra_staff unit_id U-9 is not a unit",
        id="PLAN-extra-staff-unit",
    ),
    # H11: the plan keeps the booking without the agency staff it was booked with (U-1
    # rosters 2 from then on: H5 holds without them)
    pytest.param(
        agency,
        lambda pb, pl: (
            _stay(pl, "R-2").update(extra_night_staff=0),
            pl.update(extra_staff=[]),
            _unit(pb, "U-1").update(night_staff={}),
        ),
        {"H11"},
        "booking BK-1 (stay R-2 bed B-1-2 from 2026-03-05, 2 nights, 1 agency staff a night)",
        id="H11-agency",
    ),
    # H12: 2 agency nights x £100 + £90 = £290.00, a penny over
    pytest.param(
        agency,
        lambda pb, pl: pb["budgets"][0].update(limit_pence=28999),
        {"H12"},
        "budget BUD-1 planned £290.00 over limit £289.99",
        id="H12-agency",
    ),
    # H8: the next year starts a night later (03-07): 21 + 2 = 23 > 22 this year
    pytest.param(
        fresh_year,
        lambda pb, pl: _case(pb, "C-2").update(allowance_year_start="2025-03-07"),
        {"H8"},
        "case C-2 nights_used 21 + 2 planned = 23, over allowance 22",
        id="H8-this-year",
    ),
    # H8: the next year's allowance is the same 0 nights as this one's left
    pytest.param(
        fresh_year,
        lambda pb, pl: _case(pb, "C-2").update(nights_used=0, nights_allowance=0),
        {"H8"},
        "case C-2 has 1 night planned from 2026-03-06, its next year, over allowance 0",
        id="H8-next-year",
    ),
    # H8: crisis draws on the allowance again when the policy says so
    pytest.param(
        fresh_year,
        lambda pb, pl: (
            _request(pb, "R-2").update(priority="crisis"),
            _case(pb, "C-1").update(nights_allowance=0, nights_used=0),
            pb.update(policy={"allowance_exempt": []}),
        ),
        {"H8"},
        "case C-1 nights_used 0 + 3 planned = 3, over allowance 0",
        id="H8-not-exempt",
    ),
    # H8: a policy that banks nothing: 60 x 0.5 = 30 < 60
    pytest.param(
        banked,
        lambda pb, pl: pb.update(policy={"sitting_bank_weeks": 0}),
        {"H8"},
        "case C-4 has 60 sitting minutes planned in the week, entitled to 30",
        id="H8-no-banking",
    ),
    # H8: nothing banked
    pytest.param(
        banked,
        lambda pb, pl: _case(pb, "C-4").update(sitting_hours_banked=0),
        {"H8"},
        "entitled to 30",
        id="H8-nothing-banked",
    ),
    # H8: health appointments draw on the weekly hours if the policy says so
    pytest.param(
        banked,
        lambda pb, pl: pb.update(policy={"allowance_exempt": ["crisis"]}),
        {"H8"},
        "case C-3 has 180 sitting minutes planned in the week, entitled to 0",
        id="H8-hours-not-exempt",
    ),
    # H9: Saturday's night shift ends 05:00 Sunday; V1 runs to 06:00
    pytest.param(
        overnight,
        lambda pb, pl: pb["providers"][0]["sitters"]["sat"][0].update(end="05:00"),
        {"H9"},
        "provider P-1 2026-03-08 05:00 has 1 sitter busy, 0 on shift",
        id="H9-overnight-shift",
    ),
    # H9: V2 planned 23:30 runs to 00:30 Monday, on Monday's rota, which loses its
    # 00:00-07:00 sitter
    pytest.param(
        overnight,
        lambda pb, pl: (
            find_item(pl["visits"], request_id="R-6", visit_id="V2").update(start="23:30"),
            pb["providers"][0]["sitters"]["mon"].pop(),
        ),
        {"H9"},
        "provider P-1 2026-03-09 00:00 has 1 sitter busy, 0 on shift",
        id="H9-monday-after",
    ),
    # H10: V1 planned 23:30 runs to 07:30, past its window's 07:00 (P-1 works to 08:00)
    pytest.param(
        overnight,
        lambda pb, pl: find_item(pl["visits"], request_id="R-6", visit_id="V1").update(
            start="23:30"
        ),
        {"H10"},
        "visit R-6/V1 2026-03-07 23:30-07:30 is outside its windows",
        id="H10-overnight-window",
    ),
    # H10: V2's window moves to Sunday 05:00-06:00, where V1 (to 06:00) still is
    pytest.param(
        overnight,
        lambda pb, pl: (
            _request(pb, "R-6")["visits"][1]["windows"][0].update(start="05:00", end="06:00"),
            find_item(pl["visits"], request_id="R-6", visit_id="V2").update(
                day="2026-03-08", start="05:00"
            ),
        ),
        {"H10"},
        "case C-4 visits R-6/V1 2026-03-07 22:00-06:00 and R-6/V2 2026-03-08 05:00-06:00 overlap",
        id="H10-overlap-past-midnight",
    ),
    # H12: spot nights are paid: £2,100.00 on BUD-2, a penny over
    pytest.param(
        spot,
        lambda pb, pl: pb["budgets"][1].update(limit_pence=209999),
        {"H12"},
        "budget BUD-2 planned £2,100.00 over limit £2,099.99",
        id="H12-spot",
    ),
    # H12b: a routine planned break in a spot bed
    pytest.param(
        spot,
        lambda pb, pl: _request(pb, "R-5").update(priority="planned"),
        {"H12b"},
        "stay R-5 is in spot unit U-2, but R-5 is planned and not exceptional (spot_for: crisis)",
        id="H12b",
    ),
    # H12b: a policy that buys spot beds for nobody but exceptional requests
    pytest.param(
        spot,
        lambda pb, pl: pb.update(policy={"spot_for": []}),
        {"H12b"},
        "but R-5 is crisis and not exceptional (spot_for: no priority)",
        id="H12b-no-priority",
    ),
    # H13: R-1 becomes planned: on 03-05 and 03-06 U-1 holds 2 non-crisis stays, 1 allowed
    pytest.param(
        reserve,
        lambda pb, pl: _request(pb, "R-1").update(priority="planned"),
        {"H13"},
        "unit U-1 night 2026-03-05 holds 2 non-crisis stays (1 booked; new R-1), at most 1 "
        "with 1 bed held for crisis",
        id="H13",
    ),
    # H13: both beds held: the booking stands alone (0 new), but R-1 may not join it
    pytest.param(
        reserve,
        lambda pb, pl: (
            _request(pb, "R-1").update(priority="health_appointment"),
            _unit(pb, "U-1").update(crisis_reserve_beds=2),
        ),
        {"H13"},
        "unit U-1 night 2026-03-04 holds 1 non-crisis stay (0 booked; new R-1), at most 0",
        id="H13-health-appointment",
    ),
    # H11: the offered booking is not in the plan (its request listed unmet): it stands
    pytest.param(
        offered,
        lambda pb, pl: (
            pl["stays"].remove(_stay(pl, "R-2")),
            pl["unmet"].append({"request_id": "R-2", "reason": "beds_taken", "detail": "-"}),
        ),
        {"H11"},
        "booking BK-1 (stay R-2 bed B-1-2 from 2026-03-05, 2 nights) is missing or changed",
        id="H11-offered",
    ),
]


@pytest.mark.parametrize(("scenario", "mutate", "rules", "fragment"), ROWS)
def test_each_broken_v2_rule_is_reported(
    tiny_problem: Data,
    tiny_plan: Data,
    scenario: Scenario,
    mutate: Scenario,
    rules: set[str],
    fragment: str,
) -> None:
    scenario(tiny_problem, tiny_plan)
    mutate(tiny_problem, tiny_plan)
    violations = violations_of(tiny_problem, tiny_plan)
    assert {v.rule for v in violations} == rules, violations
    assert any(fragment in v.message for v in violations), violations


# --------------------------------------------------------- what is allowed


def test_exempt_priorities_draw_on_no_allowance(tiny_problem: Data, tiny_plan: Data) -> None:
    # R-1 is crisis: C-1's 28 nights all used, yet R-1's 3 nights stand
    _case(tiny_problem, "C-1")["nights_used"] = 28
    assert violations_of(tiny_problem, tiny_plan) == []


def test_block_nights_cost_nothing(tiny_problem: Data, tiny_plan: Data) -> None:
    # BUD-1 covers U-1 (5 block nights) and P-1 (£90.00): £90.00 is enough
    tiny_problem["budgets"][0]["limit_pence"] = 9000
    assert violations_of(tiny_problem, tiny_plan) == []


def test_an_exceptional_request_may_have_a_spot_bed(tiny_problem: Data, tiny_plan: Data) -> None:
    spot(tiny_problem, tiny_plan)
    _request(tiny_problem, "R-5").update(
        priority="planned", exceptional=True, exceptional_reason="carer in hospital"
    )
    assert violations_of(tiny_problem, tiny_plan) == []


def test_a_booked_spot_bed_stands(tiny_problem: Data, tiny_plan: Data) -> None:
    # R-5 planned in the spot bed, but booked so: H12b judged it when it was booked
    spot(tiny_problem, tiny_plan)
    _request(tiny_problem, "R-5")["priority"] = "planned"
    tiny_problem["bookings"].append({"booking_id": "BK-3", **_stay(tiny_plan, "R-5")})
    assert violations_of(tiny_problem, tiny_plan) == []


def test_the_crisis_reserve_opens_at_short_notice(tiny_problem: Data, tiny_plan: Data) -> None:
    # R-1 planned beside R-2 on 03-05..06 (2 non-crisis stays, 1 allowed) breaks H13 on
    # those nights only while the reserve is held: planned on 03-04 with 3 days' release
    # it is held from 03-07, after both
    reserve(tiny_problem, tiny_plan)
    _request(tiny_problem, "R-1")["priority"] = "planned"
    tiny_problem.update(planned_on="2026-03-04", policy={"reserve_release_days": 3})
    assert violations_of(tiny_problem, tiny_plan) == []
    tiny_problem["policy"]["reserve_release_days"] = 2  # held from 03-06
    assert [v.message[:31] for v in violations_of(tiny_problem, tiny_plan)] == [
        "unit U-1 night 2026-03-06 holds"
    ]


def test_bookings_over_the_reserve_stand(tiny_problem: Data, tiny_plan: Data) -> None:
    # both beds held for crisis; booked (planned) R-2 alone holds one: it stands
    reserve(tiny_problem, tiny_plan)
    _unit(tiny_problem, "U-1")["crisis_reserve_beds"] = 2
    assert violations_of(tiny_problem, tiny_plan) == []


def test_a_visit_after_midnight_counts_in_its_window_s_week(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    # V2 of R-6 planned 01:00 Monday 03-09 (after the week) in Sunday night's window
    # 23:00-07:00: it is Sunday's, so in the week (H10) and counted in C-4's hours (H8)
    overnight(tiny_problem, tiny_plan)
    find_item(tiny_plan["visits"], request_id="R-6", visit_id="V2").update(
        day="2026-03-09", start="01:00"
    )
    tiny_problem["providers"][0]["sitters"]["mon"][1]["count"] = 2
    assert violations_of(tiny_problem, tiny_plan) == []
    _case(tiny_problem, "C-4")["sitting_hours_per_week"] = 9.5  # 600 minutes > 570
    assert [str(v) for v in violations_of(tiny_problem, tiny_plan)] == [
        "H8 case C-4 has 600 sitting minutes planned in the week, entitled to 570"
    ]
    # outside every window (H10) it is Monday's, after the week: C-4's hours are 540 again
    tiny_problem["requests"][-1]["visits"][1]["windows"][0]["end"] = "00:30"
    assert {v.rule for v in violations_of(tiny_problem, tiny_plan)} == {"H10"}


def test_extra_staff_outside_the_horizon_may_be_left_out(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    # R-2 booked 03-08..09 with agency staff: 03-09 is past the horizon, so the plan may
    # list it (rightly) or not, but not wrongly
    agency(tiny_problem, tiny_plan)
    _both(tiny_problem, tiny_plan, first_night="2026-03-08")
    tiny_plan["extra_staff"] = [{"unit_id": "U-1", "night": "2026-03-08", "count": 1}]
    assert violations_of(tiny_problem, tiny_plan) == []
    tiny_plan["extra_staff"].append({"unit_id": "U-1", "night": "2026-03-09", "count": 1})
    assert violations_of(tiny_problem, tiny_plan) == []
    tiny_plan["extra_staff"][1]["count"] = 2
    assert [str(v) for v in violations_of(tiny_problem, tiny_plan)] == [
        "H5 extra_staff for unit U-1 night 2026-03-09 is 2, its stays bring 1"
    ]
