"""The compile step's small parts: the index, the need formula, free runs, removals."""

from __future__ import annotations

import datetime as dt

from scheduler.compile import Index, need_of
from scheduler.compile.compiled import Removals
from scheduler.compile.stays import runs
from scheduler.model import Weights
from tests.solver import builders as b


def _problem():
    # Two cases, one unit, a stay (booked) and a stay to plan, a sitting of two visits.
    booking = {
        "booking_id": "BK-1",
        "request_id": "R-1",
        "case_id": "C-1",
        "unit_id": "U-1",
        "bed_id": "U-1-B0",
        "first_night": b.MONDAY,
        "nights": 1,
    }
    visits = [("V1", 90, b.MONDAY, "09:00", "12:00"), ("V2", 60, b.MONDAY, "13:00", "15:00")]
    return b.problem(
        [b.case("C-1"), b.case("C-2")],
        [b.unit("U-1", beds=2)],
        [
            b.stay("R-1", "C-1", 1, b.MONDAY, b.MONDAY),
            b.stay("R-2", "C-2", 2, b.MONDAY, b.MONDAY),
            b.sitting("S-1", "C-2", visits),
        ],
        bookings=[booking],
    )


def test_the_index_maps_ids_and_leaves_out_what_is_booked():
    index = Index.of(_problem())
    assert index.case_idx == {"C-1": 0, "C-2": 1} and index.unit_ids == ["U-1"]
    assert index.night_idx[dt.date(2026, 3, 2)] == 0 and len(index.nights) == 7
    # R-1 is confirmed already: only R-2 is a stay request to plan.
    assert [r.request_id for r in index.stay_requests] == ["R-2"]
    assert [(r.request_id, v.visit_id) for r, v in index.visits] == [("S-1", "V1"), ("S-1", "V2")]
    assert index.sitting_idx == {"S-1": 0}
    # The booked bed is a class of its own; the other bed makes a second class.
    assert [(c.bed_ids, c.booked_by) for c in index.classes] == [
        (["U-1-B0"], ["BK-1"]),
        (["U-1-B1"], []),
    ]
    assert index.class_of_bed == {"U-1-B0": 0, "U-1-B1": 1}
    # gcd of 24 h, the shift (08:00-18:00), 90 and 60 minutes, the windows: 30 minutes.
    assert (index.step_minutes, index.steps_per_day) == (30, 48)


def test_need_follows_the_formula():
    case = b.case("C-1", nights_allowance=28, nights_used=7)
    problem = b.problem([case], [b.unit("U-1")], [b.stay("R-1", "C-1", 1, b.MONDAY, b.MONDAY)])
    received = problem.week_start - dt.timedelta(days=28)
    # 100 + 100 x (1 - 7/28) + 50 x 28/56 = 100 + 75 + 25 = 200
    assert need_of(problem.cases[0], received, problem.week_start, Weights()) == 200
    # Waiting is capped at 56 days: 100 + 75 + 50 = 225.
    long_ago = problem.week_start - dt.timedelta(days=400)
    assert need_of(problem.cases[0], long_ago, problem.week_start, Weights()) == 225


def test_runs_count_true_values_up_to_the_first_false():
    assert runs([True, True, False, True]) == [2, 1, 0, 1]
    assert runs([]) == []


def test_removals_keep_the_first_reason_per_place_and_nothing_when_off():
    removals = Removals(on=True)
    removals.note(("R-1", None), "too_far", "U-1", "first")
    removals.note(("R-1", None), "too_far", "U-1", "second")
    assert removals.noted(("R-1", None), "too_far", "U-1")
    assert [r.detail for r in removals.removed[("R-1", None)]] == ["first"]
    off = Removals(on=False)
    off.note(("R-1", None), "too_far", "U-1", "first")
    assert not off.removed
