"""Bounded work per request: a body over its limit is refused (413) before it is read
whole, parsed or its key checked; a URL holding NUL is refused (422).

On both databases, through the test client; and once against a real server (uvicorn
in a thread) streaming 200 MB, which must be cut off at once while /healthz answers.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.requests import Request

from api.app import create_app
from api.limits import RequestLimits
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 64 * 1024


@pytest.fixture
def small_bodies(settings: Settings) -> Iterator[TestClient]:
    settings.max_body_bytes = LIMIT
    settings.max_upload_bytes = 2 * LIMIT
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _big_json(size: int) -> bytes:
    return json.dumps({"request_id": "x" * size}).encode()


def _chunks(size: int) -> Iterator[bytes]:  # no Content-Length: counted as it streams
    sent = 0
    while sent < size:
        sent += 8192
        yield b" " * 8192


@pytest.mark.parametrize("keyed", [False, True], ids=["no key", "a key"])
def test_a_body_over_the_limit_is_413_before_the_key_is_checked(
    small_bodies: TestClient, key_for: Any, keyed: bool
) -> None:
    headers = {**(key_for("admin") if keyed else {}), "Content-Type": "application/json"}
    declared = small_bodies.post("/v1/requests", content=_big_json(2 * LIMIT), headers=headers)
    streamed = small_bodies.post("/v1/requests", content=_chunks(2 * LIMIT), headers=headers)
    for answer in (declared, streamed):
        assert answer.status_code == 413, answer.text
        assert answer.json()["error"] == "too_large"
        assert answer.json()["detail"].startswith("body:") and "65,536" in answer.json()["detail"]


def test_bodies_under_the_limit_and_uploads_up_to_theirs_pass(
    small_bodies: TestClient, key_for: Any
) -> None:
    admin = key_for("admin") | {"Content-Type": "application/json"}
    # Just under the body limit: parsed, then refused for what it says, not its size.
    under = small_bodies.post("/v1/requests", content=_big_json(LIMIT - 100), headers=admin)
    assert under.status_code == 422 and under.json()["error"] == "invalid_input"
    # The import has the upload limit (twice the body limit here): not 413, a bad file.
    upload = small_bodies.post("/v1/imports", content=_chunks(LIMIT + 8192), headers=admin)
    assert upload.status_code == 422 and "not an .xlsx" in upload.json()["detail"]
    too_big = small_bodies.post("/v1/imports", content=_chunks(3 * LIMIT), headers=admin)
    assert too_big.status_code == 413 and "131,072" in too_big.json()["detail"]


def test_the_county_problem_fits_the_default_body_limit(
    client: TestClient, admin: dict[str, str]
) -> None:
    data = (ROOT / "fixtures" / "county-1.json").read_bytes()
    indented = json.dumps(json.loads(data), indent=4).encode()  # as an editor may save it
    assert len(indented) < Settings().max_body_bytes
    headers = admin | {"Content-Type": "application/json"}
    answer = client.post("/v1/problem", content=indented, headers=headers)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["cases"] == 2000


@pytest.mark.parametrize(
    "url",
    [
        "/v1/feeds/providers/P%00.ics?token=x",  # unauthenticated, NUL in the path
        "/v1/feeds/providers/P-1.ics?token=x%00",  # NUL in the query
        "/v1/bookings/B%001",
        "/v1/bookings?case_id=C%001",
    ],
)
def test_nul_in_the_url_is_422(client: TestClient, url: str) -> None:
    answer = client.get(url)
    assert answer.status_code == 422 and answer.json()["error"] == "invalid_input"
    assert answer.json()["detail"].split(":")[0] in ("path", "query")


# ---------------------------------------------------------------------------- ASGI level


def test_the_middleware_stops_reading_a_stream_at_the_limit() -> None:
    """A gigabyte announced as chunks: only the chunks up to the limit are ever pulled."""
    pulled = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1024, "more_body": pulled < 2**20}

    async def app(scope: Any, receive: Any, send: Any) -> None:  # parses like a route
        await Request(scope, receive).json()

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/problem", "headers": []}

    anyio.run(RequestLimits(app, body_bytes=10 * 1024, upload_bytes=1), scope, receive, send)
    assert pulled == 11  # the eleventh kilobyte passes the limit: nothing more is read
    assert sent[0]["status"] == 413 and json.loads(sent[1]["body"])["error"] == "too_large"


# ---------------------------------------------------------------------------- a real server


@pytest.fixture
def live(settings: Settings) -> Iterator[int]:
    """The service on a free port in this process (uvicorn in a thread)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


def _stream_post(port: int, path: str, headers: dict[str, str], total: int) -> tuple[int, int]:
    """POST ``total`` bytes as chunks until the server answers; (status, bytes sent)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Transfer-Encoding: chunked"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"  # 64 KiB
        sent = 0
        while sent < total and not select.select([sock], [], [], 0)[0]:  # not answered yet
            try:
                sock.sendall(chunk)
            except OSError:  # the server closed the connection after answering
                break
            sent += 0x10000
        status = sock.recv(64).split(b" ")[1]
        return int(status), sent


@pytest.mark.parametrize("keyed", [False, True], ids=["no key", "a key"])
def test_a_real_server_cuts_a_200_mb_stream_off_at_once(
    live: int, key_for: Any, keyed: bool
) -> None:
    headers = {"Content-Type": "application/json"}
    if keyed:
        headers |= key_for("admin")
    seconds: list[float] = []
    done = threading.Event()

    def poll_health() -> None:
        while not done.is_set():
            began = time.monotonic()
            httpx.get(f"http://127.0.0.1:{live}/healthz", timeout=10)
            seconds.append(time.monotonic() - began)

    poller = threading.Thread(target=poll_health)
    poller.start()
    began = time.monotonic()
    status, sent = _stream_post(live, "/v1/requests", headers, 200 * 2**20)
    elapsed = time.monotonic() - began
    done.set()
    poller.join()
    assert status == 413
    assert sent < 64 * 2**20  # the server stopped reading near its 8 MiB limit
    assert elapsed < 5, elapsed
    assert max(seconds) < 1, seconds


# ---------------------------------------------------------------------------- counts and sizes


TOO_MUCH = [
    # the run: a horizon of 2.9 million nights
    (
        "/v1/allocation-runs",
        {
            "engine": "greedy",
            "time_limit": 1,
            "horizon": {"first_night": "1000-01-01", "last_night": "9000-12-31"},
        },
        "body.horizon.first_night",
    ),
    (
        "/v1/allocation-runs",
        {"horizon": {"first_night": "2025-03-03", "last_night": "2026-03-31"}},
        "body.horizon: last_night 2026-03-31 makes a horizon of 394 nights; at most 366",
    ),
    ("/v1/allocation-runs", {"seed": 10**30}, "body.seed"),  # CP-SAT takes a 32-bit seed
    ("/v1/allocation-runs", {"time_limit": 10**9}, "body.time_limit"),
    ("/v1/allocation-runs", {"time_limit": 0}, "body.time_limit"),
    # a hand booking of two million nights held SQLite's write lock for 25 s
    (
        "/v1/bookings",
        {
            "kind": "stay",
            "request_id": "R-1",
            "bed_id": "B-N1-1",
            "first_night": "2025-03-03",
            "nights": 2 * 10**6,
        },
        "body.stay.nights",
    ),
    # a stay from the last date there is would overflow
    (
        "/v1/bookings",
        {
            "kind": "stay",
            "request_id": "R-1",
            "bed_id": "B-N1-1",
            "first_night": "9999-12-31",
            "nights": 2,
        },
        "body.stay.first_night",
    ),
    # a clock time names its field
    (
        "/v1/bookings",
        {
            "kind": "visit",
            "request_id": "R-4",
            "visit_id": "V1",
            "provider_id": "P-1",
            "day": "2025-03-04",
            "start": "25:99",
        },
        "body.visit.start: '25:99' is not a time",
    ),
    # ids past the 64 characters of their column, with a line break, or NUL
    (
        "/v1/bookings",
        {
            "kind": "stay",
            "request_id": "R" * 65,
            "bed_id": "B",
            "first_night": "2025-03-03",
            "nights": 1,
        },
        "body.stay.request_id",
    ),
    ("/v1/api-keys", {"name": "agency", "role": "provider", "provider_id": ""}, "body.provider_id"),
    ("/v1/api-keys", {"name": "agency\x00", "role": "admin"}, "body.name"),
    ("/v1/api-keys", {"name": "a" * 201, "role": "admin"}, "body.name"),
]


@pytest.mark.parametrize(("url", "body", "message"), TOO_MUCH)
def test_sizes_past_their_limits_are_422_naming_the_field(
    client: TestClient, admin: dict[str, str], loaded: Any, url: str, body: Any, message: str
) -> None:
    began = time.monotonic()
    answer = client.post(url, json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith(message), answer.json()["detail"]
    assert time.monotonic() - began < 2


def test_a_case_id_with_a_name_in_it_is_refused(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    request = {
        "request_id": "R-9",
        "case_id": "Jane Smith\nDOB 1950",
        "kind": "stay",
        "priority": "planned",
        "received": "2025-02-01",
        "nights": 2,
        "earliest_start": "2025-03-03",
        "latest_start": "2025-03-04",
        "max_travel_km": 10,
    }
    answer = client.post("/v1/requests", json=request, headers=admin)
    assert answer.status_code == 422 and "case_id" in answer.json()["detail"], answer.text
    long_id = client.post(
        "/v1/requests", json=request | {"case_id": "C-" + "9" * 70}, headers=admin
    )
    assert long_id.status_code == 422 and "case_id" in long_id.json()["detail"]
    staff = client.put(
        "/v1/units/U-N1/night-staff/2025-03-04", json={"staff": 2**40}, headers=admin
    )
    assert staff.status_code == 422 and "staff" in staff.json()["detail"], staff.text


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[base]\ntier = "tiny"\n[[variants]]\nname = "v"\n'
            'changes = [{ kind = "add_beds", unit = "U-01", count = 1000000000 }]\n',
            "count must be at most 1,000",
        ),
        ('[base]\ntier = "tiny"\n[simulation]\nweeks = 1000000000\n', "simulation.weeks"),
        ('[base]\ntier = "tiny"\n[simulation]\nreplications = 1000000000\n', "replications"),
        ('[base]\ntier = "tiny"\n[simulation]\nseed = "abc"\n', "simulation.seed"),
    ],
)
def test_a_scenario_past_its_limits_is_422_at_once(
    client: TestClient, admin: dict[str, str], toml: str, message: str
) -> None:
    began = time.monotonic()
    answer = client.post("/v1/scenarios", content=toml.encode(), headers=admin)
    assert answer.status_code == 422 and message in answer.json()["detail"], answer.text
    assert time.monotonic() - began < 5


def test_an_import_that_unpacks_past_the_limit_is_refused_at_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    from tests.scheduler.test_limits import _bomb

    began = time.monotonic()
    answer = client.post("/v1/imports", content=_bomb(40 * 2**20), headers=admin)
    assert answer.status_code == 422, answer.text
    assert "over the limit of 33,554,432" in answer.json()["detail"]
    assert time.monotonic() - began < 3
