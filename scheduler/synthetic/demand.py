"""Demand of a county: its cases, their stay and sitting requests (a few impossible on
purpose), pairs who cannot share, history; then caps, budgets and bookings."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from itertools import pairwise

from scheduler.model import UnmetReason
from scheduler.synthetic.bookings import Booker
from scheduler.synthetic.budgets import draw_budgets, set_caps
from scheduler.synthetic.county import CaseDraft, County, Json, RequestPlan, Town
from scheduler.synthetic.policy_rules import POLICY
from scheduler.synthetic.sittings import shape_sitting, sitting_plans
from scheduler.synthetic.stays import ALLOWANCES, mark_exceptional, shape_stay, stay_plans

__all__ = ["build_demand"]

IMPOSSIBLE_SHARE = 0.06
STAY_REASONS: tuple[UnmetReason, ...] = (
    "not_eligible",
    "allowance_used",
    "too_far",
    "no_suitable_bed",
)
SITTING_REASONS: tuple[UnmetReason, ...] = (
    "not_eligible",
    "allowance_used",
    "no_provider",
    "too_far",
)


def build_demand(county: County) -> None:
    """Cases, their requests (a few impossible on purpose), caps, budgets, bookings."""
    weights = [t.weight for t in county.towns]
    towns = county.rng.choices(county.towns, weights, k=county.area.cases)
    county.cases = [_case(county, town) for town in towns]
    county.stays = stay_plans(county)
    county.sittings = sitting_plans(county)
    # Sitting first: it may move a home nearer a sitter base; a stay reaches further.
    reasons = _impossible(county, county.sittings, SITTING_REASONS)
    for plan, reason in zip(county.sittings, reasons, strict=True):
        shape_sitting(county, plan, reason)
    reasons = _impossible(county, county.stays, STAY_REASONS)
    for plan, reason in zip(county.stays, reasons, strict=True):
        shape_stay(county, plan, reason)
    for plan in county.stays + county.sittings:
        plan.request["request_id"] = county.ids.next("R", 5)
    mark_exceptional(county)
    _add_incompatible_pairs(county)
    _add_history(county)
    _add_ledger(county)
    set_caps(county.rng, county.providers, county.sittings)
    county.budgets = draw_budgets(
        county.rng, county.tag, county.units, county.providers, county.num_nights
    )
    Booker(county).book()
    _add_booked_incompatibles(county)


def _case(county: County, town: Town) -> CaseDraft:
    rng = county.rng
    _, home = county.near(town.xy, 2.0 + 2.5 * town.weight)
    band = rng.random()
    age = rng.randint(*((16, 25) if band < 0.1 else (26, 64) if band < 0.55 else (65, 97)))
    support = rng.random()
    eligible = rng.choices((["stay", "sitting"], ["stay"], ["sitting"]), (8, 1, 1))[0]
    allowance = rng.choice(ALLOWANCES) if "stay" in eligible else 0
    # The case's allowance year began on a day of the last twelve months (its assessment's
    # anniversary); nights used go with how far into that year it is.
    into = rng.randrange(365)
    used = allowance * min(1.0, (into + 1) / 365 * rng.uniform(0.4, 1.5))
    if into >= 180 and rng.random() < 0.15:
        used = allowance
    json: Json = {
        "case_id": county.ids.next("C", 5),
        "locality_id": town.locality_id,
        "home": {"lat": home[0], "lon": home[1]},
        "age": age,
        "sex": "female" if rng.random() < 0.52 else "male",
        "night_support": (
            "one_to_one" if support < 0.15 else "two_to_one" if support < 0.20 else "shared"
        ),
        "bed_needs": _bed_needs(rng, age),
        "sitting_skills": _sitting_skills(rng, age),
        "incompatible_with": [],
        "eligible": eligible,
        "nights_allowance": allowance,
        "allowance_year_start": county.week_start - dt.timedelta(days=into),
        "nights_used": round(used),
        "sitting_hours_per_week": rng.randrange(4, 21) / 2 if "sitting" in eligible else 0.0,
    }
    return CaseDraft(json, home, town)


def _impossible(
    county: County, plans: list[RequestPlan], reasons: tuple[UnmetReason, ...]
) -> list[UnmetReason | None]:
    """About 6% of requests, of cases that make no other request, cannot be met, each for
    one reason, the reasons taken in turn; at least one for each reason where there are
    eight requests a reason, and one where there are four."""
    alone = [i for i, plan in enumerate(plans) if plan.case.roles == 1]
    least = min(len(reasons), len(plans) // 8) or int(len(plans) >= 4)
    wanted = max(least, round(IMPOSSIBLE_SHARE * len(plans)))
    pool = county.rng.sample(alone, len(alone))
    out: list[UnmetReason | None] = [None] * len(plans)
    for turn in range(min(wanted, len(alone))):
        reason = reasons[turn % len(reasons)]
        # Exempt priorities draw on no allowance (H8): only a planned request can run out.
        fits = [
            i
            for i in pool
            if reason != "allowance_used" or not POLICY.exempt(plans[i].request["priority"])
        ]
        if fits:
            pool.remove(fits[0])
            out[fits[0]] = reason
    return out


def _add_incompatible_pairs(county: County) -> None:
    """A few cases who must never share a unit, among those wanting the same unit at
    overlapping times; one side names the other, or both do."""
    by_unit: dict[str, list[RequestPlan]] = defaultdict(list)
    for plan in county.stays:
        if plan.unit is not None:
            by_unit[plan.unit.unit_id].append(plan)
    candidates = []
    for unit in county.units:
        plans = sorted(by_unit[unit.unit_id], key=lambda p: p.request["earliest_start"])
        candidates += [(a, b) for a, b in pairwise(plans) if _overlap(a, b)]
    count = min(max(1, round(0.015 * len(county.stays))), len(candidates))
    for a, b in county.rng.sample(candidates, count):
        _name_incompatible(a.case.json, b.case.json)
        if county.rng.random() < 0.5:
            _name_incompatible(b.case.json, a.case.json)


def _add_booked_incompatibles(county: County) -> None:
    """A few people who cannot share with someone already booked into the unit they
    want, on nights they might come (only one of them is booked, so bookings keep H4)."""
    booked = {b["request_id"]: b for b in county.bookings if "bed_id" in b}
    candidates = []
    for booking in booked.values():
        last = booking["first_night"] + dt.timedelta(days=booking["nights"] - 1)
        for plan in county.stays:
            if plan.unit is None or plan.request["request_id"] in booked:
                continue
            request = plan.request
            end = request["latest_start"] + dt.timedelta(days=request["nights"] - 1)
            if (
                plan.unit.unit_id == booking["unit_id"]
                and request["earliest_start"] <= last
                and booking["first_night"] <= end
            ):
                candidates.append((plan, booking["case_id"]))
    count = min(max(1, round(0.01 * len(county.stays))), len(candidates))
    cases = {case.case_id: case.json for case in county.cases}
    for plan, case_id in county.rng.sample(candidates, count):
        if plan.case.case_id != case_id:
            _name_incompatible(plan.case.json, cases[case_id])


def _add_history(county: County) -> None:
    """The unit and provider some cases used last time (continuity)."""
    rng = county.rng
    for plan in county.stays:
        if plan.unit is not None and rng.random() < 0.35:
            plan.case.json["previous_unit_id"] = rng.choice([plan.unit, *plan.reach[:2]]).unit_id
    for plan in county.sittings:
        if plan.provider is not None and rng.random() < 0.35:
            plan.case.json["previous_provider_id"] = plan.provider.provider_id
    for case in county.cases:
        if case.roles == 0 and rng.random() < 0.15:
            case.json["previous_unit_id"] = rng.choice(county.block_units).unit_id


def _add_ledger(county: County) -> None:
    """What the service's ledger says of each case besides nights used: sitting hours
    received in the last four weeks (a few had none), hours banked from weeks not used
    (about what the last four weeks left over, sometimes more than the bank takes; none
    for a case whose hours are meant to run out), and a carer's contribution per night
    for about a third of those who may stay (chargeable beds)."""
    rng = county.rng
    spent = {id(p.case) for p in county.sittings if p.impossible == "allowance_used"}
    for case in county.cases:
        json = case.json
        weekly = json["sitting_hours_per_week"]
        recent = banked = 0.0
        if weekly > 0:
            if rng.random() >= 0.15:
                recent = _half_hours_down(4 * weekly * rng.uniform(0.25, 1.0))
            if id(case) not in spent and rng.random() >= 0.4:
                banked = _half_hours_down((4 * weekly - recent) * rng.uniform(0.3, 1.3))
        json["sitting_hours_recent"] = recent
        json["sitting_hours_banked"] = banked
        if json["nights_allowance"] > 0 and rng.random() < 0.35:
            json["contribution_per_night_pence"] = rng.randrange(1500, 6001, 50)


def _half_hours_down(hours: float) -> float:
    return math.floor(2 * max(hours, 0.0)) / 2


def _bed_needs(rng: random.Random, age: int) -> list[str]:
    draw = rng.random()
    if age >= 65:
        return ["ground_floor"] if draw < 0.35 else ["ground_floor", "hoist"] if draw < 0.55 else []
    if draw < 0.12:
        return ["ground_floor"]
    return ["low_stimulus_suite"] if draw < 0.17 else ["hoist"] if draw < 0.2 else []


def _sitting_skills(rng: random.Random, age: int) -> list[str]:
    odds = (
        (("dementia", 0.5), ("personal_care", 0.4))
        if age >= 65
        else (("autism", 0.2), ("personal_care", 0.3), ("peg_feeding", 0.03))
    )
    return sorted(skill for skill, p in odds if rng.random() < p)


def _overlap(a: RequestPlan, b: RequestPlan) -> bool:
    ra, rb = a.request, b.request
    a_end = ra["latest_start"] + dt.timedelta(days=ra["nights"])
    b_end = rb["latest_start"] + dt.timedelta(days=rb["nights"])
    return a.case is not b.case and ra["earliest_start"] < b_end and rb["earliest_start"] < a_end


def _name_incompatible(case: Json, other: Json) -> None:
    if other["case_id"] not in case["incompatible_with"]:
        case["incompatible_with"].append(other["case_id"])
