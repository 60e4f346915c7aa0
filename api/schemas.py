"""Request and response bodies (tables live apart, in ``tables``).

Planning items (cases, units, providers, requests) travel as the domain
models of ``scheduler.model``, so the API and the problem file agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.auth import Role
from scheduler.model import (
    MAX_COUNT,
    MAX_SEED,
    MAX_TIME_LIMIT,
    Clock,
    Count,
    Day,
    Horizon,
    Id,
    Minutes,
    Name,
    Nights,
    Pence,
    Provider,
    Shift,
    Unit,
)

T = TypeVar("T")

__all__ = [
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyOut",
    "AuditEntryOut",
    "BookingChange",
    "BookingCreate",
    "BookingOut",
    "CapacityWarning",
    "FeedTokenOut",
    "Health",
    "ImportResult",
    "NightStaffIn",
    "Page",
    "Pagination",
    "ProviderChanged",
    "PublishResult",
    "RotaIn",
    "RunCreate",
    "RunOut",
    "RunProgress",
    "ScenarioOut",
    "SpreadsheetCheck",
    "StayBookingIn",
    "UnitChanged",
    "UnitTermsIn",
    "VisitBookingIn",
]

Engine = Literal["cpsat", "greedy"]
BookingStatus = Literal["confirmed", "offered", "cancelled"]
RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pagination(BaseModel):
    total: int = Field(description="Items matching the filters, on every page.")
    limit: int
    offset: int


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    pagination: Pagination


class RunCreate(_Body):
    """Start an allocation run. Omitted dates default to the imported problem's."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "week_start": "2025-03-03",
                    "horizon": {"first_night": "2025-03-03", "last_night": "2025-03-30"},
                    "engine": "cpsat",
                    "time_limit": 30,
                }
            ]
        },
    )

    week_start: Day | None = None
    horizon: Horizon | None = None
    engine: Engine = "cpsat"
    time_limit: float = Field(default=10.0, gt=0, le=MAX_TIME_LIMIT, description="Seconds.")
    seed: int = Field(default=0, ge=0, le=MAX_SEED)


class RunProgress(BaseModel):
    """The best plan so far: its objective, the proven bound and the gap between."""

    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    elapsed: float | None = Field(default=None, description="Seconds since the solve began.")
    stage: str | None = None


class RunOut(BaseModel):
    run_id: str
    status: RunStatus
    week_start: dt.date
    horizon: Horizon
    engine: str
    time_limit: float
    seed: int
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    progress: RunProgress
    solver_status: str | None = Field(description="The engine's own status, e.g. optimal.")
    reason: str | None = Field(description="Why the run failed or was cancelled.")
    cancel_requested: bool
    published_at: dt.datetime | None
    has_plan: bool


class PublishResult(BaseModel):
    run_id: str
    booking_ids: list[str] = Field(description="The bookings this publish confirmed.")
    already_booked: int = Field(description="Plan items that were confirmed bookings already.")


class StayBookingIn(_Body):
    """Book a bed by hand for a stay request."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "stay",
                    "request_id": "R-0001",
                    "bed_id": "B-N1-1",
                    "first_night": "2025-03-03",
                    "nights": 3,
                }
            ]
        },
    )

    kind: Literal["stay"] = "stay"
    request_id: Id
    bed_id: Id
    first_night: Day
    nights: Nights


class VisitBookingIn(_Body):
    """Book one visit of a sitting request by hand."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "visit",
                    "request_id": "R-0002",
                    "visit_id": "V1",
                    "provider_id": "P-1",
                    "day": "2025-03-04",
                    "start": "10:00",
                }
            ]
        },
    )

    kind: Literal["visit"] = "visit"
    request_id: Id
    visit_id: Id
    provider_id: Id
    day: Day
    start: Clock
    minutes: Minutes | None = Field(default=None, description="Defaults to the visit's.")
    sitters: Literal[1, 2] | None = Field(default=None, description="Defaults to the request's.")


BookingCreate = Annotated[StayBookingIn | VisitBookingIn, Field(discriminator="kind")]


class BookingChange(_Body):
    """Fields to change; the others stay. Send the version you read in ``If-Match``."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"first_night": "2025-03-04"}]}
    )

    bed_id: Id | None = None
    first_night: Day | None = None
    nights: Nights | None = None
    provider_id: Id | None = None
    day: Day | None = None
    start: Clock | None = None
    minutes: Minutes | None = None
    sitters: Literal[1, 2] | None = None


class BookingOut(BaseModel):
    booking_id: str
    kind: Literal["stay", "visit"]
    status: BookingStatus = Field(
        description="An offered booking (made to the carer, not yet answered) holds its "
        "capacity as a confirmed one does."
    )
    version: int
    request_id: str
    case_id: str
    unit_id: str | None = None
    bed_id: str | None = None
    first_night: dt.date | None = None
    nights: int | None = None
    extra_night_staff: int | None = Field(
        default=None, description="Stays: agency night staff booked with it, each night."
    )
    visit_id: str | None = None
    provider_id: str | None = None
    day: dt.date | None = None
    start: str | None = None
    minutes: int | None = None
    sitters: int | None = None
    run_id: str | None = None
    created_at: dt.datetime
    updated_at: dt.datetime


class ImportResult(BaseModel):
    """How many items of each kind the import stored."""

    localities: int
    cases: int
    units: int
    beds: int
    providers: int
    requests: int
    bookings: int
    budgets: int


class NightStaffIn(_Body):
    staff: int | None = Field(
        ge=0, le=MAX_COUNT, description="Staff on duty; null restores the default."
    )


class UnitTermsIn(_Body):
    """A unit's terms to change (policy v2); those left out stay. Validated as a unit
    in a problem file is: pence at most 10^12, a crisis reserve within the block beds,
    no block contract or reserve on a spot unit."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"crisis_reserve_beds": 1, "extra_night_staff_max": 1}]},
    )

    block_cost_per_year_pence: Pence | None = None
    crisis_reserve_beds: Count | None = None
    extra_night_staff_max: Count | None = None
    extra_night_staff_cost_pence: Pence | None = None


class RotaIn(_Body):
    """A provider's sitter rota: weekday ("mon".."sun") -> working stretches."""

    sitters: dict[str, list[Shift]]


class ApiKeyCreate(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Sunrise sitting agency", "role": "provider", "provider_id": "P-1"}
            ]
        },
    )

    name: Name
    role: Role
    provider_id: Id | None = None
    unit_id: Id | None = None

    @model_validator(mode="after")
    def _scoped_if_provider(self) -> ApiKeyCreate:
        scopes = (self.provider_id is not None) + (self.unit_id is not None)
        if self.role == "provider" and scopes != 1:
            raise ValueError("a provider key needs exactly one of provider_id or unit_id")
        if self.role != "provider" and scopes:
            raise ValueError("only provider keys are scoped to a provider_id or unit_id")
        return self


class ApiKeyOut(BaseModel):
    key_id: str
    name: str
    role: Role
    provider_id: str | None
    unit_id: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    token: str = Field(description="Shown once; send it as 'Authorization: Bearer <token>'.")


class ScenarioOut(BaseModel):
    """A what-if scenario job: progress while it runs, the comparison when it is done."""

    scenario_id: str
    name: str
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    done: int = Field(description="(variant, replication) tasks finished")
    total: int
    reason: str | None = None
    summary: dict[str, Any] | None = Field(
        default=None, description="Per variant: each KPI's mean and 95% confidence half-width."
    )
    charts: list[str] = Field(default_factory=list, description="Names for .../charts/{name}.")


class SpreadsheetCheck(BaseModel):
    """A dry run's answer: the spreadsheet would import."""

    ok: bool
    cases: int
    requests: int


class FeedTokenOut(BaseModel):
    token: str = Field(description="Shown once; at least 32 random bytes, URL-safe.")
    url: str = Field(description="The feed's address to subscribe to in a calendar client.")


class CapacityWarning(BaseModel):
    """A confirmed booking that a change of capacity leaves breaking a hard rule."""

    booking_id: str
    rule: str = Field(examples=["H5"], description="The hard rule broken (H1..H12).")
    detail: str = Field(
        examples=["unit U-N1 night 2025-03-08 needs 2 staff, has 1"],
        description="The checker's sentence, naming the items, the date and the numbers.",
    )


class UnitChanged(Unit):
    """The unit as changed, and the confirmed bookings the change leaves breaking a rule."""

    warnings: list[CapacityWarning] = Field(default_factory=list)


class ProviderChanged(Provider):
    """The provider as changed, and the confirmed visits left breaking a rule."""

    warnings: list[CapacityWarning] = Field(default_factory=list)


class AuditEntryOut(BaseModel):
    audit_id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    database: str | None = None
