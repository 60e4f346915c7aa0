"""Overnight sitting: a visit that runs past midnight (22:00-07:00) in an overnight window,
served by sitters of a night shift who count on both days (H9, H10), end to end.

The week planned is Monday 2 to Sunday 8 March 2026; Tuesday is 3 March.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from scheduler.allocate import allocate
from scheduler.compile import compile_problem
from scheduler.decode import new_items
from scheduler.ical import FeedEvent, render_feed
from scheduler.model import Plan, Problem
from scheduler.sheets import problem_from_workbook, problem_to_frames, read_workbook, write_xlsx
from scheduler.whatif.sitting import SittingArrival, SittingGreedy
from solver.greedy import solve_greedy
from solver.steps import day_steps
from tests.solver import builders as b

MON, TUE, WED, SUN = "2026-03-02", "2026-03-03", "2026-03-04", "2026-03-08"
NIGHT = [{"start": "22:00", "end": "07:00", "count": 1}]
ENGINES = ["greedy", "cpsat"]


def night_provider(weekday: str = "tue", **over: Any) -> dict[str, Any]:
    """One sitter, working 22:00 on ``weekday`` to 07:00 the next morning, and no day."""
    return b.provider("P-1", sitters={weekday: NIGHT}, **over)


def plan_of(problem: Problem, engine: str) -> Plan:
    return allocate(problem, engine=engine, time_limit=5, workers=1, seed=0).plan


def served(plan: Plan) -> dict[str, tuple[dt.date, str, int]]:
    return {v.request_id: (v.day, v.start, v.minutes) for v in plan.visits}


def reasons(plan: Plan) -> dict[str, str]:
    return {u.request_id: u.reason for u in plan.unmet}


def test_day_steps_map_steps_past_midnight_to_the_next_day():
    # 96 steps of 15 minutes a day: 22:00 is step 88; 36 steps (540 minutes) run to
    # step 124 = 07:00 (step 28) of the next day.
    covered = day_steps(1, 88, 36, 96)
    assert covered[0] == (1, 88) and covered[7] == (1, 95) and covered[8] == (2, 0)
    assert covered[-1] == (2, 27) and len(covered) == 36


@pytest.mark.parametrize("engine", ENGINES)
def test_an_overnight_visit_is_placed_in_a_night_shift(engine):
    # The only sitter works Tuesday 22:00 to Wednesday 07:00; the visit asks for all of
    # it (540 minutes) in the window Tuesday 22:00-07:00: it fits exactly, starting
    # Tuesday at 22:00, and the plan names the day it starts.
    problem = b.problem(
        [b.case("C-1")],
        [],
        [b.sitting("R-1", "C-1", [("V-1", 540, TUE, "22:00", "07:00")])],
        [night_provider()],
    )
    plan = plan_of(problem, engine)
    assert served(plan) == {"R-1": (dt.date(2026, 3, 3), "22:00", 540)}
    # The rota offers 540 sitter-minutes in the week (the night shift, counted on
    # Tuesday, its minutes after midnight included), and all are planned.
    assert plan.kpis.sitter_utilisation == 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_night_sitter_is_not_double_booked_after_midnight(engine):
    # One sitter, Tuesday 22:00 to Wednesday 07:00. C-1 asks for the whole night; C-2
    # for an hour on Wednesday between 01:00 and 03:00, which only Tuesday night's
    # sitter can give. One sitter cannot be in two homes at 01:00: one is served.
    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [],
        [
            b.sitting("R-1", "C-1", [("V-1", 540, TUE, "22:00", "07:00")]),
            b.sitting("R-2", "C-2", [("V-1", 60, WED, "01:00", "03:00")]),
        ],
        [night_provider()],
    )
    plan = plan_of(problem, engine)
    assert len(plan.visits) == 1
    assert set(reasons(plan).values()) == {"no_sitter_free"}


@pytest.mark.parametrize("engine", ENGINES)
def test_two_visits_to_one_home_do_not_overlap_after_midnight(engine):
    # Two sitters on Tuesday night, so sitters are not short; but C-1's night visit
    # (Tuesday 22:00-07:00) and its hour on Wednesday 01:00-03:00 would overlap at the
    # home (H10): one of the two is planned.
    problem = b.problem(
        [b.case("C-1")],
        [],
        [
            b.sitting(
                "R-1",
                "C-1",
                [("V-1", 540, TUE, "22:00", "07:00"), ("V-2", 60, WED, "01:00", "03:00")],
            )
        ],
        [b.provider("P-1", sitters={"tue": [{**NIGHT[0], "count": 2}]})],
    )
    assert len(plan_of(problem, engine).visits) == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_the_sitters_of_a_night_shift_count_on_the_next_morning(engine):
    # C-2 alone: Wednesday has no shift of its own, yet Tuesday night's sitter is at
    # work until 07:00, so the hour is given at the earliest start, 01:00 Wednesday.
    problem = b.problem(
        [b.case("C-2")],
        [],
        [b.sitting("R-2", "C-2", [("V-1", 60, WED, "01:00", "03:00")])],
        [night_provider()],
    )
    day, start, _ = served(plan_of(problem, engine))["R-2"]
    assert day == dt.date(2026, 3, 4) and "01:00" <= start <= "02:00"


def test_an_overnight_booking_holds_its_sitter_and_the_home_on_both_days():
    # A booked visit to C-1 from Tuesday 22:00 for 540 minutes holds the one night
    # sitter of P-1 and C-1's home until 07:00 Wednesday. C-2's hour at 01:00
    # Wednesday finds no sitter free (P-1's only sitter is booked); C-1's own second
    # request at 02:00 Wednesday, which P-2 could staff, meets a home already busy.
    p2 = b.provider("P-2", sitters={"wed": [{"start": "00:00", "end": "06:00", "count": 1}]})
    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [],
        [
            b.sitting("R-1", "C-1", [("V-1", 540, TUE, "22:00", "07:00")]),
            b.sitting("R-2", "C-2", [("V-1", 60, WED, "01:00", "02:00")]),
            b.sitting("R-3", "C-1", [("V-1", 60, WED, "02:00", "03:00")]),
        ],
        [night_provider(), p2],
        bookings=[
            {
                "booking_id": "B-1",
                "request_id": "R-1",
                "visit_id": "V-1",
                "case_id": "C-1",
                "provider_id": "P-1",
                "day": TUE,
                "start": "22:00",
                "minutes": 540,
            }
        ],
    )
    compiled = compile_problem(problem)
    free = compiled.data.providers[0].free
    step = compiled.data.step_minutes
    assert max(free[1][22 * 60 // step :]) == 0 and max(free[2][: 7 * 60 // step]) == 0
    plan = plan_of(problem, "greedy")
    # R-2 may still go to P-2 (on shift Wednesday 00:00-06:00, free): it is served there.
    assert {v.request_id: v.provider_id for v in plan.visits if v.request_id != "R-1"} == {
        "R-2": "P-2"
    }
    assert reasons(plan) == {"R-3": "no_sitter_free"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_sunday_night_visit_runs_into_the_monday_after_the_week(engine):
    # Sunday 8 March 22:00 to Monday 9 March 07:00: the Monday is outside the week
    # planned, yet the sitter of Sunday's night shift works it. The visit is planned on
    # Sunday, and the compiled tables hold that Monday as an eighth day.
    problem = b.problem(
        [b.case("C-1")],
        [],
        [b.sitting("R-1", "C-1", [("V-1", 540, SUN, "22:00", "07:00")])],
        [night_provider("sun")],
    )
    compiled = compile_problem(problem)
    assert len(compiled.data.providers[0].free) == 8
    assert compiled.data.providers[0].free[7][0] == 1  # 00:00 on the Monday after
    assert served(plan_of(problem, engine)) == {"R-1": (dt.date(2026, 3, 8), "22:00", 540)}


def test_monday_morning_holds_the_sitters_of_the_sunday_night_before():
    # The rota repeats each week: Sunday night's sitter (22:00-07:00) is at work in
    # the early hours of the first Monday of the week too, so an hour asked for then
    # is given.
    problem = b.problem(
        [b.case("C-1")],
        [],
        [b.sitting("R-1", "C-1", [("V-1", 60, MON, "03:00", "04:00")])],
        [night_provider("sun")],
    )
    assert served(plan_of(problem, "greedy")) == {"R-1": (dt.date(2026, 3, 2), "03:00", 60)}


@pytest.mark.parametrize(("hours", "met"), [(9, True), (8.5, False)])
def test_weekly_hours_count_an_overnight_visit_wholly_in_its_week(hours, met):
    # Sunday's visit runs 60 minutes into the next week's Monday, yet its 540 minutes
    # all count in the week it starts: a cap of 9 hours allows it, 8.5 does not.
    problem = b.problem(
        [b.case("C-1")],
        [],
        [b.sitting("R-1", "C-1", [("V-1", 540, SUN, "22:00", "07:00")])],
        [night_provider("sun", weekly_hours_cap=hours)],
    )
    plan = plan_of(problem, "greedy")
    assert bool(plan.visits) is met
    assert met or reasons(plan) == {"R-1": "provider_hours_used"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_daytime_request_is_not_put_in_a_night_shift(engine):
    # A carer who needs someone between 10:00 and 16:00 on Tuesday: the provider's
    # only sitters work nights (Tuesday 22:00 to 07:00), which the window does not
    # touch. Unmet, no sitter free; adding a day shift serves it inside the window.
    request = b.sitting("R-1", "C-1", [("V-1", 120, TUE, "10:00", "16:00")])
    night_only = b.problem([b.case("C-1")], [], [request], [night_provider()])
    assert reasons(plan_of(night_only, engine)) == {"R-1": "no_sitter_free"}
    rota = {"tue": [*NIGHT, {"start": "13:00", "end": "18:00", "count": 1}]}
    both = b.problem([b.case("C-1")], [], [request], [b.provider("P-1", sitters=rota)])
    day, start, _ = served(plan_of(both, engine))["R-1"]
    assert day == dt.date(2026, 3, 3) and "13:00" <= start <= "14:00"


def test_an_overnight_window_gives_starts_after_midnight_on_the_next_day():
    # Window Tuesday 22:00-07:00 and a 60-minute visit: starts from 22:00 Tuesday to
    # 06:00 Wednesday. With sitters only on Wednesday 04:00-06:00 (a shift of the day),
    # the visit is planned on Wednesday at 04:00 or 05:00, as Wednesday.
    rota = {"wed": [{"start": "04:00", "end": "06:00", "count": 1}]}
    problem = b.problem(
        [b.case("C-1")],
        [],
        [b.sitting("R-1", "C-1", [("V-1", 60, TUE, "22:00", "07:00")])],
        [b.provider("P-1", sitters=rota)],
    )
    day, start, _ = served(plan_of(problem, "greedy"))["R-1"]
    assert day == dt.date(2026, 3, 4) and start in ("04:00", "05:00")


def test_the_simulation_shortcut_places_an_overnight_visit_as_the_compiled_week():
    # The what-if's sitting shortcut and the compiled greedy agree on a night visit:
    # Sunday (day 6) at 22:00 (minute 1320) for 540 minutes.
    problem = b.problem(
        [b.case("C-1")],
        [],
        [b.sitting("R-1", "C-1", [("V-1", 540, SUN, "22:00", "07:00")])],
        [night_provider("sun")],
    )
    request = problem.requests[0]
    arrival = SittingArrival("R-1", "C-1", "planned", request)  # type: ignore[arg-type]
    fast = SittingGreedy(problem).week([arrival])
    assert [(v.day, v.start, v.minutes) for v in fast] == [(6, 1320, 540)]
    compiled = compile_problem(problem)
    _, visits = new_items(compiled, solve_greedy(compiled.data))
    assert [(v.day, v.start) for v in visits] == [(dt.date(2026, 3, 8), "22:00")]


def test_an_overnight_window_and_shift_survive_the_spreadsheet():
    problem = b.problem(
        [b.case("C-1")],
        [],
        [b.sitting("R-1", "C-1", [("V-1", 540, TUE, "22:00", "07:00")])],
        [night_provider()],
    )
    again = problem_from_workbook(read_workbook(write_xlsx(problem_to_frames(problem))))
    assert again == problem
    assert again.providers[0].sitters["tue"][0].length == 540


def test_an_overnight_visit_ends_the_next_morning_in_the_calendar():
    # 22:00 on Saturday 28 March 2026 for 540 minutes ends at 07:00 on Sunday 29 March,
    # the morning the clocks go forward: the end is the wall-clock time, in British
    # Summer Time, and the time zone's definition covers that day.
    event = FeedEvent(
        uid="B-1@respite",
        sequence=0,
        last_modified=dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC),
        summary="Night sitting",
        description="C-00001",
        location="C-00001",
        day=dt.date(2026, 3, 28),
        start="22:00",
        minutes=540,
    )
    text = render_feed("P-1", [event]).decode()
    assert "DTSTART;TZID=Europe/London:20260328T220000" in text
    assert "DTEND;TZID=Europe/London:20260329T070000" in text
    assert "TZOFFSETTO:+0100" in text  # the switch to summer time is in the feed
