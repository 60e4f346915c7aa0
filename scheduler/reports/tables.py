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

from scheduler.kpis import (
    block_contract_pence,
    contribution_pence,
    in_week,
    nights_in_horizon,
    reserve_bed_nights,
    rota_minutes,
    stay_added_pence,
)
from scheduler.model import PRIORITIES, Plan, Problem, SittingRequest, StayRequest
from scheduler.reports.plan_summary import budget_rows

__all__ = [
    "NOT_PLANNED",
    "REPORTS",
    "budgets",
    "carers",
    "money",
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


def money(problem: Problem, plan: Plan) -> pd.DataFrame:
    """Money and the crisis reserve per unit and provider, over the horizon.

    ``Added (£)`` is what the plan adds (H12: spot nights, agency staff-nights, sitter
    time; a block bed's night adds nothing), ``Block contract (£)`` a block unit's yearly
    contract prorated to the horizon's nights (paid whether used or not),
    ``Contributions (£)`` what carers are charged for chargeable stays (those drawing on
    an allowance), and ``Reserve held`` / ``Reserve released`` the crisis reserve
    bed-nights kept from non-crisis stays while in force / given to them before. The
    columns add up to the plan's KPIs ``spend_added_pence``, ``block_contract_pence``,
    ``carer_contributions_pence`` and ``crisis_reserve_bed_nights_*`` (sitting is rounded
    to the penny per provider, the KPI once over all, so they may differ by a penny a
    provider).
    """
    units = problem.unit_by_id()
    nights: dict[str, int] = defaultdict(int)
    agency: dict[str, int] = defaultdict(int)
    added: dict[str, int] = defaultdict(int)  # pence, units; sixtieths for providers below
    for stay in plan.stays:
        if stay.unit_id not in units:
            continue
        inside = nights_in_horizon(problem, stay.first_night, stay.nights)
        nights[stay.unit_id] += inside
        agency[stay.unit_id] += inside * stay.extra_night_staff
        added[stay.unit_id] += stay_added_pence(problem, units[stay.unit_id], stay)
    charged = contribution_pence(problem, plan.stays)
    reserve = reserve_bed_nights(problem, plan.stays)
    rows = [
        _money_row(
            "spot unit" if unit.spot else "block unit",
            unit.unit_id,
            unit.name,
            nights=nights[unit.unit_id],
            agency=agency[unit.unit_id],
            added=added[unit.unit_id],
            block=block_contract_pence(problem, unit),
            charged=charged.get(unit.unit_id, 0),
            reserve=(unit.crisis_reserve_beds, *reserve.get(unit.unit_id, (0, 0))),
        )
        for unit in problem.units
    ]
    rows += _sitting_money(problem, plan)
    return pd.DataFrame(rows, columns=_columns("money"))


def _sitting_money(problem: Problem, plan: Plan) -> list[dict[str, object]]:
    """Rows of :func:`money` for the providers: sitter-hours and what they cost."""
    minutes: dict[str, int] = defaultdict(int)
    for visit in plan.visits:
        minutes[visit.provider_id] += visit.minutes * visit.sitters
    rows = []
    for provider in problem.providers:
        used = minutes[provider.provider_id]
        row = _money_row(
            "sitting provider",
            provider.provider_id,
            provider.name,
            added=(used * provider.cost_per_hour_pence + 30) // 60,
        )
        row["Sitter-hours"] = round(used / 60, 2)
        rows.append(row)
    return rows


def _money_row(
    kind: str,
    ident: str,
    name: str,
    *,
    nights: int = 0,
    agency: int = 0,
    added: int = 0,
    block: int = 0,
    charged: int = 0,
    reserve: tuple[int, int, int] = (0, 0, 0),
) -> dict[str, object]:
    return {
        "Kind": kind,
        "ID": ident,
        "Name": name,
        "Nights": nights,
        "Sitter-hours": 0.0,
        "Agency staff nights": agency,
        "Added (£)": added / 100,
        "Block contract (£)": block / 100,
        "Contributions (£)": charged / 100,
        "Reserve beds": reserve[0],
        "Reserve held": reserve[1],
        "Reserve released": reserve[2],
    }


REPORTS: dict[str, Callable[[Problem, Plan], pd.DataFrame]] = {
    "occupancy": occupancy,
    "unmet": unmet,
    "served": served,
    "carers": carers,
    "budgets": budgets,
    "sitters": sitters,
    "money": money,
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
    "money": [
        "Kind",
        "ID",
        "Name",
        "Nights",
        "Sitter-hours",
        "Agency staff nights",
        "Added (£)",
        "Block contract (£)",
        "Contributions (£)",
        "Reserve beds",
        "Reserve held",
        "Reserve released",
    ],
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
