"""Every SQL statement of the service. Repositories take a session and never commit.

One repository per kind of thing stored: the planning items (localities, cases,
units with their beds and night staff, providers, requests, budgets), the planning
data as a whole with its settings, bookings, allocation runs, what-if scenarios,
API keys, feed tokens, the audit trail, and the migration the database is at.
"""

from api.repositories.audit import AuditRepository
from api.repositories.bookings import BookingRepository
from api.repositories.budgets import BudgetRepository
from api.repositories.cases import CaseRepository
from api.repositories.feed_tokens import FeedTokenRepository
from api.repositories.keys import KeyRepository
from api.repositories.localities import LocalityRepository
from api.repositories.migrations import MigrationRepository
from api.repositories.planning import PlanningRepository
from api.repositories.providers import ProviderRepository
from api.repositories.requests import RequestRepository
from api.repositories.runs import RunRepository
from api.repositories.scenarios import ScenarioRepository
from api.repositories.units import UnitRepository

__all__ = [
    "AuditRepository",
    "BookingRepository",
    "BudgetRepository",
    "CaseRepository",
    "FeedTokenRepository",
    "KeyRepository",
    "LocalityRepository",
    "MigrationRepository",
    "PlanningRepository",
    "ProviderRepository",
    "RequestRepository",
    "RunRepository",
    "ScenarioRepository",
    "UnitRepository",
]
