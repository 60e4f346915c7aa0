"""Reports for brokers and commissioners: a plan's figures as tables.

Each report is a function ``(problem, plan) -> pandas.DataFrame`` with readable
column names; :data:`REPORTS` names them for the CLI and the API, and
:func:`render` writes one as JSON (records) or CSV. The commissioner's one-page
HTML summary with charts is :mod:`scheduler.reports.html_page`.

The figures count the way :mod:`scheduler.kpis` does (nights inside the horizon,
a double-handed visit's minutes once for hours served and twice for sitter
time and cost), so the totals here agree with a plan's ``kpis`` block.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Iterator

import pandas as pd

from scheduler.kpis import in_week, nights_in_horizon, rota_minutes
from scheduler.model import PRIORITIES, Plan, Problem, SittingRequest, StayRequest
from scheduler.reports.plan_summary import budget_rows

__all__ = [
    "NOT_PLANNED",
    "REPORTS",
    "budgets",
    "carers",
    "occupancy",
    "render",
    "served",
    "sitters",
    "unmet",
]

NOT_PLANNED = "not_planned"
"""The reason of an item neither served nor explained in the plan's ``unmet`` list."""


def occupancy(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Beds held per unit and night of the horizon, confirmed bookings included."""
    held: dict[tuple[str, dt.date], set[str]] = defaultdict(set)
    for stay in plan.stays:
        for night in stay.night_list:
            held[(stay.unit_id, night)].add(stay.bed_id)
    rows = []
    for unit in problem.units:
        for night in problem.horizon.nights:
            occupied = len(held[(unit.unit_id, night)])
            rows.append(
                {
                    "Unit": unit.unit_id,
                    "Unit name": unit.name,
                    "Spot": unit.spot,
                    "Night": night,
                    "Beds": len(unit.beds),
                    "Occupied": occupied,
                    "Occupancy": round(occupied / len(unit.beds), 4) if unit.beds else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=_columns("occupancy"))


def unmet(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Unmet stays and visits by reason, priority and locality: how many, and how much.

    Reasons come from the plan's ``unmet`` list. A stay request or visit that is
    neither in the plan nor in that list (the confirmed bookings read as a plan,
    which say nothing of who went without) counts under :data:`NOT_PLANNED`, so
    the items here always add up to the KPI ``unmet_count``.
    """
    cases = problem.case_by_id()
    totals: dict[tuple[str, str, str], dict[str, float]] = defaultdict(
        lambda: {"Stays": 0, "Visits": 0, "Nights": 0, "Hours": 0.0}
    )
    for reason, request, minutes in _unmet_items(problem, plan):
        row = totals[(reason, request.priority, cases[request.case_id].locality_id)]
        if isinstance(request, StayRequest):
            row["Stays"] += 1
            row["Nights"] += request.nights
        else:
            row["Visits"] += 1
            row["Hours"] += minutes / 60
    rows = [
        {"Reason": reason, "Priority": priority, "Locality": locality, **figures}
        for (reason, priority, locality), figures in sorted(totals.items())
    ]
    frame = pd.DataFrame(rows, columns=_columns("unmet"))
    return frame.astype({"Stays": int, "Visits": int, "Nights": int})


def _unmet_items(
    problem: Problem, plan: Plan
) -> Iterator[tuple[str, StayRequest | SittingRequest, int]]:
    """``(reason, request, visit minutes)`` for each stay request or visit not served."""
    reasons = {(u.request_id, u.visit_id): u.reason for u in plan.unmet}
    stays = {s.request_id for s in plan.stays}
    visits = {(v.request_id, v.visit_id) for v in plan.visits}
    for request in problem.requests:
        if isinstance(request, StayRequest):
            if request.request_id not in stays:
                yield reasons.get((request.request_id, None), NOT_PLANNED), request, 0
            continue
        whole = reasons.get((request.request_id, None))
        for visit in request.visits:
            if (request.request_id, visit.visit_id) not in visits:
                reason = reasons.get((request.request_id, visit.visit_id), whole or NOT_PLANNED)
                yield reason, request, visit.minutes


def served(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Requests, nights and hours asked and served, per priority (crisis first)."""
    stay_served = {s.request_id for s in plan.stays}
    visit_served = {(v.request_id, v.visit_id): v.minutes for v in plan.visits}
    rows = []
    for priority in PRIORITIES:
        asked = [r for r in problem.requests if r.priority == priority]
        nights_asked = sum(r.nights for r in asked if isinstance(r, StayRequest))
        nights = sum(
            r.nights for r in asked if isinstance(r, StayRequest) and r.request_id in stay_served
        )
        visits = [(r, v) for r in asked if isinstance(r, SittingRequest) for v in r.visits]
        minutes_asked = sum(v.minutes for _, v in visits)
        minutes = sum(visit_served.get((r.request_id, v.visit_id), 0) for r, v in visits)
        served_requests = sum(1 for r in asked if _is_served(r, stay_served, visit_served))
        rows.append(
            {
                "Priority": priority,
                "Requests": len(asked),
                "Requests served": served_requests,
                "Served share": round(served_requests / len(asked), 4) if asked else 1.0,
                "Nights asked": nights_asked,
                "Nights served": nights,
                "Hours asked": round(minutes_asked / 60, 2),
                "Hours served": round(minutes / 60, 2),
            }
        )
    return pd.DataFrame(rows, columns=_columns("served"))


def carers(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Nights per carer against their allowance, who has had least first.

    ``Nights after plan`` is what was used before plus what this plan gives;
    ``Share of allowance`` is that over the yearly allowance.
    """
    nights: dict[str, int] = defaultdict(int)
    for stay in plan.stays:  # nights inside the horizon, as H8 counts them
        nights[stay.case_id] += nights_in_horizon(problem, stay.first_night, stay.nights)
    minutes: dict[str, int] = defaultdict(int)
    for visit in plan.visits:
        if in_week(problem, visit.day):
            minutes[visit.case_id] += visit.minutes
    asking = {r.case_id for r in problem.requests}
    rows = []
    for case in problem.cases:
        if case.case_id not in asking and case.case_id not in nights:
            continue
        after = case.nights_used + nights[case.case_id]
        rows.append(
            {
                "Case": case.case_id,
                "Locality": case.locality_id,
                "Nights allowance": case.nights_allowance,
                "Nights used before": case.nights_used,
                "Nights in plan": nights[case.case_id],
                "Nights after plan": after,
                "Share of allowance": round(after / case.nights_allowance, 4)
                if case.nights_allowance
                else None,
                "Sitting hours a week": case.sitting_hours_per_week,
                "Sitting hours this week": round(minutes[case.case_id] / 60, 2),
            }
        )
    frame = pd.DataFrame(rows, columns=_columns("carers"))
    return frame.sort_values(["Share of allowance", "Case"], na_position="last", kind="stable")


def budgets(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Planned spend against each budget (bookings included, horizon nights only)."""
    rows = [
        {
            "Budget": row["budget_id"],
            "Limit (£)": row["limit_pence"] / 100,
            "Planned (£)": row["planned_pence"] / 100,
            "Used": round(row["planned_pence"] / row["limit_pence"], 4)
            if row["limit_pence"]
            else 0.0,
        }
        for row in budget_rows(problem, plan)
    ]
    return pd.DataFrame(rows, columns=_columns("budgets"))


def sitters(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Each provider's week: sitter time on the rota, planned, and hours under its cap."""
    week = [problem.week_start + dt.timedelta(days=d) for d in range(7)]
    planned: dict[str, int] = defaultdict(int)  # sitter-minutes, as the weekly cap counts them
    for visit in plan.visits:
        if in_week(problem, visit.day):
            planned[visit.provider_id] += visit.minutes * visit.sitters
    rows = []
    for provider in problem.providers:
        rota = sum(rota_minutes(provider, day) for day in week)
        used = planned[provider.provider_id]
        rows.append(
            {
                "Provider": provider.provider_id,
                "Provider name": provider.name,
                "Rota sitter-hours": round(rota / 60, 2),
                "Planned sitter-hours": round(used / 60, 2),
                "Utilisation": round(used / rota, 4) if rota else 0.0,
                "Weekly cap (h)": provider.weekly_hours_cap,
                "Cap used": round(used / 60 / provider.weekly_hours_cap, 4)
                if provider.weekly_hours_cap
                else 0.0,
            }
        )
    return pd.DataFrame(rows, columns=_columns("sitters"))


REPORTS: dict[str, Callable[[Problem, Plan], pd.DataFrame]] = {
    "occupancy": occupancy,
    "unmet": unmet,
    "served": served,
    "carers": carers,
    "budgets": budgets,
    "sitters": sitters,
}

_COLUMNS = {
    "occupancy": ["Unit", "Unit name", "Spot", "Night", "Beds", "Occupied", "Occupancy"],
    "unmet": ["Reason", "Priority", "Locality", "Stays", "Visits", "Nights", "Hours"],
    "served": [
        "Priority",
        "Requests",
        "Requests served",
        "Served share",
        "Nights asked",
        "Nights served",
        "Hours asked",
        "Hours served",
    ],
    "carers": [
        "Case",
        "Locality",
        "Nights allowance",
        "Nights used before",
        "Nights in plan",
        "Nights after plan",
        "Share of allowance",
        "Sitting hours a week",
        "Sitting hours this week",
    ],
    "budgets": ["Budget", "Limit (£)", "Planned (£)", "Used"],
    "sitters": [
        "Provider",
        "Provider name",
        "Rota sitter-hours",
        "Planned sitter-hours",
        "Utilisation",
        "Weekly cap (h)",
        "Cap used",
    ],
}


def _columns(name: str) -> list[str]:
    return _COLUMNS[name]


def render(frame: pd.DataFrame, fmt: str) -> str:
    """``frame`` as ``json`` (a list of records, dates as ISO strings) or ``csv``."""
    if fmt == "json":
        return frame.to_json(orient="records", date_format="iso", force_ascii=False, indent=1)
    if fmt == "csv":
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False)
        return buffer.getvalue()
    raise ValueError(f"format: '{fmt}' is not json or csv")


def _is_served(
    request: StayRequest | SittingRequest,
    stays: set[str],
    visits: dict[tuple[str, str], int],
) -> bool:
    if isinstance(request, StayRequest):
        return request.request_id in stays
    return any((request.request_id, v.visit_id) in visits for v in request.visits)
