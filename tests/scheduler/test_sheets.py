"""Spreadsheets: round trips, every bad cell named, fuzzed sheets, the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.cli import app
from scheduler.fixtures import generate
from scheduler.io import load_problem
from scheduler.sheets import (
    SHEETS,
    InvalidSpreadsheet,
    problem_from_workbook,
    problem_to_frames,
    read_workbook,
    write_csv_zip,
    write_xlsx,
)


@pytest.mark.parametrize("tier", ["tiny", "borough"])
@pytest.mark.parametrize("write", [write_xlsx, write_csv_zip])
def test_a_problem_survives_the_spreadsheet(tier, write):
    problem = load_problem(f"fixtures/{tier}-1.json")
    assert problem_from_workbook(read_workbook(write(problem_to_frames(problem)))) == problem


def _errors(frames: dict[str, pd.DataFrame]) -> list[str]:
    with pytest.raises(InvalidSpreadsheet) as caught:
        problem_from_workbook(read_workbook(write_xlsx(frames)))
    return [str(error) for error in caught.value.errors]


# (sheet, row index, column, value, the error expected). Row index 0 is spreadsheet row 2.
BAD_CELLS = [
    # a word where a whole number goes
    ("cases", 0, "Age", "forty", "sheet 'cases', row 2, column 'Age' (E): 'forty' is not a number"),
    # half a night
    ("stay requests", 1, "Nights", 2.5, "row 3, column 'Nights' (E): '2.5' is not a whole number"),
    # 31 February
    (
        "stay requests",
        0,
        "Received",
        "31/02/2025",
        "column 'Received' (D): '31/02/2025' is not a date",
    ),
    # a choice outside the list
    ("cases", 1, "Sex", "other", "row 3, column 'Sex' (F): 'other' is not one of female, male"),
    # a required cell left empty
    ("units", 0, "Default night staff", None, "row 2, column 'Default night staff' (I): is empty"),
    # a time that is no time
    ("rotas", 0, "Start", "9am", "column 'Start' (C): '9am' is not a time HH:MM"),
    # yes/no
    ("units", 0, "Spot", "maybe", "column 'Spot' (L): 'maybe' is not yes or no"),
    # a reference to nothing: placed on the request's row by the problem's own check
    ("stay requests", 1, "Case ID", "C-NOPE", "sheet 'stay requests', row 3: request "),
    # a bed of a unit on no row of 'units'
    ("beds", 0, "Unit ID", "U-NOPE", "sheet 'beds', row 2, column 'Unit ID': 'U-NOPE' is not on"),
    # a visit of no sitting request
    ("visits", 0, "Request ID", "R-NOPE", "'R-NOPE' is not on the 'sitting requests' sheet"),
    # a negative count breaks the model's own rule: placed on the unit's row
    ("units", 0, "Default night staff", -1, "sheet 'units', row 2: unit "),
]


@pytest.mark.parametrize(("sheet", "row", "column", "value", "expected"), BAD_CELLS)
def test_each_bad_cell_is_named(sheet, row, column, value, expected):
    frames = problem_to_frames(generate("tiny", 1))
    frames[sheet].loc[row, column] = value
    errors = _errors(frames)
    assert any(expected in error for error in errors), errors


def test_all_mistakes_are_listed_together_and_missing_parts_named():
    frames = problem_to_frames(generate("tiny", 1))
    frames["cases"].loc[0, "Age"] = "x"
    frames["cases"].loc[1, "Age"] = "y"
    frames["beds"] = frames["beds"].drop(columns=["Bed ID"])
    del frames["units"]
    errors = _errors(frames)
    assert "sheet 'units': the sheet is missing" in errors
    assert "sheet 'beds', row 1, column 'Bed ID': the column is missing" in errors
    assert sum("column 'Age'" in error for error in errors) == 2


def test_not_a_spreadsheet():
    with pytest.raises(InvalidSpreadsheet) as caught:
        read_workbook(b"just text", "notes.txt")
    assert "is not an .xlsx workbook or a .zip of CSV files" in str(caught.value.errors[0])


CELL = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-5, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["2025-04-30", "24:00", "yes", "none", "C-00001", "U-01", ";"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sheet=st.sampled_from([s.name for s in SHEETS if s.name != "settings"]),
    changes=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 20), CELL), min_size=1, max_size=4
    ),
)
def test_fuzzed_cells_give_a_problem_or_named_errors(sheet, changes):
    # Whatever lands in the cells: a valid problem, or errors that each name a sheet;
    # never another exception.
    frames = problem_to_frames(generate("tiny", 1))
    frame = frames[sheet]
    for row, column, value in changes:
        if len(frame) and len(frame.columns):
            frame.iloc[row % len(frame), column % len(frame.columns)] = value
    try:
        problem_from_workbook(read_workbook(write_csv_zip(frames)))
    except InvalidSpreadsheet as exc:
        assert exc.errors and all(str(error).startswith("sheet '") for error in exc.errors)


def test_template_import_allocate_export(tmp_path: Path):
    runner = CliRunner()
    template, problem, plan = tmp_path / "t.xlsx", tmp_path / "p.json", tmp_path / "plan.json"
    assert runner.invoke(app, ["template", "--out", str(template)]).exit_code == 0
    imported = runner.invoke(app, ["import", str(template), "--out", str(problem)])
    assert imported.exit_code == 0, imported.output
    assert load_problem(problem) == generate("tiny", 1)
    allocated = runner.invoke(
        app, ["allocate", str(problem), "--out", str(plan), "--time-limit", "2", "-q"]
    )
    assert allocated.exit_code == 0, allocated.output
    out = tmp_path / "plan.zip"
    assert (
        runner.invoke(app, ["export", str(plan), "-p", str(problem), "-o", str(out)]).exit_code == 0
    )
    assert read_workbook(out).keys() == {"stays", "visits", "unmet"}


def test_a_bad_spreadsheet_writes_nothing(tmp_path: Path):
    frames = problem_to_frames(generate("tiny", 1))
    frames["cases"].loc[0, "Age"] = "forty"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(write_xlsx(frames))
    result = CliRunner().invoke(app, ["import", str(bad), "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 2
    assert "1 problem(s), nothing written" in result.output
    assert "sheet 'cases', row 2, column 'Age' (E)" in result.output
    assert not (tmp_path / "p.json").exists()
