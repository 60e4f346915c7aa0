"""Requests for a stay or for sitting visits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete

from api.repositories.base import Page
from api.repositories.items import ItemRepository
from api.tables import RequestRow
from scheduler.model import SittingRequest, StayRequest

__all__ = ["AnyRequest", "RequestRepository"]

AnyRequest = StayRequest | SittingRequest


class RequestRepository(ItemRepository[AnyRequest]):
    row_class = RequestRow
    columns = ("request_id", "case_id", "kind", "priority", "received")

    def _to_row(self, request: AnyRequest, position: int) -> RequestRow:
        row: RequestRow = super()._to_row(request, position)
        if isinstance(request, StayRequest):  # a spot bed approved by a manager (H12b)
            row.exceptional = request.exceptional
            row.exceptional_reason = request.exceptional_reason
        return row

    def _to_item(self, row: RequestRow) -> AnyRequest:
        model = StayRequest if row.body.get("kind") == "stay" else SittingRequest
        return model.model_validate(row.body)

    def page(
        self,
        *,
        case_id: str | None,
        kind: str | None,
        priority: str | None,
        received_from: dt.date | None,
        limit: int,
        offset: int,
    ) -> Page[AnyRequest]:
        query = self._ordered()
        for column, value in (
            (RequestRow.case_id, case_id),
            (RequestRow.kind, kind),
            (RequestRow.priority, priority),
        ):
            if value is not None:
                query = query.where(column == value)
        if received_from is not None:
            query = query.where(RequestRow.received >= received_from)
        return self._page(query, limit, offset)

    def delete(self, request_id: str) -> None:
        self.session.execute(delete(RequestRow).where(RequestRow.request_id == request_id))
