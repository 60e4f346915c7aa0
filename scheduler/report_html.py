"""The commissioner's one-page summary of a plan: headline figures, three charts
(occupancy heatmap, unmet by locality, budget use) and the small tables behind
them, as one self-contained HTML file (charts inline as PNG, no scripts)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no screen; must come before pyplot

import matplotlib.pyplot as plt
import pandas as pd

from scheduler.model import PRIORITIES, Plan, Problem
from scheduler.reports import budgets, carers, occupancy, served, sitters, unmet

__all__ = ["summary_html"]

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
th:first-child, td:first-child { text-align: left; }
"""


def summary_html(problem: Problem, plan: Plan, title: str = "Respite allocation") -> str:
    """The one-page HTML summary of ``plan``."""
    served_frame = served(problem, plan)
    unmet_frame = unmet(problem, plan)
    budget_frame = budgets(problem, plan)
    charts = [
        ("Bed occupancy by unit and night", _heatmap(occupancy(problem, plan)), "wide"),
        ("Unmet requests by locality", _unmet_chart(unmet_frame), ""),
        ("Budget use", _budget_chart(budget_frame), ""),
    ]
    first, last = problem.horizon.first_night, problem.horizon.last_night
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class='muted'>Nights {first} to {last}; sitting week from {problem.week_start}; "
        f"plan by {html.escape(plan.solver.engine)} ({html.escape(plan.solver.status)}).</p>",
        _figures(problem, plan, served_frame),
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
        "<h2>Budgets</h2>",
        _table(budget_frame),
        "<h2>Sitter utilisation this week</h2>",
        _table(sitters(problem, plan)),
        "<h2>Carers who have had least (ten lowest shares of their allowance)</h2>",
        _table(carers(problem, plan).head(10)),
        "</body></html>",
    ]
    return "\n".join(parts)


def _figures(problem: Problem, plan: Plan, served_frame: pd.DataFrame) -> str:
    kpis = plan.kpis
    hours = (kpis.sitting_minutes_served / 60, kpis.sitting_minutes_requested / 60)
    crisis = served_frame.set_index("Priority").loc["crisis"]
    items = [
        (
            "Requests served",
            f"{served_frame['Requests served'].sum()} of {served_frame['Requests'].sum()}",
        ),
        (
            "Crisis requests served",
            f"{int(crisis['Requests served'])} of {int(crisis['Requests'])}",
        ),
        ("Nights served", f"{kpis.nights_served} of {kpis.nights_requested}"),
        (
            "Sitting hours served",
            f"{hours[0]:,.0f} of {hours[1]:,.0f}",
        ),
        ("Bed occupancy", f"{kpis.bed_occupancy:.0%}"),
        ("Cost", f"£{kpis.cost_pence / 100:,.0f}"),
        ("Unmet", f"{len(plan.unmet)}"),
    ]
    cells = "".join(
        f"<div class='figure'>{html.escape(label)}<b>{html.escape(value)}</b></div>"
        for label, value in items
    )
    return f"<div class='figures'>{cells}</div>"


def _by_reason(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["Stays", "Visits", "Nights", "Hours"]
    return frame.groupby("Reason", as_index=False)[columns].sum()


def _table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p class='muted'>None.</p>"
    return frame.to_html(index=False, border=0, float_format=lambda x: f"{x:,.2f}")


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
    grid = frame.pivot_table(index="Unit name", columns="Night", values="Occupancy", sort=False)
    figure, axes = plt.subplots(figsize=(11, 0.35 * max(len(grid), 2) + 1.2))
    if grid.empty:
        return _nothing(figure, axes, "No beds")
    image = axes.imshow(grid.to_numpy(), aspect="auto", cmap="YlOrRd", vmin=0, vmax=1)
    axes.set_yticks(range(len(grid)), labels=list(grid.index), fontsize=8)
    step = max(1, len(grid.columns) // 14)
    ticks = list(range(0, len(grid.columns), step))
    axes.set_xticks(ticks, labels=[grid.columns[i].strftime("%d %b") for i in ticks], fontsize=8)
    figure.colorbar(image, ax=axes, label="share of beds held", fraction=0.03)
    return _png(figure)


def _unmet_chart(frame: pd.DataFrame) -> str:
    figure, axes = plt.subplots(figsize=(5.5, 3.4))
    if frame.empty:
        return _nothing(figure, axes, "Every request was served")
    counts = frame.assign(Items=frame["Stays"] + frame["Visits"]).pivot_table(
        index="Locality", columns="Priority", values="Items", aggfunc="sum", fill_value=0
    )
    bottom = pd.Series(0, index=counts.index)
    for priority in PRIORITIES:
        if priority in counts:
            axes.bar(
                counts.index,
                counts[priority],
                bottom=bottom,
                label=priority.replace("_", " "),
                color=COLOURS[priority],
            )
            bottom = bottom + counts[priority]
    axes.set_ylabel("unmet stays and visits")
    axes.legend(fontsize=8)
    axes.tick_params(axis="x", labelsize=8, rotation=30)
    return _png(figure)


def _budget_chart(frame: pd.DataFrame) -> str:
    figure, axes = plt.subplots(figsize=(5.5, 3.4))
    if frame.empty:
        return _nothing(figure, axes, "No budgets")
    used = frame["Used"] * 100
    colours = ["#c0392b" if share > 95 else "#2e86c1" for share in used]
    axes.barh(frame["Budget"], used, color=colours)
    axes.axvline(100, color="#333", linestyle="--", linewidth=1)
    axes.set_xlabel("% of budget planned")
    axes.tick_params(axis="y", labelsize=8)
    return _png(figure)
