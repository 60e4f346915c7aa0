"""Contract fuzzing: schemathesis drives every documented operation with generated
input (a bounded number of examples each) and checks that no answer is a server
error and that every answer matches its documented status, content type and schema.

Problem files are fuzzed too (Hypothesis): the tiny problem with one place replaced by
junk, deleted or given an unknown field must be refused naming the field (or the item's
id), by the API with 422 and nothing half-imported, and by ``respite allocate`` with exit
2, one readable line and no plan file; a change the checker accepts must import.

Uploads (spreadsheets, scenario files) have binary or TOML bodies that schemathesis
cannot generate; they are fuzzed by tests/scheduler/test_sheets.py (Hypothesis cells)
and their bad-input tables instead.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import FAKE_ALLOCATOR, tiny_problem
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from typer.testing import CliRunner

from api.app import create_app
from api.cli import app as cli_app
from api.errors import printable
from api.schemas import ApiKeyCreate
from api.settings import Settings
from scheduler.files import load_problem
from scheduler.model import InvalidProblem, ProblemError

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


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_contract(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=_admin_headers(), checks=CHECKS)


def teardown_module() -> None:
    for client in _clients:
        client.__exit__(None, None, None)  # stops the workers cleanly


# ------------------------------------------------------------ fuzzed problem files

_problem_app = create_app(
    Settings(
        database_url=f"sqlite:///{_folder / 'problems.db'}", allocator=FAKE_ALLOCATOR, workers=1
    )
)
_cli = CliRunner()
_UNKNOWN = "zz_not_a_field"
# Anything JSON can hold, in the wrong place: wrong types, out-of-range numbers, junk text.
_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a problem that a mutation can hit (the root excluded)."""
    found = [prefix] if prefix else []
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        found.extend(_paths(child, (*prefix, key)))
    return found


_PATHS = _paths(tiny_problem())


@st.composite
def _broken(draw: st.DrawFn) -> tuple[tuple[Any, ...], str, dict[str, Any]]:
    """The tiny problem with one place replaced by junk, deleted, or given an unknown field."""
    problem = tiny_problem()
    path = draw(st.sampled_from(_PATHS))
    action = draw(st.sampled_from(["replace", "delete", "unknown field"]))
    parent: Any = problem
    for key in path[:-1]:
        parent = parent[key]
    if action == "delete":
        del parent[path[-1]]
    elif action == "unknown field" and isinstance(parent[path[-1]], dict):
        parent[path[-1]][_UNKNOWN] = 1
    else:
        action = "replace"
        parent[path[-1]] = draw(_JUNK)
    return path, action, problem


def _names(path: tuple[Any, ...], action: str) -> set[str]:
    """What an error about this mutation may name: the field, or an id on the way to it."""
    names = {str(key) for key in path if isinstance(key, str)}
    if action == "unknown field":
        names.add(_UNKNOWN)
    parent: Any = tiny_problem()
    for key in path:
        parent = parent[key]
        if isinstance(parent, dict):
            names.update(str(v) for k, v in parent.items() if k.endswith("_id"))
    return names


@pytest.fixture(scope="module")
def problem_client() -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A service holding the tiny problem, and an admin key for it."""
    with TestClient(_problem_app) as client:
        keys = _problem_app.state.services.keys
        token = keys.create(ApiKeyCreate(name="fuzz", role="admin"), actor="tests").token
        headers = {"Authorization": f"Bearer {token}"}
        assert client.post("/v1/problem", json=tiny_problem(), headers=headers).status_code == 200
        yield client, headers


@given(broken=_broken())
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_a_broken_problem_is_named_and_nothing_is_half_imported(
    broken: tuple[tuple[Any, ...], str, dict[str, Any]],
    problem_client: tuple[TestClient, dict[str, str]],
) -> None:
    path, action, problem = broken
    client, admin = problem_client
    try:
        load_problem(problem)
        found: list[ProblemError] = []
    except InvalidProblem as exc:
        found = exc.errors
    errors = [str(error) for error in found]
    before = client.get("/v1/problem", headers=admin).json()
    answer = client.post("/v1/problem?replace=true", json=problem, headers=admin)
    event(f"{action}, {'refused' if errors else 'accepted'}, HTTP {answer.status_code}")
    if errors:
        assert all(line.strip() for line in errors)
        named = _names(path, action)
        assert any(name in line for line in errors for name in named), (path, action, errors)
        assert answer.status_code == 422, answer.text
        # the service joins the file checker's lines with "; " (api/services/problems.py),
        # control characters shown escaped
        detail = printable("; ".join(errors))
        # and lists each structured, empty parts left out
        listed = [
            {
                key: printable(value)
                for key in ("item", "field", "message")
                if (value := getattr(error, key))
            }
            for error in found
        ]
        assert answer.json() == {"error": "invalid_input", "detail": detail, "errors": listed}
    else:
        assert answer.status_code in (200, 422), answer.text
    if answer.status_code == 422:
        assert client.get("/v1/problem", headers=admin).json() == before  # nothing half-imported
    else:  # a harmless change: put the tiny problem back
        restored = client.post("/v1/problem?replace=true", json=tiny_problem(), headers=admin)
        assert restored.status_code == 200
    if errors:
        _cli_refuses(problem, errors[0])


def _cli_refuses(problem: dict[str, Any], first_error: str) -> None:
    """``respite allocate`` on the same file: exit 2, one readable line, no plan written."""
    with tempfile.TemporaryDirectory() as folder:
        source, plan = Path(folder, "problem.json"), Path(folder, "plan.json")
        source.write_text(json.dumps(problem))
        result = _cli.invoke(
            cli_app, ["allocate", str(source), "--out", str(plan), "--engine", "greedy", "-q"]
        )
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert _printable(first_error) in _printable(result.stderr)
        assert not plan.exists()


def _printable(text: str) -> str:
    """``text`` as a terminal shows it: rich drops control characters and may wrap lines."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
