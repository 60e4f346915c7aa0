"""What an option is worth beyond its need: preference points (tier 3), cost and
travel (tier 4). The compile step puts them on every option; the plan evaluation
in :mod:`scheduler.evaluate` recomputes them for a plan with the same functions.
"""

from __future__ import annotations

import datetime as dt

from scheduler.model import Case, Provider, StayRequest, Unit, Weights

__all__ = [
    "stay_cost60",
    "stay_points",
    "tenths_km",
    "visit_cost60",
    "visit_points",
]


def stay_points(
    request: StayRequest, case: Case, unit: Unit, start: dt.date, weights: Weights
) -> int:
    """Tier-3 points of a stay: preferred start, preferred unit, same unit as last time.

    Spot beds earn none: preferences never pull a stay into an overflow bed.
    """
    if unit.spot:
        return 0
    points = weights.preferred_start if request.preferred_start == start else 0
    points += weights.preferred_unit if unit.unit_id in request.preferred_units else 0
    points += weights.continuity if case.previous_unit_id == unit.unit_id else 0
    return points


def visit_points(case: Case, provider: Provider, weights: Weights) -> int:
    """Tier-3 points of a visit: the provider the person had last time."""
    return weights.continuity if case.previous_provider_id == provider.provider_id else 0


def stay_cost60(unit: Unit, nights: int) -> int:
    """What a stay's bed adds to the spend (H12), in sixtieths of a penny: a spot bed's
    nights at ``cost_per_night_pence``; nothing for a block bed, whose contract is paid
    for the year whether the bed is used or not (so a budget never leaves it empty)."""
    return 60 * nights * unit.cost_per_night_pence if unit.spot else 0


def visit_cost60(provider: Provider, minutes: int, sitters: int) -> int:
    """Cost of a visit in sixtieths of a penny: sitter-minutes x pence per hour."""
    return minutes * sitters * provider.cost_per_hour_pence


def tenths_km(km: float) -> int:
    """A distance in whole tenths of a km, as the solver counts travel."""
    return round(km * 10)
