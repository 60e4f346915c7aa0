"""Seeded problem generator: every size tier of ``shared/spec/domain.md`` from a seed.

A tier is built from *counties*. A county is a box of about 100 x 60 km with
named towns (the localities) split north and south; respite units and sitting
providers sit in the towns, and the homes of cases cluster around them. A
region is four counties side by side (two by two) and the nation five regions
in different parts of England. Nothing links two counties, so that the solver
can work county by county: budgets, providers and units belong to one county,
providers serve localities of their own county only, and every stay request's
``max_travel_km`` stops short of the units of every other county.

What is drawn, and why:

- shares from the spec: about 15% of cases one_to_one and 5% two_to_one; 10%
  of requests crisis, 15% health appointments, the rest planned;
- demand above capacity, so that choices matter. Stays are of 1-7 nights
  (crisis 2-7), but a third of planned stays are of 10 or 14 nights (a
  fortnight's break; cut to the tier's ``longest_stay``): with 1-7 nights
  only, the table's 400 stay requests could not ask for more than the 80
  beds hold in 28 nights. Stays ask for about 1.3-1.7 times the free block
  bed-nights, about 1.8 times what night staff can cover (H5 binds in the
  bigger units). Visits ask for 1.35-1.8 times the providers' weekly hours
  caps, most in the mornings;
- most requests have at least one option; about 6% are impossible on purpose,
  each for a reason a broker would give (not eligible, allowance used, too
  far, no suitable bed, no provider), the others compete;
- confirmed bookings (about a fifth of the block bed-nights of the first week
  and 3% of the visits) are placed greedily with every hard rule H1..H12
  checked, so the problem is feasible as given;
- every clock time and visit length is a multiple of 30 minutes.

The result depends on ``(tier, seed)`` only: one :class:`random.Random` per
county, seeded from a string, and no iteration over sets or unordered dicts.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np

from scheduler.geo import EARTH_RADIUS_KM, km_between
from scheduler.model import WEEKDAYS, Problem, minutes_of

__all__ = ["SHAPES", "TIERS", "AreaSize", "TierShape", "generate"]

TIERS = ("tiny", "borough", "county", "region", "nation")

Json = dict[str, Any]
Point = tuple[float, float]

STEP = 30  # minutes: every clock time and length is a multiple
SLOTS = 24 * 60 // STEP
FIRST_MONDAY = dt.date(2025, 1, 6)
KM_PER_DEGREE = 111.2
COUNTY_GAP_KM = 8.0
FEATURE_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("ground_floor",),
    ("ground_floor", "hoist"),
    ("bariatric", "ground_floor", "hoist"),
    ("low_stimulus_suite",),
    ("ground_floor", "low_stimulus_suite"),
)
# No bed anywhere has both: the need of a request that no unit can meet.
UNMEETABLE_NEEDS = ["bariatric", "low_stimulus_suite"]
SKILLS = ("dementia", "personal_care", "autism", "peg_feeding")
ALLOWANCES = (21, 28, 35, 42)
IMPOSSIBLE_SHARE = 0.06
STAY_REASONS = ("not_eligible", "allowance_used", "too_far", "no_suitable_bed")
SITTING_REASONS = ("not_eligible", "allowance_used", "no_provider", "too_far")
# Planned stays: mostly a week, some a fortnight, some a long weekend.
PLANNED_NIGHTS = ((1, 2, 3, 4, 5, 6, 7, 10, 14), (2, 4, 8, 8, 6, 4, 36, 6, 26))
CRISIS_NIGHTS = ((2, 3, 4, 5, 6, 7), (10, 15, 15, 15, 15, 30))
HEALTH_NIGHTS = ((2, 3, 4, 5, 6, 7), (10, 20, 25, 20, 10, 15))
VISITS_PER_REQUEST = {
    "planned": ((1, 2, 3, 4, 5), (30, 30, 22, 12, 6)),
    "crisis": ((2, 3, 4, 5), (25, 30, 25, 20)),
    "health_appointment": ((1, 2), (70, 30)),
}
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
PROVIDER_WORDS = ("Sitting Service", "Carers Support", "Home Sitters", "Crossroads Care")


@dataclass(frozen=True)
class AreaSize:
    """What one county (or borough) holds; sizes of the spec's table."""

    units: int
    spot_units: int
    beds: int
    providers: int
    sitters: int  # sum over providers of their peak number of sitters on shift
    cases: int
    stay_requests: int
    visits: int
    towns: int
    width_km: float
    height_km: float


@dataclass(frozen=True)
class TierShape:
    """A tier: its county, the nights planned, counties per region and where regions lie."""

    area: AreaSize
    nights: int
    longest_stay: int  # nights; stays longer than the drawn length are cut to it
    counties: int  # per region, laid out two by two
    regions: tuple[Point, ...]  # south-west corner (lat, lon) of each region


_COUNTY = AreaSize(10, 2, 80, 12, 250, 2000, 400, 4000, 8, 100.0, 60.0)
_REGION_COUNTY = AreaSize(10, 2, 80, 10, 250, 2000, 400, 4000, 8, 100.0, 60.0)
_ENGLAND = (  # south east, south west, midlands, north west, north east
    (50.70, -1.90),
    (50.05, -5.30),
    (52.05, -2.90),
    (53.45, -3.10),
    (54.70, -2.60),
)
SHAPES: dict[str, TierShape] = {
    "tiny": TierShape(AreaSize(2, 1, 3, 1, 2, 6, 4, 6, 2, 16.0, 10.0), 7, 5, 1, ((53.05, -2.45),)),
    "borough": TierShape(
        AreaSize(3, 1, 14, 3, 25, 150, 40, 300, 4, 40.0, 25.0), 14, 10, 1, ((52.95, -2.55),)
    ),
    "county": TierShape(_COUNTY, 28, 14, 1, ((50.95, 0.15),)),
    "region": TierShape(_REGION_COUNTY, 28, 14, 4, _ENGLAND[:1]),
    "nation": TierShape(_REGION_COUNTY, 28, 14, 4, _ENGLAND),
}


def generate(tier: str, seed: int) -> Problem:
    """Generate a realistic, validated problem of a size tier.

    Parameters
    ----------
    tier
        One of :data:`TIERS`: ``"tiny"``, ``"borough"``, ``"county"``, ``"region"``
        (four counties) or ``"nation"`` (five regions; ids prefixed ``"R1-"``..``"R5-"``).
    seed
        The same ``(tier, seed)`` always gives the same problem.

    Returns
    -------
    Problem
        Sizes as in the spec's table; confirmed bookings that keep every hard rule.
    """
    if tier not in SHAPES:
        raise ValueError(f"tier: '{tier}' is not one of {', '.join(TIERS)}")
    shape = SHAPES[tier]
    rng = random.Random(f"{tier}:{seed}")
    week_start = FIRST_MONDAY + dt.timedelta(weeks=rng.randrange(52))
    num_counties = shape.counties * len(shape.regions)
    names = _town_names(rng, num_counties * shape.area.towns)
    counties = _lay_out(shape, tier, seed, week_start, names)
    for county in counties:
        county.build_places()
    _link_foreign_units(counties)
    for county in counties:
        county.build_demand()
    return Problem.model_validate(_assemble(counties, week_start, shape.nights))


# ---------------------------------------------------------------------- layout


def _town_names(rng: random.Random, count: int) -> list[str]:
    every = sorted(head + tail for head in TOWN_HEADS for tail in TOWN_TAILS)
    return rng.sample(every, count)


def _lay_out(
    shape: TierShape, tier: str, seed: int, week_start: dt.date, names: list[str]
) -> list[_County]:
    """One builder per county; counties of a region share id counters."""
    area = shape.area
    counties: list[_County] = []
    for region_idx, (lat, lon) in enumerate(shape.regions):
        prefix = f"R{region_idx + 1}-" if len(shape.regions) > 1 else ""
        ids = _Ids(prefix)
        for county_idx in range(shape.counties):
            row, col = divmod(county_idx, 2)
            lat0 = lat + row * (area.height_km + COUNTY_GAP_KM) / KM_PER_DEGREE
            lon0 = lon + col * (area.width_km + COUNTY_GAP_KM) / _km_per_lon_degree(lat0)
            tag = f"{prefix}K{county_idx + 1}-" if shape.counties > 1 else prefix
            start = len(counties) * area.towns
            counties.append(
                _County(
                    rng=random.Random(f"{tier}:{seed}:{region_idx}:{county_idx}"),
                    ids=ids,
                    tag=tag,
                    box=_Box(lat0, lon0, area.width_km, area.height_km),
                    area=area,
                    week_start=week_start,
                    num_nights=shape.nights,
                    longest_stay=shape.longest_stay,
                    town_names=names[start : start + area.towns],
                )
            )
    return counties


def _km_per_lon_degree(lat: float) -> float:
    return KM_PER_DEGREE * math.cos(math.radians(lat))


def _link_foreign_units(counties: list[_County]) -> None:
    """Give each county the places of every other county's units (for the travel cap)."""
    points = [[u.point for u in county.units] for county in counties]
    for idx, county in enumerate(counties):
        others = [p for j, pts in enumerate(points) if j != idx for p in pts]
        county.foreign = np.radians(np.array(others, dtype=float).reshape(-1, 2))


def _assemble(counties: list[_County], week_start: dt.date, num_nights: int) -> Json:
    last_night = week_start + dt.timedelta(days=num_nights - 1)
    return {
        "horizon": {"first_night": week_start.isoformat(), "last_night": last_night.isoformat()},
        "week_start": week_start.isoformat(),
        "localities": [t.json for c in counties for t in c.towns],
        "cases": [case.json for c in counties for case in c.cases],
        "units": [u.json for c in counties for u in c.units],
        "providers": [p.json for c in counties for p in c.providers],
        "requests": [r for c in counties for r in c.requests],
        "bookings": [b for c in counties for b in c.bookings],
        "budgets": [b for c in counties for b in c.budgets],
    }


# ---------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Box:
    """A county's rectangle; places inside it are given in km east and north of its corner."""

    lat0: float
    lon0: float
    width_km: float
    height_km: float

    def point(self, x_km: float, y_km: float) -> Point:
        x_km = min(max(x_km, 0.0), self.width_km)
        y_km = min(max(y_km, 0.0), self.height_km)
        lat = self.lat0 + y_km / KM_PER_DEGREE
        lon = self.lon0 + x_km / _km_per_lon_degree(self.lat0)
        return round(lat, 5), round(lon, 5)


class _Ids:
    """Sequential ids, with the region's prefix in the nation tier."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.counts: dict[str, int] = defaultdict(int)

    def next(self, kind: str, width: int) -> str:
        self.counts[kind] += 1
        return f"{self.prefix}{kind}-{self.counts[kind]:0{width}d}"


def _km(a: Point, b: Point) -> float:
    return km_between(a[0], a[1], b[0], b[1])


def _min_km(point: Point, radians: np.ndarray) -> float:
    """Great-circle distance from ``point`` to the nearest of ``radians`` (lat, lon rows)."""
    if len(radians) == 0:
        return math.inf
    lat, lon = math.radians(point[0]), math.radians(point[1])
    dlat = radians[:, 0] - lat
    dlon = radians[:, 1] - lon
    a = np.sin(dlat / 2) ** 2 + math.cos(lat) * np.cos(radians[:, 0]) * np.sin(dlon / 2) ** 2
    return float(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a.min(), 1.0))))


def _split(rng: random.Random, total: int, parts: int, low: int, high: int) -> list[int]:
    """``parts`` integers in ``low..high`` adding up to ``total``, drawn at random."""
    if not parts * low <= total <= parts * high:
        raise ValueError(f"cannot split {total} into {parts} parts of {low}..{high}")
    sizes = [low] * parts
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    for _ in range(total - parts * low):
        open_idx = [i for i in range(parts) if sizes[i] < high]
        sizes[rng.choices(open_idx, [weights[i] for i in open_idx])[0]] += 1
    return sizes


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _pick(rng: random.Random, table: tuple[Sequence[int], Sequence[int]]) -> int:
    return rng.choices(table[0], table[1])[0]


def _weighted_sample(
    rng: random.Random, items: list[int], weights: list[float], k: int
) -> list[int]:
    """``k`` distinct items, heavier ones first more often (Efraimidis-Spirakis)."""
    keys = sorted(((rng.random() ** (1 / w), item) for item, w in zip(items, weights, strict=True)))
    return [item for _, item in keys[-k:]]


# ---------------------------------------------------------------------- places


@dataclass
class _Town:
    json: Json
    xy: Point
    point: Point
    weight: float
    north: bool

    @property
    def locality_id(self) -> str:
        return str(self.json["locality_id"])


@dataclass
class _Unit:
    json: Json
    xy: Point
    point: Point
    north: bool
    staff: list[int]  # on duty each night of the horizon

    @property
    def unit_id(self) -> str:
        return str(self.json["unit_id"])

    @property
    def spot(self) -> bool:
        return bool(self.json["spot"])

    def admits(self, case: Json) -> bool:
        """H3: age band and sex policy."""
        unit = self.json
        sex_ok = unit["sex_policy"] in ("any", case["sex"])
        return bool(sex_ok and unit["age_min"] <= case["age"] <= unit["age_max"])

    def feature_sets(self) -> list[tuple[str, ...]]:
        return sorted({tuple(bed["features"]) for bed in self.json["beds"]})


@dataclass
class _Provider:
    json: Json
    point: Point
    town: _Town  # where the base is
    north: bool
    peak: int
    rota_minutes: int  # sitter-minutes on the rota in a week

    @property
    def provider_id(self) -> str:
        return str(self.json["provider_id"])

    def serves_area(self, case: Json) -> bool:
        return case["locality_id"] in self.json["localities"]

    def serves(self, case: Json) -> bool:
        """H9: the case's locality and every skill it needs."""
        skills = self.json["skills"]
        covered = case["locality_id"] in self.json["localities"]
        return covered and all(s in skills for s in case["sitting_skills"])


@dataclass
class _Case:
    json: Json
    point: Point
    town: _Town
    roles: int = 0  # how many requests the case makes

    @property
    def case_id(self) -> str:
        return str(self.json["case_id"])

    def move(self, point: Point, town: _Town) -> None:
        self.point, self.town = point, town
        self.json["home"] = {"lat": point[0], "lon": point[1]}
        self.json["locality_id"] = town.locality_id


@dataclass
class _Plan:
    """A request and what it was built for: a unit or provider that can serve it, or the
    reason it cannot be met."""

    request: Json
    case: _Case
    impossible: str | None = None
    unit: _Unit | None = None
    provider: _Provider | None = None
    reach: list[_Unit] = field(default_factory=list)


def _rota(rng: random.Random, peak: int) -> dict[str, list[Json]]:
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


def _rota_minutes(rota: dict[str, list[Json]]) -> int:
    return sum(
        (minutes_of(s["end"]) - minutes_of(s["start"])) * s["count"]
        for shifts in rota.values()
        for s in shifts
    )


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


def _half_hours(minutes: float) -> float:
    """Round minutes up to whole half hours, as hours."""
    return math.ceil(minutes / 30) / 2


def _floor_half(km: float) -> float:
    return km if math.isinf(km) else math.floor(km * 2) / 2


# ---------------------------------------------------------------------- a county


@dataclass
class _County:
    """One county's builder: its places first (every county's, so that stays can be kept
    from reaching other counties), then its demand, budgets and bookings."""

    rng: random.Random
    ids: _Ids
    tag: str
    box: _Box
    area: AreaSize
    week_start: dt.date
    num_nights: int
    longest_stay: int
    town_names: list[str]
    towns: list[_Town] = field(default_factory=list)
    units: list[_Unit] = field(default_factory=list)
    providers: list[_Provider] = field(default_factory=list)
    cases: list[_Case] = field(default_factory=list)
    stays: list[_Plan] = field(default_factory=list)
    sittings: list[_Plan] = field(default_factory=list)
    bookings: list[Json] = field(default_factory=list)
    budgets: list[Json] = field(default_factory=list)
    foreign: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    nights: list[dt.date] = field(init=False)

    def __post_init__(self) -> None:
        self.nights = [self.week_start + dt.timedelta(days=i) for i in range(self.num_nights)]

    @property
    def requests(self) -> list[Json]:
        return [plan.request for plan in self.stays + self.sittings]

    @property
    def block_units(self) -> list[_Unit]:
        return [unit for unit in self.units if not unit.spot]

    def build_places(self) -> None:
        self.towns = [self._town(i) for i in range(self.area.towns)]
        self._build_units()
        self._build_providers()

    def build_demand(self) -> None:
        """Cases, their requests (a few impossible on purpose), caps, budgets, bookings."""
        weights = [t.weight for t in self.towns]
        towns = self.rng.choices(self.towns, weights, k=self.area.cases)
        self.cases = [self._case(town) for town in towns]
        self.stays = self._stay_plans()
        self.sittings = self._sitting_plans()
        # Sitting first: it may move a home nearer a sitter base; a stay reaches further.
        reasons = self._impossible(self.sittings, SITTING_REASONS)
        for plan, reason in zip(self.sittings, reasons, strict=True):
            self._shape_sitting(plan, reason)
        reasons = self._impossible(self.stays, STAY_REASONS)
        for plan, reason in zip(self.stays, reasons, strict=True):
            self._shape_stay(plan, reason)
        for plan in self.stays + self.sittings:
            plan.request["request_id"] = self.ids.next("R", 5)
        self._add_incompatible_pairs()
        self._add_history()
        _set_caps(self.rng, self.providers, self.sittings)
        self.budgets = _budgets(self.rng, self.tag, self.units, self.providers, self.num_nights)
        _Booker(self).book()
        self._add_booked_incompatibles()

    # ------------------------------------------------------------------ places

    def _town(self, idx: int) -> _Town:
        """Towns spread along the county, half in the north and half in the south."""
        rng, box = self.rng, self.box
        north = idx % 2 == 0
        per_half = (self.area.towns + 1) // 2
        x = (idx // 2 + rng.uniform(0.2, 0.8)) / per_half * box.width_km
        y = box.height_km * (rng.uniform(0.58, 0.88) if north else rng.uniform(0.12, 0.42))
        weight = rng.uniform(0.5, 1.5) * (2.0 if idx == 0 else 1.0)
        json = {"locality_id": self.ids.next("L", 2), "name": self.town_names[idx]}
        return _Town(json, (x, y), box.point(x, y), weight, north)

    def _near(self, xy: Point, sd_km: float) -> tuple[Point, Point]:
        """A place drawn around ``xy``: (km east, km north) and (lat, lon)."""
        x = min(max(self.rng.gauss(xy[0], sd_km), 0.0), self.box.width_km)
        y = min(max(self.rng.gauss(xy[1], sd_km), 0.0), self.box.height_km)
        return (x, y), self.box.point(x, y)

    def _towns_in(self, north: bool) -> list[_Town]:
        return [t for t in self.towns if t.north == north] or self.towns

    def _nearest_town(self, point: Point) -> _Town:
        return min(self.towns, key=lambda t: (_km(t.point, point), t.locality_id))

    def _build_units(self) -> None:
        """Block units alternate north and south, with a transition flat (16-25) and an
        older people's unit (65+) where the county has four or more; spot units last."""
        area, rng = self.area, self.rng
        num_block = area.units - area.spot_units
        spot_beds = [1] * area.spot_units
        if area.spot_units:
            spot_total = min(area.beds - 2 * num_block, 2 * area.spot_units)
            spot_beds = _split(rng, spot_total, area.spot_units, 1, 3)
        kinds = ["adults"] * num_block
        if num_block >= 4:
            kinds[2], kinds[3] = "transition", "older"
        beds = [3 if kind == "transition" else 0 for kind in kinds]
        rest = [i for i, kind in enumerate(kinds) if kind != "transition"]
        sizes = _split(rng, area.beds - sum(spot_beds) - sum(beds), len(rest), 2, 12)
        for i, size in zip(rest, sizes, strict=True):
            beds[i] = size
        female_only = num_block >= 6 and rng.random() < 0.5
        for i, kind in enumerate(kinds):
            sex = "female" if female_only and i == num_block - 1 else "any"
            self.units.append(self._unit(kind, beds[i], i % 2 == 0, sex))
        for i, size in enumerate(spot_beds):
            self.units.append(self._unit("spot", size, i % 2 == 1, "any"))

    def _unit(self, kind: str, num_beds: int, north: bool, sex_policy: str) -> _Unit:
        rng = self.rng
        town = rng.choice(self._towns_in(north))
        xy, point = self._near(town.xy, 1.0)
        unit_id = self.ids.next("U", 2)
        staff = 2 if kind == "spot" else min(max(int(num_beds / rng.uniform(3.0, 4.0)), 2), 4)
        changes = self._staff_changes(staff)
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
            "beds": self._beds(unit_id, kind, num_beds),
            "default_night_staff": staff,
            "night_staff": changes,
            "shared_ratio": 3 if kind == "spot" else rng.choice((3, 4)),
            "cost_per_night_pence": rng.randrange(price[0], price[1] + 1, 500),
            "spot": kind == "spot",
        }
        return _Unit(json, xy, point, north, [changes.get(n, staff) for n in self.nights])

    def _staff_changes(self, staff: int) -> dict[dt.date, int]:
        """A few nights with one fewer on duty (sickness, holidays) or one more."""
        nights = sorted(self.rng.sample(self.nights, self.rng.randint(0, 3)))
        return {n: max(staff - 1 if self.rng.random() < 0.7 else staff + 1, 1) for n in nights}

    def _beds(self, unit_id: str, kind: str, num_beds: int) -> list[Json]:
        """1-3 kinds of bed per unit, several beds of each: beds of a kind are interchangeable."""
        rng = self.rng
        sets, weights = {
            "adults": (FEATURE_SETS, (5, 3, 3, 1, 2, 1)),
            "older": (FEATURE_SETS[1:4], (3, 4, 1)),
            "transition": ((FEATURE_SETS[0], FEATURE_SETS[4]), (1, 1)),
            "spot": (FEATURE_SETS[1:3], (1, 1)),
        }[kind]
        num_sets = min(rng.choice((1, 2, 2, 3)), num_beds, len(sets))
        chosen = _weighted_sample(rng, list(range(len(sets))), list(weights), num_sets)
        counts = _split(rng, num_beds, num_sets, 1, num_beds)
        features = [sets[s] for s, n in zip(chosen, counts, strict=True) for _ in range(n)]
        return [
            {"bed_id": f"{unit_id}-B{i + 1:02d}", "features": list(f)}
            for i, f in enumerate(features)
        ]

    def _build_providers(self) -> None:
        peaks = _split(self.rng, self.area.sitters, self.area.providers, 1, self.area.sitters)
        for idx, peak in enumerate(peaks):
            self.providers.append(self._provider(idx, peak, idx % 2 == 0))
        for town in self.towns:
            if not any(town.locality_id in p.json["localities"] for p in self.providers):
                nearest = min(self.providers, key=lambda p: _km(p.point, town.point))
                nearest.json["localities"].append(town.locality_id)

    def _provider(self, idx: int, peak: int, north: bool) -> _Provider:
        """Based in a town; serves it and 1-3 of the nearest towns in the same half."""
        rng = self.rng
        half = self._towns_in(north)
        town = half[(idx // 2) % len(half)]
        _, base = self._near(town.xy, 0.8)
        served = sorted(half, key=lambda t: (_km(t.point, town.point), t.locality_id))
        skills = ["personal_care"]
        skills += [s for s, p in (("dementia", 0.75), ("autism", 0.4)) if rng.random() < p]
        if north and idx > 0 and rng.random() < 0.5:
            skills.append("peg_feeding")  # never in the south: there it is no_provider
        rota = _rota(rng, peak)
        json: Json = {
            "provider_id": self.ids.next("P", 2),
            "name": f"{town.json['name']} {rng.choice(PROVIDER_WORDS)}",
            "localities": [t.locality_id for t in served[: rng.randint(2, 4)]],
            "skills": sorted(skills),
            "base": {"lat": base[0], "lon": base[1]},
            "max_travel_km": float(rng.randrange(15, 41, 5)),
            "sitters": rota,
            "weekly_hours_cap": 0.0,  # set once demand is known
            "cost_per_hour_pence": rng.randrange(2200, 3201, 50),
        }
        return _Provider(json, base, town, north, peak, _rota_minutes(rota))

    # ------------------------------------------------------------------ cases

    def _case(self, town: _Town) -> _Case:
        rng = self.rng
        _, home = self._near(town.xy, 2.0 + 2.5 * town.weight)
        band = rng.random()
        age = rng.randint(*((16, 25) if band < 0.1 else (26, 64) if band < 0.55 else (65, 97)))
        support = rng.random()
        eligible = rng.choices((["stay", "sitting"], ["stay"], ["sitting"]), (8, 1, 1))[0]
        allowance = rng.choice(ALLOWANCES) if "stay" in eligible else 0
        json: Json = {
            "case_id": self.ids.next("C", 5),
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
            "nights_used": allowance if rng.random() < 0.1 else rng.randint(0, allowance),
            "sitting_hours_per_week": rng.randrange(4, 21) / 2 if "sitting" in eligible else 0.0,
        }
        return _Case(json, home, town)

    def _make_remote(self, case: _Case) -> float:
        """Move a home far from every unit and sitter base; the distance to the nearest."""
        places = [u.point for u in self.units] + [p.point for p in self.providers]
        radians = np.radians(np.array(places, dtype=float))
        best: tuple[float, Point] = (-1.0, case.point)
        for _ in range(60):
            x = self.rng.uniform(0, self.box.width_km)
            y = self.rng.uniform(0, self.box.height_km)
            point = self.box.point(x, y)
            km = min(_min_km(point, radians), _min_km(point, self.foreign))
            best = max(best, (km, point))
            if km > 20:
                break
        case.move(best[1], self._nearest_town(best[1]))
        return best[0]

    def _impossible(self, plans: list[_Plan], reasons: tuple[str, ...]) -> list[str | None]:
        """About 6% of requests, of cases that make no other request, cannot be met, each for
        one reason, the reasons taken in turn; at least one for each reason where there are
        eight requests a reason, and one where there are four."""
        alone = [i for i, plan in enumerate(plans) if plan.case.roles == 1]
        least = min(len(reasons), len(plans) // 8) or int(len(plans) >= 4)
        wanted = max(least, round(IMPOSSIBLE_SHARE * len(plans)))
        count = min(wanted, len(alone))
        picked = self.rng.sample(alone, count)
        out: list[str | None] = [None] * len(plans)
        for turn, idx in enumerate(picked):
            out[idx] = reasons[turn % len(reasons)]
        return out

    def _pick_cases(self, count: int) -> list[_Case]:
        if count > len(self.cases):
            raise ValueError(f"{count} requests need more than {len(self.cases)} cases")
        chosen = self.rng.sample(self.cases, count)
        for case in chosen:
            case.roles += 1
        return chosen

    # ------------------------------------------------------------------ stays

    def _stay_plans(self) -> list[_Plan]:
        rng, count = self.rng, self.area.stay_requests
        priorities = ["crisis"] * round(0.10 * count)
        priorities += ["health_appointment"] * round(0.15 * count)
        priorities += ["planned"] * (count - len(priorities))
        rng.shuffle(priorities)
        cases = self._pick_cases(count)
        return [
            _Plan(self._stay_request(case, priority), case)
            for case, priority in zip(cases, priorities, strict=True)
        ]

    def _stay_request(self, case: _Case, priority: str) -> Json:
        rng, horizon = self.rng, self.num_nights
        table = {"crisis": CRISIS_NIGHTS, "health_appointment": HEALTH_NIGHTS}
        nights = min(_pick(rng, table.get(priority, PLANNED_NIGHTS)), self.longest_stay)
        last_start = horizon - nights
        if priority == "crisis":
            first, width = rng.randint(0, min(2, last_start)), rng.randint(0, 2)
        else:
            first = rng.randint(0, last_start)
            width = rng.randint(0, 1) if priority == "health_appointment" else rng.randint(0, 6)
        # A few windows run past the horizon: their late starts cannot be placed (H6).
        latest = first + width if rng.random() < 0.05 else min(first + width, last_start)
        back = rng.randint(0, 10) if priority == "crisis" else rng.randint(7, 84)
        request: Json = {
            "request_id": "",
            "case_id": case.case_id,
            "kind": "stay",
            "priority": priority,
            "received": self.week_start - dt.timedelta(days=back),
            "nights": nights,
            "earliest_start": self.nights[first],
            "latest_start": self.nights[0] + dt.timedelta(days=latest),
            "max_travel_km": float(rng.randrange(15, 61, 5)),
        }
        if priority == "health_appointment" or rng.random() < 0.3:
            offset = 0 if priority == "health_appointment" else rng.randint(0, latest - first)
            request["preferred_start"] = self.nights[0] + dt.timedelta(days=first + offset)
        return request

    def _shape_stay(self, plan: _Plan, reason: str | None) -> None:
        """Make the case fit a unit within reach, then break it on purpose if ``reason``;
        never let a stay reach another county's units."""
        self._make_stay_possible(plan)
        if reason:
            plan.impossible = reason
            self._break_stay(plan, reason)
        limit = _floor_half(_min_km(plan.case.point, self.foreign) - 0.5)
        plan.request["max_travel_km"] = min(plan.request["max_travel_km"], limit)

    def _stay_reach(self, plan: _Plan) -> list[tuple[float, _Unit]]:
        limit = min(60.0, _min_km(plan.case.point, self.foreign) - 1.0)
        reach = [(_km(u.point, plan.case.point), u) for u in self.block_units]
        return sorted((r for r in reach if r[0] <= limit), key=lambda r: (r[0], r[1].unit_id))

    def _make_stay_possible(self, plan: _Plan) -> None:
        rng, case, request = self.rng, plan.case, plan.request
        reach = self._stay_reach(plan)
        if not reach:
            unit = rng.choice(self.block_units)
            _, home = self._near(unit.xy, 3.0)
            case.move(home, self._nearest_town(home))
            reach = self._stay_reach(plan)
        if not reach:
            return  # out of reach after all: too_far, as it happens
        km, unit = rng.choices(reach[:3], (3, 2, 1)[: len(reach[:3])])[0]
        plan.unit, plan.reach = unit, [u for _, u in reach]
        self._fit_case_to(case.json, unit, request["nights"])
        step = 5 * math.ceil((km + 0.5) / 5)
        request["max_travel_km"] = float(max(request["max_travel_km"], step))
        if rng.random() < 0.25:
            others = [u for u in plan.reach if u is not unit][:1]
            request["preferred_units"] = [u.unit_id for u in [unit, *others][: rng.randint(1, 2)]]

    def _fit_case_to(self, case: Json, unit: _Unit, nights: int) -> None:
        """Age, sex, bed needs and allowance such that ``unit`` could take the stay."""
        rng, json = self.rng, unit.json
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

    def _break_stay(self, plan: _Plan, reason: str) -> None:
        case, request = plan.case.json, plan.request
        plan.unit, plan.reach = None, []
        if reason == "not_eligible":
            case["eligible"] = [k for k in case["eligible"] if k != "stay"]
            case["nights_allowance"] = case["nights_used"] = 0
        elif reason == "allowance_used":
            left = self.rng.randint(0, request["nights"] - 1)
            case["nights_used"] = max(case["nights_allowance"] - left, 0)
        elif reason == "no_suitable_bed":
            case["bed_needs"] = list(UNMEETABLE_NEEDS)
        else:
            km = self._make_remote(plan.case)
            request["max_travel_km"] = 15.0 if km > 17 else max(_floor_half(0.6 * km), 0.5)
            request.pop("preferred_units", None)

    # ------------------------------------------------------------------ sitting

    def _sitting_plans(self) -> list[_Plan]:
        """Requests of 1-5 visits (health appointments 1-2) until the tier's visit count."""
        rng, total = self.rng, self.area.visits
        shapes: list[tuple[str, int]] = []
        done = 0
        while done < total:
            draw = rng.random()
            priority = (
                "crisis" if draw < 0.1 else "health_appointment" if draw < 0.25 else "planned"
            )
            shapes.append((priority, min(_pick(rng, VISITS_PER_REQUEST[priority]), total - done)))
            done += shapes[-1][1]
        cases = self._pick_cases(len(shapes))
        plans = []
        for case, (priority, num_visits) in zip(cases, shapes, strict=True):
            back = rng.randint(0, 10) if priority == "crisis" else rng.randint(7, 84)
            request: Json = {
                "request_id": "",
                "case_id": case.case_id,
                "kind": "sitting",
                "priority": priority,
                "received": self.week_start - dt.timedelta(days=back),
                "visits": [{"visit_id": f"V{i + 1}"} for i in range(num_visits)],
                "double_handed": False,
                "max_travel_km": float(rng.randrange(20, 61, 5)),
            }
            plans.append(_Plan(request, case))
        return plans

    def _shape_sitting(self, plan: _Plan, reason: str | None) -> None:
        case, request = plan.case, plan.request
        shortest = 150 if reason == "allowance_used" else 60
        days = self._visit_days(request["priority"], len(request["visits"]))
        for visit, day in zip(request["visits"], days, strict=True):
            self._fill_visit(visit, request["priority"], day, shortest)
        self._make_sitting_possible(plan)
        if reason:
            plan.impossible = reason
            self._break_sitting(plan, reason)
        if "sitting" not in case.json["eligible"] and not reason:
            case.json["eligible"] = [*case.json["eligible"], "sitting"]

    def _visit_days(self, priority: str, count: int) -> list[int]:
        """Distinct days of the week: weekdays for health appointments, weekends less often."""
        if priority == "health_appointment":
            return sorted(self.rng.sample(range(5), count))
        return sorted(_weighted_sample(self.rng, list(range(7)), [1] * 5 + [0.5, 0.35], count))

    def _fill_visit(self, visit: Json, priority: str, day: int, shortest: int) -> None:
        """Health appointments: one window exactly the visit's length. Planned visits: 1-2
        windows 1-2 hours longer. Crisis: 1-2 wide windows."""
        rng = self.rng
        if priority == "health_appointment":
            minutes = rng.choice([m for m in (60, 90, 120, 150, 180) if m >= shortest])
            start = rng.randrange(8 * 60 + 30, 17 * 60 - minutes + 1, STEP)
            visit["minutes"] = minutes
            visit["windows"] = [self._window(day, start, start + minutes)]
            return
        minutes = rng.choice([m for m in (120, 150, 180, 210, 240) if m >= shortest])
        extra = (60, 90, 120) if priority == "planned" else (120, 180, 240)
        days = [day]
        if rng.random() < 0.4:
            days.append(rng.choice([d for d in range(7) if d != day]))
        visit["minutes"] = minutes
        visit["windows"] = [self._open_window(d, minutes + rng.choice(extra)) for d in days]

    def _open_window(self, day: int, length: int) -> Json:
        """A window of ``length`` minutes, mostly in the morning; a few in the evening after
        20:00, when no sitter works (visits last 4 hours at most, so they still fit)."""
        rng = self.rng
        if rng.random() < 0.01:
            return self._window(day, 20 * 60, min(20 * 60 + length, 24 * 60))
        starts = list(range(8 * 60, 20 * 60 - length + 1, STEP))
        weights = [3.0 if s < 11 * 60 else 1.5 if s < 14 * 60 else 1.0 for s in starts]
        start = rng.choices(starts, weights)[0]
        return self._window(day, start, start + length)

    def _window(self, day: int, start: int, end: int) -> Json:
        return {
            "day": self.week_start + dt.timedelta(days=day),
            "start": _clock(start),
            "end": _clock(end),
        }

    def _sitting_reach(self, plan: _Plan) -> list[tuple[float, _Provider]]:
        case = plan.case
        covering = [p for p in self.providers if p.serves_area(case.json)]
        reach = [(_km(p.point, case.point), p) for p in covering]
        return sorted(
            (r for r in reach if r[0] <= r[1].json["max_travel_km"]),
            key=lambda r: (r[0], r[1].provider_id),
        )

    def _make_sitting_possible(self, plan: _Plan) -> None:
        rng, case, request = self.rng, plan.case, plan.request
        reach = self._sitting_reach(plan)
        if not reach:
            # Live nearer a sitter base instead, in the base's town (which it serves).
            covering = [p for p in self.providers if p.serves_area(case.json)]
            town = min(covering, key=lambda p: _km(p.point, case.point)).town
            _, home = self._near(town.xy, 2.0)
            case.move(home, town)
            reach = self._sitting_reach(plan)
        if not reach:
            return  # too far, as it happens
        km, provider = rng.choice(reach[:2])
        plan.provider = provider
        skills = provider.json["skills"]
        case.json["sitting_skills"] = [s for s in case.json["sitting_skills"] if s in skills]
        request["double_handed"] = provider.peak >= 4 and rng.random() < 0.05
        step = 5 * math.ceil((km + 0.5) / 5)
        request["max_travel_km"] = float(max(request["max_travel_km"], step))
        case.json["sitting_hours_per_week"] = self._entitlement(request["visits"])

    def _entitlement(self, visits: list[Json]) -> float:
        """Enough for every visit for most cases; for some, enough for part of them."""
        total = sum(v["minutes"] for v in visits)
        low = max(2.0, _half_hours(max(v["minutes"] for v in visits)))
        high = min(10.0, math.floor(total / 30) / 2)
        if high <= low:
            return low
        if self.rng.random() < 0.8:
            return max(min(_half_hours(total), 10.0), low)
        return self.rng.randrange(int(2 * low), int(2 * high) + 1) / 2

    def _break_sitting(self, plan: _Plan, reason: str) -> None:
        case, request = plan.case.json, plan.request
        plan.provider = None
        if reason == "not_eligible":
            case["eligible"] = [k for k in case["eligible"] if k != "sitting"]
            case["sitting_hours_per_week"] = 0.0
            return
        if reason == "allowance_used":
            case["sitting_hours_per_week"] = 2.0  # every visit is 2.5 hours or more
            return
        offered = {s for p in self.providers if p.serves_area(case) for s in p.json["skills"]}
        missing = [s for s in SKILLS if s not in offered]
        if reason == "no_provider" and missing:
            case["sitting_skills"] = sorted({*case["sitting_skills"], self.rng.choice(missing)})
            return
        plan.impossible = "too_far"
        case["sitting_skills"] = []
        km = self._make_remote(plan.case)
        request["max_travel_km"] = 15.0 if km > 17 else max(_floor_half(0.6 * km), 0.5)

    # ------------------------------------------------------------------ pairs and history

    def _add_incompatible_pairs(self) -> None:
        """A few cases who must never share a unit, among those wanting the same unit at
        overlapping times; one side names the other, or both do."""
        by_unit: dict[str, list[_Plan]] = defaultdict(list)
        for plan in self.stays:
            if plan.unit is not None:
                by_unit[plan.unit.unit_id].append(plan)
        candidates = []
        for unit in self.units:
            plans = sorted(by_unit[unit.unit_id], key=lambda p: p.request["earliest_start"])
            candidates += [(a, b) for a, b in pairwise(plans) if _overlap(a, b)]
        count = min(max(1, round(0.015 * len(self.stays))), len(candidates))
        for a, b in self.rng.sample(candidates, count):
            _name_incompatible(a.case.json, b.case.json)
            if self.rng.random() < 0.5:
                _name_incompatible(b.case.json, a.case.json)

    def _add_booked_incompatibles(self) -> None:
        """A few people who cannot share with someone already booked into the unit they
        want, on nights they might come (only one of them is booked, so bookings keep H4)."""
        booked = {b["request_id"]: b for b in self.bookings if "bed_id" in b}
        candidates = []
        for booking in booked.values():
            last = booking["first_night"] + dt.timedelta(days=booking["nights"] - 1)
            for plan in self.stays:
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
        count = min(max(1, round(0.01 * len(self.stays))), len(candidates))
        cases = {case.case_id: case.json for case in self.cases}
        for plan, case_id in self.rng.sample(candidates, count):
            if plan.case.case_id != case_id:
                _name_incompatible(plan.case.json, cases[case_id])

    def _add_history(self) -> None:
        """The unit and provider some cases used last time (continuity)."""
        rng = self.rng
        for plan in self.stays:
            if plan.unit is not None and rng.random() < 0.35:
                plan.case.json["previous_unit_id"] = rng.choice(
                    [plan.unit, *plan.reach[:2]]
                ).unit_id
        for plan in self.sittings:
            if plan.provider is not None and rng.random() < 0.35:
                plan.case.json["previous_provider_id"] = plan.provider.provider_id
        for case in self.cases:
            if case.roles == 0 and rng.random() < 0.15:
                case.json["previous_unit_id"] = rng.choice(self.block_units).unit_id


def _overlap(a: _Plan, b: _Plan) -> bool:
    ra, rb = a.request, b.request
    a_end = ra["latest_start"] + dt.timedelta(days=ra["nights"])
    b_end = rb["latest_start"] + dt.timedelta(days=rb["nights"])
    return a.case is not b.case and ra["earliest_start"] < b_end and rb["earliest_start"] < a_end


def _name_incompatible(case: Json, other: Json) -> None:
    if other["case_id"] not in case["incompatible_with"]:
        case["incompatible_with"].append(other["case_id"])


# ---------------------------------------------------------------------- caps and budgets


def _set_caps(rng: random.Random, providers: list[_Provider], sittings: list[_Plan]) -> None:
    """Weekly hours caps that the visits asked for exceed 1.35-1.8 times, shared out by rota."""
    asked = sum(
        v["minutes"] * (2 if plan.request["double_handed"] else 1)
        for plan in sittings
        for v in plan.request["visits"]
    )
    cap_minutes = asked / rng.uniform(1.35, 1.8)
    rota_total = sum(p.rota_minutes for p in providers)
    for provider in providers:
        share = cap_minutes * provider.rota_minutes / rota_total
        hours = min(max(round(share / 60), 4), provider.rota_minutes // 60)
        provider.json["weekly_hours_cap"] = float(hours)


def _budgets(
    rng: random.Random, tag: str, units: list[_Unit], providers: list[_Provider], num_nights: int
) -> list[Json]:
    """Block beds north and south, spot beds, sitting north and south, for one county.

    Spot budgets (30-45% of every spot bed every night) bind; block budgets (75-95%) bind
    only where beds fill up; sitting budgets are 85-105% of the cost of the hours caps.
    """
    groups: list[tuple[str, list[str], float, float]] = []
    for north, side in ((True, "north"), (False, "south")):
        block = [u for u in units if u.north == north and not u.spot]
        full = sum(len(u.json["beds"]) * num_nights * u.json["cost_per_night_pence"] for u in block)
        groups.append(
            (f"{side}-block-beds", [u.unit_id for u in block], full, rng.uniform(0.75, 0.95))
        )
    spot = [u for u in units if u.spot]
    full = sum(len(u.json["beds"]) * num_nights * u.json["cost_per_night_pence"] for u in spot)
    groups.append(("spot-beds", [u.unit_id for u in spot], full, rng.uniform(0.3, 0.45)))
    for north, side in ((True, "north"), (False, "south")):
        sitting = [p for p in providers if p.north == north]
        full = sum(p.json["weekly_hours_cap"] * p.json["cost_per_hour_pence"] for p in sitting)
        owners = [p.provider_id for p in sitting]
        groups.append((f"sitting-{side}", owners, full, rng.uniform(0.85, 1.05)))
    return [
        {
            "budget_id": f"{tag}{name}",
            "limit_pence": max(round(full * share / 10000) * 10000, 10000),
            "applies_to": owners,
        }
        for name, owners, full, share in groups
        if owners
    ]


# ---------------------------------------------------------------------- bookings


def _sitters_on_shift(rota: dict[str, list[Json]]) -> list[list[int]]:
    """Sitters working in each half hour of each day of the week (Monday first)."""
    grid = [[0] * SLOTS for _ in WEEKDAYS]
    for day, weekday in enumerate(WEEKDAYS):
        for shift in rota.get(weekday, []):
            for slot in range(minutes_of(shift["start"]) // STEP, minutes_of(shift["end"]) // STEP):
                grid[day][slot] += shift["count"]
    return grid


class _Booker:
    """Confirmed bookings, placed first come first served; each keeps every hard rule,
    counting the bookings before it (H1 beds, H4 residents, H5 night staff, H8 allowances,
    H9 sitters and caps, H10 windows, H12 budgets)."""

    def __init__(self, county: _County):
        self.county = county
        self.cases = {case.case_id: case.json for case in county.cases}
        self.night_idx = {night: i for i, night in enumerate(county.nights)}
        self.bed_taken: set[tuple[str, int]] = set()
        self.load: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        self.residents: dict[tuple[str, int], list[str]] = defaultdict(list)
        self.nights_booked: dict[str, int] = defaultdict(int)
        self.minutes_booked: dict[str, int] = defaultdict(int)
        self.busy: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        self.free = {p.provider_id: _sitters_on_shift(p.json["sitters"]) for p in county.providers}
        self.sitter_minutes: dict[str, int] = defaultdict(int)
        self.left60 = {b["budget_id"]: 60 * b["limit_pence"] for b in county.budgets}
        self.budgets_of: dict[str, list[str]] = defaultdict(list)
        for budget in county.budgets:
            for owner in budget["applies_to"]:
                self.budgets_of[owner].append(budget["budget_id"])

    def book(self) -> None:
        self._book_stays()
        self._book_visits()

    def _affordable(self, owner: str, cost60: int) -> bool:
        """H12: every budget over ``owner`` has ``cost60`` (sixtieths of a penny) left."""
        return all(self.left60[b] >= cost60 for b in self.budgets_of[owner])

    def _spend(self, owner: str, cost60: int) -> None:
        for budget_id in self.budgets_of[owner]:
            self.left60[budget_id] -= cost60

    # ------------------------------------------------------------------ stays

    def _book_stays(self) -> None:
        """About a fifth of the block bed-nights of the first week, earliest referrals first."""
        county = self.county
        week = min(7, county.num_nights)
        beds = sum(len(u.json["beds"]) for u in county.block_units)
        target = county.rng.uniform(0.15, 0.25) * beds * week
        plans = [
            p
            for p in county.stays
            if p.unit is not None and self.night_idx[p.request["earliest_start"]] < week
        ]
        plans.sort(key=lambda p: (p.request["received"], p.request["request_id"]))
        booked = 0
        for plan in plans:
            if booked >= target:
                break
            place = self._stay_place(plan, week)
            if place is not None:
                booked += self._take_stay(plan, *place, week)

    def _stay_place(self, plan: _Plan, week: int) -> tuple[_Unit, Json, int] | None:
        request = plan.request
        case = self.cases[request["case_id"]]
        nights = request["nights"]
        first = self.night_idx[request["earliest_start"]]
        latest = (request["latest_start"] - self.county.nights[0]).days
        for start in range(first, min(latest, self.county.num_nights - nights, week - 1) + 1):
            for unit in plan.reach:
                if _km(unit.point, plan.case.point) > request["max_travel_km"]:
                    continue  # H7
                for bed in unit.json["beds"]:
                    if self._stay_fits(case, unit, bed, start, nights):
                        return unit, bed, start
        return None

    def _stay_fits(self, case: Json, unit: _Unit, bed: Json, start: int, nights: int) -> bool:
        if not set(case["bed_needs"]) <= set(bed["features"]) or not unit.admits(case):
            return False  # H2, H3
        used = case["nights_used"] + self.nights_booked[case["case_id"]] + nights
        if "stay" not in case["eligible"] or used > case["nights_allowance"]:
            return False  # H8
        span = range(start, start + nights)
        if any((bed["bed_id"], n) in self.bed_taken for n in span):
            return False  # H1
        if any(
            self._incompatible(case, other)
            for n in span
            for other in self.residents[(unit.unit_id, n)]
        ):
            return False  # H4
        if not all(self._staffed(unit, case, n) for n in span):
            return False  # H5
        return self._affordable(unit.unit_id, 60 * nights * unit.json["cost_per_night_pence"])

    def _incompatible(self, case: Json, other_id: str) -> bool:
        other = self.cases[other_id]
        return (
            other_id in case["incompatible_with"] or case["case_id"] in other["incompatible_with"]
        )

    def _staffed(self, unit: _Unit, case: Json, night: int) -> bool:
        """H5 with one more resident: 2 per two_to_one, 1 per one_to_one, shared in groups."""
        two, one, shared = self.load[(unit.unit_id, night)]
        support = case["night_support"]
        two += support == "two_to_one"
        one += support == "one_to_one"
        shared += support == "shared"
        need = 2 * two + one + math.ceil(shared / unit.json["shared_ratio"])
        return need <= unit.staff[night]

    def _take_stay(self, plan: _Plan, unit: _Unit, bed: Json, start: int, week: int) -> int:
        case = self.cases[plan.request["case_id"]]
        nights = plan.request["nights"]
        kind = ("two_to_one", "one_to_one", "shared").index(case["night_support"])
        for n in range(start, start + nights):
            self.bed_taken.add((bed["bed_id"], n))
            self.load[(unit.unit_id, n)][kind] += 1
            self.residents[(unit.unit_id, n)].append(case["case_id"])
        self.nights_booked[case["case_id"]] += nights
        self._spend(unit.unit_id, 60 * nights * unit.json["cost_per_night_pence"])
        self.county.bookings.append(
            {
                "booking_id": self.county.ids.next("B", 4),
                "request_id": plan.request["request_id"],
                "case_id": case["case_id"],
                "unit_id": unit.unit_id,
                "bed_id": bed["bed_id"],
                "first_night": self.county.nights[start],
                "nights": nights,
            }
        )
        return len(range(start, min(start + nights, week)))

    # ------------------------------------------------------------------ visits

    def _book_visits(self) -> None:
        """About 3% of the visits, in random order."""
        county = self.county
        candidates = [
            (plan, visit)
            for plan in county.sittings
            if plan.provider is not None
            for visit in plan.request["visits"]
        ]
        target = max(1, round(0.03 * sum(len(p.request["visits"]) for p in county.sittings)))
        booked = 0
        for plan, visit in county.rng.sample(candidates, len(candidates)):
            if booked >= target:
                break
            place = self._visit_place(plan, visit)
            if place is not None:
                self._take_visit(plan, visit, *place)
                booked += 1

    def _visit_place(self, plan: _Plan, visit: Json) -> tuple[_Provider, int, int] | None:
        request = plan.request
        case = self.cases[request["case_id"]]
        minutes = visit["minutes"]
        sitters = 2 if request["double_handed"] else 1
        allowed = 60 * case["sitting_hours_per_week"]
        if (
            "sitting" not in case["eligible"]
            or self.minutes_booked[case["case_id"]] + minutes > allowed
        ):
            return None  # H8
        for provider in self._providers_for(plan):
            cap = 60 * provider.json["weekly_hours_cap"]
            cost60 = minutes * sitters * provider.json["cost_per_hour_pence"]
            if self.sitter_minutes[provider.provider_id] + minutes * sitters > cap:
                continue  # H9 weekly cap
            if not self._affordable(provider.provider_id, cost60):
                continue  # H12
            for window in visit["windows"]:
                slot = self._free_slot(provider, case["case_id"], window, minutes, sitters)
                if slot is not None:
                    return provider, *slot
        return None

    def _providers_for(self, plan: _Plan) -> list[_Provider]:
        """H9 coverage and skills, H7 travel within both limits; nearest first."""
        limit = plan.request["max_travel_km"]
        found = []
        for provider in self.county.providers:
            km = _km(provider.point, plan.case.point)
            if provider.serves(plan.case.json) and km <= min(limit, provider.json["max_travel_km"]):
                found.append((km, provider.provider_id, provider))
        return [p for _, _, p in sorted(found, key=lambda f: (f[0], f[1]))]

    def _free_slot(
        self, provider: _Provider, case_id: str, window: Json, minutes: int, sitters: int
    ) -> tuple[int, int] | None:
        """The first start in the window with sitters on shift and the home free (H9, H10)."""
        day = (window["day"] - self.county.week_start).days
        grid = self.free[provider.provider_id][day]
        for start in range(
            minutes_of(window["start"]), minutes_of(window["end"]) - minutes + 1, STEP
        ):
            end = start + minutes
            if any(d == day and s < end and start < e for d, s, e in self.busy[case_id]):
                continue
            if all(grid[t] >= sitters for t in range(start // STEP, end // STEP)):
                return day, start
        return None

    def _take_visit(
        self, plan: _Plan, visit: Json, provider: _Provider, day: int, start: int
    ) -> None:
        request, minutes = plan.request, visit["minutes"]
        sitters = 2 if request["double_handed"] else 1
        grid = self.free[provider.provider_id][day]
        for t in range(start // STEP, (start + minutes) // STEP):
            grid[t] -= sitters
        case_id = request["case_id"]
        self.busy[case_id].append((day, start, start + minutes))
        self.minutes_booked[case_id] += minutes
        self.sitter_minutes[provider.provider_id] += minutes * sitters
        self._spend(provider.provider_id, minutes * sitters * provider.json["cost_per_hour_pence"])
        self.county.bookings.append(
            {
                "booking_id": self.county.ids.next("B", 4),
                "request_id": request["request_id"],
                "visit_id": visit["visit_id"],
                "case_id": case_id,
                "provider_id": provider.provider_id,
                "day": self.county.week_start + dt.timedelta(days=day),
                "start": _clock(start),
                "minutes": minutes,
                "sitters": sitters,
            }
        )
