"""The compact, index-based input of the solver.

Everything here is plain integers and lists: no dates, no ids, no JSON. The
scheduler's compile step builds it from a problem (after filtering every
option that breaks H2, H3, H6, H7, H8, H9 coverage/skills and H10 windows), so
that an engine only has to choose among *options*:

- a **stay option** puts one stay request in one bed class, starting on one
  night. A bed class is a set of interchangeable beds of one unit (same
  features, no confirmed booking); a bed with a confirmed booking is a class
  of its own. Within a class, stays are intervals of nights, so once the
  number of stays per night is within the class size, concrete beds can be
  given out exactly by colouring (see ``solver.beds``).
- a **visit option** puts one visit with one provider on one day at one
  start step; an overnight visit runs on past midnight into the next day
  (:mod:`solver.steps` maps its steps to days).

Capacities are what is left after confirmed bookings. Money is counted in
*sixtieths of a penny* so that sitter-minutes x pence-per-hour stays exact.

Objective coefficients are per option and per tier (see :data:`TIERS`); tiers
are compared lexicographically.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "TIERS",
    "BedClass",
    "Budget",
    "CaseLimits",
    "ProviderWeek",
    "SolverInput",
    "StayOption",
    "StayRequest",
    "UnitNights",
    "Visit",
    "VisitOption",
]

# Tier names in order of importance; every tier is maximised (costs enter negated).
TIERS = (
    "crisis_units",
    "health_appointment_units",
    "need_weighted_units",
    "preference_points",
    "cost",
    "travel",
    "kept",
)

SHARED, ONE_TO_ONE, TWO_TO_ONE = 0, 1, 2
CRISIS, HEALTH_APPOINTMENT, PLANNED = 0, 1, 2


@dataclass
class UnitNights:
    """Night staffing of one unit: staff on duty and booked occupants, per night."""

    staff: list[int]
    shared_ratio: int
    booked_shared: list[int]
    booked_one: list[int]
    booked_two: list[int]


@dataclass
class BedClass:
    unit: int
    free: list[int]  # beds of the class free on each night (after bookings)
    num_beds: int


@dataclass
class StayRequest:
    case: int
    priority: int  # CRISIS, HEALTH_APPOINTMENT, PLANNED
    nights: int
    support: int  # SHARED, ONE_TO_ONE, TWO_TO_ONE
    need: int
    arrival: int  # order of referral (greedy serves crisis first, then by arrival)


@dataclass
class StayOption:
    request: int
    bed_class: int
    start: int  # night index
    cost: int  # sixtieths of a penny
    travel: int  # tenths of a km
    points: int  # tier-3 preference points
    kept: int  # 1 if this is what the previous plan gave the request
    premium: int = 0  # extra tier-4 cost of spot beds, which are bought only as overflow


@dataclass
class Visit:
    case: int
    priority: int
    minutes: int
    sitters: int  # 1, or 2 when double-handed
    need: int
    request: int  # index of its sitting request, for grouping only
    arrival: int


@dataclass
class VisitOption:
    visit: int
    provider: int
    day: int  # 0..6 from week_start: the day the visit starts
    start: int  # time step of the day it starts (< steps_per_day)
    steps: int  # length in time steps; start + steps past steps_per_day runs overnight
    cost: int
    travel: int
    points: int
    kept: int


@dataclass
class ProviderWeek:
    # [day][step] sitters free after bookings; days 0..6 of the week and 7, the Monday
    # after it, which a Sunday-night visit runs into (see solver.steps)
    free: list[list[int]]
    minutes_left: int  # weekly sitter-minutes left under the cap


@dataclass
class CaseLimits:
    nights_left: int  # allowance left for new stays in the horizon
    minutes_left: int  # sitting minutes left this week
    busy: list[list[int]] = field(default_factory=list)  # [day 0..7][step] 1: a booked visit


@dataclass
class Budget:
    left: int  # sixtieths of a penny left after bookings
    units: list[int]
    providers: list[int]


@dataclass
class SolverInput:
    num_nights: int
    step_minutes: int
    steps_per_day: int
    night_units: int  # served units per night (a sitting minute is 1)
    units: list[UnitNights]
    bed_classes: list[BedClass]
    stay_requests: list[StayRequest]
    stay_options: list[StayOption]
    visits: list[Visit]
    visit_options: list[VisitOption]
    providers: list[ProviderWeek]
    cases: list[CaseLimits]
    incompatible: list[tuple[int, int]]  # pairs of case indices (a < b)
    budgets: list[Budget]
    spot_units: list[int] = field(default_factory=list)

    def stay_units(self, option: StayOption) -> int:
        return self.stay_requests[option.request].nights * self.night_units

    def option_tiers(self, kind: str, idx: int) -> tuple[int, ...]:
        """The option's contribution to each tier of :data:`TIERS`."""
        if kind == "stay":
            opt = self.stay_options[idx]
            req = self.stay_requests[opt.request]
            units, priority, need = req.nights * self.night_units, req.priority, req.need
            o_cost, o_travel, o_points, o_kept = (
                opt.cost + opt.premium,
                opt.travel,
                opt.points,
                opt.kept,
            )
        else:
            vopt = self.visit_options[idx]
            visit = self.visits[vopt.visit]
            units, priority, need = visit.minutes, visit.priority, visit.need
            o_cost, o_travel, o_points, o_kept = vopt.cost, vopt.travel, vopt.points, vopt.kept
        return (
            units if priority == CRISIS else 0,
            units if priority == HEALTH_APPOINTMENT else 0,
            units * need,
            o_points,
            -o_cost,
            -o_travel,
            o_kept,
        )
