"""The size tiers of ``shared/spec/domain.md``: what a county holds, and how counties
make up each tier."""

from __future__ import annotations

from dataclasses import dataclass

from scheduler.synthetic.geometry import Point

__all__ = ["SHAPES", "TIERS", "AreaSize", "TierShape"]

TIERS = ("tiny", "borough", "county", "region", "nation")


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
    night_providers: int = 0  # providers with an overnight shift (22:00-07:00) some nights


@dataclass(frozen=True)
class TierShape:
    """A tier: its county, the nights planned, counties per region and where regions lie."""

    area: AreaSize
    nights: int
    longest_stay: int  # nights; stays longer than the drawn length are cut to it
    counties: int  # per region, laid out two by two
    regions: tuple[Point, ...]  # south-west corner (lat, lon) of each region


_COUNTY = AreaSize(10, 2, 80, 12, 250, 2000, 400, 4000, 8, 100.0, 60.0, 2)
_REGION_COUNTY = AreaSize(10, 2, 80, 10, 250, 2000, 400, 4000, 8, 100.0, 60.0, 2)
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
        AreaSize(3, 1, 14, 3, 25, 150, 40, 300, 4, 40.0, 25.0, 1), 14, 10, 1, ((52.95, -2.55),)
    ),
    "county": TierShape(_COUNTY, 28, 14, 1, ((50.95, 0.15),)),
    "region": TierShape(_REGION_COUNTY, 28, 14, 4, _ENGLAND[:1]),
    "nation": TierShape(_REGION_COUNTY, 28, 14, 4, _ENGLAND),
}
