"""Compile a problem into the solver's compact, index-based input.

Every option a request could take is generated and filtered by the rules that
concern it alone (H2 bed fits, H3 unit admits, H6 whole stays in the horizon,
H7 travel, H8 eligibility and allowance, H9 provider coverage, skills and
sitters on shift, H10 windows), and by what confirmed bookings already hold
(H1 beds, H4 residents, H5 staff, H9 sitters, H12 budgets). What a filter
removes is kept, with the rule and the reason, in :attr:`Compiled.removed`:
that is what unmet-demand explanations are built from.

By job:

- :mod:`~scheduler.compile.index`: the one id-to-index table and the time step;
- :mod:`~scheduler.compile.capacity`: units, beds, night staff, providers,
  sitters, allowances and budgets less the confirmed bookings;
- :mod:`~scheduler.compile.stays` and :mod:`~scheduler.compile.visits`: the
  options, and why the others were left out;
- :mod:`~scheduler.compile.need`: the fair-share need (tier 2), stated as a
  formula; :mod:`~scheduler.compile.terms`: preference points, cost and travel.
  The plan evaluation in :mod:`scheduler.evaluate` uses both too.
"""

from __future__ import annotations

from scheduler.compile.capacity import count_capacity, night_load
from scheduler.compile.compiled import Compiled, OptionInputs, Removals, Removed
from scheduler.compile.index import ClassInfo, Index
from scheduler.compile.need import need_of, sitting_fairness
from scheduler.compile.stays import stay_options
from scheduler.compile.terms import (
    stay_cost60,
    stay_points,
    tenths_km,
    visit_cost60,
    visit_points,
)
from scheduler.compile.visits import visit_options
from scheduler.model import Plan, Problem, StayBooking, VisitBooking
from solver import data as sd

__all__ = [
    "ClassInfo",
    "Compiled",
    "Index",
    "Removed",
    "compile_problem",
    "need_of",
    "night_load",
    "stay_cost60",
    "stay_points",
    "tenths_km",
    "visit_cost60",
    "visit_points",
]


def compile_problem(
    problem: Problem, previous: Plan | None = None, *, reasons: bool = True
) -> Compiled:
    """Build the solver input for ``problem``.

    Parameters
    ----------
    problem
        A validated problem.
    previous
        The previous plan when re-planning; options that keep its choices are marked.
    reasons
        Note why each option left out was left out (``Compiled.removed``, which the
        explanations of unmet requests read). The what-if simulation, which explains
        nothing, compiles faster without; the solver input is the same.
    """
    index = Index.of(problem)
    booked_stays = [b for b in problem.bookings if isinstance(b, StayBooking)]
    booked_visits = [b for b in problem.bookings if isinstance(b, VisitBooking)]
    capacity = count_capacity(problem, index, booked_stays, booked_visits)
    removals = Removals(reasons)
    inputs = OptionInputs(problem, index, capacity, previous, removals)
    stay_requests, stays = stay_options(inputs)
    visits, visit_opts = visit_options(inputs)
    first_hours, sitting_served = sitting_fairness(problem, index, booked_visits)
    data = sd.SolverInput(
        num_nights=len(index.nights),
        step_minutes=index.step_minutes,
        steps_per_day=index.steps_per_day,
        night_units=problem.weights.night_units,
        units=capacity.units,
        bed_classes=capacity.classes,
        stay_requests=stay_requests,
        stay_options=stays,
        visits=visits,
        visit_options=visit_opts,
        providers=capacity.providers,
        cases=capacity.case_limits,
        incompatible=capacity.incompatible,
        budgets=capacity.budgets,
        spot_units=[i for i, unit in enumerate(problem.units) if unit.spot],
        break_bonus=problem.weights.break_bonus,
        first_hours=first_hours,
        sitting_served=sitting_served,
    )
    return Compiled(
        problem=problem,
        data=data,
        index=index,
        booked_stays=booked_stays,
        booked_visits=booked_visits,
        removed=dict(removals.removed),
        booking_conflicts=capacity.conflicts,
    )
