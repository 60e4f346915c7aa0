"""Tier weights and stages: how the lexicographic objective becomes numbers.

Each tier of :data:`solver.data.TIERS` has a *range*: the largest absolute
value any plan can reach, summed from each request's best option. The weights

    W_last = 1,   W_k = W_{k+1} * (2 * range_{k+1} + 1)

make every tier dominate all the tiers after it, whatever they hold. The
weighted sum is exact as a Python integer but far too large for CP-SAT's
64-bit objective, so the tiers are solved in *stages* of consecutive tiers
whose weighted values stay exact in a double (below 2**53), each stage with the
stages before it held at least at the values found (lexicographic
optimisation). Within a stage the weights are the global ones divided by the
stage's last weight, so a stage's value times that weight is its share of the
scalar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from solver.data import TIERS, SolverInput

__all__ = ["Stage", "plan_stages", "scalar", "tier_ranges", "tier_weights"]

EXACT = 2**53
STAGE_STARTS = (2, 3)  # need_weighted_units and preference_points start a stage


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
    ranges = [sum(row[k] for row in best.values()) for k in range(len(TIERS))]
    # Sitting bonuses only grow as visits are served: serving every visit is their most.
    ranges[TIERS.index("need_weighted_units")] += data.sitting_bonus(
        {vopt.visit for vopt in data.visit_options}
    )
    return ranges


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
    """Group consecutive tiers into stages whose weighted values stay below 2**53.

    2**53 keeps every stage value exact in the double CP-SAT reports; tiers that
    no option can change (range 0) are left out. The need tier always has a stage of
    its own, and so do the tie-breakers: merged into a stage above them, a tier's
    coefficients are multiplied by the range below and CP-SAT proves it far more
    slowly (the borough's need stage: unproven merged, proven alone).
    """
    weights = tier_weights(ranges)
    stages: list[Stage] = []
    current: list[int] = []
    for k in (k for k in range(len(ranges)) if ranges[k] > 0):
        alone = k in STAGE_STARTS
        if current and (alone or _span([*current, k], ranges, weights) >= EXACT):
            stages.append(_stage(current, weights))
            current = []
        current.append(k)
    if current:
        stages.append(_stage(current, weights))
    return stages


def _span(tiers: list[int], ranges: list[int], weights: list[int]) -> int:
    unit = weights[tiers[-1]]
    return sum(ranges[k] * (weights[k] // unit) for k in tiers)


def _stage(tiers: list[int], weights: list[int]) -> Stage:
    unit = weights[tiers[-1]]
    return Stage(tuple(tiers), tuple(weights[k] // unit for k in tiers), unit)
