"""Places: the counties laid out side by side; in each, towns, respite units with their
beds and night staff, sitting providers with their rota."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from scheduler.model import WEEKDAYS, span_minutes
from scheduler.synthetic.county import County, Ids, Json, ProviderDraft, Town, UnitDraft
from scheduler.synthetic.draw import split_total, weighted_sample
from scheduler.synthetic.geometry import (
    COUNTY_GAP_KM,
    KM_PER_DEGREE,
    Box,
    km_apart,
    km_per_lon_degree,
)
from scheduler.synthetic.tiers import TierShape

__all__ = ["build_places", "lay_out_counties", "link_foreign_units"]

FEATURE_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("ground_floor",),
    ("ground_floor", "hoist"),
    ("bariatric", "ground_floor", "hoist"),
    ("low_stimulus_suite",),
    ("ground_floor", "low_stimulus_suite"),
)
TOWN_HEADS = (
    "Ash", "Brook", "Cran", "Dun", "Elm", "Fair", "Gold", "Hart", "Ivy", "King",
    "Long", "Marsh", "New", "Oak", "Pen", "Red", "Stan", "Thorn", "Wych", "Ald",
    "Bex", "Chil", "Den", "Fel", "Ham", "Lyn", "Mil", "Nor", "Sel", "Wal",
)  # fmt: skip
TOWN_TAILS = (
    "ford", "bridge", "ham", "ley", "stone", "field", "wick", "borough",
    "den", "hurst", "minster", "well", "bury", "combe", "ton", "mouth",
)  # fmt: skip
UNIT_WORDS = ("Lodge", "House", "Court", "View", "Grange", "Lea")
NIGHT_START, NIGHT_END = "22:00", "07:00"  # night sitting, into the next morning
PROVIDER_WORDS = ("Sitting Service", "Carers Support", "Home Sitters", "Crossroads Care")


def _town_names(rng: random.Random, count: int) -> list[str]:
    every = sorted(head + tail for head in TOWN_HEADS for tail in TOWN_TAILS)
    return rng.sample(every, count)


def lay_out_counties(
    shape: TierShape, seed_key: str, week_start: dt.date, rng: random.Random
) -> list[County]:
    """One builder per county, each with its own town names and random generator
    (seeded from ``seed_key`` and its place); counties of a region share id counters."""
    area = shape.area
    num_counties = shape.counties * len(shape.regions)
    names = _town_names(rng, num_counties * area.towns)
    counties: list[County] = []
    for region_idx, (lat, lon) in enumerate(shape.regions):
        prefix = f"R{region_idx + 1}-" if len(shape.regions) > 1 else ""
        ids = Ids(prefix)
        for county_idx in range(shape.counties):
            row, col = divmod(county_idx, 2)
            lat0 = lat + row * (area.height_km + COUNTY_GAP_KM) / KM_PER_DEGREE
            lon0 = lon + col * (area.width_km + COUNTY_GAP_KM) / km_per_lon_degree(lat0)
            tag = f"{prefix}K{county_idx + 1}-" if shape.counties > 1 else prefix
            start = len(counties) * area.towns
            counties.append(
                County(
                    rng=random.Random(f"{seed_key}:{region_idx}:{county_idx}"),
                    ids=ids,
                    tag=tag,
                    box=Box(lat0, lon0, area.width_km, area.height_km),
                    area=area,
                    week_start=week_start,
                    num_nights=shape.nights,
                    longest_stay=shape.longest_stay,
                    town_names=names[start : start + area.towns],
                )
            )
    return counties


def link_foreign_units(counties: list[County]) -> None:
    """Give each county the places of every other county's units (for the travel cap)."""
    points = [[u.point for u in county.units] for county in counties]
    for idx, county in enumerate(counties):
        others = [p for j, pts in enumerate(points) if j != idx for p in pts]
        county.foreign = np.radians(np.array(others, dtype=float).reshape(-1, 2))


def build_places(county: County) -> None:
    county.towns = [_town(county, i) for i in range(county.area.towns)]
    _build_units(county)
    _build_providers(county)


def _town(county: County, idx: int) -> Town:
    """Towns spread along the county, half in the north and half in the south."""
    rng, box = county.rng, county.box
    north = idx % 2 == 0
    per_half = (county.area.towns + 1) // 2
    x = (idx // 2 + rng.uniform(0.2, 0.8)) / per_half * box.width_km
    y = box.height_km * (rng.uniform(0.58, 0.88) if north else rng.uniform(0.12, 0.42))
    weight = rng.uniform(0.5, 1.5) * (2.0 if idx == 0 else 1.0)
    json = {"locality_id": county.ids.next("L", 2), "name": county.town_names[idx]}
    return Town(json, (x, y), box.point(x, y), weight, north)


def _build_units(county: County) -> None:
    """Block units alternate north and south, with a transition flat (16-25) and an
    older people's unit (65+) where the county has four or more; spot units last."""
    area, rng = county.area, county.rng
    num_block = area.units - area.spot_units
    spot_beds = [1] * area.spot_units
    if area.spot_units:
        spot_total = min(area.beds - 2 * num_block, 2 * area.spot_units)
        spot_beds = split_total(rng, spot_total, area.spot_units, 1, 3)
    kinds = ["adults"] * num_block
    if num_block >= 4:
        kinds[2], kinds[3] = "transition", "older"
    beds = [3 if kind == "transition" else 0 for kind in kinds]
    rest = [i for i, kind in enumerate(kinds) if kind != "transition"]
    sizes = split_total(rng, area.beds - sum(spot_beds) - sum(beds), len(rest), 2, 12)
    for i, size in zip(rest, sizes, strict=True):
        beds[i] = size
    female_only = num_block >= 6 and rng.random() < 0.5
    for i, kind in enumerate(kinds):
        sex = "female" if female_only and i == num_block - 1 else "any"
        county.units.append(_unit(county, kind, beds[i], i % 2 == 0, sex))
    for i, size in enumerate(spot_beds):
        county.units.append(_unit(county, "spot", size, i % 2 == 1, "any"))
    _hold_crisis_beds(county)
    _allow_agency_staff(county)


def _unit(county: County, kind: str, num_beds: int, north: bool, sex_policy: str) -> UnitDraft:
    rng = county.rng
    town = rng.choice(county.towns_in(north))
    xy, point = county.near(town.xy, 1.0)
    unit_id = county.ids.next("U", 2)
    staff = 2 if kind == "spot" else min(max(int(num_beds / rng.uniform(3.0, 4.0)), 2), 4)
    changes = _staff_changes(county, staff)
    word = {"spot": "Nursing Home", "transition": "Transition Flat"}.get(kind)
    price = (38000, 52000) if kind == "spot" else (18000, 35000)
    json: Json = {
        "unit_id": unit_id,
        "name": f"{town.json['name']} {word or rng.choice(UNIT_WORDS)}",
        "locality_id": town.locality_id,
        "location": {"lat": point[0], "lon": point[1]},
        "age_min": {"transition": 16, "older": 65}.get(kind, 18),
        "age_max": 25 if kind == "transition" else 130,
        "sex_policy": sex_policy,
        "beds": _beds(county, unit_id, kind, num_beds),
        "default_night_staff": staff,
        "night_staff": changes,
        "shared_ratio": 3 if kind == "spot" else rng.choice((3, 4)),
        "cost_per_night_pence": rng.randrange(price[0], price[1] + 1, 500),
        "spot": kind == "spot",
        "crisis_reserve_beds": 0,
        "extra_night_staff_max": 0,
        "extra_night_staff_cost_pence": 0,
    }
    if kind != "spot":
        # The block contract costs about what its nights would at 80% occupancy.
        year = num_beds * 365 * json["cost_per_night_pence"] * rng.uniform(0.75, 0.85)
        json["block_cost_per_year_pence"] = round(year / 10000) * 10000
    return UnitDraft(json, xy, point, north, [changes.get(n, staff) for n in county.nights], kind)


def _hold_crisis_beds(county: County) -> None:
    """One bed held for crisis (H13) in about a third of the block units of two beds or
    more that take adults or older people, and in at least one such unit a county."""
    rng = county.rng
    able = [u for u in county.block_units if len(u.json["beds"]) >= 2 and u.kind != "transition"]
    count = min(len(able), max(1, round(0.35 * len(able))))
    for unit in rng.sample(able, count):
        unit.json["crisis_reserve_beds"] = 1


def _allow_agency_staff(county: County) -> None:
    """Agency night staff (1 or 2 a night, at an agency's price per staff-night) in about
    half of the block units, those that take complex needs (Cheshire East's "flexibility to
    add 1:1 or 2:1 support"); at least one a county."""
    rng = county.rng
    block = county.block_units
    chosen = [u for u in block if rng.random() < 0.5] or [
        max(block, key=lambda u: (len(u.json["beds"]), u.unit_id))
    ]
    for unit in chosen:
        unit.json["extra_night_staff_max"] = 2 if rng.random() < 0.4 else 1
        unit.json["extra_night_staff_cost_pence"] = rng.randrange(22000, 32001, 500)


def _staff_changes(county: County, staff: int) -> dict[dt.date, int]:
    """A few nights with one fewer on duty (sickness, holidays) or one more."""
    nights = sorted(county.rng.sample(county.nights, county.rng.randint(0, 3)))
    return {n: max(staff - 1 if county.rng.random() < 0.7 else staff + 1, 1) for n in nights}


def _beds(county: County, unit_id: str, kind: str, num_beds: int) -> list[Json]:
    """1-3 kinds of bed per unit, several beds of each: beds of a kind are interchangeable."""
    rng = county.rng
    sets, weights = {
        "adults": (FEATURE_SETS, (5, 3, 3, 1, 2, 1)),
        "older": (FEATURE_SETS[1:4], (3, 4, 1)),
        "transition": ((FEATURE_SETS[0], FEATURE_SETS[4]), (1, 1)),
        "spot": (FEATURE_SETS[1:3], (1, 1)),
    }[kind]
    num_sets = min(rng.choice((1, 2, 2, 3)), num_beds, len(sets))
    chosen = weighted_sample(rng, list(range(len(sets))), list(weights), num_sets)
    counts = split_total(rng, num_beds, num_sets, 1, num_beds)
    features = [sets[s] for s, n in zip(chosen, counts, strict=True) for _ in range(n)]
    return [
        {"bed_id": f"{unit_id}-B{i + 1:02d}", "features": list(f)} for i, f in enumerate(features)
    ]


def _build_providers(county: County) -> None:
    peaks = split_total(
        county.rng, county.area.sitters, county.area.providers, 1, county.area.sitters
    )
    num_night = min(county.area.night_providers, county.area.providers)
    night = set(county.rng.sample(range(county.area.providers), num_night))
    for idx, peak in enumerate(peaks):
        county.providers.append(_provider(county, idx, peak, idx % 2 == 0, idx in night))
    for town in county.towns:
        if not any(town.locality_id in p.json["localities"] for p in county.providers):
            nearest = min(county.providers, key=lambda p: km_apart(p.point, town.point))
            nearest.json["localities"].append(town.locality_id)


def _provider(
    county: County, idx: int, peak: int, north: bool, night: bool = False
) -> ProviderDraft:
    """Based in a town; serves it and 1-3 of the nearest towns in the same half; with
    ``night``, sitters on an overnight shift some nights."""
    rng = county.rng
    half = county.towns_in(north)
    town = half[(idx // 2) % len(half)]
    _, base = county.near(town.xy, 0.8)
    served = sorted(half, key=lambda t: (km_apart(t.point, town.point), t.locality_id))
    skills = ["personal_care"]
    skills += [s for s, p in (("dementia", 0.75), ("autism", 0.4)) if rng.random() < p]
    if north and idx > 0 and rng.random() < 0.5:
        skills.append("peg_feeding")  # never in the south: there it is no_provider
    rota = draw_rota(rng, peak)
    if night:
        add_night_shifts(rng, rota, peak)
    json: Json = {
        "provider_id": county.ids.next("P", 2),
        "name": f"{town.json['name']} {rng.choice(PROVIDER_WORDS)}",
        "localities": [t.locality_id for t in served[: rng.randint(2, 4)]],
        "skills": sorted(skills),
        "base": {"lat": base[0], "lon": base[1]},
        "max_travel_km": float(rng.randrange(15, 41, 5)),
        "sitters": rota,
        "weekly_hours_cap": 0.0,  # set once demand is known
        "cost_per_hour_pence": rng.randrange(2200, 3201, 50),
    }
    return ProviderDraft(json, base, town, north, peak, rota_minutes(rota))


def draw_rota(rng: random.Random, peak: int) -> dict[str, list[Json]]:
    """Two weekday shifts (the morning is the busiest), one on Saturday, a short one on Sunday."""
    afternoon = max(1, round(peak * rng.uniform(0.6, 0.9)))
    weekday = [
        {"start": "08:00", "end": "14:00", "count": peak},
        {"start": "14:00", "end": "20:00", "count": afternoon},
    ]
    rota = {day: [dict(shift) for shift in weekday] for day in WEEKDAYS[:5]}
    rota["sat"] = [{"start": "09:00", "end": "17:00", "count": max(1, round(peak * 0.4))}]
    rota["sun"] = [{"start": "10:00", "end": "16:00", "count": max(1, round(peak * 0.25))}]
    return rota


def add_night_shifts(rng: random.Random, rota: dict[str, list[Json]], peak: int) -> None:
    """Night sitting 22:00-07:00 (into the next morning) on 3-7 nights of the week, by
    one or two sitters: fewer than the day's peak, so the peak stays the day's."""
    count = min(peak, 2 if peak >= 6 and rng.random() < 0.5 else 1)
    for day in sorted(rng.sample(WEEKDAYS, rng.randint(3, 7)), key=WEEKDAYS.index):
        rota[day].append({"start": NIGHT_START, "end": NIGHT_END, "count": count})


def rota_minutes(rota: dict[str, list[Json]]) -> int:
    """Sitter-minutes on the rota in a week; a night shift counts whole."""
    return sum(
        span_minutes(s["start"], s["end"]) * s["count"] for shifts in rota.values() for s in shifts
    )
