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
from typing import Annotated, Any

import typer
from rich.console import Console

from scheduler.files import load_plan, load_problem, write_bytes, write_json, write_text
from scheduler.model import (
    InvalidProblem,
    Plan,
    Problem,
    ProblemError,
    plan_json_schema,
    problem_json_schema,
)

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


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"


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
        for error in exc.errors[1:20]:
            err.print(f"  {error}", highlight=False)
        fail(f"{_at(path, first)}{more}")
        raise  # unreachable: fail() exits


def _load_plan(path: Path) -> Plan:
    try:
        return load_plan(path)
    except InvalidProblem as exc:
        fail(_at(path, exc.errors[0]))
        raise  # unreachable: fail() exits


def _at(path: Path, error: ProblemError) -> str:
    """``error``'s line prefixed with the file it is about, unless it is the file itself."""
    return str(error) if error.item == str(path) else f"{path}: {error}"


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
    from scheduler.allocate import Progress, SolveStatus
    from scheduler.allocate import allocate as run_allocation

    problem = _load_problem(problem_path)
    previous_plan = None if previous is None else _load_plan(previous)
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
    if result.status == SolveStatus.INFEASIBLE_BOOKINGS:
        for note in result.plan.solver.notes or []:
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
    plan = _load_plan(plan_path)
    violations = check_plan(problem, plan)
    for violation in violations:
        out.print(str(violation), highlight=False, soft_wrap=True)
    if violations:
        err.print(f"invalid: {len(violations)} violation(s)", highlight=False)
        raise typer.Exit(1)
    out.print(summary(problem, plan), highlight=False)


@app.command()
def report(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="Plan file (JSON).")],
    problem_path: Annotated[
        Path, typer.Option("--problem", "-p", help="The problem the plan answers.")
    ],
    name: Annotated[
        str,
        typer.Option(
            "--report",
            "-r",
            help="occupancy, unmet, served, carers, budgets, sitters, or all.",
        ),
    ] = "all",
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="table (terminal), json, csv, or html (one page)."),
    ] = ReportFormat.table,
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here instead of the terminal.")
    ] = None,
) -> None:
    """Reports on a plan: occupancy, unmet demand, served share, carers, budgets, sitters."""
    from scheduler.reports.tables import REPORTS, render

    problem = _load_problem(problem_path)
    plan = _load_plan(plan_path)
    if name != "all" and name not in REPORTS:
        fail(f"--report: '{name}' is not one of {', '.join(REPORTS)} or all")
    names = list(REPORTS) if name == "all" else [name]
    if fmt is ReportFormat.csv and len(names) > 1:
        fail("--report: CSV holds one report; name one, e.g. --report unmet")
    if fmt is ReportFormat.html:
        from scheduler.reports.html_page import summary_html

        text = summary_html(problem, plan, title=f"Respite allocation: {plan_path.name}")
    elif fmt is ReportFormat.table:
        _print_reports(problem, plan, names)
        return
    elif fmt is ReportFormat.csv:
        text = render(REPORTS[names[0]](problem, plan), "csv")
    else:
        frames = {n: json.loads(render(REPORTS[n](problem, plan), "json")) for n in names}
        text = json.dumps(frames if name == "all" else frames[name], indent=1, ensure_ascii=False)
    if out_path is None:
        out.print(text, markup=False, highlight=False, soft_wrap=True)
        return
    write_text(out_path, text)
    err.print(f"wrote {out_path}", highlight=False)


def _print_reports(problem: Problem, plan: Plan, names: list[str]) -> None:
    from rich.table import Table

    from scheduler.reports.tables import REPORTS

    for report_name in names:
        frame = REPORTS[report_name](problem, plan)
        table = Table(title=f"{report_name} ({len(frame)} rows)")
        for column in frame.columns:
            table.add_column(str(column))
        for row in frame.head(TABLE_ROWS).itertuples(index=False):
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
        if len(frame) > TABLE_ROWS:
            table.caption = f"first {TABLE_ROWS}; --format csv --report {report_name} for all"
        out.print(table)


TABLE_ROWS = 25


SHEET_ERRORS_SHOWN = 50


@app.command("import")
def import_sheet(
    sheet_path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="An .xlsx workbook, a .zip of CSV files, or a directory of CSV files.",
        ),
    ],
    out_path: Annotated[Path, typer.Option("--out", "-o", help="The problem file to write.")],
) -> None:
    """Turn a spreadsheet (made from `respite template`) into a problem file.

    Every bad cell is listed by sheet, row and column; if there is any, nothing is written.
    """
    from rich.markup import escape

    from scheduler.sheets import InvalidSpreadsheet, problem_from_workbook, read_workbook

    if not sheet_path.exists():
        fail(f"{sheet_path}: no such file or directory")
    try:
        problem = problem_from_workbook(read_workbook(sheet_path))
    except InvalidSpreadsheet as exc:
        shown = SHEET_ERRORS_SHOWN
        more = f"; the first {shown} below" if len(exc.errors) > shown else ""
        summary = f"{sheet_path}: {len(exc.errors)} problem(s), nothing written{more}"
        err.print(f"[bold red]error:[/] {escape(summary)}", highlight=False, soft_wrap=True)
        for error in exc.errors[:shown]:
            err.print(f"  {error}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(2) from None
    write_json(out_path, problem)
    err.print(
        f"wrote {out_path}: {len(problem.cases)} cases, {len(problem.requests)} requests, "
        f"{sum(len(u.beds) for u in problem.units)} beds, {len(problem.providers)} providers",
        highlight=False,
    )


@app.command()
def template(
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="template.xlsx, or a .zip for CSV files.")
    ] = Path("template.xlsx"),
    problem_path: Annotated[
        Path | None,
        typer.Option("--problem", "-p", help="Fill it from this problem instead of the example."),
    ] = None,
) -> None:
    """Write the spreadsheet template: a README sheet and one sheet per kind, with an example."""
    from scheduler.sheets import template_frames
    from scheduler.synthetic import generate

    example = generate("tiny", 1) if problem_path is None else _load_problem(problem_path)
    _write_sheets(out_path, template_frames(example))


@app.command()
def export(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="Plan file (JSON).")],
    problem_path: Annotated[Path, typer.Option("--problem", "-p", help="Its problem.")],
    out_path: Annotated[
        Path, typer.Option("--out", "-o", help="plan.xlsx, or a .zip for CSV files.")
    ] = Path("plan.xlsx"),
) -> None:
    """Write a plan as a spreadsheet: stays, visits and unmet requests, readable columns."""
    from scheduler.sheets import plan_frames

    problem = _load_problem(problem_path)
    _write_sheets(out_path, plan_frames(problem, _load_plan(plan_path)))


def _write_sheets(out_path: Path, frames: dict[str, Any]) -> None:
    from scheduler.sheets import write_csv_zip, write_xlsx

    suffix = out_path.suffix.lower()
    if suffix not in (".xlsx", ".zip"):
        fail(f"--out: '{out_path.name}' must end in .xlsx (a workbook) or .zip (CSV files)")
    data = write_xlsx(frames) if suffix == ".xlsx" else write_csv_zip(frames)
    write_bytes(out_path, data)
    err.print(f"wrote {out_path} ({', '.join(frames)})", highlight=False)


@app.command()
def whatif(
    scenario_path: Annotated[
        Path, typer.Argument(metavar="SCENARIOS", help="Scenario file (TOML).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for the results.")] = Path(
        "whatif"
    ),
    scheduler: Annotated[
        str | None, typer.Option(help="A Dask scheduler, e.g. tcp://host:8786 (default: local).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Local worker processes (default: one per core).", min=1)
    ] = None,
    replications: Annotated[int | None, typer.Option(help="Override [simulation].", min=2)] = None,
    weeks: Annotated[int | None, typer.Option(help="Override [simulation].", min=1)] = None,
) -> None:
    """Simulate a year of demand under each variant and compare them (tables, charts, report)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from scheduler.whatif.output import comparison, write_outputs
    from scheduler.whatif.run import KPIS, run_scenario
    from scheduler.whatif.scenario import ScenarioError, load_scenario

    overrides = {k: v for k, v in (("replications", replications), ("weeks", weeks)) if v}
    try:
        scenario = load_scenario(scenario_path, overrides)
    except ScenarioError as exc:
        fail(str(exc))
        return
    columns = (
        *Progress.get_default_columns()[:1],
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err) as bar:
        task = bar.add_task("simulating (variant, replication) tasks", total=None)
        outcome = run_scenario(
            scenario,
            workers=workers,
            scheduler=scheduler,
            on_done=lambda done, total: bar.update(task, completed=done, total=total),
        )
    table = comparison(outcome)
    from rich.table import Table

    shown = Table(
        title=f"What-if: {scenario_path.name} ({outcome.seconds:.1f} s, {outcome.workers} "
        f"worker{'s' if outcome.workers != 1 else ''})"
    )
    # A KPI a row, a variant a column: a dozen KPIs side by side would not fit a terminal.
    shown.add_column("KPI (mean ± 95% half-width)")
    for variant in table["variant"]:
        shown.add_column(str(variant), justify="right")
    for label, _ in KPIS.values():
        shown.add_row(label, *map(str, table[label]))
    out.print(shown)
    for path in write_outputs(scenario, outcome, out_dir):
        err.print(f"wrote {path}", highlight=False)


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
    from scheduler.synthetic import generate

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
    from scheduler.reports.plan_summary import summary_tables

    for table in summary_tables(problem, plan):
        out.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
