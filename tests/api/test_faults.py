"""Faults: the server killed (SIGKILL) in the middle of a publish, then started again.

A publish is one transaction: afterwards the run's bookings are all there or none
of them, no bed-night is held twice, no job is left running, and the service
answers again without repair. This runs the real ``respite serve`` in a
subprocess, on a SQLite file (WAL), with the county fixture.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, database: Path):
        self.database = database
        self.port = _free_port()
        self.process: subprocess.Popen[str] | None = None
        self.log = database.with_suffix(".log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, demo: bool) -> None:
        env = os.environ | {"RESPITE_DATABASE_URL": f"sqlite:///{self.database}"}
        command = ["serve", "--port", str(self.port), *(["--demo"] if demo else [])]
        with open(self.log, "a") as output:  # a file, not a pipe: logs never block the server
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from api.cli import main; main()", *command],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "respite.db")
    yield running
    if running.process is not None and running.process.poll() is None:
        running.process.terminate()
        running.process.wait(timeout=10)


@pytest.mark.slow
def test_a_server_killed_mid_publish_leaves_all_or_nothing(server: Server) -> None:
    server.start(demo=True)
    key = next(
        line.rsplit(": ", 1)[1].strip()
        for line in server.log.read_text().splitlines()
        if "shown once" in line
    )
    headers = {"Authorization": f"Bearer {key}"}
    run = httpx.post(
        f"{server.base}/v1/allocation-runs", json={"engine": "greedy"}, headers=headers
    )
    url = f"{server.base}/v1/allocation-runs/{run.json()['run_id']}"
    deadline = time.monotonic() + 120
    while httpx.get(url, headers=headers).json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    plan = httpx.get(f"{url}/plan", headers=headers, timeout=30).json()
    before = httpx.get(f"{server.base}/v1/bookings?limit=1", headers=headers).json()
    booked = before["pagination"]["total"]

    def publish() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it
            httpx.post(f"{url}/publish", headers=headers, timeout=60)

    sender = threading.Thread(target=publish)
    sender.start()
    time.sleep(0.4)  # the publish is under way: thousands of bookings in one transaction
    server.kill()
    sender.join(timeout=30)

    server.start(demo=False)
    after = httpx.get(f"{server.base}/v1/bookings?limit=1", headers=headers).json()
    new = after["pagination"]["total"] - booked
    fresh = len(plan["stays"]) + len(plan["visits"]) - booked
    assert new in (0, fresh), (new, fresh)  # all of the run's bookings, or none
    engine = create_engine(f"sqlite:///{server.database}")
    with engine.connect() as connection:
        twice = connection.execute(
            text("SELECT bed_id, night FROM bed_nights GROUP BY bed_id, night HAVING COUNT(*) > 1")
        ).all()
        running = connection.execute(
            text("SELECT run_id FROM allocation_runs WHERE status IN ('queued', 'running')")
        ).all()
    engine.dispose()
    assert twice == [] and running == []
    # The service answers again, and the run can be published (again) without repair.
    again = httpx.post(f"{url}/publish", headers=headers, timeout=60)
    assert again.status_code == (200 if new == 0 else 409), again.text


@pytest.mark.postgres
def test_the_service_answers_again_after_the_database_drops_its_connections(
    postgres_url: str,
) -> None:
    # Every connection of the service to PostgreSQL is terminated while readers are busy.
    # Requests caught mid-query may fail (500, never a hang); afterwards every request
    # succeeds again with no repair (the pool checks connections before use).
    from concurrent.futures import ThreadPoolExecutor

    from conftest import FAKE_ALLOCATOR, _empty_postgres, tiny_problem
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.schemas import ApiKeyCreate
    from api.settings import Settings

    settings = Settings(database_url=postgres_url, allocator=FAKE_ALLOCATOR, workers=1)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        keys = client.app.state.services.keys  # type: ignore[attr-defined]
        token = keys.create(ApiKeyCreate(name="t", role="admin"), actor="t").token
        admin = {"Authorization": f"Bearer {token}"}
        assert client.post(
            "/v1/problem?replace=true", json=tiny_problem(), headers=admin
        ).is_success

        def read(_: int) -> int:
            return client.get("/v1/bookings", headers=admin).status_code

        name = postgres_url.rsplit("/", 1)[1]
        killer = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres")
        with ThreadPoolExecutor(4) as pool:
            during = pool.map(read, range(40))
            with killer.connect() as connection:
                killed = connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                ).all()
            statuses = list(during)
        killer.dispose()
        assert killed, "there were connections to drop"
        assert set(statuses) <= {200, 500}
        after = [read(i) for i in range(10)]
        assert after == [200] * 10
        assert client.get("/readyz").status_code == 200
    _empty_postgres(postgres_url)  # the session's database, as the next test expects it
