"""Cutting capacity below what confirmed bookings use answers 200 with a warning
listing those bookings (issue 20, item 10: 19 H9 breaches were left silently)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _book(client: TestClient, admin: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post("/v1/bookings", json=body, headers=admin)
    assert response.status_code == 201, response.text
    booking_id: str = response.json()["booking_id"]
    return booking_id


def _stay(request_id: str, bed_id: str) -> dict[str, Any]:
    return {
        "kind": "stay",
        "request_id": request_id,
        "bed_id": bed_id,
        "first_night": "2025-03-03",
        "nights": 3,
    }


def test_cutting_night_staff_warns_of_each_stay_left_short(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    # Two residents on the night of 2025-03-04 need one member of staff (H5); with
    # none on duty both stays break H5, and both are named. Restoring the staff
    # (null: the default of 2) leaves nothing to warn of.
    first = _book(client, admin, _stay("R-1", "B-N1-1"))
    second = _book(client, admin, _stay("R-2", "B-N1-2"))
    url = "/v1/units/U-N1/night-staff/2025-03-04"
    cut = client.put(url, json={"staff": 0}, headers=admin)
    assert cut.status_code == 200, cut.text
    warnings = cut.json()["warnings"]
    assert {w["booking_id"] for w in warnings} == {first, second}
    assert {w["rule"] for w in warnings} == {"H5"}
    assert all("2025-03-04" in w["detail"] for w in warnings)
    assert cut.json()["night_staff"]["2025-03-04"] == 0  # the change is made all the same
    restored = client.put(url, json={"staff": None}, headers=admin)
    assert restored.status_code == 200 and restored.json()["warnings"] == []


def test_a_change_that_breaks_nothing_has_no_warning(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    _book(client, admin, _stay("R-1", "B-N1-1"))
    # another night, with no one staying
    answer = client.put("/v1/units/U-N1/night-staff/2025-03-07", json={"staff": 0}, headers=admin)
    assert answer.status_code == 200 and answer.json()["warnings"] == []


def test_a_night_far_from_the_planned_weeks_is_judged_too(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    # The stored horizon is in March 2025; a night decades earlier or later makes the
    # problem the rules judge span more nights than a problem file may (366): it is
    # still judged (nobody stays then: no warning), where it answered 500 (schema fuzz).
    _book(client, admin, _stay("R-1", "B-N1-1"))
    for night in ("1970-01-01", "2031-06-30"):
        answer = client.put(f"/v1/units/U-N1/night-staff/{night}", json={"staff": 0}, headers=admin)
        assert answer.status_code == 200 and answer.json()["warnings"] == [], answer.text
    # A night before any date a problem may hold is refused, naming the night.
    answer = client.put("/v1/units/U-N1/night-staff/0001-01-01", json={"staff": 0}, headers=admin)
    assert answer.status_code == 422 and "night" in answer.json()["detail"], answer.text


def test_cutting_a_rota_warns_of_each_visit_left_without_a_sitter(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    # R-4's visit V1 is booked on Tuesday 2025-03-04 from 09:00 for two hours; a
    # rota whose Tuesday starts at 13:00 leaves it with no sitter on shift (H9).
    visit = {
        "kind": "visit",
        "request_id": "R-4",
        "visit_id": "V1",
        "provider_id": "P-1",
        "day": "2025-03-04",
        "start": "09:00",
    }
    booking_id = _book(client, admin, visit)
    late = {day: [{"start": "13:00", "end": "20:00", "count": 2}] for day in WEEK}
    cut = client.put("/v1/providers/P-1/rota", json={"sitters": late}, headers=admin)
    assert cut.status_code == 200, cut.text
    warnings = cut.json()["warnings"]
    assert [w["booking_id"] for w in warnings] == [booking_id]
    assert warnings[0]["rule"] == "H9" and "2025-03-04 09:00" in warnings[0]["detail"]
    early = {day: [{"start": "08:00", "end": "20:00", "count": 2}] for day in WEEK}
    back = client.put("/v1/providers/P-1/rota", json={"sitters": early}, headers=admin)
    assert back.status_code == 200 and back.json()["warnings"] == []
