"""The synthetic council generator (scheduler.synthetic) and the committed fixture files.

Committed files are checked against the generator, so a change to the
generator must come with regenerated files::

    .venv/bin/python -c "from scheduler.synthetic import generate; \\
        from scheduler.files import write_json; \\
        [write_json(f'fixtures/{t}-1.json', generate(t, 1)) for t in ('tiny', 'borough', 'county')]"
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import pytest

from scheduler.files import dump_json, load_problem
from scheduler.geo import km_between
from scheduler.model import (
    WEEKDAYS,
    Policy,
    Problem,
    SittingRequest,
    StayBooking,
    StayRequest,
    VisitBooking,
    Window,
    minutes_of,
)
from scheduler.synthetic import TIERS, generate
from scheduler.synthetic.policy_rules import (
    fresh_year,
    h5_staffed,
    h8_sitting_hours,
    h12b_spot_ok,
    h13_reserve_ok,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
COMMITTED = ("tiny", "borough", "county")
RULES = sorted((FIXTURES / "rules").glob("*.json"))

# The spec's table "Sizes that matter"; sitters is the peak number on shift, summed over
# providers.
SIZES = {
    "tiny": {"units": 2, "beds": 3, "providers": 1, "sitters": 2, "cases": 6, "stays": 4,
             "visits": 6, "nights": 7},
    "borough": {"units": 3, "beds": 14, "providers": 3, "sitters": 25, "cases": 150,
                "stays": 40, "visits": 300, "nights": 14},
    "county": {"units": 10, "beds": 80, "providers": 12, "sitters": 250, "cases": 2000,
               "stays": 400, "visits": 4000, "nights": 28},
}  # fmt: skip


@cache
def _generated(tier: str, seed: int = 1) -> Problem:
    return generate(tier, seed)


def _stay_requests(problem: Problem) -> list[StayRequest]:
    return [r for r in problem.requests if isinstance(r, StayRequest)]


def _sitting_requests(problem: Problem) -> list[SittingRequest]:
    return [r for r in problem.requests if isinstance(r, SittingRequest)]


def _stay_bookings(problem: Problem) -> list[StayBooking]:
    return [b for b in problem.bookings if isinstance(b, StayBooking)]


def _visit_bookings(problem: Problem) -> list[VisitBooking]:
    return [b for b in problem.bookings if isinstance(b, VisitBooking)]


def _peak_sitters(problem: Problem) -> int:
    """Sum over providers of the most sitters on shift at one time; a night shift (its end
    at or before its start) runs into the next day."""
    total = 0
    for provider in problem.providers:
        on = Counter[int]()
        for day, weekday in enumerate(WEEKDAYS):
            for s in provider.sitters.get(weekday, []):
                start = day * 24 * 60 + minutes_of(s.start)
                for t in range(start, start + s.length, 30):
                    on[t] += s.count
        total += max(on.values(), default=0)
    return total


def _within(window: Window, day: dt.date, start: str, minutes: int) -> bool:
    """A visit on ``day`` from ``start`` lies in the window (which may run overnight)."""
    opens = minutes_of(window.start)
    begins = minutes_of(start)
    return window.day == day and opens <= begins and begins + minutes <= opens + window.length


# ---------------------------------------------------------------------- determinism


@pytest.mark.parametrize("tier", ["tiny", "borough"])
def test_the_same_seed_gives_the_same_problem(tier: str):
    assert dump_json(generate(tier, 7)) == dump_json(generate(tier, 7))


@pytest.mark.parametrize("tier", ["tiny", "borough"])
def test_another_seed_gives_another_problem(tier: str):
    assert dump_json(generate(tier, 1)) != dump_json(generate(tier, 2))


def test_an_unknown_tier_is_refused():
    with pytest.raises(ValueError, match="tier: 'planet'"):
        generate("planet", 1)
    assert TIERS == ("tiny", "borough", "county", "region", "nation")


# ---------------------------------------------------------------------- committed files


@pytest.mark.parametrize("tier", COMMITTED)
def test_a_committed_file_is_what_the_generator_makes(tier: str):
    # Loading checks the whole contract; re-serialising must give the generator's output.
    committed = load_problem(FIXTURES / f"{tier}-1.json")
    assert dump_json(committed) == dump_json(_generated(tier))


@pytest.mark.parametrize("path", RULES, ids=[p.stem for p in RULES])
def test_a_rule_fixture_loads(path: Path):
    assert load_problem(path).cases


def test_there_is_one_rule_fixture_per_hard_rule_and_each_is_explained():
    readme = (FIXTURES / "rules" / "README.md").read_text(encoding="utf-8")
    # One file per rule H1..H13, and more where v2 made a rule do more (h05b, h08b, ...).
    assert sorted({p.stem[:3] for p in RULES}) == [f"h{n:02d}" for n in range(1, 14)]
    for path in RULES:
        assert f"`{path.name}`" in readme


# ---------------------------------------------------------------------- sizes and shares


@pytest.mark.parametrize("tier", COMMITTED)
def test_sizes_are_the_spec_table(tier: str):
    problem = _generated(tier)
    sitting = _sitting_requests(problem)
    assert {
        "units": len(problem.units),
        "beds": sum(len(u.beds) for u in problem.units),
        "providers": len(problem.providers),
        "sitters": _peak_sitters(problem),
        "cases": len(problem.cases),
        "stays": len(_stay_requests(problem)),
        "visits": sum(len(r.visits) for r in sitting),
        "nights": len(problem.horizon.nights),
    } == SIZES[tier]
    assert problem.week_start.weekday() == 0
    assert problem.horizon.first_night == problem.week_start
    assert all(1 <= len(r.visits) <= 5 for r in sitting)


@pytest.mark.parametrize("tier", ["borough", "county"])
def test_shares_are_roughly_the_spec(tier: str):
    problem = _generated(tier)
    support = Counter(case.night_support for case in problem.cases)
    priority = Counter(request.priority for request in problem.requests)
    cases, requests = len(problem.cases), len(problem.requests)
    assert support["one_to_one"] / cases == pytest.approx(0.15, abs=0.05)
    assert support["two_to_one"] / cases == pytest.approx(0.05, abs=0.03)
    assert priority["crisis"] / requests == pytest.approx(0.10, abs=0.04)
    assert priority["health_appointment"] / requests == pytest.approx(0.15, abs=0.05)


def test_health_appointment_visits_have_one_window_of_their_length():
    for request in _sitting_requests(_generated("county")):
        if request.priority == "health_appointment":
            for visit in request.visits:
                assert [w.length for w in visit.windows] == [visit.minutes]


@pytest.mark.parametrize("tier", COMMITTED)
def test_every_clock_time_is_on_the_half_hour(tier: str):
    problem = _generated(tier)
    times = [m for r in _sitting_requests(problem) for v in r.visits for m in [v.minutes]]
    times += [
        minutes_of(clock)
        for r in _sitting_requests(problem)
        for v in r.visits
        for w in v.windows
        for clock in (w.start, w.end)
    ]
    times += [
        minutes_of(clock)
        for p in problem.providers
        for shifts in p.sitters.values()
        for s in shifts
        for clock in (s.start, s.end)
    ]
    assert all(t % 30 == 0 for t in times)


@pytest.mark.parametrize("tier", COMMITTED)
def test_visit_windows_lie_in_the_week_planned(tier: str):
    problem = _generated(tier)
    week_end = problem.week_start + dt.timedelta(days=6)
    for request in _sitting_requests(problem):
        for visit in request.visits:
            assert all(problem.week_start <= w.day <= week_end for w in visit.windows)


# ---------------------------------------------------------------------- demand above capacity


@pytest.mark.parametrize("tier", COMMITTED)
def test_stays_ask_for_more_nights_than_block_beds_have_free(tier: str):
    problem = _generated(tier)
    units = problem.unit_by_id()
    block = [u for u in problem.units if not u.spot]
    booked_requests = {b.request_id for b in _stay_bookings(problem)}
    booked = sum(b.nights for b in _stay_bookings(problem) if not units[b.unit_id].spot)
    free = sum(len(u.beds) for u in block) * len(problem.horizon.nights) - booked
    asked = sum(r.nights for r in _stay_requests(problem) if r.request_id not in booked_requests)
    assert asked > 1.2 * free


@pytest.mark.parametrize("tier", COMMITTED)
def test_visits_ask_for_more_sitter_hours_than_providers_are_contracted_for(tier: str):
    problem = _generated(tier)
    asked = sum(
        v.minutes * (2 if r.double_handed else 1)
        for r in _sitting_requests(problem)
        for v in r.visits
    )
    contracted = sum(60 * p.weekly_hours_cap for p in problem.providers)
    assert asked > 1.3 * contracted


# ---------------------------------------------------------------------- bookings


@pytest.mark.parametrize("tier", COMMITTED)
def test_bookings_belong_to_their_requests(tier: str):
    problem = _generated(tier)
    requests = problem.request_by_id()
    assert _stay_bookings(problem) and _visit_bookings(problem)
    for stay in _stay_bookings(problem):
        request = requests[stay.request_id]
        assert isinstance(request, StayRequest)
        assert stay.nights == request.nights
        assert request.earliest_start <= stay.first_night <= request.latest_start
        assert stay.night_list[-1] <= problem.horizon.last_night
    for booked in _visit_bookings(problem):
        request = requests[booked.request_id]
        assert isinstance(request, SittingRequest)
        visit = next(v for v in request.visits if v.visit_id == booked.visit_id)
        assert booked.minutes == visit.minutes
        assert any(_within(w, booked.day, booked.start, visit.minutes) for w in visit.windows)


@pytest.mark.parametrize("tier", COMMITTED)
def test_bookings_hold_a_bed_once_a_night_h1(tier: str):
    held = Counter(
        (stay.bed_id, night)
        for stay in _stay_bookings(_generated(tier))
        for night in stay.night_list
    )
    assert held and max(held.values()) == 1


@pytest.mark.parametrize("tier", COMMITTED)
def test_bookings_are_staffed_h5(tier: str):
    problem = _generated(tier)
    cases = problem.case_by_id()
    units = problem.unit_by_id()
    occupants: dict[tuple[str, dt.date], Counter[str]] = defaultdict(Counter)
    agency: Counter[tuple[str, dt.date]] = Counter()
    for stay in _stay_bookings(problem):
        for night in stay.night_list:
            occupants[(stay.unit_id, night)][cases[stay.case_id].night_support] += 1
            agency[(stay.unit_id, night)] += stay.extra_night_staff
    for (unit_id, night), count in occupants.items():
        unit = units[unit_id]
        # 2 per two_to_one, 1 per one_to_one, shared residents in groups of shared_ratio;
        # the agency staff booked with the stays count, up to the unit's most.
        need = (
            2 * count["two_to_one"]
            + count["one_to_one"]
            + math.ceil(count["shared"] / unit.shared_ratio)
        )
        assert agency[(unit_id, night)] <= unit.extra_night_staff_max, (unit_id, night)
        assert need <= unit.staff_on(night) + agency[(unit_id, night)], (unit_id, night)


@pytest.mark.parametrize("tier", COMMITTED)
def test_bookings_keep_allowances_h8(tier: str):
    # Crisis and health appointments draw on nothing; a planned stay's nights on or after
    # the case's next allowance year count from 0 there; banked hours up to four weeks'.
    problem = _generated(tier)
    requests = problem.request_by_id()
    this_year: Counter[str] = Counter()
    next_year: Counter[str] = Counter()
    minutes: Counter[str] = Counter()
    cases = problem.case_by_id()
    for stay in _stay_bookings(problem):
        case = cases[stay.case_id]
        assert "stay" in case.eligible
        if not problem.policy.exempt(requests[stay.request_id].priority):
            for night in stay.night_list:
                fresh = night >= problem.fresh_year(case)
                (next_year if fresh else this_year)[case.case_id] += 1
    for visit in _visit_bookings(problem):
        assert "sitting" in cases[visit.case_id].eligible
        if not problem.policy.exempt(requests[visit.request_id].priority):
            minutes[visit.case_id] += visit.minutes
    for case in problem.cases:
        assert case.nights_used + this_year[case.case_id] <= case.nights_allowance
        assert next_year[case.case_id] <= case.nights_allowance
        weekly = case.sitting_hours_per_week
        banked = min(case.sitting_hours_banked, problem.policy.sitting_bank_weeks * weekly)
        assert minutes[case.case_id] <= 60 * (weekly + banked)


@pytest.mark.parametrize("tier", COMMITTED)
def test_bookings_keep_budgets_h12(tier: str):
    # Spend is what a plan adds: spot nights, agency staff nights, sitter-minutes.
    problem = _generated(tier)
    units, providers = problem.unit_by_id(), problem.provider_by_id()
    spent60: Counter[str] = Counter()
    for stay in _stay_bookings(problem):
        unit = units[stay.unit_id]
        nightly = (unit.cost_per_night_pence if unit.spot else 0) + (
            stay.extra_night_staff * unit.extra_night_staff_cost_pence
        )
        spent60[stay.unit_id] += 60 * stay.nights * nightly
    for visit in _visit_bookings(problem):
        rate = providers[visit.provider_id].cost_per_hour_pence
        spent60[visit.provider_id] += visit.minutes * visit.sitters * rate
    for budget in problem.budgets:
        assert sum(spent60[owner] for owner in budget.applies_to) <= 60 * budget.limit_pence


@pytest.mark.parametrize("tier", COMMITTED)
def test_spot_beds_are_booked_only_for_crisis_or_exceptional_h12b(tier: str):
    problem = _generated(tier)
    units, requests = problem.unit_by_id(), problem.request_by_id()
    for stay in _stay_bookings(problem):
        request = requests[stay.request_id]
        assert isinstance(request, StayRequest)
        if units[stay.unit_id].spot:
            assert problem.policy.may_buy_spot(request.priority, request.exceptional)


@pytest.mark.parametrize("tier", COMMITTED)
def test_bookings_keep_the_crisis_reserve_h13(tier: str):
    problem = _generated(tier)
    units, requests = problem.unit_by_id(), problem.request_by_id()
    release = problem.planning_date + dt.timedelta(days=problem.policy.reserve_release_days)
    held: Counter[tuple[str, dt.date]] = Counter()
    for stay in _stay_bookings(problem):
        if requests[stay.request_id].priority != "crisis":
            held.update((stay.unit_id, night) for night in stay.night_list if night >= release)
    for (unit_id, _), count in held.items():
        unit = units[unit_id]
        if unit.crisis_reserve_beds:  # a unit without a reserve has no such limit
            assert count <= unit.block_beds - unit.crisis_reserve_beds
    assert any(units[unit_id].crisis_reserve_beds for unit_id, _ in held)  # the rule applies


def test_county_bookings_use_every_kind_of_v2_booking():
    # Offered as well as confirmed; agency staff with a stay; a crisis or exceptional stay
    # in a spot bed.
    problem = _generated("county")
    units = problem.unit_by_id()
    status = Counter(b.status for b in problem.bookings)
    assert 0.05 <= status["offered"] / len(problem.bookings) <= 0.3
    assert any(b.extra_night_staff for b in _stay_bookings(problem))
    assert any(units[b.unit_id].spot for b in _stay_bookings(problem))


# ---------------------------------------------------------------------- v2 features


@pytest.mark.parametrize("tier", COMMITTED)
def test_the_problem_states_its_policy_and_planning_day(tier: str):
    problem = _generated(tier)
    assert problem.policy == Policy()
    assert problem.planned_on == problem.horizon.first_night


@pytest.mark.parametrize("tier", COMMITTED)
def test_block_units_have_a_yearly_contract_price_and_spot_units_none(tier: str):
    # About 80% of what the beds' nights would cost over a year.
    problem = _generated(tier)
    assert any(u.spot for u in problem.units) and any(not u.spot for u in problem.units)
    for unit in problem.units:
        if unit.spot:
            assert unit.block_cost_per_year_pence == 0
        else:
            every_night = len(unit.beds) * 365 * unit.cost_per_night_pence
            assert 0.7 * every_night <= unit.block_cost_per_year_pence <= 0.9 * every_night


@pytest.mark.parametrize("tier", COMMITTED)
def test_some_block_units_hold_a_crisis_bed(tier: str):
    problem = _generated(tier)
    reserving = [u for u in problem.units if u.crisis_reserve_beds]
    block = [u for u in problem.units if not u.spot]
    assert 1 <= len(reserving) <= max(1, len(block) // 2)
    assert all(u.crisis_reserve_beds == 1 and u.block_beds >= 2 for u in reserving)


@pytest.mark.parametrize("tier", COMMITTED)
def test_some_block_units_may_add_agency_night_staff(tier: str):
    # £220-£320 a staff-night, one or two a night, never in a spot unit.
    problem = _generated(tier)
    agency = [u for u in problem.units if u.extra_night_staff_max]
    assert agency and all(not u.spot for u in agency)
    for unit in problem.units:
        assert unit.extra_night_staff_max in (0, 1, 2)
        if unit.extra_night_staff_max:
            assert 22000 <= unit.extra_night_staff_cost_pence <= 32000
        else:
            assert unit.extra_night_staff_cost_pence == 0


@pytest.mark.parametrize("tier", COMMITTED)
def test_a_few_stay_requests_are_exceptional_with_a_reason(tier: str):
    stays = _stay_requests(_generated(tier))
    exceptional = [r for r in stays if r.exceptional]
    assert exceptional and all(r.exceptional_reason for r in exceptional)
    assert all(r.priority != "crisis" for r in exceptional)  # crisis may have a spot bed
    assert all(r.exceptional_reason is None for r in stays if not r.exceptional)
    if tier == "county":
        assert 0.01 <= len(exceptional) / len(stays) <= 0.04


@pytest.mark.parametrize("tier", ["borough", "county"])
def test_allowance_years_start_through_the_year_and_nights_used_go_with_them(tier: str):
    problem = _generated(tier)
    planned_on = problem.planning_date
    months = Counter()
    for case in problem.cases:
        start = case.allowance_year_start
        assert start is not None and planned_on - dt.timedelta(days=365) < start <= planned_on
        months[(start.year, start.month)] += 1
        into = (planned_on - start).days + 1
        # At most 1.5 times the year's share so far, or (most, or all) late in the year.
        if case.nights_allowance and case.nights_used == case.nights_allowance:
            assert into > 180
        share = math.ceil(1.5 * case.nights_allowance * into / 365)
        assert case.nights_used <= share or into > 180
    assert len(months) >= 10
    # Some cases start a fresh allowance year inside the horizon.
    assert any(problem.fresh_year(c) <= problem.horizon.last_night for c in problem.cases)


@pytest.mark.parametrize("tier", ["borough", "county"])
def test_sitting_ledgers_are_plausible(tier: str):
    problem = _generated(tier)
    sitting = [c for c in problem.cases if c.sitting_hours_per_week > 0]
    for case in problem.cases:
        weekly = case.sitting_hours_per_week
        assert case.sitting_hours_recent <= 4 * weekly  # had at most four weeks' worth
        assert case.sitting_hours_banked <= 5.2 * weekly  # a little past the bank at most
    recent = sum(c.sitting_hours_recent > 0 for c in sitting) / len(sitting)
    banked = sum(c.sitting_hours_banked > 0 for c in sitting) / len(sitting)
    assert 0.7 <= recent <= 0.95 and 0.4 <= banked <= 0.75


@pytest.mark.parametrize("tier", ["borough", "county"])
def test_some_carers_pay_a_contribution_per_night(tier: str):
    staying = [c for c in _generated(tier).cases if c.nights_allowance]
    paying = [c for c in staying if c.contribution_per_night_pence]
    assert 0.2 <= len(paying) / len(staying) <= 0.5
    assert all(1500 <= c.contribution_per_night_pence <= 6000 for c in paying)


@pytest.mark.parametrize(("tier", "night_providers"), [("tiny", 0), ("borough", 1), ("county", 2)])
def test_a_few_visits_are_night_sitting_with_a_provider_who_sits_at_night(
    tier: str, night_providers: int
):
    problem = _generated(tier)
    sits_at_night = [
        p
        for p in problem.providers
        if any(s.end <= s.start for shifts in p.sitters.values() for s in shifts)
    ]
    assert len(sits_at_night) == night_providers
    for provider in sits_at_night:
        night = [s for shifts in provider.sitters.values() for s in shifts if s.end <= s.start]
        assert all((s.start, s.end) == ("22:00", "07:00") for s in night)
    windows = [w for r in _sitting_requests(problem) for v in r.visits for w in v.windows]
    overnight = [w for w in windows if w.overnight]
    assert all((w.start, w.end) == ("22:00", "07:00") for w in overnight)
    if night_providers:
        assert 0.01 <= len(overnight) / len(windows) <= 0.06
    else:
        assert not overnight


# ---------------------------------------------------------------------- region


@pytest.mark.slow
def test_a_region_falls_apart_into_its_four_counties():
    # Link everything the solver would have to decide together: a budget and what it
    # applies to, a provider and its localities, a case and its locality, and a stay
    # request's case with every unit within its reach. Four counties, four parts.
    problem = generate("region", 1)
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def link(a: str, b: str) -> None:
        parent[root(a)] = root(b)

    for budget in problem.budgets:
        for owner in budget.applies_to:
            link(budget.budget_id, owner)
    for provider in problem.providers:
        for locality in provider.localities:
            link(provider.provider_id, locality)
    cases = problem.case_by_id()
    for case in problem.cases:
        link(case.case_id, case.locality_id)
    for request in _stay_requests(problem):
        home = cases[request.case_id].home
        for unit in problem.units:
            km = km_between(home.lat, home.lon, unit.location.lat, unit.location.lon)
            if km <= request.max_travel_km:
                link(request.case_id, unit.unit_id)
    parts = Counter(root(unit.unit_id) for unit in problem.units)
    assert sorted(parts.values()) == [10, 10, 10, 10]
    assert (
        len(
            {root(u.unit_id) for u in problem.units}
            | {root(p.provider_id) for p in problem.providers}
        )
        == 4
    )


# ---------------------------------------------------------------------- the booker's v2 rules


def test_the_booker_keeps_a_crisis_bed_once_the_reserve_is_no_longer_released():
    # 4 block beds, 1 held: a 4th non-crisis stay is refused from night 2 (release 2 days).
    assert h13_reserve_ok(False, 4, 4, 1, days_after_planning=1)
    assert not h13_reserve_ok(False, 4, 4, 1, days_after_planning=2)
    assert h13_reserve_ok(False, 3, 4, 1, days_after_planning=2)
    assert h13_reserve_ok(True, 4, 4, 1, days_after_planning=2)  # crisis may use it
    assert h13_reserve_ok(False, 4, 4, 0, days_after_planning=9)  # no reserve, no limit


def test_the_booker_counts_agency_staff_banked_hours_and_fresh_years():
    assert not h5_staffed(1, 0, 0, 4, staff=1, extra=0)  # 2:1 needs two
    assert h5_staffed(1, 0, 0, 4, staff=1, extra=1)
    assert h8_sitting_hours(3.0, 20.0) == 3.0 + 12.0  # banked up to four weeks'
    assert h8_sitting_hours(3.0, 5.5) == 8.5
    assert h12b_spot_ok(True, "crisis", False) and h12b_spot_ok(True, "planned", True)
    assert not h12b_spot_ok(True, "planned", False) and h12b_spot_ok(False, "planned", False)
    planned_on = dt.date(2025, 3, 3)
    assert fresh_year(dt.date(2024, 3, 10), planned_on) == dt.date(2025, 3, 10)
    assert fresh_year(dt.date(2024, 3, 3), planned_on) == dt.date(2026, 3, 3)
