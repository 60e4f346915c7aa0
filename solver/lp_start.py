"""The need stage's start: its LP solution rounded, holding every earlier stage.

The LP relaxation (:mod:`solver.lp`) is rounded (:mod:`solver.rounding`) into plans
that keep the earlier stages' values; the best of them and the plan so far is where
the need stage's search starts (:meth:`solver.cpsat.PartSolver.solve`).
"""

from __future__ import annotations

from solver.lp import Relaxation
from solver.model import Model, assignment, holds_earlier_stages, served, stage_value
from solver.params import SearchParams
from solver.rounding import round_relaxation
from solver.tiers import Stage

__all__ = ["earlier_options", "earlier_services", "lp_start"]


def lp_start(
    model: Model,
    relaxation: Relaxation,
    stage_coef: list[int],
    current: list[int],
    earlier: list[int],
    search: SearchParams,
) -> tuple[list[int], list[float] | None]:
    """The best of the plan so far and two roundings, each holding every earlier stage
    at its value; with the LP solved again with the plan's own earlier-tier services
    (None if there are none, or that LP failed).

    The first rounds the LP solution (options in order of LP value, each where it
    still fits); it often loses a crisis stay whose LP value was fractional, so each
    round serves first what the plan so far serves in the earlier tiers
    (``earlier``: their option variables) and the rounding lost. The second rounds the
    LP with the plan's earlier services in place of the holds
    (:meth:`Relaxation.with_services`), those services first: the better start where
    holds are met with fractions. The LP is solved again only where the first rounding
    is more than ``search.resolve_gap`` under its bound: solving again costs more than
    it gains where the first rounding is close.
    """
    best, best_value = current, stage_value(stage_coef, current)
    rounds = search.rounding_rounds
    candidates = [_rounded_holding(model, relaxation.values, stage_coef, current, earlier, rounds)]
    serve, refuse = earlier_services(model, earlier, current)
    again = None
    first_value = max(stage_value(stage_coef, candidates[0]), best_value)
    if (serve or refuse) and first_value < (1 - search.resolve_gap) * relaxation.bound:
        again = relaxation.with_services(serve, refuse, model.rows.holds)
    if again is not None:
        first = sorted(
            (v for group in serve for v in group if again[v] > 0), key=lambda v: -again[v]
        )
        keep = [*first, *(v for v in earlier if current[v])]
        candidates.append(assignment(model, *round_relaxation(model, again, stage_coef, keep)))
    for rounded in candidates:
        value = stage_value(stage_coef, rounded)
        if value > best_value and holds_earlier_stages(model, rounded):
            best, best_value = rounded, value
    return best, again


def _rounded_holding(
    model: Model,
    values: list[float],
    stage_coef: list[int],
    current: list[int],
    earlier: list[int],
    rounds: int,
) -> list[int]:
    """``values`` rounded, serving first each earlier-tier service of ``current`` that a
    previous round lost, until the earlier stages hold (or ``rounds`` are done)."""
    keep: list[int] = []
    for _ in range(rounds):
        rounded = assignment(model, *round_relaxation(model, values, stage_coef, keep))
        if holds_earlier_stages(model, rounded):
            break
        keep += [v for v in earlier if current[v] and not served(model, rounded, v)]
    return rounded


def earlier_services(
    model: Model, earlier: list[int], current: list[int]
) -> tuple[list[list[int]], list[int]]:
    """The earlier tiers' requests (or visits) as option groups: those ``current``
    serves, and every option of those it does not."""
    groups = {tuple(model.siblings(v)) for v in earlier}
    serve = [list(g) for g in sorted(groups) if any(current[v] for v in g)]
    refuse = [v for g in sorted(groups) if not any(current[v] for v in g) for v in g]
    return serve, refuse


def earlier_options(model: Model, coef: list[list[int]], stage: Stage) -> list[int]:
    """Option variables that count in a tier of an earlier stage."""
    earlier = range(min(stage.tiers))
    return [v for v in range(model.num_option_vars) if any(coef[t][v] for t in earlier)]
