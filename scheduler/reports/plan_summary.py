"""Figures a broker reads after a run, as plain rows and as rich tables."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from rich.table import Table

from scheduler.kpis import stay_added_pence
from scheduler.model import Plan, Problem, SittingRequest, StayRequest

__all__ = ["budget_rows", "served_rows", "summary_tables"]


def served_rows(problem: Problem, plan: Plan, by: str) -> list[dict[str, Any]]:
    """Nights and sitting hours requested and served, grouped by ``priority`` or ``locality``."""
    cases = problem.case_by_id()
    served_nights = {s.request_id: s.nights for s in plan.stays}
    served_minutes: dict[tuple[str, str], int] = {
        (v.request_id, v.visit_id): v.minutes for v in plan.visits
    }
    rows: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "nights_requested": 0,
            "nights_served": 0,
            "hours_requested": 0.0,
            "hours_served": 0.0,
        }
    )
    for request in problem.requests:
        key = request.priority if by == "priority" else cases[request.case_id].locality_id
        row = rows[key]
        if isinstance(request, StayRequest):
            row["nights_requested"] += request.nights
            row["nights_served"] += served_nights.get(request.request_id, 0)
        elif isinstance(request, SittingRequest):
            for visit in request.visits:
                row["hours_requested"] += visit.minutes / 60
                row["hours_served"] += (
                    served_minutes.get((request.request_id, visit.visit_id), 0) / 60
                )
    return [{by: key, **rows[key]} for key in sorted(rows)]


def budget_rows(problem: Problem, plan: Plan) -> list[dict[str, Any]]:
    """Planned spend against each budget, in pence (bookings included, horizon nights only),
    counted as H12 does: what the plan adds (spot nights, agency staff-nights, sitter
    time); a block bed's night is paid for by its contract."""
    units, providers = problem.unit_by_id(), problem.provider_by_id()
    rows = []
    for budget in problem.budgets:
        owners = set(budget.applies_to)
        spent60 = 0
        for stay in plan.stays:
            if stay.unit_id in owners and stay.unit_id in units:
                spent60 += 60 * stay_added_pence(problem, units[stay.unit_id], stay)
        for visit in plan.visits:
            if visit.provider_id in owners:
                spent60 += (
                    visit.minutes * visit.sitters * providers[visit.provider_id].cost_per_hour_pence
                )
        rows.append(
            {
                "budget_id": budget.budget_id,
                "limit_pence": budget.limit_pence,
                "planned_pence": spent60 // 60,
            }
        )
    return rows


def summary_tables(problem: Problem, plan: Plan) -> list[Table]:
    tables = [_served_table(problem, plan, "priority"), _served_table(problem, plan, "locality")]
    kpis = plan.kpis
    use = Table(title="Use of capacity")
    use.add_column("figure")
    use.add_column("value", justify="right")
    use.add_row("bed occupancy (block beds)", f"{kpis.bed_occupancy:.1%}")
    use.add_row("sitter utilisation", f"{kpis.sitter_utilisation:.1%}")
    extras = kpis.model_extra or {}
    use.add_row("money added (spot, agency staff, sitting)", f"£{kpis.cost_pence / 100:,.2f}")
    use.add_row(
        "block contracts for these nights (paid anyway)",
        f"£{extras.get('block_contract_pence', 0) / 100:,.2f}",
    )
    use.add_row(
        "carers' contributions", f"£{extras.get('carer_contributions_pence', 0) / 100:,.2f}"
    )
    use.add_row("spot nights", f"{extras.get('spot_nights', 0):,}")
    use.add_row("agency staff nights", f"{extras.get('agency_staff_nights', 0):,}")
    use.add_row(
        "crisis reserve held / released (bed-nights)",
        f"{extras.get('crisis_reserve_bed_nights_held', 0):,} / "
        f"{extras.get('crisis_reserve_bed_nights_released', 0):,}",
    )
    use.add_row("travel", f"{kpis.travel_km:,.1f} km")
    use.add_row("crisis served", f"{kpis.crisis_served_ratio:.1%}")
    tables.append(use)
    budgets = Table(title="Budgets")
    for column in ("budget", "limit", "planned", "used"):
        budgets.add_column(column, justify="right" if column != "budget" else "left")
    for row in budget_rows(problem, plan):
        share = row["planned_pence"] / row["limit_pence"] if row["limit_pence"] else 0.0
        budgets.add_row(
            row["budget_id"],
            f"£{row['limit_pence'] / 100:,.0f}",
            f"£{row['planned_pence'] / 100:,.0f}",
            f"{share:.0%}",
        )
    tables.append(budgets)
    unmet = Table(title=f"Unmet ({len(plan.unmet)})")
    unmet.add_column("reason")
    unmet.add_column("stays", justify="right")
    unmet.add_column("visits", justify="right")
    stays = Counter(u.reason for u in plan.unmet if u.visit_id is None)
    visits = Counter(u.reason for u in plan.unmet if u.visit_id is not None)
    for reason in sorted(set(stays) | set(visits)):
        unmet.add_row(reason, str(stays[reason]), str(visits[reason]))
    tables.append(unmet)
    solver = plan.solver
    gap = "" if solver.gap is None else f", gap {solver.gap:.3%}"
    tables[0].caption = f"{solver.engine}: {solver.status}{gap}, {solver.seconds:.2f} s"
    return tables


def _served_table(problem: Problem, plan: Plan, by: str) -> Table:
    table = Table(title=f"Served by {by}")
    table.add_column(by)
    for column in ("nights asked", "nights served", "hours asked", "hours served"):
        table.add_column(column, justify="right")
    for row in served_rows(problem, plan, by):
        table.add_row(
            str(row[by]),
            str(row["nights_requested"]),
            str(row["nights_served"]),
            f"{row['hours_requested']:.1f}",
            f"{row['hours_served']:.1f}",
        )
    return table
