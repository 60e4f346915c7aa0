"""Provider and unit calendar feeds: tokens, RFC 5545 content, changes, caching.

Each feed is parsed by three independent parsers (icalendar, ical, vobject) and
its events are checked against the bookings.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import socket
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest
import uvicorn
import vobject
from conftest import tiny_problem
from fastapi.testclient import TestClient
from ical.calendar_stream import IcsCalendarStream

from api.app import create_app
from api.clock import utcnow
from api.logs import RedactTokens
from api.schemas import ApiKeyCreate
from api.settings import Settings

LONDON = ZoneInfo("Europe/London")
STAY = {
    "kind": "stay",
    "request_id": "R-1",
    "bed_id": "B-N1-2",
    "first_night": "2025-03-03",
    "nights": 3,
}
VISIT = {
    "kind": "visit",
    "request_id": "R-4",
    "visit_id": "V1",
    "provider_id": "P-1",
    "day": "2025-03-04",
    "start": "10:00",
}


def _book(client: TestClient, admin: dict[str, str], body: dict[str, Any]) -> str:
    response = client.post("/v1/bookings", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["booking_id"])


def _token(client: TestClient, admin: dict[str, str], kind: str, owner: str) -> dict[str, str]:
    response = client.post(f"/v1/feeds/{kind}s/{owner}/token", headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _feed(client: TestClient, kind: str, owner: str, token: str, **headers: str) -> httpx.Response:
    return client.get(f"/v1/feeds/{kind}s/{owner}.ics", params={"token": token}, headers=headers)


def _events(body: bytes) -> dict[str, Any]:
    """The feed's events by UID, each parsed three ways; the parsers must agree."""
    by_icalendar = {
        str(event["UID"]): event for event in icalendar.Calendar.from_ical(body).walk("VEVENT")
    }
    by_ical = {
        event.uid: event for event in IcsCalendarStream.calendar_from_ics(body.decode()).events
    }
    by_vobject = {
        component.uid.value: component
        for component in vobject.readOne(body.decode()).components()
        if component.name == "VEVENT"
    }
    assert set(by_icalendar) == set(by_ical) == set(by_vobject)
    for uid, event in by_icalendar.items():
        start = event.decoded("DTSTART")
        assert by_ical[uid].dtstart == start
        assert by_vobject[uid].dtstart.value == start
        assert by_ical[uid].sequence == int(event["SEQUENCE"])
    return by_icalendar


def test_the_unit_and_provider_feeds_hold_their_bookings(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    stay_id = _book(client, admin, STAY)
    visit_id = _book(client, admin, VISIT)
    unit = _token(client, admin, "unit", "U-N1")
    assert len(unit["token"]) >= 43  # 32 random bytes, URL-safe base64
    assert unit["url"].endswith(f"/v1/feeds/units/U-N1.ics?token={unit['token']}")
    response = _feed(client, "unit", "U-N1", unit["token"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    for line in (
        "VERSION:2.0",
        "METHOD:PUBLISH",
        "NAME:Respite bookings: Northgate House",
        "X-WR-CALNAME:Respite bookings: Northgate House",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ):
        assert line in text.splitlines(), line
    assert "PRODID:" in text
    events = _events(response.content)
    # The unit sees the stay only: check-in 3 March, check-out after 3 nights (6 March).
    assert list(events) == [f"{stay_id}@respite"]
    stay = events[f"{stay_id}@respite"]
    assert stay.decoded("DTSTART") == dt.date(2025, 3, 3)
    assert stay.decoded("DTEND") == dt.date(2025, 3, 6)
    assert str(stay["STATUS"]) == "CONFIRMED" and int(stay["SEQUENCE"]) == 0
    assert str(stay["LOCATION"]) == "Northgate House, bed B-N1-2"
    assert str(stay["DESCRIPTION"]).startswith("C-1 · shared night support")

    provider = _token(client, admin, "provider", "P-1")
    visits = _events(_feed(client, "provider", "P-1", provider["token"]).content)
    assert list(visits) == [f"{visit_id}@respite"]
    visit = visits[f"{visit_id}@respite"]
    # V1 is 120 minutes from 10:00 London time (GMT in March).
    assert visit.decoded("DTSTART") == dt.datetime(2025, 3, 4, 10, 0, tzinfo=LONDON)
    assert visit.decoded("DTEND") - visit.decoded("DTSTART") == dt.timedelta(minutes=120)
    assert "BEGIN:VTIMEZONE" in _feed(client, "provider", "P-1", provider["token"]).text


def test_no_personal_data_beyond_the_case_reference(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    _book(client, admin, STAY)
    unit = _token(client, admin, "unit", "U-N1")
    text = _feed(client, "unit", "U-N1", unit["token"]).text
    case = next(c for c in loaded["cases"] if c["case_id"] == "C-1")
    # Age, sex and home coordinates stay out; the reference is in. (A bare age such as
    # "40" could be part of any time stamp, so the words are looked for instead.)
    events = text.split("BEGIN:VEVENT", 1)[1].lower()
    for value in ("age", case["sex"], str(case["home"]["lat"]), str(case["home"]["lon"])):
        assert str(value).lower() not in events, value
    assert "C-1" in text


def test_an_unchanged_feed_is_byte_identical_and_304_on_its_etag(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    _book(client, admin, STAY)
    token = _token(client, admin, "unit", "U-N1")["token"]
    first = _feed(client, "unit", "U-N1", token)
    time.sleep(0.01)
    second = _feed(client, "unit", "U-N1", token)
    assert first.content == second.content
    assert first.headers["etag"] == second.headers["etag"]
    cached = _feed(client, "unit", "U-N1", token, **{"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""
    stale = _feed(client, "unit", "U-N1", token, **{"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


def test_a_change_raises_the_sequence_and_a_cancellation_leaves_after_seven_days(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    booking_id = _book(client, admin, STAY)
    uid = f"{booking_id}@respite"
    token = _token(client, admin, "unit", "U-N1")["token"]
    before = _feed(client, "unit", "U-N1", token)
    moved = client.patch(
        f"/v1/bookings/{booking_id}", json={"bed_id": "B-N1-1"}, headers=admin | {"If-Match": '"1"'}
    )
    assert moved.status_code == 200, moved.text
    after = _feed(client, "unit", "U-N1", token)
    assert after.headers["etag"] != before.headers["etag"]
    changed = _events(after.content)[uid]
    assert int(changed["SEQUENCE"]) == 1 and str(changed["LOCATION"]).endswith("bed B-N1-1")
    # Seconds are iCalendar's precision: the change may fall in the same second.
    earlier = _events(before.content)[uid].decoded("LAST-MODIFIED")
    assert changed.decoded("LAST-MODIFIED") >= earlier

    assert (
        client.delete(f"/v1/bookings/{booking_id}", headers=admin | {"If-Match": '"2"'}).status_code
        == 200
    )
    cancelled = _events(_feed(client, "unit", "U-N1", token).content)[uid]
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 2
    feeds = client.app.state.services.feeds  # type: ignore[attr-defined]
    feeds.clock = lambda: utcnow() + dt.timedelta(days=8)
    assert _events(_feed(client, "unit", "U-N1", token).content) == {}


def test_bad_tokens_get_one_and_the_same_404(
    client: TestClient, admin: dict[str, str], loaded: Any
) -> None:
    unit = _token(client, admin, "unit", "U-N1")["token"]
    provider = _token(client, admin, "provider", "P-1")["token"]
    refusals = [
        client.get("/v1/feeds/units/U-N1.ics"),  # no token
        _feed(client, "unit", "U-N1", "x" * 43),  # a wrong one
        _feed(client, "unit", "U-N1", provider),  # another owner's
        _feed(client, "provider", "P-1", unit),
        _feed(client, "unit", "U-NOPE", unit),  # no such unit
        _feed(client, "provider", "P-NOPE", provider),
    ]
    assert {r.status_code for r in refusals} == {404}
    assert len({r.content for r in refusals}) == 1  # nothing tells a real id from a made-up one
    renewed = _token(client, admin, "unit", "U-N1")["token"]
    assert _feed(client, "unit", "U-N1", unit).status_code == 404  # the old token is dead at once
    assert _feed(client, "unit", "U-N1", renewed).status_code == 200
    assert client.post("/v1/feeds/units/U-NOPE/token", headers=admin).status_code == 404
    audit = client.get("/v1/audit?entity=feed_token", headers=admin).json()["items"]
    assert audit and all(renewed not in str(entry) for entry in audit)


def test_the_redaction_filter_hides_tokens_in_access_log_records() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/v1/feeds/units/U-1.ics?token=abcDEF123_-x&x=1", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record)
    assert "abcDEF123" not in record.getMessage()
    assert "/v1/feeds/units/U-1.ics?token=[redacted]&x=[redacted]" in record.getMessage()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_calendar_client_subscribes_over_http_and_the_token_is_not_logged(
    settings: Settings,
) -> None:
    # A real server (uvicorn, access log on), fetched the way a calendar client does:
    # a plain GET of the URL, parsed by the ical library.
    app = create_app(settings)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, access_log=True)  # sets up logging
    logs = io.StringIO()
    handler = logging.StreamHandler(logs)
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        keys = app.state.services.keys
        admin_token = keys.create(ApiKeyCreate(name="t", role="admin"), actor="tests").token
        admin = {"Authorization": f"Bearer {admin_token}"}
        assert (
            httpx.post(f"{base}/v1/problem", json=tiny_problem(), headers=admin).status_code == 200
        )
        assert httpx.post(f"{base}/v1/bookings", json=STAY, headers=admin).status_code == 201
        url = httpx.post(f"{base}/v1/feeds/units/U-N1/token", headers=admin).json()["url"]
        response = httpx.get(url)
        calendar = IcsCalendarStream.calendar_from_ics(response.text)
        assert [event.dtstart for event in calendar.events] == [dt.date(2025, 3, 3)]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        access.removeHandler(handler)
    token = url.split("token=", 1)[1]
    assert "/v1/feeds/units/U-N1.ics?token=[redacted]" in logs.getvalue()
    assert token not in logs.getvalue()
