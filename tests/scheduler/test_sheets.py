"""Spreadsheets: round trips, every bad cell named, fuzzed sheets, the CLI."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.cli import app
from scheduler import sheets as sheets_module
from scheduler.files import load_problem
from scheduler.model import Alternative, ExtraStaff, Plan, PlannedStay, Policy, Problem, Unmet
from scheduler.sheets import (
    HOW_TO,
    SHEETS,
    CellError,
    InvalidSpreadsheet,
    problem_from_workbook,
    problem_to_frames,
    read_workbook,
    template_frames,
    write_csv_zip,
    write_xlsx,
)
from scheduler.synthetic import generate

TINY = generate("tiny", 1)


def _unusual(problem: Problem) -> Problem:
    """``problem`` with what a fixture lacks: other weights, no eligibility, an ID that
    looks like a formula, capitalised words that are still text."""
    data = problem.model_dump(mode="json")
    data["weights"] = {**data["weights"], "need_wait": 7, "night_units": 90}
    data["cases"][0]["eligible"] = []
    data["localities"][0]["name"] = "=SUM(A1:A9) & Sons"
    return load_problem(data)


@pytest.mark.parametrize("tier", ["tiny", "borough"])
@pytest.mark.parametrize("write", [write_xlsx, write_csv_zip])
def test_a_problem_survives_the_spreadsheet(tier, write):
    problem = load_problem(f"fixtures/{tier}-1.json")
    assert problem_from_workbook(read_workbook(write(problem_to_frames(problem)))) == problem


@pytest.mark.parametrize("write", [write_xlsx, write_csv_zip])
def test_weights_empty_lists_and_formula_like_text_survive(write):
    problem = _unusual(TINY)
    assert problem != TINY  # the changes are real
    assert problem_from_workbook(read_workbook(write(problem_to_frames(problem)))) == problem


def _v2(problem: Problem) -> Problem:
    """``problem`` with every v2 field away from its default: the council's policy, the
    planning date, a case's ledger, a unit's contract, reserve and agency staff, an
    exceptional request, an offered booking with agency staff, the new weights."""
    data = problem.model_dump(mode="json")
    data["policy"] = {
        "allowance_exempt": [],
        "spot_for": ["crisis", "health_appointment"],
        "sitting_bank_weeks": 6,
        "reserve_release_days": 3,
        "offer_hours": 24,
    }
    data["planned_on"] = data["horizon"]["first_night"]
    data["weights"] = {**data["weights"], "break_bonus_units": 45, "first_sitting_hours": 1.5}
    data["cases"][0].update(
        allowance_year_start="2024-10-01",
        sitting_hours_banked=3.5,
        sitting_hours_recent=12.25,
        contribution_per_night_pence=2150,
    )
    block = next(u for u in data["units"] if not u["spot"])
    block.update(
        block_cost_per_year_pence=18_250_000,
        crisis_reserve_beds=1,
        extra_night_staff_max=2,
        extra_night_staff_cost_pence=24000,
    )
    data["requests"][0].update(exceptional=True, exceptional_reason="carer in hospital; no bed")
    stay = next(b for b in data["bookings"] if "bed_id" in b)
    stay.update(status="offered", extra_night_staff=1)
    visit = next(b for b in data["bookings"] if "visit_id" in b)
    visit["status"] = "offered"
    return load_problem(data)


@pytest.mark.parametrize("write", [write_xlsx, write_csv_zip])
def test_every_v2_field_survives_the_spreadsheet(write):
    problem = _v2(TINY)
    assert problem.policy.allowance_exempt == [] and problem.bookings[0].status == "offered"
    assert problem_from_workbook(read_workbook(write(problem_to_frames(problem)))) == problem


V2_COLUMNS = {
    "settings": ["Planned on", *(header for header, _, _, _ in sheets_module.POLICY_COLUMNS)],
    "cases": [
        "Allowance year start",
        "Sitting hours banked",
        "Sitting hours recent",
        "Contribution per night (pence)",
    ],
    "units": [
        "Block cost per year (pence)",
        "Crisis reserve beds",
        "Extra night staff max",
        "Extra night staff cost (pence)",
    ],
    "stay requests": ["Exceptional", "Exceptional reason"],
    "bookings": ["Status", "Extra night staff"],
}


@pytest.mark.parametrize("write", [write_xlsx, write_csv_zip])
def test_a_v1_workbook_without_the_v2_columns_imports_with_defaults(write):
    frames = problem_to_frames(_v2(TINY))
    for sheet, columns in V2_COLUMNS.items():
        frames[sheet] = frames[sheet].drop(columns=columns)
    for header in ("Weight: break bonus units", "Weight: first sitting hours"):
        frames["settings"] = frames["settings"].drop(columns=[header])
    imported = problem_from_workbook(read_workbook(write(frames)))
    # every v2 field is back at its default; the rest is as written
    assert imported.policy == Policy() and imported.planned_on is None
    assert imported.weights.break_bonus_units is None
    assert imported.weights.first_sitting_hours == 2
    case = imported.cases[0]
    assert (case.allowance_year_start, case.sitting_hours_banked) == (None, 0)
    assert (case.sitting_hours_recent, case.contribution_per_night_pence) == (0, 0)
    for unit in imported.units:
        assert (unit.block_cost_per_year_pence, unit.crisis_reserve_beds) == (0, 0)
        assert (unit.extra_night_staff_max, unit.extra_night_staff_cost_pence) == (0, 0)
    assert not imported.requests[0].exceptional  # type: ignore[union-attr]
    assert {b.status for b in imported.bookings} == {"confirmed"}
    v2_case_fields = {
        "allowance_year_start",
        "sitting_hours_banked",
        "sitting_hours_recent",
        "contribution_per_night_pence",
    }
    assert [c.model_dump(exclude=v2_case_fields) for c in imported.cases] == [
        c.model_dump(exclude=v2_case_fields) for c in TINY.cases
    ]
    assert imported.localities == TINY.localities


def test_the_template_documents_every_v2_column():
    readme = template_frames(_v2(TINY))["README"]
    described = readme.set_index(["Sheet", "Column"])["Notes"]
    for sheet, columns in V2_COLUMNS.items():
        for column in columns:
            notes = described[(sheet, column)]
            # its own note, not the sheet's general description
            assert notes != sheets_module.SHEET_BY_NAME[sheet].help, (sheet, column)
    exempt = readme[readme["Column"] == "Policy: allowance exempt"].iloc[0]
    assert (exempt["Kind"], exempt["Example"]) == ("priorities, ';'-separated, or none", "none")


def test_the_plan_export_has_agency_staff_and_the_alternatives():
    problem = _v2(TINY)
    unit = next(u for u in problem.units if not u.spot)
    stay = PlannedStay(
        request_id="R-X", case_id="C-00001", unit_id=unit.unit_id, bed_id=unit.beds[0].bed_id,
        first_night=problem.horizon.first_night, nights=2, extra_night_staff=1,
    )  # fmt: skip
    extra = ExtraStaff(unit_id=unit.unit_id, night=problem.horizon.first_night, count=2)
    alternative = Alternative(
        text="A spot bed, if a manager approves it.", relaxes=["spot_approval", "travel"]
    )
    plan = Plan(
        stays=[stay],
        extra_staff=[extra],
        unmet=[Unmet(request_id="R-Y", reason="spot_not_approved", detail="No block bed.",
                     alternative=alternative)],
        solver={"engine": "hand", "status": "feasible"},
    )  # fmt: skip
    frames = sheets_module.plan_frames(problem, plan)
    assert frames["stays"].loc[0, "Extra night staff"] == 1
    agency = frames["agency staff"].iloc[0]
    # 2 staff x £240.00 a staff-night
    assert (agency["Unit ID"], agency["Agency staff"], agency["Cost (pence)"]) == (
        unit.unit_id,
        2,
        2 * 24000,
    )
    unmet = frames["unmet"].iloc[0]
    assert unmet["Alternative"] == "A spot bed, if a manager approves it."
    assert unmet["Alternative relaxes"] == "spot_approval; travel"


def test_real_excel_dates_times_and_numbers_import():
    # What Excel stores when a broker types 28/04/2025, 08:00 or 78: date, time, number cells.
    workbook = openpyxl.load_workbook(io.BytesIO(write_xlsx(problem_to_frames(TINY))))
    settings_sheet, rotas, cases = workbook["settings"], workbook["rotas"], workbook["cases"]
    settings_sheet["A2"].value = dt.datetime(2025, 4, 28)  # the first night, as a date cell
    rotas["C2"].value = dt.time(8, 0)  # Monday's first shift starts at 08:00
    rotas["D2"].value = dt.datetime(1899, 12, 30, 14, 0)  # ... and ends 14:00 (a dated time)
    cases["E2"].value = float(TINY.cases[0].age)  # the first case's age, as a float
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert problem_from_workbook(read_workbook(buffer.getvalue())) == TINY


def test_text_is_never_written_as_a_formula():
    data = write_xlsx(problem_to_frames(_unusual(TINY)))
    cell = openpyxl.load_workbook(io.BytesIO(data))["localities"]["B2"]
    assert cell.value == "=SUM(A1:A9) & Sons" and cell.data_type == "s"


def _errors(frames: dict[str, pd.DataFrame], write: Any = write_xlsx) -> list[CellError]:
    with pytest.raises(InvalidSpreadsheet) as caught:
        problem_from_workbook(read_workbook(write(frames)))
    return caught.value.errors


# (sheet, row index, column, new value, (sheet, spreadsheet row, column, problem contains)).
# The tiny fixture's sheets: row index 0 is spreadsheet row 2 (the header is row 1), and a
# column's letter is its place in SHEETS (cases: A Case ID, B Locality ID, C Home latitude,
# E Age, F Sex; units: I Default night staff, L Spot; stay requests: B Case ID, D Received,
# E Nights, F Earliest start; visits: C Minutes, F Window end; rotas: C Start, D End).
BAD_CELLS = [
    # wrong type: a word where a whole number goes
    ("cases", 0, "Age", "forty", ("cases", 2, "'Age' (E)", "'forty' is not a number")),
    # wrong type: half a night
    ("stay requests", 1, "Nights", 2.5, ("stay requests", 3, "'Nights' (E)", "not a whole")),
    # bad date: 31 February
    ("stay requests", 0, "Received", "31/02/2025", ("stay requests", 2, "'Received' (D)", "date")),
    # a choice outside the list
    ("cases", 1, "Sex", "other", ("cases", 3, "'Sex' (F)", "'other' is not one of female, male")),
    # missing required: an empty cell
    ("units", 0, "Default night staff", None, ("units", 2, "'Default night staff' (I)", "empty")),
    # a time that is no time
    ("rotas", 0, "Start", "9am", ("rotas", 2, "'Start' (C)", "'9am' is not a time HH:MM")),
    # yes/no
    ("units", 0, "Spot", "maybe", ("units", 2, "'Spot' (L)", "'maybe' is not yes or no")),
    # unknown locality reference: the problem's own check, placed on the case's cell
    ("cases", 0, "Locality ID", "L-99", ("cases", 2, "'Locality ID' (B)", "'L-99' is not a")),
    # unknown case reference, likewise on the request's cell
    ("stay requests", 1, "Case ID", "C-NOPE", ("stay requests", 3, "'Case ID' (B)", "not a case")),
    # negative number: the model's rule (>= 0), placed on the unit's cell
    (
        "units",
        0,
        "Default night staff",
        -1,
        ("units", 2, "'Default night staff' (I)", "or equal to 0"),
    ),
    # negative number on a child sheet: placed on the night's own row (U-01, 2025-05-01)
    ("night staff", 1, "Staff", -2, ("night staff", 3, "'Staff' (C)", "or equal to 0")),
    # a latitude off the globe, inside the case's home
    (
        "cases",
        2,
        "Home latitude",
        95,
        ("cases", 4, "'Home latitude' (C)", "less than or equal to 90"),
    ),
    # duplicate ID: row 3 repeats row 2's case
    ("cases", 1, "Case ID", "C-00001", ("cases", 3, "'Case ID' (A)", "already on row 2")),
    # duplicate ID across the two request sheets (R-00001 is row 2 of 'stay requests')
    (
        "sitting requests",
        0,
        "Request ID",
        "R-00001",
        ("sitting requests", 2, "'Request ID' (A)", "on row 2 of sheet 'stay requests'"),
    ),
    # duplicate night of a unit: row 3 becomes U-01 2025-04-28 like row 2
    ("night staff", 1, "Night", "2025-04-28", ("night staff", 3, "'Night' (B)", "on row 2")),
    # a bed of a unit on no row of 'units'
    ("beds", 0, "Unit ID", "U-NOPE", ("beds", 2, "'Unit ID' (A)", "not on the 'units' sheet")),
    # a visit of no sitting request
    ("visits", 0, "Request ID", "R-NOPE", ("visits", 2, "'Request ID' (A)", "'sitting requests'")),
    # two windows of one visit (R-00005 V2, rows 4 and 5) disagree on its length
    ("visits", 3, "Minutes", 90, ("visits", 5, "'Minutes' (C)", "90 here but 150 on row 4")),
    # the second window of R-00005 V2 starts at the end of the day: on its own row
    (
        "visits",
        3,
        "Window start",
        "24:00",
        ("visits", 5, "'Window start' (E)", "'24:00' ends a day"),
    ),
    # Monday's second shift starts at the end of the day: on its own row
    ("rotas", 1, "Start", "24:00", ("rotas", 3, "'Start' (C)", "'24:00' ends a day")),
    # a sitting week that does not start on a Monday (2025-04-29 is a Tuesday)
    ("settings", 0, "Week start", "2025-04-29", ("settings", 2, "'Week start' (C)", "Monday")),
    # v2 columns. An offered booking is "offered": "pending" is no status
    (
        "bookings",
        0,
        "Status",
        "pending",
        ("bookings", 2, "'Status' (O)", "'pending' is not one of confirmed, offered"),
    ),
    # a policy list naming no priority
    (
        "settings",
        0,
        "Policy: allowance exempt",
        "urgent",
        ("settings", 2, "'Policy: allowance exempt' (E)", "'urgent' is not crisis"),
    ),
    # a planning date that is no date
    ("settings", 0, "Planned on", "soon", ("settings", 2, "'Planned on' (D)", "is not a date")),
    # banking past a year: the policy's own bound (53 weeks), placed on its cell
    (
        "settings",
        0,
        "Policy: sitting bank weeks",
        99,
        ("settings", 2, "'Policy: sitting bank weeks' (G)", "less than or equal to 53"),
    ),
    # an allowance year that starts on no date
    (
        "cases",
        0,
        "Allowance year start",
        "April",
        ("cases", 2, "'Allowance year start' (M)", "'April' is not a date"),
    ),
    # exceptional without a reason (R-00002 has none): the request's own check, on the
    # reason's cell
    (
        "stay requests",
        1,
        "Exceptional",
        "yes",
        ("stay requests", 3, "'Exceptional reason' (L)", "is required when exceptional"),
    ),
    # a reserve larger than the unit's 2 block beds
    (
        "units",
        0,
        "Crisis reserve beds",
        3,
        ("units", 2, "'Crisis reserve beds' (N)", "3 is more than the unit's 2 beds"),
    ),
    # an agency price over any plausible figure (10^20 pence)
    (
        "units",
        0,
        "Extra night staff cost (pence)",
        10**20,
        ("units", 2, "'Extra night staff cost (pence)' (P)", "less than or equal to"),
    ),
    # earliest start after latest start (2025-04-30)
    (
        "stay requests",
        0,
        "Earliest start",
        "2025-05-01",
        ("stay requests", 2, "'Earliest start' (F)", "is after latest_start"),
    ),
]


@pytest.mark.parametrize(("sheet", "row", "column", "value", "expected"), BAD_CELLS)
def test_each_bad_cell_is_named_and_nothing_is_written(
    sheet, row, column, value, expected, tmp_path
):
    frames = problem_to_frames(TINY)
    frames[sheet].loc[row, column] = value
    errors = _errors(frames)
    found = [(e.sheet, e.row, e.column) for e in errors if expected[3] in e.problem]
    assert expected[:3] in found, [str(error) for error in errors]
    # The command line says the same and writes nothing.
    bad, out = tmp_path / "bad.xlsx", tmp_path / "problem.json"
    bad.write_bytes(write_xlsx(frames))
    result = CliRunner().invoke(app, ["import", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()
    lines = result.output.splitlines()
    assert lines[0] == f"error: {bad}: {len(errors)} problem(s), nothing written"
    assert [line.strip() for line in lines[1:]] == [str(error) for error in errors]


def test_all_mistakes_are_listed_together_and_missing_parts_named():
    frames = problem_to_frames(TINY)
    frames["cases"].loc[0, "Age"] = "x"
    frames["cases"].loc[1, "Age"] = "y"
    frames["beds"] = frames["beds"].drop(columns=["Bed ID"])
    del frames["units"]
    errors = [str(error) for error in _errors(frames)]
    assert "sheet 'units': the sheet is missing" in errors
    assert "sheet 'beds', row 1, column 'Bed ID': the column is missing" in errors
    assert sum("column 'Age'" in error for error in errors) == 2


def test_references_are_checked_with_the_other_cells():
    # A dangling reference is listed together with a bad cell (not only once the cells are
    # right), on the cell naming it, also inside a list.
    frames = problem_to_frames(TINY)
    frames["cases"].loc[0, "Age"] = "old"
    frames["cases"].loc[2, "Locality ID"] = "L-99"
    frames["providers"].loc[0, "Localities"] = "L-01; L-77"
    errors = {(e.sheet, e.row, e.column, e.problem) for e in _errors(frames)}
    assert errors == {
        ("cases", 2, "'Age' (E)", "'old' is not a number"),
        (
            "cases",
            4,
            "'Locality ID' (B)",
            "'L-99' is not a locality (on no row of the 'localities' sheet)",
        ),
        (
            "providers",
            2,
            "'Localities' (C)",
            "'L-77' is not a locality (on no row of the 'localities' sheet)",
        ),
    }


def test_a_mistake_of_the_problem_keeps_its_item_and_field_on_its_cell():
    # The unit's negative night staff is found by the problem's own check: the error keeps
    # the item and field that check names, and is placed by its location in the file
    # (units[0] -> row 2 of 'units', default_night_staff -> column I), not by its words.
    frames = problem_to_frames(TINY)
    frames["units"].loc[0, "Default night staff"] = -1
    frames["cases"].loc[0, "Age"] = "old"
    assert _errors(frames) == [
        CellError.at("cases", 2, "'Age' (E)", "'old' is not a number"),
    ]  # a bad cell is reported first, alone: the problem is not built
    frames["cases"].loc[0, "Age"] = 40
    (error,) = _errors(frames)
    assert (error.item, error.field, error.message) == (
        "unit U-01",
        "default_night_staff",
        "Input should be greater than or equal to 0",
    )
    assert (error.sheet, error.row, error.column) == ("units", 2, "'Default night staff' (I)")
    assert error.path == ("units", 0, "default_night_staff")
    assert error.problem == f"unit U-01: default_night_staff: {error.message}"


def test_a_window_of_a_sitting_request_is_placed_on_its_own_row():
    # R-00005's visit V2 has two windows, rows 4 and 5 of 'visits'; the second is
    # ("requests", <R-00005's position>, "visits", 1, "windows", 1) in the problem file.
    frames = problem_to_frames(TINY)
    frames["visits"].loc[3, "Window start"] = "24:00"
    (error,) = _errors(frames)
    assert error.path[2:] == ("visits", 1, "windows", 1, "start")
    assert error.field == "visit V2.windows[1].start"
    assert (error.sheet, error.row, error.column) == ("visits", 5, "'Window start' (E)")


def test_many_mistakes_summarised_first(tmp_path: Path):
    frames = problem_to_frames(generate("borough", 1))
    frames["cases"]["Age"] = "?"  # one bad cell per case: more than the 50 shown
    bad = tmp_path / "bad.zip"
    bad.write_bytes(write_csv_zip(frames))
    result = CliRunner().invoke(app, ["import", str(bad), "--out", str(tmp_path / "p.json")])
    cases = len(frames["cases"])
    assert result.exit_code == 2 and cases > 50
    lines = result.output.splitlines()
    assert lines[0] == f"error: {bad}: {cases} problem(s), nothing written; the first 50 below"
    assert len(lines) == 51


def test_unknown_columns_are_refused_but_notes_and_empty_columns_are_not():
    frames = problem_to_frames(TINY)
    frames["cases"]["Bed need"] = ""  # a misspelt header, empty: nothing is lost
    assert problem_from_workbook(read_workbook(write_xlsx(frames))) == TINY
    frames["cases"].loc[0, "Bed need"] = "hoist"  # now it would lose a need
    frames["units"]["Notes from the broker"] = "call first"
    errors = _errors(frames)
    # 'Bed need' is the 17th column of 'cases' (Q), after the 16 of SHEETS
    assert [(e.sheet, e.row, e.column) for e in errors] == [("cases", 1, "'Bed need' (U)")]


def test_rows_are_numbered_as_the_spreadsheet_shows_them_and_words_ignore_case():
    frames = problem_to_frames(TINY)
    cases = frames["cases"]
    blank = pd.DataFrame([[None] * len(cases.columns)], columns=cases.columns, dtype=object)
    # blank rows at spreadsheet rows 2 and 3, so case C-00002 moves from row 3 to row 5
    frames["cases"] = pd.concat([blank, blank, cases], ignore_index=True)
    frames["cases"].loc[3, "Age"] = "old"
    frames["cases"].loc[2, "Sex"] = "FEMALE"
    frames["rotas"].loc[0, "Weekday"] = "Mon"
    errors = _errors(frames)
    assert [(e.sheet, e.row, e.column) for e in errors] == [("cases", 5, "'Age' (E)")]


def test_not_a_spreadsheet_or_unreadable_parts():
    with pytest.raises(InvalidSpreadsheet) as caught:
        read_workbook(b"just text", "notes.txt")
    assert str(caught.value.errors[0]) == (
        "sheet 'notes.txt': is not an .xlsx workbook or a .zip of CSV files"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("cases.csv", "Case ID\nC-\xe9".encode("latin-1"))
    with pytest.raises(InvalidSpreadsheet) as caught:
        read_workbook(buffer.getvalue())
    assert caught.value.errors[0].sheet == "cases" and "UTF-8" in caught.value.errors[0].problem


def test_an_archive_that_unpacks_too_big_is_refused_unread(monkeypatch):
    data = write_xlsx(problem_to_frames(TINY))
    monkeypatch.setattr(sheets_module, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(InvalidSpreadsheet) as caught:
        read_workbook(data)
    assert "over the limit of 1,000" in caught.value.errors[0].problem


def test_the_template_documents_every_column():
    readme = template_frames(TINY)["README"]
    assert list(readme["Notes"][: len(HOW_TO)]) == list(HOW_TO)
    described = set(zip(readme["Sheet"], readme["Column"], strict=True))
    assert described >= {(s.name, c.header) for s in SHEETS for c in s.columns}
    age = readme[(readme["Sheet"] == "cases") & (readme["Column"] == "Age")].iloc[0]
    assert (age["Kind"], age["Required"], age["Example"]) == ("whole number", "yes", 64)


CELL = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["2025-04-30", "24:00", "yes", "none", "C-00001", "U-01", ";", "=1+1"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sheet=st.sampled_from([s.name for s in SHEETS]),
    changes=st.lists(
        st.tuples(st.integers(-1, 20), st.integers(0, 20), CELL), min_size=1, max_size=4
    ),
    xlsx=st.booleans(),
)
def test_fuzzed_cells_give_a_problem_or_named_errors(sheet, changes, xlsx):
    # Whatever lands in the cells (row -1 is the header): a valid problem, or errors that
    # each name a sheet; never another exception.
    frames = problem_to_frames(TINY)
    frame = frames[sheet]
    for row, column, value in changes:
        at = column % len(frame.columns)
        if row < 0:
            frame.columns = [*frame.columns[:at], str(value), *frame.columns[at + 1 :]]
        elif len(frame):
            frame.iloc[row % len(frame), at] = value
    try:
        problem_from_workbook(read_workbook((write_xlsx if xlsx else write_csv_zip)(frames)))
    except InvalidSpreadsheet as exc:
        assert exc.errors and all(str(error).startswith("sheet '") for error in exc.errors)


def test_template_import_allocate_export(tmp_path: Path):
    runner = CliRunner()
    template, problem, plan = tmp_path / "t.xlsx", tmp_path / "p.json", tmp_path / "plan.json"
    assert runner.invoke(app, ["template", "--out", str(template)]).exit_code == 0
    imported = runner.invoke(app, ["import", str(template), "--out", str(problem)])
    assert imported.exit_code == 0, imported.output
    assert load_problem(problem) == TINY
    allocated = runner.invoke(
        app, ["allocate", str(problem), "--out", str(plan), "--time-limit", "2", "-q"]
    )
    assert allocated.exit_code == 0, allocated.output
    for name in ("plan.zip", "plan.xlsx"):
        out = tmp_path / name
        exported = runner.invoke(app, ["export", str(plan), "-p", str(problem), "-o", str(out)])
        assert exported.exit_code == 0, exported.output
        assert read_workbook(out).keys() == {"stays", "visits", "agency staff", "unmet"}


def test_the_csv_template_unzipped_to_a_directory_imports(tmp_path: Path):
    runner = CliRunner()
    archive = tmp_path / "template.zip"
    assert runner.invoke(app, ["template", "--out", str(archive)]).exit_code == 0
    folder = tmp_path / "sheets"
    with zipfile.ZipFile(archive) as opened:
        assert "stay requests.csv" in opened.namelist()
        opened.extractall(folder)
    out = tmp_path / "p.json"
    imported = runner.invoke(app, ["import", str(folder), "--out", str(out)])
    assert imported.exit_code == 0, imported.output
    assert load_problem(out) == TINY
    empty = tmp_path / "empty"
    empty.mkdir()
    refused = runner.invoke(app, ["import", str(empty), "--out", str(tmp_path / "q.json")])
    assert refused.exit_code == 2 and "holds no .csv files" in refused.output


def test_bad_out_and_missing_file_are_one_line_errors(tmp_path: Path):
    runner = CliRunner()
    wrong = runner.invoke(app, ["template", "--out", str(tmp_path / "t.txt")])
    assert wrong.exit_code == 2 and "must end in .xlsx" in wrong.output
    assert not (tmp_path / "t.txt").exists()
    missing = runner.invoke(app, ["import", str(tmp_path / "nope.xlsx"), "--out", "p.json"])
    assert missing.exit_code == 2 and "no such file" in missing.output
    assert "Traceback" not in wrong.output + missing.output
