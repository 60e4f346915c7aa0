"""Exact decomposition: parts of a problem that no case, unit, provider or budget links.

Two requests are in one part when they could meet at a case (the nights
allowance and overlapping stays for stays; the sitting hours and overlapping
visits for visits: no rule links a case's stays to its visits), a unit (beds,
night staff, residents), a provider (sitters, weekly hours) or a budget;
incompatible cases join their stay parts. Parts share nothing,
so solving each to optimality solves the whole, tier by tier.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import TypeVar

from solver.data import SolverInput, StayOption, VisitOption

_Option = TypeVar("_Option", StayOption, VisitOption)

__all__ = ["Part", "split"]


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(self, node: tuple[str, int]) -> tuple[str, int]:
        self.parent.setdefault(node, node)
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class Part:
    """A sub-problem: the same capacity tables, a subset of requests, visits and options."""

    data: SolverInput
    request_back: list[int] = field(default_factory=list)  # local -> global indices
    stay_back: list[int] = field(default_factory=list)
    visit_back: list[int] = field(default_factory=list)
    vopt_back: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.stay_back) + len(self.vopt_back)

    def local_hint(
        self, stays: dict[int, int], visits: dict[int, int]
    ) -> tuple[dict[int, int], dict[int, int]]:
        """A global solution restricted to this part, in local indices."""
        req = {g: i for i, g in enumerate(self.request_back)}
        opt = {g: i for i, g in enumerate(self.stay_back)}
        vis = {g: i for i, g in enumerate(self.visit_back)}
        vopt = {g: i for i, g in enumerate(self.vopt_back)}
        return (
            {req[r]: opt[o] for r, o in stays.items() if r in req},
            {vis[v]: vopt[o] for v, o in visits.items() if v in vis},
        )


def split(data: SolverInput) -> list[Part]:
    """The independent parts of ``data``, smallest first; requests without options are left out."""
    uf = _UnionFind()
    for opt in data.stay_options:
        case = data.stay_requests[opt.request].case
        uf.union(("stays of case", case), ("unit", data.bed_classes[opt.bed_class].unit))
    for vopt in data.visit_options:
        uf.union(("visits of case", data.visits[vopt.visit].case), ("provider", vopt.provider))
    for a, b in data.incompatible:
        uf.union(("stays of case", a), ("stays of case", b))
    for budget_idx, budget in enumerate(data.budgets):
        for unit in budget.units:
            uf.union(("budget", budget_idx), ("unit", unit))
        for provider in budget.providers:
            uf.union(("budget", budget_idx), ("provider", provider))
    groups: dict[tuple[str, int], Part] = {}
    stay_opts_of: dict[int, list[int]] = defaultdict(list)
    for i, opt in enumerate(data.stay_options):
        stay_opts_of[opt.request].append(i)
    visit_opts_of: dict[int, list[int]] = defaultdict(list)
    for i, vopt in enumerate(data.visit_options):
        visit_opts_of[vopt.visit].append(i)
    for r, request in enumerate(data.stay_requests):
        if stay_opts_of[r]:
            part = groups.setdefault(uf.find(("stays of case", request.case)), Part(data))
            part.request_back.append(r)
            part.stay_back.extend(stay_opts_of[r])
    for v, visit in enumerate(data.visits):
        if visit_opts_of[v]:
            part = groups.setdefault(uf.find(("visits of case", visit.case)), Part(data))
            part.visit_back.append(v)
            part.vopt_back.extend(visit_opts_of[v])
    parts = [_narrow(part) for part in groups.values()]
    return sorted(parts, key=lambda p: (p.size, p.request_back[:1], p.visit_back[:1]))


def _narrow(part: Part) -> Part:
    data = part.data
    req_local = {g: i for i, g in enumerate(part.request_back)}
    visit_local = {g: i for i, g in enumerate(part.visit_back)}
    part.data = replace(
        data,
        stay_requests=[data.stay_requests[g] for g in part.request_back],
        stay_options=[
            _with(data.stay_options[g], request=req_local[data.stay_options[g].request])
            for g in part.stay_back
        ],
        visits=[data.visits[g] for g in part.visit_back],
        visit_options=[
            _with(data.visit_options[g], visit=visit_local[data.visit_options[g].visit])
            for g in part.vopt_back
        ],
    )
    return part


def _with(option: _Option, **changes: int) -> _Option:
    """A copy of ``option`` with ``changes``: ``dataclasses.replace`` re-runs the
    constructor, which is slow on a large problem's many options."""
    changed = copy.copy(option)
    for name, value in changes.items():
        setattr(changed, name, value)
    return changed
