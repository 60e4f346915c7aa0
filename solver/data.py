"""The compact, index-based input of the solver.

Everything here is plain integers and lists: no dates, no ids, no JSON. The
scheduler's compile step builds it from a problem (after filtering every
option that breaks H2, H3, H6, H7, H8, H9 coverage/skills, H10 windows and
H12b spot approval, and those on nights the crisis reserve leaves no bed, H13),
so that an engine only has to choose among *options*:

- a **stay option** puts one stay request in one bed class, starting on one
  night. A bed class is a set of interchangeable beds of one unit (same
  features, no confirmed booking); a bed with a confirmed booking is a class
  of its own. Within a class, stays are intervals of nights, so once the
  number of stays per night is within the class size, concrete beds can be
  given out exactly by colouring (see ``solver.beds``).
- a **visit option** puts one visit with one provider on one day at one
  start step; an overnight visit runs on past midnight into the next day
  (:mod:`solver.steps` maps its steps to days).

Capacities are what is left after bookings (confirmed or offered). Money is
counted in *sixtieths of a penny* so that sitter-minutes x pence-per-hour stays
exact, and is what a plan adds to the spend (H12): a block bed's night is 0.

Objective coefficients are per option and per tier (see :data:`TIERS`); tiers
are compared lexicographically.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = [
    "TIERS",
    "BedClass",
    "Budget",
    "CaseLimits",
    "FirstHours",
    "ProviderWeek",
    "SolverInput",
    "StayOption",
    "StayRequest",
    "UnitNights",
    "Visit",
    "VisitOption",
    "split_nights",
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
    """Night staffing of one unit: staff on duty and booked occupants, per night.

    ``staff`` counts the agency staff that bookings brought (``booked_extra``): they are
    on duty those nights. A stay option may bring ``StayOption.extra`` more (H5), up to
    ``extra_max`` a night with the booked ones, each at ``extra_cost`` a staff-night.
    """

    staff: list[int]
    shared_ratio: int
    booked_shared: list[int]
    booked_one: list[int]
    booked_two: list[int]
    # H13: per night, how many more stays that are not crisis the unit may hold (its block
    # beds less its crisis reserve less the non-crisis stays booked then; 0 where bookings
    # hold more). Nights before the reserve is released hold the unit's bed count, which
    # never binds. None: the unit keeps no reserve.
    reserve_cap: list[int] | None = None
    extra_max: int = 0  # agency night staff the unit may have on a night
    extra_cost: int = 0  # sixtieths of a penny per agency staff-night
    booked_extra: list[int] = field(default_factory=list)  # [night]; empty: none

    def extra_left(self, night: int) -> int:
        """Agency staff the plan may still add on ``night`` (bookings' taken out)."""
        booked = self.booked_extra[night] if self.booked_extra else 0
        return max(self.extra_max - booked, 0)


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
    draws: bool = True  # H8: draws on the case's nights allowance (False: exempt priority)


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
    extra: int = 0  # agency night staff the stay brings, each of its nights (H5)


@dataclass
class Visit:
    case: int
    priority: int
    minutes: int
    sitters: int  # 1, or 2 when double-handed
    need: int
    request: int  # index of its sitting request, for grouping (and the break bonus)
    arrival: int
    draws: bool = True  # H8: draws on the case's sitting minutes (False: exempt priority)


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
    """What a case may still have (H8).

    A stay's nights before ``fresh_night`` draw on ``nights_left`` (the allowance year
    running when the plan is made), its nights from ``fresh_night`` on draw on
    ``nights_left_next`` (the case's next allowance year, counted from 0). Only requests
    that ``draws`` draw at all. See :meth:`SolverInput.nights_drawn`.
    """

    nights_left: int  # allowance left for new stays in the horizon (this allowance year)
    minutes_left: int  # sitting minutes left this week (banked hours included)
    busy: list[list[int]] = field(default_factory=list)  # [day 0..7][step] 1: a booked visit
    fresh_night: int | None = None  # first night index in the next allowance year, if planned
    nights_left_next: int = 0  # allowance left in that next year (bookings taken out)


@dataclass
class FirstHours:
    """A case's first sitting minutes of the week, which count double in tier 2."""

    case: int
    minutes: int  # first-hours minutes its bookings leave (60 x first_sitting_hours - booked)
    need: int  # the case's sitting need


@dataclass
class Budget:
    left: int  # sixtieths of a penny left after bookings
    units: list[int]
    providers: list[int]


def split_nights(start: int, nights: int, fresh: int | None) -> tuple[int, int]:
    """A stay's nights before night ``fresh`` and from it on (None: all before)."""
    if fresh is None:
        return nights, 0
    before = min(max(fresh - start, 0), nights)
    return before, nights - before


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
    break_bonus: int = 0  # units each served request earns in tier 2 (Weights.break_bonus)
    first_hours: list[FirstHours] = field(default_factory=list)
    sitting_served: list[int] = field(default_factory=list)  # sitting requests booked already

    def nights_drawn(self, option: StayOption) -> tuple[int, int]:
        """Nights the option draws on its case's allowance (H8): (on ``nights_left``, on
        ``nights_left_next``). Nothing for a request that does not draw (exempt priority)."""
        request = self.stay_requests[option.request]
        if not request.draws:
            return 0, 0
        return split_nights(option.start, request.nights, self.cases[request.case].fresh_night)

    def stay_units(self, option: StayOption) -> int:
        return self.stay_requests[option.request].nights * self.night_units

    def option_tiers(self, kind: str, idx: int) -> tuple[int, ...]:
        """The option's contribution to each tier of :data:`TIERS`.

        Tier 2 of a stay is need x (units + break_bonus): a stay request is served by
        one option. A visit's is need x minutes; what sitting adds on top (the break
        bonus of its request, the case's first hours counting double) depends on the
        other visits served: see :meth:`sitting_bonus`."""
        if kind == "stay":
            opt = self.stay_options[idx]
            req = self.stay_requests[opt.request]
            units, priority, need = req.nights * self.night_units, req.priority, req.need
            served = (units + self.break_bonus) * need
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
            served = units * need  # its request's bonuses are the model's own variables
            o_cost, o_travel, o_points, o_kept = vopt.cost, vopt.travel, vopt.points, vopt.kept
        return (
            units if priority == CRISIS else 0,
            units if priority == HEALTH_APPOINTMENT else 0,
            served,
            o_points,
            -o_cost,
            -o_travel,
            o_kept,
        )

    def bonus_requests(self) -> dict[int, list[int]]:
        """Sitting requests whose first served visit earns the break bonus (none of their
        visits is booked), each with its visits that have options."""
        booked = set(self.sitting_served)
        with_options = {vopt.visit for vopt in self.visit_options}
        requests: dict[int, list[int]] = {}
        if self.break_bonus <= 0:
            return requests
        for v in sorted(with_options):
            request = self.visits[v].request
            if request not in booked:
                requests.setdefault(request, []).append(v)
        return requests

    def sitting_bonus(self, visits: Iterable[int]) -> int:
        """Tier 2 that serving ``visits`` adds beyond need x minutes (Weights' formula):
        need x break_bonus for each sitting request they serve first, and each case's
        sitting need x min(its minutes served, its first-hours minutes)."""
        chosen = set(visits)
        total = 0
        for request_visits in self.bonus_requests().values():
            if chosen.intersection(request_visits):
                total += self.visits[request_visits[0]].need * self.break_bonus
        minutes: dict[int, int] = {}
        for v in chosen:
            case = self.visits[v].case
            minutes[case] = minutes.get(case, 0) + self.visits[v].minutes
        for first in self.first_hours:
            total += first.need * min(minutes.get(first.case, 0), max(first.minutes, 0))
        return total
