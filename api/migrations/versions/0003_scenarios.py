"""what-if scenario jobs

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scenario_runs",
        sa.Column("scenario_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("summary", JSON, nullable=True),
        sa.Column("files", JSON, nullable=True),
        sa.PrimaryKeyConstraint("scenario_id", name=op.f("pk_scenario_runs")),
    )
    with op.batch_alter_table("scenario_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scenario_runs_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scenario_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenario_runs_status"))
    op.drop_table("scenario_runs")
