"""Every command, given what a careless user gives it, ends with one readable line.

A bad file or an ``--out`` that cannot be written: one ``error:`` line on stderr
naming the file and what is wrong, a non-zero exit, no traceback, and nothing
written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from scheduler.cli import one_line

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "fixtures" / "tiny-1.json"
runner = CliRunner()

# name -> what a careless user's file holds (None: the file is missing; "/": a folder)
BAD_FILES: dict[str, str | bytes | None] = {
    "missing": None,
    "folder": "/",
    "empty": "",
    "not JSON": "hello",
    "a list": "[1, 2]",
    "a string": '"problem"',
    "nested deeply": "[" * 100_000 + "]" * 100_000,
    "an object nested deeply": '{"a": ' * 5_000 + "1" + "}" * 5_000,
    "a number of 5000 digits": "1" * 5_000,
    "not UTF-8": b"\xff\xfe\x00",
}
# what the one line says of each
SAYS = {
    "missing": "no such file",
    "folder": "is a folder, not a file",
    "empty": "is empty",
    "not JSON": "not valid JSON",
    "a list": "must hold a JSON object",
    "a string": "must hold a JSON object",
    "nested deeply": "nested too deeply",
    "an object nested deeply": "nested too deeply",
    "a number of 5000 digits": "a number has too many digits",
    "not UTF-8": "utf-8",
}
# each command that reads a JSON file, with the file in each of its places
COMMANDS = {
    "allocate": ["allocate", "{bad}", "--out", "{out}/plan.json", "--engine", "greedy"],
    "check: the problem": ["check", "{bad}", "{plan}"],
    "check: the plan": ["check", "{tiny}", "{bad}"],
    "report: the plan": ["report", "{bad}", "--problem", "{tiny}"],
    "report: the problem":
        ["report", "{plan}", "--problem", "{bad}", "--out", "{out}/r.html", "-f", "html"],
    "export: the plan": ["export", "{bad}", "--problem", "{tiny}", "--out", "{out}/plan.xlsx"],
    "export: the problem": ["export", "{plan}", "--problem", "{bad}", "--out", "{out}/plan.xlsx"],
    "template: the problem": ["template", "--problem", "{bad}", "--out", "{out}/t.xlsx"],
    "serve --demo: the problem": ["serve", "--demo", "--problem", "{bad}", "--port", "18437"],
}  # fmt: skip


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    made = runner.invoke(app, ["allocate", str(TINY), "--out", str(path), "--engine", "greedy"])
    assert made.exit_code == 0, made.output
    return path


def _bad_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "bad.json"
    content = BAD_FILES[kind]
    if content == "/":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    return path


def _one_error_line(result: object, *expected: str) -> str:
    """The single ``error:`` line of ``result``, after checking there is nothing else."""
    stderr = result.stderr  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert result.exit_code == 2, stderr  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("kind", BAD_FILES)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_json_file_is_one_line_naming_it(
    tmp_path: Path, plan: Path, command: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESPITE_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    bad, out = _bad_file(tmp_path, kind), tmp_path / "out"
    places = {"bad": bad, "out": out, "plan": plan, "tiny": TINY}
    args = [arg.format(**places) for arg in COMMANDS[command]]
    _one_error_line(runner.invoke(app, args), str(bad), SAYS[kind])
    assert not out.exists()  # nothing written, not even half


@pytest.mark.parametrize(
    ("command", "says"),
    [
        # --out names a folder: refused before any work, naming it
        (["allocate", "{tiny}", "--out", "{folder}"], "is a folder"),
        (["report", "{plan}", "-p", "{tiny}", "-f", "csv", "-r", "unmet", "--out", "{folder}"],
         "is a folder"),
        (["import", "{sheet}", "--out", "{folder}"], "is a folder"),
        (["template", "--out", "{folder}"], "is a folder"),
        (["export", "{plan}", "-p", "{tiny}", "--out", "{folder}"], "is a folder"),
        (["fixtures", "generate", "--tier", "tiny", "--out", "{folder}"], "is a folder"),
        # --out inside a file, as if it were a folder
        (["allocate", "{tiny}", "--out", "{file}/plan.json"], "is a file, not a folder"),
        (["fixtures", "generate", "--tier", "tiny", "--out", "{file}/p.json"],
         "is a file, not a folder"),
        # whatif's --out is a folder for its results; a file there is refused
        (["whatif", "{scenario}", "--out", "{file}"], "is a file; name a folder"),
        # a place the system refuses to write (even to root): the path and the reason
        (["allocate", "{tiny}", "--engine", "greedy", "-q", "--out", "/proc/respite/plan.json"],
         "/proc/respite/plan.json: "),
    ],
)  # fmt: skip
def test_an_out_that_cannot_be_written_is_one_line_naming_it(
    tmp_path: Path, plan: Path, command: list[str], says: str
) -> None:
    folder, file = tmp_path / "a-folder", tmp_path / "a-file.txt"
    folder.mkdir()
    file.write_text("keep me")
    scenario = tmp_path / "s.toml"
    scenario.write_text('[base]\ntier = "tiny"\n')
    sheet = tmp_path / "sheet.xlsx"
    assert runner.invoke(app, ["template", "--out", str(sheet)]).exit_code == 0
    places = {
        "tiny": TINY,
        "plan": plan,
        "folder": folder,
        "file": file,
        "scenario": scenario,
        "sheet": sheet,
    }
    _one_error_line(runner.invoke(app, [arg.format(**places) for arg in command]), says)
    assert list(folder.iterdir()) == [] and file.read_text() == "keep me"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        # a simulation setting of the wrong type
        ('[base]\ntier = "tiny"\n[simulation]\nseed = "abc"\n', "simulation.seed"),
        # the base seed of the wrong type
        ('[base]\ntier = "tiny"\nseed = "abc"\n', "base.seed"),
        # sections of the wrong type
        ('simulation = 3\n[base]\ntier = "tiny"\n', "simulation: must be a table"),
        ('variants = 3\n[base]\ntier = "tiny"\n', "variants: must be a list"),
        # not TOML; empty
        ("[base", "not valid TOML"),
        ("", "base: missing"),
        # a base problem file nested too deeply
        ('[base]\nproblem = "deep.json"\n', "nested too deeply"),
    ],
)
def test_a_bad_scenario_file_is_one_line(tmp_path: Path, content: str, says: str) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    scenario = tmp_path / "s.toml"
    scenario.write_text(content)
    result = runner.invoke(app, ["whatif", str(scenario), "--out", str(tmp_path / "out")])
    _one_error_line(result, says)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("command", "says"),
    [
        # an unknown role: the field and the choices
        (["keys", "create", "--name", "x", "--role", "wizard"], "role: Input should be"),
        # a migration that does not exist
        (["db", "upgrade", "no-such-revision"], "no-such-revision"),
    ],
)
def test_the_service_commands_fail_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], says: str
) -> None:
    monkeypatch.setenv("RESPITE_DATABASE_URL", f"sqlite:///{tmp_path / 'k.db'}")
    _one_error_line(runner.invoke(app, command), says)


@pytest.mark.parametrize(
    ("exc", "line"),
    [
        # a cost of 10^20 pence reaching a 64-bit solver or a date past 9999
        (OverflowError("int too big to convert"), "a number or date is too large (int too big"),
        # a file nested too deeply somewhere a command reads it
        (RecursionError("maximum recursion depth exceeded"), "the input is nested too deeply"),
        # an --out refused by the system at the last moment: the path asked for
        (PermissionError(13, "Permission denied", "/x/plan.json"),
         "/x/plan.json: Permission denied"),
        # a value refused by a check: its first line, control characters shown
        (ValueError("bad\x07 value\nsecond line"), "bad\\x07 value"),
        # anything else: named, with the way to see the traceback
        (KeyError("k"), "failed unexpectedly (KeyError: 'k'); set RESPITE_TRACEBACK=1"),
    ],
)  # fmt: skip
def test_one_line_names_each_kind_of_failure(exc: Exception, line: str) -> None:
    assert one_line(exc).startswith(line)


def test_a_cost_of_ten_to_the_twenty_pence_is_one_line_or_a_plan(tmp_path: Path) -> None:
    # Either the model refuses the cost (naming it) or the solver's overflow is one line.
    data = json.loads(TINY.read_text())
    data["units"][0]["cost_per_night_pence"] = 10**20
    data["bookings"] = []
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(data))
    out = tmp_path / "plan.json"
    args = ["allocate", str(problem), "--out", str(out), "--time-limit", "2", "-q"]
    result = runner.invoke(app, args)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        _one_error_line(result)
        assert not out.exists()
