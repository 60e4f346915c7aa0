"""Problems in and out of the database: import, export, and the problems runs
and booking checks are built from."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.clock import utcnow
from api.db import Database
from api.errors import Conflict, InvalidInput, NotFound
from api.repositories import (
    AuditRepository,
    BookingRepository,
    BudgetRepository,
    CaseRepository,
    LocalityRepository,
    PlanningRepository,
    ProviderRepository,
    RequestRepository,
    UnitRepository,
)
from api.repositories.bookings import to_booking
from api.repositories.items import ItemRepository
from api.repositories.planning import ProblemSettings
from api.schemas import ImportResult
from scheduler.files import load_problem
from scheduler.model import (
    BUILT,
    Case,
    Horizon,
    InvalidProblem,
    Policy,
    Problem,
    SittingRequest,
    StayRequest,
    Weights,
)

__all__ = ["Neighbourhood", "ProblemService", "build_problem", "problem_around"]


class ProblemService:
    """Import a whole problem file, and export it back unchanged."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def import_problem(self, data: dict[str, Any], *, replace: bool, actor: str) -> ImportResult:
        """Store ``data`` (a problem file) as the planning data, in one transaction.

        Raises
        ------
        InvalidInput
            The file breaks the contract; ``detail`` names each item and field.
        Conflict
            Planning data exists and ``replace`` is false, or the file's bookings
            double-book a bed-night or a request.
        """
        problem = _validated(data)
        try:
            with self.db.write() as session:
                planning = PlanningRepository(session)
                if not planning.is_empty() and not replace:
                    raise Conflict("planning data exists already; import with ?replace=true")
                planning.clear()
                _store(session, problem)
                AuditRepository(session).record(
                    actor=actor,
                    action="import",
                    entity="problem",
                    entity_id="problem",
                    before=None,
                    after={"counts": _counts(problem).model_dump()},
                    now=utcnow(),
                )
        except IntegrityError as exc:
            raise Conflict(f"the problem's bookings overlap: {exc.orig}") from None
        return _counts(problem)

    def export_problem(self) -> Problem:
        """The stored problem, confirmed and offered bookings included.

        Raises
        ------
        NotFound
            Nothing has been imported.
        """
        with self.db.read() as session:
            settings = PlanningRepository(session).settings()
            if settings is None:
                raise NotFound("no problem has been imported yet")
            bookings = BookingRepository(session).confirmed_all()
            return _assemble(session, settings, bookings=bookings)


def build_problem(session: Session, week_start: dt.date | None, horizon: Horizon | None) -> Problem:
    """The problem an allocation run solves: everything stored, with the confirmed and
    offered bookings that touch the horizon pinned, under the stored policy.

    Raises
    ------
    InvalidInput
        No problem imported and no dates given, or the stored data breaks the contract.
    """
    settings = run_dates(session, week_start, horizon)
    bookings = BookingRepository(session).overlapping(
        settings.horizon.first_night, settings.horizon.last_night
    )
    return _assemble(session, settings, bookings=bookings)


def run_dates(
    session: Session, week_start: dt.date | None, horizon: Horizon | None
) -> ProblemSettings:
    """The settings a run plans under: the sitting week and horizon given, else those
    stored; the stored planned_on, policy and weights.

    A run given other nights than those imported is planned on the stored
    ``planned_on`` if it was stated, else on its own horizon's first night.

    Raises
    ------
    InvalidInput
        No problem imported and no dates given.
    """
    stored = PlanningRepository(session).settings()
    if stored is None:
        if week_start is None or horizon is None:
            raise InvalidInput("week_start and horizon are needed: no problem has been imported")
        return ProblemSettings(horizon=horizon, week_start=week_start)
    return dataclasses.replace(
        stored, horizon=horizon or stored.horizon, week_start=week_start or stored.week_start
    )


@dataclass
class Neighbourhood:
    """What a booking check must see: the cases, units and providers involved."""

    case_ids: set[str] = field(default_factory=set)
    unit_ids: set[str] = field(default_factory=set)
    provider_ids: set[str] = field(default_factory=set)
    request_ids: set[str] = field(default_factory=set)
    nights: set[dt.date] = field(default_factory=set)


def problem_around(session: Session, around: Neighbourhood, week_start: dt.date) -> Problem:
    """A problem holding just what the hard rules need to judge new bookings
    for ``around``: its cases, units and providers, every confirmed or offered
    booking of theirs, the budgets over them, and the stored policy and planned_on.

    Items outside (other cases, units, providers) are left out; references to
    them that only steer the objective are dropped.
    """
    planning = PlanningRepository(session)
    stored = planning.settings()
    horizon = _covering(stored.horizon if stored else None, around.nights)
    budgets = [
        budget
        for budget in BudgetRepository(session).all()
        if set(budget.applies_to) & (around.unit_ids | around.provider_ids)
    ]
    owners = {owner for budget in budgets for owner in budget.applies_to}
    around.unit_ids |= planning.existing_ids("unit", owners)
    around.provider_ids |= planning.existing_ids("provider", owners)
    bookings = [
        row
        for row in BookingRepository(session).confirmed(
            case_ids=around.case_ids, unit_ids=around.unit_ids, provider_ids=around.provider_ids
        )
        if _touches(row.first_night, row.nights, row.day, horizon)
    ]
    for row in bookings:
        around.case_ids.add(row.case_id)
        around.request_ids.add(row.request_id)
        (around.unit_ids if row.kind == "stay" else around.provider_ids).add(
            (row.unit_id if row.kind == "stay" else row.provider_id) or ""
        )
    problem = Problem.model_construct(
        horizon=horizon,
        week_start=week_start,
        localities=LocalityRepository(session).all(),
        cases=[_within(case, around) for case in CaseRepository(session).all(around.case_ids)],
        units=UnitRepository(session).all(around.unit_ids),
        providers=ProviderRepository(session).all(around.provider_ids),
        requests=[
            _request_within(r, around) for r in RequestRepository(session).all(around.request_ids)
        ],
        bookings=[to_booking(row) for row in bookings],
        budgets=budgets,
        policy=stored.policy if stored else Policy(),
        planned_on=stored.planned_on if stored else None,
        weights=stored.weights if stored else Weights(),
    )
    return _revalidated(problem)


# ---------------------------------------------------------------------------- helpers


def _validated(data: dict[str, Any]) -> Problem:
    try:
        return load_problem(data)
    except InvalidProblem as exc:
        detail = "; ".join(str(error) for error in exc.errors)
        raise InvalidInput(detail, errors=exc.errors) from None


def _revalidated(problem: Problem) -> Problem:
    try:
        return Problem.model_validate(problem.model_dump(), context={BUILT: True})
    except (InvalidProblem, ValueError) as exc:
        raise InvalidInput(f"the stored planning data is inconsistent: {exc}") from None


def _store(session: Session, problem: Problem) -> None:
    PlanningRepository(session).save_settings(ProblemSettings.of(problem))
    for table, repository in _REPOSITORIES.items():
        items = repository(session)
        for position, item in enumerate(getattr(problem, table)):
            items.add(item, position)
        session.flush()
    bookings = BookingRepository(session)
    now = utcnow()
    for booking in problem.bookings:
        bookings.add(booking, run_id=None, now=now)


_REPOSITORIES: dict[str, type[ItemRepository[Any]]] = {
    "localities": LocalityRepository,
    "cases": CaseRepository,
    "units": UnitRepository,
    "providers": ProviderRepository,
    "requests": RequestRepository,
    "budgets": BudgetRepository,
}


def _assemble(session: Session, settings: ProblemSettings, *, bookings: Iterable[Any]) -> Problem:
    problem = Problem.model_construct(
        horizon=settings.horizon,
        week_start=settings.week_start,
        localities=LocalityRepository(session).all(),
        cases=CaseRepository(session).all(),
        units=UnitRepository(session).all(),
        providers=ProviderRepository(session).all(),
        requests=RequestRepository(session).all(),
        bookings=[to_booking(row) for row in bookings],
        budgets=BudgetRepository(session).all(),
        policy=settings.policy,
        planned_on=settings.planned_on,
        weights=settings.weights,
    )
    return _revalidated(problem)


def _counts(problem: Problem) -> ImportResult:
    return ImportResult(
        localities=len(problem.localities),
        cases=len(problem.cases),
        units=len(problem.units),
        beds=sum(len(unit.beds) for unit in problem.units),
        providers=len(problem.providers),
        requests=len(problem.requests),
        bookings=len(problem.bookings),
        budgets=len(problem.budgets),
    )


def _covering(stored: Horizon | None, nights: set[dt.date]) -> Horizon:
    dates = set(nights)
    if stored is not None:
        dates |= {stored.first_night, stored.last_night}
    # Built, not read: the nights in question may lie years from the stored horizon (a
    # year of bookings, a night changed far ahead), beyond what a problem file may ask
    # for (MAX_NIGHTS); the rules judge it all the same.
    span = {"first_night": min(dates), "last_night": max(dates)}
    return Horizon.model_validate(span, context={BUILT: True})


def _touches(
    first_night: dt.date | None, nights: int | None, day: dt.date | None, horizon: Horizon
) -> bool:
    if day is not None:
        return horizon.first_night <= day <= horizon.last_night
    if first_night is None or nights is None:
        return False
    last_night = first_night + dt.timedelta(days=nights - 1)
    return first_night <= horizon.last_night and last_night >= horizon.first_night


def _within(case: Case, around: Neighbourhood) -> Case:
    # Cases outside hold no stays in these units, so H4 cannot involve them.
    return case.model_copy(
        update={
            "incompatible_with": [c for c in case.incompatible_with if c in around.case_ids],
            "previous_unit_id": case.previous_unit_id
            if case.previous_unit_id in around.unit_ids
            else None,
            "previous_provider_id": case.previous_provider_id
            if case.previous_provider_id in around.provider_ids
            else None,
        }
    )


def _request_within(
    request: StayRequest | SittingRequest, around: Neighbourhood
) -> StayRequest | SittingRequest:
    if isinstance(request, SittingRequest):
        return request
    preferred = [unit_id for unit_id in request.preferred_units if unit_id in around.unit_ids]
    return request.model_copy(update={"preferred_units": preferred})
