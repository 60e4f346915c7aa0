"""API keys (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from api.auth import Principal
from api.errors import error_responses
from api.routes.catalogue import page_out
from api.routes.deps import PagingDep, ServicesDep, allow
from api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, Page

router = APIRouter(prefix="/api-keys", tags=["api keys"], responses=error_responses(401, 403, 422))
Admin = Annotated[Principal, Depends(allow("admin"))]


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(422),
)
def create_key(services: ServicesDep, principal: Admin, body: ApiKeyCreate) -> ApiKeyCreated:
    """Issue a key. The token is in this response only; it is stored hashed."""
    return services.keys.create(body, actor=principal.actor)


@router.get("", response_model=Page[ApiKeyOut])
def list_keys(services: ServicesDep, _: Admin, paging: PagingDep) -> Any:
    return page_out(ApiKeyOut, services.keys.list(paging.limit, paging.offset), paging)


@router.delete("/{key_id}", response_model=ApiKeyOut, responses=error_responses(404))
def revoke_key(services: ServicesDep, principal: Admin, key_id: str) -> ApiKeyOut:
    return services.keys.revoke(key_id, actor=principal.actor)
