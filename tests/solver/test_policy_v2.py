"""Council policy v2 (H8 exemptions, allowance years and banked hours; H12 block and
spot money; H12b spot approval; H13 crisis reserve; outside_horizon), each from a
problem small enough to reason about, on both engines: they must agree.

The horizon is Monday 2 March .. Sunday 8 March 2026, planned on Monday 2 March
(``builders.problem``); every unit is about 1.3 km from every home.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.allocate import allocate
from scheduler.compile import Compiled, compile_problem
from scheduler.model import Plan, Problem
from tests.solver import builders as b
from tests.solver.test_bruteforce import brute_force_best, feasible

ENGINES = ("greedy", "cpsat")
MON, TUE, WED, THU, FRI, SAT = (f"2026-03-0{d}" for d in range(2, 8))


def plan_of(problem: Problem, engine: str) -> Plan:
    return allocate(problem, engine=engine, time_limit=5, workers=1, seed=0).plan


def served(plan: Plan) -> set[str]:
    return {s.request_id for s in plan.stays} | {
        f"{v.request_id}/{v.visit_id}" for v in plan.visits
    }


def reasons(plan: Plan) -> dict[str, str]:
    return {u.request_id + (f"/{u.visit_id}" if u.visit_id else ""): u.reason for u in plan.unmet}


def both(problem: Problem, same: bool = True) -> list[Plan]:
    """The plans of both engines, which must serve the same requests (``same``) or, where
    two requests are alike, as many."""
    plans = [plan_of(problem, engine) for engine in ENGINES]
    if same:
        assert served(plans[0]) == served(plans[1])
    assert len(served(plans[0])) == len(served(plans[1]))
    return plans


def visit(request_id: str, case_id: str, minutes: int, day: str, priority: str = "planned"):
    return b.sitting(
        request_id, case_id, [("V1", minutes, day, "09:00", "17:00")], priority=priority
    )


# ---------------------------------------------------------------- H8 exemptions


def test_crisis_stay_is_served_with_the_allowance_used_up() -> None:
    # 28 of 28 nights used: the crisis stay draws on no allowance, the planned one does.
    problem = b.problem(
        [b.case("C-1", nights_used=28), b.case("C-2", nights_used=28)],
        [b.unit("U-1", beds=2)],
        [
            b.stay("R-1", "C-1", 3, MON, MON, priority="crisis"),
            b.stay("R-2", "C-2", 3, MON, MON),
        ],
        providers=[],
    )
    for plan in both(problem):
        assert served(plan) == {"R-1"}
        assert reasons(plan) == {"R-2": "allowance_used"}


def test_health_appointment_and_crisis_visits_draw_on_no_sitting_hours() -> None:
    # One hour a week: the 2-hour planned visit is refused, the others are not.
    problem = b.problem(
        [b.case("C-1", sitting_hours_per_week=1)],
        [],
        [
            visit("S-1", "C-1", 120, MON, "health_appointment"),
            visit("S-2", "C-1", 120, TUE, "crisis"),
            visit("S-3", "C-1", 120, WED),
        ],
        providers=[b.provider(count=2)],
    )
    for plan in both(problem):
        assert served(plan) == {"S-1/V1", "S-2/V1"}
        assert reasons(plan) == {"S-3/V1": "allowance_used"}


def test_a_booking_of_a_crisis_request_draws_on_no_allowance() -> None:
    # 25 of 28 used; a crisis stay of 3 nights is booked; 3 nights are still left.
    booking = {
        "booking_id": "BK-1",
        "request_id": "R-0",
        "case_id": "C-1",
        "unit_id": "U-1",
        "bed_id": "U-1-B0",
        "first_night": MON,
        "nights": 3,
    }
    problem = b.problem(
        [b.case("C-1", nights_used=25)],
        [b.unit("U-1")],
        [
            b.stay("R-0", "C-1", 3, MON, MON, priority="crisis"),
            b.stay("R-1", "C-1", 3, THU, THU),
        ],
        providers=[],
        bookings=[booking],
    )
    assert compile_problem(problem).data.cases[0].nights_left == 3
    for plan in both(problem):
        assert served(plan) == {"R-0", "R-1"}


# ------------------------------------------------------------- allowance years


def test_nights_after_the_anniversary_count_in_a_fresh_year() -> None:
    # The allowance year began 5 March 2025: from Thursday 5 March 2026 it starts again at
    # 0. All 28 nights of this year are used, so the stay can only start on Thursday.
    problem = b.problem(
        [b.case("C-1", nights_used=28, allowance_year_start="2025-03-05")],
        [b.unit("U-1")],
        [b.stay("R-1", "C-1", 3, MON, THU)],
        providers=[],
    )
    limits = compile_problem(problem).data.cases[0]
    assert (limits.fresh_night, limits.nights_left, limits.nights_left_next) == (3, 0, 28)
    for plan in both(problem):
        assert [str(s.first_night) for s in plan.stays] == [THU]


def test_a_stay_across_the_anniversary_draws_on_both_years() -> None:
    # 2 nights a year, none used; the year turns on Thursday. R-1 (Tue, Wed) draws 2 on
    # this year, R-2 (Thu, Fri) 2 on the next: both fit, though 4 > 2. R-3 (C-2, same
    # allowance) asks Wed..Fri: 1 night this year, 2 the next: it fits too.
    over = {"nights_allowance": 2, "allowance_year_start": "2025-03-05"}
    problem = b.problem(
        [b.case("C-1", **over), b.case("C-2", **over)],
        [b.unit("U-1", beds=2)],
        [
            b.stay("R-1", "C-1", 2, TUE, TUE),
            b.stay("R-2", "C-1", 2, THU, THU),
            b.stay("R-3", "C-2", 3, WED, WED),
        ],
        providers=[],
    )
    for plan in both(problem):
        assert served(plan) == {"R-1", "R-2", "R-3"}


def test_the_next_year_limit_binds_too() -> None:
    # 2 nights a year; the year turns on Tuesday: a 3-night stay from Monday draws 1 on
    # this year and 2 on the next, a 2-night stay from Thursday 2 on the next. Each fits
    # alone; together they draw 4 on the next year: only one of them.
    over = {"nights_allowance": 2, "allowance_year_start": "2025-03-03"}
    problem = b.problem(
        [b.case("C-1", **over)],
        [b.unit("U-1")],
        [b.stay("R-1", "C-1", 3, MON, MON), b.stay("R-2", "C-1", 2, THU, THU)],
        providers=[],
    )
    assert len(compile_problem(problem).data.stay_options) == 2
    for plan in both(problem):
        assert served(plan) == {"R-1"}  # 3 nights beat 2


# ---------------------------------------------------------------- banked hours


@pytest.mark.parametrize(("bank_weeks", "expected"), [(4, {"S-1/V1", "S-2/V1"}), (1, {"S-1/V1"})])
def test_banked_sitting_hours_are_usable_up_to_the_policy(
    bank_weeks: int, expected: set[str]
) -> None:
    # 1 hour a week and 2 banked: 3 hours, unless the policy banks only 1 week (2 hours).
    problem = b.problem(
        [b.case("C-1", sitting_hours_per_week=1, sitting_hours_banked=2)],
        [],
        [visit("S-1", "C-1", 120, MON), visit("S-2", "C-1", 60, TUE)],
        providers=[b.provider()],
        policy={"sitting_bank_weeks": bank_weeks},
    )
    for plan in both(problem):
        assert served(plan) == expected


# ------------------------------------------------------------ H12 and H12b money


def test_the_block_bed_is_used_before_the_spot_bed() -> None:
    # The spot bed is cheaper per night, but a block bed's night adds nothing to the spend:
    # the crisis stay goes to the block unit, and a budget of 1p does not stop it.
    problem = b.problem(
        [b.case("C-1")],
        [b.unit("U-S", spot=True, cost_per_night_pence=5000), b.unit("U-B")],
        [b.stay("R-1", "C-1", 3, MON, MON, priority="crisis")],
        providers=[],
        budgets=[{"budget_id": "BUD-1", "limit_pence": 1, "applies_to": ["U-S", "U-B"]}],
    )
    for plan in both(problem):
        assert [s.unit_id for s in plan.stays] == ["U-B"]


def test_no_spot_bed_for_a_routine_planned_break() -> None:
    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [b.unit("U-S", beds=2, spot=True)],
        [b.stay("R-1", "C-1", 2, MON, MON), b.stay("R-2", "C-2", 2, MON, MON, priority="crisis")],
        providers=[],
    )
    for plan in both(problem):
        assert served(plan) == {"R-2"}
        assert reasons(plan) == {"R-1": "spot_not_approved"}
        (unmet,) = plan.unmet
        assert "spot-purchased" in unmet.detail and "exceptional approval" in unmet.detail


def test_an_exceptional_request_gets_a_spot_bed() -> None:
    problem = b.problem(
        [b.case("C-1")],
        [b.unit("U-S", spot=True)],
        [
            b.stay(
                "R-1", "C-1", 2, MON, MON, exceptional=True, exceptional_reason="carer in hospital"
            )
        ],
        providers=[],
    )
    for plan in both(problem):
        assert served(plan) == {"R-1"}


def test_budgets_count_spot_bookings_and_agency_staff_not_block_nights() -> None:
    # £200 a night. BK-1: 2 nights in a block bed (nothing more); BK-2: 2 nights in a spot
    # bed (£400) with one agency staff member at £150 a night (£300). £1,000 - £700 = £300.
    def booking(booking_id: str, request_id: str, case_id: str, unit: str, **over: Any):
        return {
            "booking_id": booking_id,
            "request_id": request_id,
            "case_id": case_id,
            "unit_id": unit,
            "bed_id": f"{unit}-B0",
            "first_night": MON,
            "nights": 2,
            **over,
        }

    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [
            b.unit("U-B"),
            b.unit("U-S", spot=True, extra_night_staff_max=1, extra_night_staff_cost_pence=15000),
        ],
        [
            b.stay("R-1", "C-1", 2, MON, MON),
            b.stay("R-2", "C-2", 2, MON, MON, priority="crisis"),
        ],
        providers=[],
        bookings=[
            booking("BK-1", "R-1", "C-1", "U-B"),
            booking("BK-2", "R-2", "C-2", "U-S", extra_night_staff=1),
        ],
        budgets=[{"budget_id": "BUD-1", "limit_pence": 100000, "applies_to": ["U-B", "U-S"]}],
    )
    assert compile_problem(problem).data.budgets[0].left == 60 * 30000


# ----------------------------------------------------------------- H13 reserve


def reserve_problem(night: str, extra: list[dict[str, Any]] | None = None) -> Problem:
    """U-1: 2 beds, 1 held for crisis from Wednesday (planned Monday, released 2 days
    ahead); two planned 1-night stays of different cases on ``night``."""
    return b.problem(
        [b.case(f"C-{i}") for i in range(1, 4)],
        [b.unit("U-1", beds=2, crisis_reserve_beds=1)],
        [b.stay("R-1", "C-1", 1, night, night), b.stay("R-2", "C-2", 1, night, night)]
        + (extra or []),
        providers=[],
    )


def test_the_reserve_bed_is_kept_for_crisis() -> None:
    for plan in both(reserve_problem(THU), same=False):
        assert len(plan.stays) == 1


def test_the_reserve_bed_is_open_to_crisis() -> None:
    crisis = b.stay("R-3", "C-3", 1, THU, THU, priority="crisis")
    for plan in both(reserve_problem(THU, [crisis]), same=False):
        assert "R-3" in served(plan) and len(plan.stays) == 2


def test_the_reserve_opens_within_the_release_days() -> None:
    # Tuesday is fewer than 2 days after Monday, the planning date: the reserve is open.
    for plan in both(reserve_problem(TUE)):
        assert served(plan) == {"R-1", "R-2"}


def test_an_offered_booking_holds_the_unreserved_bed() -> None:
    # An offered (not yet accepted) planned booking holds the one unreserved bed on
    # Thursday: no new planned stay there; the compile step notes the reserve (the free
    # bed is the reserve bed), with the night in words.
    booking = {
        "booking_id": "BK-1",
        "request_id": "R-0",
        "case_id": "C-3",
        "unit_id": "U-1",
        "bed_id": "U-1-B0",
        "first_night": THU,
        "nights": 1,
        "status": "offered",
    }
    problem = b.problem(
        [b.case("C-1"), b.case("C-3")],
        [b.unit("U-1", beds=2, crisis_reserve_beds=1)],
        [b.stay("R-0", "C-3", 1, THU, THU), b.stay("R-1", "C-1", 1, THU, THU)],
        providers=[],
        bookings=[booking],
    )
    compiled = compile_problem(problem)
    assert compiled.data.units[0].reserve_cap == [2, 2, 1, 0, 1, 1, 1]
    (reserve,) = [r for r in compiled.removed[("R-1", None)] if r.reason == "crisis_reserve"]
    assert "Thursday 5 March" in reserve.detail and "1 of its 2 beds" in reserve.detail
    for plan in both(problem):
        assert served(plan) == {"R-0"}


# --------------------------------------------------------------- outside_horizon


def test_no_start_inside_the_horizon_is_outside_horizon() -> None:
    problem = b.problem(
        [b.case("C-1")], [b.unit("U-1")], [b.stay("R-1", "C-1", 3, SAT, SAT)], providers=[]
    )
    for plan in both(problem):
        assert reasons(plan) == {"R-1": "outside_horizon"}
        assert "Saturday 7 March" in plan.unmet[0].detail


# ------------------------------------------------------- both engines, brute force


@st.composite
def policy_problems(draw: st.DrawFn) -> Problem:
    """Tiny problems whose outcome the v2 rules decide: allowance years turning inside
    the horizon, exempt priorities, a spot unit, a crisis reserve, banked hours."""
    num_cases = 3
    cases = [
        b.case(
            f"C-{i}",
            nights_allowance=draw(st.integers(1, 4)),
            nights_used=draw(st.integers(0, 1)),
            allowance_year_start=draw(st.sampled_from(["2025-03-03", "2025-03-04", "2025-04-01"])),
            sitting_hours_per_week=1,
            sitting_hours_banked=draw(st.sampled_from([0, 1, 2])),
        )
        for i in range(num_cases)
    ]
    units = [
        b.unit("U-1", beds=2, crisis_reserve_beds=draw(st.integers(0, 2))),
        b.unit("U-S", beds=1, spot=True),
    ]
    requests = []
    for r in range(draw(st.integers(2, 4))):
        first = draw(st.integers(0, 2))
        exceptional = draw(st.booleans())
        requests.append(
            b.stay(
                f"R-{r}",
                f"C-{r % 2}",
                draw(st.integers(1, 2)),
                BRUTE_DAYS[first],
                BRUTE_DAYS[min(first + draw(st.integers(0, 1)), 2)],
                priority=draw(st.sampled_from(["crisis", "health_appointment", *["planned"] * 3])),
                exceptional=exceptional,
                exceptional_reason="approved" if exceptional else None,
            )
        )
    visits = [
        (f"V{v}", 60, BRUTE_DAYS[v], "09:00", "11:00") for v in range(draw(st.integers(1, 3)))
    ]
    priority = draw(st.sampled_from(["health_appointment", "planned"]))
    requests.append(b.sitting("S-0", "C-0", visits, priority=priority))
    return b.problem(
        cases,
        units,
        requests,
        providers=[b.provider()],
        nights=4,
        planned_on="2026-03-01",
        policy={"sitting_bank_weeks": draw(st.integers(0, 2)), "reserve_release_days": 2},
        budgets=[{"budget_id": "BUD-1", "limit_pence": 40000, "applies_to": ["U-S"]}],
    )


BRUTE_DAYS = [MON, TUE, WED]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_problems())
def test_cpsat_rows_and_the_greedy_state_agree_on_the_policy(problem: Problem) -> None:
    # The CP-SAT rows and the State (greedy, brute force) state the same v2 rules: CP-SAT
    # reaches the brute-force optimum over every choice the State allows, and never less
    # than greedy.
    compiled = compile_problem(problem)
    best = brute_force_best(compiled.data)
    result = allocate(problem, engine="cpsat", time_limit=10, workers=1, seed=0)
    greedy = allocate(problem, engine="greedy")
    assert result.status == "optimal"
    assert feasible(compiled.data, *chosen_options(compiled, result.plan))
    assert [t["value"] for t in result.plan.solver.tiers.values()] == best
    assert result.objective >= greedy.objective


def chosen_options(compiled: Compiled, plan: Plan) -> tuple[dict[int, int], dict[int, int]]:
    """The options a plan takes (bookings left out), found back in the compiled input."""
    data, index = compiled.data, compiled.index
    requests = {r.request_id: i for i, r in enumerate(compiled.stay_requests)}
    stays: dict[int, int] = {}
    for stay in plan.stays:
        if stay.request_id in requests:
            key = (
                requests[stay.request_id],
                index.class_of_bed[stay.bed_id],
                index.night_idx[stay.first_night],
            )
            stays[key[0]] = next(
                i
                for i, o in enumerate(data.stay_options)
                if (o.request, o.bed_class, o.start) == key
            )
    visits_idx = {(r.request_id, v.visit_id): i for i, (r, v) in enumerate(compiled.visits)}
    visits: dict[int, int] = {}
    for visit in plan.visits:
        v = visits_idx[(visit.request_id, visit.visit_id)]
        visits[v] = next(
            i
            for i, o in enumerate(data.visit_options)
            if o.visit == v
            and compiled.day_of(o.day) == visit.day
            and compiled.clock(o.start) == visit.start
            and compiled.provider_ids[o.provider] == visit.provider_id
        )
    return stays, visits
