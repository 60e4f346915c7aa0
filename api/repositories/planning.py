"""Planning data: localities, cases, units with beds and night staff, providers,
requests, budgets and the problem-wide settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.repositories.base import Page, next_position, page_of
from api.tables import (
    BedNightRow,
    BedRow,
    BookingRow,
    BudgetRow,
    CaseRow,
    LocalityRow,
    NightStaffRow,
    PlanningRow,
    ProviderRow,
    RequestRow,
    ServedPartRow,
    UnitRow,
)
from scheduler.model import (
    Bed,
    Budget,
    Case,
    Horizon,
    Locality,
    Provider,
    SittingRequest,
    StayRequest,
    Unit,
    Weights,
)

__all__ = ["PlanningRepository"]

AnyRequest = StayRequest | SittingRequest
_ID_COLUMNS = {
    "locality": LocalityRow.locality_id,
    "case": CaseRow.case_id,
    "unit": UnitRow.unit_id,
    "bed": BedRow.bed_id,
    "provider": ProviderRow.provider_id,
    "request": RequestRow.request_id,
    "budget": BudgetRow.budget_id,
}


def _request_from(body: dict[str, Any]) -> AnyRequest:
    model = StayRequest if body.get("kind") == "stay" else SittingRequest
    return model.model_validate(body)


class PlanningRepository:
    """Reads and writes the planning data that problems are built from."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # ------------------------------------------------------------ whole problem

    def is_empty(self) -> bool:
        """True when nothing has been imported or created yet."""
        return self.session.scalar(select(LocalityRow.locality_id).limit(1)) is None

    def clear(self) -> None:
        """Delete every planning item and booking (runs, keys and audit stay)."""
        for table in (
            BedNightRow,
            ServedPartRow,
            BookingRow,
            RequestRow,
            BudgetRow,
            NightStaffRow,
            BedRow,
            UnitRow,
            ProviderRow,
            CaseRow,
            LocalityRow,
            PlanningRow,
        ):
            self.session.execute(delete(table))

    def save_settings(self, horizon: Horizon, week_start: dt.date, weights: Weights) -> None:
        """Store the horizon, week and weights of the imported problem."""
        row = self.session.get(PlanningRow, 1) or PlanningRow(planning_id=1)
        row.first_night, row.last_night = horizon.first_night, horizon.last_night
        row.week_start = week_start
        row.weights = weights.model_dump(mode="json")
        self.session.add(row)

    def settings(self) -> tuple[Horizon, dt.date, Weights] | None:
        """The stored horizon, week and weights, or None before any import."""
        row = self.session.get(PlanningRow, 1)
        if row is None:
            return None
        horizon = Horizon(first_night=row.first_night, last_night=row.last_night)
        return horizon, row.week_start, Weights.model_validate(row.weights)

    def existing_ids(self, noun: str, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that name a stored ``noun`` ("case", "unit", "bed", ...)."""
        wanted = set(ids)
        if not wanted:
            return set()
        column = _ID_COLUMNS[noun]
        return set(self.session.scalars(select(column).where(column.in_(wanted))))

    # ------------------------------------------------------------ localities

    def add_locality(self, locality: Locality, position: int | None = None) -> None:
        if position is None:
            position = next_position(self.session, LocalityRow.position)
        self.session.add(LocalityRow(**locality.model_dump(), position=position))

    def localities(self) -> list[Locality]:
        rows = self.session.scalars(select(LocalityRow).order_by(LocalityRow.position))
        return [Locality(locality_id=r.locality_id, name=r.name) for r in rows]

    def locality_page(self, limit: int, offset: int) -> Page[Locality]:
        query = select(LocalityRow).order_by(LocalityRow.position)
        page = page_of(self.session, query, limit, offset)
        items = [Locality(locality_id=r.locality_id, name=r.name) for r in page.items]
        return Page(items, page.total)

    # ------------------------------------------------------------ cases

    def add_case(self, case: Case, position: int | None = None) -> None:
        if position is None:
            position = next_position(self.session, CaseRow.position)
        body = case.model_dump(mode="json")
        self.session.add(
            CaseRow(
                case_id=case.case_id, locality_id=case.locality_id, position=position, body=body
            )
        )

    def case(self, case_id: str) -> Case | None:
        row = self.session.get(CaseRow, case_id)
        return None if row is None else Case.model_validate(row.body)

    def cases(self, case_ids: Iterable[str] | None = None) -> list[Case]:
        query = select(CaseRow).order_by(CaseRow.position)
        if case_ids is not None:
            query = query.where(CaseRow.case_id.in_(set(case_ids)))
        return [Case.model_validate(row.body) for row in self.session.scalars(query)]

    def case_page(self, locality_id: str | None, limit: int, offset: int) -> Page[Case]:
        query = select(CaseRow).order_by(CaseRow.position)
        if locality_id is not None:
            query = query.where(CaseRow.locality_id == locality_id)
        page = page_of(self.session, query, limit, offset)
        return Page([Case.model_validate(row.body) for row in page.items], page.total)

    # ------------------------------------------------------------ units

    def add_unit(self, unit: Unit, position: int | None = None) -> None:
        if position is None:
            position = next_position(self.session, UnitRow.position)
        body = unit.model_dump(mode="json", exclude={"beds", "night_staff"})
        self.session.add(
            UnitRow(
                unit_id=unit.unit_id,
                locality_id=unit.locality_id,
                spot=unit.spot,
                position=position,
                body=body,
            )
        )
        self.session.flush()
        for bed_idx, bed in enumerate(unit.beds):
            self.session.add(
                BedRow(
                    bed_id=bed.bed_id,
                    unit_id=unit.unit_id,
                    position=bed_idx,
                    features=list(bed.features),
                )
            )
        for night, staff in unit.night_staff.items():
            self.session.add(NightStaffRow(unit_id=unit.unit_id, night=night, staff=staff))

    def unit(self, unit_id: str) -> Unit | None:
        units = self._units(select(UnitRow).where(UnitRow.unit_id == unit_id))
        return units[0] if units else None

    def units(self, unit_ids: Iterable[str] | None = None) -> list[Unit]:
        query = select(UnitRow).order_by(UnitRow.position)
        if unit_ids is not None:
            query = query.where(UnitRow.unit_id.in_(set(unit_ids)))
        return self._units(query)

    def unit_page(
        self, locality_id: str | None, spot: bool | None, limit: int, offset: int
    ) -> Page[Unit]:
        query = select(UnitRow).order_by(UnitRow.position)
        if locality_id is not None:
            query = query.where(UnitRow.locality_id == locality_id)
        if spot is not None:
            query = query.where(UnitRow.spot == spot)
        page = page_of(self.session, query, limit, offset)
        ids = [row.unit_id for row in page.items]
        return Page(self.units(ids), page.total)

    def set_night_staff(self, unit_id: str, night: dt.date, staff: int | None) -> None:
        """Set the staff on duty one night; None goes back to the unit's default."""
        row = self.session.get(NightStaffRow, (unit_id, night))
        if staff is None:
            if row is not None:
                self.session.delete(row)
            return
        if row is None:
            self.session.add(NightStaffRow(unit_id=unit_id, night=night, staff=staff))
        else:
            row.staff = staff

    def unit_of_bed(self, bed_id: str) -> str | None:
        return self.session.scalar(select(BedRow.unit_id).where(BedRow.bed_id == bed_id))

    def _units(self, query: Any) -> list[Unit]:
        rows = list(self.session.scalars(query))
        ids = [row.unit_id for row in rows]
        beds: dict[str, list[Bed]] = {unit_id: [] for unit_id in ids}
        bed_rows = select(BedRow).where(BedRow.unit_id.in_(ids)).order_by(BedRow.position)
        for bed in self.session.scalars(bed_rows):
            beds[bed.unit_id].append(Bed(bed_id=bed.bed_id, features=bed.features))
        staff: dict[str, dict[dt.date, int]] = {unit_id: {} for unit_id in ids}
        for night in self.session.scalars(
            select(NightStaffRow).where(NightStaffRow.unit_id.in_(ids))
        ):
            staff[night.unit_id][night.night] = night.staff
        return [
            Unit.model_validate(
                {**row.body, "beds": beds[row.unit_id], "night_staff": staff[row.unit_id]}
            )
            for row in rows
        ]

    # ------------------------------------------------------------ providers

    def add_provider(self, provider: Provider, position: int | None = None) -> None:
        if position is None:
            position = next_position(self.session, ProviderRow.position)
        body = provider.model_dump(mode="json")
        self.session.add(
            ProviderRow(
                provider_id=provider.provider_id, name=provider.name, position=position, body=body
            )
        )

    def provider(self, provider_id: str) -> Provider | None:
        row = self.session.get(ProviderRow, provider_id)
        return None if row is None else Provider.model_validate(row.body)

    def providers(self, provider_ids: Iterable[str] | None = None) -> list[Provider]:
        query = select(ProviderRow).order_by(ProviderRow.position)
        if provider_ids is not None:
            query = query.where(ProviderRow.provider_id.in_(set(provider_ids)))
        return [Provider.model_validate(row.body) for row in self.session.scalars(query)]

    def provider_page(
        self, locality_id: str | None, skill: str | None, limit: int, offset: int
    ) -> Page[Provider]:
        # Providers are few (tens) and their localities and skills are lists in
        # the body, so they are filtered here rather than with dialect-specific JSON SQL.
        chosen = [
            provider
            for provider in self.providers()
            if (locality_id is None or locality_id in provider.localities)
            and (skill is None or skill in provider.skills)
        ]
        return Page(chosen[offset : offset + limit], len(chosen))

    def set_rota(self, provider: Provider) -> None:
        """Store a provider whose sitter rota changed."""
        row = self.session.get_one(ProviderRow, provider.provider_id)
        row.body = provider.model_dump(mode="json")

    # ------------------------------------------------------------ requests

    def add_request(self, request: AnyRequest, position: int | None = None) -> None:
        if position is None:
            position = next_position(self.session, RequestRow.position)
        self.session.add(
            RequestRow(
                request_id=request.request_id,
                case_id=request.case_id,
                kind=request.kind,
                priority=request.priority,
                received=request.received,
                position=position,
                body=request.model_dump(mode="json"),
            )
        )

    def request(self, request_id: str) -> AnyRequest | None:
        row = self.session.get(RequestRow, request_id)
        return None if row is None else _request_from(row.body)

    def requests(self, request_ids: Iterable[str] | None = None) -> list[AnyRequest]:
        query = select(RequestRow).order_by(RequestRow.position)
        if request_ids is not None:
            query = query.where(RequestRow.request_id.in_(set(request_ids)))
        return [_request_from(row.body) for row in self.session.scalars(query)]

    def request_page(
        self,
        *,
        case_id: str | None,
        kind: str | None,
        priority: str | None,
        received_from: dt.date | None,
        limit: int,
        offset: int,
    ) -> Page[AnyRequest]:
        query = select(RequestRow).order_by(RequestRow.position)
        if case_id is not None:
            query = query.where(RequestRow.case_id == case_id)
        if kind is not None:
            query = query.where(RequestRow.kind == kind)
        if priority is not None:
            query = query.where(RequestRow.priority == priority)
        if received_from is not None:
            query = query.where(RequestRow.received >= received_from)
        page = page_of(self.session, query, limit, offset)
        return Page([_request_from(row.body) for row in page.items], page.total)

    def delete_request(self, request_id: str) -> None:
        self.session.execute(delete(RequestRow).where(RequestRow.request_id == request_id))

    # ------------------------------------------------------------ budgets

    def add_budget(self, budget: Budget, position: int | None = None) -> None:
        if position is None:
            position = next_position(self.session, BudgetRow.position)
        body = budget.model_dump(mode="json")
        self.session.add(BudgetRow(budget_id=budget.budget_id, position=position, body=body))

    def budgets(self) -> list[Budget]:
        rows = self.session.scalars(select(BudgetRow).order_by(BudgetRow.position))
        return [Budget.model_validate(row.body) for row in rows]
