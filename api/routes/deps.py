"""Dependencies shared by the routes: services, the caller's key, paging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal, Role
from api.errors import Forbidden
from api.services.bookings import BookingService
from api.services.catalogue import CatalogueService
from api.services.feeds import FeedService
from api.services.keys import KeyService
from api.services.problems import ProblemService
from api.services.publishing import PublishingService
from api.services.reports import ReportService
from api.services.runs import RunService
from api.services.scenarios import ScenarioService

__all__ = ["READERS", "WRITERS", "Paging", "Services", "allow", "paging", "services"]

_bearer = HTTPBearer(auto_error=False, description="An API key: 'Authorization: Bearer rsp_...'")

READERS: tuple[Role, ...] = ("admin", "broker", "planner")
WRITERS: tuple[Role, ...] = ("admin", "broker")
EVERYONE: tuple[Role, ...] = ("admin", "broker", "planner", "provider")
MAX_INDEX = 2**31 - 1  # databases store 64-bit integers at most; a bigger offset is a 422


@dataclass
class Services:
    """The services of one app instance (kept on ``app.state.services``)."""

    problems: ProblemService
    catalogue: CatalogueService
    runs: RunService
    bookings: BookingService
    publishing: PublishingService
    keys: KeyService
    feeds: FeedService
    reports: ReportService
    scenarios: ScenarioService


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def allow(*roles: Role) -> Callable[..., Principal]:
    """A dependency: the caller's principal, if their key's role is one of ``roles``."""

    def principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        token = credentials.credentials if credentials else request.headers.get("X-API-Key")
        caller = services(request).keys.authenticate(token)
        if caller.role not in roles:
            raise Forbidden(f"a {caller.role} key may not do this (needs {' or '.join(roles)})")
        return caller

    return principal


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int


def paging(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_INDEX, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INDEX, description="Items to skip.")] = 0,
) -> Paging:
    return Paging(min(limit, request.app.state.settings.max_page_size), offset)


ServicesDep = Annotated[Services, Depends(services)]
PagingDep = Annotated[Paging, Depends(paging)]
