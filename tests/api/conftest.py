"""Fixtures for the API tests: each test runs against SQLite and PostgreSQL.

SQLite: a fresh file per test. PostgreSQL: one database with a random name per
test session on 127.0.0.1:5432, migrated once, emptied after each test and
dropped at the end. PostgreSQL tests are skipped (with the reason) only when
that server cannot be reached.
"""

from __future__ import annotations

import copy
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from api.db import upgrade
from api.schemas import ApiKeyCreate
from api.settings import Settings
from api.tables import Base

PG_SERVER = os.environ.get("RESPITE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
FAKE_ALLOCATOR = "fake_allocator:allocate"  # tests/api is on sys.path, also in spawned workers

MONDAY = "2025-03-03"


def tiny_problem() -> dict[str, Any]:
    """One unit with two beds, one sitting provider, four cases near the unit.

    Every plan the fake allocator makes for it keeps the hard rules: two night
    staff cover up to eight shared residents (H5), everyone lives within a
    few km (H7), the provider has two sitters 08:00-20:00 every day (H9).
    """
    home = {"lat": 53.10, "lon": -2.44}

    def case(case_id: str) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "locality_id": "L-N",
            "home": home,
            "age": 40,
            "sex": "female",
            "nights_allowance": 28,
            "sitting_hours_per_week": 6,
        }

    def stay(request_id: str, case_id: str, nights: int = 3) -> dict[str, Any]:
        return {
            "request_id": request_id,
            "case_id": case_id,
            "kind": "stay",
            "priority": "planned",
            "received": "2025-02-01",
            "nights": nights,
            "earliest_start": MONDAY,
            "latest_start": "2025-03-05",
            "max_travel_km": 50,
        }

    window = {"day": "2025-03-04", "start": "09:00", "end": "17:00"}
    return {
        "horizon": {"first_night": MONDAY, "last_night": "2025-03-09"},
        "week_start": MONDAY,
        "localities": [{"locality_id": "L-N", "name": "North"}],
        "cases": [case(f"C-{n}") for n in range(1, 7)],
        "units": [
            {
                "unit_id": "U-N1",
                "name": "Northgate House",
                "locality_id": "L-N",
                "location": {"lat": 53.11, "lon": -2.45},
                "beds": [{"bed_id": "B-N1-1"}, {"bed_id": "B-N1-2", "features": ["hoist"]}],
                "default_night_staff": 2,
                "night_staff": {"2025-03-08": 1},
                "cost_per_night_pence": 25000,
            }
        ],
        "providers": [
            {
                "provider_id": "P-1",
                "name": "Sunrise Sitting",
                "localities": ["L-N"],
                "base": {"lat": 53.10, "lon": -2.40},
                "max_travel_km": 30,
                "sitters": {
                    day: [{"start": "08:00", "end": "20:00", "count": 2}]
                    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                },
                "weekly_hours_cap": 100,
                "cost_per_hour_pence": 2200,
            }
        ],
        "requests": [
            stay("R-1", "C-1"),
            stay("R-2", "C-2"),
            stay("R-3", "C-3"),
            {
                "request_id": "R-4",
                "case_id": "C-4",
                "kind": "sitting",
                "priority": "health_appointment",
                "received": "2025-02-10",
                "visits": [
                    {"visit_id": "V1", "minutes": 120, "windows": [window]},
                    {"visit_id": "V2", "minutes": 60, "windows": [window | {"day": "2025-03-05"}]},
                ],
                "max_travel_km": 20,
            },
            stay("R-5", "C-5", nights=2),
            stay("R-6", "C-6", nights=2),
        ],
        "budgets": [{"budget_id": "BG-1", "limit_pence": 10_000_000, "applies_to": ["U-N1"]}],
    }


# ---------------------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this session; dropped afterwards."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"respite_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # only an unreachable server may skip these tests
        admin.dispose()
        pytest.skip(f"PostgreSQL at {PG_SERVER} is unreachable: {type(exc).__name__}: {exc}")
    url = f"{PG_SERVER}/{name}"
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """Each test once on a fresh SQLite file and once on the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'respite.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    _empty_postgres(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        dask_scheduler=None,
        allocator=FAKE_ALLOCATOR,
        workers=2,
        heartbeat_seconds=0.1,
        progress_seconds=0.0,
        stale_after_seconds=30,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


# ---------------------------------------------------------------------------- keys


KeyMaker = Callable[..., dict[str, str]]


@pytest.fixture
def key_for(client: TestClient) -> KeyMaker:
    """``key_for("broker")`` -> the Authorization header of a fresh key with that role."""

    def make(role: str, **scope: str) -> dict[str, str]:
        keys = client.app.state.services.keys  # type: ignore[attr-defined]
        body = ApiKeyCreate(name=f"test {role}", role=role, **scope)  # type: ignore[arg-type]
        created = keys.create(body, actor="tests", check_scope=False)
        return {"Authorization": f"Bearer {created.token}"}

    return make


@pytest.fixture
def admin(key_for: KeyMaker) -> dict[str, str]:
    return key_for("admin")


@pytest.fixture
def loaded(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    """The tiny problem, imported; returns it."""
    problem = tiny_problem()
    response = client.post("/v1/problem", json=problem, headers=admin)
    assert response.status_code == 200, response.text
    return copy.deepcopy(problem)


def wait_for(
    client: TestClient,
    url: str,
    headers: dict[str, str],
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Poll ``url`` until ``done(body)``; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(url, headers=headers).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, f"timed out waiting on {url}: {body}"
        time.sleep(0.05)
