"""Small problems built by hand, for solver tests. Every test states what it builds."""

from __future__ import annotations

import copy
from typing import Any

from scheduler.files import load_problem
from scheduler.model import Problem

MONDAY = "2026-03-02"
HOME = {"lat": 51.20, "lon": 0.50}
NEAR = {"lat": 51.21, "lon": 0.51}  # about 1.3 km from HOME


def case(case_id: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "case_id": case_id,
        "locality_id": "L-1",
        "home": HOME,
        "age": 40,
        "sex": "female",
        "night_support": "shared",
        "eligible": ["stay", "sitting"],
        "nights_allowance": 28,
        "nights_used": 0,
        "sitting_hours_per_week": 10,
    }
    return {**base, **over}


def unit(unit_id: str, beds: int = 1, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "unit_id": unit_id,
        "name": f"Unit {unit_id}",
        "locality_id": "L-1",
        "location": NEAR,
        "beds": [{"bed_id": f"{unit_id}-B{i}", "features": []} for i in range(beds)],
        "default_night_staff": 4,
        "shared_ratio": 4,
        "cost_per_night_pence": 20000,
    }
    return {**base, **over}


def provider(provider_id: str = "P-1", count: int = 1, **over: Any) -> dict[str, Any]:
    rota = {d: [{"start": "08:00", "end": "18:00", "count": count}] for d in ("mon", "tue", "wed")}
    base: dict[str, Any] = {
        "provider_id": provider_id,
        "name": f"Sitters {provider_id}",
        "localities": ["L-1"],
        "base": NEAR,
        "max_travel_km": 30,
        "sitters": rota,
        "weekly_hours_cap": 40,
        "cost_per_hour_pence": 2400,
    }
    return {**base, **over}


def stay(
    request_id: str, case_id: str, nights: int, first: str, last: str, **over: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "request_id": request_id,
        "case_id": case_id,
        "kind": "stay",
        "priority": "planned",
        "received": "2026-02-01",
        "nights": nights,
        "earliest_start": first,
        "latest_start": last,
        "max_travel_km": 50,
    }
    return {**base, **over}


def sitting(
    request_id: str, case_id: str, visits: list[tuple[str, int, str, str, str]], **over: Any
) -> dict[str, Any]:
    """visits: (visit_id, minutes, day, window start, window end)."""
    base: dict[str, Any] = {
        "request_id": request_id,
        "case_id": case_id,
        "kind": "sitting",
        "priority": "planned",
        "received": "2026-02-01",
        "visits": [
            {"visit_id": v, "minutes": m, "windows": [{"day": d, "start": s, "end": e}]}
            for v, m, d, s, e in visits
        ],
        "max_travel_km": 50,
    }
    return {**base, **over}


def problem(
    cases: list[dict[str, Any]],
    units: list[dict[str, Any]],
    requests: list[dict[str, Any]],
    providers: list[dict[str, Any]] | None = None,
    nights: int = 7,
    **over: Any,
) -> Problem:
    last = f"2026-03-{1 + nights:02d}"
    data: dict[str, Any] = {
        "horizon": {"first_night": MONDAY, "last_night": last},
        "week_start": MONDAY,
        "localities": [{"locality_id": "L-1", "name": "Ashford"}],
        "cases": copy.deepcopy(cases),
        "units": copy.deepcopy(units),
        "providers": copy.deepcopy(providers if providers is not None else [provider()]),
        "requests": copy.deepcopy(requests),
    }
    data.update(over)
    return load_problem(data)
