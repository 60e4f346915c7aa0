"""Bookings of a county (confirmed, or offered and not yet answered), placed first come
first served."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from scheduler import rules
from scheduler.model import WEEKDAYS, minutes_of, span_minutes
from scheduler.synthetic.county import (
    SLOTS,
    STEP,
    County,
    Json,
    ProviderDraft,
    RequestPlan,
    UnitDraft,
    clock,
)
from scheduler.synthetic.geometry import km_apart
from scheduler.synthetic.policy_rules import (
    POLICY,
    fresh_year,
    h5_staffed,
    h8_sitting_hours,
    h12b_spot_ok,
    h13_reserve_ok,
)

__all__ = ["Booker"]


def sitters_on_shift(rota: dict[str, list[Json]]) -> list[int]:
    """Sitters working in each half hour of the week, Monday 00:00 first, and of the Monday
    after it (where Sunday's night shift ends): a shift whose end is at or before its
    start runs into the next day."""
    grid = [0] * (len(WEEKDAYS) + 1) * SLOTS
    for day, weekday in enumerate(WEEKDAYS):
        for shift in rota.get(weekday, []):
            first = day * SLOTS + minutes_of(shift["start"]) // STEP
            for slot in range(first, first + span_minutes(shift["start"], shift["end"]) // STEP):
                grid[slot] += shift["count"]
    return grid


OFFERED_SHARE = 0.15  # of bookings made to the carer and not yet answered
SPOT_FIRST = 0.3  # of crisis and exceptional stays booked in a spot bed if one fits
DAY = 24 * 60


class Booker:
    """Bookings placed first come first served, about one in seven offered to the carer
    rather than confirmed (both hold their capacity). Each keeps every hard rule, counting
    the bookings before it: H1 beds, H2 and H3 the bed and unit, H4 residents, H5 night
    staff (with agency staff, booked with the stay, where the unit may add them), H7
    travel, H8 allowances (crisis and health appointments draw on none; nights in the
    case's next allowance year count from 0; banked sitting hours up to the policy's
    weeks), H9 sitters and caps, H10 windows (a night's sitting runs into the next day),
    H12 budgets (spot nights and agency staff; a block bed's night costs nothing more),
    H12b spot beds only for crisis or exceptional requests, H13 a unit's crisis reserve.
    The rules are those of :mod:`scheduler.rules`; the v2 ones it lacks are in
    :mod:`scheduler.synthetic.policy_rules`."""

    def __init__(self, county: County):
        self.county = county
        self.cases = {case.case_id: case.json for case in county.cases}
        self.night_idx = {night: i for i, night in enumerate(county.nights)}
        self.fresh = {
            case.case_id: (
                fresh_year(case.json["allowance_year_start"], county.week_start) - county.week_start
            ).days
            for case in county.cases
        }
        self.bed_holders: dict[tuple[str, int], int] = defaultdict(int)
        self.load: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        self.extra: dict[tuple[str, int], int] = defaultdict(int)
        self.non_crisis: dict[tuple[str, int], int] = defaultdict(int)
        self.residents: dict[tuple[str, int], list[str]] = defaultdict(list)
        # Drawing nights booked: in the case's allowance year, and in its next one.
        self.nights_booked: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.minutes_booked: dict[str, int] = defaultdict(int)
        self.busy: dict[str, list[tuple[int, int]]] = defaultdict(list)  # minutes of the week
        self.on_shift = {
            p.provider_id: sitters_on_shift(p.json["sitters"]) for p in county.providers
        }
        self.sitters_busy = {
            p.provider_id: [0] * (len(WEEKDAYS) + 1) * SLOTS for p in county.providers
        }
        self.sitter_minutes: dict[str, int] = defaultdict(int)
        self.limit_pence = {b["budget_id"]: b["limit_pence"] for b in county.budgets}
        self.spent60: dict[str, int] = defaultdict(int)
        self.budgets_of: dict[str, list[str]] = defaultdict(list)
        for budget in county.budgets:
            for owner in budget["applies_to"]:
                self.budgets_of[owner].append(budget["budget_id"])

    def book(self) -> None:
        self._book_stays()
        self._book_visits()
        bookings = self.county.bookings
        if bookings and all(b["status"] == "confirmed" for b in bookings):
            bookings[-1]["status"] = "offered"

    def _status(self) -> str:
        return "offered" if self.county.rng.random() < OFFERED_SHARE else "confirmed"

    def _affordable(self, owner: str, cost60: int) -> bool:
        """H12: every budget over ``owner`` has ``cost60`` (sixtieths of a penny) left."""
        return all(
            rules.h12_budget_ok(self.spent60[b] + cost60, self.limit_pence[b])
            for b in self.budgets_of[owner]
        )

    def _spend(self, owner: str, cost60: int) -> None:
        for budget_id in self.budgets_of[owner]:
            self.spent60[budget_id] += cost60

    # ------------------------------------------------------------------ stays

    def _book_stays(self) -> None:
        """About a fifth of the block bed-nights of the first week, earliest referrals first;
        some crisis and exceptional stays in a spot bed."""
        county = self.county
        week = min(7, county.num_nights)
        beds = sum(len(u.json["beds"]) for u in county.block_units)
        target = county.rng.uniform(0.15, 0.25) * beds * week
        plans = [
            p
            for p in county.stays
            if p.unit is not None and self.night_idx[p.request["earliest_start"]] < week
        ]
        plans.sort(key=lambda p: (p.request["received"], p.request["request_id"]))
        booked = 0
        for plan in plans:
            if booked >= target:
                break
            place = self._stay_place(plan, week)
            if place is not None:
                booked += self._take_stay(plan, *place, week)

    def _units_for(self, plan: RequestPlan) -> list[UnitDraft]:
        """The block units within reach, nearest first; spot units within the travel limit
        too for a request that may have one (H12b), first for some."""
        request = plan.request
        if not h12b_spot_ok(True, request["priority"], request.get("exceptional", False)):
            return plan.reach
        spot = sorted(
            (km_apart(u.point, plan.case.point), u.unit_id, u) for u in self.county.units if u.spot
        )
        spots = [u for _, _, u in spot]
        if self.county.rng.random() < SPOT_FIRST:
            return spots + plan.reach
        return plan.reach + spots

    def _stay_place(self, plan: RequestPlan, week: int) -> tuple[UnitDraft, Json, int, int] | None:
        request = plan.request
        case = self.cases[request["case_id"]]
        nights = request["nights"]
        first = self.night_idx[request["earliest_start"]]
        latest = (request["latest_start"] - self.county.nights[0]).days
        units = self._units_for(plan)
        # A resident who needs 1:1 or 2:1 comes with agency staff where the unit may add
        # them (Cheshire East's "flexibility"), even when the roster had room.
        least = 0 if case["night_support"] == "shared" else 1
        for start in range(first, min(latest, self.county.num_nights - nights, week - 1) + 1):
            for unit in units:
                if not rules.h7_within_travel(
                    km_apart(unit.point, plan.case.point), request["max_travel_km"]
                ):
                    continue
                for bed in unit.json["beds"]:
                    extra = self._stay_fits(request, case, unit, bed, start, least)
                    if extra is not None:
                        return unit, bed, start, extra
        return None

    def _stay_fits(
        self, request: Json, case: Json, unit: UnitDraft, bed: Json, start: int, least: int
    ) -> int | None:
        """The agency staff a night the stay brings (H5; ``least`` if the unit can add so
        many), or None if it breaks a rule."""
        nights = request["nights"]
        span = range(start, start + nights)
        crisis = request["priority"] == "crisis"
        if rules.h2_missing_features(case["bed_needs"], bed["features"]) or not unit.admits(case):
            return None
        if not h12b_spot_ok(unit.spot, request["priority"], request.get("exceptional", False)):
            return None
        if not self._allowance_ok(request, case, span):
            return None
        if not all(rules.h1_bed_night_ok(self.bed_holders[(bed["bed_id"], n)] + 1) for n in span):
            return None
        if any(
            self._cannot_share(case, other)
            for n in span
            for other in self.residents[(unit.unit_id, n)]
        ):
            return None
        block_beds = 0 if unit.spot else len(unit.json["beds"])
        if not all(
            h13_reserve_ok(
                crisis, self.non_crisis[(unit.unit_id, n)] + 1, block_beds, unit.reserve, n
            )
            for n in span
        ):
            return None
        extra = self._extra_needed(unit, case, span, least)
        if extra is None:
            return None
        cost60 = 60 * nights * (unit.json["cost_per_night_pence"] if unit.spot else 0)
        cost60 += 60 * nights * extra * unit.json.get("extra_night_staff_cost_pence", 0)
        return extra if self._affordable(unit.unit_id, cost60) else None

    def _allowance_ok(self, request: Json, case: Json, span: range) -> bool:
        """H8: eligible; a planned stay's nights within the allowance of the year they fall
        in (``nights_used`` this year, none yet in the next)."""
        if not rules.h8_eligible("stay", case["eligible"]):
            return False
        if POLICY.exempt(request["priority"]):
            return True
        fresh = self.fresh[case["case_id"]]
        this_year = sum(1 for n in span if n < fresh)
        booked = self.nights_booked[case["case_id"]]
        allowance = case["nights_allowance"]
        return rules.h8_nights_ok(
            case["nights_used"], booked[0] + this_year, allowance
        ) and rules.h8_nights_ok(0, booked[1] + len(span) - this_year, allowance)

    def _cannot_share(self, case: Json, other_id: str) -> bool:
        other = self.cases[other_id]
        return rules.h4_cannot_share(
            case["case_id"], case["incompatible_with"], other_id, other["incompatible_with"]
        )

    def _extra_needed(self, unit: UnitDraft, case: Json, span: range, least: int) -> int | None:
        """H5 with one more resident of the case's support: the fewest agency staff each
        night from ``least`` up, else below it (the same every night of the stay, within
        the unit's most), that staff it."""
        support = case["night_support"]
        tries = [*range(least, unit.extra_max + 1), *range(min(least, unit.extra_max + 1))]
        for extra in tries:
            if all(self._staffed(unit, support, n, extra) for n in span):
                return extra
        return None

    def _staffed(self, unit: UnitDraft, support: str, night: int, extra: int) -> bool:
        two, one, shared = self.load[(unit.unit_id, night)]
        agency = self.extra[(unit.unit_id, night)] + extra
        return agency <= unit.extra_max and h5_staffed(
            two + (support == "two_to_one"),
            one + (support == "one_to_one"),
            shared + (support == "shared"),
            unit.json["shared_ratio"],
            unit.staff[night],
            agency,
        )

    def _take_stay(
        self, plan: RequestPlan, unit: UnitDraft, bed: Json, start: int, extra: int, week: int
    ) -> int:
        """Book the stay; the block bed-nights of the first week it holds."""
        request = plan.request
        case = self.cases[request["case_id"]]
        nights = request["nights"]
        kind = ("two_to_one", "one_to_one", "shared").index(case["night_support"])
        fresh = self.fresh[case["case_id"]]
        for n in range(start, start + nights):
            self.bed_holders[(bed["bed_id"], n)] += 1
            self.load[(unit.unit_id, n)][kind] += 1
            self.extra[(unit.unit_id, n)] += extra
            self.non_crisis[(unit.unit_id, n)] += request["priority"] != "crisis"
            self.residents[(unit.unit_id, n)].append(case["case_id"])
            if not POLICY.exempt(request["priority"]):
                self.nights_booked[case["case_id"]][int(n >= fresh)] += 1
        cost60 = 60 * nights * (unit.json["cost_per_night_pence"] if unit.spot else 0)
        cost60 += 60 * nights * extra * unit.json.get("extra_night_staff_cost_pence", 0)
        self._spend(unit.unit_id, cost60)
        self.county.bookings.append(
            {
                "booking_id": self.county.ids.next("B", 4),
                "request_id": request["request_id"],
                "case_id": case["case_id"],
                "unit_id": unit.unit_id,
                "bed_id": bed["bed_id"],
                "first_night": self.county.nights[start],
                "nights": nights,
                "status": self._status(),
                "extra_night_staff": extra,
            }
        )
        return 0 if unit.spot else len(range(start, min(start + nights, week)))

    # ------------------------------------------------------------------ visits

    def _book_visits(self) -> None:
        """About 3% of the visits, in random order."""
        county = self.county
        candidates = [
            (plan, visit)
            for plan in county.sittings
            if plan.provider is not None
            for visit in plan.request["visits"]
        ]
        target = max(1, round(0.03 * sum(len(p.request["visits"]) for p in county.sittings)))
        booked = 0
        for plan, visit in county.rng.sample(candidates, len(candidates)):
            if booked >= target:
                break
            place = self._visit_place(plan, visit)
            if place is not None:
                self._take_visit(plan, visit, *place)
                booked += 1

    def _visit_place(self, plan: RequestPlan, visit: Json) -> tuple[ProviderDraft, int] | None:
        """A provider and a start (minutes after Monday 00:00) for the visit."""
        request = plan.request
        case = self.cases[request["case_id"]]
        minutes = visit["minutes"]
        sitters = 2 if request["double_handed"] else 1
        if not rules.h8_eligible("sitting", case["eligible"]):
            return None
        if not POLICY.exempt(request["priority"]):
            hours = h8_sitting_hours(case["sitting_hours_per_week"], case["sitting_hours_banked"])
            booked = self.minutes_booked[case["case_id"]] + minutes
            if not rules.h8_sitting_minutes_ok(booked, hours):
                return None
        for provider in self._providers_for(plan):
            sitter_minutes = self.sitter_minutes[provider.provider_id] + minutes * sitters
            if not rules.h9_weekly_minutes_ok(sitter_minutes, provider.json["weekly_hours_cap"]):
                continue
            cost60 = minutes * sitters * provider.json["cost_per_hour_pence"]
            if not self._affordable(provider.provider_id, cost60):
                continue
            for window in visit["windows"]:
                start = self._free_start(provider, case["case_id"], window, minutes, sitters)
                if start is not None:
                    return provider, start
        return None

    def _providers_for(self, plan: RequestPlan) -> list[ProviderDraft]:
        """H9 coverage and skills, H7 travel within both limits; nearest first."""
        limit = plan.request["max_travel_km"]
        found = []
        for provider in self.county.providers:
            km = km_apart(provider.point, plan.case.point)
            near = rules.h7_within_travel(km, limit) and rules.h7_within_travel(
                km, provider.json["max_travel_km"]
            )
            if provider.serves(plan.case.json) and near:
                found.append((km, provider.provider_id, provider))
        return [p for _, _, p in sorted(found, key=lambda f: (f[0], f[1]))]

    def _free_start(
        self, provider: ProviderDraft, case_id: str, window: Json, minutes: int, sitters: int
    ) -> int | None:
        """The first start in the window, on the window's day, with sitters on shift and the
        home free (H9, H10); minutes after Monday 00:00 of the week. A night window runs
        into the next morning, and so may the visit."""
        day = (window["day"] - self.county.week_start).days
        opens = day * DAY + minutes_of(window["start"])
        closes = opens + span_minutes(window["start"], window["end"])
        busy = self.sitters_busy[provider.provider_id]
        on_shift = self.on_shift[provider.provider_id]
        for start in range(opens, min(closes - minutes, (day + 1) * DAY - STEP) + 1, STEP):
            end = start + minutes
            if any(rules.h10_overlap(start, end, s, e) for s, e in self.busy[case_id]):
                continue
            slots = range(start // STEP, end // STEP)
            if all(rules.h9_sitters_ok(busy[t] + sitters, on_shift[t]) for t in slots):
                return start
        return None

    def _take_visit(
        self, plan: RequestPlan, visit: Json, provider: ProviderDraft, start: int
    ) -> None:
        request, minutes = plan.request, visit["minutes"]
        sitters = 2 if request["double_handed"] else 1
        busy = self.sitters_busy[provider.provider_id]
        for t in range(start // STEP, (start + minutes) // STEP):
            busy[t] += sitters
        case_id = request["case_id"]
        self.busy[case_id].append((start, start + minutes))
        if not POLICY.exempt(request["priority"]):
            self.minutes_booked[case_id] += minutes
        self.sitter_minutes[provider.provider_id] += minutes * sitters
        self._spend(provider.provider_id, minutes * sitters * provider.json["cost_per_hour_pence"])
        day, clock_minutes = divmod(start, DAY)
        self.county.bookings.append(
            {
                "booking_id": self.county.ids.next("B", 4),
                "request_id": request["request_id"],
                "visit_id": visit["visit_id"],
                "case_id": case_id,
                "provider_id": provider.provider_id,
                "day": self.county.week_start + dt.timedelta(days=day),
                "start": clock(clock_minutes),
                "minutes": minutes,
                "sitters": sitters,
                "status": self._status(),
            }
        )
