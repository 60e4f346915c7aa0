"""The ``respite`` command line: allocate, check, schema, fixtures.

Bad input ends with one readable line on stderr and exit code 2; a plan that
breaks a rule ends ``respite check`` with exit code 1. Never a traceback: what a
command does not catch itself (a number too large, a file nested too deeply, an
``--out`` that cannot be written) is turned into one line by the command group
(:class:`OneLineErrors`); ``RESPITE_TRACEBACK=1`` shows the traceback instead.
"""

from __future__ import annotations

import json
import os
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from typer._click.core import Context  # typer bundles its own click
from typer._click.exceptions import ClickException
from typer.core import TyperGroup

from scheduler.files import (
    load_plan,
    load_problem,
    printable_line,
    write_bytes,
    write_json,
    write_text,
)
from scheduler.model import (
    InvalidProblem,
    Kpis,
    Plan,
    Problem,
    ProblemError,
    plan_json_schema,
    problem_json_schema,
)

__all__ = ["OneLineErrors", "app", "fail", "main", "one_line", "policy_rows", "writable"]

TRACEBACK = "RESPITE_TRACEBACK"  # set (to anything) to see a failing command's traceback


class OneLineErrors(TyperGroup):
    """Every command's unexpected failure as one line on stderr and exit code 2."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):
            raise
        except Exception as exc:
            if os.environ.get(TRACEBACK):
                raise
            fail(one_line(exc))


def one_line(exc: Exception) -> str:
    """What went wrong, in one line a user can act on."""
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to read"
    if isinstance(exc, OverflowError):
        return f"a number or date is too large ({printable_line(exc)})"
    if isinstance(exc, MemoryError):
        return "out of memory: the input is too large"
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.filename}: {exc.strerror or printable_line(exc)}"
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    if isinstance(exc, ValueError):
        return printable_line(exc)
    what = printable_line(exc)[:200]
    return f"failed unexpectedly ({type(exc).__name__}: {what}); set {TRACEBACK}=1 to see where"


app = typer.Typer(
    name="respite",
    help="Allocate carers' respite beds and sitting hours.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneLineErrors,
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


def writable(path: Path, option: str = "--out") -> Path:
    """``path``, if a file can be written there; else one line and exit 2, before any work."""
    if path.is_dir():
        fail(f"{option}: {path} is a folder; name a file in it")
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    if not folder.is_dir():
        fail(f"{option}: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        fail(f"{option}: {folder} cannot be written to")
    return path


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

    writable(out_path)
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

    if out_path is not None:
        writable(out_path)
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
    writable(out_path)
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

    _sheet_suffix(writable(out_path))
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

    _sheet_suffix(writable(out_path))
    problem = _load_problem(problem_path)
    _write_sheets(out_path, plan_frames(problem, _load_plan(plan_path)))


def _sheet_suffix(out_path: Path) -> str:
    suffix = out_path.suffix.lower()
    if suffix not in (".xlsx", ".zip"):
        fail(f"--out: '{out_path.name}' must end in .xlsx (a workbook) or .zip (CSV files)")
    return suffix


def _write_sheets(out_path: Path, frames: dict[str, Any]) -> None:
    from scheduler.sheets import write_csv_zip, write_xlsx

    data = write_xlsx(frames) if _sheet_suffix(out_path) == ".xlsx" else write_csv_zip(frames)
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

    if out_dir.exists() and not out_dir.is_dir():
        fail(f"--out: {out_dir} is a file; name a folder for the results")
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

    writable(out_path)
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
    """Readable tables: served vs requested by priority and locality, use, budgets, unmet,
    and the policy v2 figures (money added vs block contracts, contributions, the crisis
    reserve, agency staff)."""
    from scheduler.reports.plan_summary import summary_tables

    for table in summary_tables(problem, plan):
        out.print(table)
    rows = policy_rows(plan.kpis)
    if rows:
        policy = Table(title="Money and policy")
        policy.add_column("figure")
        policy.add_column("value", justify="right")
        for label, value in rows:
            policy.add_row(label, value)
        out.print(policy)


# The v2 KPIs (scheduler.kpis) as the summary shows them: key, label, pence or a count.
POLICY_KPIS = (
    ("spend_added_pence", "spend the plan adds (spot, agency, sitting)", "pence"),
    ("block_contract_pence", "block contracts for these nights (paid anyway)", "pence"),
    ("carer_contributions_pence", "carers' contributions (chargeable nights)", "pence"),
    ("agency_staff_nights", "agency night staff (staff-nights)", "count"),
    ("crisis_reserve_bed_nights_held", "crisis reserve bed-nights held", "count"),
    ("crisis_reserve_bed_nights_released", "crisis reserve bed-nights released", "count"),
)


def policy_rows(kpis: Kpis) -> list[tuple[str, str]]:
    """The v2 figures a plan's KPIs hold, labelled and formatted; none for a plan made
    before they were computed."""
    extra = kpis.model_extra or {}
    rows = []
    for key, label, kind in POLICY_KPIS:
        if isinstance(value := extra.get(key), int | float):
            rows.append((label, f"£{value / 100:,.2f}" if kind == "pence" else f"{value:,.0f}"))
    return rows


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
