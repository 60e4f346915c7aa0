"""Reports: each figure derived by hand on a small plan; totals agree with the KPIs."""

from __future__ import annotations

import datetime as dt
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from api.cli import app
from scheduler.kpis import compute_kpis
from scheduler.model import Plan, PlannedStay, PlannedVisit, SolverInfo, Unmet
from scheduler.reports.html_page import summary_html
from scheduler.reports.plan_summary import summary_tables
from scheduler.reports.tables import (
    NOT_PLANNED,
    REPORTS,
    budgets,
    carers,
    money,
    occupancy,
    render,
    served,
    sitters,
    unmet,
)
from tests.solver import builders as b

MONDAY = dt.date(2026, 3, 2)


@pytest.fixture
def problem():
    # One unit of 2 beds (£200 a night) for 7 nights; one provider with one sitter
    # 08:00-18:00 Mon-Wed (£24 an hour, cap 40 h). C-1 has used 10 of 28 nights.
    return b.problem(
        [b.case("C-1", nights_used=10), b.case("C-2"), b.case("C-3", locality_id="L-1")],
        [b.unit("U-1", beds=2)],
        [
            b.stay("R-1", "C-1", 3, "2026-03-02", "2026-03-02", priority="crisis"),
            b.stay("R-2", "C-2", 2, "2026-03-02", "2026-03-04"),
            b.sitting(
                "R-3",
                "C-3",
                [
                    ("V1", 120, "2026-03-03", "09:00", "12:00"),
                    ("V2", 60, "2026-03-04", "09:00", "12:00"),
                ],
            ),
        ],
        budgets=[{"budget_id": "BG", "limit_pence": 100_000, "applies_to": ["U-1", "P-1"]}],
    )


def _r1_on_b0(nights: int) -> PlannedStay:
    """C-1's stay R-1 on bed U-1-B0 from Monday."""
    return PlannedStay(
        request_id="R-1", case_id="C-1", unit_id="U-1", bed_id="U-1-B0",
        first_night=MONDAY, nights=nights,
    )  # fmt: skip


@pytest.fixture
def plan(problem):
    # R-1 on bed B0 nights 2-4 March; R-3's V1 served; R-2 and V2 unmet.
    stays = [_r1_on_b0(nights=3)]
    visits = [
        PlannedVisit(
            request_id="R-3",
            visit_id="V1",
            case_id="C-3",
            provider_id="P-1",
            day=MONDAY + dt.timedelta(days=1),
            start="09:00",
            minutes=120,
        )
    ]
    missed = [
        Unmet(request_id="R-2", reason="beds_taken", detail="taken"),
        Unmet(request_id="R-3", visit_id="V2", reason="no_sitter_free", detail="busy"),
    ]
    return Plan(
        stays=stays,
        visits=visits,
        unmet=missed,
        kpis=compute_kpis(problem, stays, visits),
        solver=SolverInfo(engine="greedy", status="feasible", seconds=0.0, seed=0),
    )


def test_occupancy_counts_beds_held_each_night(problem, plan):
    frame = occupancy(problem, plan)
    # 7 nights x 1 unit; one of two beds held on 2, 3 and 4 March, none after.
    assert len(frame) == 7
    assert frame["Occupied"].tolist() == [1, 1, 1, 0, 0, 0, 0]
    assert frame["Occupancy"].tolist()[:4] == [0.5, 0.5, 0.5, 0.0]
    # Bed-nights held over beds x nights: the KPI's definition, 3 / 14.
    assert frame["Occupied"].sum() / frame["Beds"].sum() == pytest.approx(
        plan.kpis.bed_occupancy, abs=1e-4
    )


def test_unmet_by_reason_priority_and_locality(problem, plan):
    frame = unmet(problem, plan)
    rows = {(r.Reason, r.Priority): r for r in frame.itertuples()}
    # a planned 2-night stay; V2: a planned 60-minute visit; both in L-1.
    assert (
        rows[("beds_taken", "planned")].Stays == 1 and rows[("beds_taken", "planned")].Nights == 2
    )
    assert rows[("no_sitter_free", "planned")].Visits == 1
    assert rows[("no_sitter_free", "planned")].Hours == 1.0
    assert set(frame["Locality"]) == {"L-1"}
    # Every stay request and visit not served is counted once, as the KPI counts them.
    assert frame["Stays"].sum() + frame["Visits"].sum() == plan.kpis.unmet_count == 2


def test_unmet_counts_what_the_plan_neither_serves_nor_explains(problem, plan):
    # The confirmed bookings read as a plan have no unmet list: R-2 (a 2-night stay)
    # and V2 (60 minutes) are neither served nor explained, so they count as not_planned.
    bookings_only = plan.model_copy(update={"unmet": []})
    frame = unmet(problem, bookings_only).set_index("Reason")
    assert list(frame.index) == [NOT_PLANNED]
    assert frame.loc[NOT_PLANNED, "Stays"] == 1 and frame.loc[NOT_PLANNED, "Nights"] == 2
    assert frame.loc[NOT_PLANNED, "Visits"] == 1 and frame.loc[NOT_PLANNED, "Hours"] == 1.0
    # An unmet entry for a whole sitting request counts each of its visits not served:
    # only V2 (60 minutes), since V1 is in the plan.
    whole = plan.model_copy(
        update={"unmet": [Unmet(request_id="R-3", reason="no_provider", detail="none")]}
    )
    rows = unmet(problem, whole).set_index("Reason")
    assert rows.loc["no_provider", "Visits"] == 1 and rows.loc["no_provider", "Hours"] == 1.0


def test_served_share_by_priority(problem, plan):
    frame = served(problem, plan).set_index("Priority")
    # crisis: R-1 served (3 of 3 nights); planned: R-2 not, R-3 partly (a request with
    # any visit served counts as served) -> 1 of 2, 2 of 3 hours.
    assert frame.loc["crisis", "Served share"] == 1.0
    assert frame.loc["planned", "Requests served"] == 1 and frame.loc["planned", "Requests"] == 2
    assert (
        frame.loc["planned", "Hours served"] == 2.0 and frame.loc["planned", "Hours asked"] == 3.0
    )
    assert frame.loc["health_appointment", "Requests"] == 0
    assert frame["Nights served"].sum() == plan.kpis.nights_served
    assert frame["Hours served"].sum() * 60 == plan.kpis.sitting_minutes_served


def test_carers_who_have_had_least_come_first(problem, plan):
    frame = carers(problem, plan)
    # C-2 and C-3: 0 of 28 nights; C-1: 10 used + 3 planned = 13 of 28 (0.4643).
    assert frame["Case"].tolist() == ["C-2", "C-3", "C-1"]
    c1 = frame.set_index("Case").loc["C-1"]
    assert c1["Nights after plan"] == 13 and c1["Share of allowance"] == pytest.approx(
        13 / 28, abs=1e-4
    )
    assert frame.set_index("Case").loc["C-3", "Sitting hours this week"] == 2.0


def test_carers_count_only_nights_inside_the_horizon(problem, plan):
    # A booking of 3 nights from 28 February: only 2 March is inside the horizon
    # (its earlier nights are in nights_used already, as H8 counts them).
    early = plan.stays[0].model_copy(update={"first_night": MONDAY - dt.timedelta(days=2)})
    frame = carers(problem, plan.model_copy(update={"stays": [early]})).set_index("Case")
    assert frame.loc["C-1", "Nights in plan"] == 1
    assert frame.loc["C-1", "Nights after plan"] == 11  # 10 used before + 1


def test_budget_and_sitter_use(problem, plan):
    frame = budgets(problem, plan)
    # What the plan adds: U-1 is block (its 3 nights add nothing) + 2 h x £24 = £48 of £1,000.
    assert frame.loc[0, "Planned (£)"] == 48.0 and frame.loc[0, "Used"] == 0.048
    assert frame.loc[0, "Planned (£)"] * 100 == plan.kpis.cost_pence
    rota = sitters(problem, plan).loc[0]
    # One sitter 10 h on Mon, Tue, Wed = 30 sitter-hours; 2 planned; cap 40 h.
    assert rota["Rota sitter-hours"] == 30.0 and rota["Planned sitter-hours"] == 2.0
    assert rota["Utilisation"] == pytest.approx(2 / 30, abs=1e-4)
    assert rota["Cap used"] == 0.05


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_round_trips_through_csv_and_json(problem, plan, name):
    frame = REPORTS[name](problem, plan)
    back = pd.read_csv(io.StringIO(render(frame, "csv")))
    assert list(back.columns) == list(frame.columns)
    assert len(back) == len(frame)
    records = json.loads(render(frame, "json"))
    assert len(records) == len(frame) and (not records or set(records[0]) == set(frame.columns))


def test_reports_of_an_empty_plan(problem):
    empty = Plan(solver=SolverInfo(engine="greedy", status="feasible", seconds=0.0, seed=0))
    # Nothing served and nothing explained: all 4 items (2 stays, 2 visits) not planned.
    assert unmet(problem, empty)["Reason"].tolist() == [NOT_PLANNED, NOT_PLANNED]
    assert occupancy(problem, empty)["Occupied"].sum() == 0
    assert summary_html(problem, empty).count("<img") == 3


def test_reports_with_no_sitting_and_nothing_unmet():
    # Only a stay request, served in full; no provider, no sitting, no budgets.
    problem = b.problem(
        [b.case("C-1")],
        [b.unit("U-1")],
        [b.stay("R-1", "C-1", 2, "2026-03-02", "2026-03-02")],
        providers=[],
    )
    stays = [_r1_on_b0(nights=2)]
    plan = Plan(
        stays=stays,
        kpis=compute_kpis(problem, stays, []),
        solver=SolverInfo(engine="greedy", status="optimal", seconds=0.0, seed=0),
    )
    assert unmet(problem, plan).empty and sitters(problem, plan).empty
    assert budgets(problem, plan).empty
    assert served(problem, plan).set_index("Priority").loc["planned", "Hours asked"] == 0
    for name, report in REPORTS.items():
        frame = report(problem, plan)
        rows = json.loads(render(frame, "json"))
        assert rows == [] if frame.empty else list(frame.columns) == list(rows[0]), name
    page = summary_html(problem, plan)
    assert page.count("<img") == 3 and "no budgets set" in page


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])


def test_the_summary_page_is_self_contained_with_three_charts(problem, plan):
    page = summary_html(problem, plan, title="Test week")
    parser = _Images()
    parser.feed(page)
    assert len(parser.images) == 3
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert "<script" not in page and "http" not in page  # nothing fetched when opened
    assert "Test week" in page and "beds_taken" in page
    # Headline figures: crisis 1 of 1 requests; money added £48 (U-1 is block: 2 h x £24),
    # all of it under budget BG's £1,000, which is 5% used (below 95%: 0 of 1 at its limit).
    assert "Crisis requests served<b>1 of 1</b>" in page
    assert (
        "Money added<b>£48</b><span>£48 of £1,000 budgeted; 0 of 1 budgets at 95%+</span>" in page
    )
    assert "<td>5%</td>" in page


def test_the_report_command(tmp_path: Path, problem, plan):
    runner = CliRunner()
    problem_path, plan_path = tmp_path / "p.json", tmp_path / "plan.json"
    problem_path.write_text(problem.model_dump_json())
    plan_path.write_text(plan.model_dump_json())
    args = ["report", str(plan_path), "--problem", str(problem_path)]
    result = runner.invoke(app, [*args, "-r", "unmet", "-f", "csv", "-o", str(tmp_path / "u.csv")])
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "u.csv")["Reason"].tolist() == ["beds_taken", "no_sitter_free"]
    assert runner.invoke(app, [*args, "-f", "html", "-o", str(tmp_path / "s.html")]).exit_code == 0
    assert (tmp_path / "s.html").read_text().count("<img") == 3
    everything = runner.invoke(app, [*args, "-f", "json"])
    assert set(json.loads(everything.stdout)) == set(REPORTS)
    # Bad input: one line naming the option, exit 2, nothing written.
    bad = runner.invoke(app, [*args, "-r", "nope", "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "--report: 'nope'" in bad.output
    assert not (tmp_path / "x.csv").exists()
    missing = runner.invoke(app, ["report", str(tmp_path / "none.json"), "-p", str(problem_path)])
    assert missing.exit_code == 2 and "no such file" in missing.output


@pytest.fixture
def policy_problem():
    # U-1: block, 2 beds, £73,000 a year, 1 bed held for crisis, 1 agency staff at £250 a
    # night. U-S: spot, 1 bed at £300. Contributions C-2 £20, C-3 £5 a night. The plan is
    # made on Monday 2 March (7 nights); the reserve is in force from Wednesday 4 March.
    return b.problem(
        [
            b.case("C-1", contribution_per_night_pence=1000),
            b.case("C-2", contribution_per_night_pence=2000),
            b.case("C-3", contribution_per_night_pence=500),
            b.case("C-4"),
        ],
        [
            b.unit(
                "U-1",
                beds=2,
                block_cost_per_year_pence=7_300_000,
                crisis_reserve_beds=1,
                extra_night_staff_max=1,
                extra_night_staff_cost_pence=25000,
            ),
            b.unit("U-S", spot=True, cost_per_night_pence=30000),
        ],
        [
            b.stay("R-1", "C-1", 3, "2026-03-05", "2026-03-05", priority="crisis"),
            b.stay("R-2", "C-2", 2, "2026-03-02", "2026-03-02"),
            b.stay("R-5", "C-3", 2, "2026-03-02", "2026-03-02"),
            b.stay("R-6", "C-4", 2, "2026-03-06", "2026-03-06", priority="crisis"),
        ],
    )


def _stay(request_id, case_id, unit_id, bed_id, day, nights, extra=0):
    return PlannedStay(
        request_id=request_id, case_id=case_id, unit_id=unit_id, bed_id=bed_id,
        first_night=MONDAY + dt.timedelta(days=day), nights=nights, extra_night_staff=extra,
    )  # fmt: skip


@pytest.fixture
def policy_plan(policy_problem):
    stays = [
        _stay("R-1", "C-1", "U-1", "U-1-B0", 3, 3),  # crisis, Thu 5 .. Sat 7
        _stay("R-2", "C-2", "U-1", "U-1-B1", 0, 2, extra=1),  # planned, Mon 2, Tue 3
        _stay("R-5", "C-3", "U-1", "U-1-B0", 0, 2),  # planned, Mon 2, Tue 3
        _stay("R-6", "C-4", "U-S", "U-S-B0", 4, 2),  # crisis, spot, Fri 6, Sat 7
    ]
    return Plan(
        stays=stays,
        kpis=compute_kpis(policy_problem, stays, []),
        solver=SolverInfo(engine="greedy", status="feasible", seconds=0.0, seed=0),
    )


def test_money_and_reserve_by_unit(policy_problem, policy_plan):
    frame = money(policy_problem, policy_plan).set_index("ID")
    block, spot = frame.loc["U-1"], frame.loc["U-S"]
    # U-1: 3 + 2 + 2 nights; R-2's agency staff 2 nights x £250 = £500 added (block
    # nights add nothing); contract £73,000 x 7 / 365 = £1,400; contributions R-2 2 x £20
    # + R-5 2 x £5 = £50 (R-1 is crisis: not charged).
    assert (block["Kind"], block["Nights"], block["Agency staff nights"]) == ("block unit", 7, 2)
    assert (block["Added (£)"], block["Block contract (£)"]) == (500.0, 1400.0)
    assert block["Contributions (£)"] == 50.0
    # Reserve: Mon 2 and Tue 3 (before it is in force) two planned stays, so the reserve
    # bed went to one of them: 2 released; Wed 4 .. Sun 8 no planned stay: 5 held.
    assert (block["Reserve beds"], block["Reserve held"], block["Reserve released"]) == (1, 5, 2)
    # U-S: 2 spot nights x £300, no contract, crisis so no contribution.
    assert (spot["Kind"], spot["Added (£)"], spot["Block contract (£)"]) == ("spot unit", 600.0, 0)
    assert spot["Contributions (£)"] == 0
    # The columns add up to the KPI block.
    extras = policy_plan.kpis.model_extra or {}
    assert frame["Added (£)"].sum() * 100 == extras["spend_added_pence"] == 110000
    assert frame["Block contract (£)"].sum() * 100 == extras["block_contract_pence"]
    assert frame["Contributions (£)"].sum() * 100 == extras["carer_contributions_pence"]
    assert frame["Agency staff nights"].sum() == extras["agency_staff_nights"] == 2
    assert frame["Reserve held"].sum() == extras["crisis_reserve_bed_nights_held"]
    assert frame["Reserve released"].sum() == extras["crisis_reserve_bed_nights_released"]


def test_the_summary_shows_money_added_beside_contracts_and_the_reserve(
    policy_problem, policy_plan
):
    page = summary_html(policy_problem, policy_plan)
    # £500 agency + £600 spot added; £1,400 of contracts; £50 charged; 2 agency staff
    # nights and 2 spot nights; 5 reserve bed-nights held, 2 released
    assert "Money added<b>£1,100</b>" in page
    assert "Block contracts<b>£1,400</b>" in page
    assert "Carers&#x27; contributions<b>£50</b>" in page
    assert "Agency staff nights<b>2</b><span>2 spot nights bought</span>" in page
    assert (
        "Crisis reserve bed-nights held<b>5</b>"
        "<span>2 released to other stays at short notice</span>" in page
    )
    assert "Money and crisis reserve by unit and provider" in page
    console = Console(width=200, record=True)
    for table in summary_tables(policy_problem, policy_plan):
        console.print(table)
    text = console.export_text()
    assert "money added (spot, agency staff, sitting)" in text and "£1,100.00" in text
    assert "crisis reserve held / released (bed-nights)" in text and "5 / 2" in text
