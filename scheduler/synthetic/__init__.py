"""The synthetic council generator: a realistic problem of every size tier of
``shared/spec/domain.md`` from a seed, for the fixtures, the benchmarks, the what-if
simulation, the spreadsheet templates and the CLI (``respite fixtures generate``).

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

By module: :mod:`~scheduler.synthetic.tiers` (the sizes),
:mod:`~scheduler.synthetic.county` (what a county being built holds),
:mod:`~scheduler.synthetic.places` (towns, units and beds, providers),
:mod:`~scheduler.synthetic.demand` (cases; :mod:`~scheduler.synthetic.stays` and
:mod:`~scheduler.synthetic.sittings` their requests; :mod:`~scheduler.synthetic.budgets`
caps and budgets) and :mod:`~scheduler.synthetic.bookings` (confirmed bookings);
:mod:`~scheduler.synthetic.geometry` and :mod:`~scheduler.synthetic.draw` are helpers.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from scheduler.model import Problem
from scheduler.synthetic.county import County, Ids, Json
from scheduler.synthetic.demand import build_demand
from scheduler.synthetic.geometry import COUNTY_GAP_KM, KM_PER_DEGREE, Box, km_per_lon_degree
from scheduler.synthetic.places import build_places
from scheduler.synthetic.tiers import SHAPES, TIERS, AreaSize, TierShape

__all__ = ["SHAPES", "TIERS", "AreaSize", "TierShape", "generate"]

FIRST_MONDAY = dt.date(2025, 1, 6)
TOWN_HEADS = (
    "Ash", "Brook", "Cran", "Dun", "Elm", "Fair", "Gold", "Hart", "Ivy", "King",
    "Long", "Marsh", "New", "Oak", "Pen", "Red", "Stan", "Thorn", "Wych", "Ald",
    "Bex", "Chil", "Den", "Fel", "Ham", "Lyn", "Mil", "Nor", "Sel", "Wal",
)  # fmt: skip
TOWN_TAILS = (
    "ford", "bridge", "ham", "ley", "stone", "field", "wick", "borough",
    "den", "hurst", "minster", "well", "bury", "combe", "ton", "mouth",
)  # fmt: skip


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
        build_places(county)
    _link_foreign_units(counties)
    for county in counties:
        build_demand(county)
    return Problem.model_validate(_assemble(counties, week_start, shape.nights))


# ---------------------------------------------------------------------- layout


def _town_names(rng: random.Random, count: int) -> list[str]:
    every = sorted(head + tail for head in TOWN_HEADS for tail in TOWN_TAILS)
    return rng.sample(every, count)


def _lay_out(
    shape: TierShape, tier: str, seed: int, week_start: dt.date, names: list[str]
) -> list[County]:
    """One builder per county; counties of a region share id counters."""
    area = shape.area
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
                    rng=random.Random(f"{tier}:{seed}:{region_idx}:{county_idx}"),
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


def _link_foreign_units(counties: list[County]) -> None:
    """Give each county the places of every other county's units (for the travel cap)."""
    points = [[u.point for u in county.units] for county in counties]
    for idx, county in enumerate(counties):
        others = [p for j, pts in enumerate(points) if j != idx for p in pts]
        county.foreign = np.radians(np.array(others, dtype=float).reshape(-1, 2))


def _assemble(counties: list[County], week_start: dt.date, num_nights: int) -> Json:
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
