"""Policy v2 at the command line: a bad v2 value is one readable line naming the field
(exit 2, nothing written), and ``respite allocate`` shows the v2 figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from scheduler.cli import policy_rows
from scheduler.model import Kpis

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "fixtures" / "tiny-1.json"
runner = CliRunner()


def _tiny() -> dict[str, Any]:
    problem: dict[str, Any] = json.loads(TINY.read_text())
    return problem


def _stay_at(problem: dict[str, Any]) -> int:
    return next(i for i, r in enumerate(problem["requests"]) if r["kind"] == "stay")


def _block_at(problem: dict[str, Any]) -> int:
    return next(i for i, u in enumerate(problem["units"]) if not u.get("spot"))


def _exceptional_without_reason(problem: dict[str, Any]) -> None:
    request = problem["requests"][_stay_at(problem)]
    request["exceptional"] = True
    request.pop("exceptional_reason", None)


def _reserve_beyond_beds(problem: dict[str, Any]) -> None:
    unit = problem["units"][_block_at(problem)]
    unit["crisis_reserve_beds"] = len(unit["beds"]) + 1


def _cost_of_10_to_20(problem: dict[str, Any]) -> None:
    problem["units"][_block_at(problem)]["extra_night_staff_cost_pence"] = 10**20


def _policy_bank_negative(problem: dict[str, Any]) -> None:
    problem["policy"] = {"sitting_bank_weeks": -1}


BAD_VALUES = {
    # a manager's approval of a spot bed must say why
    "exceptional without a reason": (_exceptional_without_reason, "exceptional_reason"),
    # a unit cannot hold back more beds than its block contract has
    "reserve beyond the block beds": (_reserve_beyond_beds, "crisis_reserve_beds"),
    # no cost is 10^20 pence (at most 10^12, ten billion pounds)
    "a cost of 10^20": (_cost_of_10_to_20, "extra_night_staff_cost_pence"),
    # a policy field: named with its block
    "banked weeks below 0": (_policy_bank_negative, "policy.sitting_bank_weeks"),
}
COMMANDS = {
    "check": ["check", "{bad}", "{bad}"],
    "allocate": ["allocate", "{bad}", "--out", "{out}", "--engine", "greedy"],
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("bad", BAD_VALUES)
def test_a_bad_v2_value_is_one_line_naming_the_field(
    tmp_path: Path, bad: str, command: str
) -> None:
    spoil, field = BAD_VALUES[bad]
    problem = _tiny()
    spoil(problem)
    path, out = tmp_path / "bad.json", tmp_path / "plan.json"
    path.write_text(json.dumps(problem))
    args = [arg.format(bad=path, out=out) for arg in COMMANDS[command]]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {path}: ")
    assert field in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()


def test_policy_rows_label_each_v2_figure() -> None:
    kpis = Kpis.model_validate(
        {
            "spend_added_pence": 196_000,
            "block_contract_pence": 1_234_567,
            "carer_contributions_pence": 5_550,
            "agency_staff_nights": 14,
            "crisis_reserve_bed_nights_held": 9,
            "crisis_reserve_bed_nights_released": 2,
        }
    )
    assert dict(policy_rows(kpis)) == {
        "spend the plan adds (spot, agency, sitting)": "£1,960.00",
        "block contracts for these nights (paid anyway)": "£12,345.67",
        "carers' contributions (chargeable nights)": "£55.50",
        "agency night staff (staff-nights)": "14",
        "crisis reserve bed-nights held": "9",
        "crisis reserve bed-nights released": "2",
    }
    assert policy_rows(Kpis()) == []  # a plan made before v2 figures: no table


def test_allocate_prints_the_v2_figures(tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["allocate", str(TINY), "--out", str(out), "--engine", "greedy"])
    assert result.exit_code == 0, result.output
    kpis = json.loads(out.read_text())["kpis"]
    assert "Money and policy" in result.stdout
    shown = result.stdout.replace(",", "")
    assert f"£{kpis['spend_added_pence'] / 100:.2f}" in shown
    assert f"£{kpis['block_contract_pence'] / 100:.2f}" in shown
