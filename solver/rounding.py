"""A starting plan from an LP solution.

On the fixtures the LP optimum of a stage is nearly integral (a few hundred of
tens of thousands of options are fractional) and far above the greedy plan, which
CP-SAT alone takes long to approach. Taking options in order of their LP value,
each where it still fits every rule, and then filling the rest in referral
order, lands close to the LP optimum at once; the search starts from there.
"""

from __future__ import annotations

from solver.greedy import fill
from solver.model import Model
from solver.state import State

__all__ = ["round_relaxation"]

EPSILON = 1e-6


def round_relaxation(
    model: Model, lp_values: list[float], coef: list[int], keep: list[int] | None = None
) -> tuple[dict[int, int], dict[int, int]]:
    """Stays and visits taken in order of LP value (then objective coefficient).

    Parameters
    ----------
    lp_values
        The LP value of every model variable.
    coef
        The stage's objective coefficient of every variable, the tie-breaker.
    keep
        Variables taken first, whatever their LP value (e.g. what the plan so far
        serves in earlier stages' tiers, so that their values are not lost).
    """
    data = model.data
    state = State(data)
    stays: dict[int, int] = {}
    visits: dict[int, int] = {}
    fractional = [v for v in range(model.num_option_vars) if lp_values[v] > EPSILON]
    fractional.sort(key=lambda v: (-lp_values[v], -coef[v], v))
    for v in [*(keep or []), *fractional]:
        if v < model.num_stay:
            opt = data.stay_options[v]
            if opt.request not in stays and state.stay_fits(opt):
                state.take_stay(opt)
                stays[opt.request] = v
        else:
            vopt = data.visit_options[v - model.num_stay]
            if vopt.visit not in visits and state.visit_fits(vopt):
                state.take_visit(vopt)
                visits[vopt.visit] = v - model.num_stay
    return fill(data, stays, visits, model.orders)
