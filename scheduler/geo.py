"""Great-circle distances (H7)."""

from __future__ import annotations

import functools
import math

__all__ = ["EARTH_RADIUS_KM", "km_between"]

EARTH_RADIUS_KM = 6371.0


@functools.lru_cache(maxsize=1 << 16)  # the same homes and bases are asked about often
def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in kilometres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
