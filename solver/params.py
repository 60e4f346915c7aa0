"""How a CP-SAT run is asked for: its time, workers and seed, and what it does besides."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CpSatParams"]


@dataclass(frozen=True)
class CpSatParams:
    """How CP-SAT runs: always stated with every result."""

    time_limit: float = 10.0
    workers: int = 2
    seed: int = 0
    lp_bound: bool = False  # also solve each service stage's LP relaxation, after the search
    lp_guided: bool = True  # start the need stage from its rounded LP solution (and bound it)
    log: bool = False
    # The run's clock advances by CP-SAT's deterministic time, not the wall clock: with
    # one worker the same problem, seed and time limit give the same plan on any machine.
    deterministic: bool = False

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"time_limit must be positive, got {self.time_limit}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
