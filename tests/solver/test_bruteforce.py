"""On random tiny problems, CP-SAT's plan is the lexicographic optimum found by brute force,
and every plan (greedy and CP-SAT) passes the independent checker."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.allocate import allocate
from scheduler.checker import check
from scheduler.compile import compile_problem
from solver.solution import tier_values
from solver.state import State
from tests.solver import builders as b

DAYS = ["2026-03-02", "2026-03-03", "2026-03-04"]


@st.composite
def tiny_problems(draw):
    num_cases = draw(st.integers(2, 4))
    cases = [
        b.case(
            f"C-{i}",
            night_support=draw(st.sampled_from(["shared", "shared", "one_to_one", "two_to_one"])),
            nights_allowance=draw(st.integers(1, 4)),
            sitting_hours_per_week=draw(st.sampled_from([1, 2, 4])),
            incompatible_with=["C-0"] if i == 1 and draw(st.booleans()) else [],
        )
        for i in range(num_cases)
    ]
    units = [
        b.unit("U-1", beds=draw(st.integers(1, 2)), default_night_staff=draw(st.integers(1, 3))),
        b.unit("U-2", beds=1, cost_per_night_pence=30000, default_night_staff=2),
    ]
    requests = []
    for r in range(draw(st.integers(1, 4))):
        first = draw(st.integers(0, 2))
        requests.append(
            b.stay(
                f"R-{r}",
                f"C-{draw(st.integers(0, num_cases - 1))}",
                draw(st.integers(1, 2)),
                DAYS[first],
                DAYS[min(first + draw(st.integers(0, 1)), 2)],
                priority=draw(st.sampled_from(["crisis", "health_appointment", "planned"])),
                received=f"2026-02-{draw(st.integers(1, 28)):02d}",
            )
        )
    for s in range(draw(st.integers(0, 2))):
        visits = [
            (
                f"V{v}",
                60,
                DAYS[draw(st.integers(0, 2))],
                "09:00",
                draw(st.sampled_from(["10:00", "10:30"])),
            )
            for v in range(draw(st.integers(1, 2)))
        ]
        requests.append(
            b.sitting(
                f"S-{s}",
                f"C-{draw(st.integers(0, num_cases - 1))}",
                visits,
                priority=draw(st.sampled_from(["crisis", "planned"])),
                double_handed=draw(st.booleans()),
            )
        )
    budget = draw(st.integers(20000, 100000))
    return b.problem(
        cases,
        units,
        requests,
        providers=[
            b.provider(count=draw(st.integers(1, 2)), weekly_hours_cap=draw(st.integers(1, 3)))
        ],
        nights=3,
        budgets=[
            {"budget_id": "BUD-1", "limit_pence": budget, "applies_to": ["U-1", "U-2", "P-1"]}
        ],
    )


def brute_force_best(data) -> list[int]:
    """The lexicographically best tier values over every feasible choice of options."""
    stay_choices = [
        [None] + [i for i, o in enumerate(data.stay_options) if o.request == r]
        for r in range(len(data.stay_requests))
    ]
    visit_choices = [
        [None] + [i for i, o in enumerate(data.visit_options) if o.visit == v]
        for v in range(len(data.visits))
    ]
    best: list[int] | None = None
    for combo in itertools.product(*stay_choices, *visit_choices):
        stays = {r: o for r, o in enumerate(combo[: len(stay_choices)]) if o is not None}
        visits = {v: o for v, o in enumerate(combo[len(stay_choices) :]) if o is not None}
        if feasible(data, stays, visits):
            values = tier_values(data, stays, visits)
            best = values if best is None or values > best else best
    assert best is not None  # choosing nothing is always feasible
    return best


def feasible(data, stays: dict[int, int], visits: dict[int, int]) -> bool:
    state = State(data)
    for o in stays.values():
        if not state.stay_fits(data.stay_options[o]):
            return False
        state.take_stay(data.stay_options[o])
    for o in visits.values():
        if not state.visit_fits(data.visit_options[o]):
            return False
        state.take_visit(data.visit_options[o])
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_cpsat_equals_brute_force_and_plans_pass_the_checker(problem):
    compiled = compile_problem(problem)
    best = brute_force_best(compiled.data)
    result = allocate(problem, engine="cpsat", time_limit=10, workers=1, seed=0)
    greedy = allocate(problem, engine="greedy")
    assert check(problem, result.plan) == []
    assert check(problem, greedy.plan) == []
    assert result.status == "optimal"
    assert [t["value"] for t in result.plan.solver.tiers.values()] == best
    assert result.objective >= greedy.objective
