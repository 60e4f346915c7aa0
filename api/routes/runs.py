"""Allocation runs: jobs solved outside the web process."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from api.auth import Principal
from api.errors import error_responses
from api.routes.catalogue import page_out
from api.routes.deps import READERS, WRITERS, PagingDep, ServicesDep, allow
from api.schemas import Page, PublishResult, RunCreate, RunOut, RunStatus
from scheduler.model import Plan

router = APIRouter(
    prefix="/allocation-runs", tags=["allocation runs"], responses=error_responses(401, 403, 422)
)
Reader = Annotated[Principal, Depends(allow(*READERS))]
Writer = Annotated[Principal, Depends(allow(*WRITERS))]


@router.post(
    "",
    response_model=RunOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(422),
)
def start_run(
    services: ServicesDep, principal: Writer, body: RunCreate, response: Response
) -> RunOut:
    """Queue an allocation run; follow ``Location`` to watch its progress."""
    run = services.runs.create(principal, body)
    response.headers["Location"] = f"/v1/allocation-runs/{run.run_id}"
    return run


@router.get("", response_model=Page[RunOut])
def list_runs(
    services: ServicesDep,
    _: Reader,
    paging: PagingDep,
    status: Annotated[RunStatus | None, Query()] = None,
) -> Any:
    """Runs, newest first."""
    return page_out(RunOut, services.runs.list(status, paging.limit, paging.offset), paging)


@router.get("/{run_id}", response_model=RunOut, responses=error_responses(404))
def get_run(services: ServicesDep, _: Reader, run_id: str) -> RunOut:
    """Status and live progress: incumbent objective, bound, gap, elapsed seconds."""
    return services.runs.get(run_id)


@router.delete("/{run_id}", response_model=RunOut, responses=error_responses(404))
def cancel_run(services: ServicesDep, _: Writer, run_id: str) -> RunOut:
    """Cancel: a queued run never starts; a running one stops and keeps its best plan."""
    return services.runs.cancel(run_id)


@router.get(
    "/{run_id}/plan",
    response_model=Plan,
    response_model_exclude_none=True,
    responses=error_responses(404, 409),
)
def get_plan(services: ServicesDep, _: Reader, run_id: str) -> Plan:
    """The plan file; ``unmet`` gives each unserved request its reason."""
    return services.runs.plan(run_id)


@router.post("/{run_id}/publish", response_model=PublishResult, responses=error_responses(404, 409))
def publish_run(services: ServicesDep, principal: Writer, run_id: str) -> PublishResult:
    """Confirm the plan's stays and visits as bookings, all or nothing.

    409 lists the bed-nights or visits booked since the run was solved.
    """
    return services.publishing.publish(principal, run_id)
