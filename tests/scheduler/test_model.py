"""Loading a problem checks every value and cross-reference, naming the item and field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from scheduler.files import load_problem
from scheduler.model import InvalidProblem, ProblemError
from tests.solver import builders as b


def valid() -> dict[str, Any]:
    problem = b.problem(
        [b.case("C-1", incompatible_with=[]), b.case("C-2")],
        [b.unit("U-1", beds=2)],
        [
            b.stay("R-0042", "C-1", 2, "2026-03-02", "2026-03-04"),
            b.sitting("S-1", "C-2", [("V1", 60, "2026-03-03", "09:00", "11:00")]),
        ],
        bookings=[
            {
                "booking_id": "BK-1",
                "request_id": "R-0042",
                "case_id": "C-1",
                "unit_id": "U-1",
                "bed_id": "U-1-B0",
                "first_night": "2026-03-02",
                "nights": 2,
            }
        ],
        budgets=[{"budget_id": "BUD-1", "limit_pence": 100000, "applies_to": ["U-1", "P-1"]}],
    )
    return problem.model_dump(mode="json")


def set_path(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = data
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return apply


def drop(path: str) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = data
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return apply


def append(path: str, item: Any) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        node: Any = data
        for part in path.split("."):
            node = node[int(part)] if part.isdigit() else node[part]
        node.append(copy.deepcopy(item))

    return apply


BROKEN = [
    # a request naming a case that does not exist
    (set_path("requests.0.case_id", "C-9"), "request R-0042: case_id 'C-9' is not a case"),
    # the same bed listed twice in a unit
    (
        append("units.0.beds", {"bed_id": "U-1-B0", "features": []}),
        "bed U-1-B0: bed_id is listed more than once",
    ),
    # a start window the wrong way round
    (
        set_path("requests.0.earliest_start", "2026-03-06"),
        "request R-0042: earliest_start 2026-03-06 is after latest_start",
    ),
    # a sitting window that starts at the end of a day
    (
        set_path("requests.1.visits.0.windows.0.start", "24:00"),
        "request S-1: visit V1.windows[0].start: '24:00' ends a day",
    ),
    # an exceptional spot purchase with no reason
    (
        set_path("requests.0.exceptional", True),
        "request R-0042: exceptional_reason: is required when exceptional is true",
    ),
    # a crisis reserve larger than the unit's block beds
    (
        set_path("units.0.crisis_reserve_beds", 3),
        "unit U-1: crisis_reserve_beds 3 is more than the unit's 2 beds",
    ),
    # a crisis reserve in a spot unit, which has no block beds
    (
        lambda d: (
            set_path("units.0.spot", True)(d),
            set_path("units.0.crisis_reserve_beds", 1)(d),
        ),
        "unit U-1: crisis_reserve_beds is set on a spot unit, which has no block beds",
    ),
    # a cost beyond any plausible figure
    (
        set_path("units.0.cost_per_night_pence", 10**20),
        "unit U-1: cost_per_night_pence: Input should be less than or equal to 1000000000000",
    ),
    # a policy naming a priority that does not exist
    (
        set_path("policy", {"spot_for": ["urgent"]}),
        "policy.spot_for[0]: Input should be 'crisis', 'health_appointment' or 'planned'",
    ),
    # a negative allowance
    (
        set_path("cases.0.nights_allowance", -3),
        "case C-1: nights_allowance: Input should be greater than or equal to 0",
    ),
    # a visit longer than all its windows
    (
        set_path("requests.1.visits.0.minutes", 180),
        "request S-1: visit V1: visit V1 lasts 180 minutes, longer than all its windows",
    ),
    # an unknown weekday key in a rota
    (
        set_path("providers.0.sitters", {"funday": []}),
        "provider P-1: sitters: 'funday' is not a weekday key",
    ),
    # a clock time that is not HH:MM
    (
        set_path("providers.0.sitters.mon.0.start", "8am"),
        "provider P-1: sitters.mon[0].start: '8am' is not a time",
    ),
    # a field missing
    (drop("requests.0.nights"), "request R-0042: nights: is missing"),
    # a field nobody knows
    (
        set_path("cases.1.favourite_colour", "green"),
        "case C-2: favourite_colour: is not a known field",
    ),
    # a priority outside the list
    (
        set_path("requests.0.priority", "urgent"),
        "request R-0042: priority: Input should be 'crisis', 'health_appointment' or 'planned'",
    ),
    # a booking of a bed the unit does not have
    (set_path("bookings.0.bed_id", "U-1-B7"), "booking BK-1: bed_id 'U-1-B7' is not a bed of U-1"),
    # a booking of a request that is not in the file
    (
        set_path("bookings.0.request_id", "R-404"),
        "booking BK-1: request_id 'R-404' is not a request",
    ),
    # a budget applying to an unknown unit or provider
    (
        set_path("budgets.0.applies_to", ["U-404"]),
        "budget BUD-1: applies_to 'U-404' is not a unit or provider",
    ),
    # week_start must be a Monday
    (set_path("week_start", "2026-03-03"), "week_start: 2026-03-03 is not a Monday"),
    # an incompatibility with an unknown case
    (
        set_path("cases.0.incompatible_with", ["C-77"]),
        "case C-1: incompatible_with 'C-77' is not a case",
    ),
    # age_min above age_max
    (
        lambda d: (set_path("units.0.age_min", 99)(d), set_path("units.0.age_max", 60)(d)),
        "unit U-1: age_min 99 is above age_max 60",
    ),
    # a horizon that ends before it starts
    (
        set_path("horizon.last_night", "2026-03-01"),
        "horizon: last_night 2026-03-01 is before first_night",
    ),
]


@pytest.mark.parametrize(("breakage", "message"), BROKEN)
def test_a_broken_problem_names_the_item_and_field(breakage, message):
    lines = [str(error) for error in errors_of(breakage)]
    assert any(line.startswith(message) for line in lines), lines


def errors_of(breakage: Callable[[dict[str, Any]], Any]) -> list[ProblemError]:
    """The errors of the valid problem broken by ``breakage``."""
    data = valid()
    breakage(data)
    with pytest.raises(InvalidProblem) as caught:
        load_problem(data)
    return caught.value.errors


def test_the_valid_problem_loads():
    assert load_problem(valid()).requests[0].request_id == "R-0042"


# (breakage, the structured error expected among those found)
STRUCTURED = [
    # a cross-reference: the field is the subject of the message, located by position
    (
        set_path("requests.0.case_id", "C-9"),
        ProblemError(
            "request R-0042", "case_id", "'C-9' is not a case", ("requests", 0, "case_id"), True
        ),
    ),
    # pydantic's own check: the field, then a colon
    (
        set_path("cases.0.nights_allowance", -3),
        ProblemError(
            "case C-1",
            "nights_allowance",
            "Input should be greater than or equal to 0",
            ("cases", 0, "nights_allowance"),
        ),
    ),
    # inside an item: the field names the visit and window, the path their positions
    (
        set_path("requests.1.visits.0.windows.0.start", "24:00"),
        ProblemError(
            "request S-1",
            "visit V1.windows[0].start",
            "'24:00' ends a day; a start is 00:00 of the next",
            ("requests", 1, "visits", 0, "windows", 0, "start"),
        ),
    ),
    # a request's own check names the field it is about
    (
        set_path("requests.0.earliest_start", "2026-03-06"),
        ProblemError(
            "request R-0042",
            "earliest_start",
            "2026-03-06 is after latest_start 2026-03-04",
            ("requests", 0, "earliest_start"),
            True,
        ),
    ),
    # a setting: no item
    (
        set_path("week_start", "2026-03-03"),
        ProblemError("", "week_start", "2026-03-03 is not a Monday", ("week_start",)),
    ),
    # a duplicate is located where it is listed again (the unit's second bed)
    (
        append("units.0.beds", {"bed_id": "U-1-B0", "features": []}),
        ProblemError(
            "bed U-1-B0",
            "bed_id",
            "is listed more than once",
            ("units", 0, "beds", 2, "bed_id"),
            True,
        ),
    ),
]


@pytest.mark.parametrize(("breakage", "expected"), STRUCTURED)
def test_each_mistake_is_a_structured_error(breakage, expected):
    errors = errors_of(breakage)
    assert expected in errors, errors


@pytest.mark.parametrize(
    ("error", "line"),
    [
        # the field as the subject of the message
        (
            ProblemError("case C-1", "locality_id", "'L-9' is not a locality", (), True),
            "case C-1: locality_id 'L-9' is not a locality",
        ),
        # the field, then what is wrong with it
        (ProblemError("request R-1", "nights", "is missing"), "request R-1: nights: is missing"),
        # no item: a setting
        (ProblemError("", "horizon", "is missing"), "horizon: is missing"),
        # neither item nor field: the file as a whole
        (
            ProblemError("", "", "the file must hold a JSON object"),
            "the file must hold a JSON object",
        ),
    ],
)
def test_the_line_of_an_error(error, line):
    assert str(error) == line


def test_a_file_that_cannot_be_read_is_the_item(tmp_path):
    missing = tmp_path / "nowhere.json"
    with pytest.raises(InvalidProblem) as caught:
        load_problem(missing)
    assert caught.value.errors == [ProblemError(str(missing), "", "no such file")]
    assert str(caught.value) == f"{missing}: no such file"
