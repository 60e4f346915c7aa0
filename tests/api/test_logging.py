"""What the service writes to its logs: no feed tokens, no API keys, and of a carer's
data nothing beyond the case reference (the problem file holds no names or addresses;
home coordinates, age and sex must not leak either)."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from conftest import tiny_problem

from api.app import create_app
from api.schemas import ApiKeyCreate
from api.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_logs_hold_no_secrets_and_no_personal_data(settings: Settings) -> None:
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), access_log=True)
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    watched = [root, logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")]
    for logger in watched:
        logger.addHandler(handler)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    problem = tiny_problem()
    try:
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{config.port}"
        token = app.state.services.keys.create(
            ApiKeyCreate(name="t", role="admin"), actor="t"
        ).token
        admin = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{base}/v1/problem", json=problem, headers=admin).status_code == 200
        case = problem["cases"][0]
        httpx.get(f"{base}/v1/cases/{case['case_id']}", headers=admin)
        httpx.post(f"{base}/v1/cases", json=case, headers=admin)  # 409/422: an error path too
        feed = httpx.post(f"{base}/v1/feeds/units/U-N1/token", headers=admin).json()["url"]
        httpx.get(feed)
        httpx.get(f"{base}/v1/units", headers={"Authorization": "Bearer rsp_wrong-key"})
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for logger in watched:
            logger.removeHandler(handler)
    text = logs.getvalue()
    assert "/v1/cases/C-1" in text  # the reference may be logged, and was
    secrets = [token, feed.split("token=", 1)[1], "rsp_wrong-key"]
    personal = [str(case["home"]["lat"]), str(case["home"]["lon"]), '"age"', '"sex"', "female"]
    for value in secrets + personal:
        assert value not in text, value
