"""Sitting requests: visits with their windows, made possible for a provider within
reach, or broken on purpose."""

from __future__ import annotations

import datetime as dt
import math

from scheduler.model import WEEKDAYS, UnmetReason, minutes_of
from scheduler.synthetic.county import STEP, County, Json, ProviderDraft, RequestPlan, clock
from scheduler.synthetic.draw import pick, weighted_sample
from scheduler.synthetic.geometry import floor_half_km, km_apart
from scheduler.synthetic.places import NIGHT_END, NIGHT_START

__all__ = ["shape_sitting", "sitting_plans"]

NIGHT_SHARE = 0.4  # of requests to a provider that sits at night: one visit overnight
SKILLS = ("dementia", "personal_care", "autism", "peg_feeding")
VISITS_PER_REQUEST = {
    "planned": ((1, 2, 3, 4, 5), (30, 30, 22, 12, 6)),
    "crisis": ((2, 3, 4, 5), (25, 30, 25, 20)),
    "health_appointment": ((1, 2), (70, 30)),
}


def sitting_plans(county: County) -> list[RequestPlan]:
    """Requests of 1-5 visits (health appointments 1-2) until the tier's visit count."""
    rng, total = county.rng, county.area.visits
    shapes: list[tuple[str, int]] = []
    done = 0
    while done < total:
        draw = rng.random()
        priority = "crisis" if draw < 0.1 else "health_appointment" if draw < 0.25 else "planned"
        shapes.append((priority, min(pick(rng, VISITS_PER_REQUEST[priority]), total - done)))
        done += shapes[-1][1]
    cases = county.pick_cases(len(shapes))
    plans = []
    for case, (priority, num_visits) in zip(cases, shapes, strict=True):
        request = county.request_head(case, "sitting", priority)
        request["visits"] = [{"visit_id": f"V{i + 1}"} for i in range(num_visits)]
        request["double_handed"] = False
        request["max_travel_km"] = float(rng.randrange(20, 61, 5))
        plans.append(RequestPlan(request, case))
    return plans


def shape_sitting(county: County, plan: RequestPlan, reason: UnmetReason | None) -> None:
    case, request = plan.case, plan.request
    shortest = 150 if reason == "allowance_used" else 60
    days = _visit_days(county, request["priority"], len(request["visits"]))
    for visit, day in zip(request["visits"], days, strict=True):
        _fill_visit(county, visit, request["priority"], day, shortest)
    _make_sitting_possible(county, plan, night=reason is None)
    if reason:
        plan.impossible = reason
        _break_sitting(county, plan, reason)
    if "sitting" not in case.json["eligible"] and not reason:
        case.json["eligible"] = [*case.json["eligible"], "sitting"]


def _visit_days(county: County, priority: str, count: int) -> list[int]:
    """Distinct days of the week: weekdays for health appointments, weekends less often."""
    if priority == "health_appointment":
        return sorted(county.rng.sample(range(5), count))
    return sorted(weighted_sample(county.rng, list(range(7)), [1] * 5 + [0.5, 0.35], count))


def _fill_visit(county: County, visit: Json, priority: str, day: int, shortest: int) -> None:
    """Health appointments: one window exactly the visit's length. Planned visits: 1-2
    windows 1-2 hours longer. Crisis: 1-2 wide windows."""
    rng = county.rng
    if priority == "health_appointment":
        minutes = rng.choice([m for m in (60, 90, 120, 150, 180) if m >= shortest])
        start = rng.randrange(8 * 60 + 30, 17 * 60 - minutes + 1, STEP)
        visit["minutes"] = minutes
        visit["windows"] = [_window(county, day, start, start + minutes)]
        return
    minutes = rng.choice([m for m in (120, 150, 180, 210, 240) if m >= shortest])
    extra = (60, 90, 120) if priority == "planned" else (120, 180, 240)
    days = [day]
    if rng.random() < 0.4:
        days.append(rng.choice([d for d in range(7) if d != day]))
    visit["minutes"] = minutes
    visit["windows"] = [_open_window(county, d, minutes + rng.choice(extra)) for d in days]


def _open_window(county: County, day: int, length: int) -> Json:
    """A window of ``length`` minutes, mostly in the morning; a few in the evening after
    20:00, when no sitter works (visits last 4 hours at most, so they still fit)."""
    rng = county.rng
    if rng.random() < 0.01:
        return _window(county, day, 20 * 60, min(20 * 60 + length, 24 * 60))
    starts = list(range(8 * 60, 20 * 60 - length + 1, STEP))
    weights = [3.0 if s < 11 * 60 else 1.5 if s < 14 * 60 else 1.0 for s in starts]
    start = rng.choices(starts, weights)[0]
    return _window(county, day, start, start + length)


def _window(county: County, day: int, start: int, end: int) -> Json:
    return {
        "day": county.week_start + dt.timedelta(days=day),
        "start": clock(start),
        "end": clock(end),
    }


def _sitting_reach(county: County, plan: RequestPlan) -> list[tuple[float, ProviderDraft]]:
    case = plan.case
    covering = [p for p in county.providers if p.serves_area(case.json)]
    reach = [(km_apart(p.point, case.point), p) for p in covering]
    return sorted(
        (r for r in reach if r[0] <= r[1].json["max_travel_km"]),
        key=lambda r: (r[0], r[1].provider_id),
    )


def _make_sitting_possible(county: County, plan: RequestPlan, night: bool = True) -> None:
    """A provider within reach with every skill; with ``night``, a visit of some requests
    to a provider that sits at night becomes a night's sitting."""
    rng, case, request = county.rng, plan.case, plan.request
    reach = _sitting_reach(county, plan)
    if not reach:
        # Live nearer a sitter base instead, in the base's town (which it serves).
        covering = [p for p in county.providers if p.serves_area(case.json)]
        town = min(covering, key=lambda p: km_apart(p.point, case.point)).town
        _, home = county.near(town.xy, 2.0)
        case.move(home, town)
        reach = _sitting_reach(county, plan)
    if not reach:
        return  # too far, as it happens
    km, provider = rng.choice(reach[:2])
    plan.provider = provider
    skills = provider.json["skills"]
    case.json["sitting_skills"] = [s for s in case.json["sitting_skills"] if s in skills]
    request["double_handed"] = provider.peak >= 4 and rng.random() < 0.05
    if night and request["priority"] != "health_appointment" and rng.random() < NIGHT_SHARE:
        _sit_at_night(county, request, provider)
    step = 5 * math.ceil((km + 0.5) / 5)
    request["max_travel_km"] = float(max(request["max_travel_km"], step))
    case.json["sitting_hours_per_week"] = _entitlement(county, request["visits"])


def _sit_at_night(county: County, request: Json, provider: ProviderDraft) -> None:
    """One visit becomes a night's sitting, 5-9 hours in a window 22:00-07:00 on a night
    the provider has sitters on (the other visits keep their own days)."""
    rng = county.rng
    taken = {(w["day"] - county.week_start).days for v in request["visits"] for w in v["windows"]}
    nights = [
        day
        for day, weekday in enumerate(WEEKDAYS)
        if any(s["start"] == NIGHT_START for s in provider.json["sitters"].get(weekday, []))
    ]
    visit = rng.choice(request["visits"])
    own = {(w["day"] - county.week_start).days for w in visit["windows"]}
    free = [d for d in nights if d not in taken - own]
    if request["double_handed"] or not free:
        return
    day = rng.choice(free)
    visit["minutes"] = rng.choice((300, 360, 420, 480, 540))
    visit["windows"] = [_window(county, day, minutes_of(NIGHT_START), minutes_of(NIGHT_END))]


def _entitlement(county: County, visits: list[Json]) -> float:
    """Enough for every visit for most cases; for some, enough for part of them."""
    total = sum(v["minutes"] for v in visits)
    low = max(2.0, _half_hours(max(v["minutes"] for v in visits)))
    high = min(10.0, math.floor(total / 30) / 2)
    if high <= low:
        return low
    if county.rng.random() < 0.8:
        return max(min(_half_hours(total), 10.0), low)
    return county.rng.randrange(int(2 * low), int(2 * high) + 1) / 2


def _break_sitting(county: County, plan: RequestPlan, reason: UnmetReason) -> None:
    case, request = plan.case.json, plan.request
    plan.provider = None
    if reason == "not_eligible":
        case["eligible"] = [k for k in case["eligible"] if k != "sitting"]
        case["sitting_hours_per_week"] = 0.0
        return
    if reason == "allowance_used":
        case["sitting_hours_per_week"] = 2.0  # every visit is 2.5 hours or more
        return
    offered = {s for p in county.providers if p.serves_area(case) for s in p.json["skills"]}
    missing = [s for s in SKILLS if s not in offered]
    if reason == "no_provider" and missing:
        case["sitting_skills"] = sorted({*case["sitting_skills"], county.rng.choice(missing)})
        return
    plan.impossible = "too_far"
    case["sitting_skills"] = []
    km = county.make_remote(plan.case)
    request["max_travel_km"] = 15.0 if km > 17 else max(floor_half_km(0.6 * km), 0.5)


def _half_hours(minutes: float) -> float:
    """Round minutes up to whole half hours, as hours."""
    return math.ceil(minutes / 30) / 2
