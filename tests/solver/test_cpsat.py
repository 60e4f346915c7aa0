"""The CP-SAT engine: tiers, bookings, stopping, never worse than greedy."""

from __future__ import annotations

import threading

import pytest

from scheduler.allocate import Progress, allocate
from scheduler.checker import check
from tests.solver import builders as b

FAST = {"time_limit": 5.0, "workers": 2, "seed": 0}


def served(result) -> set[str]:
    return {s.request_id for s in result.plan.stays} | {
        f"{v.request_id}/{v.visit_id}" for v in result.plan.visits
    }


def test_one_crisis_night_beats_any_number_of_planned_nights():
    # One bed. A 1-night crisis stay on night 3 clashes with a 7-night planned stay
    # (nights 1-7). Tier 1 (crisis units) outranks tier 2 however many nights the
    # planned stay is worth: the crisis night must win, the planned week must not.
    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [b.unit("U-1", beds=1)],
        [
            b.stay("R-crisis", "C-1", 1, "2026-03-04", "2026-03-04", priority="crisis"),
            b.stay("R-planned", "C-2", 7, "2026-03-02", "2026-03-02"),
        ],
        providers=[],
    )
    result = allocate(problem, engine="cpsat", **FAST)
    assert served(result) == {"R-crisis"}
    assert result.status == "optimal"
    assert check(problem, result.plan) == []
    # The greedy baseline also serves crisis first, so here both agree.
    assert served(allocate(problem, engine="greedy")) == {"R-crisis"}


def test_cpsat_serves_more_than_first_come_first_served():
    # One bed for nights 1-4. R-early (received first) wants 2 nights starting on
    # night 2 or 3; R-a wants nights 1-2 and R-b nights 3-4, both received later.
    # Greedy gives R-early nights 2-3, blocking both others: 2 nights served.
    # The best plans serve 4 nights: R-a + R-b, or R-a + R-early on nights 3-4. Tier 2
    # prefers R-early, which has waited longer (56+ days: need 250, against 209 for R-b
    # received 10 days before the week), so R-b is the one unmet, its bed taken by R-early.
    problem = b.problem(
        [b.case("C-1"), b.case("C-2"), b.case("C-3")],
        [b.unit("U-1", beds=1)],
        [
            b.stay("R-early", "C-1", 2, "2026-03-03", "2026-03-04", received="2026-01-01"),
            b.stay("R-a", "C-2", 2, "2026-03-02", "2026-03-02", received="2026-02-20"),
            b.stay("R-b", "C-3", 2, "2026-03-04", "2026-03-04", received="2026-02-20"),
        ],
        providers=[],
        nights=4,
    )
    greedy = allocate(problem, engine="greedy")
    ours = allocate(problem, engine="cpsat", **FAST)
    assert greedy.plan.kpis.nights_served == 2
    assert ours.plan.kpis.nights_served == 4
    assert ours.objective > greedy.objective
    assert ours.gap == 0
    assert check(problem, ours.plan) == []
    (unmet,) = ours.plan.unmet
    assert (unmet.request_id, unmet.reason) == ("R-b", "beds_taken")
    assert "R-early" in unmet.detail


def test_confirmed_bookings_stand_and_are_pinned():
    # A booking holds the only bed on nights 1-2; a crisis request for night 1 cannot
    # move it (H11) and goes unmet with beds_taken naming the booking.
    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [b.unit("U-1", beds=1)],
        [
            b.stay("R-booked", "C-1", 2, "2026-03-02", "2026-03-02"),
            b.stay("R-crisis", "C-2", 1, "2026-03-02", "2026-03-02", priority="crisis"),
        ],
        providers=[],
        bookings=[
            {
                "booking_id": "BK-1",
                "request_id": "R-booked",
                "case_id": "C-1",
                "unit_id": "U-1",
                "bed_id": "U-1-B0",
                "first_night": "2026-03-02",
                "nights": 2,
            }
        ],
    )
    result = allocate(problem, engine="cpsat", **FAST)
    assert [(s.request_id, s.bed_id, str(s.first_night)) for s in result.plan.stays] == [
        ("R-booked", "U-1-B0", "2026-03-02")
    ]
    (unmet,) = result.plan.unmet
    assert unmet.reason == "beds_taken" and "BK-1" in unmet.detail
    assert check(problem, result.plan) == []


def test_bookings_that_break_the_rules_are_reported_as_such():
    # Two bookings hold the same bed on the same night: no plan can keep both.
    booking = {
        "request_id": "R-1",
        "case_id": "C-1",
        "unit_id": "U-1",
        "bed_id": "U-1-B0",
        "first_night": "2026-03-02",
        "nights": 1,
    }
    problem = b.problem(
        [b.case("C-1"), b.case("C-2")],
        [b.unit("U-1", beds=1)],
        [
            b.stay("R-1", "C-1", 1, "2026-03-02", "2026-03-02"),
            b.stay("R-2", "C-2", 1, "2026-03-02", "2026-03-02"),
        ],
        providers=[],
        bookings=[
            {**booking, "booking_id": "BK-1"},
            {**booking, "booking_id": "BK-2", "request_id": "R-2", "case_id": "C-2"},
        ],
    )
    result = allocate(problem, engine="cpsat", **FAST)
    assert result.status == "infeasible_bookings"
    assert any("U-1-B0" in note for note in result.plan.solver.notes)


def test_progress_is_reported_and_a_stopped_solve_returns_a_valid_plan():
    from scheduler.synthetic import generate

    problem = generate("borough", 1)
    stop = threading.Event()
    seen: list[Progress] = []

    def on_progress(progress: Progress) -> None:
        seen.append(progress)
        stop.set()  # stop at the first improving plan

    result = allocate(
        problem,
        engine="cpsat",
        time_limit=30,
        workers=2,
        seed=0,
        on_progress=on_progress,
        stop=stop,
    )
    assert seen and seen[0].seconds >= 0
    assert result.status == "stopped"
    assert result.seconds < 30
    assert check(problem, result.plan) == []


@pytest.mark.parametrize("tier", ["tiny", "borough"])
def test_fixture_plans_pass_the_checker_and_beat_greedy(tier: str):
    from scheduler.synthetic import generate

    problem = generate(tier, 1)
    greedy = allocate(problem, engine="greedy")
    ours = allocate(problem, engine="cpsat", **FAST)
    assert check(problem, greedy.plan) == []
    assert check(problem, ours.plan) == []
    assert ours.objective >= greedy.objective


def test_a_short_time_limit_still_gives_a_valid_plan_with_its_status():
    from scheduler.synthetic import generate

    problem = generate("borough", 2)
    result = allocate(problem, engine="cpsat", time_limit=0.2, workers=1, seed=3)
    assert result.status in ("optimal", "feasible")
    assert result.plan.solver.seed == 3
    assert check(problem, result.plan) == []


def test_the_lp_bound_is_a_bound_and_the_gap_uses_the_tighter_one():
    from scheduler.synthetic import generate

    problem = generate("borough", 1)
    result = allocate(problem, engine="cpsat", lp_bound=True, **FAST)
    stages = [s for s in result.plan.solver.stages if s["lp_bound"] is not None]
    assert stages, "the service stages carry an LP bound"
    for stage in stages:
        # Both are upper bounds on a maximised stage value.
        assert stage["lp_bound"] >= stage["value"]
    tiers = result.plan.solver.tiers
    for name in ("crisis_units", "health_appointment_units", "need_weighted_units"):
        tier = tiers[name]
        assert tier["bound"] >= tier["value"]
        exact = (tier["bound"] - tier["value"]) / abs(tier["bound"])
        assert tier["gap"] == pytest.approx(exact, abs=5e-7)  # reported to 6 decimals
    assert result.gap == max(
        tiers[n]["gap"] for n in ("crisis_units", "health_appointment_units", "need_weighted_units")
    )
    assert result.bound >= result.objective


def test_the_need_stage_carries_its_lp_bound_without_asking():
    # The need stage starts from its LP solution, so its LP bound is known whatever
    # lp_bound says; summed over the borough's parts it must reach the plan (and bound
    # the need tier's value from above).
    from scheduler.synthetic import generate

    result = allocate(generate("borough", 1), engine="cpsat", lp_bound=False, **FAST)
    need = next(s for s in result.plan.solver.stages if s["tiers"] == "need_weighted_units")
    assert need["lp_bound"] is not None
    assert need["lp_bound"] >= need["value"]
    assert result.plan.solver.tiers["need_weighted_units"]["bound"] is not None


def test_every_part_solves_its_crisis_stage_before_any_part_its_need_stage(monkeypatch):
    # Part by part, the need stage's LP of one part took the time a later part's crisis
    # stage needed (county: that part's crisis stage got no time, fewer crisis requests
    # were served). The borough fixture splits into a beds part and two sitting parts.
    import json
    from pathlib import Path

    import solver.cpsat as cpsat
    from scheduler.compile import compile_problem
    from scheduler.model import Problem

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "borough-1.json"
    data = compile_problem(Problem.model_validate(json.loads(fixture.read_text()))).data
    calls: list[tuple[int, str]] = []
    solve_stage, prepared = cpsat.solve_stage, cpsat.PartSolver._prepared

    def recording(model, objective, current, seconds, run, name, *args, **kwargs):
        if not name.startswith("need"):
            calls.append((id(model), name))
        return solve_stage(model, objective, current, seconds, run, name, *args, **kwargs)

    def preparing(self, k):
        # The need stage's work starts here (its LP, its start), once per part; a part
        # whose start meets the LP bound never calls CP-SAT for it.
        if self._prep is None:
            calls.append((id(self.model), self.stages[k].name))
        return prepared(self, k)

    monkeypatch.setattr(cpsat, "solve_stage", recording)
    monkeypatch.setattr(cpsat.PartSolver, "_prepared", preparing)
    cpsat.solve_cpsat(data, cpsat.CpSatParams(time_limit=1.0, workers=2, seed=0))
    names = [name for _, name in calls]
    crisis = [i for i, n in enumerate(names) if n.startswith("crisis")]
    need = [i for i, n in enumerate(names) if n == "need_weighted_units"]
    assert len(crisis) == len(need) == len({model for model, _ in calls}) == 3
    assert max(crisis) < min(need)
    assert max(need) < min(i for i, n in enumerate(names) if n.startswith("preference"))


def test_parts_without_a_stage_to_solve_keep_the_greedy_plan(monkeypatch):
    import json
    from pathlib import Path

    import solver.cpsat as cpsat
    from scheduler.compile import compile_problem
    from scheduler.model import Problem
    from solver.greedy import solve_greedy

    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "borough-1.json"
    data = compile_problem(Problem.model_validate(json.loads(fixture.read_text()))).data
    monkeypatch.setattr(cpsat, "plan_stages", lambda ranges: [])
    solution = cpsat.solve_cpsat(data, cpsat.CpSatParams(time_limit=1.0, workers=2, seed=0))
    greedy = solve_greedy(data)
    assert solution.stays == greedy.stays and solution.visits == greedy.visits
    assert solution.stays and solution.visits


def test_a_proven_stage_holds_each_of_its_tiers_so_the_need_lp_cannot_trade_them():
    # One bed over four nights. Case 0 has two crisis stays of two nights (nights 0-1
    # and 2-3) but an allowance of three nights, so only one can be served; a health
    # appointment stay and a planned stay of great need both want night 2. The
    # crisis-first optimum serves the first crisis stay and the appointment: need value
    # 120 + 60. Held as one weighted row, the LP could serve crisis stays in fractions
    # (more crisis nights, in fractions, outweigh the appointment) and drop the
    # appointment for the planned stay: its bound was 59,872. Held tier by tier, the
    # LP bound is the optimum itself.
    from solver.cpsat import CpSatParams, solve_cpsat
    from solver.data import (
        CRISIS,
        HEALTH_APPOINTMENT,
        PLANNED,
        SHARED,
        BedClass,
        CaseLimits,
        SolverInput,
        StayOption,
        StayRequest,
        UnitNights,
    )

    def request(case: int, priority: int, nights: int, need: int) -> StayRequest:
        return StayRequest(case, priority, nights, SHARED, need, arrival=case)

    def option(req: int, start: int) -> StayOption:
        return StayOption(req, 0, start, cost=0, travel=0, points=0, kept=0)

    data = SolverInput(
        num_nights=4,
        step_minutes=15,
        steps_per_day=96,
        night_units=60,
        units=[UnitNights([4] * 4, 4, [0] * 4, [0] * 4, [0] * 4)],
        bed_classes=[BedClass(unit=0, free=[1] * 4, num_beds=1)],
        stay_requests=[
            request(0, CRISIS, 2, 1),
            request(0, CRISIS, 2, 1),
            request(1, HEALTH_APPOINTMENT, 1, 1),
            request(2, PLANNED, 1, 1000),
        ],
        stay_options=[option(0, 0), option(1, 2), option(2, 2), option(3, 2)],
        visits=[],
        visit_options=[],
        providers=[],
        cases=[CaseLimits(3, 0), CaseLimits(28, 0), CaseLimits(28, 0)],
        incompatible=[],
        budgets=[],
    )
    solution = solve_cpsat(data, CpSatParams(time_limit=5.0, workers=2, seed=0))
    assert solution.stays == {0: 0, 2: 2}
    need = next(s for s in solution.stages if s.name == "need_weighted_units")
    assert need.value == 180
    assert need.lp_bound == 180


def test_the_need_lp_solved_in_the_background_is_the_one_solved_in_place():
    # prefetch() starts the need stage's LP on the pool once the crisis stage is held;
    # the need stage then takes that LP: the same bound as solving it there and then.
    from concurrent.futures import ThreadPoolExecutor

    from scheduler.compile import compile_problem
    from scheduler.files import load_problem
    from solver.components import split
    from solver.cpsat import CpSatParams, PartSolver
    from solver.greedy import solve_greedy
    from solver.lp import relax
    from solver.run import Run
    from solver.stage import StageObjective
    from solver.tiers import plan_stages, tier_ranges

    data = compile_problem(load_problem("fixtures/borough-1.json")).data
    stages = plan_stages(tier_ranges(data))
    greedy = solve_greedy(data)
    part = next(p for p in split(data) if p.data.stay_options)
    params = CpSatParams(time_limit=2.0, workers=2, seed=0)
    hint = part.local_hint(greedy.stays, greedy.visits)
    with ThreadPoolExecutor(max_workers=1) as pool:
        solver = PartSolver(part.data, stages, Run(params, 0.0, params.time_limit), hint, pool)
        solver.solve(1, 1.0)  # the crisis stage, held
        solver.prefetch()
        assert solver._lp_soon is not None
        background = solver._lp_soon.future.result()
    objective = StageObjective.of(stages[1], solver.coef, len(solver.model.vars))
    in_place = relax(solver.model, objective.nz, objective.coef)
    assert background is not None and in_place is not None
    assert background.bound == in_place.bound


def test_a_deterministic_run_gives_the_same_plan_twice_even_when_its_time_limit_binds():
    # Timed by CP-SAT's deterministic time with one worker, every time share and every
    # call's limit is the same from run to run, whatever else the machine is doing.
    from scheduler.compile import compile_problem
    from scheduler.files import load_problem
    from solver.cpsat import CpSatParams, solve_cpsat

    data = compile_problem(load_problem("fixtures/borough-1.json")).data
    params = CpSatParams(time_limit=0.3, workers=1, seed=0, deterministic=True)
    first, second = solve_cpsat(data, params), solve_cpsat(data, params)
    assert (first.stays, first.visits) == (second.stays, second.visits)
    assert [s.value for s in first.stages] == [s.value for s in second.stages]
