"""What-if planner benchmark: the same scenarios on a LocalCluster of 1 and of 2
workers, side by side.

The issue's configuration (county tier, greedy engine, 52 weeks x 10 replications
x 4 scenarios) is the default; ``--weeks`` and ``--replications`` shrink it.
Writes ``benchmarks/results/whatif.json`` and ``whatif.md``.

    .venv/bin/python -m benchmarks.whatif_bench [--tier county] [--weeks 52] [--replications 10]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from scheduler.whatif.run import run_scenario
from scheduler.whatif.scenario import parse_scenario

VARIANTS = [
    {"name": "today"},
    {
        "name": "a unit loses a bed",
        "changes": [{"kind": "remove_beds", "unit": "U-01", "count": 1}],
    },
    {"name": "two more beds", "changes": [{"kind": "add_beds", "unit": "U-02", "count": 2}]},
    {"name": "demand up 10%", "changes": [{"kind": "scale_demand", "factor": 1.1}]},
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tier", default="county")
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    data = {
        "base": {"tier": args.tier, "seed": 1},
        "simulation": {
            "weeks": args.weeks,
            "replications": args.replications,
            "engine": "greedy",
            "seed": 0,
        },
        "variants": VARIANTS,
    }
    rows = []
    for workers in (1, 2):
        scenario = parse_scenario(data)
        started = time.perf_counter()
        outcome = run_scenario(scenario, workers=workers)
        seconds = time.perf_counter() - started
        week_seconds = sum(r["seconds"] for r in outcome.results) / (
            len(outcome.results) * args.weeks
        )
        rows.append(
            {
                "workers": workers,
                "seconds": round(seconds, 1),
                "seconds_per_simulated_week": round(week_seconds, 3),
                # Other work on the machine shows here (above the run's own workers).
                "load_average_1min_after": round(os.getloadavg()[0], 2),
            }
        )
        print(rows[-1], flush=True)
    speedup = rows[0]["seconds"] / rows[1]["seconds"]
    tasks = len(VARIANTS) * args.replications
    result = {
        "tier": args.tier,
        "engine": "greedy",
        "weeks": args.weeks,
        "replications": args.replications,
        "scenarios": len(VARIANTS),
        "tasks": tasks,
        "runs": rows,
        "speedup_2_over_1": round(speedup, 2),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "whatif.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        f"{args.tier}, greedy, {args.weeks} weeks x {args.replications} replications"
        f" x {len(VARIANTS)} scenarios ({tasks} tasks)",
        "",
        "| LocalCluster workers | seconds | seconds per simulated week (in a worker)"
        " | load average after |",
        "|---|---|---|---|",
        *(
            f"| {r['workers']} | {r['seconds']} | {r['seconds_per_simulated_week']}"
            f" | {r['load_average_1min_after']} |"
            for r in rows
        ),
        "",
        f"2 workers vs 1: {speedup:.2f}x faster",
    ]
    full = 52 * 10 / (args.weeks * args.replications)
    if full != 1:  # tasks are independent and alike: time grows with weeks x replications
        lines.append(
            f"Projected for 52 weeks x 10 replications (x{full:.1f}): "
            + ", ".join(f"{r['workers']} worker(s) {r['seconds'] * full:.0f} s" for r in rows)
        )
    (args.out / "whatif.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
