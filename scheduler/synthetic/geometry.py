"""Places in a county: its box, and distances between points (lat, lon)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from scheduler.geo import EARTH_RADIUS_KM, km_between

__all__ = [
    "COUNTY_GAP_KM",
    "KM_PER_DEGREE",
    "Box",
    "Point",
    "floor_half_km",
    "km_apart",
    "km_per_lon_degree",
    "km_to_nearest",
]

Point = tuple[float, float]

KM_PER_DEGREE = 111.2
COUNTY_GAP_KM = 8.0


def km_per_lon_degree(lat: float) -> float:
    return KM_PER_DEGREE * math.cos(math.radians(lat))


@dataclass(frozen=True)
class Box:
    """A county's rectangle; places inside it are given in km east and north of its corner."""

    lat0: float
    lon0: float
    width_km: float
    height_km: float

    def point(self, x_km: float, y_km: float) -> Point:
        x_km = min(max(x_km, 0.0), self.width_km)
        y_km = min(max(y_km, 0.0), self.height_km)
        lat = self.lat0 + y_km / KM_PER_DEGREE
        lon = self.lon0 + x_km / km_per_lon_degree(self.lat0)
        return round(lat, 5), round(lon, 5)


def km_apart(a: Point, b: Point) -> float:
    return km_between(a[0], a[1], b[0], b[1])


def km_to_nearest(point: Point, radians: np.ndarray) -> float:
    """Great-circle distance from ``point`` to the nearest of ``radians`` (lat, lon rows)."""
    if len(radians) == 0:
        return math.inf
    lat, lon = math.radians(point[0]), math.radians(point[1])
    dlat = radians[:, 0] - lat
    dlon = radians[:, 1] - lon
    a = np.sin(dlat / 2) ** 2 + math.cos(lat) * np.cos(radians[:, 0]) * np.sin(dlon / 2) ** 2
    return float(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a.min(), 1.0))))


def floor_half_km(km: float) -> float:
    return km if math.isinf(km) else math.floor(km * 2) / 2
