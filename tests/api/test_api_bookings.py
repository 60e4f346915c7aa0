"""Publishing, manual bookings, If-Match, cancelling, audit; and the race."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conftest import wait_for
from fastapi.testclient import TestClient

from api.services.clock import utcnow
from api.tables import RunRow
from scheduler.model import Plan, PlannedStay, SolverInfo

FINISHED = ("succeeded", "failed", "cancelled")


def _run(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/v1/allocation-runs", json={"engine": "greedy"}, headers=headers)
    run_id: str = response.json()["run_id"]
    url = f"/v1/allocation-runs/{run_id}"
    assert (
        wait_for(client, url, headers, lambda r: r["status"] in FINISHED)["status"] == "succeeded"
    )
    return run_id


def _stay(request_id: str, bed_id: str = "B-N1-1", nights: int = 3, first: str = "2025-03-03"):
    return {
        "kind": "stay",
        "request_id": request_id,
        "bed_id": bed_id,
        "first_night": first,
        "nights": nights,
    }


def test_publish_confirms_the_plan_and_the_next_run_pins_it(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    run_id = _run(client, admin)
    published = client.post(f"/v1/allocation-runs/{run_id}/publish", headers=admin)
    assert published.status_code == 200, published.text
    # R-1 and R-2 (beds), R-4's two visits.
    assert len(published.json()["booking_ids"]) == 4
    again = client.post(f"/v1/allocation-runs/{run_id}/publish", headers=admin)
    assert again.status_code == 409
    bookings = client.get("/v1/bookings", headers=admin).json()
    assert bookings["pagination"]["total"] == 4
    second = _run(client, admin)
    plan = client.get(f"/v1/allocation-runs/{second}/plan", headers=admin).json()
    assert {s["request_id"] for s in plan["stays"]} >= {"R-1", "R-2"}
    nothing_new = client.post(f"/v1/allocation-runs/{second}/publish", headers=admin).json()
    assert nothing_new["booking_ids"] == [] and nothing_new["already_booked"] == 4


def test_a_manual_booking_on_a_taken_bed_is_409_naming_the_bed_night(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    assert client.post("/v1/bookings", json=_stay("R-1"), headers=admin).status_code == 201
    clash = client.post("/v1/bookings", json=_stay("R-2", first="2025-03-05"), headers=admin)
    assert clash.status_code == 409
    assert clash.json()["conflicts"][0].startswith("bed B-N1-1 night 2025-03-05")


def test_a_manual_booking_that_breaks_a_rule_is_422_naming_it(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    # R-1 asks for 3 nights; booking 2 breaks H6 (whole stays).
    response = client.post("/v1/bookings", json=_stay("R-1", nights=2), headers=admin)
    assert response.status_code == 422
    assert response.json()["error"] == "rule_broken"
    assert response.json()["detail"].startswith("breaks H6")


def test_change_needs_the_current_version_and_cancel_frees_the_bed(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    created = client.post("/v1/bookings", json=_stay("R-1"), headers=admin)
    url = created.headers["Location"]
    assert created.headers["ETag"] == '"1"'
    move = {"bed_id": "B-N1-2"}
    assert client.patch(url, json=move, headers=admin).status_code == 428
    assert client.patch(url, json=move, headers=admin | {"If-Match": '"7"'}).status_code == 412
    moved = client.patch(url, json=move, headers=admin | {"If-Match": '"1"'})
    assert moved.status_code == 200 and moved.json()["bed_id"] == "B-N1-2"
    assert moved.headers["ETag"] == '"2"'
    # B-N1-1 is free again; B-N1-2 is not.
    assert client.post("/v1/bookings", json=_stay("R-2"), headers=admin).status_code == 201
    assert (
        client.post("/v1/bookings", json=_stay("R-3", "B-N1-2"), headers=admin).status_code == 409
    )
    assert client.delete(url, headers=admin | {"If-Match": '"2"'}).status_code == 200
    assert (
        client.post("/v1/bookings", json=_stay("R-3", "B-N1-2"), headers=admin).status_code == 201
    )
    booking_id = url.rsplit("/", 1)[1]
    audit = client.get(f"/v1/audit?entity=booking&entity_id={booking_id}", headers=admin).json()
    actions = [entry["action"] for entry in audit["items"]]
    assert actions == ["create", "change", "cancel"]
    change = audit["items"][1]
    assert change["before"]["bed_id"] == "B-N1-1" and change["after"]["bed_id"] == "B-N1-2"
    assert change["actor"].startswith("test admin")


def test_twenty_racers_for_one_bed_one_wins_the_rest_get_409(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    # Ten solved runs and ten brokers each want bed B-N1-1 for a different
    # (request, first night); every one of them holds the night of 2025-03-04.
    db = client.app.state.database  # type: ignore[attr-defined]
    wants = [
        (request_id, first, 3 if request_id in ("R-1", "R-2", "R-3") else 2)
        for request_id in ("R-1", "R-2", "R-3", "R-5", "R-6")
        for first in ("2025-03-03", "2025-03-04")
    ]
    with db.write() as session:
        for n, want in enumerate(wants):
            session.add(_solved_run(f"run-race-{n}", *want))

    def publish(n: int) -> int:
        return client.post(f"/v1/allocation-runs/run-race-{n}/publish", headers=admin).status_code

    def book(n: int) -> int:
        request_id, first, nights = wants[n]
        body = _stay(request_id, nights=nights, first=first)
        return client.post("/v1/bookings", json=body, headers=admin).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        racers = [pool.submit(publish, n) for n in range(10)]
        racers += [pool.submit(book, n) for n in range(10)]
        codes = [racer.result() for racer in racers]
    winners = [code for code in codes if code in (200, 201)]
    assert len(winners) == 1 and codes.count(409) == 19, codes
    stays = client.get("/v1/bookings?kind=stay", headers=admin).json()["items"]
    assert len(stays) == 1


def _solved_run(run_id: str, request_id: str, first_night: str, nights: int) -> RunRow:
    case_id = "C-" + request_id.split("-")[1]
    stay = PlannedStay(
        request_id=request_id,
        case_id=case_id,
        unit_id="U-N1",
        bed_id="B-N1-1",
        first_night=dt.date.fromisoformat(first_night),
        nights=nights,
    )
    plan = Plan(stays=[stay], solver=SolverInfo(engine="greedy", status="feasible"))
    now = utcnow()
    return RunRow(
        run_id=run_id,
        status="succeeded",
        week_start=dt.date(2025, 3, 3),
        first_night=dt.date(2025, 3, 3),
        last_night=dt.date(2025, 3, 9),
        engine="greedy",
        time_limit=1,
        seed=0,
        created_by="tests",
        created_at=now,
        owner="tests",
        cancel_requested=False,
        plan=plan.model_dump(mode="json"),
    )
