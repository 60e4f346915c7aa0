"""Every SQL statement of the service. Repositories take a session and never commit."""

from api.repositories.audit import AuditRepository
from api.repositories.bookings import BookingRepository
from api.repositories.keys import KeyRepository
from api.repositories.planning import PlanningRepository
from api.repositories.runs import RunRepository

__all__ = [
    "AuditRepository",
    "BookingRepository",
    "KeyRepository",
    "PlanningRepository",
    "RunRepository",
]
