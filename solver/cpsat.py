"""The CP-SAT engine: beds and sitting in one model, solved tier by tier.

One Boolean per option (``x`` for a stay option, ``y`` for a visit option);
every rule the compile step could not settle alone is a linear constraint
(:class:`Rules` has one method per rule, named after it). The tiers of the
objective are solved in stages (:mod:`solver.tiers`); each stage starts
from the previous stage's plan, the first from the greedy plan, and the result
is never worse than greedy.

Parts of the problem that share no case, unit, provider or budget are solved
separately (an exact decomposition), smallest first, each with its share of
the time limit, in phases: every part's crisis stage, then every part's need
stage, then the tie-breakers.

The need stage is where the time goes. Its LP relaxation (:mod:`solver.lp`, solved
in the background while later parts are built) is its bound; rounded, it is the
start (:func:`_lp_start`); then CP-SAT searches among the options the LP uses and
the plan has (:mod:`solver.neighbourhood`), which closes most of the gap in a second
or two where a search of the whole model closed almost none; what time is left goes
to the whole model.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from solver.components import Part, split
from solver.cpsat_proto import add_linear, hint, maximize, watch
from solver.data import ONE_TO_ONE, SHARED, TIERS, TWO_TO_ONE, SolverInput
from solver.greedy import Orders, fill, solve_greedy
from solver.lp import Relaxation, lp_bound, relax
from solver.neighbourhood import near_lp, support, widened
from solver.rounding import round_relaxation
from solver.solution import Solution, StageReport, tier_values
from solver.tiers import Stage, plan_stages, tier_ranges

__all__ = ["CpSatParams", "solve_cpsat"]

NEED = TIERS.index("need_weighted_units")
WIDE = 0.001  # a wider neighbourhood's weight against the LP support's 1 (see _search_near_lp)
RESOLVE_GAP = 0.01  # a rounded start this far under the LP bound has the LP solved again
ROUNDING_ROUNDS = 30  # each a few hundredths of a second at county size
LP_SECONDS = 10.0  # GLOP on a county part: about 1 s
LARGE = 5000  # variables: above this, presolve is cut short and the need stage searches by LNS
# A service stage's time against a tie-breaker's: at 3 the borough's need stage was cut
# short in its parts and left unproven in 2 s (gap 8.8-13%); at 12 it is proven.
SERVICE_WEIGHT = 12
COVER_ITEMS = 10  # requests (or visits) of a case: above this, no cover rows (2**10 sets)
NO_TIME = 0.01  # seconds: a stage given less is not searched

ProgressFn = Callable[[float | None, float | None, float | None, float, str], None]


@dataclass(frozen=True)
class CpSatParams:
    """How CP-SAT runs: always stated with every result."""

    time_limit: float = 10.0
    workers: int = 2
    seed: int = 0
    lp_bound: bool = False  # also solve each service stage's LP relaxation, after the search
    lp_guided: bool = True  # start the need stage from its rounded LP solution (and bound it)
    log: bool = False

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"time_limit must be positive, got {self.time_limit}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")


@dataclass
class Rows:
    """Linear rows ``lo <= sum(coef * var) <= hi`` over option variables, kept so that
    the same model can be handed to an LP solver for a bound."""

    items: list[tuple[list[int], list[int], int, int]] = field(default_factory=list)
    fixed: int = 0  # stages held at their values so far


class Model:
    """Variables and rules of one part of the problem."""

    def __init__(self, data: SolverInput):
        self.data = data
        self.cp = cp_model.CpModel()
        n_stay, n_visit = len(data.stay_options), len(data.visit_options)
        self.vars = [self.cp.new_bool_var(f"x{i}") for i in range(n_stay)]
        self.vars += [self.cp.new_bool_var(f"y{i}") for i in range(n_visit)]
        self.num_stay = n_stay
        self.rows = Rows()
        self._siblings: dict[int, list[int]] | None = None
        self.orders = Orders.of(data)  # for the many greedy fills of one part
        Rules(self).add_all()

    def siblings(self, v: int) -> list[int]:
        """The option variables of the same stay request (or visit) as variable ``v``."""
        if self._siblings is None:
            groups: dict[tuple[str, int], list[int]] = defaultdict(list)
            for i, opt in enumerate(self.data.stay_options):
                groups[("stay", opt.request)].append(self.x(i))
            for i, vopt in enumerate(self.data.visit_options):
                groups[("visit", vopt.visit)].append(self.y(i))
            self._siblings = {w: group for group in groups.values() for w in group}
        return self._siblings[v]

    @property
    def num_option_vars(self) -> int:
        """Stay and visit option variables: every variable of the model."""
        return self.num_stay + len(self.data.visit_options)

    def x(self, opt_idx: int) -> int:
        return opt_idx

    def y(self, opt_idx: int) -> int:
        return self.num_stay + opt_idx

    def add_row(self, idx: list[int], coef: list[int], lo: int, hi: int) -> None:
        add_linear(self.cp, idx, coef, lo, hi)
        self.rows.items.append((idx, coef, lo, hi))

    def add_capacity(self, idx: list[int], coef: list[int], cap: int) -> None:
        """``sum(coef * var) <= cap`` over Booleans, with positive whole ``coef``: divided
        by the coefficients' greatest common divisor and the capacity rounded down (a
        Chvatal-Gomory rounding), the same in whole numbers and tighter in the LP. A case
        whose visits last 3 hours with 8 hours left may take 2 of them, not the LP's 2.67
        (the county sitting parts' need-stage LP bounds: 45.58M to 45.42M, 35.85M to
        35.80M)."""
        divisor = math.gcd(*coef)
        self.add_row(idx, [c // divisor for c in coef], 0, max(cap, 0) // divisor)

    def tier_coefficients(self) -> list[list[int]]:
        """coef[k][var]: the contribution of each variable to tier k."""
        data = self.data
        coef = [[0] * len(self.vars) for _ in TIERS]
        for i in range(self.num_stay):
            for k, v in enumerate(data.option_tiers("stay", i)):
                coef[k][i] = v
        for i in range(len(data.visit_options)):
            for k, v in enumerate(data.option_tiers("visit", i)):
                coef[k][self.num_stay + i] = v
        return coef


class Rules:
    """The hard rules the compile step leaves to the solver, one method each."""

    def __init__(self, model: Model):
        self.m = model
        self.data = model.data

    def add_all(self) -> None:
        self.h6_one_stay_per_request()
        self.h10_one_slot_per_visit()
        self.h1_beds_per_night()
        self.h5_night_staffing()
        self.h4_incompatible_residents()
        self.h8_allowances()
        self.case_stays_do_not_overlap()
        self.h9_sitters_on_shift()
        self.h9_weekly_caps()
        self.h10_visits_of_a_case_do_not_overlap()
        self.h12_budgets()

    def _covering_nights(self) -> list[range]:
        data = self.data
        return [
            range(o.start, o.start + data.stay_requests[o.request].nights)
            for o in data.stay_options
        ]

    def h6_one_stay_per_request(self) -> None:
        by_request: dict[int, list[int]] = defaultdict(list)
        for i, opt in enumerate(self.data.stay_options):
            by_request[opt.request].append(self.m.x(i))
        for idx in by_request.values():
            if len(idx) > 1:
                self.m.add_row(idx, [1] * len(idx), 0, 1)

    def h10_one_slot_per_visit(self) -> None:
        by_visit: dict[int, list[int]] = defaultdict(list)
        for i, opt in enumerate(self.data.visit_options):
            by_visit[opt.visit].append(self.m.y(i))
        for idx in by_visit.values():
            if len(idx) > 1:
                self.m.add_row(idx, [1] * len(idx), 0, 1)

    def h1_beds_per_night(self) -> None:
        covering: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, nights in enumerate(self._covering_nights()):
            for n in nights:
                covering[(self.data.stay_options[i].bed_class, n)].append(self.m.x(i))
        for (bed_class, n), idx in covering.items():
            free = self.data.bed_classes[bed_class].free[n]
            if len(idx) > free:
                self.m.add_row(idx, [1] * len(idx), 0, free)

    def h5_night_staffing(self) -> None:
        """2 x two_to_one + one_to_one + ceil(shared / ratio) <= staff, as one row per unit
        and night: with k = staff - 2 x two_to_one - one_to_one a whole number,
        ceil(shared / ratio) <= k exactly when shared <= ratio x k, that is

            shared + ratio x one_to_one + 2 x ratio x two_to_one <= ratio x staff.

        Booked residents count on both sides. No helper variable is needed, and the row's
        LP relaxation is the same as with an integer number of shared groups."""
        data = self.data
        by_unit_night: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, nights in enumerate(self._covering_nights()):
            unit = data.bed_classes[data.stay_options[i].bed_class].unit
            for n in nights:
                by_unit_night[(unit, n)].append(i)
        for (unit, n), opts in by_unit_night.items():
            self._staff_night(unit, n, opts)

    def _staff_night(self, unit: int, n: int, opts: list[int]) -> None:
        data, m = self.data, self.m
        table = data.units[unit]
        ratio = table.shared_ratio
        weight = {SHARED: 1, ONE_TO_ONE: ratio, TWO_TO_ONE: 2 * ratio}
        coef = [weight[data.stay_requests[data.stay_options[i].request].support] for i in opts]
        room = (
            ratio * (table.staff[n] - 2 * table.booked_two[n] - table.booked_one[n])
            - table.booked_shared[n]
        )
        if sum(coef) > room:
            # Bookings that already break H5 are reported as such; no new stay fits then.
            m.add_row([m.x(i) for i in opts], coef, 0, max(room, 0))

    def h4_incompatible_residents(self) -> None:
        data = self.data
        cases = {c for pair in data.incompatible for c in pair}
        if not cases:
            return
        presence: dict[tuple[int, int, int], list[int]] = defaultdict(list)  # (case, unit, night)
        for i, nights in enumerate(self._covering_nights()):
            opt = data.stay_options[i]
            case = data.stay_requests[opt.request].case
            if case in cases:
                unit = data.bed_classes[opt.bed_class].unit
                for n in nights:
                    presence[(case, unit, n)].append(self.m.x(i))
        for a, b in data.incompatible:
            for (case, unit, n), idx in list(presence.items()):
                other = presence.get((b, unit, n)) if case == a else None
                if other:
                    both = idx + other
                    self.m.add_row(both, [1] * len(both), 0, 1)

    def case_stays_do_not_overlap(self) -> None:
        data = self.data
        requests_of: dict[int, set[int]] = defaultdict(set)
        for opt in data.stay_options:
            requests_of[data.stay_requests[opt.request].case].add(opt.request)
        busy: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, nights in enumerate(self._covering_nights()):
            case = data.stay_requests[data.stay_options[i].request].case
            if len(requests_of[case]) > 1:
                for n in nights:
                    busy[(case, n)].append(self.m.x(i))
        for idx in busy.values():
            if len(idx) > 1:
                self.m.add_row(idx, [1] * len(idx), 0, 1)

    def h8_allowances(self) -> None:
        """A case's nights (or sitting minutes) left bound what its stays (or visits)
        take, as one row per case, with the cover rows of :meth:`_covers`."""
        data = self.data
        stays: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for i, opt in enumerate(data.stay_options):
            stays[data.stay_requests[opt.request].case][opt.request].append(self.m.x(i))
        for case, by_request in stays.items():
            nights = {r: data.stay_requests[r].nights for r in by_request}
            self._allowance(by_request, nights, data.cases[case].nights_left)
        visits: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for i, vopt in enumerate(data.visit_options):
            visits[data.visits[vopt.visit].case][vopt.visit].append(self.m.y(i))
        for case, by_visit in visits.items():
            minutes = {v: data.visits[v].minutes for v in by_visit}
            self._allowance(by_visit, minutes, data.cases[case].minutes_left)

    def _allowance(self, options: dict[int, list[int]], size: dict[int, int], left: int) -> None:
        if sum(size.values()) <= left:
            return
        idx = [v for group in options.values() for v in group]
        coef = [size[g] for g, group in options.items() for _ in group]
        self.m.add_capacity(idx, coef, left)
        self._covers(options, size, left)

    def _covers(self, options: dict[int, list[int]], size: dict[int, int], left: int) -> None:
        """Extended cover rows of an allowance: for each smallest set of a case's requests
        (or visits) that together ask more than is left, at most all but one of them, or
        of them and any larger one, are served. Visits of 150, 210 and 240 minutes with
        540 left: any two, never three; the LP alone would serve 2.75. (Region's sitting
        part of 1,446 visits: its need-stage LP bound fell from 35.05M to 33.96M; SCIP
        proved the best plan there is has 33.95M to 33.99M.) A case asking for more than
        :data:`COVER_ITEMS` gets none."""
        if len(options) > COVER_ITEMS or len(set(size.values())) == 1:
            return  # one size: the capacity row, divided by it, is already the count
        groups = sorted(options, key=lambda g: size[g])
        seen: set[frozenset[int]] = set()
        for k in range(2, len(groups) + 1):
            for cover in itertools.combinations(groups, k):
                total = sum(size[g] for g in cover)
                if total <= left or any(total - size[g] > left for g in cover):
                    continue  # not a cover, or not a smallest one
                largest = max(size[g] for g in cover)
                extended = frozenset(cover) | {g for g in groups if size[g] >= largest}
                if extended not in seen:
                    seen.add(extended)
                    idx = [v for g in sorted(extended) for v in options[g]]
                    self.m.add_row(idx, [1] * len(idx), 0, k - 1)

    def h9_sitters_on_shift(self) -> None:
        data = self.data
        covering: dict[tuple[int, int, int], list[tuple[int, int]]] = defaultdict(list)
        for i, vopt in enumerate(data.visit_options):
            sitters = data.visits[vopt.visit].sitters
            for t in range(vopt.start, vopt.start + vopt.steps):
                covering[(vopt.provider, vopt.day, t)].append((self.m.y(i), sitters))
        for (provider, day, t), items in covering.items():
            free = data.providers[provider].free[day][t]
            if sum(s for _, s in items) > free:
                idx, coef = zip(*items, strict=True)
                self.m.add_row(list(idx), list(coef), 0, free)

    def h9_weekly_caps(self) -> None:
        data = self.data
        by_provider: dict[int, list[tuple[int, int]]] = defaultdict(list)
        asked: dict[int, dict[int, int]] = defaultdict(dict)  # provider -> visit -> sitter-minutes
        for i, vopt in enumerate(data.visit_options):
            visit = data.visits[vopt.visit]
            by_provider[vopt.provider].append((self.m.y(i), visit.minutes * visit.sitters))
            asked[vopt.provider][vopt.visit] = visit.minutes * visit.sitters
        for provider, items in by_provider.items():
            left = data.providers[provider].minutes_left
            if sum(asked[provider].values()) > left:
                idx, coef = zip(*items, strict=True)
                self.m.add_row(list(idx), list(coef), 0, left)

    def h10_visits_of_a_case_do_not_overlap(self) -> None:
        data = self.data
        covering: dict[tuple[int, int, int], list[tuple[int, int]]] = defaultdict(list)
        for i, vopt in enumerate(data.visit_options):
            case = data.visits[vopt.visit].case
            for t in range(vopt.start, vopt.start + vopt.steps):
                covering[(case, vopt.day, t)].append((self.m.y(i), vopt.visit))
        seen: set[tuple[int, ...]] = set()
        for items in covering.values():
            if len({visit for _, visit in items}) > 1:
                idx = tuple(sorted(i for i, _ in items))
                if idx not in seen:
                    seen.add(idx)
                    self.m.add_row(list(idx), [1] * len(idx), 0, 1)

    def h12_budgets(self) -> None:
        data = self.data
        for budget in data.budgets:
            units, providers = set(budget.units), set(budget.providers)
            idx: list[int] = []
            coef: list[int] = []
            for i, opt in enumerate(data.stay_options):
                if data.bed_classes[opt.bed_class].unit in units:
                    idx.append(self.m.x(i))
                    coef.append(opt.cost)
            for i, vopt in enumerate(data.visit_options):
                if vopt.provider in providers:
                    idx.append(self.m.y(i))
                    coef.append(vopt.cost)
            if idx and sum(coef) > budget.left:
                self.m.add_row(idx, coef, 0, budget.left)


# ---------------------------------------------------------------------- solving


class _Progress(cp_model.CpSolverSolutionCallback):
    """Reports each better plan; ``bound`` stands for CP-SAT's own where its call does
    not bound the stage (the search near the LP sees only part of the options)."""

    def __init__(
        self, report: ProgressFn | None, stage: str, started: float, bound: float | None = None
    ):
        super().__init__()
        self.report = report
        self.stage = stage
        self.started = started
        self.bound = bound

    def on_solution_callback(self) -> None:
        if self.report is None:
            return
        objective = self.objective_value
        bound = self.best_objective_bound if self.bound is None else self.bound
        gap = abs(bound - objective) / max(1.0, abs(bound))
        self.report(objective, bound, gap, time.perf_counter() - self.started, self.stage)


def solve_cpsat(
    data: SolverInput,
    params: CpSatParams | None = None,
    *,
    on_progress: ProgressFn | None = None,
    stop: threading.Event | None = None,
) -> Solution:
    """Solve with CP-SAT; never worse than the greedy plan, which is the first hint."""
    params = params or CpSatParams()
    started = time.perf_counter()
    deadline = started + params.time_limit
    greedy = solve_greedy(data, seed=params.seed)
    stages = plan_stages(tier_ranges(data))
    parts = split(data)
    stays: dict[int, int] = {}
    visits: dict[int, int] = {}
    reports = [StageReport(s.name, 0, 0, 0) for s in stages]
    for report in reports:
        if not report.serves:
            report.lp_bound = None
    # Phases: every part's crisis stage, then every part's need stage, then the
    # tie-breakers. Part by part instead, the need stage's LP of one part (which
    # takes what it needs) left a later part's crisis stage no time at all.
    solvers: list[_PartSolver | None] = [None] * len(parts)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="respite-lp") as lp_pool:
        _solve_phases(
            parts, solvers, stages, params, greedy, deadline, lp_pool, on_progress, stop, started
        )
    lp_seconds = 0.0
    for part, solver in zip(parts, solvers, strict=True):
        if solver is None:  # no stage to solve: the part keeps its greedy plan
            hint = part.local_hint(greedy.stays, greedy.visits)
            solver = _PartSolver(part.data, stages, params, hint, on_progress, stop, started)
        result = solver.result()
        for r, o in result.stays.items():
            stays[part.request_back[r]] = part.stay_back[o]
        for v, o in result.visits.items():
            visits[part.visit_back[v]] = part.vopt_back[o]
        for report, part_report in zip(reports, result.reports, strict=True):
            report.add(part_report)
        lp_seconds += result.lp_seconds
    chosen = _never_worse(data, Solution(stays, visits, "cpsat", "optimal"), greedy)
    chosen.engine = "cpsat"
    chosen.status = "optimal" if all(r.status == "optimal" for r in reports) else "feasible"
    if stop is not None and stop.is_set():
        chosen.status = "stopped"
    chosen.seconds = time.perf_counter() - started
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
    solvers: list[_PartSolver | None],
    stages: list[Stage],
    params: CpSatParams,
    greedy: Solution,
    deadline: float,
    lp_pool: ThreadPoolExecutor,
    on_progress: ProgressFn | None,
    stop: threading.Event | None,
    started: float,
) -> None:
    """Every part's crisis stage, then every part's need stage, then the tie-breakers
    (see :func:`solve_cpsat`); ``solvers`` gets each part's solver as it is built."""
    for phase_end in _phase_ends(stages):
        for solver in solvers:
            if solver is not None:
                solver.prepare(phase_end)
        weights = _part_weights(parts, solvers)
        for position, part in enumerate(parts):
            # Each part gets its share (see _part_weights) of the phase's share of the
            # time left; unused time rolls on.
            remaining = max(deadline - time.perf_counter(), 0.0)
            phase = remaining * _phase_share(stages, solvers[position], phase_end)
            share = phase * weights[position] / max(1e-9, sum(weights[position:]))
            solver = solvers[position]
            if solver is None:
                hint = part.local_hint(greedy.stays, greedy.visits)
                # Building the model counts in the part's time.
                built = time.perf_counter() + share
                solver = solvers[position] = _PartSolver(
                    part.data, stages, params, hint, on_progress, stop, started, lp_pool
                )
                share = max(built - time.perf_counter(), 0.0)
            solver.solve(phase_end, share)
            solver.prefetch()


def _never_worse(data: SolverInput, ours: Solution, greedy: Solution) -> Solution:
    if tier_values(data, ours.stays, ours.visits) >= tier_values(data, greedy.stays, greedy.visits):
        return ours
    greedy.notes.append("CP-SAT found nothing better than the greedy plan, which is kept")
    return greedy


@dataclass
class _PartResult:
    stays: dict[int, int]
    visits: dict[int, int]
    reports: list[StageReport]
    lp_seconds: float = 0.0


def _part_weights(parts: list[Part], solvers: list[_PartSolver | None]) -> list[float]:
    """Each part's claim on a phase's time: its size, and where every part's need stage
    is prepared, half by size and half by its headroom under the LP bound. On the county
    fixture the beds part starts 8% under its bound and the sitting parts within 0.7%,
    but the search near a sitting part's LP, twice as large, needs 1 to 2 s to close
    that; by headroom alone they had 0.3 s each and closed nothing."""
    size = [float(part.size) for part in parts]
    headroom = [None if solver is None else solver.headroom for solver in solvers]
    if not all(h is not None for h in headroom):
        return size
    total_size, total_headroom = sum(size), sum(h or 0 for h in headroom)
    return [
        s / total_size + (h or 0) / max(1, total_headroom)
        for s, h in zip(size, headroom, strict=True)
    ]


def _phase_ends(stages: list[Stage]) -> list[int]:
    """Where each phase of stages ends: the stages before the need stage (crisis first),
    the need stage, the rest (tie-breakers)."""
    need = next((k for k, s in enumerate(stages) if NEED in s.tiers), len(stages))
    return sorted({min(need, len(stages)), min(need + 1, len(stages)), len(stages)} - {0})


def _phase_share(stages: list[Stage], solver: _PartSolver | None, phase_end: int) -> float:
    """The part of the time left that the phase ending at ``phase_end`` gets: its stages'
    weight against every stage still to solve (as :func:`_share` weighs them)."""
    done = solver.done if solver is not None else 0
    if phase_end <= done:
        return 0.0
    weights = [_stage_weight(s) for s in stages[done:]]
    return sum(weights[: phase_end - done]) / sum(weights)


class _PartSolver:
    """One part's model, solved a phase of stages at a time (see :func:`solve_cpsat`)."""

    def __init__(
        self,
        data: SolverInput,
        stages: list[Stage],
        params: CpSatParams,
        hint: tuple[dict[int, int], dict[int, int]],
        on_progress: ProgressFn | None,
        stop: threading.Event | None,
        started: float,
        lp_pool: ThreadPoolExecutor | None = None,
    ):
        self.model = Model(data)
        self.coef = self.model.tier_coefficients()
        self.current = _assignment(self.model, *hint)
        self.stages = stages
        self.params = params
        self.on_progress = on_progress
        self.stop = stop
        self.started = started
        self.reports: list[StageReport] = []
        self.lp_jobs: list[tuple[StageReport, int, list[int], list[int]]] = []
        self.done = 0  # stages solved so far
        # The need stage prepared: (stage index, LP relaxation, LP with the plan's services,
        # the option variables that count in an earlier stage's tiers)
        self._prep: tuple[int, Relaxation | None, list[float] | None, list[int]] | None = None
        self.lp_pool = lp_pool
        self._lp_soon: tuple[int, Future[Relaxation | None]] | None = None
        self._objectives: dict[int, tuple[list[int], list[int]]] = {}

    def solve(self, upto: int, time_budget: float) -> None:
        """Solve the stages from the next one up to ``upto`` in ``time_budget`` seconds,
        each its share (:func:`_share`) of what is left."""
        model, params, stages = self.model, self.params, self.stages
        deadline = time.perf_counter() + time_budget
        for k in range(self.done, upto):
            stage = stages[k]
            stage_coef, nz = self._objective(k)
            if not nz:
                self.reports.append(StageReport(stage.name, 0, 0, 0))
                continue
            left = max(deadline - time.perf_counter(), 0.0)
            seconds = left * _share(stages[:upto], k)
            relaxation = None
            if NEED in stage.tiers and params.lp_guided:
                lp_started = time.perf_counter()
                relaxation, again, earlier = self._prepared(k, stage_coef, nz)
                seconds = max(seconds - (time.perf_counter() - lp_started), 0.0)
                if relaxation is not None:
                    seconds = self._search_near_lp(
                        stage, stage_coef, relaxation, again, earlier, seconds
                    )
            if (
                relaxation is not None
                and _stage_value(stage_coef, self.current) >= relaxation.bound
            ):
                # The plan reaches the LP bound: proven, with nothing left to search.
                value = _stage_value(stage_coef, self.current)
                proven = relaxation.bound
                self.reports.append(StageReport(stage.name, value, proven, proven, "optimal"))
                self._hold(stage, nz, stage_coef, value, "optimal")
                continue
            value, bound, status, current = _solve_stage(
                model,
                nz,
                stage_coef,
                self.current,
                seconds,
                params,
                stage.name,
                self.on_progress,
                self.stop,
                self.started,
                improving=relaxation is not None and len(model.vars) > LARGE,
                # With nothing held yet, options that count in no tier of the stage
                # can be left out: serving less never breaks a rule, so the optimum is
                # the same (the county beds part's crisis stage: 1,215 of 11,392).
                only=set(nz) if not model.rows.fixed else None,
            )
            if current is not self.current:  # the stage's plan is new: fill it
                self.current = _filled(model, current)
            lp = relaxation.bound if relaxation is not None else None
            self.reports.append(StageReport(stage.name, value, bound, lp, status))
            if lp is None:
                self.lp_jobs.append((self.reports[-1], len(model.rows.items), nz, stage_coef))
            self._hold(stage, nz, stage_coef, value, status)
        self.done = max(self.done, upto)

    def prepare(self, upto: int) -> None:
        """Before a phase shares out its time: the need stage's LP and rounded start, if
        the phase ending at ``upto`` solves it, so that :attr:`headroom` can say where the
        time is worth most."""
        k = self.done
        if k >= upto or NEED not in self.stages[k].tiers or not self.params.lp_guided:
            return
        stage_coef, nz = self._objective(k)
        if nz:
            self._prepared(k, stage_coef, nz)

    @property
    def headroom(self) -> int | None:
        """How far the prepared need stage's start is below its LP bound (None if not
        prepared): on the county fixture nearly all of it is in the beds part, where the
        LP bound is loosest, and the sitting parts start within 0.4% of theirs."""
        if self._prep is None:
            return None
        k, relaxation, *_ = self._prep
        if relaxation is None:
            return None
        return max(relaxation.bound - _stage_value(self._objective(k)[0], self.current), 0)

    def prefetch(self) -> None:
        """If the next stage is the need stage, start its LP in the background (GLOP
        lets go of the interpreter while it solves): on the county fixture the three
        parts' LPs (2.3 s) solve while the next parts' models are built and their crisis
        stages solved. The part's rows do not change until its need stage."""
        k = self.done
        if self.lp_pool is None or k >= len(self.stages) or NEED not in self.stages[k].tiers:
            return
        if not self.params.lp_guided or self._lp_soon is not None:
            return
        stage_coef, nz = self._objective(k)
        if nz:
            future = self.lp_pool.submit(relax, self.model, nz, stage_coef, time_limit=LP_SECONDS)
            self._lp_soon = (k, future)

    def _objective(self, k: int) -> tuple[list[int], list[int]]:
        """Stage k's coefficient of every variable, and the variables where it is not 0;
        made once (the phases, the time shares and the need stage all ask for them)."""
        if k not in self._objectives:
            stage_coef = _stage_coefficients(self.stages[k], self.coef, len(self.model.vars))
            self._objectives[k] = (stage_coef, [v for v, c in enumerate(stage_coef) if c])
        return self._objectives[k]

    def _relaxation(self, k: int, stage_coef: list[int], nz: list[int]) -> Relaxation | None:
        """Stage k's LP relaxation: the one :meth:`prefetch` started, or solved now."""
        if self._lp_soon is not None and self._lp_soon[0] == k:
            return self._lp_soon[1].result()
        # The LP is the bound and the start: it gets LP_SECONDS, whatever the share.
        return relax(self.model, nz, stage_coef, time_limit=LP_SECONDS)

    def _prepared(
        self, k: int, stage_coef: list[int], nz: list[int]
    ) -> tuple[Relaxation | None, list[float] | None, list[int]]:
        """Stage k's LP relaxation, the LP solved again with the plan's own earlier
        services (see :meth:`Relaxation.with_services`) and the option variables that
        count in an earlier stage's tiers; the plan becomes the best start rounded from
        the LPs. Made once: by :meth:`prepare`, or here."""
        if self._prep is None or self._prep[0] != k:
            model = self.model
            relaxation = self._relaxation(k, stage_coef, nz)
            again = None
            earlier = _earlier_options(model, self.coef, self.stages[k])
            if relaxation is not None:
                self.current, again = _lp_start(
                    model, relaxation, stage_coef, self.current, earlier
                )
            self._prep = (k, relaxation, again, earlier)
        return self._prep[1:]

    def _search_near_lp(
        self,
        stage: Stage,
        stage_coef: list[int],
        relaxation: Relaxation,
        again: list[float] | None,
        earlier: list[int],
        seconds: float,
    ) -> float:
        """Search near the LP (:func:`solver.neighbourhood.near_lp`) for ``seconds``, in
        ever wider neighbourhoods, each from the best plan so far and
        each with what the one before left of its share: the options the LP solutions
        use, first with the plan's own earlier-tier services in place of the holds, then
        under them (where those services may change); then, with what those two leave,
        their stays (or visits) moved by up to SHIFT nights (or time steps). On the
        county beds part (LP bound 15.53M) the three gave 14.72M, 14.81M and 14.81M;
        on county seed 2 (LP bound 12.77M) 11.44M, 11.81M and 11.93M. Every option of
        those requests, as a fourth, found nothing more in 1 s where the whole model's
        search then found 0.05M in 0.2 s. Returns the seconds left for the whole model."""
        model = self.model
        started = time.perf_counter()
        near_until = started + seconds
        serve, refuse = _earlier_services(model, earlier, self.current)
        holds = range(len(model.rows.items) - model.rows.fixed, len(model.rows.items))
        lp_support = support(relaxation.values, again or [])
        # (weight, neighbourhood, services): the widened way gets only what the first two
        # leave, for it gains less and costs more (on the county sitting parts it holds
        # 4,000 options, and found nothing in its share of an even split).
        ways: list[tuple[float, Callable[[], set[int]], tuple[list[list[int]], range] | None]]
        ways = [
            (1.0, lambda: support(again or relaxation.values) - set(refuse), (serve, holds)),
            (1.0, lambda: lp_support, None),
            (WIDE, lambda: widened(model, lp_support | support(self.current)), None),
        ]
        if not model.rows.fixed:
            ways = ways[1:]  # nothing held: the first two ways are one
        for position, (weight, neighbourhood, services) in enumerate(ways):
            share = weight / sum(w for w, *_ in ways[position:])
            seconds_now = (near_until - time.perf_counter()) * share
            if seconds_now < NO_TIME or (self.stop is not None and self.stop.is_set()):
                break
            better = near_lp(
                model,
                stage_coef,
                self.current,
                neighbourhood() | support(self.current),
                seconds_now,
                workers=self.params.workers,
                seed=self.params.seed,
                stop=self.stop,
                on_solution=_Progress(self.on_progress, stage.name, self.started, relaxation.bound),
                services=services,
            )
            if better is not None and _holds_earlier_stages(model, better):
                self.current = _filled(model, better)
        return max(seconds - (time.perf_counter() - started), 0.0)

    def _hold(
        self, stage: Stage, nz: list[int], stage_coef: list[int], value: int, status: str
    ) -> None:
        """Hold the stage at its value for the stages after it.

        Proven optimal, each of its tiers is held at its own value (a row per tier):
        under the stage's weights, a plan reaching its value has every tier exactly
        where the optimum has it. The one weighted row is the same in whole numbers
        but far weaker in the LP, which could serve a crisis stay in fractions to
        drop health-appointment stays and bed others: on the county beds part the
        need stage's LP bound fell from 15.68M to 15.53M and its rounded plan rose
        from 13.27M to 14.01M. Unproven, the stage is held at least at its value.
        """
        model, values = self.model, self.current
        if status != "optimal":
            model.add_row(nz, [stage_coef[v] for v in nz], value, 2**62)
            model.rows.fixed += 1
            return
        for tier in stage.tiers:
            idx = [v for v in nz if self.coef[tier][v]]
            if idx:
                coef = [self.coef[tier][v] for v in idx]
                held = sum(c * values[v] for v, c in zip(idx, coef, strict=True))
                model.add_row(idx, coef, held, held)
                model.rows.fixed += 1

    def result(self) -> _PartResult:
        """The part's plan and stage reports, with each service stage's LP bound when
        asked for (after the search, so that it does not eat the time limit)."""
        model = self.model
        lp_started = time.perf_counter()
        if self.params.lp_bound:
            # Each stage's LP has only the rows the stage was solved with.
            base_rows = self.lp_jobs[0][1] if self.lp_jobs else 0
            for report, rows, nz, stage_coef in self.lp_jobs:
                if report.serves and report.bound is not None and report.bound <= report.value:
                    report.lp_bound = report.bound  # proven optimal: the LP cannot say more
                elif report.serves:
                    # Without the earlier stages' rows the LP is weaker but still a bound;
                    # it is the fallback when GLOP fails on the rows with large
                    # coefficients.
                    report.lp_bound = lp_bound(model, nz, stage_coef, rows=rows)
                    if report.lp_bound is None:
                        report.lp_bound = lp_bound(model, nz, stage_coef, rows=base_rows)
        return _PartResult(
            *_decode(model, self.current), self.reports, time.perf_counter() - lp_started
        )


def _lp_start(
    model: Model,
    relaxation: Relaxation,
    stage_coef: list[int],
    current: list[int],
    earlier: list[int],
) -> tuple[list[int], list[float] | None]:
    """The best of the plan so far and two roundings, each holding every earlier stage
    at its value; with the LP solved again with the plan's own earlier-tier services
    (None if there are none, or that LP failed).

    The first rounds the LP solution (options in order of LP value, each where it
    still fits); it often loses a crisis stay whose LP value was fractional, so each
    round serves first what the plan so far serves in the earlier tiers
    (``earlier``: their option variables) and the rounding lost. The second rounds the
    LP with the plan's earlier services in place of the holds
    (:meth:`Relaxation.with_services`), those services first. On the county beds part
    (LP bound 15.53M) the first gave 13.7M, the second 14.43M. The LP is solved again
    only where the first rounding is more than RESOLVE_GAP under its bound: on the
    county sitting parts it is within 0.3%, and solving again costs 0.8 s.
    """
    best, best_value = current, _stage_value(stage_coef, current)
    candidates = [_rounded_holding(model, relaxation.values, stage_coef, current, earlier)]
    serve, refuse = _earlier_services(model, earlier, current)
    again = None
    first_value = max(_stage_value(stage_coef, candidates[0]), best_value)
    if (serve or refuse) and first_value < (1 - RESOLVE_GAP) * relaxation.bound:
        holds = range(len(model.rows.items) - model.rows.fixed, len(model.rows.items))
        again = relaxation.with_services(serve, refuse, holds)
    if again is not None:
        first = sorted(
            (v for group in serve for v in group if again[v] > 0), key=lambda v: -again[v]
        )
        keep = [*first, *(v for v in earlier if current[v])]
        candidates.append(_assignment(model, *round_relaxation(model, again, stage_coef, keep)))
    for rounded in candidates:
        value = _stage_value(stage_coef, rounded)
        if value > best_value and _holds_earlier_stages(model, rounded):
            best, best_value = rounded, value
    return best, again


def _rounded_holding(
    model: Model, values: list[float], stage_coef: list[int], current: list[int], earlier: list[int]
) -> list[int]:
    """``values`` rounded, serving first each earlier-tier service of ``current`` that a
    previous round lost, until the earlier stages hold (or ROUNDING_ROUNDS are done)."""
    keep: list[int] = []
    for _ in range(ROUNDING_ROUNDS):
        rounded = _assignment(model, *round_relaxation(model, values, stage_coef, keep))
        if _holds_earlier_stages(model, rounded):
            break
        keep += [v for v in earlier if current[v] and not _served(model, rounded, v)]
    return rounded


def _earlier_services(
    model: Model, earlier: list[int], current: list[int]
) -> tuple[list[list[int]], list[int]]:
    """The earlier tiers' requests (or visits) as option groups: those ``current``
    serves, and every option of those it does not."""
    groups = {tuple(model.siblings(v)) for v in earlier}
    serve = [list(g) for g in sorted(groups) if any(current[v] for v in g)]
    refuse = [v for g in sorted(groups) if not any(current[v] for v in g) for v in g]
    return serve, refuse


def _earlier_options(model: Model, coef: list[list[int]], stage: Stage) -> list[int]:
    """Option variables that count in a tier of an earlier stage."""
    earlier = range(min(stage.tiers))
    return [v for v in range(model.num_option_vars) if any(coef[t][v] for t in earlier)]


def _served(model: Model, values: list[int], v: int) -> bool:
    """Whether the request (or visit) of option variable ``v`` is served in ``values``."""
    return any(values[w] for w in model.siblings(v))


def _stage_value(stage_coef: list[int], values: list[int]) -> int:
    return sum(c * x for c, x in zip(stage_coef, values, strict=False))


def _holds_earlier_stages(model: Model, values: list[int]) -> bool:
    fixed = model.rows.items[len(model.rows.items) - model.rows.fixed :]
    return all(
        lo <= sum(c * values[i] for i, c in zip(idx, row_coef, strict=True)) <= hi
        for idx, row_coef, lo, hi in fixed
    )


def _stage_coefficients(stage: Stage, coef: list[list[int]], num_vars: int) -> list[int]:
    stage_coef = [0] * num_vars
    for tier, weight in zip(stage.tiers, stage.weights, strict=True):
        for v, c in enumerate(coef[tier]):
            if c:
                stage_coef[v] += weight * c
    return stage_coef


def _stage_weight(stage: Stage) -> int:
    """A stage's claim on the time: the need stage weighs SERVICE_WEIGHT times a
    tie-breaker, the crisis stage twice that (unproven in its share, it served fewer
    crisis requests: county 72.5% against 74.1%); a stage proven optimal early leaves
    its time to the next."""
    if min(stage.tiers) < NEED:  # crisis first: it ends early once proven
        return 2 * SERVICE_WEIGHT
    return SERVICE_WEIGHT if min(stage.tiers) == NEED else 1


def _share(stages: list[Stage], k: int) -> float:
    """The part of the time left that stage k gets (see :func:`_stage_weight`)."""
    return _stage_weight(stages[k]) / sum(_stage_weight(s) for s in stages[k:])


def _filled(model: Model, values: list[int]) -> list[int]:
    """The stage's plan with every request it left out that still fits added (greedy)."""
    stays, visits = fill(model.data, *_decode(model, values), model.orders)
    return _assignment(model, stays, visits)


def _assignment(model: Model, stays: dict[int, int], visits: dict[int, int]) -> list[int]:
    values = [0] * len(model.vars)
    for o in stays.values():
        values[model.x(o)] = 1
    for o in visits.values():
        values[model.y(o)] = 1
    return values


@contextmanager
def _held_at_zero(model: Model, only: set[int] | None) -> Iterator[None]:
    """Hold every option variable outside ``only`` at 0 in the model while the block runs
    (nothing, for None)."""
    left_out = [] if only is None else [v for v in range(model.num_option_vars) if v not in only]
    for v in left_out:
        model.cp.proto.variables[v].domain[1] = 0
    try:
        yield
    finally:
        for v in left_out:
            model.cp.proto.variables[v].domain[1] = 1


def _solve_stage(
    model: Model,
    nz: list[int],
    stage_coef: list[int],
    current: list[int],
    seconds: float,
    params: CpSatParams,
    name: str,
    on_progress: ProgressFn | None,
    stop: threading.Event | None,
    started: float,
    improving: bool = False,
    only: set[int] | None = None,
) -> tuple[int, int | None, str, list[int]]:
    """One stage's CP-SAT call from ``current``: its value, bound, status and plan. With
    ``only``, every other option variable is held at 0 for the call (see
    :meth:`_PartSolver.solve`)."""
    cp = model.cp
    hinted = sum(stage_coef[v] * current[v] for v in nz)
    if seconds < NO_TIME:
        # The time limit is spent: the stage keeps the plan it has. (A call still costs
        # its set-up, 0.1 to 0.3 s on a county part, with nothing found in 0.05 s.)
        return hinted, None, "unknown", current
    if only is not None:
        current = [x if v in only else 0 for v, x in enumerate(current)]
    with _held_at_zero(model, only):
        hint(cp, current)
        maximize(cp, nz, [stage_coef[v] for v in nz])
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(seconds, 0.05)
        solver.parameters.num_workers = params.workers
        solver.parameters.random_seed = params.seed
        solver.parameters.log_search_progress = params.log
        _tune(
            solver.parameters,
            params.workers,
            len(model.vars),
            first_stage=not model.rows.fixed,
            improving=improving,
        )
        if stop is not None and stop.is_set():
            return hinted, None, "stopped", current
        watcher = watch(stop, solver)
        status = solver.solve(cp, _Progress(on_progress, name, started))
        watcher.set()
        # Objective values are integers; the float CP-SAT reports may be off in the last bit.
        if (
            status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
            and round(solver.objective_value) >= hinted
        ):
            values = list(solver.response_proto.solution)[: len(model.vars)]
            word = "optimal" if status == cp_model.OPTIMAL else "feasible"
            return (
                round(solver.objective_value),
                math.floor(solver.best_objective_bound + 1e-6),
                word,
                values,
            )
        if status == cp_model.UNKNOWN:
            return hinted, None, "unknown", current
        return hinted, math.floor(solver.best_objective_bound + 1e-6), "feasible", current


def _tune(
    parameters: Any,  # cp_model.CpSolver().parameters
    workers: int,
    size: int,
    first_stage: bool,
    improving: bool = False,
) -> None:
    """Settings measured on the fixtures (see the README's benchmark section).

    With two workers, the default pair of subsolvers proves bounds slowly on the
    sitting packing; an LP-heavy worker beside a restarting one does much better.
    On large models a full presolve costs seconds at every stage: the first stage
    gets a light one (it proves crisis-first optimal on the county fixture), later
    stages none, so that they start from their hint at once (county part: 0.1 s
    against 1.9 s) and spend their time searching. A large need stage that starts
    from its rounded LP solution has its bound from the LP already, so it keeps
    CP-SAT's default workers, whose neighbourhood searches improve on that start.
    """
    if workers == 2 and not improving:
        parameters.subsolvers.extend(["max_lp", "quick_restart"])
    if size > LARGE and first_stage:
        parameters.cp_model_probing_level = 0
        parameters.symmetry_level = 0
        parameters.max_presolve_iterations = 1
    elif size > LARGE:
        parameters.cp_model_presolve = False


def _decode(model: Model, values: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    data = model.data
    stays = {data.stay_options[i].request: i for i in range(model.num_stay) if values[model.x(i)]}
    visits = {
        data.visit_options[i].visit: i for i in range(len(data.visit_options)) if values[model.y(i)]
    }
    return stays, visits
