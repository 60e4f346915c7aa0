"""What a county being generated holds: its places, cases and requests as JSON items in
the making, each with the facts the generator draws from (where it is, what it was
built for)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scheduler import rules
from scheduler.model import UnmetReason
from scheduler.synthetic.geometry import Box, Point, km_apart, km_to_nearest
from scheduler.synthetic.tiers import AreaSize

__all__ = [
    "SLOTS",
    "STEP",
    "CaseDraft",
    "County",
    "Ids",
    "Json",
    "ProviderDraft",
    "RequestPlan",
    "Town",
    "UnitDraft",
    "clock",
]

Json = dict[str, Any]

STEP = 30  # minutes: every clock time and length is a multiple
SLOTS = 24 * 60 // STEP


class Ids:
    """Sequential ids, with the region's prefix in the nation tier."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.counts: dict[str, int] = defaultdict(int)

    def next(self, kind: str, width: int) -> str:
        self.counts[kind] += 1
        return f"{self.prefix}{kind}-{self.counts[kind]:0{width}d}"


def clock(minutes: int) -> str:
    """The "HH:MM" of a minute of the day."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass
class Town:
    """A town of the county (a locality): where it lies, how many cases live there."""

    json: Json
    xy: Point
    point: Point
    weight: float
    north: bool

    @property
    def locality_id(self) -> str:
        return str(self.json["locality_id"])


@dataclass
class UnitDraft:
    """A respite unit being built: its JSON item, where it is, its night staff."""

    json: Json
    xy: Point
    point: Point
    north: bool
    staff: list[int]  # on duty each night of the horizon
    kind: str = "adults"  # "adults", "older", "transition" or "spot"

    @property
    def unit_id(self) -> str:
        return str(self.json["unit_id"])

    @property
    def spot(self) -> bool:
        return bool(self.json["spot"])

    @property
    def reserve(self) -> int:
        """Beds held for crisis (H13)."""
        return int(self.json.get("crisis_reserve_beds", 0))

    @property
    def extra_max(self) -> int:
        """Agency night staff the unit may add on a night (H5)."""
        return int(self.json.get("extra_night_staff_max", 0))

    def admits(self, case: Json) -> bool:
        """H3: age band and sex policy."""
        unit = self.json
        sex_ok = rules.h3_sex_ok(case["sex"], unit["sex_policy"])
        return sex_ok and rules.h3_age_ok(case["age"], unit["age_min"], unit["age_max"])

    def feature_sets(self) -> list[tuple[str, ...]]:
        return sorted({tuple(bed["features"]) for bed in self.json["beds"]})


@dataclass
class ProviderDraft:
    """A sitting provider being built: its JSON item, its base and rota size."""

    json: Json
    point: Point
    town: Town  # where the base is
    north: bool
    peak: int
    rota_minutes: int  # sitter-minutes on the rota in a week

    @property
    def provider_id(self) -> str:
        return str(self.json["provider_id"])

    def serves_area(self, case: Json) -> bool:
        """H9: the case's locality."""
        return rules.h9_covers(case["locality_id"], self.json["localities"])

    def serves(self, case: Json) -> bool:
        """H9: the case's locality and every skill it needs."""
        missing = rules.h9_missing_skills(case["sitting_skills"], self.json["skills"])
        return self.serves_area(case) and not missing


@dataclass
class CaseDraft:
    """A person being built: their JSON item and where their home is."""

    json: Json
    point: Point
    town: Town
    roles: int = 0  # how many requests the case makes

    @property
    def case_id(self) -> str:
        return str(self.json["case_id"])

    def move(self, point: Point, town: Town) -> None:
        self.point, self.town = point, town
        self.json["home"] = {"lat": point[0], "lon": point[1]}
        self.json["locality_id"] = town.locality_id


@dataclass
class RequestPlan:
    """A request and what it was built for: a unit or provider that can serve it, or the
    reason it cannot be met."""

    request: Json
    case: CaseDraft
    impossible: UnmetReason | None = None
    unit: UnitDraft | None = None
    provider: ProviderDraft | None = None
    reach: list[UnitDraft] = field(default_factory=list)


@dataclass
class County:
    """One county's builder: its places first (every county's, so that stays can be kept
    from reaching other counties), then its demand, budgets and bookings."""

    rng: random.Random
    ids: Ids
    tag: str
    box: Box
    area: AreaSize
    week_start: dt.date
    num_nights: int
    longest_stay: int
    town_names: list[str]
    towns: list[Town] = field(default_factory=list)
    units: list[UnitDraft] = field(default_factory=list)
    providers: list[ProviderDraft] = field(default_factory=list)
    cases: list[CaseDraft] = field(default_factory=list)
    stays: list[RequestPlan] = field(default_factory=list)
    sittings: list[RequestPlan] = field(default_factory=list)
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
    def block_units(self) -> list[UnitDraft]:
        return [unit for unit in self.units if not unit.spot]

    def near(self, xy: Point, sd_km: float) -> tuple[Point, Point]:
        """A place drawn around ``xy``: (km east, km north) and (lat, lon)."""
        x = min(max(self.rng.gauss(xy[0], sd_km), 0.0), self.box.width_km)
        y = min(max(self.rng.gauss(xy[1], sd_km), 0.0), self.box.height_km)
        return (x, y), self.box.point(x, y)

    def towns_in(self, north: bool) -> list[Town]:
        return [t for t in self.towns if t.north == north] or self.towns

    def nearest_town(self, point: Point) -> Town:
        return min(self.towns, key=lambda t: (km_apart(t.point, point), t.locality_id))

    def pick_cases(self, count: int) -> list[CaseDraft]:
        if count > len(self.cases):
            raise ValueError(f"{count} requests need more than {len(self.cases)} cases")
        chosen = self.rng.sample(self.cases, count)
        for case in chosen:
            case.roles += 1
        return chosen

    def request_head(self, case: CaseDraft, kind: str, priority: str) -> Json:
        """A request's fields common to stays and sitting; received up to 10 days before
        the week for a crisis, 1-12 weeks before otherwise. The id is given later."""
        back = self.rng.randint(0, 10) if priority == "crisis" else self.rng.randint(7, 84)
        return {
            "request_id": "",
            "case_id": case.case_id,
            "kind": kind,
            "priority": priority,
            "received": self.week_start - dt.timedelta(days=back),
        }

    def make_remote(self, case: CaseDraft) -> float:
        """Move a home far from every unit and sitter base; the distance to the nearest."""
        places = [u.point for u in self.units] + [p.point for p in self.providers]
        radians = np.radians(np.array(places, dtype=float))
        best: tuple[float, Point] = (-1.0, case.point)
        for _ in range(60):
            x = self.rng.uniform(0, self.box.width_km)
            y = self.rng.uniform(0, self.box.height_km)
            point = self.box.point(x, y)
            km = min(km_to_nearest(point, radians), km_to_nearest(point, self.foreign))
            best = max(best, (km, point))
            if km > 20:
                break
        case.move(best[1], self.nearest_town(best[1]))
        return best[0]
