"""If-Match under races: the row is locked before its version is compared.

Two writers holding the same version send their change at the same moment,
again and again, on a file database (SQLite) and on PostgreSQL. Exactly one
may win; the other must get 412 (its version is stale once the winner has
committed), and whatever happened, every booking's bed-night and served-part
rows must agree with its status (a cancelled booking holds nothing).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_api_feeds import STAY as FEED_STAY
from test_api_feeds import VISIT as FEED_VISIT

from api.repositories import BookingRepository

ROUNDS = 6  # per pair of racers and database: bounded, and enough to lose a race often

# R-1's stay on bed 1 and R-4's first visit at 09:00 (the feed tests book them on bed 2
# and at 10:00: the races move them there).
STAY = FEED_STAY | {"bed_id": "B-N1-1"}
VISIT = FEED_VISIT | {"start": "09:00"}
# What each racer sends: (method, body); bodies are PATCH changes.
MOVE_BED = ("PATCH", {"bed_id": "B-N1-2"})
MOVE_NIGHT = ("PATCH", {"first_night": "2025-03-04"})
MOVE_VISIT = ("PATCH", {"start": "10:00"})
LATER_VISIT = ("PATCH", {"start": "11:00"})
CANCEL = ("DELETE", None)


def _race(client: TestClient, headers: dict[str, str], url: str, racers: list[Any]) -> list[int]:
    """Send every racer's request with ``If-Match: "1"`` at once; their statuses."""
    start = threading.Barrier(len(racers))
    stale = headers | {"If-Match": '"1"'}

    def send(racer: tuple[str, dict[str, Any] | None]) -> int:
        method, body = racer
        start.wait()
        return client.request(method, url, json=body, headers=stale).status_code

    with ThreadPoolExecutor(max_workers=len(racers)) as pool:
        return list(pool.map(send, racers))


def _agree(client: TestClient) -> None:
    db = client.app.state.database  # type: ignore[attr-defined]
    with db.read() as session:
        repo = BookingRepository(session)
        assert repo.disagreeing() == [] and repo.twice_held_bed_nights() == []


@pytest.mark.parametrize(
    ("booking", "racers"),
    [
        (STAY, [MOVE_BED, CANCEL]),  # the reported race: cancelled, bed still held
        (STAY, [MOVE_BED, MOVE_NIGHT]),  # the loser got 409 "clashes with itself"
        (VISIT, [MOVE_VISIT, CANCEL]),
        (VISIT, [MOVE_VISIT, LATER_VISIT]),
    ],
    ids=["stay-patch-delete", "stay-patch-patch", "visit-patch-delete", "visit-patch-patch"],
)
def test_one_writer_of_a_version_wins_the_other_gets_412(
    client: TestClient, admin: dict[str, str], loaded: Any, booking: Any, racers: Any
) -> None:
    for _ in range(ROUNDS):
        created = client.post("/v1/bookings", json=booking, headers=admin)
        assert created.status_code == 201, created.text
        url = created.headers["Location"]
        codes = _race(client, admin, url, racers)
        assert sorted(codes) == [200, 412], codes
        _agree(client)
        # Free the request for the next round, whoever won.
        current = client.get(url, headers=admin)
        if current.json()["status"] == "confirmed":
            again = {"If-Match": current.headers["ETag"]}
            assert client.delete(url, headers=admin | again).status_code == 200
        _agree(client)


def test_the_consistency_check_finds_a_cancelled_booking_that_holds_its_bed(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    # What the race used to leave behind: cancelled, with its bed-nights kept.
    url = client.post("/v1/bookings", json=STAY, headers=admin).headers["Location"]
    db = client.app.state.database  # type: ignore[attr-defined]
    with db.write() as session:
        row = BookingRepository(session).get(url.rsplit("/", 1)[1])
        assert row is not None
        row.status = "cancelled"
    with db.read() as session:
        assert BookingRepository(session).disagreeing() == [url.rsplit("/", 1)[1]]
