"""planning data, bookings, runs, keys and audit

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocation_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("first_night", sa.Date(), nullable=False),
        sa.Column("last_night", sa.Date(), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("time_limit", sa.Float(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("worker", sa.String(length=100), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("bound", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("elapsed", sa.Float(), nullable=True),
        sa.Column("stage", sa.String(length=100), nullable=True),
        sa.Column("solver_status", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("plan", JSON, nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_allocation_runs")),
    )
    with op.batch_alter_table("allocation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_runs_status"), ["status"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("unit_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_keys_token_sha256")),
    )
    op.create_table(
        "audit_entries",
        sa.Column("audit_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("before", JSON, nullable=True),
        sa.Column("after", JSON, nullable=True),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_entries")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entries_entity", ["entity", "entity_id"], unique=False)

    op.create_table(
        "budgets",
        sa.Column("budget_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.PrimaryKeyConstraint("budget_id", name=op.f("pk_budgets")),
    )
    op.create_table(
        "localities",
        sa.Column("locality_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("locality_id", name=op.f("pk_localities")),
    )
    op.create_table(
        "planning",
        sa.Column("planning_id", sa.Integer(), nullable=False),
        sa.Column("first_night", sa.Date(), nullable=False),
        sa.Column("last_night", sa.Date(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("weights", JSON, nullable=False),
        sa.PrimaryKeyConstraint("planning_id", name=op.f("pk_planning")),
    )
    op.create_table(
        "providers",
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_providers")),
    )
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("locality_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["locality_id"],
            ["localities.locality_id"],
            name=op.f("fk_cases_locality_id_localities"),
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_locality_id"), ["locality_id"], unique=False)

    op.create_table(
        "units",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("locality_id", sa.String(length=64), nullable=False),
        sa.Column("spot", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["locality_id"],
            ["localities.locality_id"],
            name=op.f("fk_units_locality_id_localities"),
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_units")),
    )
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_units_locality_id"), ["locality_id"], unique=False)

    op.create_table(
        "beds",
        sa.Column("bed_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("features", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.unit_id"], name=op.f("fk_beds_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("bed_id", name=op.f("pk_beds")),
    )
    with op.batch_alter_table("beds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_beds_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=32), nullable=False),
        sa.Column("received", sa.Date(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_requests_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_requests")),
    )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_requests_case_id"), ["case_id"], unique=False)

    op.create_table(
        "unit_night_staff",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("staff", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.unit_id"],
            name=op.f("fk_unit_night_staff_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", "night", name=op.f("pk_unit_night_staff")),
    )
    op.create_table(
        "bookings",
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=True),
        sa.Column("bed_id", sa.String(length=64), nullable=True),
        sa.Column("first_night", sa.Date(), nullable=True),
        sa.Column("nights", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.String(length=64), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("start", sa.String(length=5), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("sitters", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bed_id"], ["beds.bed_id"], name=op.f("fk_bookings_bed_id_beds")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.case_id"], name=op.f("fk_bookings_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.provider_id"],
            name=op.f("fk_bookings_provider_id_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.request_id"], name=op.f("fk_bookings_request_id_requests")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.unit_id"], name=op.f("fk_bookings_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("booking_id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_request_id"), ["request_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "bed_nights",
        sa.Column("bed_night_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bed_id", sa.String(length=64), nullable=False),
        sa.Column("night", sa.Date(), nullable=False),
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["bed_id"], ["beds.bed_id"], name=op.f("fk_bed_nights_bed_id_beds")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.booking_id"],
            name=op.f("fk_bed_nights_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bed_night_id", name=op.f("pk_bed_nights")),
        sa.UniqueConstraint("bed_id", "night", name="uq_bed_nights_bed_night"),
    )
    with op.batch_alter_table("bed_nights", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bed_nights_booking_id"), ["booking_id"], unique=False)

    op.create_table(
        "served_parts",
        sa.Column("served_part_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("part", sa.String(length=64), nullable=False),
        sa.Column("booking_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.booking_id"],
            name=op.f("fk_served_parts_booking_id_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.request_id"],
            name=op.f("fk_served_parts_request_id_requests"),
        ),
        sa.PrimaryKeyConstraint("served_part_id", name=op.f("pk_served_parts")),
        sa.UniqueConstraint("request_id", "part", name="uq_served_parts_request_part"),
    )
    with op.batch_alter_table("served_parts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_served_parts_booking_id"), ["booking_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("served_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_served_parts_booking_id"))

    op.drop_table("served_parts")
    with op.batch_alter_table("bed_nights", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bed_nights_booking_id"))

    op.drop_table("bed_nights")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_unit_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_status"))
        batch_op.drop_index(batch_op.f("ix_bookings_request_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_provider_id"))
        batch_op.drop_index(batch_op.f("ix_bookings_case_id"))

    op.drop_table("bookings")
    op.drop_table("unit_night_staff")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_case_id"))

    op.drop_table("requests")
    with op.batch_alter_table("beds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_beds_unit_id"))

    op.drop_table("beds")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_units_locality_id"))

    op.drop_table("units")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_locality_id"))

    op.drop_table("cases")
    op.drop_table("providers")
    op.drop_table("planning")
    op.drop_table("localities")
    op.drop_table("budgets")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entries_entity")

    op.drop_table("audit_entries")
    op.drop_table("api_keys")
    with op.batch_alter_table("allocation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_runs_status"))

    op.drop_table("allocation_runs")
