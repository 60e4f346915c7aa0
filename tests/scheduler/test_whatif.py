"""The what-if planner: theory (Erlang B), scenario files, a small fan-out, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from api.cli import app
from scheduler.model import Problem, StayRequest
from scheduler.whatif.run import summarise
from scheduler.whatif.scenario import ScenarioError, load_scenario, parse_scenario
from scheduler.whatif.simulate import _DemandModel, run_replication

MONDAY = dt.date(2026, 1, 5)


def erlang_b(servers: int, erlangs: float) -> float:
    """B(c, a) by the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = erlangs * blocking / (k + erlangs * blocking)
    return blocking


def test_the_recursion_matches_the_formula():
    # B(c, a) = (a^c / c!) / sum_k a^k / k!; 4 beds at 2 Erlang: (16/24) / 7 = 0.0952.
    for c, a in ((4, 2.0), (2, 1.0), (6, 3.0)):
        direct = (a**c / math.factorial(c)) / sum(a**k / math.factorial(k) for k in range(c + 1))
        assert erlang_b(c, a) == pytest.approx(direct)
    assert erlang_b(4, 2.0) == pytest.approx(0.0952, abs=1e-4)


def crisis_pool(beds: int, templates: int, mean_nights: float, seed: int) -> Problem:
    """One unit of ``beds`` beds, ample night staff, many carers, and crisis stay requests
    that must start on their night (no waiting): stay lengths geometric with the given
    mean, start nights uniform over the week. No sitting."""
    rng = np.random.default_rng(seed)
    home = {"lat": 51.2, "lon": 0.5}
    cases = [
        {
            "case_id": f"C-{i}",
            "locality_id": "L",
            "home": home,
            "age": 50,
            "sex": "female",
            "nights_allowance": 365,
        }
        for i in range(3000)
    ]
    requests = []
    for i in range(templates):
        start = MONDAY + dt.timedelta(days=int(rng.integers(28)))
        nights = int(min(rng.geometric(1 / mean_nights), 14))
        requests.append(
            {
                "request_id": f"R-{i}",
                "case_id": f"C-{i}",
                "kind": "stay",
                "priority": "crisis",
                "received": str(start),
                "nights": nights,
                "earliest_start": str(start),
                "latest_start": str(start),
                "max_travel_km": 100,
            }
        )
    return Problem.model_validate(
        {
            "horizon": {
                "first_night": str(MONDAY),
                "last_night": str(MONDAY + dt.timedelta(days=27)),
            },
            "week_start": str(MONDAY),
            "localities": [{"locality_id": "L", "name": "Pool"}],
            "cases": cases,
            "units": [
                {
                    "unit_id": "U",
                    "name": "Pool",
                    "locality_id": "L",
                    "location": home,
                    "beds": [{"bed_id": f"B{b}"} for b in range(beds)],
                    "default_night_staff": 50,
                    "cost_per_night_pence": 100,
                }
            ],
            "providers": [],
            "requests": requests,
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize(("beds", "erlangs"), [(4, 2.0), (2, 1.0), (6, 3.0)])
def test_a_crisis_bed_pool_loses_what_erlang_b_says(beds, erlangs):
    # Requests arrive on nights, stays leave at night boundaries. Spread each night's
    # arrivals over the night (u uniform in [0, 1)): a stay of L nights then holds its
    # bed for L - u, mean E[L] - 1/2, and an arrival sees exactly what the night's
    # allocation sees (nothing leaves within a night, so the order inside a night does
    # not change how many get in). Poisson arrivals, any holding time: Erlang B with
    # a = arrivals a night x (E[L] - 1/2). The base problem's 4 weeks hold 400 requests,
    # so the model's rate is 400 / 28 a night, scaled to the a wanted. Ten years of 52
    # weeks: the turn-away share must hold B(c, a) inside its 95% CI.
    mean_nights = 3.0
    problem = crisis_pool(beds, templates=400, mean_nights=mean_nights, seed=beds)
    lengths = [r.nights for r in problem.requests if isinstance(r, StayRequest)]
    per_night = erlangs / (float(np.mean(lengths)) - 0.5)
    scale = per_night * 28 / len(lengths)
    results = [
        run_replication(
            {
                "problem": problem.model_dump(mode="json"),
                "demand": {"*|*": scale},
                "weeks": 52,
                "engine": "greedy",
                "time_limit": 1,
                "seed": 7,
                "replication": r,
                "variant": "pool",
            }
        )
        for r in range(10)
    ]
    turned = summarise(results, ["pool"])["pool"]["crisis_turned_away"]
    expected = erlang_b(beds, erlangs)
    assert abs(turned["mean"] - expected) <= turned["half_width"], (turned, expected)


def one_slot_a_week(kind: str, priority: str = "planned") -> Problem:
    """One sitter for one hour a week (Monday 10:00) and one bed; each of 8 carers asks
    for that hour (planned sitting), or each for the bed on Monday night for 7 nights (a
    planned stay, no slack), as ``kind`` says: one request a week can be served."""
    home = {"lat": 51.2, "lon": 0.5}
    cases = [
        {"case_id": f"C-{i}", "locality_id": "L", "home": home, "age": 50, "sex": "female",
         "nights_allowance": 365, "sitting_hours_per_week": 5}
        for i in range(8)
    ]  # fmt: skip
    monday = str(MONDAY)
    sitting = [
        {"request_id": f"S-{i}", "case_id": f"C-{i}", "kind": "sitting", "priority": priority,
         "received": monday, "max_travel_km": 100,
         "visits": [{"visit_id": "V1", "minutes": 60,
                     "windows": [{"day": monday, "start": "10:00", "end": "11:00"}]}]}
        for i in range(8)
    ]  # fmt: skip
    stays = [
        {"request_id": f"B-{i}", "case_id": f"C-{i}", "kind": "stay", "priority": priority,
         "received": monday, "nights": 7, "earliest_start": monday, "latest_start": monday,
         "max_travel_km": 100}
        for i in range(8)
    ]  # fmt: skip
    one_hour = {"mon": [{"start": "10:00", "end": "11:00", "count": 1}]}
    return Problem.model_validate(
        {
            "horizon": {"first_night": monday, "last_night": str(MONDAY + dt.timedelta(days=6))},
            "week_start": monday,
            "localities": [{"locality_id": "L", "name": "Town"}],
            "cases": cases,
            "units": [
                {"unit_id": "U", "name": "Unit", "locality_id": "L", "location": home,
                 "beds": [{"bed_id": "B"}], "default_night_staff": 5,
                 "cost_per_night_pence": 100}
            ],
            "providers": [
                {"provider_id": "P", "name": "Sitters", "localities": ["L"], "base": home,
                 "max_travel_km": 100, "sitters": one_hour, "weekly_hours_cap": 10,
                 "cost_per_hour_pence": 600}
            ],
            "requests": sitting if kind == "sitting" else stays,
        }
    )  # fmt: skip


def one_slot_year(kind: str, weeks: int, priority: str = "planned") -> dict:
    return run_replication(
        {
            "problem": one_slot_a_week(kind, priority).model_dump(mode="json"),
            "demand": {},
            "weeks": weeks,
            "engine": "greedy",
            "time_limit": 1,
            "seed": 3,
            "replication": 0,
            "variant": kind,
            "max_wait_weeks": 3,
        }
    )


def test_unserved_sitting_lapses_and_unserved_stays_wait():
    # 8 requests arrive a week (Poisson, rate 8: a week with none has probability
    # e^-8 = 3e-4, and this seed has none); one can be served a week (a 7-night stay
    # from Monday frees the bed for next Monday). So over 10 weeks 10 are served, and
    # unmet = arrived - served: for sitting, the rest lapse in their own week (nothing
    # waits or is withdrawn); stay requests wait up to 3 weeks, then are withdrawn, and
    # some are still waiting at the end (counted unmet too).
    weeks = 10
    sitting = one_slot_year("sitting", weeks)
    stays = one_slot_year("stay", weeks)
    for result in (sitting, stays):
        assert result["served"]["planned"] == weeks
        assert result["unmet_by_locality"]["L"] == result["arrived"]["planned"] - weeks
    assert sitting["still_waiting"] == 0 and sitting["withdrawn"] == 0
    assert stays["still_waiting"] > 0 and stays["withdrawn"] > 0
    # A stay request waits at most 3 weeks: served ones waited 0, 1 or 2 weeks.
    assert 0 < stays["planned_wait_weeks"] <= 2
    # Stays and sitting are counted apart: each year here asks for one kind only.
    for result, kind, other in ((sitting, "sitting", "stay"), (stays, "stay", "sitting")):
        assert result["served_by_kind"][kind] == weeks / result["arrived"]["planned"]
        assert math.isnan(result["served_by_kind"][other])


def test_crisis_stays_turned_away_and_crisis_sitting_not_given_are_apart():
    # The same one-a-week slot, asked for in a crisis: what a bed would buy shows in
    # the stays turned away alone, what a sitter would buy in the sitting not given.
    weeks = 10
    sitting = one_slot_year("sitting", weeks, "crisis")
    stays = one_slot_year("stay", weeks, "crisis")
    lost = {
        name: (result["arrived"]["crisis"] - weeks) / result["arrived"]["crisis"]
        for name, result in (("sitting", sitting), ("stay", stays))
    }
    assert sitting["crisis_sitting_not_given"] == lost["sitting"] > 0.5
    assert sitting["crisis_turned_away"] == 0.0  # no crisis stay was asked for
    assert stays["crisis_turned_away"] == lost["stay"] > 0.5
    assert stays["crisis_sitting_not_given"] == 0.0


def scenario_text(**extra: str) -> str:
    return "\n".join(
        [
            '[base]\ntier = "tiny"\nseed = 1',
            "[simulation]\nweeks = 3\nreplications = 2",
            '[[variants]]\nname = "today"',
            *extra.values(),
        ]
    )


def run_cli(tmp_path: Path, variant: str, workers: int) -> tuple[Any, Path]:
    """``respite whatif`` on the tiny scenario with ``variant`` added; (result, out dir)."""
    path = tmp_path / "s.toml"
    path.write_text(scenario_text(extra=variant))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["whatif", str(path), "--out", str(out), "--workers", str(workers)]
    )
    assert result.exit_code == 0, result.output
    return result, out


# (a variant's TOML, the one line that must name what is wrong)
BAD_VARIANTS = [
    # a unit that is not in the base problem
    (
        '[[variants]]\nname = "x"\nchanges = [{ kind = "add_beds", unit = "U-99", count = 1 }]',
        "variant 'x': change 1 (add_beds): unit 'U-99' is not a unit",
    ),
    # a change kind nobody knows
    (
        '[[variants]]\nname = "y"\nchanges = [{ kind = "teleport" }]',
        "variant 'y': change 1 (teleport): kind 'teleport' is not one of",
    ),
    # a negative count
    (
        '[[variants]]\nname = "z"\nchanges = [{ kind = "add_beds", unit = "U-01", count = -2 }]',
        "variant 'z': change 1 (add_beds): count must be at least 0, got -2",
    ),
    # removing more beds than there are
    (
        '[[variants]]\nname = "w"\nchanges = [{ kind = "remove_beds", unit = "U-01", count = 99 }]',
        "variant 'w': change 1 (remove_beds): count 99: unit U-01 has",
    ),
    # a missing field
    (
        '[[variants]]\nname = "v"\nchanges = [{ kind = "night_staff", unit = "U-01" }]',
        "variant 'v': change 1 (night_staff): 'staff' is missing",
    ),
    # the same name twice
    ('[[variants]]\nname = "today"', "variants: the name 'today' is used twice"),
]


@pytest.mark.parametrize(("variant", "message"), BAD_VARIANTS)
def test_bad_scenarios_name_the_variant_and_field(tmp_path: Path, variant: str, message: str):
    path = tmp_path / "s.toml"
    path.write_text(scenario_text(bad=variant))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert message in str(caught.value)


def test_sweeps_expand_and_settings_are_checked():
    import tomllib

    data = tomllib.loads(
        scenario_text(
            sweep='[[variants]]\nname = "beds"\n'
            'sweep = { kind = "add_beds", unit = "U-01", field = "count", values = [1, 2] }'
        )
    )
    scenario = parse_scenario(data)
    assert [v.name for v in scenario.variants] == ["today", "beds count=1", "beds count=2"]
    assert scenario.variants[2].sweep == "beds" and scenario.variants[2].sweep_value == 2
    with pytest.raises(ScenarioError, match=r"simulation\.engine: 'magic'"):
        parse_scenario({**data, "simulation": {"engine": "magic"}})


def test_the_cli_runs_a_small_scenario_on_dask(tmp_path: Path):
    # 2 variants x 2 replications x 3 weeks of the tiny fixture on a LocalCluster of 2.
    more = (
        '[[variants]]\nname = "more beds"\n'
        'changes = [{ kind = "add_beds", unit = "U-01", count = 2 }]'
    )
    result, out = run_cli(tmp_path, more, workers=2)
    # The terminal table: a KPI a row, a variant a column.
    header = next(line for line in result.output.splitlines() if "KPI" in line)
    assert "today" in header and "more beds" in header
    assert any(line.lstrip("│ ").startswith("bed occupancy") for line in result.output.splitlines())
    summary = json.loads((out / "comparison.json").read_text())
    assert summary["workers"] == 2 and set(summary["variants"]) == {"today", "more beds"}
    for name in ("served.png", "unmet_by_locality.png", "occupancy.png", "comparison.csv"):
        assert (out / name).stat().st_size > 0
    page = (out / "report.html").read_text()
    assert page.count("<img") == 3 and "more beds" in page
    results = json.loads((out / "results.json").read_text())
    assert len(results) == 4 and all(len(r["occupancy_by_week"]) == 3 for r in results)


def test_a_bad_scenario_file_is_one_line_and_exit_2(tmp_path: Path):
    path = tmp_path / "s.toml"
    path.write_text("[base\n")
    result = CliRunner().invoke(app, ["whatif", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not valid TOML" in result.output
    assert not (tmp_path / "o").exists()


def test_arrivals_come_from_carers_eligible_for_their_kind():
    # Half the carers may only have sitting: a stay request is never made by one of
    # them (it would be unmet as not eligible, which says nothing about the beds).
    problem = one_slot_a_week("stay")
    cases = [
        case.model_copy(update={"eligible": ["sitting"]}) if i % 2 else case
        for i, case in enumerate(problem.cases)
    ]
    model = _DemandModel(problem.model_copy(update={"cases": cases}), {})
    rng = np.random.default_rng(0)
    askers = {
        request.case_id
        for week in range(20)
        for request in model.arrivals(rng, week, MONDAY + dt.timedelta(days=7 * week))
    }
    assert askers == {case.case_id for case in cases if "stay" in case.eligible}


def test_the_readme_example_scenario_file_is_valid():
    # The file the README runs: every variant applies to its base, the sweep expands.
    scenario = load_scenario(Path(__file__).resolve().parents[2] / "examples" / "scenarios.toml")
    names = [variant.name for variant in scenario.variants]
    assert names[:4] == ["today", "north loses a bed", "two more hoist beds", "demand up 10%"]
    assert [v.sweep_value for v in scenario.variants[4:]] == [3, 4, 5]
    assert scenario.simulation.weeks == 52


def test_a_sweep_draws_a_capacity_curve(tmp_path: Path):
    # A sweep of night staff: one variant per value, and the capacity curve drawn.
    sweep = (
        '[[variants]]\nname = "staff"\n'
        'sweep = { kind = "night_staff", unit = "U-01", field = "staff", values = [3, 4] }'
    )
    _, out = run_cli(tmp_path, sweep, workers=1)
    assert (out / "capacity_curve.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "comparison.json").read_text())
    assert set(summary["variants"]) == {"today", "staff staff=3", "staff staff=4"}
