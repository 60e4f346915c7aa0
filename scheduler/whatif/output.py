"""What a what-if run leaves behind: the comparison table (terminal, CSV, JSON), PNG
charts and one self-contained HTML report with them all."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scheduler.files import write_bytes, write_text
from scheduler.whatif.run import KPIS, Outcome
from scheduler.whatif.scenario import Scenario

__all__ = ["comparison", "write_outputs"]

PERCENT = {
    "served_crisis",
    "served_health_appointment",
    "served_planned",
    "served_stays",
    "served_sitting",
    "crisis_turned_away",
    "crisis_sitting_not_given",
    "share_below_half_allowance",
    "occupancy",
    "sitter_utilisation",
}


def comparison(outcome: Outcome) -> pd.DataFrame:
    """One row per variant: each KPI as 'mean ± half-width' and as numbers."""
    rows = []
    for variant, row in outcome.summary.items():
        record: dict[str, Any] = {"variant": variant}
        for key, (label, _) in KPIS.items():
            record[label] = _shown(key, row[key])
            record[f"{key}_mean"] = row[key]["mean"]
            record[f"{key}_ci95"] = row[key]["half_width"]
        rows.append(record)
    return pd.DataFrame(rows)


def _shown(key: str, interval: dict[str, float]) -> str:
    mean, half = interval["mean"], interval["half_width"]
    if math.isnan(mean):
        return "n/a"
    if key in PERCENT:
        return f"{mean:.1%} ± {half:.1%}"
    if key in ("cost_pounds", "block_contract_pounds"):
        return f"£{mean:,.0f} ± {half:,.0f}"
    return f"{mean:,.2f} ± {half:,.2f}"


def write_outputs(scenario: Scenario, outcome: Outcome, out_dir: Path) -> list[Path]:
    """comparison.csv, comparison.json, results.json, the charts and report.html."""
    out_dir.mkdir(parents=True, exist_ok=True)
    table = comparison(outcome)
    written = []
    write_text(out_dir / "comparison.csv", table.to_csv(index=False).rstrip("\n"))
    summary = {
        "seconds": round(outcome.seconds, 2),
        "workers": outcome.workers,
        **_settings(scenario),
    }
    write_text(
        out_dir / "comparison.json", json.dumps({**summary, "variants": outcome.summary}, indent=1)
    )
    write_text(out_dir / "results.json", json.dumps(outcome.results, indent=1))
    written += [out_dir / n for n in ("comparison.csv", "comparison.json", "results.json")]
    charts = {
        "served.png": ("Requests served by priority (95% CI)", _served_chart(outcome)),
        "unmet_by_locality.png": (
            "Unmet by locality (lost or still waiting)",
            _locality_chart(outcome),
        ),
        "occupancy.png": ("Bed occupancy over the year", _occupancy_chart(outcome)),
    }
    curve = _capacity_curve(scenario, outcome)
    if curve is not None:
        charts["capacity_curve.png"] = ("Capacity curve", curve)
    for name, (_, png) in charts.items():
        write_bytes(out_dir / name, png)
        written.append(out_dir / name)
    write_text(out_dir / "report.html", _report(scenario, outcome, table, charts))
    written.append(out_dir / "report.html")
    return written


def _settings(scenario: Scenario) -> dict[str, Any]:
    sim = scenario.simulation
    return {
        "weeks": sim.weeks,
        "replications": sim.replications,
        "engine": sim.engine,
        "time_limit": sim.time_limit,
        "seed": sim.seed,
    }


def _png(figure: Any) -> bytes:
    import io

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def _served_chart(outcome: Outcome) -> bytes:
    keys = [
        ("served_crisis", "crisis"),
        ("served_health_appointment", "health appt"),
        ("served_planned", "planned"),
    ]
    names = list(outcome.summary)
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(keys)
    x = np.arange(len(names))
    for i, (key, label) in enumerate(keys):
        means = [outcome.summary[n][key]["mean"] * 100 for n in names]
        errors = [outcome.summary[n][key]["half_width"] * 100 for n in names]
        axes.bar(x + i * width, means, width, yerr=errors, capsize=3, label=label)
    axes.set_xticks(x + width, names, rotation=20, ha="right", fontsize=8)
    axes.set_ylabel("% of requests served")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=8)
    return _png(figure)


def _locality_chart(outcome: Outcome) -> bytes:
    names = list(outcome.summary)
    localities = sorted({loc for n in names for loc in outcome.summary[n]["unmet_by_locality"]})
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.8 / max(1, len(names))
    x = np.arange(len(localities))
    for i, name in enumerate(names):
        cells = outcome.summary[name]["unmet_by_locality"]
        means = [cells.get(loc, {"mean": 0})["mean"] for loc in localities]
        errors = [cells.get(loc, {"half_width": 0})["half_width"] for loc in localities]
        axes.bar(x + i * width, means, width, yerr=errors, capsize=2, label=name)
    axes.set_xticks(x + width * (len(names) - 1) / 2, localities, fontsize=8)
    axes.set_ylabel("requests unmet in the year")
    axes.legend(fontsize=7)
    return _png(figure)


def _occupancy_chart(outcome: Outcome) -> bytes:
    figure, axes = plt.subplots(figsize=(8, 3.5))
    for name, row in outcome.summary.items():
        weeks = row["occupancy_by_week"]
        axes.plot(range(1, len(weeks) + 1), [w * 100 for w in weeks], label=name)
    axes.set_xlabel("week")
    axes.set_ylabel("% of block bed-nights held")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=7)
    return _png(figure)


def _capacity_curve(scenario: Scenario, outcome: Outcome) -> bytes | None:
    swept = [v for v in scenario.variants if v.sweep is not None]
    if not swept:
        return None
    figure, axes = plt.subplots(figsize=(8, 3.5))
    # The wait for a planned break, in weeks, on its own axis: extra capacity often
    # shows there first (sooner breaks) rather than in more requests served.
    waits = axes.twinx()
    # (axes, KPI, label, scale, style) of each line drawn per sweep
    lines: tuple[tuple[Any, str, str, int, dict[str, Any]], ...] = (
        (axes, "served_stays", "stays served", 100, {"marker": "o"}),
        (axes, "crisis_turned_away", "crisis stays turned away", 100, {"marker": "o"}),
        (
            waits, "planned_wait_weeks", "wait for a planned break (weeks, right)", 1,
            {"marker": "s", "linestyle": "--", "color": "#555"},
        ),
    )  # fmt: skip
    for sweep in sorted({v.sweep for v in swept if v.sweep}):
        points = [v for v in swept if v.sweep == sweep]
        x = [float(v.sweep_value or 0) for v in points]
        for on, key, label, scale, style in lines:
            means = [outcome.summary[v.name][key]["mean"] * scale for v in points]
            errors = [outcome.summary[v.name][key]["half_width"] * scale for v in points]
            on.errorbar(
                x, means, yerr=errors, capsize=3, label=f"{sweep}: {label}", **style
            )  # fmt: skip
    waits.set_ylabel("weeks")
    waits.set_ylim(bottom=0)
    axes.set_xlabel("swept value")
    axes.set_ylabel("%")
    handles, labels = axes.get_legend_handles_labels()
    more, more_labels = waits.get_legend_handles_labels()
    axes.legend(
        handles + more, labels + more_labels, fontsize=7, loc="upper center",
        bbox_to_anchor=(0.5, -0.16), frameon=False,
    )  # fmt: skip
    return _png(figure)


def _report(
    scenario: Scenario, outcome: Outcome, table: pd.DataFrame, charts: dict[str, Any]
) -> str:
    sim = scenario.simulation
    shown = table[["variant", *[label for label, _ in KPIS.values()]]]
    images = "".join(
        f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
        f"src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        for title, png in charts.values()
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>What-if capacity report</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:24px;max-width:1100px;color:#222}"
        "table{border-collapse:collapse;font-size:13px}"
        "th,td{border-bottom:1px solid #ddd;padding:3px 8px}"
        "img{max-width:100%;border:1px solid #eee}</style></head><body>"
        "<h1>What-if capacity report</h1>"
        f"<p>{sim.weeks} weeks x {sim.replications} replications per variant, engine {sim.engine}"
        f" (time_limit {sim.time_limit} s, seed {sim.seed}); {outcome.workers} worker(s), "
        f"{outcome.seconds:.1f} s. Figures are means with 95% confidence intervals.</p>"
        f"{shown.to_html(index=False, border=0)}{images}</body></html>"
    )
