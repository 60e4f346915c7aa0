"""Every unmet reason of the spec, each from a problem small enough to reason about."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.allocate import allocate
from scheduler.checker import check
from scheduler.model import UNMET_REASONS
from tests.solver import builders as b

FAR = {"lat": 52.20, "lon": 0.50}  # about 111 km north of HOME
MON, TUE = "2026-03-02", "2026-03-03"


def crisis_stay(request_id: str, case_id: str, **over: Any) -> dict[str, Any]:
    return b.stay(request_id, case_id, 1, MON, MON, priority="crisis", **over)


def planned_stay(request_id: str, case_id: str, **over: Any) -> dict[str, Any]:
    return b.stay(request_id, case_id, 1, MON, MON, **over)


CASES = [
    # C-1 may only have sitting: the stay request is not eligible.
    (
        "not_eligible",
        [b.case("C-1", eligible=["sitting"])],
        [b.unit("U-1")],
        [planned_stay("R-x", "C-1")],
        None,
    ),
    # 28 of 28 nights used already: no night left.
    (
        "allowance_used",
        [b.case("C-1", nights_used=28)],
        [b.unit("U-1")],
        [planned_stay("R-x", "C-1")],
        None,
    ),
    # The only unit is for over-65s; the person is 40.
    (
        "no_suitable_bed",
        [b.case("C-1")],
        [b.unit("U-1", age_min=65)],
        [planned_stay("R-x", "C-1")],
        None,
    ),
    # The only unit is 111 km away, the limit is 50 km.
    ("too_far", [b.case("C-1")], [b.unit("U-1", location=FAR)], [planned_stay("R-x", "C-1")], None),
    # Two staff; a two_to_one crisis stay takes both; the planned shared stay finds none.
    (
        "no_night_staff",
        [b.case("C-0", night_support="two_to_one"), b.case("C-1")],
        [b.unit("U-1", beds=2, default_night_staff=2)],
        [crisis_stay("R-0", "C-0"), planned_stay("R-x", "C-1")],
        "one more night staff member",
    ),
    # One bed; the crisis stay takes it.
    (
        "beds_taken",
        [b.case("C-0"), b.case("C-1")],
        [b.unit("U-1")],
        [crisis_stay("R-0", "C-0"), planned_stay("R-x", "C-1")],
        None,
    ),
    # Two beds, but C-1 cannot share a unit with C-0, who comes first (crisis).
    (
        "incompatible_resident",
        [b.case("C-0"), b.case("C-1", incompatible_with=["C-0"])],
        [b.unit("U-1", beds=2)],
        [crisis_stay("R-0", "C-0"), planned_stay("R-x", "C-1")],
        None,
    ),
    # Two spot beds (a block bed's night costs a budget nothing), budget for one night
    # (20,000p): the crisis stay spends it; R-x has a manager's approval for a spot bed.
    (
        "over_budget",
        [b.case("C-0"), b.case("C-1")],
        [b.unit("U-1", beds=2, spot=True)],
        [
            crisis_stay("R-0", "C-0"),
            planned_stay("R-x", "C-1", exceptional=True, exceptional_reason="approved"),
        ],
        None,
    ),
    # Three nights asked from Saturday or Sunday: they run past the last night planned.
    (
        "outside_horizon",
        [b.case("C-1")],
        [b.unit("U-1")],
        [b.stay("R-x", "C-1", 3, "2026-03-07", "2026-03-08")],
        None,
    ),
    # The only unit is spot-purchased; a routine planned break has no approval (H12b).
    (
        "spot_not_approved",
        [b.case("C-1")],
        [b.unit("U-1", spot=True)],
        [planned_stay("R-x", "C-1")],
        None,
    ),
    # The only bed is held for crisis (H13) from Wednesday (planned Monday, released two
    # days ahead); the planned stay asks for Thursday.
    (
        "crisis_reserve",
        [b.case("C-1")],
        [b.unit("U-1", crisis_reserve_beds=1)],
        [b.stay("R-x", "C-1", 1, "2026-03-05", "2026-03-05")],
        None,
    ),
]
BUDGETS = {"over_budget": [{"budget_id": "BUD-1", "limit_pence": 20000, "applies_to": ["U-1"]}]}


@pytest.mark.parametrize(
    ("reason", "cases", "units", "requests", "alternative"), CASES, ids=[c[0] for c in CASES]
)
def test_stay_reasons(reason, cases, units, requests, alternative):
    problem = b.problem(cases, units, requests, providers=[], budgets=BUDGETS.get(reason, []))
    result = allocate(problem, engine="cpsat", time_limit=5, workers=1, seed=0)
    assert check(problem, result.plan) == []
    unmet = {u.request_id: u for u in result.plan.unmet}
    assert unmet["R-x"].reason == reason, unmet["R-x"]
    assert unmet["R-x"].detail and unmet["R-x"].detail[0].isupper()
    if alternative:
        found = unmet["R-x"].alternative
        assert found is not None and alternative in found.text


def one_visit(
    request_id: str, case_id: str, priority: str = "planned", **over: Any
) -> dict[str, Any]:
    return b.sitting(
        request_id, case_id, [("V1", 120, MON, "09:00", "11:00")], priority=priority, **over
    )


VISIT_CASES = [
    # The provider does not cover L-2, where C-1 lives.
    ("no_provider", [b.case("C-1", locality_id="L-2")], [b.provider()], [one_visit("S-x", "C-1")]),
    # The provider lacks the peg_feeding skill the person needs.
    (
        "no_provider",
        [b.case("C-1", sitting_skills=["peg_feeding"])],
        [b.provider()],
        [one_visit("S-x", "C-1")],
    ),
    # The provider's base is 111 km away.
    ("too_far", [b.case("C-1", home=FAR)], [b.provider()], [one_visit("S-x", "C-1")]),
    # One sitter on shift; the crisis visit at the same time takes them.
    (
        "no_sitter_free",
        [b.case("C-0"), b.case("C-1")],
        [b.provider()],
        [one_visit("S-0", "C-0", "crisis"), one_visit("S-x", "C-1")],
    ),
    # Two sitters on shift but the weekly cap is 2 hours: the crisis visit uses it.
    (
        "provider_hours_used",
        [b.case("C-0"), b.case("C-1")],
        [b.provider(count=2, weekly_hours_cap=2)],
        [one_visit("S-0", "C-0", "crisis"), one_visit("S-x", "C-1")],
    ),
    # One hour a week of sitting, the visit is two hours.
    (
        "allowance_used",
        [b.case("C-1", sitting_hours_per_week=1)],
        [b.provider()],
        [one_visit("S-x", "C-1")],
    ),
    # Sitting only for stays: not eligible.
    ("not_eligible", [b.case("C-1", eligible=["stay"])], [b.provider()], [one_visit("S-x", "C-1")]),
]


@pytest.mark.parametrize(
    ("reason", "cases", "providers", "requests"),
    VISIT_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(VISIT_CASES)],
)
def test_visit_reasons(reason, cases, providers, requests):
    problem = b.problem(
        cases,
        [],
        requests,
        providers=providers,
        localities=[
            {"locality_id": "L-1", "name": "Ashford"},
            {"locality_id": "L-2", "name": "Deal"},
        ],
    )
    result = allocate(problem, engine="cpsat", time_limit=5, workers=1, seed=0)
    assert check(problem, result.plan) == []
    unmet = {(u.request_id, u.visit_id): u for u in result.plan.unmet}
    assert unmet[("S-x", "V1")].reason == reason, unmet[("S-x", "V1")]


def test_every_reason_has_a_case():
    # The tables above name each reason of the one vocabulary at least once.
    named = {c[0] for c in CASES} | {c[0] for c in VISIT_CASES}
    assert named == set(UNMET_REASONS)
