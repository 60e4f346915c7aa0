"""A whole problem file in (import) and out (export)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from api.auth import Principal
from api.errors import error_responses
from api.routes.deps import READERS, ServicesDep, allow
from api.schemas import ImportResult
from scheduler.model import Problem

router = APIRouter(prefix="/problem", tags=["problem"], responses=error_responses(401, 403, 422))


@router.post(
    "",
    response_model=ImportResult,
    summary="Import a problem file",
    responses=error_responses(409, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    },
)
def import_problem(
    services: ServicesDep,
    principal: Annotated[Principal, Depends(allow("admin"))],
    problem: Annotated[dict[str, Any], Body()],
    replace: Annotated[bool, Query(description="Replace the stored planning data.")] = False,
) -> ImportResult:
    """Store a whole problem file (as ``respite allocate`` reads it) in one transaction.

    Every mistake is reported in ``detail``, naming the item and field, and in
    ``errors`` one by one (item, field, message).
    """
    return services.problems.import_problem(problem, replace=replace, actor=principal.actor)


@router.get(
    "",
    response_model=Problem,
    response_model_exclude_none=True,
    summary="Export the problem file",
    responses=error_responses(404),
)
def export_problem(
    services: ServicesDep, _: Annotated[Principal, Depends(allow(*READERS))]
) -> Problem:
    """The stored problem with its confirmed bookings; the export of an import is the
    same problem."""
    return services.problems.export_problem()
