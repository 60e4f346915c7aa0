"""Allocation runs sent to a Dask distributed cluster (``RESPITE_DASK_SCHEDULER``).

One real ``LocalCluster`` per module: a scheduler on 127.0.0.1 and one worker
process, which imports the fake allocator by name like a local worker does
(``tests/api`` reaches it on ``sys.path`` through the spawned process).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import tiny_problem, wait_for
from fastapi.testclient import TestClient

from api.app import create_app
from api.schemas import ApiKeyCreate
from api.settings import Settings

distributed = pytest.importorskip("distributed")

FINISHED = ("succeeded", "failed", "cancelled")


@pytest.fixture(scope="module")
def dask_scheduler() -> Iterator[str]:
    """The address of a one-worker Dask cluster on this machine, closed afterwards."""
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=":0",  # a free port: None still binds 8787, which may be taken
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture
def on_dask(settings: Settings, dask_scheduler: str) -> Settings:
    return settings.model_copy(update={"dask_scheduler": dask_scheduler})


@pytest.fixture
def client(on_dask: Settings) -> Iterator[TestClient]:
    """The service with its solves sent to the cluster (replaces conftest's ``client``)."""
    with TestClient(create_app(on_dask)) as test_client:
        yield test_client


def _start(client: TestClient, headers: dict[str, str], **body: Any) -> str:
    response = client.post("/v1/allocation-runs", json=body, headers=headers)
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id


def test_a_run_on_dask_succeeds_with_a_plan(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    assert not client.app.state.workers.embedded  # type: ignore[attr-defined]
    run_id = _start(client, admin, engine="greedy")
    url = f"/v1/allocation-runs/{run_id}"
    run = wait_for(client, url, admin, lambda r: r["status"] in FINISHED)
    assert run["status"] == "succeeded", run
    plan = client.get(f"{url}/plan", headers=admin).json()
    # As on local workers: fill both beds from Monday, R-3 goes without.
    assert {stay["request_id"] for stay in plan["stays"]} == {"R-1", "R-2"}
    assert {unmet["request_id"] for unmet in plan["unmet"]} >= {"R-3"}


def test_a_run_on_dask_cancelled_keeps_its_best_plan(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    run_id = _start(client, admin, engine="cpsat", time_limit=60)
    url = f"/v1/allocation-runs/{run_id}"
    wait_for(client, url, admin, lambda r: (r["progress"]["objective"] or 0) >= 2)
    assert client.delete(url, headers=admin).status_code == 200
    run = wait_for(client, url, admin, lambda r: r["status"] in FINISHED)
    assert run["status"] == "cancelled" and run["has_plan"], run


def test_a_run_on_dask_outlives_the_server_that_queued_it(on_dask: Settings) -> None:
    # Servers share the cluster: stopping one must neither cancel nor fail its
    # runs; the worker finishes the run and any server shows the outcome.
    with TestClient(create_app(on_dask)) as first:
        keys = first.app.state.services.keys  # type: ignore[attr-defined]
        key = keys.create(
            ApiKeyCreate(name="admin", role="admin"), actor="tests", check_scope=False
        )
        admin = {"Authorization": f"Bearer {key.token}"}
        assert first.post("/v1/problem", json=tiny_problem(), headers=admin).status_code == 200
        run_id = _start(first, admin, engine="cpsat", time_limit=2)
        url = f"/v1/allocation-runs/{run_id}"
        wait_for(first, url, admin, lambda r: r["status"] == "running")
    with TestClient(create_app(on_dask)) as second:
        run = wait_for(second, url, admin, lambda r: r["status"] in FINISHED)
    assert run["status"] == "succeeded" and run["has_plan"], run
