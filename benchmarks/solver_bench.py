"""Solver benchmark: greedy vs CP-SAT on named tiers, in one run.

    python -m benchmarks.solver_bench --workers 2 [--tiers borough county region] [--out DIR]

Each (tier, engine) solve runs in its own process so that peak memory (max RSS)
is measured per solve. Writes ``DIR/solver.json`` and ``DIR/solver.md``.
Time limits per tier are those of issue 3 (borough 2 s, county 10 s,
region 60 s, nation 300 s); ``num_workers`` and ``random_seed`` are stated in
every row.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import time
from pathlib import Path
from typing import Any

TIME_LIMITS = {"tiny": 1.0, "borough": 2.0, "county": 10.0, "region": 60.0, "nation": 300.0}
SEEDS = {"tiny": 1, "borough": 1, "county": 1, "region": 1, "nation": 1}


def _solve(tier: str, engine: str, workers: int, seed: int, queue: mp.Queue) -> None:
    from scheduler.allocate import allocate
    from scheduler.checker import check
    from scheduler.files import load_problem
    from scheduler.synthetic import generate

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / f"{tier}-{SEEDS[tier]}.json"
    problem = load_problem(fixture) if fixture.exists() else generate(tier, SEEDS[tier])
    started = time.perf_counter()
    result = allocate(
        problem,
        engine=engine,
        time_limit=TIME_LIMITS[tier],
        workers=workers,
        seed=seed,
        lp_bound=engine == "cpsat",
    )
    seconds = time.perf_counter() - started
    violations = check(problem, result.plan)
    kpis, info = result.plan.kpis, result.plan.solver
    by_priority = getattr(kpis, "by_priority", {}) or {}
    crisis = by_priority.get("crisis", {}) if isinstance(by_priority, dict) else {}
    queue.put(
        {
            "tier": tier,
            "engine": engine,
            "time_limit": TIME_LIMITS[tier],
            "num_workers": workers,
            "random_seed": seed,
            "status": result.status,
            "objective": str(result.objective),
            "tiers": info.tiers or {},
            "stages": info.stages or [],
            "bound": None if result.bound is None else str(result.bound),
            "gap": result.gap,
            "nights_served": kpis.nights_served,
            "nights_requested": kpis.nights_requested,
            "sitting_hours_served": round(kpis.sitting_minutes_served / 60, 1),
            "sitting_hours_requested": round(kpis.sitting_minutes_requested / 60, 1),
            "crisis_served_ratio": kpis.crisis_served_ratio,
            "crisis_detail": crisis,
            "seconds": round(seconds, 2),
            "lp_seconds": info.lp_seconds or 0.0,
            "gap_all_tiers": info.gap_all_tiers,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "checker_violations": len(violations),
        }
    )


def run_one(tier: str, engine: str, workers: int, seed: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_solve, args=(tier, engine, workers, seed, queue))
    proc.start()
    row = queue.get()
    proc.join()
    return row


def gain(ours: dict[str, Any], greedy: dict[str, Any]) -> dict[str, float | None]:
    """CP-SAT over greedy, as ratios of each headline tier."""

    def ratio(key: str) -> float | None:
        a, g = ours["tiers"][key]["value"], greedy["tiers"][key]["value"]
        return round(a / g, 4) if g else None

    return {
        "objective": round(int(ours["objective"]) / int(greedy["objective"]), 6),
        "crisis_units": ratio("crisis_units"),
        "health_appointment_units": ratio("health_appointment_units"),
        "need_weighted_units": ratio("need_weighted_units"),
        "nights_served": round(ours["nights_served"] / max(1, greedy["nights_served"]), 4),
        "sitting_hours_served": round(
            ours["sitting_hours_served"] / max(1e-9, greedy["sitting_hours_served"]), 4
        ),
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| tier | engine | time_limit | workers | seed | status | nights served "
        "| sitting h served | crisis served | crisis / HA / need-weighted units vs greedy "
        "| gap (service tiers) | gap (all tiers) | seconds (of which LP bound) | peak MB "
        "| checker |\n" + "|---" * 15 + "|\n"
    )
    lines = []
    for r in rows:
        gain = r.get("gain") or {}
        ratios = " / ".join(
            "" if gain.get(k) is None else f"{gain[k]:.3f}x"
            for k in ("crisis_units", "health_appointment_units", "need_weighted_units")
        )
        gap = "" if r["gap"] is None else f"{r['gap']:.2%}"
        gap_all = "" if r.get("gap_all_tiers") is None else f"{r['gap_all_tiers']:.2%}"
        lines.append(
            f"| {r['tier']} | {r['engine']} | {r['time_limit']} | {r['num_workers']} "
            f"| {r['random_seed']} | {r['status']} | {r['nights_served']}/{r['nights_requested']} "
            f"| {r['sitting_hours_served']}/{r['sitting_hours_requested']} "
            f"| {r['crisis_served_ratio']:.1%} | {ratios} | {gap} | {gap_all} "
            f"| {r['seconds']} ({r.get('lp_seconds') or 0:.1f}) | {r['peak_rss_mb']} "
            f"| {r['checker_violations']} violations |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tiers", nargs="+", default=["borough", "county", "region"], choices=list(TIME_LIMITS)
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for tier in args.tiers:
        greedy = run_one(tier, "greedy", args.workers, args.seed)
        ours = run_one(tier, "cpsat", args.workers, args.seed)
        ours["gain"] = gain(ours, greedy)
        ours["objective_at_least_greedy"] = int(ours["objective"]) >= int(greedy["objective"])
        rows += [greedy, ours]
        print(markdown([greedy, ours]).splitlines()[-1], flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "solver.json").write_text(json.dumps(rows, indent=1) + "\n")
    (args.out / "solver.md").write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
