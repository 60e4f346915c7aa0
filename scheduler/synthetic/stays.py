"""Stay requests: drawn, made possible for a unit within reach, or broken on purpose."""

from __future__ import annotations

import datetime as dt
import math

from scheduler.model import UnmetReason
from scheduler.synthetic.county import CaseDraft, County, Json, RequestPlan, UnitDraft
from scheduler.synthetic.draw import pick
from scheduler.synthetic.geometry import floor_half_km, km_apart, km_to_nearest

__all__ = ["ALLOWANCES", "mark_exceptional", "shape_stay", "stay_plans"]

# No bed anywhere has both: the need of a request that no unit can meet.
UNMEETABLE_NEEDS = ["bariatric", "low_stimulus_suite"]
ALLOWANCES = (21, 28, 35, 42)
# Planned stays: mostly a week, some a fortnight, some a long weekend.
PLANNED_NIGHTS = ((1, 2, 3, 4, 5, 6, 7, 10, 14), (2, 4, 8, 8, 6, 4, 36, 6, 26))
CRISIS_NIGHTS = ((2, 3, 4, 5, 6, 7), (10, 15, 15, 15, 15, 30))
HEALTH_NIGHTS = ((2, 3, 4, 5, 6, 7), (10, 20, 25, 20, 10, 15))
EXCEPTIONAL_SHARE = 0.02
EXCEPTIONAL_REASONS = (
    "Carer admitted to hospital; no block bed free on the dates needed",
    "Carer's operation booked; the block units are full that week",
    "Safeguarding concern at home; approved by the service manager",
    "Needs nursing care at night that the block units cannot give",
    "Family bereavement; the carer must travel at short notice",
)


def stay_plans(county: County) -> list[RequestPlan]:
    rng, count = county.rng, county.area.stay_requests
    priorities = ["crisis"] * round(0.10 * count)
    priorities += ["health_appointment"] * round(0.15 * count)
    priorities += ["planned"] * (count - len(priorities))
    rng.shuffle(priorities)
    cases = county.pick_cases(count)
    return [
        RequestPlan(_stay_request(county, case, priority), case)
        for case, priority in zip(cases, priorities, strict=True)
    ]


def _stay_request(county: County, case: CaseDraft, priority: str) -> Json:
    rng, horizon = county.rng, county.num_nights
    table = {"crisis": CRISIS_NIGHTS, "health_appointment": HEALTH_NIGHTS}
    nights = min(pick(rng, table.get(priority, PLANNED_NIGHTS)), county.longest_stay)
    last_start = horizon - nights
    if priority == "crisis":
        first, width = rng.randint(0, min(2, last_start)), rng.randint(0, 2)
    else:
        first = rng.randint(0, last_start)
        width = rng.randint(0, 1) if priority == "health_appointment" else rng.randint(0, 6)
    # A few windows run past the horizon: their late starts cannot be placed (H6).
    latest = first + width if rng.random() < 0.05 else min(first + width, last_start)
    request = county.request_head(case, "stay", priority)
    request["nights"] = nights
    request["earliest_start"] = county.nights[first]
    request["latest_start"] = county.nights[0] + dt.timedelta(days=latest)
    request["max_travel_km"] = float(rng.randrange(15, 61, 5))
    if priority == "health_appointment" or rng.random() < 0.3:
        offset = 0 if priority == "health_appointment" else rng.randint(0, latest - first)
        request["preferred_start"] = county.nights[0] + dt.timedelta(days=first + offset)
    return request


def shape_stay(county: County, plan: RequestPlan, reason: UnmetReason | None) -> None:
    """Make the case fit a unit within reach, then break it on purpose if ``reason``;
    never let a stay reach another county's units."""
    _make_stay_possible(county, plan)
    if reason:
        plan.impossible = reason
        _break_stay(county, plan, reason)
    limit = floor_half_km(km_to_nearest(plan.case.point, county.foreign) - 0.5)
    plan.request["max_travel_km"] = min(plan.request["max_travel_km"], limit)


def _stay_reach(county: County, plan: RequestPlan) -> list[tuple[float, UnitDraft]]:
    limit = min(60.0, km_to_nearest(plan.case.point, county.foreign) - 1.0)
    reach = [(km_apart(u.point, plan.case.point), u) for u in county.block_units]
    return sorted((r for r in reach if r[0] <= limit), key=lambda r: (r[0], r[1].unit_id))


def _make_stay_possible(county: County, plan: RequestPlan) -> None:
    rng, case, request = county.rng, plan.case, plan.request
    reach = _stay_reach(county, plan)
    if not reach:
        unit = rng.choice(county.block_units)
        _, home = county.near(unit.xy, 3.0)
        case.move(home, county.nearest_town(home))
        reach = _stay_reach(county, plan)
    if not reach:
        return  # out of reach after all: too_far, as it happens
    km, unit = rng.choices(reach[:3], (3, 2, 1)[: len(reach[:3])])[0]
    plan.unit, plan.reach = unit, [u for _, u in reach]
    _fit_case_to(county, case.json, unit, request["nights"])
    step = 5 * math.ceil((km + 0.5) / 5)
    request["max_travel_km"] = float(max(request["max_travel_km"], step))
    if rng.random() < 0.25:
        others = [u for u in plan.reach if u is not unit][:1]
        request["preferred_units"] = [u.unit_id for u in [unit, *others][: rng.randint(1, 2)]]


def _fit_case_to(county: County, case: Json, unit: UnitDraft, nights: int) -> None:
    """Age, sex, bed needs and allowance such that ``unit`` could take the stay."""
    rng, json = county.rng, unit.json
    if not json["age_min"] <= case["age"] <= json["age_max"]:
        case["age"] = rng.randint(max(json["age_min"], 16), min(json["age_max"], 97))
    if json["sex_policy"] != "any":
        case["sex"] = json["sex_policy"]
    features = rng.choice(unit.feature_sets())
    if features and rng.random() < (0.5 if case["age"] >= 65 else 0.25):
        case["bed_needs"] = sorted(rng.sample(features, rng.randint(1, len(features))))
    else:
        case["bed_needs"] = [f for f in case["bed_needs"] if f in features]
    if "stay" not in case["eligible"]:
        case["eligible"] = ["stay", *case["eligible"]]
        case["nights_allowance"] = rng.choice(ALLOWANCES)
    case["nights_allowance"] = max(case["nights_allowance"], nights)
    case["nights_used"] = min(case["nights_used"], case["nights_allowance"] - nights)


def _break_stay(county: County, plan: RequestPlan, reason: UnmetReason) -> None:
    case, request = plan.case.json, plan.request
    plan.unit, plan.reach = None, []
    if reason == "not_eligible":
        case["eligible"] = [k for k in case["eligible"] if k != "stay"]
        case["nights_allowance"] = case["nights_used"] = 0
    elif reason == "allowance_used":
        left = county.rng.randint(0, request["nights"] - 1)
        case["nights_used"] = max(case["nights_allowance"] - left, 0)
        # Late in its allowance year (most of it used), and no fresh year in the horizon.
        into = county.rng.randint(240, 364 - county.num_nights)
        case["allowance_year_start"] = county.week_start - dt.timedelta(days=into)
    elif reason == "no_suitable_bed":
        case["bed_needs"] = list(UNMEETABLE_NEEDS)
    else:
        km = county.make_remote(plan.case)
        request["max_travel_km"] = 15.0 if km > 17 else max(floor_half_km(0.6 * km), 0.5)
        request.pop("preferred_units", None)


def mark_exceptional(county: County) -> None:
    """About 2% of stay requests (at least one a county), planned or for a health
    appointment, that a manager approved for a spot bed (H12b), each with its reason;
    their travel limit reaches the nearest spot unit that takes the person, where that
    stays inside the county."""
    rng = county.rng
    able = [p for p in county.stays if p.unit is not None and p.request["priority"] != "crisis"]
    count = min(len(able), max(1, round(EXCEPTIONAL_SHARE * len(county.stays))))
    for plan in rng.sample(able, count):
        request = plan.request
        request["exceptional"] = True
        request["exceptional_reason"] = rng.choice(EXCEPTIONAL_REASONS)
        spots = [
            (km_apart(u.point, plan.case.point), u.unit_id)
            for u in county.units
            if u.spot and u.admits(plan.case.json)
        ]
        limit = floor_half_km(km_to_nearest(plan.case.point, county.foreign) - 0.5)
        if spots:
            km = 5 * math.ceil((min(spots)[0] + 0.5) / 5)
            if km <= min(limit, 60.0):
                request["max_travel_km"] = float(max(request["max_travel_km"], km))
