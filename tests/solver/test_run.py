"""One run's context (solver.run): its clock, its limits and its stop event."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from ortools.sat.python import cp_model

from solver.params import CpSatParams
from solver.run import Run


def call_spending(deterministic_time: float) -> SimpleNamespace:
    """A stand-in for a CP-SAT call that spent ``deterministic_time``."""
    return SimpleNamespace(response_proto=SimpleNamespace(deterministic_time=deterministic_time))


def test_a_deterministic_run_s_clock_moves_only_by_what_its_calls_spent():
    run = Run(CpSatParams(deterministic=True), started=100.0, deadline=110.0)
    assert run.now() == 100.0
    run.count(call_spending(2.5))  # type: ignore[arg-type]
    run.count(call_spending(0.5))  # type: ignore[arg-type]
    assert run.now() == 103.0


def test_a_wall_clock_run_ignores_deterministic_time():
    run = Run.start(CpSatParams(time_limit=5.0))
    before = run.now()
    run.count(call_spending(1000.0))  # type: ignore[arg-type]
    assert run.now() - before < 1000.0
    assert run.deadline == run.started + 5.0


def test_each_kind_of_run_limits_a_call_by_its_own_clock():
    wall, deterministic = cp_model.CpSolver(), cp_model.CpSolver()
    Run.start(CpSatParams()).limit(wall.parameters, 3.0)
    Run.start(CpSatParams(deterministic=True)).limit(deterministic.parameters, 3.0)
    assert wall.parameters.max_time_in_seconds == 3.0
    assert deterministic.parameters.max_deterministic_time == 3.0
    assert deterministic.parameters.max_time_in_seconds > 1e9  # CP-SAT's default: none


def test_a_run_is_stopped_once_its_event_is_set():
    stop = threading.Event()
    run = Run.start(CpSatParams(), stop=stop)
    assert not run.stopped
    stop.set()
    assert run.stopped
