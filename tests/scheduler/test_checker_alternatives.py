"""The checker verifies every alternative in a plan: its stay or visit, added alone to
the plan, breaks no hard rule but what its ``relaxes`` names (spec: The plan file).

Three unmet items of conftest's tiny problem (see there for the numbers), each with an
alternative that is true; then each alternative is made false in one way and the
checker must say so (rule ALT, naming the request and the rule broken).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from scheduler.checker import check
from scheduler.model import Alternative, Unmet
from tests.scheduler.plan_data import Data, Scenario, unmet_of, violations_of


def _alternative(plan: Data, request_id: str) -> Data:
    alternative: Data = unmet_of(plan, request_id)["alternative"]
    return alternative


def _placed(plan: Data, request_id: str) -> Data:
    alternative = _alternative(plan, request_id)
    placement: Data = alternative.get("stay") or alternative["visit"]
    return placement


# ------------------------------------------------------------- the scenarios


def spot_far(problem: Data, plan: Data) -> None:
    """R-5 (C-4, crisis, 7 nights from 03-02, within 1 km) is unmet: every bed is further.
    U-2 (spot, now for men too) is 7.78 km away: a stay in B-2-1 for the 7 nights, if
    the carer accepts the travel, breaks H7 only. Crisis may have a spot bed (H12b);
    no budget covers U-2; U-2's 1 staff meet ceil(1/4) = 1 (H5)."""
    problem["units"][1]["sex_policy"] = "any"
    unmet_of(plan, "R-5")["alternative"] = {
        "text": "A bed at Spot Care, 8 km away, if you can travel that far.",
        "relaxes": ["travel"],
        "stay": {
            "request_id": "R-5", "case_id": "C-4", "unit_id": "U-2", "bed_id": "B-2-1",
            "first_night": "2026-03-02", "nights": 7,
        },
    }  # fmt: skip


def _r2_unbooked(problem: Data, plan: Data) -> None:
    """R-2 (C-2, planned, 2 nights from 03-05..06) is not booked and not planned."""
    problem["bookings"] = problem["bookings"][1:]
    plan["stays"] = plan["stays"][:1]
    plan["unmet"].append({"request_id": "R-2", "reason": "beds_taken", "detail": "-"})


def other_dates(problem: Data, plan: Data) -> None:
    """R-2 may start 03-05 or 03-06; B-1-2 from 03-04 breaks only the start window (C-1
    and C-2 made compatible; 03-04: ceil(1/2) + 1 = 2 staff, 03-05: 1 <= 1)."""
    _r2_unbooked(problem, plan)
    problem["cases"][0]["incompatible_with"] = []
    unmet_of(plan, "R-2")["alternative"] = {
        "text": "A bed at North House from Wednesday 4 March.",
        "relaxes": ["start_window"],
        "stay": {
            "request_id": "R-2", "case_id": "C-2", "unit_id": "U-1", "bed_id": "B-1-2",
            "first_night": "2026-03-04", "nights": 2,
        },
    }  # fmt: skip


def night_staff(problem: Data, plan: Data) -> None:
    """C-2 needs two_to_one; on 03-05 U-1 has 1 rostered and may add no agency staff:
    B-1-2 from 03-05 needs 2, one more than there is, on its first night only."""
    _r2_unbooked(problem, plan)
    problem["cases"][1]["night_support"] = "two_to_one"
    unmet_of(plan, "R-2")["alternative"] = {
        "text": "A bed at North House if one more member of night staff can be found.",
        "relaxes": ["night_staff"],
        "stay": {
            "request_id": "R-2", "case_id": "C-2", "unit_id": "U-1", "bed_id": "B-1-2",
            "first_night": "2026-03-05", "nights": 2,
        },
    }  # fmt: skip


def agency_staff(problem: Data, plan: Data) -> None:
    """As night_staff, but U-1 may add 1 agency member of staff (budget BUD-1 raised by
    the 2 nights at £100.00 they cost): the stay bringing 1 needs no relaxation."""
    night_staff(problem, plan)
    problem["units"][0].update(extra_night_staff_max=1, extra_night_staff_cost_pence=10000)
    problem["budgets"][0]["limit_pence"] += 20000
    alternative = _alternative(plan, "R-2")
    alternative["relaxes"] = []
    alternative["stay"]["extra_night_staff"] = 1


def later_visit(problem: Data, plan: Data) -> None:
    """R-4/V1 (double-handed, 10:00-12:00 on 03-03) unmet, listed as a whole; 12:00-13:00
    that day (2 sitters, 2 on shift, nobody else then) breaks only its window."""
    plan["visits"] = [v for v in plan["visits"] if v["request_id"] != "R-4"]
    plan["unmet"].append(
        {
            "request_id": "R-4", "reason": "no_sitter_free", "detail": "-",
            "alternative": {
                "text": "Two sitters from 12:00 on Tuesday 3 March.",
                "relaxes": ["visit_window"],
                "visit": {
                    "request_id": "R-4", "visit_id": "V1", "case_id": "C-4",
                    "provider_id": "P-1", "day": "2026-03-03", "start": "12:00",
                    "minutes": 60, "sitters": 2,
                },
            },
        }
    )  # fmt: skip


SCENARIOS = [spot_far, other_dates, night_staff, agency_staff, later_visit]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.__name__ for s in SCENARIOS])
def test_a_true_alternative_passes(tiny_problem: Data, tiny_plan: Data, scenario: Scenario) -> None:
    scenario(tiny_problem, tiny_plan)
    assert violations_of(tiny_problem, tiny_plan) == []


# (scenario, change, the one ALT line expected)
ROWS = [
    # H7 is broken and not named
    pytest.param(
        spot_far,
        lambda pb, pl: _alternative(pl, "R-5").update(relaxes=[]),
        "alternative for R-5 breaks H7: stay R-5 unit U-2 is 7.784 km from case C-4, "
        "the request allows 1 km",
        id="travel-not-named",
    ),
    # U-2 admits women only again: H3 is not what travel relaxes
    pytest.param(
        spot_far,
        lambda pb, pl: pb["units"][1].update(sex_policy="female"),
        "alternative for R-5 breaks H3: unit U-2 does not admit case C-4 (stay R-5): male, "
        "unit female only",
        id="H3",
    ),
    # a budget over U-2 already spent: 7 spot nights x £300 = £2,100.00
    pytest.param(
        spot_far,
        lambda pb, pl: pb["budgets"].append(
            {"budget_id": "BUD-2", "limit_pence": 10000, "applies_to": ["U-2"]}
        ),
        "alternative for R-5 breaks H12: budget BUD-2 planned £2,100.00 over limit £100.00",
        id="H12-budget-spent",
    ),
    # a planned request in a spot bed needs a manager's approval, which is not named
    pytest.param(
        spot_far,
        lambda pb, pl: pb["requests"][4].update(priority="planned"),
        "alternative for R-5 breaks H12b: stay R-5 is in spot unit U-2, but R-5 is planned "
        "and not exceptional (spot_for: crisis)",
        id="H12b",
    ),
    # the alternative's bed is C-1's on 03-02..04 (one line a night; U-1 is 3.34 km away,
    # which travel excuses, and with 2 staff every night H5 holds)
    pytest.param(
        spot_far,
        lambda pb, pl: (
            _placed(pl, "R-5").update(unit_id="U-1", bed_id="B-1-1"),
            pb["units"][0].update(night_staff={}),
        ),
        "alternative for R-5 breaks H1: bed B-1-1 night 2026-03-02 holds R-1 and R-5",
        id="H1",
    ),
    # the placement is another request's
    pytest.param(
        spot_far,
        lambda pb, pl: _placed(pl, "R-5").update(request_id="R-1", case_id="C-1"),
        "alternative for R-5 places request R-1, not the one unmet",
        id="another-request",
    ),
    # the placement names another case
    pytest.param(
        spot_far,
        lambda pb, pl: _placed(pl, "R-5").update(case_id="C-1"),
        "alternative for R-5 is not a placement the plan could hold: stay R-5 case_id C-1 "
        "is not its request's case C-4",
        id="another-case",
    ),
    # the start window moved and not named
    pytest.param(
        other_dates,
        lambda pb, pl: _alternative(pl, "R-2").update(relaxes=[]),
        "alternative for R-2 breaks H6: stay R-2 starts 2026-03-04, outside 2026-03-05..2026-03-06",
        id="start-window-not-named",
    ),
    # C-1 and C-2 may not share again: H4 is not the start window
    pytest.param(
        other_dates,
        lambda pb, pl: pb["cases"][0].update(incompatible_with=["C-2"]),
        "alternative for R-2 breaks H4: unit U-1 night 2026-03-04 holds incompatible cases "
        "C-1 and C-2",
        id="H4",
    ),
    # relaxing the start window does not let a stay leave the horizon
    pytest.param(
        other_dates,
        lambda pb, pl: _placed(pl, "R-2").update(first_night="2026-03-08"),
        "alternative for R-2 breaks H6: stay R-2 nights 2026-03-08..2026-03-09 leave the "
        "horizon 2026-03-02..2026-03-08",
        id="horizon",
    ),
    # one more member of staff is needed and not named
    pytest.param(
        night_staff,
        lambda pb, pl: _alternative(pl, "R-2").update(relaxes=[]),
        "alternative for R-2 breaks H5: unit U-1 night 2026-03-05 needs 2 staff, has 1",
        id="night-staff-not-named",
    ),
    # no staff on 03-05: one more is not enough
    pytest.param(
        night_staff,
        lambda pb, pl: pb["units"][0]["night_staff"].update({"2026-03-05": 0}),
        "alternative for R-2 breaks H5: unit U-1 night 2026-03-05 needs 2 staff, has 1",
        id="night-staff-two-short",
    ),
    # the agency staff the stay brings are more than U-1 may add (each night)
    pytest.param(
        agency_staff,
        lambda pb, pl: _placed(pl, "R-2").update(extra_night_staff=2),
        "alternative for R-2 breaks H5: unit U-1 night 2026-03-05 adds 2 agency staff, at most 1",
        id="agency-max",
    ),
    # the agency staff cost what BUD-1 no longer has
    pytest.param(
        agency_staff,
        lambda pb, pl: pb["budgets"][0].update(limit_pence=9000 + 19999),
        "alternative for R-2 breaks H12: budget BUD-1 planned £290.00 over limit £289.99",
        id="agency-budget",
    ),
    # the window moved and not named
    pytest.param(
        later_visit,
        lambda pb, pl: _alternative(pl, "R-4").update(relaxes=[]),
        "alternative for R-4 breaks H10: visit R-4/V1 2026-03-03 12:00-13:00 is outside its "
        "windows",
        id="visit-window-not-named",
    ),
    # at 10:00 it meets R-3/V1: 3 sitters, 2 on shift; H9 is not the window
    pytest.param(
        later_visit,
        lambda pb, pl: _placed(pl, "R-4").update(start="10:00"),
        "alternative for R-4 breaks H9: provider P-1 2026-03-03 10:00 has 3 sitters busy, "
        "2 on shift",
        id="H9",
    ),
    # C-4's weekly hours (2) cannot take a 3-hour visit: H8
    pytest.param(
        later_visit,
        lambda pb, pl: (
            pb["requests"][3]["visits"][0].update(
                minutes=180, windows=[{"day": "2026-03-03", "start": "09:00", "end": "17:00"}]
            ),
            _placed(pl, "R-4").update(minutes=180),
        ),
        "alternative for R-4 breaks H8: case C-4 has 180 sitting minutes planned in the "
        "week, entitled to 120",
        id="H8",
    ),
    # R-4 now allows 3 km; C-4 is 3.336 km from P-1's base, and travel is not named
    pytest.param(
        later_visit,
        lambda pb, pl: pb["requests"][3].update(max_travel_km=3),
        "alternative for R-4 breaks H7: visit R-4/V1 provider P-1 base is 3.336 km from "
        "case C-4, the request allows 3 km",
        id="visit-travel",
    ),
    # one sitter for a double-handed visit
    pytest.param(
        later_visit,
        lambda pb, pl: _placed(pl, "R-4").update(sitters=1),
        "alternative for R-4 is not a placement the plan could hold: visit R-4/V1 has 1 "
        "sitter, the request needs 2",
        id="visit-sitters",
    ),
    # a visit of another request
    pytest.param(
        later_visit,
        lambda pb, pl: _placed(pl, "R-4").update(request_id="R-3", visit_id="V2"),
        "alternative for R-4 places visit R-3/V2, not the one unmet",
        id="another-visit",
    ),
]


@pytest.mark.parametrize(("scenario", "change", "line"), ROWS)
def test_a_false_alternative_is_reported(
    tiny_problem: Data, tiny_plan: Data, scenario: Scenario, change: Scenario, line: str
) -> None:
    # the line expected is among them, and only the alternative is wrong (a rule broken
    # on several nights gives a line a night)
    scenario(tiny_problem, tiny_plan)
    change(tiny_problem, tiny_plan)
    lines = [str(v) for v in violations_of(tiny_problem, tiny_plan)]
    assert f"ALT {line}" in lines, lines
    broken = line.split(":")[0]
    assert all(other.startswith(f"ALT {broken}") for other in lines), lines


def test_what_an_alternative_relaxes_is_excused_together(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    # R-5 planned: the spot bed needs a manager's approval as well as the travel
    spot_far(tiny_problem, tiny_plan)
    tiny_problem["requests"][4]["priority"] = "planned"
    _alternative(tiny_plan, "R-5")["relaxes"] = ["travel", "spot_approval"]
    assert violations_of(tiny_problem, tiny_plan) == []


def test_a_visit_may_travel_further_when_named(tiny_problem: Data, tiny_plan: Data) -> None:
    later_visit(tiny_problem, tiny_plan)
    tiny_problem["requests"][3]["max_travel_km"] = 3
    _alternative(tiny_plan, "R-4")["relaxes"] = ["visit_window", "travel"]
    assert violations_of(tiny_problem, tiny_plan) == []


def test_the_plan_s_own_violations_are_not_the_alternative_s(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    # BUD-1 is overspent by the plan itself (£90.00 > £89.99); the alternative, a block
    # bed that costs nothing more, adds nothing to it and is not blamed
    other_dates(tiny_problem, tiny_plan)
    tiny_problem["budgets"][0]["limit_pence"] = 8999
    assert [v.rule for v in violations_of(tiny_problem, tiny_plan)] == ["H12"]


def test_an_alternative_without_a_placement_is_a_sentence(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    # nothing to place, nothing to check (a v1 plan's alternatives were sentences only)
    unmet_of(tiny_plan, "R-5")["alternative"] = "Ask again next month."
    assert violations_of(tiny_problem, tiny_plan) == []


def test_an_alternative_may_not_give_a_stay_and_a_visit(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    spot_far(tiny_problem, tiny_plan)
    later_visit(tiny_problem, tiny_plan)
    _alternative(tiny_plan, "R-5")["visit"] = _placed(tiny_plan, "R-4")
    assert [str(v) for v in violations_of(tiny_problem, tiny_plan)] == [
        "ALT alternative for R-5 gives both a stay and a visit"
    ]


def test_each_false_alternative_is_reported(tiny_problem: Data, tiny_plan: Data) -> None:
    # two false alternatives in one plan: two lines, each naming its request
    spot_far(tiny_problem, tiny_plan)
    later_visit(tiny_problem, tiny_plan)
    for request_id in ("R-5", "R-4"):
        _alternative(tiny_plan, request_id)["relaxes"] = []
    lines = [str(v) for v in violations_of(tiny_problem, tiny_plan)]
    assert [line[:36] for line in lines] == [
        "ALT alternative for R-4 breaks H10: ",
        "ALT alternative for R-5 breaks H7: s",
    ]


# ------------------------------------------------------------- a large plan


@pytest.mark.slow
def test_a_county_plan_s_alternatives_check_quickly() -> None:
    # the county-sized valid plan of test_checker, with every 4th stay and visit taken
    # out and offered back as its own alternative: 1,100 true alternatives; then 100 of
    # the stays' are made false by starting a night late (outside the window: H6)
    from tests.scheduler.test_checker import _county_like

    problem, plan = _county_like()
    taken = [*plan.stays[::4], *plan.visits[::4]]
    plan.stays, plan.visits = (
        plan.stays[1::4] + plan.stays[2::4] + plan.stays[3::4],
        [v for i, v in enumerate(plan.visits) if i % 4],
    )
    plan.unmet = [
        Unmet(
            request_id=item.request_id,
            visit_id=getattr(item, "visit_id", None),
            reason="beds_taken",
            detail="-",
            alternative=Alternative(
                text="-", **{"visit" if hasattr(item, "visit_id") else "stay": item}
            ),
        )
        for item in taken
    ]
    started = time.perf_counter()
    assert check(problem, plan, check_kpis=False) == []
    seconds = time.perf_counter() - started
    for entry in plan.unmet[:100]:
        stay = entry.alternative.stay if entry.alternative else None
        assert stay is not None
        stay.first_night += dt.timedelta(days=1)
    said = {v.message.split(":")[0] for v in check(problem, plan, check_kpis=False)}
    named = {entry.request_id for entry in plan.unmet[:100]}
    # each names its request and H6; some also H1 (the next stay in the bed starts then)
    assert {f"alternative for {request_id} breaks H6" for request_id in named} <= said
    assert {line.split()[2] for line in said} == named
    assert seconds < 30  # about 4 s alone on a shared machine
