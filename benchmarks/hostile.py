"""The hostile benchmark: throw careless and hostile input at a running server for a
bounded time, 5 clients at once, and check that it held.

    .venv/bin/python -m benchmarks.hostile [--db sqlite|postgres] [--seconds 60]
        [--memory-mb 2048] [--examples 20]

It starts ``respite serve --demo`` on a free 127.0.0.1 port (a fresh SQLite file,
or a fresh database on the PostgreSQL at 127.0.0.1:5432, dropped afterwards),
publishes a greedy run, and then, until the time is up, its clients send:
oversized bodies, huge horizons, a booking of 2,000,000 nights, dates at
9999-12-31, seeds of 10^30, NUL bytes and long ids, scenarios of 10^9 beds, weeks
or replications, a zip bomb, feed tokens under percent-encoded or mistyped names,
PATCH and DELETE of one booking at once with the same If-Match, and requests that
schemathesis generates from the OpenAPI schema (``--examples`` per operation).
Meanwhile it samples the memory of the server and its children (psutil) and the
latency of ``/healthz``. A server whose memory passes twice the cap is stopped.

Checks at the end (exit 1 if one is missed): the server's memory stayed under
``--memory-mb``; ``/healthz`` p95 under 100 ms; no 5xx answered; no race won by
both writers; no feed token in the server's log; and in the database no bed-night
held twice and no booking whose rows disagree with its status. The table is
printed and written to ``benchmarks/results/hostile-DB.md``.

The server runs with ``RESPITE_SCENARIO_MEMORY_MB=512`` (each scenario process),
``RESPITE_SCENARIO_SECONDS=30`` and one what-if worker, so that the memory cap
holds what the scenarios may take.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from benchmarks.load.run import _database, _free_port, _prepare, _wait

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 5
HEALTHZ_P95_MS = 100.0
SAMPLE_SECONDS = 0.25
TIMEOUT = 30.0
BODY_MB = 64  # an oversized JSON body, sent without a key
BOMB_MB = 200  # a CSV that a zip of a few hundred kB unpacks to
SERVER_ENV = {
    "RESPITE_WHATIF_WORKERS": "1",
    "RESPITE_SCENARIO_MEMORY_MB": "512",
    "RESPITE_SCENARIO_SECONDS": "30",
}
SCENARIO = """[base]
tier = "tiny"
seed = 1

[simulation]
weeks = {weeks}
replications = {replications}
seed = {seed}

[[variants]]
name = "today"

[[variants]]
name = "more beds"
changes = [{{ kind = "add_beds", unit = "U-01", count = {count} }}]
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--examples", type=int, default=20, help="schemathesis, per operation")
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "results"
    url, drop = _database(args.db)
    try:
        report = _bench(args, url, out)
    finally:
        drop()
    return _judge(args, report, out)


@dataclass
class Report:
    """What the benchmark saw."""

    sent: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, str]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    both_won: int = 0
    memory_mb: float = 0.0
    stopped: str = ""
    healthz_ms: list[float] = field(default_factory=list)
    leaked_tokens: int = 0
    twice_held: int = -1
    disagreeing: int = -1
    seconds: float = 0.0


def _bench(args: argparse.Namespace, url: str, out: Path) -> Report:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = Path(tempfile.mkdtemp(prefix="respite-hostile-")) / "server.log"
    print(f"server log: {log_path}")
    env = os.environ | SERVER_ENV | {"RESPITE_DATABASE_URL": url}
    command = [sys.executable, "-c", "from api.cli import main; main()", "serve", "--demo"]
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        report = Report()
        try:
            _wait(base)
            admin = next(
                line.rsplit(": ", 1)[1].strip()
                for line in log_path.read_text().splitlines()
                if "shown once" in line
            )
            keys, feeds, _run = _prepare(base, admin)
            hostile = Hostile(base, keys, feeds, report)
            hostile.prepare(args.examples)
            _run_for(args, hostile, server.pid)
        finally:
            _stop(server)
    report.leaked_tokens = sum(
        log_path.read_text(errors="replace").count(token) for token in _tokens(feeds)
    )
    report.twice_held, report.disagreeing = database_checks(url)
    return report


def _run_for(args: argparse.Namespace, hostile: Hostile, pid: int) -> None:
    deadline = time.monotonic() + args.seconds
    started = time.monotonic()
    sampler = Sampler(hostile.base, pid, args.memory_mb, hostile.report)
    sampler.start()
    clients = [
        threading.Thread(target=hostile.client, args=(n, deadline), daemon=True)
        for n in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    for client in clients:
        client.join(timeout=args.seconds + 2 * TIMEOUT)
    sampler.halt.set()
    sampler.join()
    hostile.report.seconds = time.monotonic() - started


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server and whatever it started (workers, scenario processes)."""
    try:
        children = psutil.Process(server.pid).children(recursive=True)
    except psutil.Error:
        children = []
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    for child in children:
        if child.is_running():
            child.kill()


def _tokens(feeds: list[str]) -> list[str]:
    return [url.split("token=", 1)[1] for url in feeds if "token=" in url]


def database_checks(url: str) -> tuple[int, int]:
    """How many bed-nights are held twice, and how many bookings hold rows that
    disagree with their status (a cancelled booking holding its bed-nights)."""
    from api.db import Database
    from api.repositories import BookingRepository

    db = Database(url)
    try:
        with db.read() as session:
            repo = BookingRepository(session)
            return len(repo.twice_held_bed_nights()), len(repo.disagreeing())
    finally:
        db.dispose()


# ------------------------------------------------------------------------ the clients


class Hostile:
    """The hostile requests, by kind; each client thread sends kind after kind."""

    def __init__(self, base: str, keys: dict[str, str], feeds: list[str], report: Report) -> None:
        self.base = base
        self.admin = {"Authorization": f"Bearer {keys['admin']}"}
        self.planner = {"Authorization": f"Bearer {keys['planner']}"}
        self.feeds = feeds
        self.report = report
        self._lock = threading.Lock()
        self._stays: list[str] = []
        self._cases: list[Any] = []
        self._bomb = b""
        self.kinds: dict[str, tuple[Callable[[httpx.Client], None], int]] = {
            # name: (what it sends, at most this many at once)
            "oversized body": (self._oversized, 2),
            "huge horizon": (self._horizon, 1),
            "2,000,000 nights": (self._nights, 1),
            "date 9999-12-31": (self._far_date, 2),
            "seed 10^30": (self._seed, 1),
            "NUL bytes, long ids": (self._nul_and_long, 3),
            "scenario of 10^9": (self._scenario, 1),
            "zip bomb": (self._zip_bomb, 1),
            "encoded token names": (self._token_names, 2),
            "PATCH/DELETE race": (self._race, 2),
            "schemathesis": (self._schema, 5),
        }
        self._slots = {name: threading.Semaphore(most) for name, (_, most) in self.kinds.items()}

    def prepare(self, examples: int) -> None:
        """The stay bookings to race on, the zip bomb and the schemathesis cases."""
        with httpx.Client(base_url=self.base, headers=self.admin, timeout=TIMEOUT) as client:
            page = client.get("/v1/bookings?kind=stay&limit=500").json()
            self._stays = [item["booking_id"] for item in page["items"]]
            self._request = client.get("/v1/requests?kind=stay&limit=1").json()["items"][0]
            unit = client.get("/v1/units?limit=1").json()["items"][0]
            self._bed = unit["beds"][0]["bed_id"]
        self._bomb = zip_bomb(BOMB_MB)
        started = time.monotonic()
        self._cases = schema_cases(self.base, examples)
        print(f"{len(self._cases)} schemathesis cases made in {time.monotonic() - started:.0f} s")

    def client(self, number: int, deadline: float) -> None:
        kinds = itertools.cycle(list(self.kinds)[number:] + list(self.kinds)[:number])
        with httpx.Client(base_url=self.base, timeout=TIMEOUT) as client:
            for kind in kinds:
                if time.monotonic() >= deadline:
                    return
                if not self._slots[kind].acquire(blocking=False):
                    continue
                try:
                    self.kinds[kind][0](client)
                except httpx.TimeoutException:
                    self._record(kind, "timeout")
                except httpx.HTTPError as exc:
                    self._record(kind, type(exc).__name__)
                finally:
                    self._slots[kind].release()

    def _record(self, kind: str, status: int | str, what: str = "") -> None:
        with self._lock:
            self.report.sent[kind] += 1
            self.report.statuses[(kind, str(status))] += 1
            if isinstance(status, int) and status >= 500:
                self.report.server_errors.append(f"{kind}: {status} {what}"[:200])

    def _send(self, client: httpx.Client, kind: str, method: str, url: str, **kw: Any) -> Any:
        response = client.request(method, url, **kw)
        self._record(kind, response.status_code, f"{method} {url[:80]}")
        return response

    def _oversized(self, client: httpx.Client) -> None:
        body = b'{"kind": "stay", "request_id": "' + b"x" * (BODY_MB << 20) + b'"}'
        headers = {"Content-Type": "application/json"}
        self._send(client, "oversized body", "POST", "/v1/bookings", content=body, headers=headers)

    def _horizon(self, client: httpx.Client) -> None:
        horizon = {"first_night": "1000-01-01", "last_night": "9000-12-31"}
        body = {"engine": "greedy", "time_limit": 1, "horizon": horizon}
        self._run_and_cancel(client, "huge horizon", body)

    def _seed(self, client: httpx.Client) -> None:
        self._run_and_cancel(client, "seed 10^30", {"engine": "greedy", "seed": 10**30})

    def _run_and_cancel(self, client: httpx.Client, kind: str, body: dict[str, Any]) -> None:
        response = self._send(
            client, kind, "POST", "/v1/allocation-runs", json=body, headers=self.admin
        )
        if response.status_code == 202:
            client.delete(f"/v1/allocation-runs/{response.json()['run_id']}", headers=self.admin)

    def _stay(self, **fields: Any) -> dict[str, Any]:
        return {
            "kind": "stay",
            "request_id": self._request["request_id"],
            "bed_id": self._bed,
            "first_night": "2030-01-07",
            "nights": 2,
        } | fields

    def _nights(self, client: httpx.Client) -> None:
        body = self._stay(nights=2_000_000)
        self._send(
            client, "2,000,000 nights", "POST", "/v1/bookings", json=body, headers=self.admin
        )

    def _far_date(self, client: httpx.Client) -> None:
        body = self._stay(first_night="9999-12-31")
        self._send(client, "date 9999-12-31", "POST", "/v1/bookings", json=body, headers=self.admin)

    def _nul_and_long(self, client: httpx.Client) -> None:
        kind, long_id = "NUL bytes, long ids", "X" * 300
        for url in (
            "/v1/bookings/B%00x",
            f"/v1/units/{long_id}",
            f"/v1/cases/{long_id}%00",
            "/v1/feeds/providers/P%00.ics?token=x",
        ):
            self._send(client, kind, "GET", url, headers=self.admin)
        self._send(
            client,
            kind,
            "POST",
            "/v1/localities",
            json={"locality_id": "L\x00" + long_id, "name": "N" * 300},
            headers=self.admin,
        )
        self._send(
            client,
            kind,
            "POST",
            "/v1/bookings",
            json=self._stay(bed_id="B\x00"),
            headers=self.admin,
        )

    def _scenario(self, client: httpx.Client) -> None:
        kind, big = "scenario of 10^9", 10**9
        for fields in (
            {"count": big},
            {"weeks": big},
            {"replications": big},
            {"seed": '"abc"'},
        ):
            values = {"weeks": 2, "replications": 2, "seed": 0, "count": 1} | fields
            headers = self.planner | {"Content-Type": "application/toml"}
            text = SCENARIO.format(**values).encode()
            response = self._send(
                client, kind, "POST", "/v1/scenarios", content=text, headers=headers
            )
            if response.status_code == 202:  # bounded by its caps; cancel it anyway
                time.sleep(2.0)
                client.delete(response.headers["Location"], headers=self.planner)

    def _zip_bomb(self, client: httpx.Client) -> None:
        headers = self.admin | {"Content-Type": "application/zip"}
        self._send(
            client,
            "zip bomb",
            "POST",
            "/v1/imports?dry_run=true",
            content=self._bomb,
            headers=headers,
        )

    def _token_names(self, client: httpx.Client) -> None:
        for url in self.feeds[:2]:
            path, token = url.split("?token=", 1)
            for query in (f"tok%65n={token}", f"TOKEN={token}", f"token={token}%00"):
                self._send(client, "encoded token names", "GET", f"{path}?{query}")

    def _race(self, client: httpx.Client) -> None:
        with self._lock:
            booking_id = self._stays.pop() if self._stays else None
        if booking_id is None:
            return
        url = f"/v1/bookings/{booking_id}"
        current = client.get(url, headers=self.admin)
        if current.status_code != 200 or current.json()["status"] != "confirmed":
            return
        headers = self.admin | {"If-Match": current.headers["ETag"]}
        same_bed = {"bed_id": current.json()["bed_id"]}
        start = threading.Barrier(2)

        def send(method: str) -> int:
            start.wait()
            body = same_bed if method == "PATCH" else None
            return int(
                self._send(
                    client, "PATCH/DELETE race", method, url, json=body, headers=headers
                ).status_code
            )

        with ThreadPoolExecutor(max_workers=2) as pool:
            codes = list(pool.map(send, ("PATCH", "DELETE")))
        if all(200 <= code < 300 for code in codes):
            with self._lock:
                self.report.both_won += 1

    def _schema(self, client: httpx.Client) -> None:
        with self._lock:
            case = self._cases.pop() if self._cases else None
        if case is None:
            return
        kwargs = case.as_transport_kwargs(base_url=self.base, headers=self.admin)
        kwargs.pop("verify", None)
        response = client.request(**_httpx_kwargs(kwargs))
        self._record("schemathesis", response.status_code, f"{case.method} {case.formatted_path}")


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A schemathesis case's requests-style arguments, for httpx."""
    wanted = {"method", "url", "headers", "params", "json", "data", "files"}
    out = {key: value for key, value in kwargs.items() if key in wanted}
    if isinstance(out.get("data"), (bytes, str)):
        out["content"] = out.pop("data")
    return out


def zip_bomb(megabytes: int) -> bytes:
    """A zip whose one CSV of cases unpacks to ``megabytes`` MB."""
    row = b"C-0001,L-01,53.1,-2.4,40,female,28,6\n"
    buffer = io.BytesIO()
    header = b"case_id,locality_id,lat,lon,age,sex,nights_allowance,sitting_hours\n"
    chunk = row * ((1 << 20) // len(row))
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("cases.csv", "w", force_zip64=True) as member,
    ):
        member.write(header)
        for _ in range(megabytes):
            member.write(chunk)
    return buffer.getvalue()


def schema_cases(base: str, examples: int) -> list[Any]:
    """``examples`` generated requests for every operation of the server's OpenAPI
    schema (uploads excluded: their bodies are binary or TOML, sent above)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings

    schema = schemathesis.openapi.from_url(f"{base}/openapi.json").exclude(
        method="POST", path_regex=r"^/v1/(imports|scenarios)$"
    )
    cases: list[Any] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]

        @given(operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def collect(case: Any) -> None:
            cases.append(case)

        collect()
    random.Random(0).shuffle(cases)  # every operation early, not one after another
    return cases


# ------------------------------------------------------------------------ the sampler


class Sampler(threading.Thread):
    """Samples the server's memory (with its children) and /healthz latency; stops a
    server past twice the memory cap, so that the benchmark stays bounded."""

    def __init__(self, base: str, pid: int, memory_mb: int, report: Report) -> None:
        super().__init__(daemon=True)
        self.base, self.pid, self.limit_mb = base, pid, 2 * memory_mb
        self.report = report
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=5.0) as client:
            while not self.halt.wait(SAMPLE_SECONDS):
                used = self._memory_mb()
                self.report.memory_mb = max(self.report.memory_mb, used)
                if used > self.limit_mb and not self.report.stopped:
                    self.report.stopped = f"stopped at {used:.0f} MB (twice the cap)"
                    self._kill_tree()
                self.report.healthz_ms.append(self._healthz_ms(client))

    def _memory_mb(self) -> float:
        try:
            server = psutil.Process(self.pid)
            processes = [server, *server.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for process in processes:
            with contextlib.suppress(psutil.Error):  # it ended meanwhile
                total += process.memory_info().rss
        return total / 2**20

    def _kill_tree(self) -> None:
        try:
            server = psutil.Process(self.pid)
            for process in [*server.children(recursive=True), server]:
                process.kill()
        except psutil.Error:
            pass

    def _healthz_ms(self, client: httpx.Client) -> float:
        started = time.perf_counter()
        try:
            client.get("/healthz")
        except httpx.HTTPError:
            return 5000.0
        return (time.perf_counter() - started) * 1000


# ------------------------------------------------------------------------ the verdict


def p95(values: list[float]) -> float:
    """The 95th percentile (0 for no values)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def checks_of(args: argparse.Namespace, report: Report) -> list[tuple[str, str, bool]]:
    """(check, measured, passed) for every check."""
    healthz = p95(report.healthz_ms)
    memory = f"{report.memory_mb:.0f} MB" + (f" ({report.stopped})" if report.stopped else "")
    return [
        (f"server memory < {args.memory_mb} MB", memory, report.memory_mb < args.memory_mb),
        (f"/healthz p95 < {HEALTHZ_P95_MS:.0f} ms", f"{healthz:.1f} ms", healthz < HEALTHZ_P95_MS),
        ("5xx answered = 0", str(len(report.server_errors)), not report.server_errors),
        ("races won by both writers = 0", str(report.both_won), report.both_won == 0),
        ("feed tokens in the server log = 0", str(report.leaked_tokens), report.leaked_tokens == 0),
        ("bed-nights held twice = 0", str(report.twice_held), report.twice_held == 0),
        (
            "bookings whose rows disagree with their status = 0",
            str(report.disagreeing),
            report.disagreeing == 0,
        ),
    ]


def _judge(args: argparse.Namespace, report: Report, out: Path) -> int:
    checks = checks_of(args, report)
    lines = [
        f"Hostile benchmark on {args.db}: {CLIENTS} clients for {report.seconds:.0f} s, "
        f"{args.examples} schemathesis examples per operation "
        f"(`python -m benchmarks.hostile --db {args.db} --seconds {args.seconds:g}`)",
        "",
        "| kind | requests | answers |",
        "|---|---|---|",
    ]
    for kind in sorted(report.sent):
        answers = ", ".join(
            f"{status} x{count}"
            for (k, status), count in sorted(report.statuses.items())
            if k == kind
        )
        lines.append(f"| {kind} | {report.sent[kind]} | {answers} |")
    lines.append(f"| all | {sum(report.sent.values())} | |")
    lines += ["", "| check | measured | passed |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if ok else 'NO'} |" for name, value, ok in checks]
    if report.server_errors:
        lines += ["", "First 5xx answers:", ""]
        lines += [f"- {line}" for line in sorted(set(report.server_errors))[:15]]
    (out / f"hostile-{args.db}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
