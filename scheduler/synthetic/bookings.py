"""Confirmed bookings of a county, placed first come first served."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

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
    H9 sitters and caps, H10 windows, H12 budgets)."""

    def __init__(self, county: County):
        self.county = county
        self.cases = {case.case_id: case.json for case in county.cases}
        self.night_idx = {night: i for i, night in enumerate(county.nights)}
        self.bed_taken: set[tuple[str, int]] = set()
        self.load: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
        self.residents: dict[tuple[str, int], list[str]] = defaultdict(list)
        self.nights_booked: dict[str, int] = defaultdict(int)
        self.minutes_booked: dict[str, int] = defaultdict(int)
        self.busy: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
        self.free = {p.provider_id: sitters_on_shift(p.json["sitters"]) for p in county.providers}
        self.sitter_minutes: dict[str, int] = defaultdict(int)
        self.left60 = {b["budget_id"]: 60 * b["limit_pence"] for b in county.budgets}
        self.budgets_of: dict[str, list[str]] = defaultdict(list)
        for budget in county.budgets:
            for owner in budget["applies_to"]:
                self.budgets_of[owner].append(budget["budget_id"])

    def book(self) -> None:
        self._book_stays()
        self._book_visits()

    def _affordable(self, owner: str, cost60: int) -> bool:
        """H12: every budget over ``owner`` has ``cost60`` (sixtieths of a penny) left."""
        return all(self.left60[b] >= cost60 for b in self.budgets_of[owner])

    def _spend(self, owner: str, cost60: int) -> None:
        for budget_id in self.budgets_of[owner]:
            self.left60[budget_id] -= cost60

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
                if km_apart(unit.point, plan.case.point) > request["max_travel_km"]:
                    continue  # H7
                for bed in unit.json["beds"]:
                    if self._stay_fits(case, unit, bed, start, nights):
                        return unit, bed, start
        return None

    def _stay_fits(self, case: Json, unit: UnitDraft, bed: Json, start: int, nights: int) -> bool:
        if not set(case["bed_needs"]) <= set(bed["features"]) or not unit.admits(case):
            return False  # H2, H3
        used = case["nights_used"] + self.nights_booked[case["case_id"]] + nights
        if "stay" not in case["eligible"] or used > case["nights_allowance"]:
            return False  # H8
        span = range(start, start + nights)
        if any((bed["bed_id"], n) in self.bed_taken for n in span):
            return False  # H1
        if any(
            self._incompatible(case, other)
            for n in span
            for other in self.residents[(unit.unit_id, n)]
        ):
            return False  # H4
        if not all(self._staffed(unit, case, n) for n in span):
            return False  # H5
        return self._affordable(unit.unit_id, 60 * nights * unit.json["cost_per_night_pence"])

    def _incompatible(self, case: Json, other_id: str) -> bool:
        other = self.cases[other_id]
        return (
            other_id in case["incompatible_with"] or case["case_id"] in other["incompatible_with"]
        )

    def _staffed(self, unit: UnitDraft, case: Json, night: int) -> bool:
        """H5 with one more resident: 2 per two_to_one, 1 per one_to_one, shared in groups."""
        two, one, shared = self.load[(unit.unit_id, night)]
        support = case["night_support"]
        two += support == "two_to_one"
        one += support == "one_to_one"
        shared += support == "shared"
        need = 2 * two + one + math.ceil(shared / unit.json["shared_ratio"])
        return need <= unit.staff[night]

    def _take_stay(
        self, plan: RequestPlan, unit: UnitDraft, bed: Json, start: int, week: int
    ) -> int:
        case = self.cases[plan.request["case_id"]]
        nights = plan.request["nights"]
        kind = ("two_to_one", "one_to_one", "shared").index(case["night_support"])
        for n in range(start, start + nights):
            self.bed_taken.add((bed["bed_id"], n))
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
        allowed = 60 * case["sitting_hours_per_week"]
        if (
            "sitting" not in case["eligible"]
            or self.minutes_booked[case["case_id"]] + minutes > allowed
        ):
            return None  # H8
        for provider in self._providers_for(plan):
            cap = 60 * provider.json["weekly_hours_cap"]
            cost60 = minutes * sitters * provider.json["cost_per_hour_pence"]
            if self.sitter_minutes[provider.provider_id] + minutes * sitters > cap:
                continue  # H9 weekly cap
            if not self._affordable(provider.provider_id, cost60):
                continue  # H12
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
            if provider.serves(plan.case.json) and km <= min(limit, provider.json["max_travel_km"]):
                found.append((km, provider.provider_id, provider))
        return [p for _, _, p in sorted(found, key=lambda f: (f[0], f[1]))]

    def _free_slot(
        self, provider: ProviderDraft, case_id: str, window: Json, minutes: int, sitters: int
    ) -> tuple[int, int] | None:
        """The first start in the window with sitters on shift and the home free (H9, H10)."""
        day = (window["day"] - self.county.week_start).days
        grid = self.free[provider.provider_id][day]
        for start in range(
            minutes_of(window["start"]), minutes_of(window["end"]) - minutes + 1, STEP
        ):
            end = start + minutes
            if any(d == day and s < end and start < e for d, s, e in self.busy[case_id]):
                continue
            if all(grid[t] >= sitters for t in range(start // STEP, end // STEP)):
                return day, start
        return None

    def _take_visit(
        self, plan: RequestPlan, visit: Json, provider: ProviderDraft, day: int, start: int
    ) -> None:
        request, minutes = plan.request, visit["minutes"]
        sitters = 2 if request["double_handed"] else 1
        grid = self.free[provider.provider_id][day]
        for t in range(start // STEP, (start + minutes) // STEP):
            grid[t] -= sitters
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
