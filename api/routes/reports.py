"""Reports for brokers, planners and commissioners (JSON, CSV, one-page HTML)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from api.auth import Principal
from api.errors import NotFound, error_responses
from api.routes.deps import READERS, ServicesDep, allow
from scheduler.reports.tables import REPORTS

router = APIRouter(tags=["reports"], responses=error_responses(401, 403, 404, 422))
Reader = Annotated[Principal, Depends(allow(*READERS))]
RunId = Annotated[
    str | None,
    Query(
        description="Report on this allocation run's plan; without it, on the confirmed bookings."
    ),
]
NAMES = ", ".join(REPORTS)


@router.get(
    "/reports/summary.html",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}}, "description": "One self-contained page."}},
)
def summary(services: ServicesDep, principal: Reader, run_id: RunId = None) -> HTMLResponse:
    """The commissioner's one-page summary: headline figures, occupancy heatmap,
    unmet by locality, budget use, and the tables behind them."""
    from scheduler.reports.html_page import summary_html

    problem, plan = services.reports.source(run_id)
    title = f"Respite allocation: run {run_id}" if run_id else "Respite bookings (confirmed)"
    return HTMLResponse(summary_html(problem, plan, title=title))


@router.get(
    "/reports/{name}",
    responses={
        200: {
            "description": "A list of rows (JSON), or CSV with a header row.",
            "content": {"application/json": {}, "text/csv": {}},
        }
    },
)
def report(
    services: ServicesDep,
    principal: Reader,
    name: str,
    run_id: RunId = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Any:
    """One report: occupancy, unmet, served, carers, budgets or sitters."""
    if name not in REPORTS:
        raise NotFound(f"name: no report '{name}' (there are {NAMES} and summary.html)")
    text = services.reports.text(run_id, name, format)
    if format == "csv":
        filename = f"{name}-{run_id or 'bookings'}.csv"
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return Response(text, media_type="application/json")
