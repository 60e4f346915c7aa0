"""Agency night staff (H5) and the fairness bonuses of tier 2, in both engines."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from scheduler.allocate import allocate
from scheduler.checker import check
from scheduler.compile import compile_problem, need_of
from scheduler.model import Plan, Problem
from solver.cpsat import solve_cpsat
from solver.lp import relax
from solver.model import FirstHourTokens, Model, _token_sizes
from solver.params import CpSatParams
from solver.solution import tier_values
from tests.solver import builders as b

FAST = {"time_limit": 5.0, "workers": 2, "seed": 0}
FAR = {"lat": 51.40, "lon": 0.70}  # about 26 km from the builders' HOME
ENGINES = [("greedy", {}), ("cpsat", FAST)]


def staffing_shortfalls(problem: Problem, plan: Plan) -> list[str]:
    """H5 with the plan's agency staff, counted here independently of the solver."""
    support = {c.case_id: c.night_support for c in problem.cases}
    units = problem.unit_by_id()
    occupants: dict[tuple[str, dt.date], Counter[str]] = {}
    for stay in plan.stays:
        for night in stay.night_list:
            occupants.setdefault((stay.unit_id, night), Counter())[support[stay.case_id]] += 1
    extra = {(e.unit_id, e.night): e.count for e in plan.extra_staff}
    short = []
    for (unit_id, night), count in occupants.items():
        unit = units[unit_id]
        needed = (
            2 * count["two_to_one"] + count["one_to_one"] + -(-count["shared"] // unit.shared_ratio)
        )
        added = extra.get((unit_id, night), 0)
        if needed > unit.staff_on(night) + added or added > unit.extra_night_staff_max:
            short.append(f"{unit_id} {night}")
    return short


def other_violations(problem: Problem, plan: Plan) -> list[str]:
    """The checker's findings but H5, which it learns to count agency staff elsewhere
    (the staffing is checked by :func:`staffing_shortfalls` here)."""
    return [v for v in check(problem, plan) if not str(v).startswith("H5")]


def agency_problem(staff: int, bookings: list | None = None, **case_over) -> Problem:
    """A two-to-one resident (a crisis) with one bed near home in a unit of ``staff``
    night staff that may add one agency staff member at 150.00 a night, and a spot bed
    26 km away with staff enough."""
    return b.problem(
        [b.case("C-1", night_support="two_to_one", **case_over)],
        [
            b.unit(
                "U-near",
                default_night_staff=staff,
                extra_night_staff_max=1,
                extra_night_staff_cost_pence=15000,
            ),
            b.unit("U-spot", location=FAR, spot=True, cost_per_night_pence=40000),
        ],
        [b.stay("R-1", "C-1", 2, "2026-03-02", "2026-03-02", priority="crisis")],
        providers=[],
        bookings=bookings or [],
    )


@pytest.mark.parametrize(("engine", "params"), ENGINES)
def test_a_two_to_one_resident_is_served_near_home_with_agency_staff(engine, params):
    # The near unit has 1 night staff, the resident needs 2: one agency staff member
    # each night serves them there. The spot bed 26 km away is dearer (tier 4: spot
    # nights count double, 2 x 400.00 against 150.00 x 2 + 1p a night) and farther, so
    # neither engine sends them there.
    problem = agency_problem(staff=1)
    plan = allocate(problem, engine=engine, **params).plan
    (stay,) = plan.stays
    assert (stay.unit_id, stay.extra_night_staff) == ("U-near", 1)
    assert [(e.unit_id, str(e.night), e.count) for e in plan.extra_staff] == [
        ("U-near", "2026-03-02", 1),
        ("U-near", "2026-03-03", 1),
    ]
    assert staffing_shortfalls(problem, plan) == []
    assert other_violations(problem, plan) == []


@pytest.mark.parametrize(("engine", "params"), ENGINES)
def test_no_agency_staff_where_rostered_staff_suffice(engine, params):
    # Two night staff cover the two-to-one resident: the variant with an agency staff
    # member serves the same stay for more money, and is never chosen.
    problem = agency_problem(staff=2)
    plan = allocate(problem, engine=engine, **params).plan
    (stay,) = plan.stays
    assert (stay.unit_id, stay.extra_night_staff) == ("U-near", 0)
    assert plan.extra_staff == []


def test_without_agency_staff_allowed_the_staffing_blames_the_night_staff():
    # No agency may be added: the near unit cannot take the resident (1 staff, 2
    # needed) and the compile step says so; the spot bed serves.
    problem = agency_problem(staff=1)
    problem.units[0].extra_night_staff_max = 0
    compiled = compile_problem(problem)
    assert {o.extra for o in compiled.data.stay_options} == {0}
    reasons = [r.reason for r in compiled.removed[("R-1", None)]]
    assert "no_night_staff" in reasons
    plan = allocate(problem, engine="cpsat", **FAST).plan
    assert [s.unit_id for s in plan.stays] == ["U-spot"]


@pytest.mark.parametrize(("engine", "params"), ENGINES)
def test_booked_agency_staff_count_as_staff_and_in_the_plans_extra_staff(engine, params):
    # A two-to-one resident is booked in a unit of 1 night staff on nights 1-2 with one
    # agency staff member (2 on duty: full). A one-to-one resident asks for nights 2-3;
    # the unit may add 2 agency staff a night, 1 left on night 2 after the booking's, so
    # the new stay brings 1. Agency staff per night: 1, 1 + 1, 1.
    problem = b.problem(
        [b.case("C-1", night_support="two_to_one"), b.case("C-2", night_support="one_to_one")],
        [
            b.unit(
                "U-1",
                beds=2,
                default_night_staff=1,
                extra_night_staff_max=2,
                extra_night_staff_cost_pence=15000,
            )
        ],
        [
            b.stay("R-booked", "C-1", 2, "2026-03-02", "2026-03-02"),
            b.stay("R-new", "C-2", 2, "2026-03-03", "2026-03-03"),
        ],
        providers=[],
        bookings=[
            {
                "booking_id": "BK-1",
                "request_id": "R-booked",
                "case_id": "C-1",
                "unit_id": "U-1",
                "bed_id": "U-1-B0",
                "first_night": "2026-03-02",
                "nights": 2,
                "extra_night_staff": 1,
            }
        ],
    )
    plan = allocate(problem, engine=engine, **params).plan
    extra = {s.request_id: s.extra_night_staff for s in plan.stays}
    assert extra == {"R-booked": 1, "R-new": 1}
    assert [(str(e.night), e.count) for e in plan.extra_staff] == [
        ("2026-03-02", 1),
        ("2026-03-03", 2),
        ("2026-03-04", 1),
    ]
    assert staffing_shortfalls(problem, plan) == []


def test_agency_staff_are_never_more_than_the_unit_may_add():
    # The unit may add 1 agency staff member a night and has 1 night staff: two
    # one-to-one residents asking for the same night need 1 + 1 = 2 staff, so only one
    # agency staff member, never two: one is served, the other not.
    problem = b.problem(
        [b.case(f"C-{i}", night_support="one_to_one") for i in (1, 2, 3)],
        [
            b.unit(
                "U-1",
                beds=3,
                default_night_staff=1,
                extra_night_staff_max=1,
                extra_night_staff_cost_pence=100,
            )
        ],
        [b.stay(f"R-{i}", f"C-{i}", 1, "2026-03-02", "2026-03-02") for i in (1, 2, 3)],
        providers=[],
    )
    for engine, params in ENGINES:
        plan = allocate(problem, engine=engine, **params).plan
        assert len(plan.stays) == 2  # one on the roster, one with the agency
        assert [e.count for e in plan.extra_staff] == [1]
        assert staffing_shortfalls(problem, plan) == []


def two_carers_one_sitter(**case_b) -> Problem:
    """One sitter whose week holds 4 hours; carer A asks for two 2-hour visits (Monday
    and Tuesday), carer B for one on Monday. Everything else about them is the same."""
    return b.problem(
        [b.case("C-A"), b.case("C-B", **case_b)],
        [b.unit("U-1")],
        [
            b.sitting(
                "S-A",
                "C-A",
                [
                    ("V-1", 120, "2026-03-02", "09:00", "13:00"),
                    ("V-2", 120, "2026-03-03", "09:00", "13:00"),
                ],
            ),
            b.sitting("S-B", "C-B", [("V-1", 120, "2026-03-02", "09:00", "13:00")]),
        ],
        providers=[b.provider(weekly_hours_cap=4)],
    )


def test_two_carers_each_get_a_visit_before_one_gets_two():
    # Two visits fit in the sitter's week. Served minutes x need are the same for any
    # two (same need, 120 minutes each), but A's second visit earns neither the break
    # bonus (S-A is served already) nor first hours (A's first two hours are had): one
    # visit each wins. Greedy shares too: every request's first visit before any second.
    problem = two_carers_one_sitter()
    plan = allocate(problem, engine="cpsat", **FAST).plan
    assert sorted(v.request_id for v in plan.visits) == ["S-A", "S-B"]
    greedy = allocate(problem, engine="greedy").plan
    assert sorted(v.request_id for v in greedy.visits) == ["S-A", "S-B"]
    assert check(problem, plan) == []


def test_a_carer_with_fewer_recent_sitting_hours_comes_first():
    # Room for one visit (the sitter's week holds 2 hours). Carer A had all of their 4
    # weeks' entitlement (40 of 4 x 10 hours), carer B none: B's need is 100 higher
    # (need_allowance x the share unused), so B is served.
    problem = b.problem(
        [b.case("C-A", sitting_hours_recent=40), b.case("C-B", sitting_hours_recent=0)],
        [b.unit("U-1")],
        [
            b.sitting("S-A", "C-A", [("V-1", 120, "2026-03-02", "09:00", "13:00")]),
            b.sitting("S-B", "C-B", [("V-1", 120, "2026-03-02", "09:00", "13:00")]),
        ],
        providers=[b.provider(weekly_hours_cap=2)],
    )
    cases, received = problem.case_by_id(), dt.date(2026, 2, 1)
    need_a = need_of(cases["C-A"], received, problem.week_start, problem.weights, "sitting")
    need_b = need_of(cases["C-B"], received, problem.week_start, problem.weights, "sitting")
    assert need_b - need_a == 100
    plan = allocate(problem, engine="cpsat", **FAST).plan
    assert [v.request_id for v in plan.visits] == ["S-B"]


def test_a_stays_need_counts_nights_and_a_sittings_counts_recent_hours():
    # The same case: 21 of 28 nights used (a quarter left), 10 of 40 sitting hours
    # had in 4 weeks (three quarters left). Received on week_start: no wait.
    case = b.case("C-1", nights_used=21, sitting_hours_recent=10)
    problem = b.problem([case], [b.unit("U-1")], [])
    c, start = problem.cases[0], problem.week_start
    assert need_of(c, start, start, problem.weights, "stay") == 100 + 25
    assert need_of(c, start, start, problem.weights, "sitting") == 100 + 75


def test_the_lp_bound_is_at_least_the_cpsat_need_tier():
    # With the sitting bonuses as [0, 1] variables the LP of the need tier still bounds
    # every plan, the best CP-SAT finds included (and it reaches it here).
    problem = two_carers_one_sitter(sitting_hours_recent=20)
    data = compile_problem(problem).data
    solution = solve_cpsat(data, CpSatParams(time_limit=5.0, workers=2, seed=0))
    value = tier_values(data, solution.stays, solution.visits)[2]
    model = Model(data)
    coef = model.tier_coefficients()[2]
    relaxation = relax(model, [v for v, c in enumerate(coef) if c], coef)
    assert relaxation is not None
    assert relaxation.bound >= value > 0


def test_the_tier_values_of_a_plan_are_the_evaluation_of_its_plan_file():
    # The solver's tier values (bonuses included) and the scheduler's evaluation of
    # the plan file are one formula: the allocation reports the latter.
    problem = two_carers_one_sitter()
    compiled = compile_problem(problem)
    solution = solve_cpsat(compiled.data, CpSatParams(**FAST))
    from scheduler.decode import plan_from_solution
    from scheduler.evaluate import evaluate

    plan = plan_from_solution(compiled, solution)
    assert evaluate(compiled, plan) == tier_values(compiled.data, solution.stays, solution.visits)


@pytest.mark.parametrize("total", range(0, 40))
def test_first_hour_tokens_make_every_whole_number_of_units(total):
    # Tokens of 1, 2, 4, ... and the rest: any number of units up to the total is one
    # set of them, and more minutes than the total count as the total.
    sizes = _token_sizes(total)
    assert sum(sizes) == total
    token = FirstHourTokens(0, 30, sizes, 0, [])
    for units in range(total + 3):
        taken = token.taken(30 * units)
        assert sum(t * s for t, s in zip(taken, sizes, strict=True)) == min(units, total)
