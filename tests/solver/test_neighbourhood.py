"""The search near the LP (solver.neighbourhood) and how the need stage uses it."""

from __future__ import annotations

from scheduler.compile import compile_problem
from scheduler.files import load_problem
from solver.components import split
from solver.greedy import solve_greedy
from solver.lp import relax
from solver.model import Model, assignment, holds_earlier_stages, stage_value
from solver.neighbourhood import near_lp, support, widened
from tests.solver import builders as b
from tests.solver.test_rounding import rows_hold

NEED = 2


def borough_beds() -> tuple[Model, list[int], list[int]]:
    """The borough fixture's beds part: its model, need coefficients and greedy plan."""
    data = compile_problem(load_problem("fixtures/borough-1.json")).data
    greedy = solve_greedy(data)
    part = next(p for p in split(data) if p.data.stay_options)
    model = Model(part.data)
    return (
        model,
        model.tier_coefficients()[NEED],
        assignment(model, *part.local_hint(greedy.stays, greedy.visits)),
    )


def test_the_search_near_the_lp_takes_only_options_it_is_given_and_keeps_every_rule():
    # Greedy leaves need-weighted units under the LP bound on the borough beds part;
    # among the options the LP uses and greedy's own, CP-SAT finds a better plan that
    # keeps every row and takes no option outside them.
    model, coef, current = borough_beds()
    relaxation = relax(model, [v for v, c in enumerate(coef) if c], coef)
    assert relaxation is not None
    allowed = support(relaxation.values, current)
    better = near_lp(model, coef, current, allowed, 5.0)
    assert better is not None
    assert rows_hold(model, better)
    assert {v for v, x in enumerate(better) if x} <= allowed
    assert stage_value(coef, current) < stage_value(coef, better) <= relaxation.bound


def test_with_only_the_plan_s_own_options_there_is_nothing_better():
    # Every need coefficient is positive, so no subset of the plan's options serves
    # more: the search says so (None) rather than hand back the same plan.
    model, coef, current = borough_beds()
    assert near_lp(model, coef, current, support(current), 2.0) is None


def two_crisis_stays_one_bed() -> tuple[Model, list[int], int, int]:
    """Two crisis stays of one night for the one bed, R-1 waiting longer (more need);
    the crisis tier held, as a solved stage holds it, at one stay's units. Returns the
    model, the need coefficients and the variables of R-1 and R-2."""
    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [b.unit("U-1", beds=1)],
        [
            b.stay("R-1", "C-1", 1, "2026-03-02", "2026-03-02", priority="crisis",
                   received="2025-11-01"),
            b.stay("R-2", "C-2", 1, "2026-03-02", "2026-03-02", priority="crisis"),
        ],
    )  # fmt: skip
    model = Model(compile_problem(problem).data)
    tiers = model.tier_coefficients()
    crisis, need = tiers[0], tiers[NEED]
    model.add_row([0, 1], crisis, crisis[0], crisis[0])
    model.rows.fixed += 1
    more, less = sorted(range(2), key=lambda v: -need[v])
    return model, need, more, less


def test_under_the_hold_the_search_may_change_which_crisis_stay_is_served():
    # The plan serves R-2; the hold asks only for one crisis stay's units, so serving
    # R-1 instead (more need) keeps it and is better.
    model, need, more, less = two_crisis_stays_one_bed()
    current = [0, 0]
    current[less] = 1
    better = near_lp(model, need, current, {0, 1}, 2.0)
    assert better is not None and better[more] == 1 and better[less] == 0
    assert holds_earlier_stages(model, better)


def test_with_services_in_place_of_the_hold_the_plan_s_crisis_stays_stay():
    # The plan's own crisis service (R-2, exactly once) stands in for the hold: R-1 can
    # no longer take the bed, so there is nothing better to find.
    model, need, _, less = two_crisis_stays_one_bed()
    current = [0, 0]
    current[less] = 1
    hold = range(len(model.rows.items) - 1, len(model.rows.items))
    services = ([[less]], hold)
    assert near_lp(model, need, current, {0, 1}, 2.0, services=services) is None


def test_the_widened_neighbourhood_moves_a_stay_by_up_to_two_nights_in_its_bed_class():
    # One two-night stay may start on any of 7 nights in a unit with a hoist bed and a
    # plain bed (two bed classes, both fitting). From the option starting on the 4th
    # night in one class: starts 2nd to 6th in that class, none in the other.
    unit = b.unit("U-1")
    unit["beds"] = [
        {"bed_id": "U-1-B0", "features": ["hoist"]},
        {"bed_id": "U-1-B1", "features": []},
    ]
    problem = b.problem(
        [b.case("C-1")], [unit], [b.stay("R-1", "C-1", 2, "2026-03-02", "2026-03-08")]
    )
    model = Model(compile_problem(problem).data)
    options = model.data.stay_options
    assert len({o.bed_class for o in options}) == 2
    middle = next(i for i, o in enumerate(options) if o.start == 3)
    wide = widened(model, {model.x(middle)}, steps=2)
    same_class = {
        model.x(i) for i, o in enumerate(options)
        if o.bed_class == options[middle].bed_class and 1 <= o.start <= 5
    }  # fmt: skip
    assert wide == same_class
    assert len(wide) == 5
