"""Problems and plans as plain JSON data, changed in place by the checker's scenario
tests (``test_checker_v2``, ``test_checker_alternatives``), and the checker's verdict on
them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scheduler.checker import Violation, check
from scheduler.model import Plan, Problem

Data = dict[str, Any]
Scenario = Callable[[Data, Data], None]


def violations_of(problem: Data, plan: Data) -> list[Violation]:
    """What the checker finds in ``plan`` for ``problem`` (KPIs not recomputed)."""
    return check(Problem.model_validate(problem), Plan.model_validate(plan), check_kpis=False)


def find_item(items: list[Data], **key: Any) -> Data:
    """The first item whose fields have the values ``key`` gives."""
    return next(item for item in items if all(item.get(k) == v for k, v in key.items()))


def unmet_of(plan: Data, request_id: str) -> Data:
    """The plan's unmet entry for ``request_id``."""
    return find_item(plan["unmet"], request_id=request_id)
