"""Allocation runs as jobs: progress, cancel, a killed worker, a restarted server."""

from __future__ import annotations

import os
import signal
from typing import Any

from conftest import wait_for
from fastapi.testclient import TestClient

from api.app import create_app
from api.clock import utcnow
from api.settings import Settings
from api.tables import RunRow, UnitRow

FINISHED = ("succeeded", "failed", "cancelled")


def _start(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    response = client.post("/v1/allocation-runs", json=body, headers=headers)
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    assert response.headers["Location"] == f"/v1/allocation-runs/{run_id}"
    return run_id


def test_a_run_succeeds_and_its_plan_says_who_went_without(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    run_id = _start(client, admin, engine="greedy")
    run = wait_for(
        client, f"/v1/allocation-runs/{run_id}", admin, lambda r: r["status"] in FINISHED
    )
    assert run["status"] == "succeeded", run
    assert run["progress"]["stage"] == "done"  # not the last stage that reported progress
    plan = client.get(f"/v1/allocation-runs/{run_id}/plan", headers=admin).json()
    # Two beds, stays from Monday fill them for 3 nights; R-3 finds none
    # free from its earliest start (the fake does not slide dates).
    assert {stay["request_id"] for stay in plan["stays"]} == {"R-1", "R-2"}
    assert {unmet["request_id"] for unmet in plan["unmet"]} >= {"R-3"}
    assert all(unmet["reason"] and unmet["detail"] for unmet in plan["unmet"])


def test_progress_is_live_and_cancel_keeps_the_best_plan(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    run_id = _start(client, admin, engine="cpsat", time_limit=60)
    url = f"/v1/allocation-runs/{run_id}"
    running = wait_for(client, url, admin, lambda r: (r["progress"]["objective"] or 0) >= 2)
    assert running["status"] == "running"
    assert running["progress"]["bound"] == 1000.0
    assert running["progress"]["elapsed"] > 0
    assert client.delete(url, headers=admin).status_code == 200
    run = wait_for(client, url, admin, lambda r: r["status"] in FINISHED)
    assert run["status"] == "cancelled" and run["has_plan"]
    assert client.get(f"{url}/plan", headers=admin).status_code == 200


def test_a_killed_worker_fails_its_run_with_the_reason(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    run_id = _start(client, admin, engine="cpsat", time_limit=60)
    url = f"/v1/allocation-runs/{run_id}"
    wait_for(client, url, admin, lambda r: r["status"] == "running")
    worker = client.app.state.workers.processes()[run_id]  # type: ignore[attr-defined]
    os.kill(worker.pid, signal.SIGKILL)
    run = wait_for(client, url, admin, lambda r: r["status"] in FINISHED)
    assert run["status"] == "failed"
    assert "killed (SIGKILL)" in run["reason"]


def test_a_restarted_server_leaves_nothing_running(settings: Settings) -> None:
    with TestClient(create_app(settings)) as first:
        db = first.app.state.database  # type: ignore[attr-defined]
        with db.write() as session:
            for status in ("queued", "running"):
                session.add(_orphan(status))
    with TestClient(create_app(settings)) as second:
        db = second.app.state.database  # type: ignore[attr-defined]
        with db.read() as session:
            runs = session.query(RunRow).all()
    assert {run.status for run in runs} == {"failed"}
    assert all("server stopped" in (run.reason or "") for run in runs)


def _orphan(status: str) -> RunRow:
    now = utcnow()
    return RunRow(
        run_id=f"run-{status}",
        status=status,
        week_start=now.date(),
        first_night=now.date(),
        last_night=now.date(),
        engine="cpsat",
        time_limit=10,
        seed=0,
        created_by="a server that died",
        created_at=now,
        heartbeat_at=now,
        owner="dead-server",
        cancel_requested=False,
    )


def test_a_run_needs_valid_input(client: TestClient, admin: dict[str, str], loaded: Any) -> None:
    response = client.post(
        "/v1/allocation-runs", json={"engine": "simplex", "time_limit": -1}, headers=admin
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert "body.engine" in body["detail"] and "body.time_limit" in body["detail"]


def test_a_run_on_stored_data_that_breaks_the_contract_fails_saying_why(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    # The worker reads the problem when it starts solving; data changed behind the
    # service's back (a unit with a negative cost) fails the run with the field named.
    db = client.app.state.database  # type: ignore[attr-defined]
    with db.write() as session:
        unit = session.get(UnitRow, loaded["units"][0]["unit_id"])
        unit.body = {**unit.body, "cost_per_night_pence": -5}
    run_id = _start(client, admin, engine="greedy")
    run = wait_for(
        client, f"/v1/allocation-runs/{run_id}", admin, lambda r: r["status"] in FINISHED
    )
    assert run["status"] == "failed", run
    assert run["reason"].startswith("the stored problem cannot be solved:"), run["reason"]
    assert "cost_per_night_pence" in run["reason"], run["reason"]
