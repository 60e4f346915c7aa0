"""One vocabulary for how a solve ended (SolveStatus) and what a solve adds to a plan."""

from __future__ import annotations

import json

from scheduler.allocate import SolveStatus, allocate
from scheduler.files import load_problem
from scheduler.model import SolverInfo


def test_each_status_is_the_string_plans_and_the_database_hold():
    assert [s.value for s in SolveStatus] == [
        "optimal",
        "feasible",
        "unknown",
        "stopped",
        "infeasible_bookings",
        "manual",
    ]
    assert SolveStatus("infeasible_bookings") is SolveStatus.INFEASIBLE_BOOKINGS
    assert json.dumps({"status": SolveStatus.OPTIMAL}) == '{"status": "optimal"}'


def test_a_solved_plan_declares_what_the_solve_adds_in_the_order_it_always_had():
    result = allocate(load_problem("fixtures/tiny-1.json"), engine="greedy")
    assert isinstance(result.status, SolveStatus)
    solver = json.loads(result.plan.model_dump_json())["solver"]
    assert list(solver) == [
        *("engine", "status", "objective", "bound", "gap", "seconds", "seed"),
        *("tiers", "stages", "gap_all_tiers", "notes", "lp_seconds"),
    ]
    assert next(iter(result.plan.solver.tiers or {})) == "crisis_units"


def test_a_plan_made_by_hand_leaves_the_solve_details_out():
    # No solve, no tiers, stages, notes or LP seconds: its JSON is as it always was.
    info = SolverInfo(engine="manual", status=SolveStatus.MANUAL)
    assert json.loads(info.model_dump_json()) == {
        "engine": "manual",
        "status": "manual",
        "objective": None,
        "bound": None,
        "gap": None,
        "seconds": 0.0,
        "seed": None,
    }
