"""Every failure answers in the one JSON error shape, on SQLite and PostgreSQL.

The repros of issue 20 (item 7) first, then the catch-all itself: an exception
raised in a route, in a middleware, in a failing error handler or in a stream
answers ``{"error", "detail"}`` (500 ``internal_error`` with a reference, no
internals) and its traceback is logged under that reference.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from sqlalchemy.exc import DataError
from starlette.types import Receive, Scope, Send

from api.app import create_app
from api.failures import refused_input
from api.settings import Settings

TOML = {"Content-Type": "application/toml"}


def _shape(response: Any) -> dict[str, Any]:
    """The body, after checking it is the one error shape."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= {"error", "detail"}, body
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


@pytest.mark.parametrize(
    ("method", "url", "payload", "status", "named"),
    [
        # a seed past any database integer: SQLite's OverflowError, PostgreSQL's DataError
        ("POST", "/v1/allocation-runs", {"engine": "greedy", "seed": 10**30}, 422, ""),
        # a NUL in an unauthenticated feed URL: PostgreSQL cannot even look it up
        ("GET", "/v1/feeds/providers/P%00.ics?token=x", None, 422, "NUL"),
        # a NUL in the token of the same feed
        ("GET", "/v1/feeds/providers/P-1.ics?token=x%00", None, 422, "NUL"),
        # the scenario's simulation seed is not a number
        ("TOML", "/v1/scenarios", '[base]\ntier = "tiny"\n[simulation]\nseed = "abc"\n', 422,
         "simulation.seed"),
        # the scenario's base seed is not a number
        ("TOML", "/v1/scenarios", '[base]\ntier = "tiny"\nseed = "abc"\n', 422, "base.seed"),
        # Starlette's own answers keep the shape
        ("GET", "/v1/no-such-route", None, 404, ""),
        ("DELETE", "/v1/units", None, 405, ""),
        # a body that is not JSON
        ("RAW", "/v1/localities", b"{", 422, "body"),
        # a body nested deeper than the parser goes, or a number of 5000 digits
        ("RAW", "/v1/problem", b"[" * 100_000 + b"]" * 100_000, 400, "parsing the body"),
        ("RAW", "/v1/problem", b"1" * 5_000, 400, "parsing the body"),
    ],
)  # fmt: skip
def test_the_repros_answer_a_clear_json_error(
    client: TestClient,
    admin: dict[str, str],
    loaded: Any,
    method: str,
    url: str,
    payload: Any,
    status: int,
    named: str,
) -> None:
    if method == "TOML":
        response = client.post(url, content=payload, headers=admin | TOML)
    elif method == "RAW":
        json_type = {"Content-Type": "application/json"}
        response = client.post(url, content=payload, headers=admin | json_type)
    else:
        response = client.request(method, url, json=payload, headers=admin)
    assert response.status_code == status, response.text
    assert named in _shape(response)["detail"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        # longer than the column (64 characters on PostgreSQL)
        ("locality_id", "L" * 100),
        # a NUL character, which PostgreSQL's text cannot hold
        ("locality_id", "L-\x00"),
    ],
)
def test_a_value_the_database_refuses_is_a_422_naming_the_field(
    client: TestClient, admin: dict[str, str], field: str, value: str, database_url: str
) -> None:
    response = client.post("/v1/localities", json={field: value, "name": "x"}, headers=admin)
    if database_url.startswith("sqlite") and response.status_code == 201:
        return  # SQLite stores it; the models' own limits are another change's
    assert response.status_code == 422, response.text
    assert field in _shape(response)["detail"]


# ---------------------------------------------------------------------------- the catch-all


class Boom(Exception):
    """An exception nobody handles; its message must not reach the client."""


SECRET = "internal detail: /srv/respite/secret.py line 42"


def _app_with_faults(settings: Settings) -> FastAPI:
    app = create_app(settings)

    def route_fails() -> None:
        raise Boom(SECRET)

    def stream_fails() -> StreamingResponse:
        def chunks() -> Iterator[bytes]:
            yield b"first line\n"
            raise Boom(SECRET)

        return StreamingResponse(chunks(), media_type="text/plain")

    def raises_database_error() -> None:
        params = {"provider_id_1_1": "P\x00", "limit": 10}
        raise DataError(
            "SELECT ...", params, ValueError("PostgreSQL text fields cannot contain NUL")
        )

    app.add_api_route("/test/route-fails", route_fails)
    app.add_api_route("/test/stream-fails", stream_fails)
    app.add_api_route("/test/database-error", raises_database_error)

    async def middleware_fails(scope: Scope, receive: Receive, send: Send) -> None:
        raise Boom(SECRET)

    class FailingMiddleware:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] == "/test/middleware-fails":
                await middleware_fails(scope, receive, send)
                return
            await self.inner(scope, receive, send)

    app.add_middleware(FailingMiddleware)
    return app


@pytest.fixture
def faulty(settings: Settings) -> Iterator[TestClient]:
    with TestClient(_app_with_faults(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/test/route-fails", "/test/middleware-fails"])
def test_an_unexpected_exception_is_a_json_500_logged_with_its_traceback(
    faulty: TestClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    with caplog.at_level(logging.ERROR, logger="api.failures"):
        response = faulty.get(f"{path}?token=feed-secret")
    assert response.status_code == 500
    body = _shape(response)
    assert body["error"] == "internal_error"
    assert SECRET not in response.text and "Boom" not in response.text
    reference = body["detail"].rsplit(" ", 1)[1]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert len(logged) == 1  # once, though two layers saw it
    assert logged[0].exc_info is not None and logged[0].exc_info[0] is Boom
    assert "feed-secret" not in logged[0].getMessage()  # the path only, never the query


def test_a_stream_that_fails_after_it_started_is_logged_not_answered_twice(
    faulty: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    # The status went out with the first chunk: the only honest thing left is to
    # break off the answer (the server closes the connection) and log why.
    with caplog.at_level(logging.ERROR, logger="api.failures"):
        response = faulty.get("/test/stream-fails")
    assert response.status_code == 200
    assert response.content == b"first line\n"  # nothing of the error appended
    assert any(r.exc_info and r.exc_info[0] is Boom for r in caplog.records)


def test_a_database_error_names_the_field_from_the_statement(faulty: TestClient) -> None:
    response = faulty.get("/test/database-error")
    assert response.status_code == 422
    assert _shape(response)["detail"] == "provider_id: must not contain a NUL (\\x00) character"


@pytest.mark.parametrize(
    ("exc", "detail"),
    [
        # PostgreSQL: a value longer than its column; the parameter names the field
        (
            DataError(
                "INSERT ...",
                {"name": "x" * 300, "unit_id": "U"},
                ValueError("value too long for type character varying(200)"),
            ),
            "name: is too long (at most 200 characters)",
        ),
        # PostgreSQL: an integer out of range, many rows at once (executemany)
        (
            DataError(
                "INSERT ...", [{"seed": 1}, {"seed": 10**30}], ValueError("integer out of range")
            ),
            "seed: is out of range",
        ),
        # a refusal that names no parameter
        (
            DataError("SELECT ...", None, ValueError("invalid input syntax for type date")),
            "a value in the request cannot be stored (too long, out of range or malformed)",
        ),
        # SQLite: a Python int past 64 bits; or a date past 9999-12-31
        (OverflowError("Python int too large"), "a number or date in the request is too large"),
        # JSON nested deeper than the parser goes
        (RecursionError("maximum recursion depth"), "the request is nested too deeply to read"),
    ],
)  # fmt: skip
def test_refused_input_names_what_it_can(exc: Exception, detail: str) -> None:
    refused = refused_input(exc)
    assert refused is not None and refused.status_code == 422
    assert refused.detail == detail


def test_other_exceptions_are_not_input_errors() -> None:
    assert refused_input(Boom("x")) is None and refused_input(KeyError("x")) is None
