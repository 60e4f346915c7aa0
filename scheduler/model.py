"""The problem and plan files of ``shared/spec/domain.md`` as pydantic models.

A :class:`Problem` is checked on construction: every value, and every
cross-reference between items. Each mistake is reported with the item's id
and the field, e.g. ``request R-0042: case_id 'C-9' is not a case``; all of
them at once, so that a broker can fix a file in one go.

Exception tree::

    ValueError
    └── InvalidProblem      a problem (or plan) file breaks the contract;
                            ``errors`` holds one :class:`ProblemError` per mistake
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

__all__ = [
    "BUILT",
    "FIRST_DATE",
    "ID_PATTERN",
    "LAST_DATE",
    "MAX_COUNT",
    "MAX_ID_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_NIGHTS",
    "MAX_PENCE",
    "MAX_SEED",
    "MAX_TIME_LIMIT",
    "MAX_WEIGHT",
    "MAX_WORKERS",
    "RELAXATIONS",
    "UNMET_REASONS",
    "WEEKDAYS",
    "Alternative",
    "Budget",
    "Case",
    "Clock",
    "Day",
    "ExtraStaff",
    "Id",
    "InvalidProblem",
    "Kpis",
    "Locality",
    "Location",
    "Minutes",
    "Name",
    "Nights",
    "Pence",
    "Plan",
    "PlannedStay",
    "PlannedVisit",
    "Policy",
    "Problem",
    "ProblemError",
    "Provider",
    "Relaxation",
    "Request",
    "SittingRequest",
    "SolverInfo",
    "StayBooking",
    "StayRequest",
    "Tag",
    "Unit",
    "Unmet",
    "UnmetReason",
    "VisitBooking",
    "Weights",
    "minutes_of",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Why a request or visit went unmet, in the spec's words: the one list, read by the
# plan model, the checker, the compile step, the explanations and the tests.
UnmetReason = Literal[
    "not_eligible",
    "allowance_used",
    "no_suitable_bed",
    "too_far",
    "no_night_staff",
    "beds_taken",
    "incompatible_resident",
    "no_provider",
    "no_sitter_free",
    "provider_hours_used",
    "over_budget",
    "outside_horizon",
    "spot_not_approved",
    "crisis_reserve",
]
UNMET_REASONS: tuple[UnmetReason, ...] = get_args(UnmetReason)
PRIORITIES = ("crisis", "health_appointment", "planned")
# What an alternative asks the carer or a manager to change (spec: "relaxes").
Relaxation = Literal["start_window", "travel", "visit_window", "spot_approval", "night_staff"]
RELAXATIONS: tuple[Relaxation, ...] = get_args(Relaxation)
MAX_TEXT_LENGTH = 2000  # a manager's reason, an unmet sentence

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")

# Limits: every size a file or a request can make the service work for.
MAX_NIGHTS = 366  # a horizon's nights, so a stay's (the spec's tiers plan up to 28)
# Validation context key: a problem the service builds around bookings to judge them (not
# one read from outside) may span more nights than a problem file may ask for.
BUILT = "built"
MAX_ID_LENGTH = 64  # the database's id columns
MAX_NAME_LENGTH = 200  # the database's name columns
MAX_PENCE = 10**12  # any cost or budget: ten billion pounds
MAX_COUNT = 1000  # night staff, sitters on a shift, residents per member of staff
MAX_SEED = 2**31 - 1  # CP-SAT's random_seed is a 32-bit int
MAX_TIME_LIMIT = 3600.0  # seconds of one solve
MAX_TRAVEL_KM = 20_000.0  # half way round the Earth
MAX_WEIGHT = 10**6  # an objective weight: tiers' sums stay far inside CP-SAT's 64 bits
MAX_WORKERS = 64  # solver threads, and solves or scenarios run at once
# Dates leave room for the longest horizon on either side: no date arithmetic overflows.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(9990, 12, 31)
# A pseudonymous reference such as "C-00042": no spaces, line breaks or other text.
ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
_ONE_LINE = r"^[^\x00-\x1f\x7f]+$"  # no control characters (NUL, line breaks)


Location = tuple[str | int, ...]  # list names, positions and keys: ("requests", 3, "case_id")


@dataclass(frozen=True)
class ProblemError:
    """One mistake in a problem or plan file: the item, its field, and what is wrong.

    ``str()`` gives the line people read, e.g. ``request R-0042: case_id 'C-9' is not
    a case`` or ``case C-1: nights_allowance: Input should be greater than or equal to 0``.

    Attributes
    ----------
    item
        The item at fault as people name it (``request R-0042``; ``requests[3]`` if it has
        no id; a file's path), or ``""`` for the file as a whole and its settings.
    field
        The field of the item, dotted as in the file (``case_id``, ``week_start``,
        ``visit V1.windows[0].end``), or ``""``.
    message
        What is wrong (``'C-9' is not a case``, ``is missing``).
    path
        Where the field is in the file, e.g. ``("requests", 3, "case_id")``: what a tool
        placing the error looks up (the spreadsheet import finds the row by it).
    subject
        The field is the subject of the message (``case_id 'C-9' is not a case``) rather
        than followed by a colon (``nights: is missing``).
    """

    item: str
    field: str
    message: str
    path: Location = ()
    subject: bool = False

    def __str__(self) -> str:
        if self.subject:
            said = f"{self.field} {self.message}"
        else:
            said = ": ".join(part for part in (self.field, self.message) if part)
        return ": ".join(part for part in (self.item, said) if part)


class InvalidProblem(ValueError):
    """A problem or plan file that breaks the contract; ``errors`` lists each mistake."""

    def __init__(self, errors: list[ProblemError]):
        self.errors = errors
        super().__init__("; ".join(str(error) for error in errors))


@dataclass(frozen=True)
class _Item:
    """An item of the problem as errors name it: ``request R-0042`` at ``("requests", 3)``."""

    name: str
    path: Location

    def error(self, field: str, message: str) -> ProblemError:
        """``field`` is wrong: ``message`` goes on from its name (``'C-9' is not a case``)."""
        return ProblemError(self.name, field, message, (*self.path, field), subject=True)


def anniversary(day: dt.date, years: int = 1) -> dt.date:
    """``day`` ``years`` years on (29 February becomes 1 March in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return dt.date(day.year + years, 3, 1)


def first_april_before(day: dt.date) -> dt.date:
    """The 1 April on or before ``day``: where a council's allowance year begins."""
    april = dt.date(day.year, 4, 1)
    return april if april <= day else dt.date(day.year - 1, 4, 1)


def minutes_of(clock: str) -> int:
    """Minutes after midnight of a ``"HH:MM"`` wall-clock time (``"24:00"`` is 1440)."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _check_clock(value: str) -> str:
    match = _CLOCK.match(value)
    if not match or minutes_of(value) > 24 * 60:
        raise ValueError(f"'{value}' is not a time HH:MM between 00:00 and 24:00")
    return value


Clock = Annotated[str, AfterValidator(_check_clock), Field(examples=["09:30"])]
NonNegInt = Annotated[int, Field(ge=0)]
PosInt = Annotated[int, Field(gt=0)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=ID_PATTERN)]
Name = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_NAME_LENGTH, pattern=_ONE_LINE)
]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH, pattern=_ONE_LINE)]
Day = Annotated[dt.date, Field(ge=FIRST_DATE, le=LAST_DATE)]
Nights = Annotated[int, Field(gt=0, le=MAX_NIGHTS)]
Minutes = Annotated[int, Field(gt=0, le=24 * 60)]
Pence = Annotated[int, Field(ge=0, le=MAX_PENCE)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Km = Annotated[float, Field(ge=0, le=MAX_TRAVEL_KM)]
Weight = Annotated[int, Field(ge=0, le=MAX_WEIGHT)]
Priority = Literal["crisis", "health_appointment", "planned"]
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH)]
Hours = Annotated[float, Field(ge=0, le=7 * 24 * 53)]  # a year of a week's every hour
BookingStatus = Literal["confirmed", "offered"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


class Point(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Horizon(_Strict):
    first_night: Day
    last_night: Day

    @model_validator(mode="after")
    def _ordered(self, info: ValidationInfo) -> Horizon:
        if self.last_night < self.first_night:
            raise ValueError(
                f"last_night {self.last_night} is before first_night {self.first_night}"
            )
        count = (self.last_night - self.first_night).days + 1
        if count > MAX_NIGHTS and not (info.context or {}).get(BUILT):
            too_long = f"makes a horizon of {count:,} nights; at most {MAX_NIGHTS}"
            raise ValueError(f"last_night {self.last_night} {too_long}")
        return self

    @property
    def nights(self) -> list[dt.date]:
        count = (self.last_night - self.first_night).days + 1
        return [self.first_night + dt.timedelta(days=i) for i in range(count)]


class Locality(_Strict):
    locality_id: Id
    name: Name


class Case(_Strict):
    case_id: Id
    locality_id: Id
    home: Point
    age: int = Field(ge=0, le=130)
    sex: Literal["female", "male"]
    night_support: Literal["shared", "one_to_one", "two_to_one"] = "shared"
    bed_needs: list[Tag] = []
    sitting_skills: list[Tag] = []
    incompatible_with: list[Id] = []
    eligible: list[Literal["stay", "sitting"]] = ["stay", "sitting"]
    nights_allowance: Annotated[int, Field(ge=0, le=MAX_NIGHTS)] = 0
    allowance_year_start: Day | None = None  # None: the 1 April before planned_on
    nights_used: Annotated[int, Field(ge=0, le=MAX_NIGHTS)] = 0
    sitting_hours_per_week: float = Field(default=0, ge=0, le=7 * 24)
    sitting_hours_banked: Hours = 0
    sitting_hours_recent: Annotated[float, Field(ge=0, le=4 * 7 * 24)] = 0
    contribution_per_night_pence: Pence = 0
    previous_unit_id: Id | None = None
    previous_provider_id: Id | None = None


class Bed(_Strict):
    bed_id: Id
    features: list[Tag] = []


class Unit(_Strict):
    unit_id: Id
    name: Name
    locality_id: Id
    location: Point
    age_min: NonNegInt = 0
    age_max: NonNegInt = 130
    sex_policy: Literal["any", "female", "male"] = "any"
    beds: list[Bed]
    default_night_staff: Count
    night_staff: dict[Day, Count] = {}
    shared_ratio: Annotated[int, Field(gt=0, le=MAX_COUNT)] = 4
    cost_per_night_pence: Pence
    spot: bool = False
    block_cost_per_year_pence: Pence = 0
    crisis_reserve_beds: Count = 0
    extra_night_staff_max: Count = 0
    extra_night_staff_cost_pence: Pence = 0

    @property
    def block_beds(self) -> int:
        """Beds paid for by a block contract: all of a block unit's, none of a spot unit's."""
        return 0 if self.spot else len(self.beds)

    def staff_on(self, night: dt.date) -> int:
        return self.night_staff.get(night, self.default_night_staff)


def span_minutes(start: str, end: str) -> int:
    """Minutes from ``start`` to ``end``; an ``end`` at or before ``start`` is on the next
    day (a night shift, an overnight window), so the span is 1..1440."""
    length = (minutes_of(end) - minutes_of(start)) % (24 * 60)
    return length or 24 * 60


def _not_midnight_end(value: str) -> str:
    if value == "24:00":
        raise ValueError("'24:00' ends a day; a start is 00:00 of the next")
    return value


StartClock = Annotated[Clock, AfterValidator(_not_midnight_end)]


class Shift(_Strict):
    """Sitters working ``start``..``end`` on a weekday; an ``end`` at or before ``start``
    runs into the next day (night sitting)."""

    start: StartClock
    end: Clock
    count: Count

    @property
    def length(self) -> int:
        return span_minutes(self.start, self.end)


class Provider(_Strict):
    provider_id: Id
    name: Name
    localities: list[Id]
    skills: list[Tag] = []
    base: Point
    max_travel_km: Km
    sitters: dict[str, list[Shift]]
    weekly_hours_cap: float = Field(ge=0, le=MAX_COUNT * 7 * 24)
    cost_per_hour_pence: Pence

    @field_validator("sitters")
    @classmethod
    def _weekdays(cls, sitters: dict[str, list[Shift]]) -> dict[str, list[Shift]]:
        for key in sitters:
            if key not in WEEKDAYS:
                raise ValueError(f"'{key}' is not a weekday key (mon..sun)")
        return sitters


class StayRequest(_Strict):
    request_id: Id
    case_id: Id
    kind: Literal["stay"] = "stay"
    priority: Priority
    received: Day
    nights: Nights
    earliest_start: Day
    latest_start: Day
    preferred_start: Day | None = None
    preferred_units: list[Id] = []
    max_travel_km: Km
    exceptional: bool = False  # a manager approved a spot bed whatever the priority
    exceptional_reason: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> StayRequest:
        if self.earliest_start > self.latest_start:
            after = f"{self.earliest_start} is after latest_start {self.latest_start}"
            field = "earliest_start"
            raise InvalidProblem([ProblemError("", field, after, (field,), subject=True)])
        if self.exceptional and not (self.exceptional_reason or "").strip():
            field = "exceptional_reason"
            missing = "is required when exceptional is true (why a manager approved a spot bed)"
            raise InvalidProblem([ProblemError("", field, missing, (field,))])
        return self


class Window(_Strict):
    """A visit may fall from ``start`` on ``day`` to ``end``; an ``end`` at or before
    ``start`` is on the next day (an overnight window, 22:00-07:00)."""

    day: Day
    start: StartClock
    end: Clock

    @property
    def length(self) -> int:
        return span_minutes(self.start, self.end)

    @property
    def overnight(self) -> bool:
        return minutes_of(self.start) + self.length > 24 * 60


class Visit(_Strict):
    visit_id: Id
    minutes: Minutes
    windows: list[Window] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits_a_window(self) -> Visit:
        if all(window.length < self.minutes for window in self.windows):
            raise ValueError(
                f"visit {self.visit_id} lasts {self.minutes} minutes, longer than all its windows"
            )
        return self


class SittingRequest(_Strict):
    request_id: Id
    case_id: Id
    kind: Literal["sitting"] = "sitting"
    priority: Priority
    received: Day
    visits: list[Visit] = Field(min_length=1)
    double_handed: bool = False
    max_travel_km: Km


Request = Annotated[StayRequest | SittingRequest, Field(discriminator="kind")]


class StayBooking(_Strict):
    booking_id: Id
    request_id: Id
    case_id: Id
    unit_id: Id
    bed_id: Id
    first_night: Day
    nights: Nights
    status: BookingStatus = "confirmed"
    extra_night_staff: Count = 0  # agency staff it was booked with, each of its nights

    @property
    def night_list(self) -> list[dt.date]:
        return [self.first_night + dt.timedelta(days=i) for i in range(self.nights)]


class VisitBooking(_Strict):
    booking_id: Id
    request_id: Id
    visit_id: Id
    case_id: Id
    provider_id: Id
    day: Day
    start: StartClock
    minutes: Minutes
    sitters: Literal[1, 2] = 1
    status: BookingStatus = "confirmed"


Booking = StayBooking | VisitBooking


class Budget(_Strict):
    budget_id: Id
    limit_pence: Pence
    applies_to: list[Id]


class Policy(_Strict):
    """The council's policy (spec: Policy). Every field has the default most councils run."""

    allowance_exempt: list[Priority] = ["crisis", "health_appointment"]
    spot_for: list[Priority] = ["crisis"]
    sitting_bank_weeks: Annotated[int, Field(ge=0, le=53)] = 4
    reserve_release_days: Annotated[int, Field(ge=0, le=MAX_NIGHTS)] = 2
    offer_hours: Annotated[int, Field(gt=0, le=24 * 28)] = 48

    def exempt(self, priority: str) -> bool:
        """Requests of ``priority`` draw on no planned allowance (H8)."""
        return priority in self.allowance_exempt

    def may_buy_spot(self, priority: str, exceptional: bool) -> bool:
        """A spot bed may be given to such a request (H12b)."""
        return exceptional or priority in self.spot_for


class Weights(_Strict):
    """Objective weights. Tiers are compared lexicographically, so every tier dominates
    the next whatever these are; they only shape the value *within* a tier.

    Served demand is measured in *units*: a sitting minute is 1 unit, a night is
    ``night_units`` units (60: a night counts as an hour of sitting).
    The fair-share need of a request (tier 2) is::

        need = need_base
             + need_allowance * (1 - used)
             + need_wait * min(days waiting since received, wait_cap_days) / wait_cap_days

    rounded to an integer, where ``used`` is the share of the case's allowance *of the
    request's kind* already had: for a stay, ``nights_used / nights_allowance``; for
    sitting, ``sitting_hours_recent / (4 * sitting_hours_per_week)`` (each 0 if there is
    no allowance, and at most 1). Tier 2 is::

        sum over served requests of need * (units served + break_bonus)
          + sum over cases of sitting need * min(sitting minutes served, 60 * first_sitting_hours)

    so each served request earns ``break_bonus`` units (``break_bonus_units``, default two
    nights' worth), and a case's first ``first_sitting_hours`` of sitting in the week count
    double: breaks are shared before they are lengthened.
    """

    night_units: Annotated[int, Field(gt=0, le=MAX_WEIGHT)] = 60
    need_base: Weight = 100
    need_allowance: Weight = 100
    need_wait: Weight = 50
    wait_cap_days: Annotated[int, Field(gt=0, le=MAX_WEIGHT)] = 56
    preferred_start: Weight = 3
    preferred_unit: Weight = 2
    continuity: Weight = 2
    change: Weight = 1
    break_bonus_units: Weight | None = None  # None: two nights' worth (2 x night_units)
    first_sitting_hours: float = Field(default=2, ge=0, le=7 * 24)

    @property
    def break_bonus(self) -> int:
        """Units each served request earns on top of what it serves (tier 2)."""
        if self.break_bonus_units is not None:
            return self.break_bonus_units
        return 2 * self.night_units


class Problem(_Strict):
    horizon: Horizon
    week_start: Day
    localities: list[Locality]
    cases: list[Case]
    units: list[Unit]
    providers: list[Provider]
    requests: list[Request]
    bookings: list[Annotated[StayBooking | VisitBooking, Field(union_mode="smart")]] = []
    budgets: list[Budget] = []
    policy: Policy = Policy()
    planned_on: Day | None = None  # None: horizon.first_night
    weights: Weights = Weights()

    @model_validator(mode="after")
    def _cross_references(self) -> Problem:
        errors = list(_problem_errors(self))
        if errors:
            raise InvalidProblem(errors)
        return self

    @property
    def planning_date(self) -> dt.date:
        """The day the plan is made: ``planned_on``, else the horizon's first night."""
        return self.planned_on or self.horizon.first_night

    def year_start(self, case: Case) -> dt.date:
        """The day ``case``'s allowance year began: its ``allowance_year_start``, else the
        1 April on or before :attr:`planning_date`."""
        return case.allowance_year_start or first_april_before(self.planning_date)

    def fresh_year(self, case: Case) -> dt.date:
        """The first night that counts in ``case``'s next allowance year (H8): the first
        anniversary of its year start after :attr:`planning_date`."""
        start = self.year_start(case)
        years = 1
        while anniversary(start, years) <= self.planning_date:
            years += 1
        return anniversary(start, years)

    # Lookups used everywhere; cheap to rebuild, so not cached on a mutable model.
    def case_by_id(self) -> dict[str, Case]:
        return {case.case_id: case for case in self.cases}

    def unit_by_id(self) -> dict[str, Unit]:
        return {unit.unit_id: unit for unit in self.units}

    def provider_by_id(self) -> dict[str, Provider]:
        return {provider.provider_id: provider for provider in self.providers}

    def request_by_id(self) -> dict[str, StayRequest | SittingRequest]:
        return {request.request_id: request for request in self.requests}


def _repeated(items: list[tuple[str, Location]]) -> list[tuple[str, Location]]:
    """Each id listed more than once, in the order first listed, with where it is repeated."""
    first: dict[str, int] = {}
    again: dict[str, Location] = {}
    for ident, path in items:
        if ident in first:
            again.setdefault(ident, path)
        else:
            first[ident] = len(first)
    return sorted(again.items(), key=lambda pair: first[pair[0]])


def _problem_errors(problem: Problem) -> Iterable[ProblemError]:
    if problem.week_start.weekday() != 0:
        monday = f"{problem.week_start} is not a Monday"
        yield ProblemError("", "week_start", monday, ("week_start",))
    yield from _duplicate_errors(problem)
    localities = {loc.locality_id for loc in problem.localities}
    cases = problem.case_by_id()
    units = problem.unit_by_id()
    providers = problem.provider_by_id()
    for at, case in enumerate(problem.cases):
        yield from _case_errors(
            _Item(f"case {case.case_id}", ("cases", at)), case, localities, cases, units, providers
        )
    for at, unit in enumerate(problem.units):
        yield from _unit_errors(_Item(f"unit {unit.unit_id}", ("units", at)), unit, localities)
    for at, provider in enumerate(problem.providers):
        where = _Item(f"provider {provider.provider_id}", ("providers", at))
        for loc in provider.localities:
            if loc not in localities:
                yield where.error("localities", f"'{loc}' is not a locality")
    for at, request in enumerate(problem.requests):
        yield from _request_errors(
            _Item(f"request {request.request_id}", ("requests", at)), request, cases, units
        )
    yield from _booking_errors(problem, cases, units, providers)
    yield from _budget_errors(problem, set(units) | set(providers))


def _unit_errors(where: _Item, unit: Unit, localities: set[str]) -> Iterable[ProblemError]:
    if unit.locality_id not in localities:
        yield where.error("locality_id", f"'{unit.locality_id}' is not a locality")
    if unit.age_min > unit.age_max:
        yield where.error("age_min", f"{unit.age_min} is above age_max {unit.age_max}")
    if unit.spot and unit.crisis_reserve_beds:
        yield where.error("crisis_reserve_beds", "is set on a spot unit, which has no block beds")
    elif unit.crisis_reserve_beds > unit.block_beds:
        many = f"{unit.crisis_reserve_beds} is more than the unit's {unit.block_beds} beds"
        yield where.error("crisis_reserve_beds", many)
    if unit.spot and unit.block_cost_per_year_pence:
        yield where.error(
            "block_cost_per_year_pence", "is set on a spot unit, which has no block contract"
        )


def _budget_errors(problem: Problem, owners: set[str]) -> Iterable[ProblemError]:
    for at, budget in enumerate(problem.budgets):
        where = _Item(f"budget {budget.budget_id}", ("budgets", at))
        for owner in budget.applies_to:
            if owner not in owners:
                yield where.error("applies_to", f"'{owner}' is not a unit or provider")


def _duplicate_errors(problem: Problem) -> Iterable[ProblemError]:
    tables: list[tuple[str, str, list[tuple[str, Location]]]] = [
        ("locality", "locality_id", _ids(problem.localities, "localities", "locality_id")),
        ("case", "case_id", _ids(problem.cases, "cases", "case_id")),
        ("unit", "unit_id", _ids(problem.units, "units", "unit_id")),
        ("provider", "provider_id", _ids(problem.providers, "providers", "provider_id")),
        ("request", "request_id", _ids(problem.requests, "requests", "request_id")),
        ("booking", "booking_id", _ids(problem.bookings, "bookings", "booking_id")),
        ("budget", "budget_id", _ids(problem.budgets, "budgets", "budget_id")),
        (
            "bed",
            "bed_id",
            [
                (bed.bed_id, ("units", u, "beds", b))
                for u, unit in enumerate(problem.units)
                for b, bed in enumerate(unit.beds)
            ],
        ),
    ]
    for noun, field, ids in tables:
        for duplicate, path in _repeated(ids):
            yield _Item(f"{noun} {duplicate}", path).error(field, "is listed more than once")
    for at, request in enumerate(problem.requests):
        if isinstance(request, SittingRequest):
            visits = _ids(request.visits, "visits", "visit_id")
            for duplicate, (_, v) in _repeated(visits):
                where = _Item(f"request {request.request_id}", ("requests", at, "visits", v))
                yield where.error("visit_id", f"'{duplicate}' is listed twice")


def _ids(items: Iterable[Any], name: str, key: str) -> list[tuple[str, Location]]:
    """The id of each item of the list ``name``, with where it is."""
    return [(getattr(item, key), (name, at)) for at, item in enumerate(items)]


def _case_errors(
    where: _Item,
    case: Case,
    localities: set[str],
    cases: dict[str, Case],
    units: dict[str, Unit],
    providers: dict[str, Provider],
) -> Iterable[ProblemError]:
    if case.locality_id not in localities:
        yield where.error("locality_id", f"'{case.locality_id}' is not a locality")
    for other in case.incompatible_with:
        if other not in cases:
            yield where.error("incompatible_with", f"'{other}' is not a case")
        elif other == case.case_id:
            yield where.error("incompatible_with", "names the case itself")
    if case.previous_unit_id is not None and case.previous_unit_id not in units:
        yield where.error("previous_unit_id", f"'{case.previous_unit_id}' is not a unit")
    if case.previous_provider_id is not None and case.previous_provider_id not in providers:
        yield where.error(
            "previous_provider_id", f"'{case.previous_provider_id}' is not a provider"
        )


def _request_errors(
    where: _Item,
    request: StayRequest | SittingRequest,
    cases: dict[str, Case],
    units: dict[str, Unit],
) -> Iterable[ProblemError]:
    if request.case_id not in cases:
        yield where.error("case_id", f"'{request.case_id}' is not a case")
    if isinstance(request, StayRequest):
        for unit_id in request.preferred_units:
            if unit_id not in units:
                yield where.error("preferred_units", f"'{unit_id}' is not a unit")
        if request.preferred_start is not None and not (
            request.earliest_start <= request.preferred_start <= request.latest_start
        ):
            outside = f"{request.preferred_start} is outside earliest_start..latest_start"
            yield where.error("preferred_start", outside)


def _booking_errors(
    problem: Problem,
    cases: dict[str, Case],
    units: dict[str, Unit],
    providers: dict[str, Provider],
) -> Iterable[ProblemError]:
    requests = problem.request_by_id()
    for at, booking in enumerate(problem.bookings):
        where = _Item(f"booking {booking.booking_id}", ("bookings", at))
        if booking.case_id not in cases:
            yield where.error("case_id", f"'{booking.case_id}' is not a case")
        request = requests.get(booking.request_id)
        if request is None:
            yield where.error("request_id", f"'{booking.request_id}' is not a request")
        elif request.case_id != booking.case_id:
            yield where.error("request_id", f"'{booking.request_id}' belongs to another case")
        if isinstance(booking, StayBooking):
            yield from _stay_booking_errors(where, booking, units)
        else:
            yield from _visit_booking_errors(where, booking, request, providers)


def _stay_booking_errors(
    where: _Item, booking: StayBooking, units: dict[str, Unit]
) -> Iterable[ProblemError]:
    unit = units.get(booking.unit_id)
    if unit is None:
        yield where.error("unit_id", f"'{booking.unit_id}' is not a unit")
    elif booking.bed_id not in {bed.bed_id for bed in unit.beds}:
        yield where.error("bed_id", f"'{booking.bed_id}' is not a bed of {booking.unit_id}")


def _visit_booking_errors(
    where: _Item,
    booking: VisitBooking,
    request: StayRequest | SittingRequest | None,
    providers: dict[str, Provider],
) -> Iterable[ProblemError]:
    if isinstance(request, SittingRequest) and booking.visit_id not in {
        v.visit_id for v in request.visits
    }:
        yield where.error("visit_id", f"'{booking.visit_id}' is not a visit of its request")
    if booking.provider_id not in providers:
        yield where.error("provider_id", f"'{booking.provider_id}' is not a provider")


# ---------------------------------------------------------------------------- plan


class PlannedStay(_Strict):
    request_id: Id
    case_id: Id
    unit_id: Id
    bed_id: Id
    first_night: Day
    nights: Nights
    extra_night_staff: Count = 0  # agency staff added for this stay, each of its nights

    @property
    def night_list(self) -> list[dt.date]:
        return [self.first_night + dt.timedelta(days=i) for i in range(self.nights)]


class PlannedVisit(_Strict):
    request_id: Id
    visit_id: Id
    case_id: Id
    provider_id: Id
    day: Day
    start: StartClock
    minutes: Minutes
    sitters: Literal[1, 2] = 1


class ExtraStaff(_Strict):
    """Agency night staff the plan adds in a unit on a night (H5)."""

    unit_id: Id
    night: Day
    count: Annotated[int, Field(gt=0, le=MAX_COUNT)]


class Alternative(_Strict):
    """The nearest change that would serve an unmet request (or visit): a sentence, what
    of the request it asks to change, and the exact placement. Added alone to the plan it
    breaks no hard rule but what ``relaxes`` names (``respite check`` verifies it)."""

    text: str
    relaxes: list[Relaxation] = []
    stay: PlannedStay | None = None
    visit: PlannedVisit | None = None


class Unmet(_Strict):
    request_id: Id
    visit_id: Id | None = None
    reason: UnmetReason
    detail: str
    alternative: Alternative | None = None

    @field_validator("alternative", mode="before")
    @classmethod
    def _sentence_only(cls, value: Any) -> Any:
        """A v1 plan's alternative was a sentence alone: it reads as one with no placement."""
        return {"text": value} if isinstance(value, str) else value


class Kpis(BaseModel):
    """The KPI block: the spec's named figures, and any others an engine adds."""

    model_config = ConfigDict(extra="allow")

    nights_requested: NonNegInt = 0
    nights_served: NonNegInt = 0
    sitting_minutes_requested: NonNegInt = 0
    sitting_minutes_served: NonNegInt = 0
    crisis_served_ratio: float = 0.0
    bed_occupancy: float = 0.0
    sitter_utilisation: float = 0.0
    cost_pence: NonNegInt = 0
    travel_km: float = 0.0


TierResult = dict[str, int | float | None]  # "value", "bound", "gap" of one tier
StageResult = dict[str, str | int | None]  # "tiers", "value", "bound", "lp_bound", "status"

# What a solve adds (scheduler.allocate); a plan made otherwise (by hand, by a test) has
# none of them, and its JSON leaves them out as before they were declared.
_SOLVE_DETAILS = ("tiers", "stages", "gap_all_tiers", "notes", "lp_seconds")


class SolverInfo(BaseModel):
    """How the plan was made: the engine, its status (a ``solver.solution.SolveStatus``
    value) and, from a solve, each tier's value and bound, each stage's report, the
    engine's notes and the seconds its LP bounds took."""

    model_config = ConfigDict(extra="allow")

    engine: str
    status: str
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    seconds: float = 0.0
    seed: int | None = None
    tiers: dict[str, TierResult] | None = None  # by tier name, most important first
    stages: list[StageResult] | None = None
    gap_all_tiers: float | None = None  # the largest gap of every tier, not only service
    notes: list[str] | None = None
    lp_seconds: float | None = None

    @model_serializer(mode="wrap")
    def _without_unset_details(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        for name in _SOLVE_DETAILS:
            if name not in self.model_fields_set:
                data.pop(name, None)
        return data


class Plan(_Strict):
    stays: list[PlannedStay] = []
    visits: list[PlannedVisit] = []
    extra_staff: list[ExtraStaff] = []
    unmet: list[Unmet] = []
    kpis: Kpis = Kpis()
    solver: SolverInfo


def problem_json_schema() -> dict[str, Any]:
    return Problem.model_json_schema()


def plan_json_schema() -> dict[str, Any]:
    return Plan.model_json_schema()
