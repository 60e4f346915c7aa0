"""Tier weights and stages: how the lexicographic objective becomes numbers.

Each tier of :data:`solver.data.TIERS` has a *range*: the largest absolute
value any plan can reach, summed from each request's best option. The weights

    W_last = 1,   W_k = W_{k+1} * (2 * range_{k+1} + 1)

make every tier dominate all the tiers after it, whatever they hold. The
weighted sum is exact as a Python integer but far too large for CP-SAT's
64-bit objective, and huge coefficients weaken its search anyway, so the tiers
are solved in *stages*, one tier each, each with the tiers before it held at
least at the values found (lexicographic optimisation). A stage's value times
its tier's weight is its share of the scalar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from solver.data import TIERS, SolverInput

__all__ = ["Stage", "plan_stages", "scalar", "tier_ranges", "tier_weights"]


@dataclass(frozen=True)
class Stage:
    tiers: tuple[int, ...]  # indices into TIERS
    weights: tuple[int, ...]  # weight of each of its tiers inside the stage
    unit: int  # global weight of the stage's last tier: value x unit is its share

    @property
    def name(self) -> str:
        return "+".join(TIERS[k] for k in self.tiers)


def tier_ranges(data: SolverInput) -> list[int]:
    """For each tier, the largest absolute value any plan can reach."""
    best: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0] * len(TIERS))
    for opt_idx, opt in enumerate(data.stay_options):
        row = best[("stay", opt.request)]
        for k, v in enumerate(data.option_tiers("stay", opt_idx)):
            row[k] = max(row[k], abs(v))
    for opt_idx, vopt in enumerate(data.visit_options):
        row = best[("visit", vopt.visit)]
        for k, v in enumerate(data.option_tiers("visit", opt_idx)):
            row[k] = max(row[k], abs(v))
    return [sum(row[k] for row in best.values()) for k in range(len(TIERS))]


def tier_weights(ranges: list[int]) -> list[int]:
    """Weights under which each tier dominates the rest (see the module docstring)."""
    weights = [1] * len(ranges)
    for k in range(len(ranges) - 2, -1, -1):
        weights[k] = weights[k + 1] * (2 * ranges[k + 1] + 1)
    return weights


def scalar(values: list[int], weights: list[int]) -> int:
    """The single objective number: exact, as a Python integer."""
    return sum(v * w for v, w in zip(values, weights, strict=True))


def plan_stages(ranges: list[int]) -> list[Stage]:
    """One stage per tier, most important first; tiers no option can change (range 0)
    are left out."""
    weights = tier_weights(ranges)
    return [Stage((k,), (1,), weights[k]) for k in range(len(ranges)) if ranges[k] > 0]
