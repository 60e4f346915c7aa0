"""Contract fuzzing: schemathesis drives every documented operation with generated
input (a bounded number of examples each) and checks that no answer is a server
error and that every answer matches its documented status, content type and schema.

Uploads (spreadsheets, scenario files) have binary or TOML bodies that schemathesis
cannot generate; they are fuzzed by tests/scheduler/test_sheets.py (Hypothesis cells)
and their bad-input tables instead.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from conftest import FAKE_ALLOCATOR, tiny_problem
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.schemas import ApiKeyCreate
from api.settings import Settings

_folder = Path(tempfile.mkdtemp(prefix="respite-fuzz-"))
app = create_app(
    Settings(database_url=f"sqlite:///{_folder / 'fuzz.db'}", allocator=FAKE_ALLOCATOR, workers=1)
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
    method="POST", path_regex=r"^/v1/(imports|scenarios)$"
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
_admin: dict[str, str] = {}
_clients: list[TestClient] = []


def _admin_headers() -> dict[str, str]:
    """An admin key on a database holding the tiny problem (made once, on first use)."""
    if not _admin:
        client = TestClient(app)
        client.__enter__()  # runs the lifespan: migrations, services
        _clients.append(client)
        keys = app.state.services.keys
        created = keys.create(ApiKeyCreate(name="fuzz", role="admin"), actor="tests")
        _admin["Authorization"] = f"Bearer {created.token}"
        assert client.post("/v1/problem", json=tiny_problem(), headers=_admin).status_code == 200
    return _admin


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=_admin_headers(), checks=CHECKS)


def teardown_module() -> None:
    for client in _clients:
        client.__exit__(None, None, None)  # stops the workers cleanly
