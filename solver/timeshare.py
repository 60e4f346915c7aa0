"""How a run's time is shared out: between phases, parts and stages.

The stages are solved in phases (every part's crisis stage, then every part's need
stage, then the tie-breakers: see :func:`solver.cpsat.solve_cpsat`). A phase gets its
stages' weight against every stage still to solve; each part its share of the phase by
size and headroom; each stage of a part its weight against the part's stages left.
Pure functions of the stages and the figures they are given: the caller reads the clock.
"""

from __future__ import annotations

from solver.data import TIERS
from solver.tiers import Stage

__all__ = ["NEED", "part_weights", "phase_ends", "phase_share", "stage_share", "stage_weight"]

NEED = TIERS.index("need_weighted_units")


def stage_weight(stage: Stage, service_weight: int) -> int:
    """A stage's claim on the time: the need stage weighs ``service_weight`` times a
    tie-breaker (``SearchParams.service_weight``: service stages must be proven in their
    share), the crisis stage twice that (unproven in its share, it served fewer crisis
    requests); a stage proven optimal early leaves its time to the next."""
    if min(stage.tiers) < NEED:  # crisis first: it ends early once proven
        return 2 * service_weight
    return service_weight if min(stage.tiers) == NEED else 1


def stage_share(stages: list[Stage], k: int, service_weight: int) -> float:
    """The part of the time left that stage k gets (see :func:`stage_weight`)."""
    return stage_weight(stages[k], service_weight) / sum(
        stage_weight(s, service_weight) for s in stages[k:]
    )


def phase_ends(stages: list[Stage]) -> list[int]:
    """Where each phase of stages ends: the stages before the need stage (crisis first),
    the need stage, the rest (tie-breakers)."""
    need = next((k for k, s in enumerate(stages) if NEED in s.tiers), len(stages))
    return sorted({min(need, len(stages)), min(need + 1, len(stages)), len(stages)} - {0})


def phase_share(stages: list[Stage], done: int, phase_end: int, service_weight: int) -> float:
    """The part of the time left that the phase ending at ``phase_end`` gets, for a part
    with ``done`` stages solved: its stages' weight against every stage still to solve
    (as :func:`stage_share` weighs them)."""
    if phase_end <= done:
        return 0.0
    weights = [stage_weight(s, service_weight) for s in stages[done:]]
    return sum(weights[: phase_end - done]) / sum(weights)


def part_weights(sizes: list[int], headroom: list[int | None]) -> list[float]:
    """Each part's claim on a phase's time: its size, and where every part's need stage
    is prepared (``headroom``: how far each part's start is below its LP bound), half by
    size and half by headroom (None: that part's need stage is not prepared). By headroom
    alone, parts that start near their bound but search slowly got too little to close it."""
    size = [float(s) for s in sizes]
    if not all(h is not None for h in headroom):
        return size
    total_size, total_headroom = sum(size), sum(h or 0 for h in headroom)
    return [
        s / total_size + (h or 0) / max(1, total_headroom)
        for s, h in zip(size, headroom, strict=True)
    ]
