"""Confirmed bookings of a county, placed first come first served."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from scheduler import rules
from scheduler.model import WEEKDAYS, minutes_of
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

__all__ = ["Booker"]


def sitters_on_shift(rota: dict[str, list[Json]]) -> list[list[int]]:
    """Sitters working in each half hour of each day of the week (Monday first)."""
    grid = [[0] * SLOTS for _ in WEEKDAYS]
    for day, weekday in enumerate(WEEKDAYS):
        for shift in rota.get(weekday, []):
            for slot in range(minutes_of(shift["start"]) // STEP, minutes_of(shift["end"]) // STEP):
                grid[day][slot] += shift["count"]
    return grid


class Booker:
    """Confirmed bookings, placed first come first served; each keeps every hard rule,
    counting the bookings before it (H1 beds, H4 residents, H5 night staff, H8 allowances,
    H9 sitters and caps, H10 windows, H12 budgets), as the checker states them
    (:mod:`scheduler.rules`)."""

    def __init__(self, county: County):
        self.county = county
        self.cases = {case.case_id: case.json for case in county.cases}
        self.night_idx = {night: i for i, night in enumerate(county.nights)}
        self.bed_holders: dict[tuple[str, int], int] = defaultdict(int)
        self.load: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        self.residents: dict[tuple[str, int], list[str]] = defaultdict(list)
        self.nights_booked: dict[str, int] = defaultdict(int)
        self.minutes_booked: dict[str, int] = defaultdict(int)
        self.busy: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        self.on_shift = {
            p.provider_id: sitters_on_shift(p.json["sitters"]) for p in county.providers
        }
        self.sitters_busy = {
            p.provider_id: [[0] * SLOTS for _ in WEEKDAYS] for p in county.providers
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
        """About a fifth of the block bed-nights of the first week, earliest referrals first."""
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

    def _stay_place(self, plan: RequestPlan, week: int) -> tuple[UnitDraft, Json, int] | None:
        request = plan.request
        case = self.cases[request["case_id"]]
        nights = request["nights"]
        first = self.night_idx[request["earliest_start"]]
        latest = (request["latest_start"] - self.county.nights[0]).days
        for start in range(first, min(latest, self.county.num_nights - nights, week - 1) + 1):
            for unit in plan.reach:
                if not rules.h7_within_travel(
                    km_apart(unit.point, plan.case.point), request["max_travel_km"]
                ):
                    continue
                for bed in unit.json["beds"]:
                    if self._stay_fits(case, unit, bed, start, nights):
                        return unit, bed, start
        return None

    def _stay_fits(self, case: Json, unit: UnitDraft, bed: Json, start: int, nights: int) -> bool:
        if rules.h2_missing_features(case["bed_needs"], bed["features"]) or not unit.admits(case):
            return False
        booked = self.nights_booked[case["case_id"]] + nights
        if not rules.h8_eligible("stay", case["eligible"]) or not rules.h8_nights_ok(
            case["nights_used"], booked, case["nights_allowance"]
        ):
            return False
        span = range(start, start + nights)
        if not all(rules.h1_bed_night_ok(self.bed_holders[(bed["bed_id"], n)] + 1) for n in span):
            return False
        if any(
            self._cannot_share(case, other)
            for n in span
            for other in self.residents[(unit.unit_id, n)]
        ):
            return False
        if not all(self._staffed(unit, case, n) for n in span):
            return False
        return self._affordable(unit.unit_id, 60 * nights * unit.json["cost_per_night_pence"])

    def _cannot_share(self, case: Json, other_id: str) -> bool:
        other = self.cases[other_id]
        return rules.h4_cannot_share(
            case["case_id"], case["incompatible_with"], other_id, other["incompatible_with"]
        )

    def _staffed(self, unit: UnitDraft, case: Json, night: int) -> bool:
        """H5 with one more resident of the case's support."""
        two, one, shared = self.load[(unit.unit_id, night)]
        support = case["night_support"]
        two += support == "two_to_one"
        one += support == "one_to_one"
        shared += support == "shared"
        return (
            rules.h5_staff_needed(two, one, shared, unit.json["shared_ratio"]) <= unit.staff[night]
        )

    def _take_stay(
        self, plan: RequestPlan, unit: UnitDraft, bed: Json, start: int, week: int
    ) -> int:
        case = self.cases[plan.request["case_id"]]
        nights = plan.request["nights"]
        kind = ("two_to_one", "one_to_one", "shared").index(case["night_support"])
        for n in range(start, start + nights):
            self.bed_holders[(bed["bed_id"], n)] += 1
            self.load[(unit.unit_id, n)][kind] += 1
            self.residents[(unit.unit_id, n)].append(case["case_id"])
        self.nights_booked[case["case_id"]] += nights
        self._spend(unit.unit_id, 60 * nights * unit.json["cost_per_night_pence"])
        self.county.bookings.append(
            {
                "booking_id": self.county.ids.next("B", 4),
                "request_id": plan.request["request_id"],
                "case_id": case["case_id"],
                "unit_id": unit.unit_id,
                "bed_id": bed["bed_id"],
                "first_night": self.county.nights[start],
                "nights": nights,
            }
        )
        return len(range(start, min(start + nights, week)))

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

    def _visit_place(self, plan: RequestPlan, visit: Json) -> tuple[ProviderDraft, int, int] | None:
        request = plan.request
        case = self.cases[request["case_id"]]
        minutes = visit["minutes"]
        sitters = 2 if request["double_handed"] else 1
        booked = self.minutes_booked[case["case_id"]] + minutes
        if not rules.h8_eligible("sitting", case["eligible"]) or not rules.h8_sitting_minutes_ok(
            booked, case["sitting_hours_per_week"]
        ):
            return None
        for provider in self._providers_for(plan):
            sitter_minutes = self.sitter_minutes[provider.provider_id] + minutes * sitters
            if not rules.h9_weekly_minutes_ok(sitter_minutes, provider.json["weekly_hours_cap"]):
                continue
            cost60 = minutes * sitters * provider.json["cost_per_hour_pence"]
            if not self._affordable(provider.provider_id, cost60):
                continue
            for window in visit["windows"]:
                slot = self._free_slot(provider, case["case_id"], window, minutes, sitters)
                if slot is not None:
                    return provider, *slot
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

    def _free_slot(
        self, provider: ProviderDraft, case_id: str, window: Json, minutes: int, sitters: int
    ) -> tuple[int, int] | None:
        """The first start in the window with sitters on shift and the home free (H9, H10)."""
        day = (window["day"] - self.county.week_start).days
        busy = self.sitters_busy[provider.provider_id][day]
        on_shift = self.on_shift[provider.provider_id][day]
        for start in range(
            minutes_of(window["start"]), minutes_of(window["end"]) - minutes + 1, STEP
        ):
            end = start + minutes
            if any(
                d == day and rules.h10_overlap(start, end, s, e) for d, s, e in self.busy[case_id]
            ):
                continue
            slots = range(start // STEP, end // STEP)
            if all(rules.h9_sitters_ok(busy[t] + sitters, on_shift[t]) for t in slots):
                return day, start
        return None

    def _take_visit(
        self, plan: RequestPlan, visit: Json, provider: ProviderDraft, day: int, start: int
    ) -> None:
        request, minutes = plan.request, visit["minutes"]
        sitters = 2 if request["double_handed"] else 1
        busy = self.sitters_busy[provider.provider_id][day]
        for t in range(start // STEP, (start + minutes) // STEP):
            busy[t] += sitters
        case_id = request["case_id"]
        self.busy[case_id].append((day, start, start + minutes))
        self.minutes_booked[case_id] += minutes
        self.sitter_minutes[provider.provider_id] += minutes * sitters
        self._spend(provider.provider_id, minutes * sitters * provider.json["cost_per_hour_pence"])
        self.county.bookings.append(
            {
                "booking_id": self.county.ids.next("B", 4),
                "request_id": request["request_id"],
                "visit_id": visit["visit_id"],
                "case_id": case_id,
                "provider_id": provider.provider_id,
                "day": self.county.week_start + dt.timedelta(days=day),
                "start": clock(start),
                "minutes": minutes,
                "sitters": sitters,
            }
        )
