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
- bookings (about a fifth of the block bed-nights of the first week and 3% of
  the visits; about one in seven offered rather than confirmed; agency staff with
  residents who need 1:1 or 2:1 where the unit may add them; a few crisis or
  exceptional stays in a spot bed) are placed greedily with every hard rule
  H1..H13 checked, so the problem is feasible as given;
- the council's policy (v2): the default ``policy``, ``planned_on`` the first
  night; block units with a yearly contract price (about 80% of their nights'
  price), one crisis bed held in about a third of them (at least one a county),
  agency night staff (1-2 at £220-£320 a staff-night) in about half; about 2% of
  stay requests exceptional (a manager approved a spot bed), with the reason;
  allowance years starting on any day of the twelve months before, nights used
  going with how far into the year a case is (some cases start a fresh year in
  the horizon); sitting hours received in the last four weeks and banked; a
  carer's contribution per night for about a third of those who may stay; from
  the borough tier, one or two providers with night sitters (22:00-07:00) and a
  few night visits for them;
- every clock time and visit length is a multiple of 30 minutes.

The result depends on ``(tier, seed)`` only: one :class:`random.Random` per
county, seeded from a string, and no iteration over sets or unordered dicts.

By module: :mod:`~scheduler.synthetic.tiers` (the sizes),
:mod:`~scheduler.synthetic.county` (what a county being built holds),
:mod:`~scheduler.synthetic.places` (counties laid out; towns, units and beds, providers),
:mod:`~scheduler.synthetic.demand` (cases; :mod:`~scheduler.synthetic.stays` and
:mod:`~scheduler.synthetic.sittings` their requests; :mod:`~scheduler.synthetic.budgets`
caps and budgets) and :mod:`~scheduler.synthetic.bookings` (confirmed bookings);
:mod:`~scheduler.synthetic.geometry` and :mod:`~scheduler.synthetic.draw` are helpers.
"""

from __future__ import annotations

import datetime as dt
import random

from scheduler.model import Problem
from scheduler.synthetic.county import County, Json
from scheduler.synthetic.demand import build_demand
from scheduler.synthetic.places import build_places, lay_out_counties, link_foreign_units
from scheduler.synthetic.tiers import SHAPES, TIERS, AreaSize, TierShape

__all__ = ["SHAPES", "TIERS", "AreaSize", "TierShape", "generate"]

FIRST_MONDAY = dt.date(2025, 1, 6)


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
        Sizes as in the spec's table; bookings that keep every hard rule.
    """
    if tier not in SHAPES:
        raise ValueError(f"tier: '{tier}' is not one of {', '.join(TIERS)}")
    shape = SHAPES[tier]
    rng = random.Random(f"{tier}:{seed}")
    week_start = FIRST_MONDAY + dt.timedelta(weeks=rng.randrange(52))
    counties = lay_out_counties(shape, f"{tier}:{seed}", week_start, rng)
    for county in counties:
        build_places(county)
    link_foreign_units(counties)
    for county in counties:
        build_demand(county)
    return Problem.model_validate(_assemble(counties, week_start, shape.nights))


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
        "policy": {},  # the defaults most councils run
        "planned_on": week_start.isoformat(),
    }
