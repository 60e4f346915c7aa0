"""Reports over the API: a run's plan or the confirmed bookings, as JSON, CSV, HTML."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
from conftest import wait_for
from fastapi.testclient import TestClient

from scheduler.model import Plan, Problem
from scheduler.reports.tables import NOT_PLANNED, REPORTS


def _finished_run(client: TestClient, admin: dict[str, str]) -> str:
    run_id = client.post("/v1/allocation-runs", json={"engine": "greedy"}, headers=admin).json()[
        "run_id"
    ]
    wait_for(client, f"/v1/allocation-runs/{run_id}", admin, lambda r: r["status"] == "succeeded")
    return str(run_id)


def test_a_runs_reports_match_its_plan(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    run_id = _finished_run(client, admin)
    plan = Plan.model_validate(
        client.get(f"/v1/allocation-runs/{run_id}/plan", headers=admin).json()
    )
    served = client.get(f"/v1/reports/served?run_id={run_id}", headers=admin)
    assert served.status_code == 200 and served.headers["content-type"] == "application/json"
    rows = served.json()
    assert sum(row["Nights served"] for row in rows) == sum(stay.nights for stay in plan.stays)
    # The same report computed here from the run's plan and the loaded problem.
    expected = REPORTS["unmet"](Problem.model_validate(loaded), plan)
    unmet = client.get(f"/v1/reports/unmet?run_id={run_id}&format=csv", headers=admin)
    assert unmet.headers["content-type"].startswith("text/csv")
    assert "attachment" in unmet.headers["content-disposition"]
    back = pd.read_csv(io.StringIO(unmet.text))
    assert back["Stays"].sum() == expected["Stays"].sum()
    assert (
        back["Visits"].sum()
        == expected["Visits"].sum()
        == len([u for u in plan.unmet if u.visit_id])
    )
    page = client.get(f"/v1/reports/summary.html?run_id={run_id}", headers=admin)
    assert page.status_code == 200 and page.text.count("<img") == 3


def test_without_a_run_the_reports_are_on_the_confirmed_bookings(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    run_id = _finished_run(client, admin)
    nothing = client.get("/v1/reports/occupancy", headers=admin).json()
    assert sum(row["Occupied"] for row in nothing) == 0  # no bookings yet (and now cached)
    assert client.post(f"/v1/allocation-runs/{run_id}/publish", headers=admin).status_code == 200
    bookings = client.get("/v1/bookings?kind=stay", headers=admin).json()["items"]
    occupancy = client.get("/v1/reports/occupancy", headers=admin).json()
    # Every booked stay holds one bed for each of its nights.
    assert sum(row["Occupied"] for row in occupancy) == sum(b["nights"] for b in bookings)
    # The bookings say nothing of why a request went without: what was asked and not
    # booked counts as not planned; its stays add up to the stay requests not booked.
    unmet = client.get("/v1/reports/unmet", headers=admin).json()
    assert {row["Reason"] for row in unmet} == {NOT_PLANNED}
    booked = {b["request_id"] for b in bookings}
    asked = [r for r in loaded["requests"] if r["kind"] == "stay"]
    assert sum(row["Stays"] for row in unmet) == len(asked) - len(booked) > 0


def test_unknown_reports_and_runs_are_404(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    nope = client.get("/v1/reports/nope", headers=admin)
    assert nope.status_code == 404 and nope.json()["detail"].startswith("name: no report 'nope'")
    missing = client.get("/v1/reports/served?run_id=run-missing", headers=admin)
    assert missing.status_code == 404 and "run_id" in missing.json()["detail"]
    bad = client.get("/v1/reports/served?format=xlsx", headers=admin)
    assert bad.status_code == 422 and "format" in bad.json()["detail"]


def test_a_catalogue_change_shows_in_the_next_report(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    # Reports are cached while their data is unchanged; an audited catalogue change
    # (a new unit here) is a change, seen at once, not after a while.
    before = client.get("/v1/reports/occupancy", headers=admin).json()
    first = loaded["units"][0]
    beds = [{**bed, "bed_id": f"U-NEW-{bed['bed_id']}"} for bed in first["beds"]]
    unit = {**first, "unit_id": "U-NEW", "name": "New unit", "beds": beds}
    assert client.post("/v1/units", json=unit, headers=admin).status_code == 201
    after = client.get("/v1/reports/occupancy", headers=admin).json()
    nights = len({row["Night"] for row in before})
    assert {row["Unit"] for row in after} - {row["Unit"] for row in before} == {"U-NEW"}
    assert len(after) == len(before) + nights


def test_concurrent_report_requests_build_their_source_once(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any], monkeypatch: Any
) -> None:
    # Requests arriving while a report's data is being built wait for that build
    # instead of each making their own.
    service = client.app.state.services.reports  # type: ignore[attr-defined]
    builds = []
    real_build = service.build

    def slow_build(run_id: str | None) -> Any:
        builds.append(run_id)
        time.sleep(0.3)
        return real_build(run_id)

    monkeypatch.setattr(service, "build", slow_build)
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: client.get("/v1/reports/occupancy", headers=admin), range(4))
        )
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.text for a in answers}) == 1
    assert builds == [None]


def test_control_characters_echoed_in_an_error_are_shown_escaped(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    # A bad name with a control character is named in the 404, escaped: a broker's
    # screen or a log shows \x01, not an invisible byte.
    answer = client.get("/v1/reports/na%01me", headers=admin)
    assert answer.status_code == 404
    detail = answer.json()["detail"]
    assert "'na\\x01me'" in detail and "\x01" not in detail
