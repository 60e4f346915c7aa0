"""What-if scenarios over the API: queue, progress, results and charts; bad files; restart."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.clock import utcnow
from api.settings import Settings
from api.tables import ScenarioRow

SCENARIO = """
[base]
tier = "tiny"
seed = 1

[simulation]
weeks = 2
replications = 2

[[variants]]
name = "today"

[[variants]]
name = "more beds"
changes = [{ kind = "add_beds", unit = "U-01", count = 2 }]
"""


@pytest.fixture
def one_worker(settings: Settings) -> Iterator[TestClient]:
    settings.whatif_workers = 1
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _post(client: TestClient, headers: dict[str, str], text: str) -> Any:
    return client.post(
        "/v1/scenarios?name=test",
        content=text.encode(),
        headers=headers | {"Content-Type": "application/toml"},
    )


@pytest.mark.slow
def test_a_scenario_runs_and_gives_its_comparison_and_charts(
    one_worker: TestClient, key_for: Any
) -> None:
    planner = key_for("planner")
    created = _post(one_worker, planner, SCENARIO)
    assert created.status_code == 202, created.text
    url = created.headers["Location"]
    assert created.json()["total"] == 4  # 2 variants x 2 replications
    deadline = time.monotonic() + 120
    while (body := one_worker.get(url, headers=planner).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert body["status"] == "succeeded", body["reason"]
    assert body["done"] == 4
    assert set(body["summary"]) == {"today", "more beds"}
    assert "served_planned" in body["summary"]["today"]
    assert set(body["charts"]) >= {"served.png", "unmet_by_locality.png", "occupancy.png"}
    chart = one_worker.get(f"{url}/charts/served.png", headers=planner)
    assert chart.headers["content-type"] == "image/png" and chart.content[:4] == b"\x89PNG"
    report = one_worker.get(f"{url}/report.html", headers=key_for("broker"))
    assert report.status_code == 200 and report.text.count("<img") == 3
    missing = one_worker.get(f"{url}/charts/nope.png", headers=planner)
    assert missing.status_code == 404 and "served.png" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[base\n", "body: not valid TOML"),
        (SCENARIO.replace('unit = "U-01"', 'unit = "U-99"'), "variant 'more beds': change 1"),
        (SCENARIO.replace('tier = "tiny"', 'problem = "/etc/passwd"'), "base.problem:"),
    ],
)
def test_a_bad_scenario_is_422_naming_it(
    client: TestClient, key_for: Any, text: str, message: str
) -> None:
    response = _post(client, key_for("planner"), text)
    assert response.status_code == 422 and message in response.json()["detail"]


def test_brokers_and_providers_cannot_start_scenarios(client: TestClient, key_for: Any) -> None:
    assert _post(client, key_for("broker"), SCENARIO).status_code == 403
    assert _post(client, key_for("provider", provider_id="P-1"), SCENARIO).status_code == 403


def test_a_restart_fails_what_a_stopped_server_left_running(settings: Settings) -> None:
    with (
        TestClient(create_app(settings)) as first,
        first.app.state.database.write() as session,  # type: ignore[attr-defined]
    ):
        session.add(
            ScenarioRow(
                scenario_id="scn-orphan",
                status="running",
                name="x",
                spec={},
                created_by="t",
                created_at=utcnow(),
                owner="a-dead-server",
                done=1,
                total=4,
            )
        )
    with TestClient(create_app(settings)) as second:
        services = second.app.state.services  # type: ignore[attr-defined]
        row = services.scenarios.get("scn-orphan")
        assert row.status == "failed" and "server stopped" in (row.reason or "")


@pytest.mark.slow
def test_a_killed_scenario_process_fails_with_the_reason(
    one_worker: TestClient, key_for: Any
) -> None:
    # The scenario runs in a child process of the server (not a thread of it); if that
    # process dies, the scenario is marked failed with why, and the server answers on.
    planner = key_for("planner")
    longer = SCENARIO.replace("weeks = 2", "weeks = 40").replace(
        "replications = 2", "replications = 4"
    )
    url = _post(one_worker, planner, longer).headers["Location"]
    service = one_worker.app.state.services.scenarios  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    # Kill it once its Dask workers have finished a task (so they exist).
    while one_worker.get(url, headers=planner).json()["done"] < 1:
        assert time.monotonic() < deadline, "the scenario did not get going"
        time.sleep(0.05)
    process = service._process
    assert process.pid != os.getpid()
    process.kill()
    while (body := one_worker.get(url, headers=planner).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    assert body["status"] == "failed" and "killed (SIGKILL)" in body["reason"], body
    # Nothing of its process group (its Dask workers) is left running: they are
    # killed with it, not left to notice on their own.
    assert _group_gone(process.pid, within=10), "the scenario's Dask workers outlived it"
    assert one_worker.get("/v1/scenarios", headers=planner).status_code == 200


def _group_gone(pgid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
