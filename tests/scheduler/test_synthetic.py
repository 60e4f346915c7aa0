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
    Problem,
    SittingRequest,
    StayBooking,
    StayRequest,
    VisitBooking,
    minutes_of,
)
from scheduler.synthetic import TIERS, generate

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
    """Sum over providers of the most sitters on shift at one time."""
    total = 0
    for provider in problem.providers:
        peak = 0
        for shifts in provider.sitters.values():
            for t in range(0, 24 * 60, 30):
                on = sum(s.count for s in shifts if minutes_of(s.start) <= t < minutes_of(s.end))
                peak = max(peak, on)
        total += peak
    return total


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
        start = minutes_of(booked.start)
        assert booked.minutes == visit.minutes
        assert any(
            w.day == booked.day
            and minutes_of(w.start) <= start
            and start + visit.minutes <= minutes_of(w.end)
            for w in visit.windows
        )


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
    for stay in _stay_bookings(problem):
        for night in stay.night_list:
            occupants[(stay.unit_id, night)][cases[stay.case_id].night_support] += 1
    for (unit_id, night), count in occupants.items():
        unit = units[unit_id]
        # 2 per two_to_one, 1 per one_to_one, shared residents in groups of shared_ratio.
        need = (
            2 * count["two_to_one"]
            + count["one_to_one"]
            + math.ceil(count["shared"] / unit.shared_ratio)
        )
        assert need <= unit.staff_on(night), (unit_id, night)


@pytest.mark.parametrize("tier", COMMITTED)
def test_bookings_keep_allowances_h8(tier: str):
    problem = _generated(tier)
    nights: Counter[str] = Counter()
    minutes: Counter[str] = Counter()
    for stay in _stay_bookings(problem):
        nights[stay.case_id] += stay.nights
    for visit in _visit_bookings(problem):
        minutes[visit.case_id] += visit.minutes
    for case in problem.cases:
        if nights[case.case_id]:
            assert "stay" in case.eligible
            assert case.nights_used + nights[case.case_id] <= case.nights_allowance
        if minutes[case.case_id]:
            assert "sitting" in case.eligible
            assert minutes[case.case_id] <= 60 * case.sitting_hours_per_week


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
