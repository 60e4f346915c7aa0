"""Every route x every role: allowed or refused; providers see only their own."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

ALL = {"admin", "broker", "planner", "provider"}
READ = {"admin", "broker", "planner"}
WRITE = {"admin", "broker"}
ADMIN = {"admin"}

# (method, path) -> roles allowed. A new route fails the test until it is listed.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/v1/problem"): READ,
    ("POST", "/v1/problem"): ADMIN,
    ("GET", "/v1/localities"): READ,
    ("POST", "/v1/localities"): ADMIN,
    ("GET", "/v1/cases"): READ,
    ("GET", "/v1/cases/{case_id}"): READ,
    ("POST", "/v1/cases"): WRITE,
    ("GET", "/v1/units"): ALL,
    ("GET", "/v1/units/{unit_id}"): ALL,
    ("POST", "/v1/units"): ADMIN,
    ("PUT", "/v1/units/{unit_id}/night-staff/{night}"): WRITE,
    ("PATCH", "/v1/units/{unit_id}"): ADMIN,  # a unit's contract, reserve, agency staff
    ("GET", "/v1/providers"): ALL,
    ("GET", "/v1/providers/{provider_id}"): ALL,
    ("POST", "/v1/providers"): ADMIN,
    ("PUT", "/v1/providers/{provider_id}/rota"): WRITE,
    ("GET", "/v1/requests"): READ,
    ("GET", "/v1/requests/{request_id}"): READ,
    ("POST", "/v1/requests"): WRITE,
    ("DELETE", "/v1/requests/{request_id}"): WRITE,
    ("POST", "/v1/allocation-runs"): WRITE,
    ("GET", "/v1/allocation-runs"): READ,
    ("GET", "/v1/allocation-runs/{run_id}"): READ,
    ("DELETE", "/v1/allocation-runs/{run_id}"): WRITE,
    ("GET", "/v1/allocation-runs/{run_id}/plan"): READ,
    ("POST", "/v1/allocation-runs/{run_id}/publish"): WRITE,
    ("GET", "/v1/bookings"): ALL,
    ("GET", "/v1/bookings/{booking_id}"): ALL,
    ("POST", "/v1/bookings"): WRITE,
    ("PATCH", "/v1/bookings/{booking_id}"): WRITE,
    ("DELETE", "/v1/bookings/{booking_id}"): WRITE,
    ("GET", "/v1/audit"): READ,
    ("POST", "/v1/api-keys"): ADMIN,
    ("GET", "/v1/api-keys"): ADMIN,
    ("DELETE", "/v1/api-keys/{key_id}"): ADMIN,
    ("POST", "/v1/feeds/providers/{provider_id}/token"): WRITE,
    ("POST", "/v1/feeds/units/{unit_id}/token"): WRITE,
    ("GET", "/v1/reports/summary.html"): READ,
    ("POST", "/v1/imports"): WRITE,
    ("GET", "/v1/templates/problem.{kind}"): ALL,
    ("GET", "/v1/allocation-runs/{run_id}/plan.{kind}"): READ,
    ("GET", "/v1/bookings.{kind}"): ALL,
    ("POST", "/v1/scenarios"): {"admin", "planner"},
    ("GET", "/v1/scenarios"): READ,
    ("GET", "/v1/scenarios/{scenario_id}"): READ,
    ("DELETE", "/v1/scenarios/{scenario_id}"): {"admin", "planner"},
    ("GET", "/v1/scenarios/{scenario_id}/charts/{name}"): READ,
    ("GET", "/v1/scenarios/{scenario_id}/report.html"): READ,
    ("GET", "/v1/reports/{name}"): READ,
}
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz")}
# Calendar feeds open with the token in their URL, never with a key (see test_api_feeds).
BY_TOKEN = {
    ("GET", "/v1/feeds/providers/{provider_id}.ics"),
    ("GET", "/v1/feeds/units/{unit_id}.ics"),
}


def _routes(client: TestClient) -> set[tuple[str, str]]:
    """Every route, as documented in the OpenAPI schema."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def _publish_a_greedy_run(client: TestClient, admin: dict[str, str]) -> None:
    from conftest import wait_for

    run = client.post("/v1/allocation-runs", json={"engine": "greedy"}, headers=admin).json()
    url = f"/v1/allocation-runs/{run['run_id']}"
    wait_for(client, url, admin, lambda r: r["status"] == "succeeded")
    assert client.post(f"{url}/publish", headers=admin).status_code == 200


def _call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    concrete = re.sub(r"\{night\}", "2025-03-03", path)
    concrete = re.sub(r"\{[a-z_]+\}", "nothing-here", concrete)
    body: Any = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, concrete, json=body, headers=headers).status_code


def test_the_matrix_lists_every_route(client: TestClient) -> None:
    assert _routes(client) == set(MATRIX) | PUBLIC | BY_TOKEN


@pytest.mark.parametrize("role", sorted(ALL))
def test_every_route_allows_or_refuses_each_role(
    client: TestClient, key_for: Any, loaded: Any, role: str
) -> None:
    scope = {"provider_id": "P-1"} if role == "provider" else {}
    headers = key_for(role, **scope)
    for (method, path), allowed in sorted(MATRIX.items()):
        if method == "POST" and path == "/v1/problem":
            continue  # an allowed import with {} would be a 422 anyway; checked below
        status = _call(client, method, path, headers)
        if role in allowed:
            assert status not in (401, 403), (method, path, role, status)
        else:
            assert status == 403, (method, path, role, status)


def test_without_a_key_every_route_but_health_is_401(client: TestClient) -> None:
    bad = {"Authorization": "Bearer rsp_not-a-key"}
    for method, path in sorted(MATRIX):
        assert _call(client, method, path, {}) == 401, (method, path)
        assert _call(client, method, path, bad) == 401, (method, path)
    response = client.get("/v1/units")
    assert response.json()["error"] == "unauthorised"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    for method, path in PUBLIC:
        assert _call(client, method, path, {}) == 200
    for method, path in BY_TOKEN:  # a key opens no feed, an admin's included
        assert _call(client, method, path, {}) == 404
        assert _call(client, method, path, bad) == 404


def test_a_provider_sees_only_its_own_bookings_and_records(
    client: TestClient, key_for: Any, admin: dict[str, str], loaded: Any
) -> None:
    _publish_a_greedy_run(client, admin)
    sitter = key_for("provider", provider_id="P-1")
    unit = key_for("provider", unit_id="U-N1")
    other = key_for("provider", provider_id="P-elsewhere")
    visits = client.get("/v1/bookings", headers=sitter).json()["items"]
    stays = client.get("/v1/bookings", headers=unit).json()["items"]
    assert {b["kind"] for b in visits} == {"visit"} and len(visits) == 2
    assert {b["kind"] for b in stays} == {"stay"} and len(stays) == 2
    assert client.get("/v1/bookings", headers=other).json()["items"] == []
    assert client.get(f"/v1/bookings/{stays[0]['booking_id']}", headers=sitter).status_code == 404
    assert client.get("/v1/units/U-N1", headers=sitter).status_code == 404
    assert client.get("/v1/units", headers=sitter).json()["items"] == []
    assert client.get("/v1/providers/P-1", headers=other).status_code == 404
    # Filters cannot widen a provider's view.
    widened = client.get("/v1/bookings?provider_id=P-1&kind=stay", headers=unit).json()
    assert widened["items"] == []


def test_a_provider_gets_nothing_of_another_on_any_route_that_takes_an_id(
    client: TestClient, key_for: Any, admin: dict[str, str], loaded: Any
) -> None:
    # The tiny problem has one sitting provider (P-1) and one unit (U-N1). A key scoped
    # to the unit is "another provider" for P-1's routes and the other way round; each
    # tries every route that takes an id, by every method, with the other's ids (and
    # the other's bookings). None may answer 2xx: refused (403) or not found (404).
    _publish_a_greedy_run(client, admin)
    bookings = client.get("/v1/bookings", headers=admin).json()["items"]
    visit = next(b["booking_id"] for b in bookings if b["kind"] == "visit")
    stay = next(b["booking_id"] for b in bookings if b["kind"] == "stay")
    keys = {
        "sitter": (key_for("provider", provider_id="P-1"), {"unit_id": "U-N1", "booking_id": stay}),
        "unit": (key_for("provider", unit_id="U-N1"), {"provider_id": "P-1", "booking_id": visit}),
    }
    for who, (headers, others) in keys.items():
        for method, path in sorted(MATRIX):
            names = set(re.findall(r"\{([a-z_]+)\}", path))
            if not names & set(others):
                continue
            concrete = path
            for name in names:
                concrete = concrete.replace(f"{{{name}}}", others.get(name, "2025-03-03"))
            body: Any = {} if method in ("POST", "PUT", "PATCH") else None
            status = client.request(method, concrete, json=body, headers=headers).status_code
            assert status in (403, 404), (who, method, concrete, status)
