"""Why a request went unmet, in words a broker can read out to a carer.

Two sources, both probed, never guessed:

- options the compile step removed (:attr:`Compiled.removed`): not eligible,
  allowance used, no suitable bed, too far, no provider...;
- options that were compiled but not chosen: each is tried against what the
  final plan holds (:class:`solver.state.State`), and what blocks it is named:
  the beds taken and by which requests, the night staff, a resident who
  cannot share, the sitters, the provider's hours, a budget.

An ``alternative`` is the nearest change that would serve the request, as a
sentence, the exact placement (a stay or visit in the plan file's shape) and
what of the request it asks to change (``relaxes``): other dates
(``start_window``), a unit farther away (``travel``), a spot bed if a manager
approves it (``spot_approval``), one more night staff member (``night_staff``),
another time or provider for a visit (``visit_window``, ``travel``). Each is
probed against what the plan holds with every rule but those it relaxes, and
given a concrete free bed, so that, added alone to the plan, it is true
(``respite check`` verifies every alternative).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from scheduler.compile import Compiled, Removed
from scheduler.compile.terms import stay_cost60, visit_cost60
from scheduler.geo import km_between
from scheduler.model import (
    Alternative,
    Case,
    PlannedStay,
    PlannedVisit,
    Relaxation,
    Unit,
    Unmet,
    UnmetReason,
    minutes_of,
    span_minutes,
)
from scheduler.words import day_words, listing, money_words, nights_words, span_words
from solver.data import SolverInput, StayOption, VisitOption
from solver.solution import Solution
from solver.state import State

__all__ = ["explain_unmet"]

# Later stages of filtering tell a carer more than earlier ones: the compile step
# asks "is it suitable?" (H2, H3; locality and skills) before "is it near enough?"
# (H7), so a suitable unit too far away is nearer to serving than an unsuitable one.
STAGES: tuple[UnmetReason, ...] = (
    "no_provider",
    "no_suitable_bed",
    "too_far",
    "no_night_staff",
    "incompatible_resident",
    "provider_hours_used",
    "no_sitter_free",
    "beds_taken",
    # Only a bed the policy keeps from this request could serve: the spot bed it is not
    # approved for, the bed held for crisis. Nearer to serving than a bed that is taken.
    "spot_not_approved",
    "crisis_reserve",
)
WHOLE_REQUEST: tuple[UnmetReason, ...] = ("not_eligible", "allowance_used", "outside_horizon")
# Probes an alternative search makes at most, per request or visit: the county's few
# hundred unmet requests stay within a second or two.
MAX_PROBES = 800
# An alternative asks the carer or a manager to change at most this many things: past it,
# it is no longer a near change a broker would offer.
MAX_RELAXED = 2


@dataclass(frozen=True)
class _Lookups:
    """The problem's cases and units by id, and the cases booked in each unit on each
    night (H4: the engines' state knows only the stays it took), made once."""

    cases: dict[str, Case]
    units: dict[str, Unit]
    booked: dict[tuple[str, int], set[str]]

    @classmethod
    def of(cls, compiled: Compiled) -> _Lookups:
        booked: dict[tuple[str, int], set[str]] = defaultdict(set)
        night_idx = compiled.index.night_idx
        for booking in compiled.booked_stays:
            for night in booking.night_list:
                if night in night_idx:
                    booked[(booking.unit_id, night_idx[night])].add(booking.case_id)
        return cls(compiled.problem.case_by_id(), compiled.problem.unit_by_id(), booked)

    def shares_with_foe(self, case: Case, unit_id: str, nights: range) -> bool:
        """A booked resident of the unit on one of ``nights`` cannot share with ``case``."""
        for n in nights:
            for other in self.booked.get((unit_id, n), ()):
                if other in case.incompatible_with or case.case_id in (
                    self.cases[other].incompatible_with
                ):
                    return True
        return False


@dataclass
class _Block:
    reason: UnmetReason
    detail: str
    alternative: Alternative | None = None


def explain_unmet(
    compiled: Compiled, solution: Solution, stays: list[PlannedStay] | None = None
) -> list[Unmet]:
    """An :class:`Unmet` entry for every stay request and visit the solution leaves out.

    ``stays`` are the plan's stays with their beds (bookings included): an alternative
    names a bed free on every night it asks for. Without them only beds no stay of the
    solution holds are offered."""
    data = compiled.data
    state = State(data)
    for opt_idx in solution.stays.values():
        state.take_stay(data.stay_options[opt_idx])
    for opt_idx in solution.visits.values():
        state.take_visit(data.visit_options[opt_idx])
    held = _held_beds(compiled, solution, stays)
    holders = _bed_holders(compiled, solution)
    lookups = _Lookups.of(compiled)
    stay_opts: dict[int, list[int]] = defaultdict(list)
    for opt_idx, opt in enumerate(data.stay_options):
        stay_opts[opt.request].append(opt_idx)
    visit_opts: dict[int, list[int]] = defaultdict(list)
    for opt_idx, vopt in enumerate(data.visit_options):
        visit_opts[vopt.visit].append(opt_idx)
    unmet: list[Unmet] = []
    for request_idx, request in enumerate(compiled.stay_requests):
        if request_idx in solution.stays:
            continue
        key: tuple[str, str | None] = (request.request_id, None)
        block = _explain_stay(
            compiled, state, holders, held, lookups, request_idx, stay_opts[request_idx], key
        )
        unmet.append(Unmet(request_id=request.request_id, **block.__dict__))
    for visit_idx, (sitting, visit) in enumerate(compiled.visits):
        if visit_idx in solution.visits:
            continue
        key = (sitting.request_id, visit.visit_id)
        block = _explain_visit(compiled, state, lookups, visit_idx, visit_opts[visit_idx], key)
        unmet.append(
            Unmet(request_id=sitting.request_id, visit_id=visit.visit_id, **block.__dict__)
        )
    return unmet


def _from_removed(removed: list[Removed]) -> _Block:
    """The most telling reason among the options the compile step removed."""
    for reason in WHOLE_REQUEST:
        for item in removed:
            if item.reason == reason:
                return _Block(reason, _sentence(item.detail))
    if not removed:
        return _Block("no_suitable_bed", "No unit or provider could offer this.")
    reason = max(removed, key=lambda r: STAGES.index(r.reason) if r.reason in STAGES else -1).reason
    places = [r for r in removed if r.reason == reason]
    details = "; ".join(f"{r.detail}" for r in places[:3])
    more = f" (and {len(places) - 3} more)" if len(places) > 3 else ""
    return _Block(reason, _sentence(details + more))


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


# ---------------------------------------------------------------------- stays


def _held_beds(
    compiled: Compiled, solution: Solution, stays: list[PlannedStay] | None
) -> dict[str, set[int]]:
    """bed_id -> night indices some stay of the plan (or a booking) holds it."""
    night_idx = compiled.index.night_idx
    held: dict[str, set[int]] = defaultdict(set)
    if stays is None:  # no beds given: a class a new stay uses counts as held throughout
        data = compiled.data
        for opt_idx in solution.stays.values():
            for bed_id in compiled.classes[data.stay_options[opt_idx].bed_class].bed_ids:
                held[bed_id].update(range(len(compiled.nights)))
        stays = []
        for booking in compiled.booked_stays:
            nights = {night_idx[n] for n in booking.night_list if n in night_idx}
            held[booking.bed_id].update(nights)
    for stay in stays:
        held[stay.bed_id].update(night_idx[n] for n in stay.night_list if n in night_idx)
    return held


def _bed_holders(compiled: Compiled, solution: Solution) -> dict[tuple[int, int], list[str]]:
    """(bed class, night) -> requests holding a bed of the class then (plan and bookings)."""
    data = compiled.data
    holders: dict[tuple[int, int], list[str]] = defaultdict(list)
    for request_idx, opt_idx in solution.stays.items():
        opt = data.stay_options[opt_idx]
        request = compiled.stay_requests[request_idx]
        priority = request.priority.replace("_", " ")
        for n in range(opt.start, opt.start + request.nights):
            holders[(opt.bed_class, n)].append(f"{priority} stay {request.request_id}")
    bed_class = compiled.index.class_of_bed
    night_idx = compiled.index.night_idx
    for booking in compiled.booked_stays:
        for night in booking.night_list:
            if night in night_idx:
                holders[(bed_class[booking.bed_id], night_idx[night])].append(
                    f"{booking.status} booking {booking.booking_id}"
                )
    return holders


def _explain_stay(
    compiled: Compiled,
    state: State,
    holders: dict[tuple[int, int], list[str]],
    held: dict[str, set[int]],
    lookups: _Lookups,
    request_idx: int,
    opt_indices: list[int],
    key: tuple[str, str | None],
) -> _Block:
    removed = compiled.removed.get(key, [])
    if not opt_indices:
        block = _from_removed(removed)
    else:
        blocks = [
            _stay_blocker(compiled, state, holders, compiled.data.stay_options[i])
            for i in opt_indices
        ]
        block = _most_telling(blocks)
    block.alternative = _StayProbe(compiled, state, held, lookups, request_idx).nearest(
        staff_short=block.reason == "no_night_staff"
    )
    return block


def _most_telling(blocks: list[_Block]) -> _Block:
    """The blocker of most options; ties go to the first (earliest, nearest)."""
    counts: dict[UnmetReason, int] = defaultdict(int)
    for block in blocks:
        counts[block.reason] += 1
    reason = max(counts, key=lambda r: (counts[r], -[b.reason for b in blocks].index(r)))
    chosen = next(b for b in blocks if b.reason == reason)
    with_alternative = next((b for b in blocks if b.reason == reason and b.alternative), chosen)
    return _Block(chosen.reason, chosen.detail, with_alternative.alternative)


def _stay_blocker(
    compiled: Compiled, state: State, holders: dict[tuple[int, int], list[str]], opt: StayOption
) -> _Block:
    data = compiled.data
    request = data.stay_requests[opt.request]
    info = compiled.classes[opt.bed_class]
    unit = compiled.problem.unit_by_id()[info.unit_id]
    nights = range(opt.start, opt.start + request.nights)
    first, last = compiled.nights[opt.start], compiled.nights[nights[-1]]
    span = span_words(first, last)
    full = [n for n in nights if state.class_free[opt.bed_class][n] <= 0]
    if full:
        who = sorted({h for n in full for h in holders.get((opt.bed_class, n), [])})
        beds = _bed_words(info.bed_ids, info.features)
        taken = span_words(compiled.nights[full[0]], compiled.nights[full[-1]])
        return _Block(
            "beds_taken",
            f"{beds} in {unit.name} {'was' if len(info.bed_ids) == 1 else 'were'} taken on "
            f"{taken if len(full) < len(nights) else span} by {listing(who)}.",
        )
    short = [n for n in nights if not state.staff_ok(info_unit(data, opt), request.support, n)]
    if short:
        night = compiled.nights[short[0]]
        return _Block(
            "no_night_staff",
            f"A bed in {unit.name} is free, but its night staff cannot support one more "
            f"person at this level of support on {day_words(night)}.",
        )
    if any(
        state.case_unit_nights[(other, info_unit(data, opt))] & set(nights)
        for other in state.partners[request.case]
    ):
        return _Block(
            "incompatible_resident",
            f"Someone who cannot share with this person stays in {unit.name} on {span}.",
        )
    if state.case_nights[request.case] & set(nights):
        return _Block("allowance_used", f"This person has another stay planned on {span}.")
    if not state.allowance_ok(opt):
        return _Block(
            "allowance_used", "The nights allowance is taken by this person's other stays."
        )
    if any(state.budget_left[b] < opt.cost for b in state.unit_budgets[info_unit(data, opt)]):
        return _Block("over_budget", f"The budget that pays for {unit.name} is spent.")
    if not state.stay_fits(opt):
        return _Block(
            "crisis_reserve",
            f"The free bed in {unit.name} on {span} is held back for crisis referrals.",
        )
    # Unreachable for plans the engines make (they fill every option that still fits),
    # but a hand-made plan may leave a request out that would fit.
    return _Block("beds_taken", f"{unit.name} could take this stay; it was not chosen.")


def info_unit(data: SolverInput, opt: StayOption) -> int:
    return data.bed_classes[opt.bed_class].unit


def _bed_words(bed_ids: list[str], features: tuple[str, ...]) -> str:
    kind = " ".join(f.replace("_", " ") for f in features)
    noun = "bed" if len(bed_ids) == 1 else "beds"
    count = {1: "The", 2: "Both"}.get(len(bed_ids), f"All {len(bed_ids)}")
    return f"{count} {kind + ' ' if kind else ''}{noun}"


class _StayProbe:
    """The nearest stay that would serve an unmet request if the carer or a manager
    changed one thing: every start of the horizon, in every unit that admits the
    person and has a bed with what they need, tried against what the plan holds."""

    def __init__(
        self,
        compiled: Compiled,
        state: State,
        held: dict[str, set[int]],
        lookups: _Lookups,
        idx: int,
    ):
        self.compiled = compiled
        self.state = state
        self.held = held
        self.idx = idx
        self.request = compiled.stay_requests[idx]
        self.case = lookups.cases[self.request.case_id]
        self.units = lookups.units
        self.lookups = lookups
        self.policy = compiled.problem.policy

    def nearest(self, staff_short: bool) -> Alternative | None:
        """The candidate that relaxes least, then starts nearest the asked window, then is
        nearest home; probed in that order until one fits."""
        data, compiled = self.compiled.data, self.compiled
        if "stay" not in self.case.eligible:
            return None
        size = data.stay_requests[self.idx].nights
        wanted = (
            self.request.earliest_start - compiled.nights[0]
        ).days  # may lie outside the horizon
        request = self.request
        starts = range(len(compiled.nights) - size + 1)
        in_window = [
            request.earliest_start <= compiled.nights[s] <= request.latest_start for s in starts
        ]
        units: dict[str, tuple[float, list[Relaxation]]] = {}  # made once per unit
        candidates = []
        for class_idx, info in enumerate(compiled.classes):
            unit = self.units[info.unit_id]
            if not self._admits(unit, info.features):
                continue
            if info.unit_id not in units:
                units[info.unit_id] = self._unit_relaxes(unit)
            km, relaxed = units[info.unit_id]
            for start in starts:
                count = len(relaxed) + (not in_window[start])
                if count > MAX_RELAXED:
                    continue  # asks too much to be the nearest change
                distance = 0 if in_window[start] else abs(start - wanted)
                candidates.append((count, distance, km, start, class_idx))
        candidates.sort()
        for count, _, km, start, class_idx in candidates[:MAX_PROBES]:
            relaxes = units[compiled.classes[class_idx].unit_id][1]
            if not in_window[start]:
                relaxes = ["start_window", *relaxes]
            found = self._try(class_idx, start, size, relaxes, km, one_more_staff=False)
            if found is None and staff_short and not count:
                found = self._try(class_idx, start, size, ["night_staff"], km, True)
            if found is not None:
                return found
        return None

    def _admits(self, unit: Unit, features: tuple[str, ...]) -> bool:
        case = self.case
        return (
            set(case.bed_needs) <= set(features)
            and unit.age_min <= case.age <= unit.age_max
            and unit.sex_policy in ("any", case.sex)
        )

    def _unit_relaxes(self, unit: Unit) -> tuple[float, list[Relaxation]]:
        """The unit's distance from home, and what of the request placing it there
        relaxes whatever the dates: its travel limit, the spot approval it lacks."""
        request, home = self.request, self.case.home
        km = km_between(home.lat, home.lon, unit.location.lat, unit.location.lon)
        relaxes: list[Relaxation] = []
        if km > request.max_travel_km + 1e-9:
            relaxes.append("travel")
        if unit.spot and not self.policy.may_buy_spot(request.priority, request.exceptional):
            relaxes.append("spot_approval")
        return km, relaxes

    def _try(
        self,
        class_idx: int,
        start: int,
        size: int,
        relaxes: list[Relaxation],
        km: float,
        one_more_staff: bool,
    ) -> Alternative | None:
        compiled, state = self.compiled, self.state
        info = compiled.classes[class_idx]
        unit = self.units[info.unit_id]
        nights = range(start, start + size)
        free = state.class_free[class_idx]
        if any(free[n] <= 0 for n in nights):
            return None
        if self.lookups.shares_with_foe(self.case, unit.unit_id, nights):
            return None
        bed = next((b for b in info.bed_ids if not self.held.get(b, set()) & set(nights)), None)
        if bed is None:
            return None
        cost = stay_cost60(unit, size)
        probe = StayOption(self.idx, class_idx, start, cost, 0, 0, 0)
        table = compiled.data.units[compiled.data.bed_classes[class_idx].unit]
        if one_more_staff:
            for n in nights:
                table.staff[n] += 1
        try:
            fits = state.stay_fits(probe)
        finally:
            if one_more_staff:
                for n in nights:
                    table.staff[n] -= 1
        if not fits:
            return None
        first = compiled.nights[start]
        stay = PlannedStay(
            request_id=self.request.request_id,
            case_id=self.request.case_id,
            unit_id=unit.unit_id,
            bed_id=bed,
            first_night=first,
            nights=size,
        )
        return Alternative(
            text=self._text(unit.name, first, size, relaxes, km, cost // 60),
            relaxes=relaxes,
            stay=stay,
        )

    def _text(
        self, name: str, first: dt.date, size: int, relaxes: list[Relaxation], km: float, pence: int
    ) -> str:
        said = f"A stay of {nights_words(first, size)} in {name} would fit"
        ifs = []
        if "start_window" in relaxes:
            ifs.append("the carer can take the break on those dates")
        if "travel" in relaxes:
            asked = self.request.max_travel_km
            ifs.append(f"the carer accepts a unit {km:.0f} km away ({asked:.0f} km asked)")
        if "spot_approval" in relaxes:
            ifs.append(f"a manager approves it as a spot purchase ({money_words(pence)})")
        if "night_staff" in relaxes:
            ifs.append("the unit can add one more night staff member on those nights")
        return said + (f", if {listing(ifs)}." if ifs else ".")


# ---------------------------------------------------------------------- visits


def _explain_visit(
    compiled: Compiled,
    state: State,
    lookups: _Lookups,
    visit_idx: int,
    opt_indices: list[int],
    key: tuple[str, str | None],
) -> _Block:
    if not opt_indices:
        block = _from_removed(compiled.removed.get(key, []))
    else:
        data = compiled.data
        blocks = [_visit_blocker(compiled, state, data.visit_options[i]) for i in opt_indices]
        block = _most_telling(blocks)
    if block.reason not in ("not_eligible", "allowance_used"):
        block.alternative = _VisitProbe(compiled, state, lookups, visit_idx).nearest()
    return block


def _visit_blocker(compiled: Compiled, state: State, opt: VisitOption) -> _Block:
    data = compiled.data
    visit = data.visits[opt.visit]
    provider = compiled.problem.providers[opt.provider]
    day = compiled.day_of(opt.day)
    if not state.visit_allowance_ok(opt.visit):
        return _Block("allowance_used", "This week's sitting hours are used by other visits.")
    if state.provider_minutes[opt.provider] < visit.minutes * visit.sitters:
        return _Block(
            "provider_hours_used", f"{provider.name} has used its contracted hours this week."
        )
    if state.sitters_short(opt):
        return _Block(
            "no_sitter_free",
            f"{provider.name} had no sitter free on {day_words(day)} "
            f"at {compiled.clock(opt.start)}.",
        )
    if state.home_busy(opt):
        return _Block(
            "no_sitter_free", f"Another visit to this home is planned then, on {day_words(day)}."
        )
    if any(state.budget_left[b] < opt.cost for b in state.provider_budgets[opt.provider]):
        return _Block("over_budget", f"The sitting budget that pays {provider.name} is spent.")
    return _Block("no_sitter_free", f"{provider.name} could make this visit; it was not chosen.")


class _VisitProbe:
    """The nearest visit that would serve an unmet one if the carer changed one thing:
    another time (not for a health appointment, which is fixed), or a provider farther
    away; providers that do not serve the area or lack the skills are never offered, nor
    ones whose hours or budget are spent. Times within a day either side of the asked
    windows are tried."""

    def __init__(self, compiled: Compiled, state: State, lookups: _Lookups, visit_idx: int):
        self.compiled = compiled
        self.state = state
        self.visit_idx = visit_idx
        self.sitting, self.visit = compiled.visits[visit_idx]
        self.case = lookups.cases[self.sitting.case_id]
        week_start = compiled.problem.week_start
        self.windows = [
            (begin, begin + span_minutes(w.start, w.end))
            for w in self.visit.windows
            for begin in [(w.day - week_start).days * 24 * 60 + minutes_of(w.start)]
        ]

    def nearest(self) -> Alternative | None:
        compiled, data = self.compiled, self.compiled.data
        step, per_day = data.step_minutes, data.steps_per_day
        steps = -(-self.visit.minutes // step)
        sitters: Literal[1, 2] = 2 if self.sitting.double_handed else 1
        providers = self._providers(sitters)
        if not providers:
            return None
        fixed = self.sitting.priority == "health_appointment"
        asked = [begin // step for begin, _ in self.windows]
        slots: set[int] = set()
        for first in asked:
            day = first // per_day
            for d in range(max(day - 1, 0), min(day + 2, 7)):
                slots.update(d * per_day + t for t in range(per_day))
        candidates = []
        for slot in slots:
            begin = slot * step
            inside = any(
                lo <= begin and begin + self.visit.minutes <= hi for lo, hi in self.windows
            )
            if fixed and not inside:
                continue
            distance = min(abs(slot - a) for a in asked)
            for p_idx, km, far in providers:
                relaxes: list[Relaxation] = []
                if not inside:
                    relaxes.append("visit_window")
                if far:
                    relaxes.append("travel")
                candidates.append((len(relaxes), distance, km, slot, p_idx, relaxes))
        candidates.sort(key=lambda c: c[:5])
        for _, _, km, slot, p_idx, relaxes in candidates[:MAX_PROBES]:
            provider = compiled.problem.providers[p_idx]
            cost = visit_cost60(provider, self.visit.minutes, sitters)
            day, start = divmod(slot, per_day)
            probe = VisitOption(self.visit_idx, p_idx, day, start, steps, cost, 0, 0, 0)
            if self.state.visit_fits(probe):
                return self._alternative(
                    provider.provider_id, provider.name, day, start, km, relaxes
                )
        return None

    def _providers(self, sitters: int) -> list[tuple[int, float, bool]]:
        """(provider, km from home, beyond the reach asked) for each provider that serves
        the area with the skills and still has hours and money for the visit."""
        state, case, need = self.state, self.case, self.visit.minutes * sitters
        found = []
        for p_idx, provider in enumerate(self.compiled.problem.providers):
            if case.locality_id not in provider.localities:
                continue
            if not set(case.sitting_skills) <= set(provider.skills):
                continue
            if state.provider_minutes[p_idx] < need:
                continue
            cost = visit_cost60(provider, self.visit.minutes, sitters)
            if any(state.budget_left[b] < cost for b in state.provider_budgets[p_idx]):
                continue
            home = case.home
            km = km_between(home.lat, home.lon, provider.base.lat, provider.base.lon)
            found.append(
                (p_idx, km, km > min(provider.max_travel_km, self.sitting.max_travel_km) + 1e-9)
            )
        return found

    def _alternative(
        self,
        provider_id: str,
        name: str,
        day: int,
        start: int,
        km: float,
        relaxes: list[Relaxation],
    ) -> Alternative:
        compiled = self.compiled
        when = compiled.day_of(day)
        visit = PlannedVisit(
            request_id=self.sitting.request_id,
            visit_id=self.visit.visit_id,
            case_id=self.sitting.case_id,
            provider_id=provider_id,
            day=when,
            start=compiled.clock(start),
            minutes=self.visit.minutes,
            sitters=2 if self.sitting.double_handed else 1,
        )
        said = f"{name} has a sitter free on {day_words(when)} at {visit.start}"
        ifs = []
        if "visit_window" in relaxes:
            ifs.append("the visit can move to then")
        if "travel" in relaxes:
            ifs.append(f"the carer accepts a provider {km:.0f} km away")
        text = said + (f", if {listing(ifs)}." if ifs else ".")
        return Alternative(text=text, relaxes=relaxes, visit=visit)
