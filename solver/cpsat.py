"""The CP-SAT engine: beds and sitting in one model, solved tier by tier.

One Boolean per option (``x`` for a stay option, ``y`` for a visit option);
every rule the compile step could not settle alone is a linear constraint
(:mod:`solver.model`; :class:`solver.constraints.Constraints` has one method per rule, named
after it). The tiers of the objective are solved in stages (:mod:`solver.tiers`),
each by one CP-SAT call (:mod:`solver.stage`); each stage starts
from the previous stage's plan, the first from the greedy plan, and the result
is never worse than greedy.

Parts of the problem that share no case, unit, provider or budget are solved
separately (an exact decomposition), smallest first, each with its share of the
time limit (:mod:`solver.timeshare`), in phases: every part's crisis stage, then
every part's need stage, then the tie-breakers. One :class:`solver.run.Run` holds
the run's parameters, clock, stop event and progress callback for them all.

The need stage is where the time goes. Its LP relaxation (:mod:`solver.lp`, solved
in the background while later parts are built) is its bound; rounded, it is the
start (:mod:`solver.lp_start`); then CP-SAT searches among the options the LP uses and
the plan has (:mod:`solver.neighbourhood`), which closes most of the gap quickly
where a search of the whole model closed almost none; what time is left goes to the
whole model. The search's knobs are :class:`solver.params.SearchParams`; the figures
behind these choices are in ``benchmarks/results/solver-design-notes.md``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from solver.components import Part, split
from solver.data import SolverInput
from solver.greedy import solve_greedy
from solver.lp import Relaxation, lp_bound, relax
from solver.lp_start import earlier_options, earlier_services, lp_start
from solver.model import Model, assignment, decode, filled, holds_earlier_stages, stage_value
from solver.neighbourhood import near_lp, support, widened
from solver.params import CpSatParams
from solver.run import ProgressFn, Run
from solver.solution import Solution, SolveStatus, StageReport, tier_values
from solver.stage import StageObjective, solve_stage
from solver.tiers import Stage, plan_stages, tier_ranges
from solver.timeshare import NEED, part_weights, phase_ends, phase_share, stage_share

__all__ = ["CpSatParams", "PartSolver", "solve_cpsat"]


def solve_cpsat(
    data: SolverInput,
    params: CpSatParams | None = None,
    *,
    on_progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> Solution:
    """Solve with CP-SAT; never worse than the greedy plan, which is the first hint."""
    run = Run.start(params or CpSatParams(), on_progress, stop)
    params = run.params
    greedy = solve_greedy(data, seed=params.seed)
    stages = plan_stages(tier_ranges(data))
    parts = split(data)
    # Phases: every part's crisis stage, then every part's need stage, then the
    # tie-breakers. Part by part instead, the need stage's LP of one part (which
    # takes what it needs) left a later part's crisis stage no time at all.
    solvers: list[PartSolver | None] = [None] * len(parts)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="respite-lp") as lp_pool:
        _solve_phases(parts, solvers, stages, run, greedy, lp_pool)
    whole = _merged(parts, solvers, stages, run, greedy)
    reports, lp_seconds = whole.reports, whole.lp_seconds
    ours = Solution(whole.stays, whole.visits, "cpsat", SolveStatus.OPTIMAL)
    chosen = _never_worse(data, ours, greedy)
    chosen.engine = "cpsat"
    proven = all(r.status == SolveStatus.OPTIMAL for r in reports)
    chosen.status = SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE
    if run.stopped:
        chosen.status = SolveStatus.STOPPED
    chosen.seconds = run.wall_seconds()
    chosen.seed = params.seed
    chosen.stages = reports
    chosen.lp_seconds = lp_seconds
    chosen.notes.append(
        f"time_limit={params.time_limit} num_workers={params.workers} random_seed={params.seed} "
        f"parts={len(parts)} lp_seconds={lp_seconds:.2f}"
    )
    return chosen


def _solve_phases(
    parts: list[Part],
    solvers: list[PartSolver | None],
    stages: list[Stage],
    run: Run,
    greedy: Solution,
    lp_pool: ThreadPoolExecutor,
) -> None:
    """Every part's crisis stage, then every part's need stage, then the tie-breakers
    (see :func:`solve_cpsat`); ``solvers`` gets each part's solver as it is built."""
    for phase_end in phase_ends(stages):
        for solver in solvers:
            if solver is not None:
                solver.prepare(phase_end)
        headroom = [None if solver is None else solver.headroom for solver in solvers]
        weights = part_weights([part.size for part in parts], headroom)
        for position, part in enumerate(parts):
            # Each part gets its share (see part_weights) of the phase's share of the
            # time left; unused time rolls on.
            remaining = max(run.deadline - run.now(), 0.0)
            solver = solvers[position]
            done = solver.done if solver is not None else 0
            phase = remaining * phase_share(stages, done, phase_end, run.search.service_weight)
            share = phase * weights[position] / max(1e-9, sum(weights[position:]))
            if solver is None:
                hint = part.local_hint(greedy.stays, greedy.visits)
                # Building the model counts in the part's time.
                built = run.now() + share
                solver = solvers[position] = PartSolver(part.data, stages, run, hint, lp_pool)
                share = max(built - run.now(), 0.0)
            solver.solve(phase_end, share)
            solver.prefetch()


def _merged(
    parts: list[Part],
    solvers: list[PartSolver | None],
    stages: list[Stage],
    run: Run,
    greedy: Solution,
) -> PartResult:
    """Every part's result in the whole problem's indices, stage reports summed."""
    whole = PartResult({}, {}, [StageReport(s.name, 0, 0, 0) for s in stages])
    for report in whole.reports:
        if not report.serves:
            report.lp_bound = None
    for part, solver in zip(parts, solvers, strict=True):
        if solver is None:  # no stage to solve: the part keeps its greedy plan
            solver = PartSolver(
                part.data, stages, run, part.local_hint(greedy.stays, greedy.visits)
            )
        result = solver.result()
        for r, o in result.stays.items():
            whole.stays[part.request_back[r]] = part.stay_back[o]
        for v, o in result.visits.items():
            whole.visits[part.visit_back[v]] = part.vopt_back[o]
        for report, part_report in zip(whole.reports, result.reports, strict=True):
            report.add(part_report)
        whole.lp_seconds += result.lp_seconds
    return whole


def _never_worse(data: SolverInput, ours: Solution, greedy: Solution) -> Solution:
    if tier_values(data, ours.stays, ours.visits) >= tier_values(data, greedy.stays, greedy.visits):
        return ours
    greedy.notes.append("CP-SAT found nothing better than the greedy plan, which is kept")
    return greedy


@dataclass
class PartResult:
    """A part's plan (in its own indices, or the whole problem's once merged), its stage
    reports and the seconds its LP bounds took after the search."""

    stays: dict[int, int]
    visits: dict[int, int]
    reports: list[StageReport]
    lp_seconds: float = 0.0


@dataclass(frozen=True)
class LpJob:
    """A stage to bound by its LP after the search (when asked for): its report, the
    rows it was solved with (the first ``rows``) and its objective."""

    report: StageReport
    rows: int
    objective: StageObjective


@dataclass(frozen=True)
class NeedStart:
    """The need stage (index ``stage``) prepared: its LP relaxation, the LP solved again
    with the plan's own earlier services (``again``), and the option variables that
    count in an earlier stage's tiers (``earlier``)."""

    stage: int
    relaxation: Relaxation | None
    again: list[float] | None
    earlier: list[int]


@dataclass(frozen=True)
class BackgroundLp:
    """Stage ``stage``'s LP relaxation, solving on the run's LP thread."""

    stage: int
    future: Future[Relaxation | None]


@dataclass(frozen=True)
class _Way:
    """One neighbourhood of the search near the LP: its weight on the time, the options
    it allows, and the services that give way to the holds (None: the holds stay)."""

    weight: float
    neighbourhood: Callable[[], set[int]]
    services: tuple[list[list[int]], range] | None = None


class PartSolver:
    """One part's model, solved a phase of stages at a time (see :func:`solve_cpsat`)."""

    def __init__(
        self,
        data: SolverInput,
        stages: list[Stage],
        run: Run,
        hint: tuple[dict[int, int], dict[int, int]],
        lp_pool: ThreadPoolExecutor | None = None,
    ):
        self.model = Model(data, run.search)
        self.coef = self.model.tier_coefficients()
        self.current = assignment(self.model, *hint)
        self.stages = stages
        self.run = run
        self.params = run.params
        self.search = run.search
        self.reports: list[StageReport] = []
        self.lp_jobs: list[LpJob] = []
        self.done = 0  # stages solved so far
        self._prep: NeedStart | None = None
        self.lp_pool = lp_pool
        self._lp_soon: BackgroundLp | None = None
        self._objectives: dict[int, StageObjective] = {}

    def solve(self, upto: int, time_budget: float) -> None:
        """Solve the stages from the next one up to ``upto`` in ``time_budget`` seconds,
        each its share (:func:`solver.timeshare.stage_share`) of what is left."""
        model, params, stages, run = self.model, self.params, self.stages, self.run
        deadline = run.now() + time_budget
        for k in range(self.done, upto):
            stage = stages[k]
            objective = self._objective(k)
            if not objective.nz:
                self.reports.append(StageReport(stage.name, 0, 0, 0))
                continue
            left = max(deadline - run.now(), 0.0)
            seconds = left * stage_share(stages[:upto], k, self.search.service_weight)
            relaxation = None
            if NEED in stage.tiers and params.lp_guided:
                lp_started = run.now()
                prep = self._prepared(k)
                relaxation = prep.relaxation
                seconds = max(seconds - (run.now() - lp_started), 0.0)
                if relaxation is not None:
                    seconds = self._search_near_lp(stage, objective.coef, relaxation, prep, seconds)
            if (
                relaxation is not None
                and (value := stage_value(objective.coef, self.current)) >= relaxation.bound
            ):
                # The plan reaches the LP bound: proven, with nothing left to search.
                proven = relaxation.bound
                optimal = SolveStatus.OPTIMAL
                self.reports.append(StageReport(stage.name, value, proven, proven, optimal))
                self._hold(stage, objective, value, optimal)
                continue
            outcome = solve_stage(
                model,
                objective,
                self.current,
                seconds,
                run,
                stage.name,
                improving=relaxation is not None and len(model.vars) > self.search.large,
                # With nothing held yet, options that count in no tier of the stage
                # can be left out: serving less never breaks a rule, so the optimum is
                # the same (on the fixtures, a tenth of the options of a beds part).
                only=set(objective.nz) if not model.rows.fixed else None,
            )
            if outcome.plan is not self.current:  # the stage's plan is new: fill it
                self.current = filled(model, outcome.plan)
            lp = relaxation.bound if relaxation is not None else None
            report = StageReport(stage.name, outcome.value, outcome.bound, lp, outcome.status)
            self.reports.append(report)
            if lp is None:
                self.lp_jobs.append(LpJob(report, len(model.rows.items), objective))
            self._hold(stage, objective, outcome.value, outcome.status)
        self.done = max(self.done, upto)

    def prepare(self, upto: int) -> None:
        """Before a phase shares out its time: the need stage's LP and rounded start, if
        the phase ending at ``upto`` solves it, so that :attr:`headroom` can say where the
        time is worth most."""
        k = self.done
        if k >= upto or NEED not in self.stages[k].tiers or not self.params.lp_guided:
            return
        if self._objective(k).nz:
            self._prepared(k)

    @property
    def headroom(self) -> int | None:
        """How far the prepared need stage's start is below its LP bound (None if not
        prepared): most of it is in the beds parts, where the LP bound is loosest."""
        if self._prep is None or self._prep.relaxation is None:
            return None
        value = stage_value(self._objective(self._prep.stage).coef, self.current)
        return max(self._prep.relaxation.bound - value, 0)

    def prefetch(self) -> None:
        """If the next stage is the need stage, start its LP in the background (GLOP
        lets go of the interpreter while it solves), while the next parts' models are
        built and their crisis stages solved. The part's rows do not change until its
        need stage."""
        k = self.done
        if self.lp_pool is None or k >= len(self.stages) or NEED not in self.stages[k].tiers:
            return
        if not self.params.lp_guided or self._lp_soon is not None:
            return
        objective = self._objective(k)
        if objective.nz:
            future = self.lp_pool.submit(
                relax, self.model, objective.nz, objective.coef, time_limit=self.search.lp_seconds
            )
            self._lp_soon = BackgroundLp(k, future)

    def _objective(self, k: int) -> StageObjective:
        """Stage k's objective, made once (the phases, the time shares and the need
        stage all ask for it)."""
        if k not in self._objectives:
            self._objectives[k] = StageObjective.of(self.stages[k], self.coef, len(self.model.vars))
        return self._objectives[k]

    def _relaxation(self, k: int) -> Relaxation | None:
        """Stage k's LP relaxation: the one :meth:`prefetch` started, or solved now."""
        if self._lp_soon is not None and self._lp_soon.stage == k:
            return self._lp_soon.future.result()
        # The LP is the bound and the start: it gets lp_seconds, whatever the share.
        objective = self._objective(k)
        return relax(self.model, objective.nz, objective.coef, time_limit=self.search.lp_seconds)

    def _prepared(self, k: int) -> NeedStart:
        """Stage k's LP relaxation, the LP solved again with the plan's own earlier
        services (see :meth:`Relaxation.with_services`) and the option variables that
        count in an earlier stage's tiers; the plan becomes the best start rounded from
        the LPs. Made once: by :meth:`prepare`, or here."""
        if self._prep is None or self._prep.stage != k:
            model = self.model
            relaxation = self._relaxation(k)
            again = None
            earlier = earlier_options(model, self.coef, self.stages[k])
            if relaxation is not None:
                self.current, again = lp_start(
                    model, relaxation, self._objective(k).coef, self.current, earlier, self.search
                )
            self._prep = NeedStart(k, relaxation, again, earlier)
        return self._prep

    def _search_near_lp(
        self,
        stage: Stage,
        stage_coef: list[int],
        relaxation: Relaxation,
        prep: NeedStart,
        seconds: float,
    ) -> float:
        """Search near the LP (:func:`solver.neighbourhood.near_lp`) for ``seconds``, in
        ever wider neighbourhoods, each from the best plan so far and
        each with what the one before left of its share: the options the LP solutions
        use, first with the plan's own earlier-tier services in place of the holds, then
        under them (where those services may change); then, with what those two leave,
        their stays (or visits) moved by up to ``search.shift`` nights (or time steps).
        Each found more than the one before; every option of those requests, as a
        fourth, found less than the whole model's search in the same time. Returns the
        seconds left for the whole model."""
        model, run = self.model, self.run
        started = run.now()
        near_until = started + seconds
        ways = self._ways(relaxation, prep)
        for position, way in enumerate(ways):
            share = way.weight / sum(w.weight for w in ways[position:])
            seconds_now = (near_until - run.now()) * share
            if seconds_now < self.search.no_time or run.stopped:
                break
            better = near_lp(
                model,
                stage_coef,
                self.current,
                way.neighbourhood() | support(self.current),
                seconds_now,
                run=run,
                on_solution=run.progress(stage.name, relaxation.bound),
                services=way.services,
            )
            if better is not None and holds_earlier_stages(model, better):
                self.current = filled(model, better)
        return max(seconds - (run.now() - started), 0.0)

    def _ways(self, relaxation: Relaxation, prep: NeedStart) -> list[_Way]:
        """The neighbourhoods of :meth:`_search_near_lp`, narrowest first. The widened
        way gets only what the first two leave (weight ``search.wide``), for it gains
        less and costs more."""
        model, again = self.model, prep.again
        serve, refuse = earlier_services(model, prep.earlier, self.current)
        lp_support = support(relaxation.values, again or [])
        ways = [
            _Way(
                1.0,
                lambda: support(again or relaxation.values) - set(refuse),
                (serve, model.rows.holds),
            ),
            _Way(1.0, lambda: lp_support),
            _Way(
                self.search.wide,
                lambda: widened(model, lp_support | support(self.current), self.search.shift),
            ),
        ]
        if not model.rows.fixed:
            ways = ways[1:]  # nothing held: the first two ways are one
        return ways

    def _hold(
        self, stage: Stage, objective: StageObjective, value: int, status: SolveStatus
    ) -> None:
        """Hold the stage at its value for the stages after it.

        Proven optimal, each of its tiers is held at its own value (a row per tier):
        under the stage's weights, a plan reaching its value has every tier exactly
        where the optimum has it. The one weighted row is the same in whole numbers
        but far weaker in the LP, which could serve a crisis stay in fractions to
        drop health-appointment stays and bed others: a looser bound and a worse
        rounded start. Unproven, the stage is held at least at its value.
        """
        model, values, nz = self.model, self.current, objective.nz
        if status != SolveStatus.OPTIMAL:
            model.add_row(nz, [objective.coef[v] for v in nz], value, 2**62)
            model.rows.fixed += 1
            return
        for tier in stage.tiers:
            idx = [v for v in nz if self.coef[tier][v]]
            if idx:
                coef = [self.coef[tier][v] for v in idx]
                held = sum(c * values[v] for v, c in zip(idx, coef, strict=True))
                model.add_row(idx, coef, held, held)
                model.rows.fixed += 1

    def result(self) -> PartResult:
        """The part's plan and stage reports, with each service stage's LP bound when
        asked for (after the search, so that it does not eat the time limit)."""
        model = self.model
        lp_started = time.perf_counter()
        if self.params.lp_bound:
            # Each stage's LP has only the rows the stage was solved with.
            base_rows = self.lp_jobs[0].rows if self.lp_jobs else 0
            for job in self.lp_jobs:
                report, nz, stage_coef = job.report, job.objective.nz, job.objective.coef
                if report.serves and report.bound is not None and report.bound <= report.value:
                    report.lp_bound = report.bound  # proven optimal: the LP cannot say more
                elif report.serves:
                    # Without the earlier stages' rows the LP is weaker but still a bound;
                    # it is the fallback when GLOP fails on the rows with large
                    # coefficients.
                    report.lp_bound = lp_bound(model, nz, stage_coef, rows=job.rows)
                    if report.lp_bound is None:
                        report.lp_bound = lp_bound(model, nz, stage_coef, rows=base_rows)
        lp_seconds = time.perf_counter() - lp_started
        return PartResult(*decode(model, self.current), self.reports, lp_seconds)
