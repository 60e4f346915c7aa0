"""Why a request went unmet, in words a broker can read out to a carer.

Two sources, both probed, never guessed:

- options the compile step removed (:attr:`Compiled.removed`): not eligible,
  allowance used, no suitable bed, too far, no provider...;
- options that were compiled but not chosen: each is tried against what the
  final plan holds (:class:`solver.state.State`), and what blocks it is named:
  the beds taken and by which requests, the night staff, a resident who
  cannot share, the sitters, the provider's hours, a budget.

An ``alternative`` is the nearest change that would serve the request: the
nearest other start night, another unit, a spot bed, one more night staff
member on a given night, another time or day for a visit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from scheduler.compile import Compiled, Removed
from scheduler.model import Unmet, UnmetReason
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
)
WHOLE_REQUEST: tuple[UnmetReason, ...] = ("not_eligible", "allowance_used")


@dataclass
class _Block:
    reason: UnmetReason
    detail: str
    alternative: str | None = None


def explain_unmet(compiled: Compiled, solution: Solution) -> list[Unmet]:
    """An :class:`Unmet` entry for every stay request and visit the solution leaves out."""
    data = compiled.data
    state = State(data)
    for opt_idx in solution.stays.values():
        state.take_stay(data.stay_options[opt_idx])
    for opt_idx in solution.visits.values():
        state.take_visit(data.visit_options[opt_idx])
    holders = _bed_holders(compiled, solution)
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
        block = _explain_stay(compiled, state, holders, request_idx, stay_opts[request_idx], key)
        unmet.append(Unmet(request_id=request.request_id, **block.__dict__))
    for visit_idx, (sitting, visit) in enumerate(compiled.visits):
        if visit_idx in solution.visits:
            continue
        key = (sitting.request_id, visit.visit_id)
        block = _explain_visit(compiled, state, visit_opts[visit_idx], key)
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
        return _Block("no_suitable_bed", "There was nothing that could be offered.")
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


def _bed_holders(compiled: Compiled, solution: Solution) -> dict[tuple[int, int], list[str]]:
    """(bed class, night) -> requests holding a bed of the class then (plan and bookings)."""
    data = compiled.data
    holders: dict[tuple[int, int], list[str]] = defaultdict(list)
    for request_idx, opt_idx in solution.stays.items():
        opt = data.stay_options[opt_idx]
        request = compiled.stay_requests[request_idx]
        for n in range(opt.start, opt.start + request.nights):
            holders[(opt.bed_class, n)].append(f"{request.priority} stay {request.request_id}")
    bed_class = compiled.index.class_of_bed
    night_idx = compiled.index.night_idx
    for booking in compiled.booked_stays:
        for night in booking.night_list:
            if night in night_idx:
                holders[(bed_class[booking.bed_id], night_idx[night])].append(
                    f"confirmed booking {booking.booking_id}"
                )
    return holders


def _explain_stay(
    compiled: Compiled,
    state: State,
    holders: dict[tuple[int, int], list[str]],
    request_idx: int,
    opt_indices: list[int],
    key: tuple[str, str | None],
) -> _Block:
    removed = compiled.removed.get(key, [])
    if not opt_indices:
        block = _from_removed(removed)
        block.alternative = _other_dates(compiled, state, request_idx)
        return block
    blocks = [
        _stay_blocker(compiled, state, holders, compiled.data.stay_options[i]) for i in opt_indices
    ]
    block = _most_telling(blocks)
    block.alternative = block.alternative or _other_dates(compiled, state, request_idx)
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
    span = _dates(first, last)
    full = [n for n in nights if state.class_free[opt.bed_class][n] <= 0]
    if full:
        who = sorted({h for n in full for h in holders.get((opt.bed_class, n), [])})
        beds = _bed_words(info.bed_ids, info.features)
        return _Block(
            "beds_taken",
            f"{beds} in {unit.name} {'was' if len(info.bed_ids) == 1 else 'were'} taken on "
            f"{span} by {_listing(who)}.",
        )
    short = [n for n in nights if not state.staff_ok(info_unit(data, opt), request.support, n)]
    if short:
        night = compiled.nights[short[0]]
        return _Block(
            "no_night_staff",
            f"{unit.name} had no night staff free for this level of support on {night:%-d %B}.",
            f"One more night staff member at {unit.name} on {night:%-d %B} would allow this stay.",
        )
    if any(
        state.case_unit_nights[(other, info_unit(data, opt))] & set(nights)
        for other in state.partners[request.case]
    ):
        return _Block(
            "incompatible_resident",
            f"Someone who cannot share with this person stays in {unit.name} on {span}.",
        )
    if state.nights_left[request.case] < request.nights or state.case_nights[request.case] & set(
        nights
    ):
        return _Block(
            "allowance_used", "The nights allowance is taken by this person's other stays."
        )
    if any(state.budget_left[b] < opt.cost for b in state.unit_budgets[info_unit(data, opt)]):
        return _Block(
            "over_budget",
            f"The budget for {unit.name} is spent for these nights.",
            "A spot-purchased bed, if the commissioner agrees the cost." if not unit.spot else None,
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
    return f"{count} {kind + ' ' if kind else ''}{noun}".replace("The ", "The ", 1)


def _listing(items: list[str]) -> str:
    if len(items) > 4:
        items = [*items[:3], f"{len(items) - 3} more"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _dates(first: dt.date, last: dt.date) -> str:
    if first == last:
        return f"{first:%-d %B}"
    if first.month == last.month:
        return f"{first.day}-{last:%-d %B}"
    return f"{first:%-d %B}-{last:%-d %B}"


def _other_dates(compiled: Compiled, state: State, request_idx: int) -> str | None:
    """The nearest start outside the asked window, in a unit the request can use, that fits now."""
    data = compiled.data
    request = data.stay_requests[request_idx]
    model = compiled.stay_requests[request_idx]
    removed_units = {
        r.where
        for r in compiled.removed.get((model.request_id, None), [])
        if r.reason in ("too_far", "no_suitable_bed")
    }
    case = compiled.problem.case_by_id()[model.case_id]
    if "stay" not in case.eligible or state.nights_left[request.case] < request.nights:
        return None
    wanted = (
        compiled.nights.index(model.earliest_start)
        if model.earliest_start in compiled.nights
        else 0
    )
    starts = sorted(
        range(len(compiled.nights) - request.nights + 1), key=lambda s: (abs(s - wanted), s)
    )
    for start in starts:
        for class_idx, info in enumerate(compiled.classes):
            if info.unit_id in removed_units or not set(case.bed_needs) <= set(info.features):
                continue
            unit = compiled.problem.unit_by_id()[info.unit_id]
            if not unit.age_min <= case.age <= unit.age_max or unit.sex_policy not in (
                "any",
                case.sex,
            ):
                continue
            probe = StayOption(request_idx, class_idx, start, 0, 0, 0, 0)
            if state.stay_fits(probe):
                return f"A stay starting {compiled.nights[start]:%-d %B} in {unit.name} would fit."
    return None


# ---------------------------------------------------------------------- visits


def _explain_visit(
    compiled: Compiled, state: State, opt_indices: list[int], key: tuple[str, str | None]
) -> _Block:
    if not opt_indices:
        return _from_removed(compiled.removed.get(key, []))
    data = compiled.data
    blocks = [_visit_blocker(compiled, state, data.visit_options[i]) for i in opt_indices]
    return _most_telling(blocks)


def _visit_blocker(compiled: Compiled, state: State, opt: VisitOption) -> _Block:
    data = compiled.data
    visit = data.visits[opt.visit]
    provider = compiled.problem.providers[opt.provider]
    day = compiled.day_of(opt.day)
    if state.minutes_left[visit.case] < visit.minutes:
        return _Block("allowance_used", "This week's sitting hours are used by other visits.")
    if state.provider_minutes[opt.provider] < visit.minutes * visit.sitters:
        return _Block(
            "provider_hours_used", f"{provider.name} has used its contracted hours this week."
        )
    if state.sitters_short(opt):
        return _Block(
            "no_sitter_free",
            f"{provider.name} had no sitter free on {day:%A %-d %B} "
            f"at {compiled.clock(opt.start)}.",
            _other_time(compiled, state, opt),
        )
    if state.home_busy(opt):
        return _Block(
            "no_sitter_free", f"Another visit to this home is planned then, on {day:%A %-d %B}."
        )
    if any(state.budget_left[b] < opt.cost for b in state.provider_budgets[opt.provider]):
        return _Block("over_budget", f"The sitting budget for {provider.name} is spent.")
    return _Block("no_sitter_free", f"{provider.name} could make this visit; it was not chosen.")


def _other_time(compiled: Compiled, state: State, opt: VisitOption) -> str | None:
    """The nearest start the same week with the same provider that fits now."""
    data = compiled.data
    candidates = [
        (abs(day - opt.day) * data.steps_per_day + abs(start - opt.start), day, start)
        for day in range(7)
        for start in range(data.steps_per_day - opt.steps + 1)
    ]
    for _, day, start in sorted(candidates)[:400]:
        probe = VisitOption(opt.visit, opt.provider, day, start, opt.steps, 0, 0, 0, 0)
        if state.visit_fits(probe):
            provider = compiled.problem.providers[opt.provider]
            return (
                f"{provider.name} has a sitter free on {compiled.day_of(day):%A %-d %B} "
                f"at {compiled.clock(start)}."
            )
    return None
