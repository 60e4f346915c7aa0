"""The ``respite`` command line: allocate, check, schema, fixtures.

Bad input ends with one readable line on stderr and exit code 2; a plan that
breaks a rule ends ``respite check`` with exit code 1. Never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from scheduler.io import load_plan, load_problem, write_json
from scheduler.model import InvalidProblem, Plan, Problem, plan_json_schema, problem_json_schema

__all__ = ["app", "main"]

app = typer.Typer(
    name="respite",
    help="Allocate carers' respite beds and sitting hours.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
fixtures_app = typer.Typer(help="Generate problem files.", no_args_is_help=True)
app.add_typer(fixtures_app, name="fixtures")

out = Console()
err = Console(stderr=True)


class Engine(StrEnum):
    cpsat = "cpsat"
    greedy = "greedy"


class Tier(StrEnum):
    tiny = "tiny"
    borough = "borough"
    county = "county"
    region = "region"
    nation = "nation"


class SchemaKind(StrEnum):
    problem = "problem"
    plan = "plan"


def fail(message: str, code: int = 2) -> None:
    """One readable line on stderr and a non-zero exit."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _load_problem(path: Path) -> Problem:
    try:
        return load_problem(path)
    except InvalidProblem as exc:
        first = exc.errors[0]
        more = f" (and {len(exc.errors) - 1} more; see above)" if len(exc.errors) > 1 else ""
        for line in exc.errors[1:20]:
            err.print(f"  {line}", highlight=False)
        fail(f"{path}: {first}{more}")
        raise  # unreachable: fail() exits


@app.command()
def allocate(
    problem_path: Annotated[Path, typer.Argument(metavar="PROBLEM", help="Problem file (JSON).")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the plan.")] = Path(
        "plan.json"
    ),
    engine: Annotated[Engine, typer.Option(help="Solver engine.")] = Engine.cpsat,
    time_limit: Annotated[
        float, typer.Option(help="CP-SAT time limit in seconds.", min=0.1)
    ] = 10.0,
    workers: Annotated[int, typer.Option(help="CP-SAT workers.", min=1)] = 2,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    previous: Annotated[
        Path | None, typer.Option(help="Previous plan, to keep changes few when re-planning.")
    ] = None,
    lp_bound: Annotated[
        bool, typer.Option("--lp-bound", help="Also compute LP-relaxation bounds (GLOP).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Allocate beds and sitting hours and write the plan file."""
    from scheduler.allocate import Progress
    from scheduler.allocate import allocate as run_allocation

    problem = _load_problem(problem_path)
    previous_plan = None
    if previous is not None:
        try:
            previous_plan = load_plan(previous)
        except InvalidProblem as exc:
            fail(f"{previous}: {exc.errors[0]}")
    started = time.perf_counter()
    with err.status(f"Allocating with {engine.value}...") as status:

        def show(progress: Progress) -> None:
            gap = "" if progress.gap is None else f", gap {progress.gap:.2%}"
            status.update(
                f"Allocating with {engine.value}: {progress.stage} "
                f"{progress.objective:,.0f}{gap} at {progress.seconds:.1f} s"
            )

        result = run_allocation(
            problem,
            engine=engine.value,
            time_limit=time_limit,
            workers=workers,
            seed=seed,
            previous=previous_plan,
            on_progress=show,
            lp_bound=lp_bound,
        )
    write_json(out_path, result.plan)
    if result.status == "infeasible_bookings":
        for note in getattr(result.plan.solver, "notes", []):
            err.print(f"  {note}", highlight=False)
        fail("the confirmed bookings themselves break the rules above; nothing was allocated", 1)
    if not quiet:
        print_summary(problem, result.plan)
    err.print(
        f"wrote {out_path} ({engine.value}, {result.status}, "
        f"{time.perf_counter() - started:.2f} s)",
        highlight=False,
    )


@app.command()
def check(
    problem_path: Annotated[Path, typer.Argument(metavar="PROBLEM")],
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN")],
) -> None:
    """Check a plan against every hard rule; exit 1 and list violations if it breaks any."""
    from scheduler.checker import check as check_plan
    from scheduler.checker import summary

    problem = _load_problem(problem_path)
    try:
        plan = load_plan(plan_path)
    except InvalidProblem as exc:
        fail(f"{plan_path}: {exc.errors[0]}")
        return
    violations = check_plan(problem, plan)
    for violation in violations:
        out.print(str(violation), highlight=False, soft_wrap=True)
    if violations:
        err.print(f"invalid: {len(violations)} violation(s)", highlight=False)
        raise typer.Exit(1)
    out.print(summary(problem, plan), highlight=False)


@app.command()
def schema(kind: Annotated[SchemaKind, typer.Argument(help="problem or plan")]) -> None:
    """Print the JSON Schema of the problem or plan file."""
    document = problem_json_schema() if kind is SchemaKind.problem else plan_json_schema()
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


@fixtures_app.command("generate")
def fixtures_generate(
    tier: Annotated[Tier, typer.Option(help="Size tier.")],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the problem.")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Generate a realistic problem of a size tier, deterministic for a seed."""
    from scheduler.fixtures import generate

    started = time.perf_counter()
    with err.status(f"Generating {tier.value} (seed {seed})..."):
        problem = generate(tier.value, seed)
        write_json(out_path, problem)
    err.print(
        f"wrote {out_path}: {len(problem.cases)} cases, {len(problem.requests)} requests, "
        f"{sum(len(u.beds) for u in problem.units)} beds in {time.perf_counter() - started:.1f} s",
        highlight=False,
    )


def print_summary(problem: Problem, plan: Plan) -> None:
    """Readable tables: served vs requested by priority and locality, use, budgets, unmet."""
    from scheduler.report import summary_tables

    for table in summary_tables(problem, plan):
        out.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
