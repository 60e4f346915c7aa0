"""SQLAlchemy tables. Request and response shapes live apart, in ``schemas``.

Planning data (cases, units, providers, requests, budgets) keeps the domain
item whole in a JSON ``body``; the columns beside it are the ones filtered,
joined or constrained on. Beds and the night-staff calendar are rows, so that
bookings can point at a bed and a calendar day can be changed alone.

No double booking is enforced by the database itself: ``bed_nights`` has
``UNIQUE (bed_id, night)`` and ``served_parts`` has ``UNIQUE (request_id, part)``
(a stay request is served once, each visit once).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

__all__ = [
    "ApiKeyRow",
    "AuditRow",
    "Base",
    "BedNightRow",
    "BedRow",
    "BookingRow",
    "BudgetRow",
    "CaseRow",
    "FeedTokenRow",
    "LocalityRow",
    "NightStaffRow",
    "PlanningRow",
    "ProviderRow",
    "RequestRow",
    "RunRow",
    "ScenarioRow",
    "ServedPartRow",
    "UnitRow",
]

Json = JSON().with_variant(JSONB(), "postgresql")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: Json, list[Any]: Json}


class PlanningRow(Base):
    """The one row of problem-wide settings: horizon, week_start, planned_on, policy,
    weights."""

    __tablename__ = "planning"
    planning_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_night: Mapped[dt.date] = mapped_column(Date)
    last_night: Mapped[dt.date] = mapped_column(Date)
    week_start: Mapped[dt.date] = mapped_column(Date)
    planned_on: Mapped[dt.date | None] = mapped_column(Date)  # None: the horizon's first night
    policy: Mapped[dict[str, Any]] = mapped_column(  # {}: every default
        Json, default=dict, server_default=text("'{}'")
    )
    weights: Mapped[dict[str, Any]]


class LocalityRow(Base):
    __tablename__ = "localities"
    locality_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class CaseRow(Base):
    __tablename__ = "cases"
    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    locality_id: Mapped[str] = mapped_column(ForeignKey("localities.locality_id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The ledger a case carries between runs (H8), beside the whole case in ``body``.
    allowance_year_start: Mapped[dt.date | None] = mapped_column(Date)
    sitting_hours_banked: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    sitting_hours_recent: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    contribution_per_night_pence: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0"
    )
    body: Mapped[dict[str, Any]]


class UnitRow(Base):
    __tablename__ = "units"
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    locality_id: Mapped[str] = mapped_column(ForeignKey("localities.locality_id"), index=True)
    spot: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Money and capacity beyond the beds and rota (H5 agency staff, H12, H13); pence are
    # BIGINT: a year's block contract passes PostgreSQL's 32-bit integer (GBP 21m).
    block_cost_per_year_pence: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0"
    )
    crisis_reserve_beds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    extra_night_staff_max: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    extra_night_staff_cost_pence: Mapped[int] = mapped_column(
        BigInteger, default=0, server_default="0"
    )
    body: Mapped[dict[str, Any]]  # the unit without beds and night_staff


class BedRow(Base):
    __tablename__ = "beds"
    bed_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(
        ForeignKey("units.unit_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    features: Mapped[list[Any]]


class NightStaffRow(Base):
    """A night on which a unit has other than its default night staff."""

    __tablename__ = "unit_night_staff"
    unit_id: Mapped[str] = mapped_column(
        ForeignKey("units.unit_id", ondelete="CASCADE"), primary_key=True
    )
    night: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    staff: Mapped[int] = mapped_column(Integer)


class ProviderRow(Base):
    __tablename__ = "providers"
    provider_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[dict[str, Any]]  # the whole provider, sitter rota included


class RequestRow(Base):
    __tablename__ = "requests"
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(32))
    received: Mapped[dt.date] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A manager's approval of a spot bed (H12b): stays only; false for sitting.
    exceptional: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    exceptional_reason: Mapped[str | None] = mapped_column(Text)
    body: Mapped[dict[str, Any]]


class BudgetRow(Base):
    __tablename__ = "budgets"
    budget_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[dict[str, Any]]


class BookingRow(Base):
    """A stay or sitting visit: confirmed, offered (made to the carer, not yet answered;
    it holds its capacity as a confirmed one does) or cancelled."""

    __tablename__ = "bookings"
    booking_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "stay" | "visit"
    # "confirmed" | "offered" | "cancelled"
    status: Mapped[str] = mapped_column(String(16), default="confirmed", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.request_id"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.unit_id"), index=True)
    bed_id: Mapped[str | None] = mapped_column(ForeignKey("beds.bed_id"))
    first_night: Mapped[dt.date | None] = mapped_column(Date)
    nights: Mapped[int | None] = mapped_column(Integer)
    # Agency night staff the stay was booked with, each of its nights (H5).
    extra_night_staff: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    visit_id: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(ForeignKey("providers.provider_id"), index=True)
    day: Mapped[dt.date | None] = mapped_column(Date)
    start: Mapped[str | None] = mapped_column(String(5))
    minutes: Mapped[int | None] = mapped_column(Integer)
    sitters: Mapped[int | None] = mapped_column(Integer)
    run_id: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class BedNightRow(Base):
    """One bed held for one night by a confirmed or offered stay: the database's guard
    against H1."""

    __tablename__ = "bed_nights"
    __table_args__ = (UniqueConstraint("bed_id", "night", name="uq_bed_nights_bed_night"),)
    bed_night_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bed_id: Mapped[str] = mapped_column(ForeignKey("beds.bed_id"))
    night: Mapped[dt.date] = mapped_column(Date)
    booking_id: Mapped[str] = mapped_column(
        ForeignKey("bookings.booking_id", ondelete="CASCADE"), index=True
    )


class ServedPartRow(Base):
    """A stay request, or one visit of a sitting request, that a confirmed or offered
    booking serves."""

    __tablename__ = "served_parts"
    __table_args__ = (UniqueConstraint("request_id", "part", name="uq_served_parts_request_part"),)
    served_part_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("requests.request_id"))
    part: Mapped[str] = mapped_column(String(64))  # "stay" or the visit_id
    booking_id: Mapped[str] = mapped_column(
        ForeignKey("bookings.booking_id", ondelete="CASCADE"), index=True
    )


class RunRow(Base):
    """An allocation run: a job whose state and progress the worker keeps current."""

    __tablename__ = "allocation_runs"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    week_start: Mapped[dt.date] = mapped_column(Date)
    first_night: Mapped[dt.date] = mapped_column(Date)
    last_night: Mapped[dt.date] = mapped_column(Date)
    engine: Mapped[str] = mapped_column(String(16))
    time_limit: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    owner: Mapped[str] = mapped_column(String(100))  # the server that queued it
    worker: Mapped[str | None] = mapped_column(String(100))  # "host:pid" solving it
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    objective: Mapped[float | None] = mapped_column(Float)
    bound: Mapped[float | None] = mapped_column(Float)
    gap: Mapped[float | None] = mapped_column(Float)
    elapsed: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[str | None] = mapped_column(String(100))
    solver_status: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    # Deferred: a county plan is megabytes of JSON, read only when the plan is asked
    # for; lists and status polls read ``has_plan`` instead.
    plan: Mapped[dict[str, Any] | None] = mapped_column(Json, deferred=True)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    has_plan: Mapped[bool] = column_property(plan.column.is_not(None))  # type: ignore[attr-defined]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Who changed what, when, and the item before and after."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity", "entity_id"),)
    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(Json)
    after: Mapped[dict[str, Any] | None] = mapped_column(Json)


class FeedTokenRow(Base):
    """The hash of a provider's or unit's calendar-feed token (the token itself is never kept)."""

    __tablename__ = "feed_tokens"
    owner_kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "provider" | "unit"
    owner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ScenarioRow(Base):
    """A what-if scenario job: its file, progress, and results (charts as base64 PNG)."""

    __tablename__ = "scenario_runs"
    scenario_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    owner: Mapped[str] = mapped_column(String(100))  # the server whose thread runs it
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[dict[str, Any] | None] = mapped_column(Json)
    files: Mapped[dict[str, Any] | None] = mapped_column(Json)
