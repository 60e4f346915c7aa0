"""How a CP-SAT run is asked for: its time, workers and seed (:class:`CpSatParams`), and
the search's tuning knobs (:class:`SearchParams`), loaded from TOML profiles.

The knobs were measured on the fixtures (see ``benchmarks/results/solver-design-notes.md``);
``solver/profiles/default.toml`` holds the values every run uses unless told otherwise,
and a tier's profile (``solver/profiles/<tier>.toml``) only what it changes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["CpSatParams", "SearchParams", "profile"]


@dataclass(frozen=True)
class SearchParams:
    """The search's tuning knobs; each refuses a value outside its range, by name.

    Parameters
    ----------
    service_weight
        A need stage's claim on the time against a tie-breaker's 1 (the crisis stage's is
        twice it): service stages must be proven within their share.
    wide
        The widened neighbourhood's weight on the near-LP search's time, against the LP
        support's 1: it gains less and costs more.
    resolve_gap
        A rounded need-stage start this far under the LP bound (a fraction) has the LP
        solved again with the plan's own earlier services.
    rounding_rounds
        Rounds of rounding that serve first what the previous round lost.
    lp_seconds
        GLOP's time limit on a need stage's LP, whatever the stage's share: the LP is the
        bound and the start.
    large
        Variables above which presolve is cut short and a need stage started from its LP
        keeps CP-SAT's default workers.
    cover_items
        Requests (or visits) of a case above which its allowance gets no cover rows
        (there are up to ``2**cover_items`` sets).
    no_time
        Seconds under which a stage or neighbourhood is not searched (a call's set-up
        costs more than it could find).
    shift
        Nights (or time steps) a stay (or visit) may move in the widened neighbourhood.
    """

    service_weight: int = 12
    wide: float = 0.001
    resolve_gap: float = 0.01
    rounding_rounds: int = 30
    lp_seconds: float = 10.0
    large: int = 5000
    cover_items: int = 10
    no_time: float = 0.01
    shift: int = 2

    def __post_init__(self) -> None:
        for name, (kind, fits, wanted) in _RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, kind) or not fits(value):
                raise ValueError(f"{name} must be {wanted}, got {value!r}")

    @classmethod
    def from_file(cls, path: str | Path, base: SearchParams | None = None) -> SearchParams:
        """The knobs of a TOML file (its ``[search]`` table), over ``base`` (by default
        the defaults) for the knobs it does not name; an unknown knob is refused."""
        with open(path, "rb") as handle:
            raw = tomllib.load(handle)
        return cls._of(raw, str(path), base)

    @classmethod
    def _of(cls, raw: dict[str, Any], where: str, base: SearchParams | None) -> SearchParams:
        table = raw.get("search", {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known) + sorted(set(raw) - {"search"})
        if unknown:
            raise ValueError(f"{where}: unknown search parameter(s): {', '.join(unknown)}")
        values = {f.name: getattr(base or cls(), f.name) for f in fields(cls)}
        return cls(**{**values, **table})


_NUMBER = (int, float)
# Each knob's kind, test and what the test asks, for the message that refuses a value.
_RANGES: dict[str, tuple[Any, Callable[[Any], bool], str]] = {
    "service_weight": (int, lambda v: v >= 1, "a whole number of at least 1"),
    "wide": (_NUMBER, lambda v: 0 < v <= 1, "a number above 0 and at most 1"),
    "resolve_gap": (_NUMBER, lambda v: 0 <= v < 1, "a number from 0 and below 1"),
    "rounding_rounds": (int, lambda v: v >= 1, "a whole number of at least 1"),
    "lp_seconds": (_NUMBER, lambda v: v > 0, "a number above 0"),
    "large": (int, lambda v: v >= 0, "a whole number of at least 0"),
    "cover_items": (int, lambda v: 0 <= v <= 16, "a whole number from 0 to 16"),
    "no_time": (_NUMBER, lambda v: v >= 0, "a number of at least 0"),
    "shift": (int, lambda v: v >= 0, "a whole number of at least 0"),
}


def profile(name: str) -> SearchParams:
    """The bundled profile ``name`` (``solver/profiles/<name>.toml``) over the default one.

    Raises
    ------
    ValueError
        If there is no such profile, or it holds a bad or unknown knob.
    """
    folder = resources.files("solver") / "profiles"
    names = sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )
    if name not in names:
        raise ValueError(f"profile: '{name}' is not one of {', '.join(names)}")
    default = SearchParams._of(_toml(folder / "default.toml"), "default.toml", None)
    if name == "default":
        return default
    return SearchParams._of(_toml(folder / f"{name}.toml"), f"{name}.toml", default)


def _toml(resource: Any) -> dict[str, Any]:
    return tomllib.loads(resource.read_text(encoding="utf-8"))


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
    search: SearchParams = field(default_factory=SearchParams)

    def __post_init__(self) -> None:
        if not self.time_limit > 0:
            raise ValueError(f"time_limit must be positive, got {self.time_limit}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")
