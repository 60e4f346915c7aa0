"""What-if scenarios: planners queue a scenario file and read the comparison and charts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from api.auth import Principal
from api.errors import InvalidInput, error_responses
from api.routes.catalogue import page_out
from api.routes.deps import READERS, PagingDep, ServicesDep, allow
from api.schemas import Page, ScenarioOut

router = APIRouter(prefix="/scenarios", tags=["what-if"], responses=error_responses(401, 403))
Planner = Annotated[Principal, Depends(allow("admin", "planner"))]
Reader = Annotated[Principal, Depends(allow(*READERS))]
EXAMPLE = """[base]
tier = "borough"
seed = 1

[simulation]
weeks = 52
replications = 5

[[variants]]
name = "today"

[[variants]]
name = "two more beds"
changes = [{ kind = "add_beds", unit = "U-02", count = 2 }]
"""


@router.post(
    "",
    response_model=ScenarioOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(409, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/toml": {"schema": {"type": "string"}, "example": EXAMPLE}},
        }
    },
)
async def create_scenario(
    request: Request,
    response: Response,
    services: ServicesDep,
    principal: Planner,
    name: Annotated[str | None, Query(max_length=200, description="A name to list it by.")] = None,
) -> Any:
    """Queue a scenario file (TOML, as ``respite whatif`` reads it, with a generated
    base: a tier and seed). 202 with ``Location``; poll it for progress and results."""
    from api.routes.sheets import read_limited

    body, _ = await read_limited(request)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("body: not UTF-8 text") from None
    from fastapi.concurrency import run_in_threadpool

    created = await run_in_threadpool(services.scenarios.create, principal, text, name)
    response.headers["Location"] = f"/v1/scenarios/{created.scenario_id}"
    return created


@router.delete("/{scenario_id}", response_model=ScenarioOut, responses=error_responses(404, 409))
def cancel_scenario(services: ServicesDep, principal: Planner, scenario_id: str) -> Any:
    """Cancel a queued or running scenario: its processes are stopped, its status is
    ``cancelled``. 409 if it has ended already."""
    return services.scenarios.cancel(principal, scenario_id)


@router.get("", response_model=Page[ScenarioOut])
def list_scenarios(services: ServicesDep, principal: Reader, paging: PagingDep) -> Any:
    """Scenarios, newest first."""
    return page_out(ScenarioOut, services.scenarios.list(paging.limit, paging.offset), paging)


@router.get("/{scenario_id}", response_model=ScenarioOut, responses=error_responses(404))
def get_scenario(services: ServicesDep, principal: Reader, scenario_id: str) -> Any:
    """Status and progress (done of total tasks); the comparison when it has succeeded."""
    return services.scenarios.get(scenario_id)


@router.get(
    "/{scenario_id}/charts/{name}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **error_responses(404, 409)},
)
def get_chart(services: ServicesDep, principal: Reader, scenario_id: str, name: str) -> Response:
    """One chart (PNG), by a name the scenario lists in ``charts``."""
    if not name.endswith(".png"):
        raise InvalidInput(f"name: '{name}' is not a chart (they end in .png)")
    return Response(services.scenarios.file(scenario_id, name), media_type="image/png")


@router.get(
    "/{scenario_id}/report.html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}}, **error_responses(404, 409)},
)
def get_report(services: ServicesDep, principal: Reader, scenario_id: str) -> HTMLResponse:
    """The self-contained HTML report: the comparison table and every chart."""
    return HTMLResponse(services.scenarios.file(scenario_id, "report.html").decode("utf-8"))
