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
from scheduler.fixtures import generate
from scheduler.model import Problem
from scheduler.sheets import problem_to_frames, write_xlsx

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
    assert client.get("/v1/problem", headers=admin).status_code == 404
    second = problem_to_frames(generate("tiny", 1))
    second["stay requests"].loc[0, "Nights"] = -2
    again = client.post("/v1/imports", content=write_xlsx(second), headers=admin).json()
    assert again["conflicts"][0].startswith("sheet 'stay requests', row 2: request ")
    not_a_sheet = client.post("/v1/imports", content=b"name,age\n", headers=admin)
    assert (
        not_a_sheet.status_code == 422 and "not an .xlsx workbook" in not_a_sheet.json()["detail"]
    )


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
    assert set(sheets) == {"stays", "visits", "unmet"}
    assert sorted(sheets["stays"]["Request ID"]) == sorted(s["request_id"] for s in plan["stays"])
    assert len(sheets["unmet"]) == len(plan["unmet"])
    assert client.post(f"{url}/publish", headers=admin).status_code == 200
    table = pd.read_csv(io.StringIO(client.get("/v1/bookings.csv", headers=admin).text))
    assert len(table) == len(plan["stays"]) + len(plan["visits"])
    assert "Booking ID" in table.columns and "Check-in" not in table.columns
    sitter = key_for("provider", provider_id="P-1")
    own = pd.read_csv(io.StringIO(client.get("/v1/bookings.csv", headers=sitter).text))
    assert set(own["Kind"]) == {"visit"}  # a provider's download holds only its own
