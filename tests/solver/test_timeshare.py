"""How a run's time is shared out (solver.timeshare): pure functions, no clock."""

from __future__ import annotations

import pytest

from solver.params import SearchParams
from solver.tiers import plan_stages
from solver.timeshare import part_weights, phase_ends, phase_share, stage_share, stage_weight

SERVICE_WEIGHT = SearchParams().service_weight

# crisis+HA, need, prefs+cost+travel
STAGES = plan_stages([10, 10, 100, 5, 5, 5, 0])


def test_phases_share_the_time_by_stage_weight():
    assert [s.name for s in STAGES][1] == "need_weighted_units"
    assert phase_ends(STAGES) == [1, 2, len(STAGES)]
    whole = 2 * SERVICE_WEIGHT + SERVICE_WEIGHT + (len(STAGES) - 2)
    assert phase_share(STAGES, 0, 1, SERVICE_WEIGHT) == pytest.approx(2 * SERVICE_WEIGHT / whole)


def test_the_crisis_stage_weighs_twice_the_need_stage_and_a_tie_breaker_one():
    assert [stage_weight(s, SERVICE_WEIGHT) for s in STAGES] == [
        2 * SERVICE_WEIGHT,
        SERVICE_WEIGHT,
        1,
    ]


def test_a_stage_shares_what_is_left_with_the_stages_after_it():
    # Need (12) against the tie-breaker (1): 12/13; the last stage takes all that is left.
    assert stage_share(STAGES, 1, SERVICE_WEIGHT) == pytest.approx(
        SERVICE_WEIGHT / (SERVICE_WEIGHT + 1)
    )
    assert stage_share(STAGES, 2, SERVICE_WEIGHT) == 1.0


def test_a_phase_already_solved_gets_nothing_and_the_last_phase_everything():
    assert phase_share(STAGES, 2, 2, SERVICE_WEIGHT) == 0.0
    # With the crisis stage done, the need phase weighs 12 of 12 + 1.
    assert phase_share(STAGES, 1, 2, SERVICE_WEIGHT) == pytest.approx(
        SERVICE_WEIGHT / (SERVICE_WEIGHT + 1)
    )
    assert phase_share(STAGES, 2, 3, SERVICE_WEIGHT) == 1.0


def test_without_a_need_stage_there_is_one_phase():
    tie_breakers = plan_stages([0, 0, 0, 5, 5, 5, 0])
    assert phase_ends(tie_breakers) == [1]


def test_need_time_goes_half_by_size_and_half_by_headroom_under_the_lp_bound():
    # Two parts of sizes 1 and 3 whose need stages start 3 and 1 units under their LP
    # bounds: 1/4 + 3/4 and 3/4 + 1/4, an even split. A part not yet built (no
    # headroom known) sends every part back to its size.
    assert part_weights([1, 3], [3, 1]) == [1.0, 1.0]
    assert part_weights([1, 3], [3, None]) == [1.0, 3.0]
