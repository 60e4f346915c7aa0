"""What-if scenarios are bounded and cancellable: memory and time caps, and DELETE.

The file is checked (base made, changes applied) in a child process and run in
another, each with its address space capped; the server stops a run past its
wall time; a planner cancels a queued or running scenario. The sizes used here
may also be refused up front by the scenario file's own limits: either way the
server's memory is never at stake, which is what these tests hold.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_api_scenarios import SCENARIO as SHORT
from test_api_scenarios import _group_gone, _post

from api.app import create_app
from api.settings import Settings

SCENARIO = SHORT.replace("weeks = 2", "weeks = 40").replace("replications = 2", "replications = 4")
CAP_MB = 768  # enough to run the tiny tier; far from what 10^9 of anything needs
TIGHT_MB = 384  # enough to check and start one: reached sooner by what grows
FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture
def capped(settings: Settings) -> Iterator[TestClient]:
    settings.whatif_workers = 1
    settings.scenario_memory_mb = CAP_MB
    settings.scenario_seconds = 60
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def tight(settings: Settings) -> Iterator[TestClient]:
    """Caps that a billion of anything reaches in seconds, with time to reach them
    however slow the machine (coverage traces the children too)."""
    settings.whatif_workers = 1
    settings.scenario_memory_mb = TIGHT_MB
    settings.scenario_check_seconds = settings.scenario_seconds = 300
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _until(client: TestClient, url: str, headers: dict[str, str], done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    while not done(body := client.get(url, headers=headers).json()):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    return body


def test_a_billion_beds_is_refused_without_growing_the_server(
    tight: TestClient, key_for: Any
) -> None:
    planner = key_for("planner")
    text = SCENARIO.replace("count = 2", "count = 1000000000")
    started = time.monotonic()
    response = _post(tight, planner, text)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "RESPITE_SCENARIO_MEMORY_MB" in detail or "count" in detail, detail
    assert time.monotonic() - started < 300


def test_a_billion_replications_fails_on_its_memory_cap(tight: TestClient, key_for: Any) -> None:
    planner = key_for("planner")
    response = _post(
        tight, planner, SCENARIO.replace("replications = 4", "replications = 1000000000")
    )
    if response.status_code == 422:  # refused up front by the file's own limits
        assert "replications" in response.json()["detail"]
        return
    assert response.status_code == 202, response.text
    body = _until(tight, response.headers["Location"], planner, lambda b: b["status"] in FINISHED)
    assert body["status"] == "failed" and "RESPITE_SCENARIO_MEMORY_MB" in body["reason"], body


def test_a_scenario_past_its_wall_time_is_stopped(settings: Settings, key_for: Any) -> None:
    settings.whatif_workers = 1
    settings.scenario_seconds = 2
    with TestClient(create_app(settings)) as client:
        planner = key_for("planner")
        url = _post(client, planner, SCENARIO).headers["Location"]
        body = _until(client, url, planner, lambda b: b["status"] in FINISHED)
    assert body["status"] == "failed" and "RESPITE_SCENARIO_SECONDS" in body["reason"], body


def test_a_planner_cancels_a_running_and_a_queued_scenario(
    capped: TestClient, key_for: Any
) -> None:
    planner = key_for("planner")
    running = _post(capped, planner, SCENARIO).headers["Location"]
    queued = _post(capped, planner, SCENARIO).headers["Location"]
    _until(capped, running, planner, lambda b: b["done"] >= 1)
    process = capped.app.state.services.scenarios._process  # type: ignore[attr-defined]
    # The queued one first: cancelled while the other still runs, it must never start
    # (cancelled second, the freed slot could start it before its cancel arrives).
    assert capped.delete(queued, headers=planner).json()["status"] == "cancelled"
    cancelled = capped.delete(running, headers=planner)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert "cancelled by" in cancelled.json()["reason"]
    assert _group_gone(process.pid, within=10), "the scenario's processes outlived the cancel"
    time.sleep(1.0)  # time for the freed slot to start a queued scenario, if one were left
    assert capped.get(queued, headers=planner).json()["started_at"] is None
    again = capped.delete(running, headers=planner)
    assert again.status_code == 409 and "cancelled" in again.json()["detail"]
    assert capped.delete(running, headers=key_for("broker")).status_code == 403
    assert capped.delete("/v1/scenarios/scn-nope", headers=planner).status_code == 404
