"""Plans of every bundled fixture, written without their timings, to compare two trees.

A behaviour-preserving change must leave these files byte-identical::

    python scripts/plan_identity.py --out /tmp/before     # on the commit before
    python scripts/plan_identity.py --out /tmp/after      # on the change
    diff -r /tmp/before /tmp/after

Greedy runs on every fixture (tiny, borough, county and the rule fixtures). CP-SAT runs
with one worker and random seed 0 where its stages are proven within the limit, so that
the plan does not depend on the wall clock (tiny, borough, the rule fixtures); on county
its time limit binds, so its plan is not reproducible even on one commit: it is written
with ``--county-cpsat`` for an objective comparison, not for a byte check. With
``--deterministic`` county's CP-SAT plan is written too, timed by CP-SAT's deterministic
time instead of the wall clock (``allocate(..., deterministic=True)``, ``--county-limit``
deterministic seconds): that one is reproducible, and byte-checked like the rest.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.allocate import allocate  # noqa: E402
from scheduler.files import load_problem  # noqa: E402

TIMINGS = ("seconds", "lp_seconds", "timings")  # wall-clock figures: differ run to run


def _fixtures(county_cpsat: bool) -> list[tuple[Path, str, bool]]:
    tiers = [ROOT / "fixtures" / f"{tier}-1.json" for tier in ("tiny", "borough")]
    rules = sorted((ROOT / "fixtures" / "rules").glob("*.json"))
    county = ROOT / "fixtures" / "county-1.json"
    runs = [(path, engine, False) for path in [*tiers, *rules] for engine in ("greedy", "cpsat")]
    runs.append((county, "greedy", False))
    if county_cpsat:
        runs.append((county, "cpsat", False))
    return runs


def _without_timings(plan: dict) -> dict:
    solver = {k: v for k, v in plan["solver"].items() if k not in TIMINGS}
    solver["notes"] = [re.sub(r"seconds=[0-9.]+", "seconds=", n) for n in solver.get("notes", [])]
    plan["solver"] = solver
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--county-cpsat", action="store_true")
    parser.add_argument("--deterministic", action="store_true")
    parser.add_argument("--county-limit", type=float, default=5.0, help="deterministic seconds")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = _fixtures(args.county_cpsat)
    if args.deterministic:
        runs.append((ROOT / "fixtures" / "county-1.json", "cpsat", True))
    for path, engine, deterministic in runs:
        problem = load_problem(path)
        result = allocate(
            problem,
            engine=engine,
            time_limit=args.county_limit if deterministic else args.time_limit,
            workers=1,
            seed=0,
            deterministic=deterministic,
        )
        plan = _without_timings(json.loads(result.plan.model_dump_json()))
        mode = ".deterministic" if deterministic else ""
        target = args.out / f"{path.stem}.{engine}{mode}.json"
        target.write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
        print(f"{target.name}: {result.status} objective={result.objective}", flush=True)
    _generated_and_simulated(args.out)


def _generated_and_simulated(out: Path) -> None:
    """The synthetic councils (seed 1) and a few weeks of the what-if simulation."""
    from scheduler.whatif.run import tasks_of
    from scheduler.whatif.scenario import load_scenario
    from scheduler.whatif.simulate import run_replication

    for tier in ("tiny", "borough", "county"):
        (out / f"generated-{tier}-1.json").write_text(_generated(tier) + "\n")
    overrides = {"weeks": 6, "replications": 2}
    scenario = load_scenario(ROOT / "examples" / "scenarios.toml", overrides)
    results = [run_replication(task) for task in tasks_of(scenario)]
    for result in results:
        result.pop("seconds", None)
    (out / "whatif.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"generated tiers and {len(results)} what-if replications", flush=True)


def _generated(tier: str) -> str:
    from scheduler.synthetic import generate

    return generate(tier, 1).model_dump_json(indent=1)


if __name__ == "__main__":
    main()
