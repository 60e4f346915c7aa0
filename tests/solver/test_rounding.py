"""The need stage's start from its rounded LP solution (solver.rounding, solver.lp_start)."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings

from scheduler.compile import compile_problem
from scheduler.files import load_problem
from solver.components import split
from solver.greedy import solve_greedy
from solver.lp import Relaxation, relax
from solver.lp_start import earlier_options, lp_start
from solver.model import Model, assignment, stage_value
from solver.params import SearchParams
from solver.rounding import round_relaxation
from solver.tiers import plan_stages, tier_ranges
from tests.solver.test_bruteforce import tiny_problems

NEED = 2


def rows_hold(model: Model, values: list[int]) -> bool:
    return all(
        lo <= sum(c * values[i] for i, c in zip(idx, coef, strict=True)) <= hi
        for idx, coef, lo, hi in model.rows.items
    )


def need_stage(data):
    stages = plan_stages(tier_ranges(data))
    need = [stage for stage in stages if NEED in stage.tiers]
    assume(need)  # a problem with nothing to serve has no need stage
    return need[0], stages[0]


def need_relaxation(model: Model) -> tuple[list[int], Relaxation]:
    """The need tier's coefficients and its LP relaxation over ``model``."""
    coef = model.tier_coefficients()[NEED]
    relaxation = relax(model, [v for v, c in enumerate(coef) if c], coef)
    assert relaxation is not None
    return coef, relaxation


def one_case_sitting(hours_left: int, visits: list[tuple[int, str]]) -> Model:
    """One case with ``hours_left`` sitting hours this week and one sitting request of
    ``visits`` (minutes, window end), one a day from Monday, each window from 09:00."""
    from tests.solver import builders as b

    problem = b.problem(
        [b.case("C-1", sitting_hours_per_week=hours_left)],
        [b.unit("U-1")],
        [
            b.sitting(
                "S-1",
                "C-1",
                [
                    (f"V-{i + 1}", minutes, f"2026-03-0{i + 2}", "09:00", end)
                    for i, (minutes, end) in enumerate(visits)
                ],
            )
        ],
    )
    return Model(compile_problem(problem).data)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_problems())
def test_the_lp_start_keeps_every_rule_and_the_first_stage(problem):
    # The first stage is held at greedy's value (a row, as after a solved stage); the
    # start must satisfy every row of the model, that one included, and never be worse
    # than the plan it was given.
    data = compile_problem(problem).data
    greedy = solve_greedy(data)
    model = Model(data)
    coef = model.tier_coefficients()
    stage, first = need_stage(data)
    current = assignment(model, greedy.stays, greedy.visits)
    if first is not stage:
        first_coef = [
            sum(w * coef[t][v] for t, w in zip(first.tiers, first.weights, strict=True))
            for v in range(len(model.vars))
        ]
        nz = [v for v, c in enumerate(first_coef) if c]
        if nz:
            model.add_row(nz, [first_coef[v] for v in nz], stage_value(first_coef, current), 2**62)
            model.rows.fixed += 1
    stage_coef = [
        sum(w * coef[t][v] for t, w in zip(stage.tiers, stage.weights, strict=True))
        for v in range(len(model.vars))
    ]
    nz = [v for v, c in enumerate(stage_coef) if c]
    relaxation = relax(model, nz, stage_coef)
    assert relaxation is not None
    earlier = earlier_options(model, coef, stage)
    start, _ = lp_start(model, relaxation, stage_coef, current, earlier, SearchParams())
    assert rows_hold(model, start)
    assert stage_value(stage_coef, start) >= stage_value(stage_coef, current)
    assert stage_value(stage_coef, start) <= relaxation.bound  # the LP bounds every plan


def test_rounding_the_borough_lp_beats_greedy_and_stays_under_the_bound():
    # Measured on the fixture: the need tier's LP optimum is nearly integral, and its
    # rounding serves more need-weighted units than first come, first served (greedy).
    # Rounding takes options only where they fit, so the plan satisfies every row.
    data = compile_problem(load_problem("fixtures/borough-1.json")).data
    greedy = solve_greedy(data)
    for part in split(data):
        model = Model(part.data)
        coef, relaxation = need_relaxation(model)
        rounded = assignment(model, *round_relaxation(model, relaxation.values, coef))
        before = assignment(model, *part.local_hint(greedy.stays, greedy.visits))
        assert rows_hold(model, rounded)
        assert stage_value(coef, before) <= stage_value(coef, rounded) <= relaxation.bound


def test_a_case_allowance_row_is_rounded_so_the_lp_takes_whole_visits():
    # Three 3-hour visits on three days with 8 hours of the week left: two can be served.
    # As written (180 x visits <= 480) the LP serves 2.67 visits; divided by 180 and
    # rounded down (visits <= 2) it serves 2, so the need stage's LP bound is the optimum.
    # Two visits serve the request and more than the first two hours, so every sitting
    # bonus of tier 2 (its break bonus, the first-hour tokens) is on top of them.
    model = one_case_sitting(8, [(180, "12:00")] * 3)
    coef, relaxation = need_relaxation(model)
    one_visit = max(coef[: model.num_option_vars])
    bonuses = sum(model.bonuses.coef.values())
    assert bonuses > 0
    assert relaxation.bound == 2 * one_visit + bonuses


def test_the_lp_solved_again_with_services_in_place_of_a_hold():
    # Two one-night stays want the one bed: R-1 (waiting longer: more need) and R-2.
    # A hold row (at least R-2's need) stands for an earlier stage; with it lifted and
    # R-2's request served exactly once, the LP takes R-2 and leaves R-1 out; refusing
    # R-2 instead, it takes R-1; serving both is infeasible. Afterwards the relaxation
    # solves as it did.
    from tests.solver import builders as b

    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [b.unit("U-1", beds=1)],
        [
            b.stay("R-1", "C-1", 1, "2026-03-02", "2026-03-02", received="2025-11-01"),
            b.stay("R-2", "C-2", 1, "2026-03-02", "2026-03-02"),
        ],
    )
    model = Model(compile_problem(problem).data)
    coef = model.tier_coefficients()[NEED]
    big, small = sorted(range(2), key=lambda v: -coef[v])
    model.add_row([small], [coef[small]], coef[small], 2**62)  # the hold: serve R-2
    model.rows.fixed += 1
    relaxation = relax(model, [0, 1], coef)
    assert relaxation is not None
    assert relaxation.values[small] == 1.0 and relaxation.values[big] == 0.0
    hold = range(len(model.rows.items) - 1, len(model.rows.items))
    only_small, only_big = [0.0, 0.0], [0.0, 0.0]
    only_small[small] = only_big[big] = 1.0
    assert relaxation.with_services([[small]], [], hold) == only_small
    assert relaxation.with_services([], [small], hold) == only_big
    assert relaxation.with_services([[small], [big]], [], hold) is None
    assert relaxation.with_services([], [], range(0)) == relaxation.values


def test_cover_rows_keep_the_lp_from_serving_part_of_a_visit_the_allowance_cannot_take():
    # Visits of 150, 210 and 240 minutes with 9 hours left: any two fit, never all three.
    # The capacity row alone lets the LP serve 2.75 visits (540 minutes); with the cover
    # row (at most two of the three) its bound is the best plan, 210 + 240 minutes.
    # Both serve more than the first two hours: every sitting bonus is on top.
    model = one_case_sitting(9, [(150, "11:30"), (210, "12:30"), (240, "13:00")])
    coef, relaxation = need_relaxation(model)
    per_visit = sorted(c for c in coef[: model.num_option_vars] if c)
    bonuses = sum(model.bonuses.coef.values())
    assert relaxation.bound == per_visit[1] + per_visit[2] + bonuses
