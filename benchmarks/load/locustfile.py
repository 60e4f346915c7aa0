"""The load test's users, weighted as a council's week looks.

Keys and feed URLs come from the environment (``benchmarks.load.run`` prepares
them): RESPITE_LOAD_KEYS (JSON role -> token), RESPITE_LOAD_FEEDS (JSON list of
feed paths with their tokens), RESPITE_LOAD_RUN (a finished run's id);
RESPITE_LOAD_SCENARIO_SHARE (default 0.2) is the share of planners who start a scenario.
Request names group the statistics: "feed", "read", "write".
"""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, between, task

KEYS = json.loads(os.environ.get("RESPITE_LOAD_KEYS", "{}"))
FEEDS = json.loads(os.environ.get("RESPITE_LOAD_FEEDS", "[]"))
RUN = os.environ.get("RESPITE_LOAD_RUN", "")
SCENARIO = """[base]
tier = "tiny"
[simulation]
weeks = 2
replications = 2
[[variants]]
name = "today"
"""


def _auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


class Provider(HttpUser):
    """A calendar client refreshing a feed; most refreshes are unchanged (304)."""

    weight = 6
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.feed = random.choice(FEEDS)
        self.etag: str | None = None

    @task
    def refresh(self) -> None:
        headers = {"If-None-Match": self.etag} if self.etag else {}
        with self.client.get(self.feed, headers=headers, name="feed", catch_response=True) as r:
            if r.status_code in (200, 304):
                self.etag = r.headers.get("etag", self.etag)
                r.success()
            else:
                r.failure(f"feed answered {r.status_code}")


class Broker(HttpUser):
    """Reads runs, bookings and reports; now and then books by hand (409 is fine)."""

    weight = 3
    wait_time = between(1, 3)

    @task(4)
    def bookings(self) -> None:
        self.client.get("/v1/bookings?limit=50", headers=_auth("broker"), name="read")

    @task(2)
    def runs(self) -> None:
        self.client.get("/v1/allocation-runs?limit=20", headers=_auth("broker"), name="read")
        self.client.get(f"/v1/allocation-runs/{RUN}", headers=_auth("broker"), name="read")

    @task(1)
    def report(self) -> None:
        self.client.get(f"/v1/reports/served?run_id={RUN}", headers=_auth("broker"), name="read")

    @task(1)
    def book(self) -> None:
        body = {
            "kind": "stay",
            "request_id": "R-00001",
            "bed_id": "U-01-B01",
            "first_night": "2025-07-20",
            "nights": 1,
        }
        with self.client.post(
            "/v1/bookings", json=body, headers=_auth("broker"), name="write", catch_response=True
        ) as r:
            if r.status_code in (201, 409, 422):  # taken, or a rule: expected answers
                r.success()
            else:
                r.failure(f"booking answered {r.status_code}")


class Planner(HttpUser):
    """Reads reports and scenarios; one planner in five starts a (small) scenario."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        if random.random() < float(os.environ.get("RESPITE_LOAD_SCENARIO_SHARE", "0.2")):
            headers = _auth("planner") | {"Content-Type": "application/toml"}
            self.client.post("/v1/scenarios", data=SCENARIO, headers=headers, name="write")

    @task
    def reports(self) -> None:
        self.client.get("/v1/reports/occupancy", headers=_auth("planner"), name="read")
        self.client.get("/v1/scenarios?limit=10", headers=_auth("planner"), name="read")
