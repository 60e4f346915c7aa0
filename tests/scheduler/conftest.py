"""A tiny hand-made problem and a valid plan for it (checker and KPI tests).

All places lie on one meridian (lon -2.40), so every distance is the latitude
difference times 6371 * pi / 180 = 111.19493 km per degree.

Problem (horizon Mon 2026-03-02 .. Sun 2026-03-08, 7 nights; week from 03-02):

- unit U-1 (block, lat 53.10): beds B-1-1 [ground_floor, hoist] and B-1-2 [];
  2 night staff, only 1 on 2026-03-05; shared_ratio 2; £200.00 a night; ages 18+.
- unit U-2 (spot, lat 53.20): bed B-2-1; women only; 1 night staff; £300.00.
- provider P-1 (base lat 53.10, locality L-N, skill dementia): 2 sitters
  09:00-17:00 every day; max 20 km; 40 h a week; £18.00 an hour.
- C-1 (lat 53.12, 80 F, shared, needs hoist, incompatible with C-2, stay only,
  10 of 28 nights used); C-2 (lat 53.15, 45 M, one_to_one, stay only, 0 of 21);
  C-3 (lat 53.11, 70 F, needs dementia skill, sitting only, 3 h a week);
  C-4 (lat 53.13, 60 M, 0 of 14 nights, 2 h a week).
- R-1 stay C-1 crisis, 3 nights starting 03-02..03-04, max 30 km.
- R-2 stay C-2 planned, 2 nights starting 03-05..03-06, max 30 km;
  booked as BK-1: B-1-2 from 03-05.
- R-3 sitting C-3 health_appointment: V1 60 min in 03-03 10:00-11:00 (booked
  as BK-2 at 10:00), V2 120 min in 03-04 09:00-17:00; max 10 km.
- R-4 sitting C-4 planned, double-handed: V1 60 min in 03-03 10:00-12:00.
- R-5 stay C-4 crisis, 7 nights from 03-02, max 1 km.
- budget BUD-1 on U-1 and P-1: £1,090.00.

Why the plan below is valid:

- H1: B-1-1 holds R-1 on 03-02..04; B-1-2 holds R-2 on 03-05..06.
- H2: B-1-1 has the hoist C-1 needs; C-2 needs nothing. H3: ages 80 and 45
  are >= 18; U-1 takes any sex.
- H4: C-1 (03-02..04) and C-2 (03-05..06) are never in U-1 on the same night.
- H5: 03-02..04 ceil(1 shared / 2) = 1 <= 2; 03-05 one_to_one 1 <= 1;
  03-06 1 <= 2.
- H6: 3 nights from 03-02 (in 03-02..03-04), the booking as booked.
- H7: C-1 0.02 deg = 2.22 km, C-2 5.56 km <= 30; P-1 to C-3 1.11 km, to C-4
  3.34 km <= 10 and 20.
- H8: C-1 10 + 3 <= 28; C-2 0 + 2 <= 21; C-3 60 + 120 = 180 <= 3 x 60
  (exactly); C-4 60 <= 120.
- H9: 03-03 10:00-11:00 R-3/V1 1 sitter, 11:00-12:00 R-4/V1 2 sitters, 2 on
  shift; 03-04 13:00-15:00 1 sitter. Week 60 + 120 + 2 x 60 = 300 sitter-min
  <= 2,400. P-1 serves L-N and has dementia.
- H10: V1 10:00-11:00 in 10:00-11:00, V2 13:00-15:00 in 09:00-17:00, R-4 V1
  11:00-12:00 in 10:00-12:00; C-3's visits are on different days.
- H11: both bookings are in the plan unchanged.
- H12: U-1 5 nights x £200 = £1,000 + P-1 300 sitter-min x £18 / 60 = £90,
  = £1,090.00 <= £1,090.00 (exactly).
- unmet: R-5 (C-4 is 3.34 km from U-1, 7.78 km from U-2; max 1) is listed.

KPIs: nights requested 3 + 2 + 7 = 12, served 3 + 2 = 5; minutes requested
60 + 120 + 60 = 240, served 240; crisis (R-1, R-5): (3 x 60) / (10 x 60) =
0.3; occupancy U-1 only (U-2 is spot) 5 / (2 beds x 7) = 0.3571; utilisation
300 / (2 x 480 x 7 = 6,720) = 0.0446; cost (what the plan adds: U-1 is block, so
its nights add nothing) 540,000 / 60 = 9,000;
travel (0.02 + 0.05 + 2 x 0.01 + 0.03) deg = 0.12 x 111.19493 = 13.34 -> 13.3.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

LON = -2.40
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _case(case_id: str, lat: float, **fields: Any) -> dict[str, Any]:
    return {"case_id": case_id, "locality_id": "L-N", "home": {"lat": lat, "lon": LON}, **fields}


def _visit_spec(visit_id: str, minutes: int, day: str, start: str, end: str) -> dict[str, Any]:
    return {
        "visit_id": visit_id,
        "minutes": minutes,
        "windows": [{"day": day, "start": start, "end": end}],
    }


ROTA = {day: [{"start": "09:00", "end": "17:00", "count": 2}] for day in WEEKDAY_KEYS}


# fmt: off
TINY_PROBLEM: dict[str, Any] = {
    "horizon": {"first_night": "2026-03-02", "last_night": "2026-03-08"},
    "week_start": "2026-03-02",
    "localities": [
        {"locality_id": "L-N", "name": "North"},
        {"locality_id": "L-S", "name": "South"},
    ],
    "cases": [
        _case(
            "C-1", 53.12, age=80, sex="female", bed_needs=["hoist"], incompatible_with=["C-2"],
            eligible=["stay"], nights_allowance=28, nights_used=10,
        ),
        _case(
            "C-2", 53.15, age=45, sex="male", night_support="one_to_one", eligible=["stay"],
            nights_allowance=21,
        ),
        _case(
            "C-3", 53.11, age=70, sex="female", sitting_skills=["dementia"],
            eligible=["sitting"], sitting_hours_per_week=3,
        ),
        _case("C-4", 53.13, age=60, sex="male", nights_allowance=14, sitting_hours_per_week=2),
    ],
    "units": [
        {
            "unit_id": "U-1", "name": "North House", "locality_id": "L-N",
            "location": {"lat": 53.10, "lon": LON}, "age_min": 18,
            "beds": [
                {"bed_id": "B-1-1", "features": ["ground_floor", "hoist"]},
                {"bed_id": "B-1-2", "features": []},
            ],
            "default_night_staff": 2, "night_staff": {"2026-03-05": 1}, "shared_ratio": 2,
            "cost_per_night_pence": 20000,
        },
        {
            "unit_id": "U-2", "name": "Spot Care", "locality_id": "L-S",
            "location": {"lat": 53.20, "lon": LON}, "sex_policy": "female",
            "beds": [{"bed_id": "B-2-1"}], "default_night_staff": 1,
            "cost_per_night_pence": 30000, "spot": True,
        },
    ],
    "providers": [
        {
            "provider_id": "P-1", "name": "North Sitters", "localities": ["L-N"],
            "skills": ["dementia"], "base": {"lat": 53.10, "lon": LON}, "max_travel_km": 20,
            "sitters": ROTA,
            "weekly_hours_cap": 40, "cost_per_hour_pence": 1800,
        }
    ],
    "requests": [
        {
            "request_id": "R-1", "case_id": "C-1", "kind": "stay", "priority": "crisis",
            "received": "2026-02-20", "nights": 3, "earliest_start": "2026-03-02",
            "latest_start": "2026-03-04", "max_travel_km": 30,
        },
        {
            "request_id": "R-2", "case_id": "C-2", "kind": "stay", "priority": "planned",
            "received": "2026-01-10", "nights": 2, "earliest_start": "2026-03-05",
            "latest_start": "2026-03-06", "max_travel_km": 30,
        },
        {
            "request_id": "R-3", "case_id": "C-3", "kind": "sitting",
            "priority": "health_appointment", "received": "2026-02-25", "max_travel_km": 10,
            "visits": [
                _visit_spec("V1", 60, "2026-03-03", "10:00", "11:00"),
                _visit_spec("V2", 120, "2026-03-04", "09:00", "17:00"),
            ],
        },
        {
            "request_id": "R-4", "case_id": "C-4", "kind": "sitting", "priority": "planned",
            "received": "2026-02-01", "double_handed": True, "max_travel_km": 10,
            "visits": [
                _visit_spec("V1", 60, "2026-03-03", "10:00", "12:00"),
            ],
        },
        {
            "request_id": "R-5", "case_id": "C-4", "kind": "stay", "priority": "crisis",
            "received": "2026-02-27", "nights": 7, "earliest_start": "2026-03-02",
            "latest_start": "2026-03-02", "max_travel_km": 1,
        },
    ],
    "bookings": [
        {
            "booking_id": "BK-1", "request_id": "R-2", "case_id": "C-2", "unit_id": "U-1",
            "bed_id": "B-1-2", "first_night": "2026-03-05", "nights": 2,
        },
        {
            "booking_id": "BK-2", "request_id": "R-3", "visit_id": "V1", "case_id": "C-3",
            "provider_id": "P-1", "day": "2026-03-03", "start": "10:00", "minutes": 60,
            "sitters": 1,
        },
    ],
    "budgets": [{"budget_id": "BUD-1", "limit_pence": 109000, "applies_to": ["U-1", "P-1"]}],
}


def _visit(
    request_id: str, visit_id: str, case_id: str, day: str, start: str, minutes: int,
    sitters: int = 1,
) -> dict[str, Any]:
    return {
        "request_id": request_id, "visit_id": visit_id, "case_id": case_id,
        "provider_id": "P-1", "day": day, "start": start, "minutes": minutes, "sitters": sitters,
    }


TINY_PLAN: dict[str, Any] = {
    "stays": [
        {
            "request_id": "R-1", "case_id": "C-1", "unit_id": "U-1", "bed_id": "B-1-1",
            "first_night": "2026-03-02", "nights": 3,
        },
        {
            "request_id": "R-2", "case_id": "C-2", "unit_id": "U-1", "bed_id": "B-1-2",
            "first_night": "2026-03-05", "nights": 2,
        },
    ],
    "visits": [
        _visit("R-3", "V1", "C-3", "2026-03-03", "10:00", 60),
        _visit("R-3", "V2", "C-3", "2026-03-04", "13:00", 120),
        _visit("R-4", "V1", "C-4", "2026-03-03", "11:00", 60, sitters=2),
    ],
    "unmet": [
        {
            "request_id": "R-5", "reason": "too_far",
            "detail": "No respite bed is within 1 km of home.",
        }
    ],
    "kpis": {
        "nights_requested": 12, "nights_served": 5, "sitting_minutes_requested": 240,
        "sitting_minutes_served": 240, "crisis_served_ratio": 0.3, "bed_occupancy": 0.3571,
        "sitter_utilisation": 0.0446, "cost_pence": 9000, "travel_km": 13.3,
    },
    "solver": {"engine": "hand", "status": "feasible"},
}
# fmt: on


@pytest.fixture
def tiny_problem() -> dict[str, Any]:
    """The tiny problem as a fresh dict, free to mutate."""
    return copy.deepcopy(TINY_PROBLEM)


@pytest.fixture
def tiny_plan() -> dict[str, Any]:
    """A valid plan for :func:`tiny_problem`, as a fresh dict, free to mutate."""
    return copy.deepcopy(TINY_PLAN)
