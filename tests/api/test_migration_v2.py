"""Migration 0004 (policy v2), up and down, on SQLite and on a PostgreSQL database of
its own (the session's shared one stays at head for the other tests).

Up: the new columns exist with the spec's defaults, and a body a v2 model stored
before the migration has its fields copied into them. Down: v1 can read what is left
(no v2 fields in bodies, weights or plans) and an offered booking, unknown to v1, is
cancelled and lets go of its bed-nights.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import PG_SERVER
from sqlalchemy import Engine, create_engine, inspect, text

from api.db import downgrade, upgrade
from api.tables import Base

NOW = "2025-03-01 09:00:00+00:00"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """An empty database: a SQLite file, or a PostgreSQL database made for this test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    name = f"respite_migrate_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # only an unreachable server may skip these tests
        admin.dispose()
        pytest.skip(f"PostgreSQL at {PG_SERVER} is unreachable: {type(exc).__name__}: {exc}")
    yield f"{PG_SERVER}/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def _json(engine: Engine, value: str) -> str:
    return f"CAST({value} AS JSONB)" if engine.dialect.name == "postgresql" else value


def _v1_rows(engine: Engine) -> None:
    """Planning data as 0003 held it; case C-1's body was written by a v2 model."""
    case = json.dumps(
        {"case_id": "C-1", "sitting_hours_banked": 4.5, "allowance_year_start": "2024-07-01"}
    )
    case = f"'{case}'"
    empty, no_features = _json(engine, "'{}'"), _json(engine, "'[]'")
    weights = _json(engine, """'{"need_base": 100}'""")
    statements = [
        "INSERT INTO localities (locality_id, name, position) VALUES ('L', 'North', 0)",
        "INSERT INTO cases (case_id, locality_id, position, body) "
        f"VALUES ('C-1', 'L', 0, {_json(engine, case)})",
        "INSERT INTO units (unit_id, locality_id, spot, position, body) "
        f"VALUES ('U-1', 'L', false, 0, {empty})",
        "INSERT INTO beds (bed_id, unit_id, position, features) "
        f"VALUES ('B-1', 'U-1', 0, {no_features})",
        "INSERT INTO requests (request_id, case_id, kind, priority, received, position, body) "
        f"VALUES ('R-1', 'C-1', 'stay', 'planned', '2025-02-01', 0, {empty})",
        "INSERT INTO planning (planning_id, first_night, last_night, week_start, weights) "
        f"VALUES (1, '2025-03-03', '2025-03-09', '2025-03-03', {weights})",
    ]
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def _offer(engine: Engine) -> None:
    """An offered stay holding B-1 on 3 March, with one agency night staff member."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO bookings (booking_id, kind, status, version, request_id, case_id,"
                " unit_id, bed_id, first_night, nights, extra_night_staff, position,"
                " created_at, updated_at) VALUES ('B-O', 'stay', 'offered', 1, 'R-1', 'C-1',"
                f" 'U-1', 'B-1', '2025-03-03', 1, 1, 0, '{NOW}', '{NOW}')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO bed_nights (bed_id, night, booking_id) "
                "VALUES ('B-1', '2025-03-03', 'B-O')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO served_parts (request_id, part, booking_id)"
                " VALUES ('R-1', 'stay', 'B-O')"
            )
        )
        weights = _json(engine, """'{"need_base": 100, "break_bonus_units": 90}'""")
        connection.execute(text(f"UPDATE planning SET weights = {weights}"))


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def test_0004_up_fills_the_new_columns_and_down_gives_back_what_v1_reads(
    fresh_url: str,
) -> None:
    upgrade(fresh_url, "0003")
    engine = create_engine(fresh_url)
    try:
        _v1_rows(engine)
        upgrade(fresh_url, "0004")
        assert {"allowance_year_start", "sitting_hours_banked"} <= _columns(engine, "cases")
        assert "crisis_reserve_beds" in _columns(engine, "units")
        assert {"exceptional", "exceptional_reason"} <= _columns(engine, "requests")
        assert "extra_night_staff" in _columns(engine, "bookings")
        assert {"policy", "planned_on"} <= _columns(engine, "planning")
        with engine.connect() as connection:
            case = connection.execute(
                text(
                    "SELECT allowance_year_start, sitting_hours_banked, sitting_hours_recent"
                    " FROM cases"
                )
            ).one()
            unit = connection.execute(
                text("SELECT crisis_reserve_beds, block_cost_per_year_pence FROM units")
            ).one()
            request = connection.execute(text("SELECT exceptional FROM requests")).one()
            planning = connection.execute(text("SELECT policy, planned_on FROM planning")).one()
        # C-1's body held two v2 fields: copied; the rest take the spec's defaults.
        assert (_date(case[0]), case[1], case[2]) == (dt.date(2024, 7, 1), 4.5, 0)
        assert tuple(unit) == (0, 0)
        assert bool(request[0]) is False
        assert (_loaded(planning[0]), planning[1]) == ({}, None)

        _offer(engine)
        downgrade(fresh_url, "0003")
        assert "sitting_hours_banked" not in _columns(engine, "cases")
        assert "extra_night_staff" not in _columns(engine, "bookings")
        assert "policy" not in _columns(engine, "planning")
        with engine.connect() as connection:
            status = connection.execute(text("SELECT status FROM bookings")).scalar_one()
            held = connection.execute(text("SELECT count(*) FROM bed_nights")).scalar_one()
            parts = connection.execute(text("SELECT count(*) FROM served_parts")).scalar_one()
            body = connection.execute(text("SELECT body FROM cases")).scalar_one()
            weights = connection.execute(text("SELECT weights FROM planning")).scalar_one()
        assert (status, held, parts) == ("cancelled", 0, 0)
        assert _loaded(body) == {"case_id": "C-1"}
        assert _loaded(weights) == {"need_base": 100}
        upgrade(fresh_url)  # and up again
        assert "extra_night_staff" in _columns(engine, "bookings")
    finally:
        engine.dispose()


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _loaded(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def test_the_migrated_schema_is_the_tables(fresh_url: str) -> None:
    # Every column the tables declare (the v2 ones included, with their types) is made
    # by the migrations, and no other: what alembic would autogenerate next is nothing.
    upgrade(fresh_url)
    engine = create_engine(fresh_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()
