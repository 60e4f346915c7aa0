"""Bookings and their audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Response, status

from api.auth import Principal
from api.clock import as_utc
from api.errors import error_responses
from api.repositories.bookings import BookingFilter
from api.routes.catalogue import page_out
from api.routes.deps import EVERYONE, READERS, WRITERS, PagingDep, ServicesDep, allow
from api.schemas import AuditEntryOut, BookingChange, BookingCreate, BookingOut, Page

router = APIRouter(tags=["bookings"], responses=error_responses(401, 403, 422))
Anyone = Annotated[Principal, Depends(allow(*EVERYONE))]
Reader = Annotated[Principal, Depends(allow(*READERS))]
Writer = Annotated[Principal, Depends(allow(*WRITERS))]
IfMatch = Annotated[str | None, Header(description='The version read, from ETag: e.g. "3".')]


def _tagged(response: Response, booking: BookingOut) -> BookingOut:
    response.headers["ETag"] = f'"{booking.version}"'
    return booking


@router.get("/bookings", response_model=Page[BookingOut])
def list_bookings(
    services: ServicesDep,
    principal: Anyone,
    paging: PagingDep,
    status: Annotated[Literal["confirmed", "offered", "cancelled"] | None, Query()] = "confirmed",
    kind: Annotated[Literal["stay", "visit"] | None, Query()] = None,
    case_id: Annotated[str | None, Query()] = None,
    request_id: Annotated[str | None, Query()] = None,
    unit_id: Annotated[str | None, Query()] = None,
    provider_id: Annotated[str | None, Query()] = None,
    run_id: Annotated[str | None, Query(description="Published by this run.")] = None,
    on_or_after: Annotated[dt.date | None, Query(description="First night or day.")] = None,
    before: Annotated[dt.date | None, Query(description="First night or day.")] = None,
) -> Any:
    """Bookings; a provider key sees only its own."""
    where = BookingFilter(
        status, kind, case_id, request_id, unit_id, provider_id, run_id, on_or_after, before
    )
    page = services.bookings.list(principal, where, paging.limit, paging.offset)
    return page_out(BookingOut, page, paging)


@router.get("/bookings/{booking_id}", response_model=BookingOut, responses=error_responses(404))
def get_booking(
    services: ServicesDep, principal: Anyone, booking_id: str, response: Response
) -> BookingOut:
    """One booking; its version is in ``ETag``."""
    return _tagged(response, services.bookings.get(principal, booking_id))


@router.post(
    "/bookings",
    response_model=BookingOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(409, 422),
)
def create_booking(
    services: ServicesDep,
    principal: Writer,
    body: Annotated[BookingCreate, Body()],
    response: Response,
) -> BookingOut:
    """Book a bed or a visit by hand. It is checked against every hard rule: a
    broken rule is 422 naming it; bed-nights or a visit already booked are 409."""
    booking = services.bookings.create(principal, body)
    response.headers["Location"] = f"/v1/bookings/{booking.booking_id}"
    return _tagged(response, booking)


@router.patch(
    "/bookings/{booking_id}",
    response_model=BookingOut,
    responses=error_responses(404, 409, 412, 422, 428),
)
def change_booking(
    services: ServicesDep,
    principal: Writer,
    booking_id: str,
    change: BookingChange,
    response: Response,
    if_match: IfMatch = None,
) -> BookingOut:
    """Change a booking; ``If-Match`` must hold its current version (412 if stale)."""
    return _tagged(response, services.bookings.change(principal, booking_id, change, if_match))


@router.delete(
    "/bookings/{booking_id}",
    response_model=BookingOut,
    responses=error_responses(404, 409, 412),
)
def cancel_booking(
    services: ServicesDep,
    principal: Writer,
    booking_id: str,
    response: Response,
    if_match: IfMatch = None,
) -> BookingOut:
    """Cancel a booking and free its bed-nights or sitter time."""
    return _tagged(response, services.bookings.cancel(principal, booking_id, if_match))


@router.get("/audit", response_model=Page[AuditEntryOut], tags=["audit"])
def list_audit(
    services: ServicesDep,
    _: Reader,
    paging: PagingDep,
    entity: Annotated[str | None, Query(examples=["booking"])] = None,
    entity_id: Annotated[str | None, Query()] = None,
) -> Any:
    """Who changed what, when, with the item before and after."""
    page = services.bookings.audit(entity, entity_id, paging.limit, paging.offset)
    items = [item.model_copy(update={"at": as_utc(item.at)}) for item in page.items]
    return page_out(AuditEntryOut, type(page)(items, page.total), paging)
