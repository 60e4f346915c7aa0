"""The commissioner's one-page summary of a plan: headline figures (served, money the
plan adds against the block contracts paid anyway, carers' contributions, agency staff,
the crisis reserve), three charts (occupancy heatmap, unmet by locality, budget use) and
the small tables behind them, as one self-contained HTML file (charts inline as PNG, no
scripts)."""

from __future__ import annotations

import base64
import html
import io
import numbers
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen; must come before pyplot

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scheduler.model import PRIORITIES, Plan, Problem, StayRequest
from scheduler.reports.tables import budgets, carers, money, occupancy, served, sitters, unmet

__all__ = ["summary_html"]

SHARES = {"Occupancy", "Served share", "Share of allowance", "Used", "Utilisation", "Cap used"}
"""Columns holding a fraction, shown as a percentage."""
NEAR_LIMIT = 0.95
"""A budget planned to this share of its limit or more is drawn (and counted) as at its limit."""
COLOURS = {"crisis": "#c0392b", "health_appointment": "#e67e22", "planned": "#2e86c1"}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 16px; margin: 18px 0 6px; }
.muted { color: #666; font-size: 13px; }
.figures { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.figure { border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 150px; }
.figure b { display: block; font-size: 20px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.charts img { width: 100%; border: 1px solid #eee; }
.wide { grid-column: 1 / 3; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 8px; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th, td.text { text-align: left; } td { white-space: nowrap; }
.figure span { display: block; color: #666; font-size: 12px; }
"""


def summary_html(problem: Problem, plan: Plan, title: str = "Respite allocation") -> str:
    """The one-page HTML summary of ``plan``."""
    served_frame = served(problem, plan)
    unmet_frame = unmet(problem, plan)
    budget_frame = budgets(problem, plan)
    charts = [
        ("Bed occupancy by unit and night", _heatmap(occupancy(problem, plan)), "wide"),
        ("Unmet stays and visits by locality", _unmet_chart(problem, unmet_frame), ""),
        ("Budget use", _budget_chart(budget_frame), ""),
    ]
    first, last = problem.horizon.first_night, problem.horizon.last_night
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='muted'>Nights {first} to {last}; sitting week from {problem.week_start}; "
        f"plan by {html.escape(plan.solver.engine)} ({html.escape(plan.solver.status)}).</p>",
        _figures(problem, plan, served_frame, unmet_frame, budget_frame, _disjoint(problem)),
        "<div class='charts'>",
        *(
            f"<div class='{css}'><h2>{html.escape(name)}</h2>"
            f"<img alt='{html.escape(name)}' src='data:image/png;base64,{png}'></div>"
            for name, png, css in charts
        ),
        "</div>",
        "<h2>Served by priority</h2>",
        _table(served_frame),
        "<h2>Unmet by reason</h2>",
        _table(_by_reason(unmet_frame)),
        "<h2>Budgets (what the plan adds: spot nights, agency staff, sitting)</h2>",
        _table(budget_frame),
        "<h2>Money and crisis reserve by unit and provider</h2>",
        _table(money(problem, plan)),
        "<h2>Sitter utilisation this week</h2>",
        _table(sitters(problem, plan)),
        "<h2>Carers asking for a stay who have had least (ten lowest shares of their "
        "allowance after this plan)</h2>",
        _table(_asking_for_stays(problem, carers(problem, plan)).head(10)),
        "</body></html>",
    ]
    return "\n".join(parts)


def _figures(
    problem: Problem,
    plan: Plan,
    served_frame: pd.DataFrame,
    unmet_frame: pd.DataFrame,
    budget_frame: pd.DataFrame,
    disjoint: bool,
) -> str:
    """Headline figures: requests served by priority, nights, hours, cost against budgets."""
    kpis = plan.kpis
    items = [
        (
            f"{priority.replace('_', ' ').capitalize()} requests served",
            f"{int(row['Requests served']):,} of {int(row['Requests']):,}",
            f"{row['Served share']:.0%}" if row["Requests"] else "none asked",
        )
        for priority, row in served_frame.set_index("Priority").iterrows()
    ]
    hours = (kpis.sitting_minutes_served / 60, kpis.sitting_minutes_requested / 60)
    unmet_items = int(unmet_frame["Stays"].sum() + unmet_frame["Visits"].sum())
    items += [
        ("Nights served", f"{kpis.nights_served:,} of {kpis.nights_requested:,}", ""),
        ("Sitting hours served", f"{hours[0]:,.0f} of {hours[1]:,.0f}", ""),
        ("Bed occupancy", f"{kpis.bed_occupancy:.0%}", "block beds, every night"),
        ("Unmet stays and visits", f"{unmet_items:,}", ""),
        ("Money added", f"£{kpis.cost_pence / 100:,.0f}", _budget_note(budget_frame, disjoint)),
        *_policy_figures(problem, plan),
    ]
    cells = "".join(
        f"<div class='figure'>{html.escape(label)}<b>{html.escape(value)}</b>"
        + (f"<span>{html.escape(note)}</span>" if note else "")
        + "</div>"
        for label, value, note in items
    )
    return f"<div class='figures'>{cells}</div>"


def _policy_figures(problem: Problem, plan: Plan) -> list[tuple[str, str, str]]:
    """Block contracts beside the money added, carers' contributions, agency staff and
    spot nights, and the crisis reserve (held while in force, released before); a figure
    the problem gives nothing for says so rather than show a bare 0."""
    extras = plan.kpis.model_extra or {}
    held = int(extras.get("crisis_reserve_bed_nights_held", 0))
    released = int(extras.get("crisis_reserve_bed_nights_released", 0))
    spot = int(extras.get("spot_nights", 0))
    priced = any(unit.block_cost_per_year_pence for unit in problem.units)
    charging = any(case.contribution_per_night_pence for case in problem.cases)
    reserve = any(unit.crisis_reserve_beds for unit in problem.units)
    return [
        (
            "Block contracts",
            f"£{extras.get('block_contract_pence', 0) / 100:,.0f}",
            "these nights' share of the year, paid whether used or not"
            if priced
            else "no block contract price given",
        ),
        (
            "Carers' contributions",
            f"£{extras.get('carer_contributions_pence', 0) / 100:,.0f}",
            "for stays that draw on an allowance" if charging else "no carer is charged",
        ),
        (
            "Agency staff nights",
            f"{int(extras.get('agency_staff_nights', 0)):,}",
            f"{spot:,} spot night{'' if spot == 1 else 's'} bought",
        ),
        (
            "Crisis reserve bed-nights held",
            f"{held:,}" if reserve else "none",
            f"{released:,} released to other stays at short notice"
            if reserve
            else "no unit holds beds for crisis",
        ),
    ]


def _budget_note(frame: pd.DataFrame, disjoint: bool) -> str:
    """Cost against the budgets: their totals when no unit or provider is in two of them."""
    if frame.empty:
        return "no budgets set"
    near = int((frame["Used"] >= NEAR_LIMIT).sum())
    at_limit = f"{near} of {len(frame)} budgets at {NEAR_LIMIT:.0%}+"
    if not disjoint:
        return at_limit
    planned, limit = frame["Planned (£)"].sum(), frame["Limit (£)"].sum()
    return f"£{planned:,.0f} of £{limit:,.0f} budgeted; {at_limit}"


def _disjoint(problem: Problem) -> bool:
    """Whether no unit or provider counts against two budgets (so their totals add up)."""
    owners = [owner for budget in problem.budgets for owner in budget.applies_to]
    return len(owners) == len(set(owners))


def _asking_for_stays(problem: Problem, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`scheduler.reports.tables.carers` for carers with a stay request."""
    asking = {r.case_id for r in problem.requests if isinstance(r, StayRequest)}
    return frame[frame["Case"].isin(asking)]


def _by_reason(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["Stays", "Visits", "Nights", "Hours"]
    return frame.groupby("Reason", as_index=False)[columns].sum()


def _table(frame: pd.DataFrame) -> str:
    """A small HTML table: shares as percentages, numbers right-aligned, text left."""
    if frame.empty:
        return "<p class='muted'>None.</p>"
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    rows = []
    for values in frame.itertuples(index=False):
        cells = (_cell(column, value) for column, value in zip(frame.columns, values, strict=True))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "<td></td>"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return f"<td class='text'>{html.escape(str(value))}</td>"
    if column in SHARES:
        return f"<td>{value:.0%}</td>"
    if isinstance(value, numbers.Integral):
        text = f"{int(value):,}"
    elif "£" in column:
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.2f}".removesuffix(".00")
    return f"<td>{text}</td>"


def _label(text: str, width: int = 28) -> str:
    """``text`` cut to ``width`` characters for a chart's axis (names run to 200)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _nothing(figure: Any, axes: Any, message: str) -> str:
    """A chart with nothing to draw: the message in its place."""
    axes.text(0.5, 0.5, message, ha="center", va="center")
    axes.set_axis_off()
    return _png(figure)


def _heatmap(frame: pd.DataFrame) -> str:
    grid = frame.pivot_table(index="Unit", columns="Night", values="Occupancy", sort=False)
    units = frame.drop_duplicates("Unit").set_index("Unit")
    labels = [
        f"{_label(units.loc[unit, 'Unit name'])}{' (spot)' if units.loc[unit, 'Spot'] else ''}"
        for unit in grid.index
    ]
    figure, axes = plt.subplots(figsize=(11, 0.35 * max(len(grid), 2) + 1.2))
    if grid.empty:
        return _nothing(figure, axes, "No beds")
    image = axes.imshow(grid.to_numpy(), aspect="auto", cmap="YlOrRd", vmin=0, vmax=1)
    axes.set_yticks(range(len(grid)), labels=labels, fontsize=8)
    step = max(1, len(grid.columns) // 14)
    ticks = list(range(0, len(grid.columns), step))
    axes.set_xticks(ticks, labels=[grid.columns[i].strftime("%d %b") for i in ticks], fontsize=8)
    figure.colorbar(image, ax=axes, label="share of beds held", fraction=0.03)
    return _png(figure)


def _unmet_chart(problem: Problem, frame: pd.DataFrame) -> str:
    figure, axes = plt.subplots(figsize=(5.5, 3.6))
    if frame.empty:
        return _nothing(figure, axes, "Every request was served")
    names = {locality.locality_id: locality.name for locality in problem.localities}
    counts = frame.assign(Items=frame["Stays"] + frame["Visits"]).pivot_table(
        index="Locality", columns="Priority", values="Items", aggfunc="sum", fill_value=0
    )
    places = range(len(counts))  # by position: two names cut alike stay two bars
    bottom = pd.Series(0, index=counts.index)
    for priority in PRIORITIES:
        if priority in counts:
            axes.bar(
                places,
                counts[priority],
                bottom=bottom,
                label=priority.replace("_", " "),
                color=COLOURS[priority],
            )
            bottom = bottom + counts[priority]
    axes.set_xticks(places, labels=[_label(names.get(loc, loc), 20) for loc in counts.index])
    axes.set_ylabel("unmet stays and visits")
    axes.legend(fontsize=8, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    axes.tick_params(axis="x", labelsize=8, rotation=30)
    return _png(figure)


def _budget_chart(frame: pd.DataFrame) -> str:
    figure, axes = plt.subplots(figsize=(5.5, 3.4))
    if frame.empty:
        return _nothing(figure, axes, "No budgets")
    used = frame["Used"] * 100
    colours = ["#c0392b" if share >= NEAR_LIMIT * 100 else "#2e86c1" for share in used]
    places = range(len(frame))
    axes.barh(places, used, color=colours)
    # Each bar says its share and limit: a budget at 0% (block beds add nothing) would
    # otherwise read as a missing bar.
    inside = max(float(used.max()), 100.0) * 0.55
    for place, share, limit in zip(places, used, frame["Limit (£)"], strict=True):
        label = f"{share:.0f}% of £{limit:,.0f}"
        if share >= inside:
            axes.text(share - 1, place, label, va="center", ha="right", fontsize=8, color="white")
        else:
            axes.text(share + 1, place, label, va="center", ha="left", fontsize=8, color="#333")
    axes.set_yticks(places, labels=[_label(str(budget)) for budget in frame["Budget"]])
    axes.invert_yaxis()  # first budget on top, as in the table
    axes.axvline(100, color="#333", linestyle="--", linewidth=1)
    axes.set_xlabel(f"% of budget planned (red: {NEAR_LIMIT:.0%} or more)")
    axes.tick_params(axis="y", labelsize=8)
    return _png(figure)
