"""Stay options: every (request, bed class, start night) that the rules concerning the
request alone allow (H2 bed fits, H3 unit admits, H6 whole stays in the horizon, H7
travel, H8 eligibility and allowance, H12b spot beds only for approved requests) with
what bookings hold (H1 beds, H4 residents, H5 night staff, H13 the crisis reserve).
What is left out is noted with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from scheduler.compile.agency import agency_cost60, agency_premium60, useful_extras
from scheduler.compile.capacity import staff_needed
from scheduler.compile.compiled import OptionBuilder, OptionInputs, RemovedKey
from scheduler.compile.index import PRIORITY_INDEX, SUPPORT_INDEX
from scheduler.compile.need import need_of
from scheduler.compile.terms import stay_cost60, stay_points, tenths_km
from scheduler.geo import km_between
from scheduler.model import Case, StayBooking, StayRequest, Unit, UnmetReason
from scheduler.words import day_words, listing
from solver import data as sd

__all__ = ["runs", "stay_options"]


def stay_options(inputs: OptionInputs) -> tuple[list[sd.StayRequest], list[sd.StayOption]]:
    """The solver's stay requests (``index.stay_requests``, in order) and their options."""
    problem, index = inputs.problem, inputs.index
    builder = _StayOptions(inputs)
    requests: list[sd.StayRequest] = []
    options: list[sd.StayOption] = []
    cases = problem.case_by_id()
    for request_idx, request in enumerate(index.stay_requests):
        case = cases[request.case_id]
        requests.append(
            sd.StayRequest(
                case=index.case_idx[case.case_id],
                priority=PRIORITY_INDEX[request.priority],
                nights=request.nights,
                support=SUPPORT_INDEX[case.night_support],
                need=need_of(case, request.received, problem.week_start, problem.weights),
                arrival=request.received.toordinal(),
                draws=not problem.policy.exempt(request.priority),
            )
        )
        options.extend(builder.options(request, request_idx, case))
    return requests, options


class _StayOptions(OptionBuilder):
    """Options of one request at a time; tables shared by requests made once (caches)."""

    def __init__(self, inputs: OptionInputs):
        super().__init__(inputs)
        problem = inputs.problem
        self.policy = problem.policy
        self.nights = inputs.index.nights
        self.cases = problem.case_by_id()
        # bed -> (booking, its first and last night): the bookings a refusal names
        self.bookings_of_bed: dict[str, list[tuple[str, str, dt.date, dt.date]]] = defaultdict(list)
        for booking in problem.bookings:
            if isinstance(booking, StayBooking):
                last = booking.first_night + dt.timedelta(days=booking.nights - 1)
                self.bookings_of_bed[booking.bed_id].append(
                    (booking.booking_id, booking.status, booking.first_night, last)
                )
        self.classes_of_unit: dict[int, list[int]] = defaultdict(list)
        for class_idx, bed_class in enumerate(self.capacity.classes):
            self.classes_of_unit[bed_class.unit].append(class_idx)
        self.wary = {c.case_id for c in problem.cases if c.incompatible_with} | {
            other for c in problem.cases for other in c.incompatible_with
        }
        self.previous = {
            s.request_id: (s.unit_id, s.first_night)
            for s in (inputs.previous.stays if inputs.previous else [])
        }
        self._fitting_cache: dict[tuple[int, frozenset[str]], list[tuple[int, list[int]]]] = {}
        self._km_cache: dict[str, list[float]] = {}
        self._room_cache: dict[tuple[int, int], list[int]] = {}

    def options(self, request: StayRequest, request_idx: int, case: Case) -> list[sd.StayOption]:
        key: RemovedKey = (request.request_id, None)
        starts = self._starts_or_why_not(request, case, key)
        if not starts:
            return []
        options: list[sd.StayOption] = []
        needs = frozenset(case.bed_needs)
        kms = self._km_to_units(case)
        for unit_idx, unit in enumerate(self.problem.units):
            fitting = self._fitting_classes(unit_idx, needs)
            km = kms[unit_idx]
            if self._unit_refuses(request, case, unit, bool(fitting), km):
                continue
            unit_options = self._unit_options(
                request, request_idx, case, unit_idx, fitting, starts, km
            )
            if unit.spot and not self.policy.may_buy_spot(request.priority, request.exceptional):
                self._spot_not_approved(request, unit, bool(unit_options))
                continue
            options.extend(self._outside_reserve(request, unit_idx, unit_options))
        return options

    def _spot_not_approved(self, request: StayRequest, unit: Unit, would_fit: bool) -> None:
        """H12b: note the spot unit refused, where it would have served the request (else
        what kept it from serving is noted already, and is the truer reason)."""
        if not would_fit:
            return
        who = " or ".join(p.replace("_", " ") for p in self.policy.spot_for)
        allowed = f"to {who} requests or " if who else ""
        self.removals.note(
            (request.request_id, None),
            "spot_not_approved",
            unit.unit_id,
            f"{unit.name} is a spot-purchased unit with a bed for this stay; spot beds are "
            f"given only {allowed}with a manager's exceptional approval",
        )

    def _outside_reserve(
        self, request: StayRequest, unit_idx: int, options: list[sd.StayOption]
    ) -> list[sd.StayOption]:
        """H13: the options of a request that is not crisis that keep off the nights on
        which the unit has no bed left outside its crisis reserve; the others are noted."""
        cap = self.capacity.units[unit_idx].reserve_cap
        if cap is None or request.priority == "crisis":
            return options
        kept: list[sd.StayOption] = []
        for opt in options:
            held = [n for n in range(opt.start, opt.start + request.nights) if cap[n] <= 0]
            if not held:
                kept.append(opt)
            elif self.removals.on:
                self._note_reserve(request, self.problem.units[unit_idx], held[0])
        return kept

    def _note_reserve(self, request: StayRequest, unit: Unit, night: int) -> None:
        key: RemovedKey = (request.request_id, None)
        if self.removals.noted(key, "crisis_reserve", unit.unit_id):
            return
        day = self.nights[night]
        reserve, block = unit.crisis_reserve_beds, unit.block_beds
        if reserve >= block:
            held = f"{unit.name} keeps all its beds for crisis referrals on {day_words(day)}"
        else:
            held = (
                f"{unit.name} keeps {reserve} of its {block} beds for crisis referrals on "
                f"{day_words(day)}, and its other beds are booked then"
            )
        release = self.policy.reserve_release_days
        if release > 0:
            opens = day - dt.timedelta(days=release - 1)
            held += f"; the reserve opens to everyone in plans made from {day_words(opens)}"
        self.removals.note(key, "crisis_reserve", unit.unit_id, held)

    def _starts_or_why_not(self, request: StayRequest, case: Case, key: RemovedKey) -> range:
        """The start nights (H6) the allowance allows (H8), or an empty range with the
        reason noted (H8 eligibility, H6 the horizon, H8 the allowance)."""
        if "stay" not in case.eligible:
            self.removals.note(
                key, "not_eligible", "", "this person is not eligible for respite stays"
            )
            return range(0)
        starts = self._starts(request)
        if not starts:
            self.removals.note(
                key,
                "outside_horizon",
                "",
                f"no start from {day_words(request.earliest_start)} to "
                f"{day_words(request.latest_start)} fits {request.nights} nights inside "
                f"the nights planned, {day_words(self.nights[0])} to "
                f"{day_words(self.nights[-1])}",
            )
            return starts
        if self.policy.exempt(request.priority):
            return starts  # demand-led: draws on no allowance (H8)
        limits = self.case_limits[case.case_id]
        allowed = [
            s
            for s in starts
            if _within(sd.split_nights(s, request.nights, limits.fresh_night), limits)
        ]
        if not allowed:
            self.removals.note(key, "allowance_used", "", self._allowance_words(request, case))
            return range(0)
        return range(allowed[0], allowed[-1] + 1)  # contiguous: both bounds are monotone

    def _allowance_words(self, request: StayRequest, case: Case) -> str:
        """Why the allowance leaves no start (H8), true of this year and of the next
        where the nights asked reach into it."""
        if case.nights_allowance == 0:
            return "this person has no nights of planned respite allowed"
        limits = self.case_limits[case.case_id]
        allowance = case.nights_allowance

        def left_of(left: int, year: str) -> str:
            if left == 0:
                return f"none of the {allowance} nights allowed {year} is left"
            verb = "is" if left == 1 else "are"
            return f"only {left} of the {allowance} nights allowed {year} {verb} left"

        words = left_of(limits.nights_left, "this year")
        last_start = self._starts(request)[-1]
        if limits.fresh_night is not None and limits.fresh_night < last_start + request.nights:
            fresh = day_words(self.nights[limits.fresh_night])
            words += f", and {left_of(limits.nights_left_next, 'in the year starting ' + fresh)}"
        return f"{words}; the stay asked for {request.nights}"

    def _starts(self, request: StayRequest) -> range:
        """Night indices a stay may start on (H6: inside the horizon, whole)."""
        first = self.nights[0]
        earliest = max((request.earliest_start - first).days, 0)
        latest = min((request.latest_start - first).days, len(self.nights) - request.nights)
        return range(earliest, latest + 1)

    def _unit_options(
        self,
        request: StayRequest,
        request_idx: int,
        case: Case,
        unit_idx: int,
        fitting: list[tuple[int, list[int]]],
        starts: range,
        km: float,
    ) -> list[sd.StayOption]:
        """The options in one unit that admits the request and is near enough."""
        key: RemovedKey = (request.request_id, None)
        unit = self.problem.units[unit_idx]
        table = self.capacity.units[unit_idx]
        infos = self.index.classes
        room = self._staff_room(unit_idx, SUPPORT_INDEX[case.night_support], table)
        # Fewest agency staff the unit may still add on any night from each night on.
        agency = [0] * len(self.nights)
        if table.extra_max:
            agency = [
                min(table.extra_left(n) for n in range(start, start + request.nights))
                for start in range(len(self.nights) - request.nights + 1)
            ]
        wary = case.case_id in self.wary  # H4 concerns this case at all
        nights = request.nights
        cost = stay_cost60(unit, nights)
        travel = tenths_km(km)
        support = SUPPORT_INDEX[case.night_support]
        options: list[sd.StayOption] = []
        # Removals keep the first reason per place only: the later ones are not made.
        short_staffed = taken = not self.removals.on
        for start in starts:
            if room[start] < nights:
                if not short_staffed:
                    short_staffed = True
                    self._no_staff(table, start + room[start], case, key, unit)
                continue
            if wary and self._resident_conflict(case, unit, start, nights, key):
                continue
            for class_idx, free_run in fitting:
                if free_run[start] < nights:
                    if not taken:
                        taken = True
                        bed = infos[class_idx].bed_ids[0]
                        self.removals.note(
                            key,
                            "beds_taken",
                            unit.unit_id,
                            f"bed {bed} in {unit.name} is held on the nights asked by "
                            f"{self._holders(bed, start, nights)}",
                        )
                    continue
                kept = self.previous.get(request.request_id) == (unit.unit_id, self.nights[start])
                points = stay_points(request, case, unit, self.nights[start], self.weights)
                # Variants with agency staff (H5): without first, so that a greedy fill
                # takes rostered staff where they suffice.
                for extra in useful_extras(support, agency[start]):
                    options.append(
                        sd.StayOption(
                            request=request_idx,
                            bed_class=class_idx,
                            start=start,
                            cost=cost + agency_cost60(unit, extra * nights),
                            travel=travel,
                            points=points,
                            kept=int(kept),
                            premium=(cost if unit.spot else 0)
                            + agency_premium60(unit, extra * nights),
                            extra=extra,
                        )
                    )
        return options

    def _fitting_classes(self, unit_idx: int, needs: frozenset[str]) -> list[tuple[int, list[int]]]:
        """The unit's bed classes with every feature in ``needs`` (H2), each with its
        free runs (``[night]``: for how many nights from it a bed of the class is free,
        H1). Made once per unit and needs."""
        cache_key = (unit_idx, needs)
        found = self._fitting_cache.get(cache_key)
        if found is None:
            classes, infos = self.capacity.classes, self.index.classes
            found = self._fitting_cache[cache_key] = [
                (c, runs([f >= 1 for f in classes[c].free]))
                for c in self.classes_of_unit[unit_idx]
                if needs <= set(infos[c].features)
            ]
        return found

    def _km_to_units(self, case: Case) -> list[float]:
        """``[unit]``: the distance from the case's home to each unit (H7), once per case."""
        kms = self._km_cache.get(case.case_id)
        if kms is None:
            home = case.home
            kms = self._km_cache[case.case_id] = [
                km_between(home.lat, home.lon, unit.location.lat, unit.location.lon)
                for unit in self.problem.units
            ]
        return kms

    def _staff_room(self, unit_idx: int, support: int, table: sd.UnitNights) -> list[int]:
        """``[night]``: for how many nights from it one more occupant of ``support``
        keeps the unit's staffing (H5) with the bookings alone, with as many agency staff
        as the unit may still add. Once per unit and support."""
        cache_key = (unit_idx, support)
        room = self._room_cache.get(cache_key)
        if room is None:
            room = self._room_cache[cache_key] = runs(
                [
                    staff_needed(table, support, n) <= table.staff[n] + table.extra_left(n)
                    for n in range(len(self.nights))
                ]
            )
        return room

    def _unit_refuses(
        self, request: StayRequest, case: Case, unit: Unit, has_fitting_bed: bool, km: float
    ) -> bool:
        """H3 and H2 first (is the unit suitable at all?), then H7 (is it near enough?):
        a suitable unit too far away is nearer to serving than an unsuitable one."""
        refusal = _unit_refusal(request, case, unit, has_fitting_bed, km)
        if refusal is not None and self.removals.on:
            reason, detail = refusal
            self.removals.note((request.request_id, None), reason, unit.unit_id, detail())
        return refusal is not None

    def _holders(self, bed: str, start: int, nights: int) -> str:
        """The bookings of ``bed`` that hold one of the nights ``start`` .. ``start +
        nights - 1``, as a sentence names them ("confirmed booking B-1")."""
        first, last = self.nights[start], self.nights[start + nights - 1]
        held = [
            f"{status} booking {booking_id}"
            for booking_id, status, begins, ends in self.bookings_of_bed[bed]
            if begins <= last and first <= ends
        ]
        return listing(held) if held else "a booking"

    def _no_staff(
        self, table: sd.UnitNights, night: int, case: Case, key: RemovedKey, unit: Unit
    ) -> None:
        """Note ``night``, without the staff for one more."""
        need = staff_needed(table, SUPPORT_INDEX[case.night_support], night)
        agency = table.extra_left(night)
        self.removals.note(
            key,
            "no_night_staff",
            unit.unit_id,
            f"{unit.name} would need {need} night staff on {day_words(self.nights[night])}, "
            f"it has {table.staff[night]}"
            + (f" and may add {agency} agency staff" if agency else ""),
        )

    def _resident_conflict(
        self, case: Case, unit: Unit, start: int, nights: int, key: RemovedKey
    ) -> bool:
        """A booked resident of the unit on one of the nights cannot share with the case (H4)."""
        for n in range(start, start + nights):
            for other in self.capacity.residents.get((unit.unit_id, n), ()):
                if (
                    other in case.incompatible_with
                    or case.case_id in self.cases[other].incompatible_with
                ):
                    self.removals.note(
                        key,
                        "incompatible_resident",
                        unit.unit_id,
                        f"a resident who cannot share with this person is booked in "
                        f"{unit.name} on {day_words(self.nights[n])}",
                    )
                    return True
        return False


def _unit_refusal(
    request: StayRequest, case: Case, unit: Unit, has_fitting_bed: bool, km: float
) -> tuple[UnmetReason, Callable[[], str]] | None:
    """Why the unit cannot take the request at all, or None: the reason and its sentence
    (made only when asked for)."""
    if not unit.age_min <= case.age <= unit.age_max:
        return (
            "no_suitable_bed",
            lambda: (
                f"{unit.name} takes ages {unit.age_min}-{unit.age_max}, the person is {case.age}"
            ),
        )
    if unit.sex_policy not in ("any", case.sex):
        return "no_suitable_bed", lambda: f"{unit.name} is {unit.sex_policy} only"
    if not has_fitting_bed:
        return (
            "no_suitable_bed",
            lambda: f"{unit.name} has no bed with {', '.join(sorted(case.bed_needs))}",
        )
    if km > request.max_travel_km + 1e-9:
        return (
            "too_far",
            lambda: f"{unit.name} is {km:.0f} km away, the limit is {request.max_travel_km:.0f} km",
        )
    return None


def _within(drawn: tuple[int, int], limits: sd.CaseLimits) -> bool:
    """The nights a stay draws in this allowance year and the next are left (H8)."""
    return drawn[0] <= limits.nights_left and drawn[1] <= limits.nights_left_next


def runs(ok: list[bool]) -> list[int]:
    """``[i]``: how many of ``ok[i], ok[i + 1], ...`` are true before the first false."""
    result = [0] * (len(ok) + 1)
    for i in range(len(ok) - 1, -1, -1):
        result[i] = result[i + 1] + 1 if ok[i] else 0
    return result[:-1]
