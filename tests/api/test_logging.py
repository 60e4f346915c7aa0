"""What the service writes to its logs: no feed tokens, no API keys, and of a carer's
data nothing beyond the case reference (the problem file holds no names or addresses;
home coordinates, age and sex must not leak either)."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from conftest import tiny_problem

from api.app import create_app
from api.logs import redact
from api.schemas import ApiKeyCreate
from api.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LoggedServer:
    """The service run by uvicorn on a free port, every log line captured."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.config = uvicorn.Config(self.app, host="127.0.0.1", port=_free_port(), access_log=True)
        self.logs = io.StringIO()
        self.base = f"http://127.0.0.1:{self.config.port}"

    def admin(self) -> dict[str, str]:
        keys = self.app.state.services.keys
        token = keys.create(ApiKeyCreate(name="t", role="admin"), actor="t").token
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def server(settings: Settings) -> Iterator[LoggedServer]:
    running = LoggedServer(settings)
    handler = logging.StreamHandler(running.logs)
    handler.setLevel(logging.DEBUG)
    watched = [
        logging.getLogger(),
        logging.getLogger("uvicorn.access"),
        logging.getLogger("uvicorn.error"),
    ]
    for logger in watched:
        logger.addHandler(handler)
    uvicorn_server = uvicorn.Server(running.config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    try:
        while not uvicorn_server.started:
            time.sleep(0.05)
        yield running
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=10)
        for logger in watched:
            logger.removeHandler(handler)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_logs_hold_no_secrets_and_no_personal_data(server: LoggedServer) -> None:
    problem = tiny_problem()
    base, admin = server.base, server.admin()
    token = admin["Authorization"].removeprefix("Bearer ")
    assert httpx.post(f"{base}/v1/problem", json=problem, headers=admin).status_code == 200
    case = problem["cases"][0]
    httpx.get(f"{base}/v1/cases/{case['case_id']}", headers=admin)
    httpx.post(f"{base}/v1/cases", json=case, headers=admin)  # 409/422: an error path too
    feed = httpx.post(f"{base}/v1/feeds/units/U-N1/token", headers=admin).json()["url"]
    httpx.get(feed)
    httpx.get(f"{base}/v1/units", headers={"Authorization": "Bearer rsp_wrong-key"})
    text = server.logs.getvalue()
    assert "/v1/cases/C-1" in text  # the reference may be logged, and was
    secrets = [token, feed.split("token=", 1)[1], "rsp_wrong-key"]
    personal = [str(case["home"]["lat"]), str(case["home"]["lon"]), '"age"', '"sex"', "female"]
    for value in secrets + personal:
        assert value not in text, value


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_feed_token_never_reaches_the_log_however_its_name_is_spelt(
    server: LoggedServer,
) -> None:
    base, admin = server.base, server.admin()
    assert httpx.post(f"{base}/v1/problem", json=tiny_problem(), headers=admin).is_success
    url = httpx.post(f"{base}/v1/feeds/units/U-N1/token", headers=admin).json()["url"]
    feed, secret = url.split("?token=")
    served = {
        # the name percent-encoded: the server decodes it to "token" and serves the feed
        f"{feed}?tok%65n={secret}": 200,
        # encoded whole, with another parameter before it
        f"{feed}?x=1&%74%6F%6B%65%6E={secret}": 200,
        # mistyped: only the exact name opens the feed, but the value is still a secret
        f"{feed}?TOKEN={secret}": 404,
        f"{feed}?Token={secret}&x=1": 404,
        # a token on a path that is not a feed: its value is redacted all the same
        f"{base}/healthz?tok%45N={secret}": 200,
    }
    for address, status in served.items():
        assert httpx.get(address).status_code == status, address
    text = server.logs.getvalue()
    assert secret not in text
    assert text.count("[redacted]") >= len(served)


@pytest.mark.parametrize(
    ("line", "redacted"),
    [
        # the plain name, on a path that is not a feed: only its value goes
        ("GET /v1/units?limit=5&token=abc HTTP/1.1",
         "GET /v1/units?limit=5&token=[redacted] HTTP/1.1"),
        # percent-encoded name, and upper case
        ("/v1/units?tok%65n=abc&TOKEN=def", "/v1/units?tok%65n=[redacted]&TOKEN=[redacted]"),
        # a name encoded twice, and with a plus for a space around it
        ("/x?tok%2565n=abc&+token+=def", "/x?tok%2565n=[redacted]&+token+=[redacted]"),
        # a feed path: every value, whatever the names (which stay, to show a typo)
        ('"GET /v1/feeds/units/U-1.ics?tokn=abc&x=1&abc HTTP/1.1"',
         '"GET /v1/feeds/units/U-1.ics?tokn=[redacted]&x=[redacted]&[redacted] HTTP/1.1"'),
        # no query, or no secret in it: unchanged
        ("Did you mean this? yes", "Did you mean this? yes"),
        ("/v1/units?tokens=abc&token", "/v1/units?tokens=abc&token"),
    ],
)  # fmt: skip
def test_redact_reads_query_strings_as_the_server_parses_them(line: str, redacted: str) -> None:
    assert redact(line) == redacted
