"""Only a succeeded run is published; its status is read under the run's lock.

Issue 20, item 8: a run marked failed after its worker was orphaned kept the
plan it had found, and publishing it confirmed 2,697 bookings.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_api_bookings import _solved_run

from api.tables import RunRow


def _store(client: TestClient, run_id: str, status: str, reason: str | None = None) -> None:
    row = _solved_run(run_id, "R-1", "2025-03-03", 3)
    row.status, row.reason = status, reason
    with client.app.state.database.write() as session:  # type: ignore[attr-defined]
        session.add(row)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        # the worker's server died: the run was failed, with the best plan found kept
        ("failed", "the server that queued this run stopped"),
        # a broker stopped it: the plan is kept to read, not to confirm
        ("cancelled", "cancelled; the best plan found is kept"),
        # still solving: the plan there is an incumbent, not an answer
        ("running", None),
    ],
)
def test_a_run_that_did_not_succeed_is_not_published(
    client: TestClient, admin: dict[str, str], loaded: Any, status: str, reason: str | None
) -> None:
    _store(client, "run-unfinished", status, reason)
    response = client.post("/v1/allocation-runs/run-unfinished/publish", headers=admin)
    assert response.status_code == 409, response.text
    assert f"is {status}" in response.json()["detail"]
    bookings = client.get("/v1/bookings", headers=admin).json()
    assert bookings["pagination"]["total"] == 0


def test_a_succeeded_run_is_published(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    _store(client, "run-done", "succeeded")
    response = client.post("/v1/allocation-runs/run-done/publish", headers=admin)
    assert response.status_code == 200, response.text
    assert len(response.json()["booking_ids"]) == 1


def test_a_run_failed_while_the_publish_waits_is_not_published(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    # A writer holds the run (PostgreSQL: its row; SQLite: the database) and marks
    # it failed. The publish started meanwhile must wait for it and then see
    # "failed": a status read before the lock would have let it through.
    _store(client, "run-raced", "succeeded")
    answers: list[Any] = []
    publisher = threading.Thread(
        target=lambda: answers.append(
            client.post("/v1/allocation-runs/run-raced/publish", headers=admin)
        )
    )
    with client.app.state.database.write() as session:  # type: ignore[attr-defined]
        row = session.get(RunRow, "run-raced")
        assert row is not None
        row.status, row.reason = "failed", "no word from the worker for 30 s; it has stopped"
        session.flush()
        publisher.start()
        time.sleep(1.0)
        assert publisher.is_alive()  # waiting for the lock
    publisher.join(timeout=30)
    assert answers and answers[0].status_code == 409, answers and answers[0].text
    assert "is failed" in answers[0].json()["detail"]
