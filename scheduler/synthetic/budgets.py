"""Providers' weekly hours caps and the county's budgets, drawn once demand is known."""

from __future__ import annotations

import random

from scheduler.synthetic.county import Json, ProviderDraft, RequestPlan, UnitDraft

__all__ = ["draw_budgets", "set_caps"]


def set_caps(
    rng: random.Random, providers: list[ProviderDraft], sittings: list[RequestPlan]
) -> None:
    """Weekly hours caps that the visits asked for exceed 1.35-1.8 times, shared out by rota."""
    asked = sum(
        v["minutes"] * (2 if plan.request["double_handed"] else 1)
        for plan in sittings
        for v in plan.request["visits"]
    )
    cap_minutes = asked / rng.uniform(1.35, 1.8)
    rota_total = sum(p.rota_minutes for p in providers)
    for provider in providers:
        share = cap_minutes * provider.rota_minutes / rota_total
        hours = min(max(round(share / 60), 4), provider.rota_minutes // 60)
        provider.json["weekly_hours_cap"] = float(hours)


def draw_budgets(
    rng: random.Random,
    tag: str,
    units: list[UnitDraft],
    providers: list[ProviderDraft],
    num_nights: int,
) -> list[Json]:
    """Block units north and south, spot beds, sitting north and south, for one county.

    A block bed's night costs nothing more (its contract is paid for the year), so the
    block budgets pay for agency night staff: 35-60% of every agency staff-night the units
    may add, where they may add any. Spot budgets (30-45% of every spot bed every night)
    bind; sitting budgets are 85-105% of the cost of the hours caps.
    """
    groups: list[tuple[str, list[str], float, float]] = []
    for north, side in ((True, "north"), (False, "south")):
        block = [u for u in units if u.north == north and not u.spot]
        full = sum(u.extra_max * num_nights * u.json["extra_night_staff_cost_pence"] for u in block)
        if full:
            groups.append(
                (f"{side}-block-units", [u.unit_id for u in block], full, rng.uniform(0.35, 0.6))
            )
    spot = [u for u in units if u.spot]
    full = sum(len(u.json["beds"]) * num_nights * u.json["cost_per_night_pence"] for u in spot)
    groups.append(("spot-beds", [u.unit_id for u in spot], full, rng.uniform(0.3, 0.45)))
    for north, side in ((True, "north"), (False, "south")):
        sitting = [p for p in providers if p.north == north]
        full = sum(p.json["weekly_hours_cap"] * p.json["cost_per_hour_pence"] for p in sitting)
        owners = [p.provider_id for p in sitting]
        groups.append((f"sitting-{side}", owners, full, rng.uniform(0.85, 1.05)))
    return [
        {
            "budget_id": f"{tag}{name}",
            "limit_pence": max(round(full * share / 10000) * 10000, 10000),
            "applies_to": owners,
        }
        for name, owners, full, share in groups
        if owners
    ]
