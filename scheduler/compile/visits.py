"""Visit options: every (visit, provider, day, start step) that the rules concerning
the visit alone allow (H7 travel, H8 eligibility and sitting hours, H9 coverage,
skills, sitters on shift and weekly hours, H10 windows), with what confirmed
bookings hold (H9 sitters, H10 the home busy). What is left out is noted with its
reason.
"""

from __future__ import annotations

import datetime as dt

from scheduler.compile.compiled import OptionBuilder, OptionInputs, Removed, RemovedKey
from scheduler.compile.index import MINUTES_PER_DAY, PRIORITY_INDEX, clock_of
from scheduler.compile.need import need_of
from scheduler.compile.terms import tenths_km, visit_cost60, visit_points
from scheduler.geo import km_between
from scheduler.model import Case, Provider, SittingRequest, Visit, Window, minutes_of
from scheduler.words import day_words
from solver import data as sd
from solver.steps import day_steps

__all__ = ["serving_providers", "visit_options", "window_starts"]


def visit_options(inputs: OptionInputs) -> tuple[list[sd.Visit], list[sd.VisitOption]]:
    """The solver's visits (``index.visits``, in order) and their options."""
    problem, index = inputs.problem, inputs.index
    builder = _VisitOptions(inputs)
    cases = problem.case_by_id()
    visits: list[sd.Visit] = []
    options: list[sd.VisitOption] = []
    for visit_idx, (request, visit) in enumerate(index.visits):
        case = cases[request.case_id]
        visits.append(
            sd.Visit(
                case=index.case_idx[case.case_id],
                priority=PRIORITY_INDEX[request.priority],
                minutes=visit.minutes,
                sitters=2 if request.double_handed else 1,
                need=need_of(
                    case, request.received, problem.week_start, problem.weights, "sitting"
                ),
                request=index.sitting_idx[request.request_id],
                arrival=request.received.toordinal(),
                draws=not problem.policy.exempt(request.priority),
            )
        )
        options.extend(builder.options(request, visit, visit_idx, case))
    return visits, options


def window_starts(window: Window, minutes: int, step: int) -> list[tuple[int, int]]:
    """Each start of a ``minutes`` visit inside ``window`` (H10), as (days after the
    window's day, time step of that day): the starts after midnight of an overnight
    window (22:00-07:00) are on the next day, and a visit may run past midnight."""
    steps_per_day = MINUTES_PER_DAY // step
    first = minutes_of(window.start) // step
    last = (minutes_of(window.start) + window.length - minutes) // step
    return [(t // steps_per_day, t % steps_per_day) for t in range(first, last + 1)]


def serving_providers(
    providers: list[Provider], case: Case
) -> tuple[list[tuple[int, float]], list[Removed]]:
    """The providers that may serve the case (H9: area and skills), each with its index and
    the distance from its base to the home; and why each of the others may not."""
    serving: list[tuple[int, float]] = []
    refusals: list[Removed] = []
    for provider_idx, provider in enumerate(providers):
        missing = set(case.sitting_skills) - set(provider.skills)
        if case.locality_id not in provider.localities:
            detail = f"{provider.name} does not cover the area"
        elif missing:
            detail = f"{provider.name} has no sitters with {', '.join(sorted(missing))}"
        else:
            home, base = case.home, provider.base
            serving.append((provider_idx, km_between(base.lat, base.lon, home.lat, home.lon)))
            continue
        refusals.append(Removed("no_provider", provider.provider_id, detail))
    return serving, refusals


class _VisitOptions(OptionBuilder):
    """Options of one visit at a time; tables shared by visits made once (caches)."""

    def __init__(self, inputs: OptionInputs):
        super().__init__(inputs)
        self.step = inputs.index.step_minutes
        self.providers = inputs.capacity.providers
        self.previous: dict[RemovedKey, tuple[str, dt.date, str]] = {
            (v.request_id, v.visit_id): (v.provider_id, v.day, v.start)
            for v in (inputs.previous.visits if inputs.previous else [])
        }
        self._fits_cache: dict[tuple[int, int, int], list[list[bool]]] = {}
        self._serving_cache: dict[str, tuple[list[tuple[int, float]], list[Removed]]] = {}

    def options(
        self, request: SittingRequest, visit: Visit, visit_idx: int, case: Case
    ) -> list[sd.VisitOption]:
        key: RemovedKey = (request.request_id, visit.visit_id)
        if not self._may_have(case, request, visit, key):
            return []
        slots = self._visit_slots(visit, key)
        serving, refusals = self._serving(case)
        self.removals.extend(key, refusals)  # providers not covering the area or lacking a skill
        options: list[sd.VisitOption] = []
        for provider_idx, km in serving:
            if self._provider_refuses(request, visit, provider_idx, km, key):
                continue
            options.extend(
                self._provider_options(request, visit, visit_idx, case, provider_idx, km, slots)
            )
        return options

    def _may_have(self, case: Case, request: SittingRequest, visit: Visit, key: RemovedKey) -> bool:
        """H8: the person is eligible for sitting and, unless the request's priority is
        allowance-exempt, has the minutes left this week (banked hours included)."""
        if "sitting" not in case.eligible:
            self.removals.note(key, "not_eligible", "", "this person is not eligible for sitting")
            return False
        if self.problem.policy.exempt(request.priority):
            return True  # demand-led: draws on no allowance
        minutes_left = self.case_limits[case.case_id].minutes_left
        if minutes_left < visit.minutes:
            self.removals.note(
                key, "allowance_used", "", self._hours_words(case, minutes_left, visit)
            )
            return False
        return True

    def _hours_words(self, case: Case, minutes_left: int, visit: Visit) -> str:
        """Why the sitting hours leave no room for the visit (H8), never "0 of 0"."""
        weekly = case.sitting_hours_per_week
        banked = min(case.sitting_hours_banked, self.problem.policy.sitting_bank_weeks * weekly)
        total = round(60 * (weekly + banked))
        if total == 0:
            return "this person has no sitting hours allowed"
        if minutes_left == total:
            return (
                f"the visit needs {visit.minutes} minutes, more than the {total} sitting "
                f"minutes this person may have this week"
            )
        had = "none" if minutes_left == 0 else f"only {minutes_left}"
        return (
            f"{had} of the {total} sitting minutes this person may have this week "
            f"{'is' if minutes_left == 1 else 'are'} left; the visit needs {visit.minutes}"
        )

    def _provider_refuses(
        self, request: SittingRequest, visit: Visit, provider_idx: int, km: float, key: RemovedKey
    ) -> bool:
        """H7 both travel limits, then H9 the provider's weekly hours."""
        provider = self.problem.providers[provider_idx]
        limit = min(provider.max_travel_km, request.max_travel_km)
        if km > limit + 1e-9:
            self.removals.note(
                key,
                "too_far",
                provider.provider_id,
                f"{provider.name} is {km:.0f} km away, the limit is {limit:.0f} km",
            )
            return True
        sitters = 2 if request.double_handed else 1
        if self.providers[provider_idx].minutes_left < visit.minutes * sitters:
            self.removals.note(
                key,
                "provider_hours_used",
                provider.provider_id,
                f"{provider.name} has used its contracted hours this week",
            )
            return True
        return False

    def _provider_options(
        self,
        request: SittingRequest,
        visit: Visit,
        visit_idx: int,
        case: Case,
        provider_idx: int,
        km: float,
        slots: list[tuple[int, int]],
    ) -> list[sd.VisitOption]:
        """The options with one provider near enough and with hours left."""
        key: RemovedKey = (request.request_id, visit.visit_id)
        provider = self.problem.providers[provider_idx]
        week_start = self.problem.week_start
        sitters = 2 if request.double_handed else 1
        steps = visit.minutes // self.step
        busy = self.case_limits[case.case_id].busy
        spd = self.index.steps_per_day
        kept_at = self.previous.get(key)
        fits = self._fits(provider_idx, steps, sitters)
        cost = visit_cost60(provider, visit.minutes, sitters)
        travel = tenths_km(km)
        points = visit_points(case, provider, self.weights)
        options: list[sd.VisitOption] = []
        for day, start in slots:
            if not fits[day][start]:
                # Removals keep the first reason only; asking first saves making the
                # sentence for every slot of a busy provider.
                if not self.removals.noted(key, "no_sitter_free", provider.provider_id):
                    self.removals.note(
                        key,
                        "no_sitter_free",
                        provider.provider_id,
                        f"{provider.name} has no sitter free on "
                        f"{day_words(week_start + dt.timedelta(days=day))} at "
                        f"{clock_of(start, self.step)}",
                    )
                continue
            if busy and any(busy[d][t] for d, t in day_steps(day, start, steps, spd)):
                self.removals.note(
                    key, "no_sitter_free", provider.provider_id, "another visit is booked then"
                )
                continue
            kept = kept_at is not None and kept_at == (
                provider.provider_id,
                week_start + dt.timedelta(days=day),
                clock_of(start, self.step),
            )
            options.append(
                sd.VisitOption(
                    visit=visit_idx,
                    provider=provider_idx,
                    day=day,
                    start=start,
                    steps=steps,
                    cost=cost,
                    travel=travel,
                    points=points,
                    kept=int(kept),
                )
            )
        return options

    def _fits(self, provider_idx: int, steps: int, sitters: int) -> list[list[bool]]:
        """``[day][start]``: ``sitters`` of the provider are free for ``steps`` from ``start``
        on each day of the week, a span past midnight on the next day too (the Monday
        after the week for Sunday).

        Made once per provider, length and sitters (the tables do not change while
        compiling).
        """
        cache_key = (provider_idx, steps, sitters)
        fits = self._fits_cache.get(cache_key)
        if fits is None:
            free = self.providers[provider_idx].free
            fits = []
            for day in range(7):
                both = free[day] + free[day + 1]  # a visit is at most a day long
                fits.append([min(both[t : t + steps]) >= sitters for t in range(len(free[day]))])
            self._fits_cache[cache_key] = fits
        return fits

    def _visit_slots(self, visit: Visit, key: RemovedKey) -> list[tuple[int, int]]:
        """(day, start step) pairs inside the visit's windows that start in the week (H10);
        a start after midnight of an overnight window is on the next day."""
        slots: list[tuple[int, int]] = []
        for window in visit.windows:
            day = (window.day - self.problem.week_start).days
            inside = [
                (day + later, t)
                for later, t in window_starts(window, visit.minutes, self.step)
                if 0 <= day + later < 7
            ]
            if not inside:
                self.removals.note(
                    key,
                    "no_sitter_free",
                    "",
                    f"the window on {day_words(window.day)} is outside the week planned",
                )
            slots.extend(inside)
        return slots

    def _serving(self, case: Case) -> tuple[list[tuple[int, float]], list[Removed]]:
        """:func:`serving_providers`, made once per case."""
        found = self._serving_cache.get(case.case_id)
        if found is None:
            found = self._serving_cache[case.case_id] = serving_providers(
                self.problem.providers, case
            )
        return found
