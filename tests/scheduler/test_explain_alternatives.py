"""Alternatives are true of the plan and the problem: each names a placement the
checker accepts, with only what it says it relaxes (spec: "Every alternative must
be true"), and the sentences read as a broker says them."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduler.allocate import allocate
from scheduler.checker import check
from tests.solver import builders as b

BOOKED_FOE = {
    "booking_id": "BK-1",
    "request_id": "R-0",
    "case_id": "C-0",
    "unit_id": "U-1",
    "bed_id": "U-1-B1",
    "first_night": "2026-03-02",
    "nights": 3,
}


@pytest.mark.parametrize("engine", ["greedy", "cpsat"])
def test_other_dates_keep_away_from_a_booked_resident_who_cannot_share(engine: str) -> None:
    # C-1 cannot share with C-0, who is booked in U-1 Mon 2 - Wed 4 March; C-1 asked for
    # Monday only. The nearest other dates with the free bed begin Thursday 5 March: the
    # alternative must not offer Tuesday or Wednesday (a booked resident, not a stay the
    # engine took, is what is in the way).
    problem = b.problem(
        [b.case("C-0"), b.case("C-1", incompatible_with=["C-0"])],
        [b.unit("U-1", beds=2)],
        [
            b.stay("R-0", "C-0", 3, "2026-03-02", "2026-03-02"),
            b.stay("R-1", "C-1", 1, *["2026-03-02"] * 2),
        ],
        providers=[],
        bookings=[BOOKED_FOE],
    )
    plan = allocate(problem, engine=engine, time_limit=5, workers=1, seed=0).plan
    assert check(problem, plan) == []  # the alternative included
    (unmet,) = plan.unmet
    assert unmet.reason == "incompatible_resident"
    assert unmet.alternative is not None and unmet.alternative.stay is not None
    assert unmet.alternative.stay.first_night == dt.date(2026, 3, 5)
    assert unmet.alternative.relaxes == ["start_window"]
    assert "Thursday 5 March" in unmet.alternative.text


def test_a_fixed_health_appointment_is_never_offered_another_time() -> None:
    # The only sitter is busy at 13:00 on Tuesday with a crisis visit; the health
    # appointment at exactly 13:00-14:00 cannot move, so no "sitter free at 09:00".
    crisis = b.sitting(
        "R-0", "C-0", [("V1", 60, "2026-03-03", "13:00", "14:00")], priority="crisis"
    )
    appointment = b.sitting(
        "R-1", "C-1", [("V1", 60, "2026-03-03", "13:00", "14:00")], priority="health_appointment"
    )
    problem = b.problem(
        [b.case("C-0"), b.case("C-1")], [], [crisis, appointment], providers=[b.provider()]
    )
    plan = allocate(problem, engine="greedy").plan
    (unmet,) = plan.unmet
    assert unmet.request_id == "R-1" and unmet.reason == "no_sitter_free"
    assert unmet.alternative is None
    assert "Tuesday 3 March" in unmet.detail and "2026" not in unmet.detail
