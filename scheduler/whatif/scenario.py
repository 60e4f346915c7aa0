"""Scenario files (TOML): a base problem, the simulation's settings and named variants.

```toml
[base]
tier = "county"          # or: problem = "path/to/problem.json"
seed = 1

[simulation]
weeks = 52               # the rolling horizon
replications = 10
engine = "greedy"        # or "cpsat" (with time_limit seconds a week)
time_limit = 2.0
seed = 0

[[variants]]
name = "today"           # no changes: the baseline

[[variants]]
name = "north loses a bed"
changes = [{ kind = "remove_beds", unit = "U-01", count = 1 }]

[[variants]]
name = "beds at U-02"    # a sweep: one variant per value, and a capacity curve
sweep = { kind = "add_beds", unit = "U-02", field = "count", values = [0, 2, 4] }
```

Change kinds: ``add_beds`` (unit, count, features), ``remove_beds`` (unit, count),
``night_staff`` (unit, staff), ``open_unit`` (unit_id, like, name, locality, beds),
``sitters`` (provider, scale), ``weekly_cap`` (provider, hours), ``entitlements``
(nights_a_year, hours_a_week), ``budget`` (budget, scale), ``scale_demand``
(factor, priority, locality). A mistake is a :class:`ScenarioError` naming the
variant, the change and the field.

Every size a scenario can make the simulation work for is bounded (``MAX_*`` below:
weeks, replications, variants, beds added or removed, scale factors); past a limit,
the error names the field and the limit.
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scheduler.model import (
    MAX_COUNT,
    MAX_NIGHTS,
    MAX_SEED,
    MAX_TIME_LIMIT,
    PRIORITIES,
    InvalidProblem,
    Problem,
)

__all__ = [
    "MAX_BEDS",
    "MAX_REPLICATIONS",
    "MAX_SCALE",
    "MAX_VARIANTS",
    "MAX_WEEKS",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "Variant",
    "apply_changes",
    "load_scenario",
]

ENGINES = ("greedy", "cpsat")
MAX_WEEKS = 520  # ten years of rolling weeks
MAX_REPLICATIONS = 100
MAX_VARIANTS = 50  # a sweep's values included
MAX_BEDS = 1000  # beds added, removed or opened by one change
MAX_SCALE = 100.0  # sitters, budget and demand scale factors


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names where and why."""


@dataclass(frozen=True)
class Simulation:
    weeks: int = 52
    replications: int = 10
    engine: str = "greedy"
    time_limit: float = 2.0
    seed: int = 0
    max_wait_weeks: int = 8

    def __post_init__(self) -> None:
        _whole("weeks", self.weeks, 1, MAX_WEEKS)
        if _whole("replications", self.replications, 1, MAX_REPLICATIONS) < 2:
            raise ScenarioError(
                "simulation.replications: at least 2 are needed for a confidence interval, "
                f"got {self.replications}"
            )
        if self.engine not in ENGINES:
            raise ScenarioError(f"simulation.engine: '{self.engine}' is not greedy or cpsat")
        if not _is_number(self.time_limit) or not 0 < self.time_limit <= MAX_TIME_LIMIT:
            raise ScenarioError(
                f"simulation.time_limit: must be a number of seconds above 0 and at most "
                f"{MAX_TIME_LIMIT:g}, got {self.time_limit!r}"
            )
        _whole("seed", self.seed, 0, MAX_SEED)
        _whole("max_wait_weeks", self.max_wait_weeks, 1, MAX_WEEKS)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(name: str, value: Any, low: int, high: int) -> int:
    """``value`` of ``simulation.<name>``, a whole number in ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"simulation.{name}: must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ScenarioError(f"simulation.{name}: must be {low}..{high:,}, got {value:,}")
    return value


@dataclass(frozen=True)
class Variant:
    name: str
    changes: tuple[dict[str, Any], ...] = ()
    sweep: str | None = None  # the swept variant's name, for the capacity curve
    sweep_value: float | None = None


@dataclass
class Scenario:
    base: dict[str, Any]  # the base problem, as JSON
    simulation: Simulation
    variants: list[Variant] = field(default_factory=list)


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and check a scenario file; ``overrides`` replace [simulation] settings."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    return parse_scenario(data, base_dir=Path(path).parent, overrides=overrides)


def parse_scenario(
    data: dict[str, Any], base_dir: Path = Path("."), overrides: dict[str, Any] | None = None
) -> Scenario:
    unknown = set(data) - {"base", "simulation", "variants"}
    if unknown:
        raise ScenarioError(f"'{sorted(unknown)[0]}': not a section (base, simulation, variants)")
    base = _base(data.get("base"), base_dir)
    for section, kind in (("simulation", dict), ("variants", list)):
        if not isinstance(data.get(section, kind()), kind):
            raise ScenarioError(f"{section}: must be {'a table' if kind is dict else 'a list'}")
    settings = {**data.get("simulation", {}), **(overrides or {})}
    _check_types(settings)
    try:
        simulation = Simulation(**settings)
    except TypeError as exc:
        raise ScenarioError(f"simulation: {exc}".replace("__init__() ", "")) from None
    variants: list[Variant] = []
    for position, raw in enumerate(data.get("variants", []), start=1):
        variants += _variants(raw, position)
    if not variants:
        variants = [Variant("today")]
    if len(variants) > MAX_VARIANTS:
        raise ScenarioError(
            f"variants: {len(variants):,} (sweeps counted value by value); at most {MAX_VARIANTS}"
        )
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ScenarioError(f"variants: the name '{_first_repeat(names)}' is used twice")
    problem = Problem.model_validate(base)
    for variant in variants:
        apply_changes(problem, variant)  # every change is checked before anything runs
    return Scenario(base, simulation, variants)


_WHOLE = ((int,), "a whole number")
_SETTING_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "weeks": _WHOLE,
    "replications": _WHOLE,
    "engine": ((str,), "text"),
    "time_limit": ((int, float), "a number"),
    "seed": _WHOLE,
    "max_wait_weeks": _WHOLE,
}


def _check_types(settings: dict[str, Any]) -> None:
    """Refuse a [simulation] setting of the wrong type (``seed = "abc"``), naming it."""
    for name, value in settings.items():
        if name not in _SETTING_TYPES:
            continue  # an unknown setting: Simulation names it
        types, kind = _SETTING_TYPES[name]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ScenarioError(f"simulation.{name}: must be {kind}, got {value!r}")


def _first_repeat(names: list[str]) -> str:
    return next(name for i, name in enumerate(names) if name in names[:i])


def _base(raw: Any, base_dir: Path) -> dict[str, Any]:
    from scheduler.files import read_json
    from scheduler.synthetic import TIERS, generate

    if not isinstance(raw, dict):
        raise ScenarioError("base: missing; give a tier and seed, or a problem file")
    if "problem" in raw:
        try:
            return dict(read_json(base_dir / raw["problem"]))
        except InvalidProblem as exc:
            raise ScenarioError(f"base.problem: {exc.errors[0]}") from None
    tier = raw.get("tier")
    if tier not in TIERS:
        raise ScenarioError(f"base.tier: '{tier}' is not one of {', '.join(TIERS)}")
    seed = raw.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScenarioError(f"base.seed: must be a whole number, got {seed!r}")
    return generate(tier, seed).model_dump(mode="json")


def _variants(raw: Any, position: int) -> list[Variant]:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ScenarioError(f"variants[{position}]: needs a name")
    name = raw["name"]
    changes = raw.get("changes", [])
    if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
        raise ScenarioError(f"variant '{name}': changes must be a list of tables")
    sweep = raw.get("sweep")
    if sweep is None:
        return [Variant(name, tuple(changes))]
    values = sweep.get("values") if isinstance(sweep, dict) else None
    field_name = sweep.get("field") if isinstance(sweep, dict) else None
    if not isinstance(values, list) or not values or not isinstance(field_name, str):
        raise ScenarioError(f"variant '{name}': sweep needs a field and a list of values")
    if len(values) > MAX_VARIANTS:
        raise ScenarioError(
            f"variant '{name}': sweep.values has {len(values):,} values; at most {MAX_VARIANTS}"
        )
    template = {k: v for k, v in sweep.items() if k not in ("field", "values")}
    return [
        Variant(
            f"{name} {field_name}={value}", (*changes, {**template, field_name: value}), name, value
        )
        for value in values
    ]


# ------------------------------------------------------------------------------ changes


def apply_changes(
    problem: Problem, variant: Variant
) -> tuple[Problem, dict[tuple[str, str], float]]:
    """``problem`` with the variant's capacity changes, and its demand scale by
    (priority, locality) ('*' for any)."""
    data = copy.deepcopy(problem.model_dump(mode="json"))
    demand: dict[tuple[str, str], float] = {}
    for position, change in enumerate(variant.changes, start=1):
        where = f"variant '{variant.name}': change {position} ({change.get('kind', '?')})"
        kind = change.get("kind")
        if kind not in CHANGES:
            raise ScenarioError(f"{where}: kind '{kind}' is not one of {', '.join(CHANGES)}")
        try:
            CHANGES[kind](data, demand, _Change(change, where))
        except KeyError as exc:
            raise ScenarioError(f"{where}: '{exc.args[0]}' is missing") from None
    try:
        return Problem.model_validate(data), demand
    except InvalidProblem as exc:
        raise ScenarioError(f"variant '{variant.name}': {exc.errors[0]}") from None
    except ValueError as exc:
        raise ScenarioError(f"variant '{variant.name}': {str(exc).splitlines()[0]}") from None


class _Change:
    def __init__(self, raw: dict[str, Any], where: str):
        self.raw = raw
        self.where = where

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.raw.get(key, default)

    def number(self, key: str, high: float, low: float = 0.0, default: Any = ...) -> float:
        """The change's ``key``, a number in ``low..high``."""
        value = self.raw.get(key, default)
        if value is ...:
            raise KeyError(key)
        if not _is_number(value):
            raise ScenarioError(f"{self.where}: {key} must be a number, got {value!r}")
        if value < low:
            raise ScenarioError(f"{self.where}: {key} must be at least {low:g}, got {value}")
        if value > high:
            raise ScenarioError(f"{self.where}: {key} must be at most {high:,g}, got {value:,}")
        return float(value)

    def fail(self, message: str) -> ScenarioError:
        return ScenarioError(f"{self.where}: {message}")


def _unit(data: dict[str, Any], change: _Change, key: str = "unit") -> dict[str, Any]:
    unit_id = change[key]
    for unit in data["units"]:
        if unit["unit_id"] == unit_id:
            return unit
    raise change.fail(f"{key} '{unit_id}' is not a unit")


def _provider(data: dict[str, Any], change: _Change) -> dict[str, Any]:
    for provider in data["providers"]:
        if provider["provider_id"] == change["provider"]:
            return provider
    raise change.fail(f"provider '{change['provider']}' is not a provider")


def _add_beds(data: dict[str, Any], _demand: Any, change: _Change) -> None:
    unit = _unit(data, change)
    count = int(change.number("count", MAX_BEDS))
    features = list(change.get("features", []))
    taken = {bed["bed_id"] for bed in unit["beds"]}
    for n in range(1, count + 1):
        bed_id = next(
            f"{unit['unit_id']}-X{n + k}"
            for k in range(10_000)
            if f"{unit['unit_id']}-X{n + k}" not in taken
        )
        taken.add(bed_id)
        unit["beds"].append({"bed_id": bed_id, "features": features})


def _remove_beds(data: dict[str, Any], _demand: Any, change: _Change) -> None:
    unit = _unit(data, change)
    count = int(change.number("count", MAX_BEDS))
    booked = {b.get("bed_id") for b in data.get("bookings", [])}
    free = [bed for bed in reversed(unit["beds"]) if bed["bed_id"] not in booked]
    if count > len(free):
        raise change.fail(f"count {count}: unit {unit['unit_id']} has {len(free)} unbooked beds")
    gone = {bed["bed_id"] for bed in free[:count]}
    unit["beds"] = [bed for bed in unit["beds"] if bed["bed_id"] not in gone]


def _night_staff(data: dict[str, Any], _demand: Any, change: _Change) -> None:
    unit = _unit(data, change)
    unit["default_night_staff"] = int(change.number("staff", MAX_COUNT))
    unit["night_staff"] = {}


def _open_unit(data: dict[str, Any], _demand: Any, change: _Change) -> None:
    like = _unit(data, change, "like")
    unit_id = change["unit_id"]
    if any(u["unit_id"] == unit_id for u in data["units"]):
        raise change.fail(f"unit_id '{unit_id}' exists already")
    beds = int(change.number("beds", MAX_BEDS, low=1))
    unit = copy.deepcopy(like)
    unit.update(unit_id=unit_id, name=change.get("name", unit_id), night_staff={})
    unit["locality_id"] = change.get("locality", like["locality_id"])
    unit["beds"] = [
        {"bed_id": f"{unit_id}-B{n}", "features": change.get("features", [])}
        for n in range(1, beds + 1)
    ]
    data["units"].append(unit)


def _sitters(data: dict[str, Any], _demand: Any, change: _Change) -> None:
    provider = _provider(data, change)
    scale = change.number("scale", MAX_SCALE)
    for shifts in provider["sitters"].values():
        for shift in shifts:
            shift["count"] = round(shift["count"] * scale)


def _weekly_cap(data: dict[str, Any], _demand: Any, change: _Change) -> None:
    _provider(data, change)["weekly_hours_cap"] = change.number("hours", MAX_COUNT * 7 * 24)


def _entitlements(data: dict[str, Any], _demand: Any, change: _Change) -> None:
    nights = change.get("nights_a_year")
    hours = change.get("hours_a_week")
    if nights is None and hours is None:
        raise change.fail("give nights_a_year or hours_a_week")
    for case in data["cases"]:
        if nights is not None:
            case["nights_allowance"] = int(change.number("nights_a_year", MAX_NIGHTS))
        if hours is not None:
            case["sitting_hours_per_week"] = change.number("hours_a_week", 7 * 24)


def _budget(data: dict[str, Any], _demand: Any, change: _Change) -> None:
    for budget in data.get("budgets", []):
        if budget["budget_id"] == change["budget"]:
            budget["limit_pence"] = int(budget["limit_pence"] * change.number("scale", MAX_SCALE))
            return
    raise change.fail(f"budget '{change['budget']}' is not a budget")


def _scale_demand(
    data: dict[str, Any], demand: dict[tuple[str, str], float], change: _Change
) -> None:
    factor = change.number("factor", MAX_SCALE)
    priority = change.get("priority", "*")
    locality = change.get("locality", "*")
    if priority != "*" and priority not in PRIORITIES:
        raise change.fail(f"priority '{priority}' is not one of {', '.join(PRIORITIES)}")
    if locality != "*" and locality not in {loc["locality_id"] for loc in data["localities"]}:
        raise change.fail(f"locality '{locality}' is not a locality")
    demand[(priority, locality)] = demand.get((priority, locality), 1.0) * factor


CHANGES = {
    "add_beds": _add_beds,
    "remove_beds": _remove_beds,
    "night_staff": _night_staff,
    "open_unit": _open_unit,
    "sitters": _sitters,
    "weekly_cap": _weekly_cap,
    "entitlements": _entitlements,
    "budget": _budget,
    "scale_demand": _scale_demand,
}
