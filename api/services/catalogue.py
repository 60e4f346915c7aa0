"""Planning items one at a time: localities, cases, units, providers, requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import Principal
from api.clock import utcnow
from api.db import Database
from api.errors import Conflict, InvalidInput, NotFound
from api.repositories import (
    AuditRepository,
    BookingRepository,
    CaseRepository,
    LocalityRepository,
    PlanningRepository,
    ProviderRepository,
    RequestRepository,
    UnitRepository,
)
from api.repositories.base import Page
from api.repositories.bookings import BookingFilter, to_booking
from api.repositories.items import ItemRepository
from api.schemas import CapacityWarning, ProviderChanged, UnitChanged, UnitTermsIn
from api.services.bookings import monday_of
from api.services.problems import Neighbourhood, problem_around
from api.services.rules import Booking, Breach, breaches_after_change
from scheduler.model import (
    Case,
    Locality,
    Provider,
    Shift,
    SittingRequest,
    StayBooking,
    StayRequest,
    Unit,
    VisitBooking,
    _Item,
    _unit_errors,
)

__all__ = ["CatalogueService"]

T = TypeVar("T")
AnyRequest = StayRequest | SittingRequest
_REPOSITORIES: dict[str, type[ItemRepository[Any]]] = {
    "locality": LocalityRepository,
    "case": CaseRepository,
    "unit": UnitRepository,
    "provider": ProviderRepository,
    "request": RequestRepository,
}


class CatalogueService:
    """Create, list and read planning items; every write is audited."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------ reads

    def localities(self, limit: int, offset: int) -> Page[Locality]:
        return self._read(lambda session: LocalityRepository(session).page(limit, offset))

    def cases(self, locality_id: str | None, limit: int, offset: int) -> Page[Case]:
        return self._read(lambda session: CaseRepository(session).page(locality_id, limit, offset))

    def case(self, case_id: str) -> Case:
        return _found(
            self._read(lambda session: CaseRepository(session).get(case_id)), "case", case_id
        )

    def units(
        self,
        principal: Principal,
        locality_id: str | None,
        spot: bool | None,
        limit: int,
        offset: int,
    ) -> Page[Unit]:
        if principal.is_provider:  # a provider key sees its own unit, if any
            mine = [self.unit(principal, principal.unit_id)] if principal.unit_id else []
            return Page(mine, len(mine))
        return self._read(
            lambda session: UnitRepository(session).page(locality_id, spot, limit, offset)
        )

    def unit(self, principal: Principal, unit_id: str) -> Unit:
        if not principal.sees_unit(unit_id):
            raise NotFound(f"unit {unit_id} does not exist")
        return _found(
            self._read(lambda session: UnitRepository(session).get(unit_id)), "unit", unit_id
        )

    def providers(
        self,
        principal: Principal,
        locality_id: str | None,
        skill: str | None,
        limit: int,
        offset: int,
    ) -> Page[Provider]:
        if principal.is_provider:
            mine = (
                [self.provider(principal, principal.provider_id)] if principal.provider_id else []
            )
            return Page(mine, len(mine))
        return self._read(
            lambda session: ProviderRepository(session).page(locality_id, skill, limit, offset)
        )

    def provider(self, principal: Principal, provider_id: str) -> Provider:
        if not principal.sees_provider(provider_id):
            raise NotFound(f"provider {provider_id} does not exist")
        found = self._read(lambda session: ProviderRepository(session).get(provider_id))
        return _found(found, "provider", provider_id)

    def requests(self, limit: int, offset: int, **filters: Any) -> Page[AnyRequest]:
        return self._read(
            lambda session: RequestRepository(session).page(limit=limit, offset=offset, **filters)
        )

    def request(self, request_id: str) -> AnyRequest:
        found: AnyRequest | None = self._read(
            lambda session: RequestRepository(session).get(request_id)
        )
        if found is None:
            raise NotFound(f"request {request_id} does not exist")
        return found

    # ------------------------------------------------------------ writes

    def add_locality(self, principal: Principal, locality: Locality) -> Locality:
        return self._add(principal, "locality", locality.locality_id, locality, _no_refs)

    def add_case(self, principal: Principal, case: Case) -> Case:
        return self._add(principal, "case", case.case_id, case, _case_refs)

    def add_unit(self, principal: Principal, unit: Unit) -> Unit:
        return self._add(principal, "unit", unit.unit_id, unit, _unit_refs)

    def add_provider(self, principal: Principal, provider: Provider) -> Provider:
        return self._add(principal, "provider", provider.provider_id, provider, _provider_refs)

    def add_request(self, principal: Principal, request: AnyRequest) -> AnyRequest:
        self._add(principal, "request", request.request_id, request, _request_refs)
        return request

    def set_night_staff(
        self, principal: Principal, unit_id: str, night: dt.date, staff: int | None
    ) -> UnitChanged:
        """Change the staff on duty one night (None: back to the unit's default).

        The answer warns of each confirmed stay that the change leaves breaking
        a hard rule (H5: too few staff for the residents that night).
        """
        with self.db.write() as session:
            units = UnitRepository(session)
            before = _found(units.get(unit_id), "unit", unit_id)

            def where() -> Neighbourhood:  # problem_around adds to it
                return Neighbourhood(unit_ids={unit_id}, nights={night})

            problem_before = problem_around(session, where(), monday_of(night))
            units.set_night_staff(unit_id, night, staff)
            session.flush()
            after = _found(units.get(unit_id), "unit", unit_id)
            _audit(session, principal, "change", "unit", unit_id, before, after)
            problem_after = problem_around(session, where(), monday_of(night))

        def staying(booking: Booking) -> dt.date | None:
            if isinstance(booking, StayBooking) and booking.unit_id == unit_id:
                return night if night in booking.night_list else None
            return None

        breaches = breaches_after_change(problem_before, problem_after, staying, shared=True)
        return UnitChanged(**after.model_dump(), warnings=_warnings(breaches))

    def set_unit_terms(self, principal: Principal, unit_id: str, terms: UnitTermsIn) -> UnitChanged:
        """Change a unit's block contract, crisis reserve or agency night staff.

        Validated as the unit in a problem file is (422 naming the field). The answer
        warns of each stay booked there that the change leaves breaking a hard rule
        (fewer agency staff allowed than booked, H5; a larger reserve, H13).
        """
        with self.db.write() as session:
            units = UnitRepository(session)
            before = _found(units.get(unit_id), "unit", unit_id)
            changes = terms.model_dump(exclude_unset=True, exclude_none=True)
            after = _validated(Unit, {**before.model_dump(), **changes})
            _refuse_unit_errors(after)
            stays = [
                to_booking(row)
                for row in BookingRepository(session).confirmed(unit_ids=[unit_id])
                if row.kind == "stay"
            ]
            nights = {n for stay in stays if isinstance(stay, StayBooking) for n in stay.night_list}
            week = monday_of(min(nights)) if nights else None

            def where() -> Neighbourhood:
                return Neighbourhood(unit_ids={unit_id}, nights=set(nights))

            problem_before = problem_around(session, where(), week) if week else None
            units.set_terms(after)
            session.flush()
            _audit(session, principal, "change", "unit", unit_id, before, after)
            problem_after = problem_around(session, where(), week) if week else None

        def staying(booking: Booking) -> str | None:
            if isinstance(booking, StayBooking) and booking.unit_id == unit_id:
                return unit_id
            return None

        breaches = (
            breaches_after_change(problem_before, problem_after, staying)
            if problem_before and problem_after
            else []
        )
        return UnitChanged(**after.model_dump(), warnings=_warnings(breaches))

    def set_rota(
        self, principal: Principal, provider_id: str, sitters: dict[str, list[Shift]]
    ) -> ProviderChanged:
        """Replace a provider's sitter rota.

        The answer warns of each confirmed visit that the new rota leaves
        breaking a hard rule (H9: more sitters busy than on shift).
        """
        with self.db.write() as session:
            providers = ProviderRepository(session)
            before = _found(providers.get(provider_id), "provider", provider_id)
            after = _validated(Provider, {**before.model_dump(), "sitters": sitters})
            visited = BookingRepository(session).confirmed(provider_ids=[provider_id])
            days = {row.day for row in visited if row.day is not None}
            week = monday_of(min(days)) if days else None

            def where() -> Neighbourhood:
                return Neighbourhood(provider_ids={provider_id}, nights=set(days))

            problem_before = problem_around(session, where(), week) if week else None
            providers.set_rota(after)
            session.flush()
            _audit(session, principal, "change", "provider", provider_id, before, after)
            problem_after = problem_around(session, where(), week) if week else None

        def visiting(booking: Booking) -> dt.date | None:
            if isinstance(booking, VisitBooking) and booking.provider_id == provider_id:
                return booking.day
            return None

        breaches = (
            breaches_after_change(problem_before, problem_after, visiting)
            if problem_before and problem_after
            else []
        )
        return ProviderChanged(**after.model_dump(), warnings=_warnings(breaches))

    def withdraw_request(self, principal: Principal, request_id: str) -> None:
        """Delete a request nobody is booked for."""
        with self.db.write() as session:
            requests = RequestRepository(session)
            before = _found(requests.get(request_id), "request", request_id)
            booked = BookingRepository(session).page(BookingFilter(request_id=request_id), 1, 0)
            if booked.total:
                raise Conflict(f"request {request_id} has confirmed bookings; cancel them first")
            requests.delete(request_id)
            _audit(session, principal, "delete", "request", request_id, before, None)

    # ------------------------------------------------------------ helpers

    def _read(self, query: Callable[[Session], T]) -> T:
        with self.db.read() as session:
            return query(session)

    def _add(
        self,
        principal: Principal,
        noun: str,
        item_id: str,
        item: T,
        references: Callable[[PlanningRepository, Any], None],
    ) -> T:
        try:
            with self.db.write() as session:
                repo = PlanningRepository(session)
                if repo.existing_ids(noun, [item_id]):
                    raise Conflict(f"{noun} {item_id} exists already")
                references(repo, item)
                _REPOSITORIES[noun](session).add(item)
                session.flush()
                _audit(session, principal, "create", noun, item_id, None, item)
        except IntegrityError as exc:
            raise Conflict(f"{noun} {item_id} clashes with stored data: {exc.orig}") from None
        return item


def _warnings(breaches: list[Breach]) -> list[CapacityWarning]:
    """One warning per booking and rule: the first breach's words, and how many more."""
    by_booking: dict[tuple[str, str], list[str]] = {}
    for breach in breaches:
        key = (breach.booking_id, breach.violation.rule)
        by_booking.setdefault(key, []).append(breach.violation.message)
    return [
        CapacityWarning(
            booking_id=booking_id,
            rule=rule,
            detail=messages[0] + (f" (and {len(messages) - 1} more)" if messages[1:] else ""),
        )
        for (booking_id, rule), messages in by_booking.items()
    ]


def _found(item: T | None, noun: str, item_id: str | None) -> T:
    if item is None:
        raise NotFound(f"{noun} {item_id} does not exist")
    return item


def _validated(model: type[T], data: dict[str, Any]) -> T:
    try:
        return model.model_validate(data)  # type: ignore[attr-defined,no-any-return]
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _audit(
    session: Any,
    principal: Principal,
    action: str,
    entity: str,
    entity_id: str,
    before: Any,
    after: Any,
) -> None:
    AuditRepository(session).record(
        actor=principal.actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=None if before is None else before.model_dump(mode="json"),
        after=None if after is None else after.model_dump(mode="json"),
        now=utcnow(),
    )


def _require(repo: PlanningRepository, noun: str, field: str, ids: list[str]) -> None:
    missing = sorted(set(ids) - repo.existing_ids(noun, ids))
    if missing:
        raise InvalidInput(f"{field}: '{missing[0]}' is not a {noun}")


def _no_refs(_repo: PlanningRepository, _item: Any) -> None:
    return None


def _case_refs(repo: PlanningRepository, case: Case) -> None:
    _require(repo, "locality", "locality_id", [case.locality_id])
    _require(repo, "case", "incompatible_with", case.incompatible_with)
    _require(
        repo, "unit", "previous_unit_id", [case.previous_unit_id] if case.previous_unit_id else []
    )
    previous = [case.previous_provider_id] if case.previous_provider_id else []
    _require(repo, "provider", "previous_provider_id", previous)


def _unit_refs(repo: PlanningRepository, unit: Unit) -> None:
    _require(repo, "locality", "locality_id", [unit.locality_id])
    _refuse_unit_errors(unit)
    taken = repo.existing_ids("bed", [bed.bed_id for bed in unit.beds])
    if taken:
        raise Conflict(f"bed {sorted(taken)[0]} exists already")


def _refuse_unit_errors(unit: Unit) -> None:
    """422 for what a problem file would refuse in the unit alone, in the file's words
    (a crisis reserve beyond its block beds, a block contract on a spot unit): the same
    rules, from the same function, as an import."""
    where = _Item(f"unit {unit.unit_id}", ())
    errors = [
        error
        for error in _unit_errors(where, unit, {unit.locality_id})
        if error.field != "locality_id"  # checked against the stored localities above
    ]
    if errors:
        raise InvalidInput("; ".join(str(error) for error in errors), errors=errors)


def _provider_refs(repo: PlanningRepository, provider: Provider) -> None:
    _require(repo, "locality", "localities", provider.localities)


def _request_refs(repo: PlanningRepository, request: AnyRequest) -> None:
    _require(repo, "case", "case_id", [request.case_id])
    if isinstance(request, StayRequest):
        _require(repo, "unit", "preferred_units", request.preferred_units)
