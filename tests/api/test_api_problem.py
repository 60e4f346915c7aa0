"""Problem import and export, resources, filters and pagination."""

from __future__ import annotations

from typing import Any

from conftest import tiny_problem
from fastapi.testclient import TestClient

from scheduler.model import Problem


def test_export_of_an_import_is_the_same_problem(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    exported = client.get("/v1/problem", headers=admin)
    assert exported.status_code == 200, exported.text
    assert Problem.model_validate(exported.json()) == Problem.model_validate(loaded)


def test_import_refuses_to_overwrite_unless_asked(
    client: TestClient, admin: dict[str, str], loaded: dict[str, Any]
) -> None:
    again = client.post("/v1/problem", json=loaded, headers=admin)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    replaced = client.post("/v1/problem?replace=true", json=loaded, headers=admin)
    assert replaced.status_code == 200
    assert replaced.json()["beds"] == 2


def test_import_names_the_item_and_field_at_fault(
    client: TestClient, admin: dict[str, str]
) -> None:
    problem = tiny_problem()
    problem["requests"][0]["case_id"] = "C-99"
    response = client.post("/v1/problem", json=problem, headers=admin)
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_input",
        "detail": "request R-1: case_id 'C-99' is not a case",
        "errors": [{"item": "request R-1", "field": "case_id", "message": "'C-99' is not a case"}],
    }


def test_each_mistake_is_listed_structured_and_the_shape_is_documented(
    client: TestClient, admin: dict[str, str]
) -> None:
    problem = tiny_problem()
    problem["cases"][0]["age"] = -1  # a field of an item
    problem["weights"] = {"need_base": -5}  # a setting: no item
    response = client.post("/v1/problem", json=problem, headers=admin)
    at_least_0 = "Input should be greater than or equal to 0"
    assert response.status_code == 422
    assert response.json() == {
        "error": "invalid_input",
        "detail": f"case C-1: age: {at_least_0}; weights.need_base: {at_least_0}",
        "errors": [
            {"item": "case C-1", "field": "age", "message": at_least_0},
            {"field": "weights.need_base", "message": at_least_0},
        ],
    }
    schemas = client.app.openapi()["components"]["schemas"]  # type: ignore[attr-defined]
    listed = schemas["ErrorBody"]["properties"]["errors"]["anyOf"][0]
    assert listed["items"] == {"$ref": "#/components/schemas/ErrorItem"}
    item = schemas["ErrorItem"]
    assert set(item["properties"]) == {"item", "field", "message", "sheet", "row", "column"}
    assert item["required"] == ["message"]


def test_export_before_any_import_is_404(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get("/v1/problem", headers=admin)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
