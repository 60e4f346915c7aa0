"""Spreadsheets in and out: the template, imports by upload, plans and bookings as
XLSX or CSV.

An upload is read in chunks and refused with 413 as soon as it passes
``max_upload_bytes`` (at once when its Content-Length says so), never read whole
first. It may be the file itself as the body, or a multipart form field ``file``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.auth import Principal
from api.errors import Forbidden, InvalidInput, TooLarge, error_responses
from api.repositories.bookings import BookingFilter
from api.routes.deps import EVERYONE, READERS, WRITERS, ServicesDep, allow
from api.schemas import ImportResult, SpreadsheetCheck
from scheduler.sheets import (
    InvalidSpreadsheet,
    bookings_frame,
    plan_frames,
    problem_from_workbook,
    read_workbook,
    template_frames,
    write_csv_zip,
    write_xlsx,
)

router = APIRouter(tags=["spreadsheets"], responses=error_responses(401, 403))
Writer = Annotated[Principal, Depends(allow(*WRITERS))]
Reader = Annotated[Principal, Depends(allow(*READERS))]
Anyone = Annotated[Principal, Depends(allow(*EVERYONE))]
Sheets = Literal["xlsx", "zip"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
UPLOAD = {
    "requestBody": {
        "required": True,
        "content": {
            XLSX: {"schema": {"type": "string", "format": "binary"}},
            ZIP: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}
FILE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX: {}, ZIP: {}}, "description": "A workbook, or a zip of CSV files."}
}


def _download(frames: dict[str, Any], kind: Sheets, stem: str) -> Response:
    data = write_xlsx(frames) if kind == "xlsx" else write_csv_zip(frames)
    headers = {"Content-Disposition": f'attachment; filename="{stem}.{kind}"'}
    return Response(data, media_type=XLSX if kind == "xlsx" else ZIP, headers=headers)


async def read_limited(request: Request) -> tuple[bytes, str]:
    """The request body (or its multipart field ``file``), read in chunks and refused
    with 413 past ``max_upload_bytes``; the file's name if it has one."""
    limit: int = request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the upload is {int(declared):,} bytes; the limit is {limit:,}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the upload is over the limit of {limit:,} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # form() parses the body already read
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form() as form:  # closes the form's temporary files
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput("file: the form has no file field named 'file'")
            return await upload.read(), upload.filename or "upload"
    if not body:
        raise InvalidInput("body: empty; send an .xlsx workbook or a .zip of CSV files")
    return body, request.query_params.get("filename", "upload")


@router.post(
    "/imports",
    response_model=ImportResult | SpreadsheetCheck,
    summary="Import a spreadsheet",
    responses=error_responses(409, 413, 422),
    openapi_extra=UPLOAD,
)
async def import_spreadsheet(
    request: Request,
    services: ServicesDep,
    principal: Writer,
    dry_run: Annotated[bool, Query(description="Only check it; store nothing.")] = False,
    replace: Annotated[
        bool, Query(description="Replace the stored planning data (admin keys only).")
    ] = False,
) -> Any:
    """Import cases, requests and capacity from a workbook made from the template.

    Every bad cell is listed in ``conflicts`` by sheet, row and column (and in
    ``errors``, structured); if there is any, nothing is imported. Replacing stored
    planning data (units, providers and bookings included) needs an admin key, as
    ``POST /v1/problem`` does.
    """
    if replace and not dry_run and principal.role != "admin":
        raise Forbidden(
            "replace=true needs an admin key: it replaces units, providers and bookings"
        )
    data, name = await read_limited(request)
    try:
        problem = await run_in_threadpool(lambda: problem_from_workbook(read_workbook(data, name)))
    except InvalidSpreadsheet as exc:
        lines = [str(error) for error in exc.errors]
        raise InvalidSpreadsheetError(
            f"{len(lines)} problem(s), nothing imported; first: {lines[0]}",
            conflicts=lines,
            errors=exc.errors,
        ) from None
    if dry_run:
        return SpreadsheetCheck(ok=True, cases=len(problem.cases), requests=len(problem.requests))
    body = problem.model_dump(mode="json")
    return await run_in_threadpool(
        services.problems.import_problem, body, replace=replace, actor=principal.actor
    )


class InvalidSpreadsheetError(InvalidInput):
    code = "invalid_spreadsheet"


@router.get("/templates/problem.{kind}", response_class=Response, responses=FILE_RESPONSE)
def problem_template(principal: Anyone, kind: Sheets) -> Response:
    """The spreadsheet template: a README sheet describing every column, and one sheet
    per kind (filled with a small example that imports as it is)."""
    from scheduler.synthetic import generate

    return _download(template_frames(generate("tiny", 1)), kind, "respite-template")


@router.get(
    "/allocation-runs/{run_id}/plan.{kind}",
    response_class=Response,
    responses={**FILE_RESPONSE, **error_responses(404, 409)},
)
def plan_sheets(services: ServicesDep, principal: Reader, run_id: str, kind: Sheets) -> Response:
    """The run's plan as a spreadsheet: stays, visits and unmet requests."""
    plan = services.runs.plan(run_id)
    problem, _ = services.reports.source(run_id)
    return _download(plan_frames(problem, plan), kind, f"plan-{run_id}")


@router.get(
    "/bookings.{kind}",
    response_class=Response,
    responses={200: {"content": {XLSX: {}, "text/csv": {}}, "description": "The bookings."}},
)
def bookings_sheet(
    services: ServicesDep,
    principal: Anyone,
    kind: Literal["xlsx", "csv"],
    status: Annotated[Literal["confirmed", "offered", "cancelled"] | None, Query()] = "confirmed",
) -> Response:
    """Bookings as a spreadsheet (a provider key gets only its own)."""
    page = services.bookings.list(principal, BookingFilter(status=status), 10**9, 0)
    frame = bookings_frame(booking.model_dump(mode="json") for booking in page.items)
    if kind == "csv":
        headers = {"Content-Disposition": 'attachment; filename="bookings.csv"'}
        return Response(frame.to_csv(index=False), media_type="text/csv", headers=headers)
    return _download({"bookings": frame}, "xlsx", "bookings")
