"""Localities, cases, units (beds, night staff), providers (rota) and requests."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status

from api.auth import Principal
from api.errors import error_responses
from api.repositories.base import Page as RepoPage
from api.routes.deps import EVERYONE, READERS, WRITERS, PagingDep, ServicesDep, allow
from api.schemas import (
    NightStaffIn,
    Page,
    Pagination,
    ProviderChanged,
    RotaIn,
    UnitChanged,
    UnitTermsIn,
)
from scheduler.model import FIRST_DATE, LAST_DATE, Case, Locality, Provider, Request, Unit

router = APIRouter(responses=error_responses(401, 403, 422))

Admin = Annotated[Principal, Depends(allow("admin"))]
Reader = Annotated[Principal, Depends(allow(*READERS))]
Writer = Annotated[Principal, Depends(allow(*WRITERS))]
Anyone = Annotated[Principal, Depends(allow(*EVERYONE))]
CREATED: dict[str, Any] = {
    "status_code": status.HTTP_201_CREATED,
    "responses": error_responses(409, 422),
}
FOUND: dict[str, Any] = {"responses": error_responses(404)}


def page_out(model: Any, page: RepoPage[Any], paging: PagingDep) -> Any:
    """A repository page as the ``Page[model]`` response body."""
    info = Pagination(total=page.total, limit=paging.limit, offset=paging.offset)
    return Page[model](items=page.items, pagination=info)  # type: ignore[valid-type]


# ---------------------------------------------------------------- localities


@router.get("/localities", response_model=Page[Locality], tags=["localities"])
def list_localities(services: ServicesDep, _: Reader, paging: PagingDep) -> Any:
    return page_out(Locality, services.catalogue.localities(paging.limit, paging.offset), paging)


@router.post("/localities", response_model=Locality, tags=["localities"], **CREATED)
def create_locality(services: ServicesDep, principal: Admin, locality: Locality) -> Locality:
    return services.catalogue.add_locality(principal, locality)


# ---------------------------------------------------------------- cases


@router.get("/cases", response_model=Page[Case], tags=["cases"])
def list_cases(
    services: ServicesDep,
    _: Reader,
    paging: PagingDep,
    locality_id: Annotated[str | None, Query()] = None,
) -> Any:
    page = services.catalogue.cases(locality_id, paging.limit, paging.offset)
    return page_out(Case, page, paging)


@router.get("/cases/{case_id}", response_model=Case, tags=["cases"], **FOUND)
def get_case(services: ServicesDep, _: Reader, case_id: str) -> Case:
    return services.catalogue.case(case_id)


@router.post("/cases", response_model=Case, tags=["cases"], **CREATED)
def create_case(services: ServicesDep, principal: Writer, case: Case) -> Case:
    return services.catalogue.add_case(principal, case)


# ---------------------------------------------------------------- units


@router.get("/units", response_model=Page[Unit], tags=["units"])
def list_units(
    services: ServicesDep,
    principal: Anyone,
    paging: PagingDep,
    locality_id: Annotated[str | None, Query()] = None,
    spot: Annotated[bool | None, Query(description="Spot-purchased overflow units only.")] = None,
) -> Any:
    """Units with their beds and night-staff calendar (a provider key: its own unit)."""
    page = services.catalogue.units(principal, locality_id, spot, paging.limit, paging.offset)
    return page_out(Unit, page, paging)


@router.get("/units/{unit_id}", response_model=Unit, tags=["units"], **FOUND)
def get_unit(services: ServicesDep, principal: Anyone, unit_id: str) -> Unit:
    return services.catalogue.unit(principal, unit_id)


@router.post("/units", response_model=Unit, tags=["units"], **CREATED)
def create_unit(services: ServicesDep, principal: Admin, unit: Unit) -> Unit:
    return services.catalogue.add_unit(principal, unit)


@router.put(
    "/units/{unit_id}/night-staff/{night}",
    response_model=UnitChanged,
    tags=["units"],
    responses=error_responses(404, 422),
)
def set_night_staff(
    services: ServicesDep,
    principal: Writer,
    unit_id: str,
    night: Annotated[dt.date, Path(ge=FIRST_DATE, le=LAST_DATE)],
    body: NightStaffIn,
) -> UnitChanged:
    """Set the staff on duty one night; ``null`` restores the unit's default.

    ``warnings`` lists each confirmed stay the change leaves breaking a hard rule
    (the change is made all the same: staff can be short; move or cancel those stays).
    """
    return services.catalogue.set_night_staff(principal, unit_id, night, body.staff)


@router.patch(
    "/units/{unit_id}",
    response_model=UnitChanged,
    tags=["units"],
    responses=error_responses(404, 422),
)
def set_unit_terms(
    services: ServicesDep, principal: Admin, unit_id: str, body: UnitTermsIn
) -> UnitChanged:
    """Change the unit's block contract, crisis reserve or agency night staff (policy
    v2); fields left out stay. Refused (422, naming the field) as a problem file would
    be: a reserve beyond the block beds, a block contract or reserve on a spot unit,
    pence over 10^12.

    ``warnings`` lists each stay booked there that the change leaves breaking a hard
    rule (the change is made all the same; move or cancel those stays).
    """
    return services.catalogue.set_unit_terms(principal, unit_id, body)


# ---------------------------------------------------------------- providers


@router.get("/providers", response_model=Page[Provider], tags=["providers"])
def list_providers(
    services: ServicesDep,
    principal: Anyone,
    paging: PagingDep,
    locality_id: Annotated[str | None, Query(description="Serves this locality.")] = None,
    skill: Annotated[str | None, Query(description="Has this skill.")] = None,
) -> Any:
    """Sitting providers with their sitter rota (a provider key: itself)."""
    page = services.catalogue.providers(principal, locality_id, skill, paging.limit, paging.offset)
    return page_out(Provider, page, paging)


@router.get("/providers/{provider_id}", response_model=Provider, tags=["providers"], **FOUND)
def get_provider(services: ServicesDep, principal: Anyone, provider_id: str) -> Provider:
    return services.catalogue.provider(principal, provider_id)


@router.post("/providers", response_model=Provider, tags=["providers"], **CREATED)
def create_provider(services: ServicesDep, principal: Admin, provider: Provider) -> Provider:
    return services.catalogue.add_provider(principal, provider)


@router.put(
    "/providers/{provider_id}/rota",
    response_model=ProviderChanged,
    tags=["providers"],
    responses=error_responses(404, 422),
)
def set_rota(
    services: ServicesDep, principal: Writer, provider_id: str, body: RotaIn
) -> ProviderChanged:
    """Replace the provider's sitter rota (weekday -> stretches with sitter counts).

    ``warnings`` lists each confirmed visit the new rota leaves breaking a hard rule.
    """
    return services.catalogue.set_rota(principal, provider_id, body.sitters)


# ---------------------------------------------------------------- requests


@router.get("/requests", response_model=Page[Request], tags=["requests"])
def list_requests(
    services: ServicesDep,
    _: Reader,
    paging: PagingDep,
    case_id: Annotated[str | None, Query()] = None,
    kind: Annotated[Literal["stay", "sitting"] | None, Query()] = None,
    priority: Annotated[Literal["crisis", "health_appointment", "planned"] | None, Query()] = None,
    received_from: Annotated[dt.date | None, Query(description="Received on or after.")] = None,
) -> Any:
    page = services.catalogue.requests(
        paging.limit,
        paging.offset,
        case_id=case_id,
        kind=kind,
        priority=priority,
        received_from=received_from,
    )
    return page_out(Request, page, paging)


@router.get("/requests/{request_id}", response_model=Request, tags=["requests"], **FOUND)
def get_request(services: ServicesDep, _: Reader, request_id: str) -> Any:
    return services.catalogue.request(request_id)


@router.post("/requests", response_model=Request, tags=["requests"], **CREATED)
def create_request(services: ServicesDep, principal: Writer, request: Request) -> Any:
    """A stay or sitting request (``kind`` says which)."""
    return services.catalogue.add_request(principal, request)


@router.delete(
    "/requests/{request_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["requests"],
    responses=error_responses(404, 409),
)
def withdraw_request(services: ServicesDep, principal: Writer, request_id: str) -> Response:
    """Withdraw a request nobody is booked for."""
    services.catalogue.withdraw_request(principal, request_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
