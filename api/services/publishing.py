"""Publishing a run: its plan becomes confirmed bookings, all or nothing."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from api.auth import Principal
from api.clock import utcnow
from api.db import Database
from api.errors import Conflict, NotFound
from api.repositories import BookingRepository, RunRepository
from api.repositories.bookings import TakenBedNight, TakenPart, to_booking
from api.schemas import PublishResult
from api.services.bookings import confirm, new_booking_id
from api.tables import RunRow
from scheduler.model import Plan, PlannedStay, PlannedVisit, StayBooking, VisitBooking

__all__ = ["PublishingService"]

Booking = StayBooking | VisitBooking


class PublishingService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def publish(self, principal: Principal, run_id: str) -> PublishResult:
        """Confirm every stay and visit of the run's plan in one transaction.

        Plan items that are confirmed bookings already (the run pinned them) are
        left as they are.

        Raises
        ------
        Conflict
            The run did not succeed (failed, cancelled, still running: its status
            is read under the run's lock, in the publish's own transaction), has no
            plan or was published; or, since it was solved, a bed-night, request or
            sitter it uses was booked: ``conflicts`` lists them.
        """
        try:
            with self.db.write() as session:
                run = _publishable(RunRepository(session), run_id)
                plan = Plan.model_validate(run.plan)
                fresh, kept = _fresh_items(BookingRepository(session), plan)
                rows = (
                    confirm(
                        session,
                        fresh,
                        actor=principal.actor,
                        action="publish",
                        run_id=run_id,
                        week_start=run.week_start,
                        strict=True,
                    )
                    if fresh
                    else []
                )
                RunRepository(session).mark_published(run_id, utcnow())
        except IntegrityError:
            raise self._lost_race(run_id) from None
        return PublishResult(
            run_id=run_id, booking_ids=[row.booking_id for row in rows], already_booked=kept
        )

    def _lost_race(self, run_id: str) -> Conflict:
        """What a concurrent publish or booking took from under this one."""
        with self.db.read() as session:
            plan = Plan.model_validate(_run(RunRepository(session), run_id).plan)
            repo = BookingRepository(session)
            taken: list[TakenBedNight | TakenPart] = []
            taken += repo.taken_bed_nights(
                (stay.bed_id, night) for stay in plan.stays for night in stay.night_list
            )
            taken += repo.taken_parts((v.request_id, v.visit_id) for v in plan.visits)
        conflicts = [str(t) for t in taken]
        return Conflict(
            f"run {run_id} lost a race: {'; '.join(conflicts[:5])}", conflicts=conflicts
        )


def _run(runs: RunRepository, run_id: str) -> RunRow:
    row = runs.get(run_id)
    if row is None:
        raise NotFound(f"allocation run {run_id} does not exist")
    return row


def _publishable(runs: RunRepository, run_id: str) -> RunRow:
    row = runs.locked(run_id)
    if row is None:
        raise NotFound(f"allocation run {run_id} does not exist")
    if row.status != "succeeded":
        raise Conflict(
            f"run {run_id} is {row.status}: only a succeeded run can be published"
            + (f" ({row.reason})" if row.reason else "")
        )
    if row.plan is None:
        raise Conflict(f"run {run_id} is {row.status} and has no plan to publish")
    if row.published_at is not None:
        raise Conflict(f"run {run_id} was published already")
    return row


def _fresh_items(repo: BookingRepository, plan: Plan) -> tuple[list[Booking], int]:
    """The plan's items not yet booked, as bookings; and how many were booked."""
    confirmed = {_key(to_booking(row)): row for row in repo.confirmed_all()}
    fresh: list[Booking] = []
    items: list[PlannedStay | PlannedVisit] = [*plan.stays, *plan.visits]
    for item in items:
        if _key(item) not in confirmed:
            fresh.append(_booking(item))
    return fresh, len(plan.stays) + len(plan.visits) - len(fresh)


def _key(item: PlannedStay | PlannedVisit | Booking) -> tuple[object, ...]:
    fields = item.model_dump(exclude={"booking_id", "status"})
    return tuple(sorted(fields.items()))


def _booking(item: PlannedStay | PlannedVisit) -> Booking:
    if isinstance(item, PlannedStay):
        return StayBooking(booking_id=new_booking_id(), **item.model_dump())
    return VisitBooking(booking_id=new_booking_id(), **item.model_dump())
