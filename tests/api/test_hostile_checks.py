"""The hostile benchmark's own checks (the benchmark itself is run by hand)."""

from __future__ import annotations

import argparse
import io
import zipfile
from typing import Any

from fastapi.testclient import TestClient
from test_booking_races import STAY

from api.repositories import BookingRepository
from benchmarks.hostile import Report, checks_of, database_checks, p95, zip_bomb


def test_the_database_check_finds_a_cancelled_booking_holding_its_bed(
    client: TestClient, admin: dict[str, str], loaded: Any, database_url: str
) -> None:
    url = client.post("/v1/bookings", json=STAY, headers=admin).headers["Location"]
    assert database_checks(database_url) == (0, 0)
    db = client.app.state.database  # type: ignore[attr-defined]
    with db.write() as session:
        row = BookingRepository(session).get(url.rsplit("/", 1)[1])
        assert row is not None
        row.status = "cancelled"  # what the If-Match race left behind
    assert database_checks(database_url) == (0, 1)


def test_every_check_passes_on_a_clean_report_and_each_fails_alone() -> None:
    args = argparse.Namespace(memory_mb=1000)
    clean = Report(memory_mb=500, healthz_ms=[5.0] * 40, twice_held=0, disagreeing=0)
    assert all(ok for _, _, ok in checks_of(args, clean))
    for bad in (
        Report(memory_mb=1500, healthz_ms=[5.0], twice_held=0, disagreeing=0),
        Report(memory_mb=500, healthz_ms=[5.0] * 10 + [500.0] * 2, twice_held=0, disagreeing=0),
        Report(memory_mb=500, server_errors=["x: 500"], twice_held=0, disagreeing=0),
        Report(memory_mb=500, both_won=1, twice_held=0, disagreeing=0),
        Report(memory_mb=500, leaked_tokens=1, twice_held=0, disagreeing=0),
        Report(memory_mb=500, twice_held=1, disagreeing=0),
        Report(memory_mb=500, twice_held=0, disagreeing=1),
    ):
        assert [ok for _, _, ok in checks_of(args, bad)].count(False) == 1, bad


def test_p95_and_the_zip_bomb() -> None:
    assert p95([]) == 0.0 and p95([7.0]) == 7.0
    assert p95([float(n) for n in range(1, 101)]) >= 95.0
    bomb = zip_bomb(4)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        (member,) = archive.infolist()
    assert member.file_size >= 4_000_000 and len(bomb) < 64 * 1024  # whole rows: a bit under 4 MiB
