"""Limits of the problem and plan models: every size a file can make the service (or
the CLI) work for is bounded, and a value past its limit is one error naming the
item and the field, not a traceback or a gigabyte of nights."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scheduler.files import load_plan, load_problem
from scheduler.model import MAX_NIGHTS, InvalidProblem
from tests.scheduler.test_model import set_path, valid

ROOT = Path(__file__).resolve().parents[2]

TOO_BIG = [
    # a horizon of 2,923,000 nights (the run grew its worker past 10 GB)
    (
        set_path("horizon", {"first_night": "1000-01-01", "last_night": "9000-12-31"}),
        "horizon.first_night: Input should be greater than or equal to 1900-01-01",
    ),
    (
        set_path("horizon.last_night", "2027-03-03"),
        "horizon: last_night 2027-03-03 makes a horizon of 367 nights; at most 366",
    ),
    # a stay of two million nights
    (set_path("requests.0.nights", 2_000_000), "request R-0042: nights: Input should be less"),
    (set_path("bookings.0.nights", 367), "booking BK-1: nights: Input should be less"),
    # the last date Python has: a stay from it would overflow
    (set_path("bookings.0.first_night", "9999-12-31"), "booking BK-1: first_night: Input should"),
    # a cost of 10^20 pence
    (set_path("units.0.cost_per_night_pence", 10**20), "unit U-1: cost_per_night_pence: Input"),
    (set_path("budgets.0.limit_pence", 10**13), "budget BUD-1: limit_pence: Input should be less"),
    # ids past the database's 64 characters, names past its 200
    (set_path("cases.0.case_id", "C" * 65), f"case {'C' * 65}: case_id: String should have at"),
    (set_path("units.0.name", "N" * 201), "unit U-1: name: String should have at most 200"),
    # staff and sitters by the billion
    (set_path("units.0.default_night_staff", 10**9), "unit U-1: default_night_staff: Input"),
    (set_path("providers.0.sitters.mon.0.count", 10**9), "provider P-1: sitters.mon[0].count"),
    # an objective weight that would overflow CP-SAT's 64-bit sums
    (set_path("weights", {"need_base": 10**18}), "weights.need_base: Input should be less"),
]

NOT_AN_ID = [
    "",  # empty
    "C 42",  # a space: a name, not a reference
    "C-1\nC-2",  # a line break
    "C-1\x00",  # NUL, which PostgreSQL refuses in text
    "Jane Smith",
]


@pytest.mark.parametrize(("change", "message"), TOO_BIG)
def test_a_value_past_its_limit_is_one_error_naming_the_field(
    change: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = valid()
    change(data)
    with pytest.raises(InvalidProblem) as raised:
        load_problem(data)
    assert any(str(error).startswith(message) for error in raised.value.errors), str(raised.value)


@pytest.mark.parametrize("case_id", NOT_AN_ID)
def test_a_case_id_is_a_pseudonymous_reference(case_id: str) -> None:
    data = valid()
    set_path("cases.0.case_id", case_id)(data)
    with pytest.raises(InvalidProblem) as raised:
        load_problem(data)
    assert any(error.field == "case_id" for error in raised.value.errors)


@pytest.mark.parametrize("name", ["North\x00", "North\nSouth", ""])
def test_a_name_is_one_line_of_text(name: str) -> None:
    data = valid()
    set_path("units.0.name", name)(data)
    with pytest.raises(InvalidProblem, match="name"):
        load_problem(data)


def test_the_longest_stay_and_horizon_load() -> None:
    data = valid()
    set_path("horizon.last_night", "2027-03-02")(data)  # from 2026-03-02: 366 nights
    set_path("requests.0.nights", MAX_NIGHTS)(data)
    set_path("bookings.0.nights", MAX_NIGHTS)(data)
    assert load_problem(data).bookings[0].nights == MAX_NIGHTS


def test_every_fixture_loads_within_the_limits() -> None:
    files = sorted((ROOT / "fixtures").rglob("*.json"))
    assert len(files) > 10
    for path in files:
        data = json.loads(path.read_text())
        if "horizon" in data:
            load_problem(data)
        for key in ("problem", "plan"):  # rule fixtures hold a problem and its plans
            if isinstance(data.get(key), dict) and "horizon" in data[key]:
                load_problem(data[key])


def test_a_plan_with_a_long_stay_is_refused() -> None:
    plan = {
        "stays": [
            {
                "request_id": "R-1",
                "case_id": "C-1",
                "unit_id": "U-1",
                "bed_id": "B-1",
                "first_night": "2026-03-02",
                "nights": 10**6,
            }
        ],
        "solver": {"engine": "greedy", "status": "feasible"},
    }
    with pytest.raises(InvalidProblem, match="nights"):
        load_plan(plan)


# ---------------------------------------------------------------------------- scenarios


def _scenario(simulation: dict[str, Any] | None = None, **variant: Any) -> dict[str, Any]:
    return {
        "base": {"tier": "tiny", "seed": 1},
        "simulation": simulation or {},
        "variants": [{"name": "v", **variant}],
    }


SCENARIO_TOO_BIG = [
    # the issue's: a billion beds grew the API process to 11 GB
    (
        _scenario(changes=[{"kind": "add_beds", "unit": "U-01", "count": 10**9}]),
        "variant 'v': change 1 (add_beds): count must be at most 1,000, got 1,000,000,000",
    ),
    (
        _scenario(changes=[{"kind": "remove_beds", "unit": "U-01", "count": 10**9}]),
        "change 1 (remove_beds): count must be at most 1,000",
    ),
    (
        _scenario(changes=[{"kind": "sitters", "provider": "P-01", "scale": 1e9}]),
        "change 1 (sitters): scale must be at most 100",
    ),
    (
        _scenario(changes=[{"kind": "weekly_cap", "provider": "P-01", "hours": 1e12}]),
        "change 1 (weekly_cap): hours must be at most 168,000",
    ),
    (
        _scenario(changes=[{"kind": "scale_demand", "factor": 1e6}]),
        "change 1 (scale_demand): factor must be at most 100",
    ),
    (
        _scenario(changes=[{"kind": "open_unit", "like": "U-01", "unit_id": "U-9", "beds": 10**7}]),
        "change 1 (open_unit): beds must be at most 1,000",
    ),
    (
        _scenario(sweep={"kind": "add_beds", "unit": "U-01", "field": "count", "values": [1] * 51}),
        "variant 'v': sweep.values has 51 values; at most 50",
    ),
    # weeks or replications of 10^9 grew the child to 8 GB in a minute
    (_scenario({"weeks": 10**9}), "simulation.weeks: must be 1..520, got 1,000,000,000"),
    (_scenario({"replications": 10**9}), "simulation.replications: must be 1..100"),
    (_scenario({"seed": "abc"}), "simulation.seed: must be a whole number, got 'abc'"),
    (_scenario({"seed": 10**30}), "simulation.seed: must be 0..2,147,483,647"),
    (_scenario({"time_limit": 1e9}), "simulation.time_limit: must be a number of seconds"),
    (_scenario({"weeks": "52"}), "simulation.weeks: must be a whole number, got '52'"),
]


@pytest.mark.parametrize(("data", "message"), SCENARIO_TOO_BIG)
def test_every_size_of_a_scenario_is_bounded(data: dict[str, Any], message: str) -> None:
    from scheduler.whatif.scenario import ScenarioError, parse_scenario

    with pytest.raises(ScenarioError) as raised:
        parse_scenario(data)
    assert message in str(raised.value)


def test_too_many_variants_are_refused() -> None:
    from scheduler.whatif.scenario import MAX_VARIANTS, ScenarioError, parse_scenario

    data = _scenario()
    data["variants"] = [{"name": f"v{n}"} for n in range(MAX_VARIANTS + 1)]
    with pytest.raises(ScenarioError, match=r"variants: 51 .*; at most 50"):
        parse_scenario(data)
    data["variants"] = data["variants"][:MAX_VARIANTS]
    assert len(parse_scenario(data).variants) == MAX_VARIANTS


# ---------------------------------------------------------------------------- spreadsheets


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _bomb(size: int) -> bytes:
    """A zip of one 'cases.csv' of ``size`` bytes: a header and the same row again."""
    row = b"C-1,L-1,53.1,-2.4,40,female\n"
    return _zip({"cases.csv": b"Case ID,Locality ID,Lat,Lon,Age,Sex\n" + row * (size // len(row))})


def test_a_zip_bomb_is_refused_from_its_directory_at_once() -> None:
    """40 MB of CSV in a zip of about 100 KB: over the 32 MiB a member may unpack to."""
    from scheduler.sheets import InvalidSpreadsheet, read_workbook

    bomb = _bomb(40 * 2**20)
    assert len(bomb) < 2**20
    began = time.monotonic()
    with pytest.raises(InvalidSpreadsheet, match=r"'cases.csv' unpacks to 41,943,0.. bytes"):
        read_workbook(bomb, "bomb.zip")
    assert time.monotonic() - began < 1


def test_all_members_together_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler import sheets

    monkeypatch.setattr(sheets, "MAX_UNPACKED_BYTES", 3000)
    data = _zip({f"sheet{n}.csv": b"a,b\n" + b"1,2\n" * 250 for n in range(3)})
    with pytest.raises(sheets.InvalidSpreadsheet, match=r"unpacks to 3,012 bytes, over the limit"):
        sheets.read_workbook(data, "three.zip")


def test_a_directory_that_lies_is_caught_while_unpacking() -> None:
    """The zip's directory (and local header) say 100 bytes; the member holds 1 MB."""
    from scheduler.sheets import InvalidSpreadsheet, read_workbook

    data = bytearray(_bomb(2**20))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.index(signature) + offset
        data[at : at + 4] = (100).to_bytes(4, "little")
    with pytest.raises(InvalidSpreadsheet):
        read_workbook(bytes(data), "liar.zip")


def test_rows_past_the_limit_are_refused_before_they_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scheduler import sheets
    from scheduler.synthetic import generate

    monkeypatch.setattr(sheets, "MAX_ROWS", 3)
    frames = sheets.problem_to_frames(generate("tiny", 1))
    assert len(frames["cases"]) > 3
    for write in (sheets.write_xlsx, sheets.write_csv_zip):
        with pytest.raises(sheets.InvalidSpreadsheet, match="has more than 3 rows"):
            sheets.read_workbook(write(frames), "many.xlsx")
    (tmp_path / "cases.csv").write_text("Case ID\n" + "C-1\n" * 11)
    with pytest.raises(sheets.InvalidSpreadsheet, match="sheet 'cases': has more than 3 rows"):
        sheets.read_workbook(tmp_path)


def test_the_cli_refuses_a_bomb_in_one_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from scheduler.cli import app

    (tmp_path / "bomb.zip").write_bytes(_bomb(40 * 2**20))
    out = tmp_path / "problem.json"
    result = CliRunner().invoke(app, ["import", str(tmp_path / "bomb.zip"), "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "over the limit of 33,554,432" in result.output
    assert "Traceback" not in result.output
