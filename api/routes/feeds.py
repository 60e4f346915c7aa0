"""Provider and unit calendar feeds (iCalendar), and their tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from api.auth import Principal
from api.errors import error_responses
from api.routes.deps import WRITERS, ServicesDep, allow
from api.schemas import FeedTokenOut
from api.services.feeds import Feed, OwnerKind

router = APIRouter(tags=["feeds"])
Writer = Annotated[Principal, Depends(allow(*WRITERS))]
Token = Annotated[
    str | None,
    Query(description="The feed's secret token (calendar clients cannot send headers)."),
]
IfNoneMatch = Annotated[str | None, Header(description="The ETag of the copy you hold.")]

CALENDAR = "text/calendar; charset=utf-8"
FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {CALENDAR: {}}, "description": "The calendar (RFC 5545)."},
    304: {"description": "Unchanged since the ETag given in If-None-Match."},
    **error_responses(404),
}


def _calendar(feed: Feed, if_none_match: str | None) -> Response:
    headers = {"ETag": feed.etag, "Cache-Control": "private, max-age=0, must-revalidate"}
    if if_none_match and feed.etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(feed.body, media_type=CALENDAR, headers=headers)


@router.get(
    "/feeds/providers/{provider_id}.ics",
    response_class=Response,
    responses=FEED_RESPONSES,
    summary="A sitting provider's calendar",
)
def provider_feed(
    services: ServicesDep, provider_id: str, token: Token = None, if_none_match: IfNoneMatch = None
) -> Response:
    """The provider's confirmed visits (and those cancelled in the last 7 days, as
    CANCELLED). Subscribe to this URL in Outlook, Google or Apple Calendar."""
    return _calendar(services.feeds.feed("provider", provider_id, token), if_none_match)


@router.get(
    "/feeds/units/{unit_id}.ics",
    response_class=Response,
    responses=FEED_RESPONSES,
    summary="A respite unit's calendar",
)
def unit_feed(
    services: ServicesDep, unit_id: str, token: Token = None, if_none_match: IfNoneMatch = None
) -> Response:
    """The unit's confirmed stays, one all-day event per stay from check-in to check-out."""
    return _calendar(services.feeds.feed("unit", unit_id, token), if_none_match)


def _issue(services: Any, request: Request, kind: OwnerKind, owner_id: str, actor: str) -> Any:
    issued = services.feeds.issue(kind, owner_id, actor=actor)
    return FeedTokenOut(token=issued.token, url=str(request.base_url).rstrip("/") + issued.path)


@router.post(
    "/feeds/providers/{provider_id}/token",
    response_model=FeedTokenOut,
    responses=error_responses(401, 403, 404),
)
def new_provider_token(
    services: ServicesDep, principal: Writer, request: Request, provider_id: str
) -> Any:
    """A new feed token for the provider (shown once); the old URL stops working."""
    return _issue(services, request, "provider", provider_id, principal.actor)


@router.post(
    "/feeds/units/{unit_id}/token",
    response_model=FeedTokenOut,
    responses=error_responses(401, 403, 404),
)
def new_unit_token(services: ServicesDep, principal: Writer, request: Request, unit_id: str) -> Any:
    """A new feed token for the unit (shown once); the old URL stops working."""
    return _issue(services, request, "unit", unit_id, principal.actor)
