"""The command line as a broker would use it: readable output, one-line errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "fixtures" / "tiny-1.json"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_allocate_writes_a_plan_that_check_accepts(tmp_path: Path):
    plan = tmp_path / "plan.json"
    result = run("allocate", str(TINY), "--out", str(plan), "--time-limit", "2", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert "Served by priority" in result.output and "Unmet" in result.output
    assert json.loads(plan.read_text())["solver"]["engine"] == "cpsat"
    checked = run("check", str(TINY), str(plan))
    assert checked.exit_code == 0
    assert checked.output.startswith("valid:")


def test_check_names_the_broken_rule_and_exits_1(tmp_path: Path):
    plan_path = tmp_path / "plan.json"
    assert (
        run("allocate", str(TINY), "--out", str(plan_path), "--engine", "greedy", "-q").exit_code
        == 0
    )
    plan = json.loads(plan_path.read_text())
    stay = plan["stays"][0]
    plan["stays"].append({**stay, "request_id": plan["unmet"][0]["request_id"]})  # same bed twice
    plan_path.write_text(json.dumps(plan))
    result = run("check", str(TINY), str(plan_path))
    assert result.exit_code == 1
    assert "H1 bed" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        # not JSON at all
        ("{not json", "not valid JSON"),
        # JSON, but a list
        ("[]", "the file must hold a JSON object"),
        # a problem with a dangling case reference
        (None, "request R-0001: case_id 'C-404' is not a case"),
    ],
)
def test_bad_input_is_one_readable_line_and_exit_2(tmp_path: Path, content, message):
    path = tmp_path / "problem.json"
    if content is None:
        data = json.loads(TINY.read_text())
        data["requests"][0]["case_id"] = "C-404"
        data["requests"][0]["request_id"] = "R-0001"
        content = json.dumps(data)
    path.write_text(content)
    out = tmp_path / "plan.json"
    result = run("allocate", str(path), "--out", str(out))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists()  # nothing half-written


def test_a_missing_file_is_an_error_not_a_traceback(tmp_path: Path):
    result = run("check", str(tmp_path / "nope.json"), str(tmp_path / "plan.json"))
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_schema_prints_json_schema():
    result = run("schema", "problem")
    assert result.exit_code == 0
    assert "requests" in json.loads(result.output)["properties"]


def test_fixtures_generate_is_deterministic(tmp_path: Path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert (
        run("fixtures", "generate", "--tier", "tiny", "--seed", "4", "--out", str(a)).exit_code == 0
    )
    assert (
        run("fixtures", "generate", "--tier", "tiny", "--seed", "4", "--out", str(b)).exit_code == 0
    )
    assert a.read_text() == b.read_text()


def test_the_console_script_runs_in_a_fresh_process(tmp_path: Path):
    # The real entry point, as installed: no traceback on a bad engine name either.
    respite = Path(sys.executable).parent / "respite"
    result = subprocess.run(
        [
            str(respite),
            "allocate",
            str(TINY),
            "--engine",
            "magic",
            "--out",
            str(tmp_path / "p.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "magic" in result.stderr and "Traceback" not in result.stderr
