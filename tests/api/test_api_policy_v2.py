"""Policy v2 through the service: every new field is stored, read back, put in the
problems runs and booking checks are built from, and refused with its name when bad.

Each test runs on SQLite and PostgreSQL (see conftest).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from conftest import tiny_problem
from fastapi.testclient import TestClient
from sqlalchemy import select
from test_api_bookings import _run_row

from api.services.problems import build_problem
from api.tables import BookingRow, CaseRow, PlanningRow, RequestRow, UnitRow
from scheduler.model import Horizon, Plan, PlannedStay, Problem, SolverInfo, StayBooking


def v2_problem() -> dict[str, Any]:
    """The tiny problem with every v2 field set away from its default.

    Bed B-N1-1 is held on 3..5 March by an offered stay (R-1, one agency night
    staff member): offered bookings hold capacity as confirmed ones do. R-3 is a
    crisis, so that the unit's crisis reserve (1 of its 2 beds, H13) lets it in beside
    the offer.
    """
    problem = tiny_problem()
    problem["policy"] = {
        "allowance_exempt": ["crisis"],
        "spot_for": ["crisis", "health_appointment"],
        "sitting_bank_weeks": 2,
        "reserve_release_days": 3,
        "offer_hours": 72,
    }
    problem["planned_on"] = "2025-02-28"
    problem["weights"] = {"break_bonus_units": 90, "first_sitting_hours": 1.5}
    problem["cases"][0] |= {
        "allowance_year_start": "2024-10-01",
        "sitting_hours_banked": 7.5,
        "sitting_hours_recent": 3.25,
        "contribution_per_night_pence": 1850,
    }
    problem["units"][0] |= {
        "block_cost_per_year_pence": 9_000_000_000,  # GBP 90m: past a 32-bit column
        "crisis_reserve_beds": 1,
        "extra_night_staff_max": 2,
        "extra_night_staff_cost_pence": 21_000,
    }
    problem["requests"][1] |= {"exceptional": True, "exceptional_reason": "carer in hospital"}
    problem["requests"][2]["priority"] = "crisis"
    problem["bookings"] = [
        {
            "booking_id": "B-OFFER",
            "request_id": "R-1",
            "case_id": "C-1",
            "unit_id": "U-N1",
            "bed_id": "B-N1-1",
            "first_night": "2025-03-03",
            "nights": 3,
            "status": "offered",
            "extra_night_staff": 1,
        }
    ]
    return problem


@pytest.fixture
def loaded_v2(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    problem = v2_problem()
    response = client.post("/v1/problem", json=problem, headers=admin)
    assert response.status_code == 200, response.text
    return copy.deepcopy(problem)


def _database(client: TestClient) -> Any:
    return client.app.state.database  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- round trip


def test_a_v2_problem_comes_back_whole(
    client: TestClient, admin: dict[str, str], loaded_v2: dict[str, Any]
) -> None:
    exported = client.get("/v1/problem", headers=admin)
    assert exported.status_code == 200, exported.text
    assert Problem.model_validate(exported.json()) == Problem.model_validate(loaded_v2)
    body = exported.json()
    assert body["policy"]["offer_hours"] == 72
    assert body["planned_on"] == "2025-02-28"
    assert body["bookings"][0]["status"] == "offered"
    assert body["bookings"][0]["extra_night_staff"] == 1


def test_items_read_back_with_their_v2_fields(
    client: TestClient, admin: dict[str, str], loaded_v2: dict[str, Any]
) -> None:
    case = client.get("/v1/cases/C-1", headers=admin).json()
    assert case["sitting_hours_banked"] == 7.5
    assert case["allowance_year_start"] == "2024-10-01"
    unit = client.get("/v1/units/U-N1", headers=admin).json()
    assert unit["block_cost_per_year_pence"] == 9_000_000_000
    assert unit["crisis_reserve_beds"] == 1
    request = client.get("/v1/requests/R-2", headers=admin).json()
    assert request["exceptional"] is True
    assert request["exceptional_reason"] == "carer in hospital"
    offered = client.get("/v1/bookings?status=offered", headers=admin).json()
    assert [b["booking_id"] for b in offered["items"]] == ["B-OFFER"]
    assert offered["items"][0]["extra_night_staff"] == 1


def test_the_new_columns_hold_the_fields(client: TestClient, loaded_v2: dict[str, Any]) -> None:
    with _database(client).read() as session:
        case = session.get_one(CaseRow, "C-1")
        other = session.get_one(CaseRow, "C-2")
        unit = session.get_one(UnitRow, "U-N1")
        stay = session.get_one(RequestRow, "R-2")
        sitting = session.get_one(RequestRow, "R-4")
        booking = session.get_one(BookingRow, "B-OFFER")
        planning = session.scalars(select(PlanningRow)).one()
        assert (case.allowance_year_start, case.sitting_hours_banked) == (dt.date(2024, 10, 1), 7.5)
        assert (case.sitting_hours_recent, case.contribution_per_night_pence) == (3.25, 1850)
        assert (other.allowance_year_start, other.sitting_hours_banked) == (None, 0)
        assert unit.block_cost_per_year_pence == 9_000_000_000
        assert (unit.crisis_reserve_beds, unit.extra_night_staff_max) == (1, 2)
        assert unit.extra_night_staff_cost_pence == 21_000
        assert (stay.exceptional, stay.exceptional_reason) == (True, "carer in hospital")
        assert (sitting.exceptional, sitting.exceptional_reason) == (False, None)
        assert (booking.status, booking.extra_night_staff) == ("offered", 1)
        assert planning.planned_on == dt.date(2025, 2, 28)
        assert planning.policy["spot_for"] == ["crisis", "health_appointment"]


def test_a_run_plans_under_the_stored_policy_with_the_offer_pinned(
    client: TestClient, loaded_v2: dict[str, Any]
) -> None:
    with _database(client).read() as session:
        problem = build_problem(session, None, None)
    expected = Problem.model_validate(loaded_v2)
    assert problem.policy == expected.policy
    assert problem.planned_on == dt.date(2025, 2, 28)
    assert problem.weights.break_bonus == 90
    (offer,) = problem.bookings
    assert isinstance(offer, StayBooking)
    assert (offer.status, offer.extra_night_staff) == ("offered", 1)
    assert problem.unit_by_id()["U-N1"].extra_night_staff_max == 2


def test_a_run_over_other_nights_keeps_the_stated_planning_day(
    client: TestClient, loaded_v2: dict[str, Any]
) -> None:
    # A week later than imported: the offer (3..5 March) lies outside and is not
    # pinned; planned_on was stated, so it stays 28 February.
    horizon = Horizon(first_night=dt.date(2025, 3, 10), last_night=dt.date(2025, 3, 16))
    with _database(client).read() as session:
        problem = build_problem(session, dt.date(2025, 3, 10), horizon)
    assert problem.bookings == []
    assert problem.planning_date == dt.date(2025, 2, 28)


# ---------------------------------------------------------------------------- offered


def test_an_offered_stay_holds_its_bed(
    client: TestClient, admin: dict[str, str], loaded_v2: dict[str, Any]
) -> None:
    # B-N1-1 is offered to C-1 for 3..5 March; booking C-3 into it on 4 March must
    # fail as it would against a confirmed stay.
    stay = {"request_id": "R-3", "bed_id": "B-N1-1", "first_night": "2025-03-04", "nights": 3}
    response = client.post("/v1/bookings", json={"kind": "stay", **stay}, headers=admin)
    assert response.status_code == 409, response.text
    assert "B-OFFER" in response.json()["detail"]
    free = client.post(
        "/v1/bookings", json={"kind": "stay", **stay, "bed_id": "B-N1-2"}, headers=admin
    )
    assert free.status_code == 201, free.text


# ---------------------------------------------------------------------------- publishing


def test_publishing_carries_agency_staff_into_the_bookings(
    client: TestClient, admin: dict[str, str], loaded_v2: dict[str, Any]
) -> None:
    stay = PlannedStay(
        request_id="R-3",
        case_id="C-3",
        unit_id="U-N1",
        bed_id="B-N1-2",
        first_night=dt.date(2025, 3, 4),
        nights=3,
        extra_night_staff=1,  # with the offer's 1, the unit's most (2) on 4 and 5 March
    )
    plan = Plan(stays=[stay], solver=SolverInfo(engine="greedy", status="feasible"))
    with _database(client).write() as session:
        session.add(_run_row("run-agency", plan))
    published = client.post("/v1/allocation-runs/run-agency/publish", headers=admin)
    assert published.status_code == 200, published.text
    (booking_id,) = published.json()["booking_ids"]
    booking = client.get(f"/v1/bookings/{booking_id}", headers=admin).json()
    assert (booking["status"], booking["extra_night_staff"]) == ("confirmed", 1)
    exported = client.get("/v1/problem", headers=admin).json()
    staffed = {b["booking_id"]: b["extra_night_staff"] for b in exported["bookings"]}
    assert staffed == {"B-OFFER": 1, booking_id: 1}


# ---------------------------------------------------------------------------- refused


def _bad(change: str) -> dict[str, Any]:
    problem = v2_problem()
    if change == "exceptional":
        del problem["requests"][1]["exceptional_reason"]
    elif change == "reserve":
        problem["units"][0]["crisis_reserve_beds"] = 3
    elif change == "cost":
        problem["units"][0]["extra_night_staff_cost_pence"] = 10**20
    elif change == "status":
        problem["bookings"][0]["status"] = "pencilled"
    return problem


@pytest.mark.parametrize(
    ("change", "field"),
    [
        # an exceptional approval needs the manager's reason
        ("exceptional", "exceptional_reason"),
        # 3 reserve beds in a unit of 2
        ("reserve", "crisis_reserve_beds"),
        # 10^20 pence is beyond any plausible figure (at most 10^12)
        ("cost", "extra_night_staff_cost_pence"),
        # a booking is confirmed or offered, nothing else
        ("status", "status"),
    ],
)
def test_an_import_with_a_bad_v2_value_names_the_field(
    client: TestClient, admin: dict[str, str], change: str, field: str
) -> None:
    response = client.post("/v1/problem", json=_bad(change), headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert field in response.json()["detail"]
    assert response.json()["errors"][0]["field"] == field
    assert client.get("/v1/problem", headers=admin).status_code == 404  # nothing stored


def _unit(**terms: Any) -> dict[str, Any]:
    unit = copy.deepcopy(tiny_problem()["units"][0])
    unit |= {"unit_id": "U-N2", "beds": [{"bed_id": "B-N2-1"}, {"bed_id": "B-N2-2"}]}
    unit.pop("night_staff")
    return unit | terms


@pytest.mark.parametrize(
    ("terms", "field"),
    [
        ({"crisis_reserve_beds": 3}, "crisis_reserve_beds"),  # 3 of 2 beds
        ({"spot": True, "crisis_reserve_beds": 1}, "crisis_reserve_beds"),  # no block beds
        ({"spot": True, "block_cost_per_year_pence": 5}, "block_cost_per_year_pence"),
        ({"block_cost_per_year_pence": 10**20}, "block_cost_per_year_pence"),
        ({"extra_night_staff_max": -1}, "extra_night_staff_max"),
    ],
)
def test_a_new_unit_with_bad_terms_is_refused_naming_the_field(
    client: TestClient,
    admin: dict[str, str],
    loaded: dict[str, Any],
    terms: dict[str, Any],
    field: str,
) -> None:
    response = client.post("/v1/units", json=_unit(**terms), headers=admin)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    assert client.get("/v1/units/U-N2", headers=admin).status_code == 404


def test_a_new_unit_keeps_its_terms(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    terms = {"crisis_reserve_beds": 2, "extra_night_staff_max": 1, "block_cost_per_year_pence": 7}
    created = client.post("/v1/units", json=_unit(**terms), headers=admin)
    assert created.status_code == 201, created.text
    unit = client.get("/v1/units/U-N2", headers=admin).json()
    assert {name: unit[name] for name in terms} == terms


def test_a_new_exceptional_request_needs_its_reason(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    request = copy.deepcopy(tiny_problem()["requests"][0]) | {
        "request_id": "R-9",
        "exceptional": True,
    }
    response = client.post("/v1/requests", json=request, headers=admin)
    assert response.status_code == 422, response.text
    assert "exceptional_reason" in response.json()["detail"]
    request["exceptional_reason"] = "two-to-one support, nothing in borough"
    created = client.post("/v1/requests", json=request, headers=admin)
    assert created.status_code == 201, created.text
    assert client.get("/v1/requests/R-9", headers=admin).json()["exceptional"] is True


# ---------------------------------------------------------------------------- unit terms


def test_a_units_terms_are_changed_and_read_back(
    client: TestClient, admin: dict[str, str], loaded_v2: dict[str, Any]
) -> None:
    change = {"crisis_reserve_beds": 0, "extra_night_staff_cost_pence": 25_000}
    response = client.patch("/v1/units/U-N1", json=change, headers=admin)
    assert response.status_code == 200, response.text
    unit = client.get("/v1/units/U-N1", headers=admin).json()
    assert unit["crisis_reserve_beds"] == 0
    assert unit["extra_night_staff_cost_pence"] == 25_000
    assert unit["extra_night_staff_max"] == 2  # left out: unchanged
    assert len(unit["beds"]) == 2 and unit["night_staff"] == {"2025-03-08": 1}
    with _database(client).read() as session:
        assert session.get_one(UnitRow, "U-N1").extra_night_staff_cost_pence == 25_000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"crisis_reserve_beds": 3}, "crisis_reserve_beds"),  # 3 of 2 beds
        ({"extra_night_staff_cost_pence": 10**20}, "extra_night_staff_cost_pence"),
        ({"beds": []}, "beds"),  # not a term this endpoint changes
    ],
)
def test_a_bad_change_of_terms_is_refused_naming_the_field(
    client: TestClient,
    admin: dict[str, str],
    loaded_v2: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    response = client.patch("/v1/units/U-N1", json=change, headers=admin)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    assert client.get("/v1/units/U-N1", headers=admin).json()["crisis_reserve_beds"] == 1


def test_changing_terms_of_an_unknown_unit_is_404(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    response = client.patch("/v1/units/U-X", json={"crisis_reserve_beds": 0}, headers=admin)
    assert response.status_code == 404
