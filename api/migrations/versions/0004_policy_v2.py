"""policy v2: the ledger of a case, block/spot money, crisis reserve and agency staff of
a unit, exceptional stay requests, offered bookings with their agency staff, and the
problem's policy and planned_on

Revision ID: 0004
Revises: 0003

Upgrade fills the new columns from the items' JSON bodies (a body stored by a v2 model
before this migration already holds them); a v1 body gets the spec's defaults.

Downgrade gives back what v1 reads: the columns go, the v2 fields are taken out of the
bodies, weights and plans (v1 models refuse unknown fields), and an offered booking,
which v1 does not know, is cancelled and lets go of its bed-nights and request part
(the offer is withdrawn; nothing a carer accepted is lost).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZERO = sa.text("0")

# Columns added, by table: (name, type, server default), each also a field of the item's
# body (``body``) where the table has one.
CASE_COLUMNS: list[tuple[str, Any, Any]] = [
    ("allowance_year_start", sa.Date(), None),
    ("sitting_hours_banked", sa.Float(), ZERO),
    ("sitting_hours_recent", sa.Float(), ZERO),
    ("contribution_per_night_pence", sa.BigInteger(), ZERO),
]
UNIT_COLUMNS: list[tuple[str, Any, Any]] = [
    ("block_cost_per_year_pence", sa.BigInteger(), ZERO),
    ("crisis_reserve_beds", sa.Integer(), ZERO),
    ("extra_night_staff_max", sa.Integer(), ZERO),
    ("extra_night_staff_cost_pence", sa.BigInteger(), ZERO),
]
REQUEST_COLUMNS: list[tuple[str, Any, Any]] = [
    ("exceptional", sa.Boolean(), sa.false()),
    ("exceptional_reason", sa.Text(), None),
]
TABLES = {
    "cases": ("case_id", CASE_COLUMNS),
    "units": ("unit_id", UNIT_COLUMNS),
    "requests": ("request_id", REQUEST_COLUMNS),
}
V2_WEIGHTS = ("break_bonus_units", "first_sitting_hours")


def upgrade() -> None:
    for table, (_, columns) in TABLES.items():
        for name, kind, default in columns:
            op.add_column(
                table, sa.Column(name, kind, nullable=default is None, server_default=default)
            )
    op.add_column(
        "bookings",
        sa.Column("extra_night_staff", sa.Integer(), nullable=False, server_default=ZERO),
    )
    op.add_column("planning", sa.Column("planned_on", sa.Date(), nullable=True))
    op.add_column(
        "planning", sa.Column("policy", JSON, nullable=False, server_default=sa.text("'{}'"))
    )
    for table, (key, columns) in TABLES.items():
        _fill_from_bodies(table, key, columns)


def downgrade() -> None:
    _withdraw_offers()
    for table, (key, columns) in TABLES.items():
        _strip_bodies(table, key, {name for name, _, _ in columns})
    _strip_weights_and_plans()
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+), not a batch table copy: copying
    # ``cases`` would drop a table that requests and bookings reference, which SQLite's
    # foreign keys (on for the service's connections) refuse once there are rows.
    op.drop_column("planning", "policy")
    op.drop_column("planning", "planned_on")
    op.drop_column("bookings", "extra_night_staff")
    for table, (_, columns) in TABLES.items():
        for name, _, _ in reversed(columns):
            op.drop_column(table, name)


# ---------------------------------------------------------------------------- data


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(column) for column in columns))


def _fill_from_bodies(table: str, key: str, columns: list[tuple[str, Any, Any]]) -> None:
    """Copy each new field a stored body already holds into its column."""
    bind = op.get_bind()
    rows = sa.table(
        table,
        sa.column(key),
        sa.column("body", JSON),
        *(sa.column(name, kind) for name, kind, _ in columns),
    )
    for item_id, body in bind.execute(sa.select(rows.c[key], rows.c.body)).all():
        values = {name: body[name] for name, _, _ in columns if (body or {}).get(name) is not None}
        if "allowance_year_start" in values:
            values["allowance_year_start"] = dt.date.fromisoformat(values["allowance_year_start"])
        if values:
            bind.execute(sa.update(rows).where(rows.c[key] == item_id).values(**values))


def _strip_bodies(table: str, key: str, fields: set[str]) -> None:
    """Take the v2 fields out of each stored body: a v1 model refuses unknown fields."""
    bind = op.get_bind()
    rows = sa.table(table, sa.column(key), sa.column("body", JSON))
    for item_id, body in bind.execute(sa.select(rows.c[key], rows.c.body)).all():
        if body and fields & set(body):
            kept = {name: value for name, value in body.items() if name not in fields}
            bind.execute(sa.update(rows).where(rows.c[key] == item_id).values(body=kept))


def _strip_weights_and_plans() -> None:
    bind = op.get_bind()
    planning = sa.table("planning", sa.column("planning_id"), sa.column("weights", JSON))
    for planning_id, weights in bind.execute(sa.select(planning)).all():
        kept = {name: value for name, value in (weights or {}).items() if name not in V2_WEIGHTS}
        bind.execute(
            sa.update(planning).where(planning.c.planning_id == planning_id).values(weights=kept)
        )
    runs = sa.table("allocation_runs", sa.column("run_id"), sa.column("plan", JSON))
    for run_id, plan in bind.execute(sa.select(runs).where(runs.c.plan.is_not(None))).all():
        bind.execute(sa.update(runs).where(runs.c.run_id == run_id).values(plan=_v1_plan(plan)))


def _v1_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """``plan`` as v1 wrote it: no agency staff, an alternative as its sentence alone."""
    plan = {name: value for name, value in plan.items() if name != "extra_staff"}
    plan["stays"] = [
        {name: value for name, value in stay.items() if name != "extra_night_staff"}
        for stay in plan.get("stays", [])
    ]
    unmet = []
    for item in plan.get("unmet", []):
        alternative = item.get("alternative")
        if isinstance(alternative, dict):
            item = {**item, "alternative": alternative.get("text")}
        unmet.append(item)
    plan["unmet"] = unmet
    return plan


def _withdraw_offers() -> None:
    bind = op.get_bind()
    bookings = _table("bookings", "booking_id", "status")
    offered = sa.select(bookings.c.booking_id).where(bookings.c.status == "offered")
    for claims in ("bed_nights", "served_parts"):
        held = _table(claims, "booking_id")
        bind.execute(sa.delete(held).where(held.c.booking_id.in_(offered)))
    bind.execute(
        sa.update(bookings).where(bookings.c.status == "offered").values(status="cancelled")
    )
