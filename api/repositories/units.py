"""Units with their beds and the staff on duty each night."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, select

from api.repositories.base import Page, page_of
from api.repositories.items import ItemRepository
from api.tables import BedRow, NightStaffRow, UnitRow
from scheduler.model import Bed, Unit

__all__ = ["UnitRepository"]

# A unit's terms beyond its beds and rota, each a column of its own and in the body.
_TERMS = (
    "block_cost_per_year_pence",
    "crisis_reserve_beds",
    "extra_night_staff_max",
    "extra_night_staff_cost_pence",
)


class UnitRepository(ItemRepository[Unit]):
    row_class = UnitRow

    def _to_row(self, unit: Unit, position: int) -> UnitRow:
        body = unit.model_dump(mode="json", exclude={"beds", "night_staff"})
        return UnitRow(
            unit_id=unit.unit_id,
            locality_id=unit.locality_id,
            spot=unit.spot,
            position=position,
            **{name: getattr(unit, name) for name in _TERMS},
            body=body,
        )

    def add(self, unit: Unit, position: int | None = None) -> None:
        """Store a new unit with its beds and night staff."""
        super().add(unit, position)
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

    def get(self, unit_id: str) -> Unit | None:
        units = self._items(select(UnitRow).where(UnitRow.unit_id == unit_id))
        return units[0] if units else None

    def page(
        self, locality_id: str | None, spot: bool | None, limit: int, offset: int
    ) -> Page[Unit]:
        query = self._ordered()
        if locality_id is not None:
            query = query.where(UnitRow.locality_id == locality_id)
        if spot is not None:
            query = query.where(UnitRow.spot == spot)
        page = page_of(self.session, query, limit, offset)
        ids = [row.unit_id for row in page.items]
        return Page(self.all(ids), page.total)

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

    def set_terms(self, unit: Unit) -> None:
        """Store a unit whose money, crisis reserve or agency staff changed (its beds and
        night-staff calendar stay as they are)."""
        row = self.session.get_one(UnitRow, unit.unit_id)
        fresh = self._to_row(unit, row.position)
        for name in (*_TERMS, "body"):
            setattr(row, name, getattr(fresh, name))

    def unit_of_bed(self, bed_id: str) -> str | None:
        """The unit holding the bed, or None if there is no such bed."""
        return self.session.scalar(select(BedRow.unit_id).where(BedRow.bed_id == bed_id))

    def name(self, unit_id: str) -> str | None:
        """The unit's name (its id if it has none), or None if there is no such unit."""
        row = self.session.get(UnitRow, unit_id)
        return None if row is None else str(row.body.get("name", unit_id))

    def names(self) -> dict[str, str]:
        """Every unit's name (its id if it has none), by unit id."""
        rows = self.session.execute(select(UnitRow.unit_id, UnitRow.body))
        return {unit_id: str(body.get("name", unit_id)) for unit_id, body in rows}

    def _items(self, query: Select[Any]) -> list[Unit]:
        rows = list(self.session.scalars(query))
        ids = [row.unit_id for row in rows]
        beds, staff = self._beds(ids), self._night_staff(ids)
        return [
            Unit.model_validate(
                {**row.body, "beds": beds[row.unit_id], "night_staff": staff[row.unit_id]}
            )
            for row in rows
        ]

    def _beds(self, unit_ids: list[str]) -> dict[str, list[Bed]]:
        beds: dict[str, list[Bed]] = {unit_id: [] for unit_id in unit_ids}
        query = select(BedRow).where(BedRow.unit_id.in_(unit_ids)).order_by(BedRow.position)
        for bed in self.session.scalars(query):
            beds[bed.unit_id].append(Bed(bed_id=bed.bed_id, features=bed.features))
        return beds

    def _night_staff(self, unit_ids: list[str]) -> dict[str, dict[dt.date, int]]:
        staff: dict[str, dict[dt.date, int]] = {unit_id: {} for unit_id in unit_ids}
        query = select(NightStaffRow).where(NightStaffRow.unit_id.in_(unit_ids))
        for night in self.session.scalars(query):
            staff[night.unit_id][night.night] = night.staff
        return staff
