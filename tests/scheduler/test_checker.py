"""The plan checker: the tiny valid plan of conftest passes, and each way of
breaking one rule is reported with that rule's code (see conftest for why the
tiny plan is valid, and the numbers used below)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scheduler.checker import RULES, Violation, check, summary
from scheduler.geo import km_between
from scheduler.kpis import compute_kpis
from scheduler.model import Plan, Problem

Data = dict[str, Any]
Mutation = Callable[[Data, Data], None]
REPO = Path(__file__).resolve().parents[2]


def _violations(problem: Data, plan: Data, *, check_kpis: bool = False) -> list[Violation]:
    return check(Problem.model_validate(problem), Plan.model_validate(plan), check_kpis=check_kpis)


def _find(items: list[Data], **key: str) -> Data:
    return next(item for item in items if all(item.get(k) == v for k, v in key.items()))


def _stay(plan: Data, request_id: str) -> Data:
    return _find(plan["stays"], request_id=request_id)


def _visit(plan: Data, request_id: str, visit_id: str) -> Data:
    return _find(plan["visits"], request_id=request_id, visit_id=visit_id)


def _request(problem: Data, request_id: str) -> Data:
    return _find(problem["requests"], request_id=request_id)


def _case(problem: Data, case_id: str) -> Data:
    return _find(problem["cases"], case_id=case_id)


def _unit(problem: Data, unit_id: str) -> Data:
    return _find(problem["units"], unit_id=unit_id)


def _provider(problem: Data) -> Data:
    return problem["providers"][0]


def _booking(problem: Data, booking_id: str) -> Data:
    return _find(problem["bookings"], booking_id=booking_id)


# ------------------------------------------------------------- the valid plan


def test_tiny_plan_is_valid(tiny_problem: Data, tiny_plan: Data) -> None:
    # conftest derives every rule, and every KPI, by hand
    assert _violations(tiny_problem, tiny_plan, check_kpis=True) == []


def test_summary_of_a_valid_plan(tiny_problem: Data, tiny_plan: Data) -> None:
    # 3 + 2 nights; 60 + 120 + 60 = 240 minutes = 4.0 h; cost added 9,000 pence (U-1 is block)
    problem, plan = Problem.model_validate(tiny_problem), Plan.model_validate(tiny_plan)
    assert summary(problem, plan) == (
        "valid: 2 stays (5 nights), 3 visits (4.0 h), 1 unmet; cost £90.00"
    )


def test_summary_of_an_invalid_plan(tiny_problem: Data, tiny_plan: Data) -> None:
    # the KPI block no longer matches (nights_served) and B-1-1 loses its hoist (H2)
    tiny_plan["kpis"]["nights_served"] = 6
    _unit(tiny_problem, "U-1")["beds"][0]["features"] = []
    problem, plan = Problem.model_validate(tiny_problem), Plan.model_validate(tiny_plan)
    assert summary(problem, plan).startswith("invalid (2 violations: H2, KPI): 2 stays")


def test_violation_reads_as_rule_then_message() -> None:
    violation = Violation("H5", "unit U-03 night 2026-03-04 needs 3 staff, has 2")
    assert str(violation) == "H5 unit U-03 night 2026-03-04 needs 3 staff, has 2"


# ----------------------------------------------------------------- mutations


def _move_r2(problem: Data, plan: Data, bed_id: str, first_night: str) -> None:
    """Move the booked stay R-2 (booking and plan alike), and its start window with it."""
    for item in (_booking(problem, "BK-1"), _stay(plan, "R-2")):
        item.update(bed_id=bed_id, first_night=first_night)
    _request(problem, "R-2").update(earliest_start=first_night, latest_start=first_night)


def _r2_shares_bed_b11(problem: Data, plan: Data) -> None:
    # R-2 on B-1-1 from 03-04 meets R-1's last night; C-1 and C-2 made compatible
    # and H5 on 03-04 is ceil(1/2) + 1 = 2 <= 2
    _case(problem, "C-1")["incompatible_with"] = []
    _move_r2(problem, plan, "B-1-1", "2026-03-04")


def _duplicate_r1(problem: Data, plan: Data) -> None:
    # a second stay for R-1, on B-1-2 given a hoist; budget raised so H12 holds
    _unit(problem, "U-1")["beds"][1]["features"] = ["hoist"]
    problem["budgets"][0]["limit_pence"] = 10**9
    plan["stays"].append({**_stay(plan, "R-1"), "bed_id": "B-1-2"})


def _r1_past_horizon(problem: Data, plan: Data) -> None:
    # the window allows 03-07, but 3 nights from 03-07 end on 03-09, after the horizon
    _request(problem, "R-1")["latest_start"] = "2026-03-07"
    _stay(plan, "R-1")["first_night"] = "2026-03-07"


def _v2_overlaps_v1(problem: Data, plan: Data) -> None:
    # V2 may now be on 03-03; at 09:00-11:00 it overlaps C-3's own V1 (10:00-11:00);
    # sitters at 10:00-11:00 are V1 + V2 = 2 <= 2, so H9 holds
    _request(problem, "R-3")["visits"][1]["windows"][0]["day"] = "2026-03-03"
    _visit(plan, "R-3", "V2").update(day="2026-03-03", start="09:00")


def _v2_twice(problem: Data, plan: Data) -> None:
    # V2 planned twice (2 sitters at 13:00-15:00 <= 2); hours and budget raised
    _case(problem, "C-3")["sitting_hours_per_week"] = 10
    problem["budgets"][0]["limit_pence"] = 10**9
    plan["visits"].append(dict(_visit(plan, "R-3", "V2")))


def _v2_next_week(problem: Data, plan: Data) -> None:
    # the window is on Monday 03-09: inside the window, outside the week planned
    _request(problem, "R-3")["visits"][1]["windows"][0]["day"] = "2026-03-09"
    _visit(plan, "R-3", "V2")["day"] = "2026-03-09"


def _drop_booked_visit(problem: Data, plan: Data) -> None:
    # BK-2 dropped from the plan, its visit honestly listed unmet: only H11 is broken
    plan["visits"].remove(_visit(plan, "R-3", "V1"))
    plan["unmet"].append(
        {"request_id": "R-3", "visit_id": "V1", "reason": "no_sitter_free", "detail": "-"}
    )


def _r3_unmet_as_a_whole(problem: Data, plan: Data) -> None:
    # V2 not planned, but R-3 listed unmet as a whole although V1 is planned
    plan["visits"].remove(_visit(plan, "R-3", "V2"))
    plan["unmet"].append({"request_id": "R-3", "reason": "no_sitter_free", "detail": "-"})


def _unmet(request_id: str, visit_id: str | None = None) -> Mutation:
    entry = {"request_id": request_id, "visit_id": visit_id, "reason": "too_far", "detail": "-"}
    return lambda problem, plan: plan["unmet"].append(entry)


def _add_stay(**fields: Any) -> Mutation:
    stay = {"case_id": "C-3", "unit_id": "U-1", "bed_id": "B-1-2", "first_night": "2026-03-02"}
    return lambda problem, plan: plan["stays"].append({**stay, "nights": 1, **fields})


def _add_visit(**fields: Any) -> Mutation:
    visit = {"case_id": "C-4", "provider_id": "P-1", "day": "2026-03-05", "start": "09:00"}
    return lambda problem, plan: plan["visits"].append({**visit, "minutes": 60, **fields})


# (mutation, rules reported, a fragment of one message); check_kpis is off except for KPI rows
ROWS = [
    # H1: B-1-1 night 03-04 holds R-1 (03-02..04) and R-2 (03-04..05)
    pytest.param(
        _r2_shares_bed_b11, {"H1"}, "bed B-1-1 night 2026-03-04 holds R-1 and R-2", id="H1"
    ),
    # H1: a booking that began before the horizon (02-28..03-02) still counts on 03-02
    pytest.param(
        lambda pb, pl: (
            _case(pb, "C-1").update(incompatible_with=[]),
            _move_r2(pb, pl, "B-1-1", "2026-02-28"),
            _booking(pb, "BK-1").update(nights=3),
            _stay(pl, "R-2").update(nights=3),
            _request(pb, "R-2").update(nights=3),
        ),
        {"H1"},
        "bed B-1-1 night 2026-03-02 holds R-1 and R-2",
        id="H1-booking-before-horizon",
    ),
    # H2: B-1-1 loses the hoist C-1 needs
    pytest.param(
        lambda pb, pl: _unit(pb, "U-1")["beds"][0].update(features=["ground_floor"]),
        {"H2"},
        "bed B-1-1 lacks hoist for case C-1",
        id="H2",
    ),
    # H3: C-1 is 17, U-1 admits 18+
    pytest.param(lambda pb, pl: _case(pb, "C-1").update(age=17), {"H3"}, "age 17", id="H3-age"),
    # H3: U-1 becomes men only; C-1 is a woman (C-2, a man, is fine)
    pytest.param(
        lambda pb, pl: _unit(pb, "U-1").update(sex_policy="male"),
        {"H3"},
        "unit U-1 does not admit case C-1",
        id="H3-sex",
    ),
    # H4: R-2 moved to 03-04..05 on B-1-2: C-1 and C-2 both in U-1 on 03-04 (H5: 2 <= 2)
    pytest.param(
        lambda pb, pl: _move_r2(pb, pl, "B-1-2", "2026-03-04"),
        {"H4"},
        "unit U-1 night 2026-03-04 holds incompatible cases C-1 and C-2",
        id="H4",
    ),
    # H4: only C-2 names C-1 now; either side is enough
    pytest.param(
        lambda pb, pl: (
            _case(pb, "C-1").update(incompatible_with=[]),
            _case(pb, "C-2").update(incompatible_with=["C-1"]),
            _move_r2(pb, pl, "B-1-2", "2026-03-04"),
        ),
        {"H4"},
        "holds incompatible cases C-1 and C-2",
        id="H4-other-side",
    ),
    # H5: no staff on 03-03, when C-1 (shared) needs ceil(1/2) = 1
    pytest.param(
        lambda pb, pl: _unit(pb, "U-1")["night_staff"].update({"2026-03-03": 0}),
        {"H5"},
        "unit U-1 night 2026-03-03 needs 1 staff, has 0",
        id="H5",
    ),
    # H5: C-2 becomes two_to_one: 2 staff needed on 03-05, when only 1 is on
    pytest.param(
        lambda pb, pl: _case(pb, "C-2").update(night_support="two_to_one"),
        {"H5"},
        "unit U-1 night 2026-03-05 needs 2 staff, has 1",
        id="H5-two-to-one",
    ),
    # H6: R-1 asks 3 nights, the stay has 2
    pytest.param(
        lambda pb, pl: _stay(pl, "R-1").update(nights=2),
        {"H6"},
        "stay R-1 has 2 nights, the request asks 3",
        id="H6-nights",
    ),
    # H6: R-1 may now start only on 03-03, the stay starts 03-02
    pytest.param(
        lambda pb, pl: _request(pb, "R-1").update(earliest_start="2026-03-03"),
        {"H6"},
        "stay R-1 starts 2026-03-02, outside 2026-03-03..2026-03-04",
        id="H6-window",
    ),
    # H6: 03-07..03-09 leaves the horizon (ends 03-08)
    pytest.param(_r1_past_horizon, {"H6"}, "leave the horizon", id="H6-horizon"),
    # H6: R-1 gets two stays
    pytest.param(_duplicate_r1, {"H6"}, "request R-1 has 2 stays", id="H6-twice"),
    # H7: C-1 is 2.224 km from U-1, R-1 now allows 2
    pytest.param(
        lambda pb, pl: _request(pb, "R-1").update(max_travel_km=2),
        {"H7"},
        "stay R-1 unit U-1 is 2.224 km from case C-1",
        id="H7-stay",
    ),
    # H7: C-4 is 3.336 km from P-1's base, the provider now allows 3 (C-3 at 1.112 is fine)
    pytest.param(
        lambda pb, pl: _provider(pb).update(max_travel_km=3),
        {"H7"},
        "visit R-4/V1 provider P-1 base is 3.336 km from case C-4, the provider allows 3",
        id="H7-provider",
    ),
    # H7: C-3 is 1.112 km from the base, R-3 now allows 1
    pytest.param(
        lambda pb, pl: _request(pb, "R-3").update(max_travel_km=1),
        {"H7"},
        "visit R-3/V2 provider P-1 base is 1.112 km from case C-3, the request allows 1",
        id="H7-request",
    ),
    # H8: C-1 is no longer eligible for stays
    pytest.param(
        lambda pb, pl: _case(pb, "C-1").update(eligible=["sitting"]),
        {"H8"},
        "case C-1 is not eligible for stay",
        id="H8-eligible-stay",
    ),
    # H8: C-4 is no longer eligible for sitting
    pytest.param(
        lambda pb, pl: _case(pb, "C-4").update(eligible=["stay"]),
        {"H8"},
        "case C-4 is not eligible for sitting (visit R-4/V1)",
        id="H8-eligible-sitting",
    ),
    # H8: 26 used + 3 planned = 29 > 28, once crisis (R-1) draws on the allowance
    pytest.param(
        lambda pb, pl: (
            _case(pb, "C-1").update(nights_used=26),
            pb.update(policy={"allowance_exempt": []}),
        ),
        {"H8"},
        "case C-1 nights_used 26 + 3 planned = 29, over allowance 28",
        id="H8-allowance",
    ),
    # H8: the booking alone (2 nights) exceeds an allowance of 1
    pytest.param(
        lambda pb, pl: _case(pb, "C-2").update(nights_allowance=1),
        {"H8"},
        "case C-2 nights_used 0 + 2 planned = 2, over allowance 1",
        id="H8-allowance-booking",
    ),
    # H8: 180 minutes planned, 2.5 h = 150 allowed, once health appointments (R-3) draw
    pytest.param(
        lambda pb, pl: (
            _case(pb, "C-3").update(sitting_hours_per_week=2.5),
            pb.update(policy={"allowance_exempt": ["crisis"]}),
        ),
        {"H8"},
        "case C-3 has 180 sitting minutes planned in the week, entitled to 150",
        id="H8-hours",
    ),
    # H9: 1 sitter on Tuesdays; R-4/V1 (double-handed) at 11:00 needs 2
    pytest.param(
        lambda pb, pl: _provider(pb)["sitters"]["tue"][0].update(count=1),
        {"H9"},
        "provider P-1 2026-03-03 11:00 has 2 sitters busy, 1 on shift",
        id="H9-rota",
    ),
    # H9: R-4/V1 moved to 10:00 meets R-3/V1: 1 + 2 = 3 sitters, 2 on shift
    pytest.param(
        lambda pb, pl: _visit(pl, "R-4", "V1").update(start="10:00"),
        {"H9"},
        "provider P-1 2026-03-03 10:00 has 3 sitters busy, 2 on shift",
        id="H9-overlap",
    ),
    # H9: 300 sitter-minutes planned, cap 4 h = 240
    pytest.param(
        lambda pb, pl: _provider(pb).update(weekly_hours_cap=4),
        {"H9"},
        "provider P-1 has 300 sitter-minutes planned in the week, cap 240",
        id="H9-weekly",
    ),
    # H9: P-1 now serves only the south; every case lives in the north
    pytest.param(
        lambda pb, pl: _provider(pb).update(localities=["L-S"]),
        {"H9"},
        "provider P-1 does not serve locality L-N of case C-4",
        id="H9-locality",
    ),
    # H9: P-1 loses the dementia skill C-3 needs
    pytest.param(
        lambda pb, pl: _provider(pb).update(skills=[]),
        {"H9"},
        "provider P-1 lacks dementia for case C-3 (visit R-3/V2)",
        id="H9-skills",
    ),
    # H10: V2 on Thursday 03-05, its window is on Wednesday 03-04
    pytest.param(
        lambda pb, pl: _visit(pl, "R-3", "V2").update(day="2026-03-05"),
        {"H10"},
        "visit R-3/V2 2026-03-05 13:00-15:00 is outside its windows",
        id="H10-window",
    ),
    # H10: C-3's V2 09:00-11:00 overlaps V1 10:00-11:00
    pytest.param(
        _v2_overlaps_v1,
        {"H10"},
        "case C-3 visits R-3/V2 2026-03-03 09:00-11:00 and R-3/V1 2026-03-03 10:00-11:00 overlap",
        id="H10-overlap",
    ),
    # H10: V2 planned twice
    pytest.param(_v2_twice, {"H10"}, "visit R-3/V2 is planned 2 times", id="H10-twice"),
    # H10: a visit in its window but in the following week
    pytest.param(_v2_next_week, {"H10"}, "outside the week from 2026-03-02", id="H10-week"),
    # H11: the plan moves booked R-2 from 03-05 to 03-06 (still inside its window)
    pytest.param(
        lambda pb, pl: _stay(pl, "R-2").update(first_night="2026-03-06"),
        {"H11"},
        "booking BK-1 (stay R-2 bed B-1-2 from 2026-03-05, 2 nights) is missing or changed",
        id="H11-stay",
    ),
    # H11: booked visit R-3/V1 dropped (and listed unmet)
    pytest.param(_drop_booked_visit, {"H11"}, "booking BK-2 (visit R-3/V1", id="H11-visit"),
    # H12: U-1 is a block unit (its nights cost nothing more), so BUD-1 spends P-1's
    # 300 sitter-minutes x £18.00 / 60 = £90.00; the limit is one penny less
    pytest.param(
        lambda pb, pl: pb["budgets"][0].update(limit_pence=8999),
        {"H12"},
        "budget BUD-1 planned £90.00 over limit £89.99",
        id="H12",
    ),
    # UNMET: R-5 neither planned nor listed
    pytest.param(
        lambda pb, pl: pl["unmet"].clear(),
        {"UNMET"},
        "request R-5 has no stay and is not listed in unmet",
        id="UNMET-missing",
    ),
    # UNMET: R-5 listed twice
    pytest.param(_unmet("R-5"), {"UNMET"}, "R-5 is listed 2 times in unmet", id="UNMET-twice"),
    # UNMET: R-1 has a stay but is listed unmet
    pytest.param(
        _unmet("R-1"), {"UNMET"}, "R-1 is listed in unmet but has a stay", id="UNMET-served-stay"
    ),
    # UNMET: R-4/V1 is planned but listed unmet
    pytest.param(
        _unmet("R-4", "V1"),
        {"UNMET"},
        "R-4/V1 is listed in unmet but is planned",
        id="UNMET-served-visit",
    ),
    # UNMET: R-5 listed with a visit_id, as if a sitting request (and so not listed as a stay)
    pytest.param(
        lambda pb, pl: pl["unmet"][0].update(visit_id="V1"),
        {"UNMET"},
        "R-5/V1 names a visit of stay request R-5",
        id="UNMET-visit-of-stay",
    ),
    # UNMET: R-3 listed as a whole while V1 is planned
    pytest.param(
        _r3_unmet_as_a_whole,
        {"UNMET"},
        "R-3 is listed in unmet as a whole but visits V1",
        id="UNMET-whole-but-partly-served",
    ),
    # PLAN: a stay for a request that does not exist
    pytest.param(
        _add_stay(request_id="R-99"), {"PLAN"}, "stay R-99 names no request", id="PLAN-request"
    ),
    # PLAN: a stay for sitting request R-3
    pytest.param(
        _add_stay(request_id="R-3"),
        {"PLAN"},
        "stay R-3 is for a sitting request",
        id="PLAN-stay-for-sitting",
    ),
    # PLAN: a visit for stay request R-5 (R-5 stays listed unmet: no stay)
    pytest.param(
        _add_visit(request_id="R-5", visit_id="V1"),
        {"PLAN"},
        "visit R-5/V1 is for a stay request",
        id="PLAN-visit-for-stay",
    ),
    # PLAN: unit U-9 does not exist
    pytest.param(
        lambda pb, pl: _stay(pl, "R-1").update(unit_id="U-9"),
        {"PLAN"},
        "stay R-1 unit_id U-9 is not a unit",
        id="PLAN-unit",
    ),
    # PLAN: B-1-1 is a bed of U-1, not of U-2
    pytest.param(
        lambda pb, pl: _stay(pl, "R-1").update(unit_id="U-2"),
        {"PLAN"},
        "stay R-1 bed_id B-1-1 is not a bed of unit U-2",
        id="PLAN-bed",
    ),
    # PLAN: the stay names C-3, R-1 is C-1's
    pytest.param(
        lambda pb, pl: _stay(pl, "R-1").update(case_id="C-3"),
        {"PLAN"},
        "stay R-1 case_id C-3 is not its request's case C-1",
        id="PLAN-case",
    ),
    # PLAN: provider P-9 does not exist
    pytest.param(
        lambda pb, pl: _visit(pl, "R-4", "V1").update(provider_id="P-9"),
        {"PLAN"},
        "visit R-4/V1 provider_id P-9 is not a provider",
        id="PLAN-provider",
    ),
    # PLAN: visit V9 does not exist; so V2 is neither planned nor unmet (UNMET)
    pytest.param(
        lambda pb, pl: _visit(pl, "R-3", "V2").update(visit_id="V9"),
        {"PLAN", "UNMET"},
        "visit R-3/V9 visit_id V9 is not a visit of its request",
        id="PLAN-visit",
    ),
    # PLAN: V2 lasts 120 minutes, planned 90
    pytest.param(
        lambda pb, pl: _visit(pl, "R-3", "V2").update(minutes=90),
        {"PLAN"},
        "visit R-3/V2 lasts 90 minutes, the visit asks 120",
        id="PLAN-minutes",
    ),
    # PLAN: R-4 is double-handed, planned with 1 sitter
    pytest.param(
        lambda pb, pl: _visit(pl, "R-4", "V1").update(sitters=1),
        {"PLAN"},
        "visit R-4/V1 has 1 sitter, the request needs 2",
        id="PLAN-sitters",
    ),
    # PLAN: an unmet entry for a request that does not exist
    pytest.param(_unmet("R-99"), {"PLAN"}, "unmet R-99 names no request", id="PLAN-unmet-request"),
    # PLAN: an unmet entry for a visit that does not exist
    pytest.param(
        _unmet("R-3", "V9"), {"PLAN"}, "unmet R-3/V9 names no visit", id="PLAN-unmet-visit"
    ),
]


@pytest.mark.parametrize(("mutate", "rules", "fragment"), ROWS)
def test_each_broken_rule_is_reported(
    tiny_problem: Data, tiny_plan: Data, mutate: Mutation, rules: set[str], fragment: str
) -> None:
    mutate(tiny_problem, tiny_plan)
    violations = _violations(tiny_problem, tiny_plan)
    assert {v.rule for v in violations} == rules, violations
    assert any(fragment in v.message for v in violations), violations


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        # 6 written, 3 + 2 = 5 planned
        ("nights_served", 6, "nights_served is 6, recomputed 5"),
        # 13.4 written, 0.12 degrees = 13.34 km -> 13.3
        ("travel_km", 13.4, "travel_km is 13.4, recomputed 13.3"),
        # crisis R-1 and R-5: (3 nights x 60) / (10 nights x 60) = 0.3
        ("crisis_served_ratio", 0.5, "crisis_served_ratio is 0.5, recomputed 0.3"),
    ],
)
def test_kpi_figures_are_recomputed(
    tiny_problem: Data, tiny_plan: Data, field: str, value: float, message: str
) -> None:
    tiny_plan["kpis"][field] = value
    violations = _violations(tiny_problem, tiny_plan, check_kpis=True)
    assert [str(v) for v in violations] == [f"KPI {message}"]


def test_kpis_are_not_checked_on_request(tiny_problem: Data, tiny_plan: Data) -> None:
    tiny_plan["kpis"] = {}
    assert _violations(tiny_problem, tiny_plan, check_kpis=False) == []


# -------------------------------------------------------- what is allowed


def test_a_booking_is_exempt_from_window_and_horizon(tiny_problem: Data, tiny_plan: Data) -> None:
    # R-2 booked 03-07..03-09: past the horizon and after latest_start 03-06, yet it stands
    _booking(tiny_problem, "BK-1")["first_night"] = "2026-03-07"
    _stay(tiny_plan, "R-2")["first_night"] = "2026-03-07"
    assert _violations(tiny_problem, tiny_plan) == []
    # the same stay without the booking breaks H6 (window and horizon)
    tiny_problem["bookings"] = tiny_problem["bookings"][1:]
    assert {v.rule for v in _violations(tiny_problem, tiny_plan)} == {"H6"}


def test_travel_within_tolerance_is_allowed(tiny_problem: Data, tiny_plan: Data) -> None:
    # the exact distance, less a rounding error, is allowed; a metre less is not
    km = km_between(53.12, -2.40, 53.10, -2.40)
    _request(tiny_problem, "R-1")["max_travel_km"] = km - 1e-9
    assert _violations(tiny_problem, tiny_plan) == []
    _request(tiny_problem, "R-1")["max_travel_km"] = km - 1e-3
    assert {v.rule for v in _violations(tiny_problem, tiny_plan)} == {"H7"}


def test_a_sitting_request_not_served_may_be_listed_whole_or_per_visit(
    tiny_problem: Data, tiny_plan: Data
) -> None:
    # R-4 has one visit; dropping it, R-4 may be listed once (no visit_id) or per visit
    tiny_plan["visits"].remove(_visit(tiny_plan, "R-4", "V1"))
    for visit_id in (None, "V1"):
        entry = {"request_id": "R-4", "visit_id": visit_id, "reason": "no_sitter_free"}
        tiny_plan["unmet"] = [tiny_plan["unmet"][0], {**entry, "detail": "-"}]
        assert _violations(tiny_problem, tiny_plan) == []


def test_visits_may_be_met_partly(tiny_problem: Data, tiny_plan: Data) -> None:
    # V2 not planned and listed on its own, while V1 is planned
    tiny_plan["visits"].remove(_visit(tiny_plan, "R-3", "V2"))
    entry = {"request_id": "R-3", "visit_id": "V2", "reason": "no_sitter_free", "detail": "-"}
    tiny_plan["unmet"].append(entry)
    assert _violations(tiny_problem, tiny_plan) == []


def test_overlapping_shifts_add_up(tiny_problem: Data, tiny_plan: Data) -> None:
    # Tuesday: 09:00-11:00 x1 and 10:30-17:00 x1. R-3/V1 10:00-11:00 (1 sitter) fits
    # (1 on at 10:00, 2 at 10:30); R-4/V1 11:00-12:00 needs 2, only 1 is on
    tiny_problem["providers"][0]["sitters"]["tue"] = [
        {"start": "09:00", "end": "11:00", "count": 1},
        {"start": "10:30", "end": "17:00", "count": 1},
    ]
    assert [str(v) for v in _violations(tiny_problem, tiny_plan)] == [
        "H9 provider P-1 2026-03-03 11:00 has 2 sitters busy, 1 on shift"
    ]


def test_violations_are_sorted_by_rule_then_message(tiny_problem: Data, tiny_plan: Data) -> None:
    # break H12, H2 and PLAN at once: they come back PLAN, H2, H12
    tiny_problem["budgets"][0]["limit_pence"] = 0
    _unit(tiny_problem, "U-1")["beds"][0]["features"] = []
    tiny_plan["stays"].append({**_stay(tiny_plan, "R-1"), "request_id": "R-99"})
    rules = [v.rule for v in _violations(tiny_problem, tiny_plan)]
    assert rules == ["PLAN", "H2", "H12"]
    assert RULES.index("H2") < RULES.index("H10") < RULES.index("UNMET")


def test_checker_imports_no_solver() -> None:
    code = (
        "import scheduler.checker, sys; assert 'ortools' not in sys.modules "
        "and not any(m.startswith('solver') for m in sys.modules) "
        "and 'fastapi' not in sys.modules and 'sqlalchemy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# ------------------------------------------------------------- a large plan

NUM_UNITS, BEDS_PER_UNIT, NUM_CASES, NUM_PROVIDERS = 10, 8, 2000, 12
FIRST_NIGHT = dt.date(2026, 3, 2)


def _night(offset: int) -> str:
    return (FIRST_NIGHT + dt.timedelta(days=offset)).isoformat()


def _county_problem_data() -> Data:
    """A county-sized problem where every place is close and every limit is loose."""
    here = {"lat": 52.0, "lon": 0.0}
    case = {"locality_id": "L", "home": here, "age": 50, "sex": "female"}
    limits = {"nights_allowance": 100, "sitting_hours_per_week": 10}
    cases = [{"case_id": f"C-{i:05d}", **case, **limits} for i in range(NUM_CASES)]
    beds = [{"bed_id": f"B-{b}"} for b in range(BEDS_PER_UNIT)]
    units = [
        {"unit_id": f"U-{u}", "name": "-", "locality_id": "L", "location": here,
         "beds": [{"bed_id": f"U-{u}-{bed['bed_id']}"} for bed in beds],
         "default_night_staff": BEDS_PER_UNIT, "cost_per_night_pence": 20000}
        for u in range(NUM_UNITS)
    ]  # fmt: skip
    rota = {day: [{"start": "07:00", "end": "22:00", "count": 30}] for day in WEEKDAYS}
    providers = [
        {"provider_id": f"P-{p:02d}", "name": "-", "localities": ["L"], "base": here,
         "max_travel_km": 50, "sitters": rota, "weekly_hours_cap": 1000,
         "cost_per_hour_pence": 1800}
        for p in range(NUM_PROVIDERS)
    ]  # fmt: skip
    return {
        "horizon": {"first_night": _night(0), "last_night": _night(27)},
        "week_start": _night(0),
        "localities": [{"locality_id": "L", "name": "L"}],
        "cases": cases, "units": units, "providers": providers, "requests": [],
    }  # fmt: skip


def _county_stays(problem: Data, plan: Data) -> None:
    """400 stays of 3 or 4 nights, back to back, 5 in each of the 80 beds (H1, H5)."""
    beds = [(unit["unit_id"], bed["bed_id"]) for unit in problem["units"] for bed in unit["beds"]]
    for bed_idx, (unit_id, bed_id) in enumerate(beds):
        start = 0
        for k in range(5):
            index = 5 * bed_idx + k
            nights, night = 3 + index % 2, _night(start)
            item = {"request_id": f"R-{index:04d}", "case_id": f"C-{index:05d}"}
            problem["requests"].append(
                {**item, "kind": "stay", "priority": "crisis", "received": "2026-02-01",
                 "nights": nights, "earliest_start": night, "latest_start": night,
                 "max_travel_km": 50}
            )  # fmt: skip
            where = {"unit_id": unit_id, "bed_id": bed_id, "first_night": night}
            plan["stays"].append({**item, **where, "nights": nights})
            start += nights


def _county_visits(problem: Data, plan: Data) -> None:
    """Each case: 2 one-hour visits on different days, at hours spread over 07:00..20:00,
    round-robin over 12 providers of 30 sitters (about 4 busy at once: H9)."""
    for i in range(NUM_CASES):
        item = {"request_id": f"S-{i:05d}", "case_id": f"C-{i:05d}"}
        slots = [(_night(i % 7), 7 + i % 14), (_night((i + 3) % 7), 7 + (i + 5) % 14)]
        visits = [
            {"visit_id": f"V{k}", "minutes": 60,
             "windows": [{"day": day, "start": f"{hour:02d}:00", "end": "22:00"}]}
            for k, (day, hour) in enumerate(slots)
        ]  # fmt: skip
        problem["requests"].append(
            {**item, "kind": "sitting", "priority": "planned", "received": "2026-02-01",
             "max_travel_km": 50, "visits": visits}
        )  # fmt: skip
        plan["visits"] += [
            {**item, "visit_id": f"V{k}", "provider_id": f"P-{(i + k) % NUM_PROVIDERS:02d}",
             "day": day, "start": f"{hour:02d}:00", "minutes": 60}
            for k, (day, hour) in enumerate(slots)
        ]  # fmt: skip


def _county_like() -> tuple[Problem, Plan]:
    """A county-sized valid plan: 80 beds x 28 nights, 400 stays, 2,000 cases, 4,000 visits."""
    problem: Data = _county_problem_data()
    plan: Data = {"stays": [], "visits": [], "solver": {"engine": "synthetic", "status": "ok"}}
    _county_stays(problem, plan)
    _county_visits(problem, plan)
    return Problem.model_validate(problem), Plan.model_validate(plan)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_a_county_sized_plan_checks_quickly() -> None:
    problem, plan = _county_like()
    assert (len(plan.stays), len(plan.visits)) == (400, 4000)
    started = time.perf_counter()
    violations = check(problem, plan)  # KPIs too: the plan's block is empty, so KPI only
    seconds = time.perf_counter() - started
    assert {v.rule for v in violations} == {"KPI"}
    plan.kpis = compute_kpis(problem, plan.stays, plan.visits)
    assert check(problem, plan) == []
    assert seconds < 5  # well under a second alone; generous for a shared machine
