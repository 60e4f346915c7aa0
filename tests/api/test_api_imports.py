"""Spreadsheets over the API: template, import (raw or multipart), 413, exports."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from conftest import wait_for
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from scheduler.model import Problem
from scheduler.sheets import problem_to_frames, write_xlsx
from scheduler.synthetic import generate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_the_template_imports_as_it_is(client: TestClient, admin: dict[str, str]) -> None:
    template = client.get("/v1/templates/problem.xlsx", headers=admin)
    assert template.status_code == 200 and template.headers["content-type"] == XLSX
    assert "README" in pd.read_excel(io.BytesIO(template.content), sheet_name=None)
    checked = client.post(
        "/v1/imports?dry_run=true", content=template.content, headers=admin | {"Content-Type": XLSX}
    )
    assert checked.status_code == 200 and checked.json()["ok"] is True
    assert client.get("/v1/problem", headers=admin).status_code == 404  # a dry run stores nothing
    files = {"file": ("template.xlsx", template.content, XLSX)}
    stored = client.post("/v1/imports", files=files, headers=admin)
    assert stored.status_code == 200, stored.text
    # The template's example is the tiny fixture: the export of the import is that problem.
    exported = Problem.model_validate(client.get("/v1/problem", headers=admin).json())
    assert exported == generate("tiny", 1)


def test_csv_zip_import(client: TestClient, admin: dict[str, str]) -> None:
    archive = client.get("/v1/templates/problem.zip", headers=admin)
    assert archive.headers["content-type"] == "application/zip"
    stored = client.post("/v1/imports", content=archive.content, headers=admin)
    assert stored.status_code == 200, stored.text
    assert stored.json()["cases"] == len(generate("tiny", 1).cases)


def test_every_bad_cell_is_named_and_nothing_is_imported(
    client: TestClient, admin: dict[str, str]
) -> None:
    frames = problem_to_frames(generate("tiny", 1))
    frames["cases"].loc[0, "Age"] = "old"  # row 2, column E
    frames["stay requests"].loc[0, "Nights"] = -2  # a model rule: mapped to the request's row
    response = client.post("/v1/imports", content=write_xlsx(frames), headers=admin)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_spreadsheet"
    assert "sheet 'cases', row 2, column 'Age' (E): 'old' is not a number" in body["conflicts"]
    # the same, structured: a bad cell has no item or field, only its place
    cell = {"message": "'old' is not a number", "sheet": "cases", "row": 2, "column": "'Age' (E)"}
    assert cell in body["errors"] and len(body["errors"]) == len(body["conflicts"])
    assert client.get("/v1/problem", headers=admin).status_code == 404
    second = problem_to_frames(generate("tiny", 1))
    second["stay requests"].loc[0, "Nights"] = -2
    again = client.post("/v1/imports", content=write_xlsx(second), headers=admin).json()
    # a model rule, placed on the request's row and the column of the field it names
    assert again["conflicts"] == [
        "sheet 'stay requests', row 2, column 'Nights' (E): "
        "request R-00001: nights: Input should be greater than 0"
    ]
    assert again["errors"] == [
        {
            "item": "request R-00001",
            "field": "nights",
            "message": "Input should be greater than 0",
            "sheet": "stay requests",
            "row": 2,
            "column": "'Nights' (E)",
        }
    ]
    dry = client.post("/v1/imports?dry_run=true", content=write_xlsx(second), headers=admin)
    assert dry.status_code == 422 and dry.json()["conflicts"] == again["conflicts"]
    not_a_sheet = client.post("/v1/imports", content=b"name,age\n", headers=admin)
    assert (
        not_a_sheet.status_code == 422 and "not an .xlsx workbook" in not_a_sheet.json()["detail"]
    )


def test_a_broker_imports_but_only_an_admin_replaces(
    client: TestClient, admin: dict[str, str], key_for: Any
) -> None:
    broker = key_for("broker")
    template = client.get("/v1/templates/problem.xlsx", headers=broker).content
    assert client.post("/v1/imports", content=template, headers=broker).status_code == 200
    again = client.post("/v1/imports", content=template, headers=broker)
    assert again.status_code == 409  # planning data exists, as for POST /v1/problem
    refused = client.post("/v1/imports?replace=true", content=template, headers=broker)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    # An admin replaces it: a problem with one case fewer (and its requests and bookings).
    problem = generate("tiny", 1).model_dump(mode="json")
    dropped = problem["cases"].pop()["case_id"]
    problem["requests"] = [r for r in problem["requests"] if r["case_id"] != dropped]
    problem["bookings"] = [b for b in problem["bookings"] if b["case_id"] != dropped]
    smaller = Problem.model_validate(problem)
    replaced = client.post(
        "/v1/imports?replace=true", content=write_xlsx(problem_to_frames(smaller)), headers=admin
    )
    assert replaced.status_code == 200, replaced.text
    exported = Problem.model_validate(client.get("/v1/problem", headers=admin).json())
    assert exported == smaller


def test_duplicates_and_a_form_without_its_file_are_named(
    client: TestClient, admin: dict[str, str]
) -> None:
    frames = problem_to_frames(generate("tiny", 1))
    frames["units"].loc[1, "Unit ID"] = "U-01"  # row 3 repeats row 2's unit
    body = client.post("/v1/imports", content=write_xlsx(frames), headers=admin).json()
    assert (
        "sheet 'units', row 3, column 'Unit ID' (A): 'U-01' is already on row 2; list each once"
        in body["conflicts"]
    )
    wrong_field = client.post(
        "/v1/imports", files={"upload": ("t.xlsx", b"PK", XLSX)}, headers=admin
    )
    assert wrong_field.status_code == 422 and "field named 'file'" in wrong_field.json()["detail"]


@pytest.fixture
def small_uploads(settings: Settings) -> Iterator[TestClient]:
    settings.max_upload_bytes = 2000
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_oversized_uploads_are_413_before_they_are_read(
    small_uploads: TestClient, key_for: Any
) -> None:
    admin = key_for("admin")
    declared = small_uploads.post("/v1/imports", content=b"x" * 5000, headers=admin)
    assert declared.status_code == 413 and declared.json()["error"] == "too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        yield from (b"x" * 1000 for _ in range(5))

    streamed = small_uploads.post("/v1/imports", content=chunks(), headers=admin)
    assert streamed.status_code == 413
    form = small_uploads.post(
        "/v1/imports", files={"file": ("big.xlsx", b"x" * 5000, XLSX)}, headers=admin
    )
    assert form.status_code == 413
    assert small_uploads.get("/v1/problem", headers=admin).status_code == 404


def test_plans_and_bookings_download_as_spreadsheets(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any], key_for: Any
) -> None:
    run_id = client.post("/v1/allocation-runs", json={"engine": "greedy"}, headers=admin).json()[
        "run_id"
    ]
    url = f"/v1/allocation-runs/{run_id}"
    wait_for(client, url, admin, lambda r: r["status"] == "succeeded")
    plan = client.get(f"{url}/plan", headers=admin).json()
    sheets = pd.read_excel(
        io.BytesIO(client.get(f"{url}/plan.xlsx", headers=admin).content), sheet_name=None
    )
    assert set(sheets) == {"stays", "visits", "agency staff", "unmet"}
    assert sorted(sheets["stays"]["Request ID"]) == sorted(s["request_id"] for s in plan["stays"])
    assert len(sheets["unmet"]) == len(plan["unmet"])
    assert client.post(f"{url}/publish", headers=admin).status_code == 200
    table = pd.read_csv(io.StringIO(client.get("/v1/bookings.csv", headers=admin).text))
    assert len(table) == len(plan["stays"]) + len(plan["visits"])
    assert "Booking ID" in table.columns and "Check-in" not in table.columns
    sitter = key_for("provider", provider_id="P-1")
    own = pd.read_csv(io.StringIO(client.get("/v1/bookings.csv", headers=sitter).text))
    assert set(own["Kind"]) == {"visit"}  # a provider's download holds only its own
