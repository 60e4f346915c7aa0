"""The hard rules the compile step leaves to the solver, as linear rows over options.

:meth:`Constraints.add_constraints` is the list of them, one method each, named after the rule of
``shared/spec/domain.md`` (H1..H13); each writes its rows through the model it is
given (:class:`solver.model.Model`), which keeps them for the LP.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Protocol

from solver.data import CRISIS, ONE_TO_ONE, SHARED, TWO_TO_ONE, SolverInput
from solver.steps import day_steps

__all__ = ["Constraints", "RowWriter"]

# case -> request (or visit) -> (variable, what it draws on an allowance)
_Groups = defaultdict[int, defaultdict[int, list[tuple[int, int]]]]


class RowWriter(Protocol):
    """What the rules need of a model: its data, its option variables and its rows."""

    data: SolverInput

    def x(self, opt_idx: int) -> int: ...

    def y(self, opt_idx: int) -> int: ...

    def add_row(self, idx: list[int], coef: list[int], lo: int, hi: int) -> None: ...

    def add_capacity(self, idx: list[int], coef: list[int], cap: int) -> None: ...


class Constraints:
    """The hard rules the compile step leaves to the solver, one method each."""

    def __init__(self, model: RowWriter, cover_items: int):
        self.m = model
        self.data = model.data
        self.cover_items = cover_items  # SearchParams.cover_items
        self._unit_nights: dict[tuple[int, int], list[int]] | None = None

    def add_constraints(self) -> None:
        self.h6_one_stay_per_request()
        self.h10_one_slot_per_visit()
        self.h1_beds_per_night()
        self.h5_night_staffing()
        self.h5_agency_staff()
        self.h4_incompatible_residents()
        self.h8_allowances()
        self.case_stays_do_not_overlap()
        self.h9_sitters_on_shift()
        self.h9_weekly_caps()
        self.h10_visits_of_a_case_do_not_overlap()
        self.h12_budgets()
        self.h13_crisis_reserve()

    def _covering_nights(self) -> list[range]:
        data = self.data
        return [
            range(o.start, o.start + data.stay_requests[o.request].nights)
            for o in data.stay_options
        ]

    def _covering_steps(self) -> list[list[tuple[int, int]]]:
        """The (day, step) pairs each visit option covers; an overnight visit's steps past
        midnight are on the next day (day 7 is the Monday after the week)."""
        per_day = self.data.steps_per_day
        return [day_steps(o.day, o.start, o.steps, per_day) for o in self.data.visit_options]

    def h6_one_stay_per_request(self) -> None:
        self._one_of_each([(o.request, self.m.x(i)) for i, o in enumerate(self.data.stay_options)])

    def h10_one_slot_per_visit(self) -> None:
        self._one_of_each([(o.visit, self.m.y(i)) for i, o in enumerate(self.data.visit_options)])

    def _one_of_each(self, options: list[tuple[int, int]]) -> None:
        """At most one option variable of each group; ``options`` are (group, variable)."""
        by_group: dict[int, list[int]] = defaultdict(list)
        for group, v in options:
            by_group[group].append(v)
        for idx in by_group.values():
            if len(idx) > 1:
                self.m.add_row(idx, [1] * len(idx), 0, 1)

    def h1_beds_per_night(self) -> None:
        covering: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, nights in enumerate(self._covering_nights()):
            for n in nights:
                covering[(self.data.stay_options[i].bed_class, n)].append(self.m.x(i))
        for (bed_class, n), idx in covering.items():
            free = self.data.bed_classes[bed_class].free[n]
            if len(idx) > free:
                self.m.add_row(idx, [1] * len(idx), 0, free)

    def h5_night_staffing(self) -> None:
        """2 x two_to_one + one_to_one + ceil(shared / ratio) <= staff + agency staff, as
        one row per unit and night: with k = staff + extra - 2 x two_to_one - one_to_one a
        whole number, ceil(shared / ratio) <= k exactly when shared <= ratio x k, that is

            shared + ratio x one_to_one + 2 x ratio x two_to_one - ratio x extra
                <= ratio x staff,

        where ``extra`` is the agency staff the stays present bring (their option's
        ``extra``; booked ones' are in ``staff``). Booked residents count on both sides.
        No helper variable is needed, and the row's LP relaxation is the same as with an
        integer number of shared groups. A second row per unit and night keeps the
        agency staff within what the unit may add (:meth:`h5_agency_staff`)."""
        for (unit, n), opts in self._by_unit_night().items():
            self._staff_night(unit, n, opts)

    def h5_agency_staff(self) -> None:
        """The agency staff the stays present bring, at most what the unit may still add
        that night (``extra_max`` less the bookings')."""
        data, m = self.data, self.m
        for (unit, n), opts in self._by_unit_night().items():
            extra = [(m.x(i), data.stay_options[i].extra) for i in opts]
            extra = [(v, e) for v, e in extra if e > 0]
            left = data.units[unit].extra_left(n)
            if sum(e for _, e in extra) > left:
                m.add_row([v for v, _ in extra], [e for _, e in extra], 0, left)

    def _by_unit_night(self) -> dict[tuple[int, int], list[int]]:
        """The stay options present in each (unit, night); made once."""
        if self._unit_nights is None:
            data = self.data
            by_unit_night: dict[tuple[int, int], list[int]] = defaultdict(list)
            for i, nights in enumerate(self._covering_nights()):
                unit = data.bed_classes[data.stay_options[i].bed_class].unit
                for n in nights:
                    by_unit_night[(unit, n)].append(i)
            self._unit_nights = by_unit_night
        return self._unit_nights

    def _staff_night(self, unit: int, n: int, opts: list[int]) -> None:
        data, m = self.data, self.m
        table = data.units[unit]
        ratio = table.shared_ratio
        weight = {SHARED: 1, ONE_TO_ONE: ratio, TWO_TO_ONE: 2 * ratio}
        items = []
        for i in opts:
            opt = data.stay_options[i]
            c = weight[data.stay_requests[opt.request].support] - ratio * opt.extra
            if c:  # a one-to-one stay with its own agency staff member weighs nothing
                items.append((m.x(i), c))
        room = (
            ratio * (table.staff[n] - 2 * table.booked_two[n] - table.booked_one[n])
            - table.booked_shared[n]
        )
        if sum(c for _, c in items if c > 0) > room:
            # Bookings that already break H5 are reported as such; no new stay fits then
            # (unless it brings its own staff).
            idx, coef = [v for v, _ in items], [c for _, c in items]
            m.add_row(idx, coef, sum(c for c in coef if c < 0), max(room, 0))

    def h4_incompatible_residents(self) -> None:
        data = self.data
        cases = {c for pair in data.incompatible for c in pair}
        if not cases:
            return
        presence: dict[tuple[int, int, int], list[int]] = defaultdict(list)  # (case, unit, night)
        for i, nights in enumerate(self._covering_nights()):
            opt = data.stay_options[i]
            case = data.stay_requests[opt.request].case
            if case in cases:
                unit = data.bed_classes[opt.bed_class].unit
                for n in nights:
                    presence[(case, unit, n)].append(self.m.x(i))
        for a, b in data.incompatible:
            for (case, unit, n), idx in list(presence.items()):
                other = presence.get((b, unit, n)) if case == a else None
                if other:
                    both = idx + other
                    self.m.add_row(both, [1] * len(both), 0, 1)

    def case_stays_do_not_overlap(self) -> None:
        data = self.data
        requests_of: dict[int, set[int]] = defaultdict(set)
        for opt in data.stay_options:
            requests_of[data.stay_requests[opt.request].case].add(opt.request)
        busy: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, nights in enumerate(self._covering_nights()):
            case = data.stay_requests[data.stay_options[i].request].case
            if len(requests_of[case]) > 1:
                for n in nights:
                    busy[(case, n)].append(self.m.x(i))
        for idx in busy.values():
            if len(idx) > 1:
                self.m.add_row(idx, [1] * len(idx), 0, 1)

    def h8_allowances(self) -> None:
        """A case's nights left bound what its drawing stays take, as one row per case and
        allowance year (a stay's nights before the case's ``fresh_night`` count in this
        year, the rest in the next: the coefficient is per option), and its sitting
        minutes left bound its drawing visits; each with the cover rows of
        :meth:`_covers`. Requests of an allowance-exempt priority draw on nothing."""
        data, m = self.data, self.m
        this_year: _Groups = defaultdict(lambda: defaultdict(list))
        next_year: _Groups = defaultdict(lambda: defaultdict(list))
        for i, o in enumerate(data.stay_options):
            case = data.stay_requests[o.request].case
            before, after = data.nights_drawn(o)
            if before:
                this_year[case][o.request].append((m.x(i), before))
            if after:
                next_year[case][o.request].append((m.x(i), after))
        for case, groups in this_year.items():
            self._allowance(groups, data.cases[case].nights_left)
        for case, groups in next_year.items():
            self._allowance(groups, data.cases[case].nights_left_next)
        visits: _Groups = defaultdict(lambda: defaultdict(list))
        for i, vo in enumerate(data.visit_options):
            visit = data.visits[vo.visit]
            if visit.draws:
                visits[visit.case][vo.visit].append((m.y(i), visit.minutes))
        for case, groups in visits.items():
            self._allowance(groups, data.cases[case].minutes_left)

    def _allowance(self, options: dict[int, list[tuple[int, int]]], left: int) -> None:
        """``options``: request (or visit) -> (variable, what it draws), at most one
        variable of each taken (H6, H10)."""
        if sum(max(c for _, c in group) for group in options.values()) <= left:
            return
        idx = [v for group in options.values() for v, _ in group]
        coef = [c for group in options.values() for _, c in group]
        self.m.add_capacity(idx, coef, left)
        self._covers(options, left)

    def _covers(self, options: dict[int, list[tuple[int, int]]], left: int) -> None:
        """Extended cover rows of an allowance: for each smallest set of a case's requests
        (or visits) that together ask more than is left, at most all but one of them, or
        of them and any larger one, are served. Visits of 150, 210 and 240 minutes with
        540 left: any two, never three; the LP alone would serve 2.75 (they bring the
        need-stage LP bound close to the optimum). A case asking for more than
        ``cover_items`` gets none.

        A request's size is the least any of its options draws (a stay reaching into
        the next allowance year draws less on this one), so any k of them draw at least
        what the sizes say, and the rows stay valid."""
        size = {g: min(c for _, c in group) for g, group in options.items()}
        if len(options) > self.cover_items or len(set(size.values())) == 1:
            return  # one size: the capacity row, divided by it, is already the count
        groups = sorted(options, key=lambda g: size[g])
        seen: set[frozenset[int]] = set()
        for k in range(2, len(groups) + 1):
            for cover in itertools.combinations(groups, k):
                total = sum(size[g] for g in cover)
                if total <= left or any(total - size[g] > left for g in cover):
                    continue  # not a cover, or not a smallest one
                largest = max(size[g] for g in cover)
                extended = frozenset(cover) | {g for g in groups if size[g] >= largest}
                if extended not in seen:
                    seen.add(extended)
                    idx = [v for g in sorted(extended) for v, _ in options[g]]
                    self.m.add_row(idx, [1] * len(idx), 0, k - 1)

    def h9_sitters_on_shift(self) -> None:
        """Sitters busy <= sitters free, a row per (provider, day, step) that the options
        could overfill; an overnight visit holds its sitters on both days."""
        data = self.data
        sitters_of = [data.visits[o.visit].sitters for o in data.visit_options]
        covering: dict[tuple[int, int, int], list[tuple[int, int]]] = defaultdict(list)
        for i, steps in enumerate(self._covering_steps()):
            vopt = data.visit_options[i]
            for day, t in steps:
                covering[(vopt.provider, day, t)].append((self.m.y(i), sitters_of[i]))
        for (provider, day, t), items in covering.items():
            free = data.providers[provider].free[day][t]
            if sum(s for _, s in items) > free:
                idx, coef = zip(*items, strict=True)
                self.m.add_row(list(idx), list(coef), 0, free)

    def h9_weekly_caps(self) -> None:
        data = self.data
        by_provider: dict[int, list[tuple[int, int]]] = defaultdict(list)
        asked: dict[int, dict[int, int]] = defaultdict(dict)  # provider -> visit -> sitter-minutes
        for i, vopt in enumerate(data.visit_options):
            visit = data.visits[vopt.visit]
            by_provider[vopt.provider].append((self.m.y(i), visit.minutes * visit.sitters))
            asked[vopt.provider][vopt.visit] = visit.minutes * visit.sitters
        for provider, items in by_provider.items():
            left = data.providers[provider].minutes_left
            if sum(asked[provider].values()) > left:
                idx, coef = zip(*items, strict=True)
                self.m.add_row(list(idx), list(coef), 0, left)

    def h10_visits_of_a_case_do_not_overlap(self) -> None:
        """At most one visit at a home at a time, a row per (case, day, step) shared by
        options of two visits or more; an overnight visit counts on both days."""
        data = self.data
        covering: dict[tuple[int, int, int], list[tuple[int, int]]] = defaultdict(list)
        for i, steps in enumerate(self._covering_steps()):
            vopt = data.visit_options[i]
            for day, t in steps:
                covering[(data.visits[vopt.visit].case, day, t)].append((self.m.y(i), vopt.visit))
        seen: set[tuple[int, ...]] = set()
        for items in covering.values():
            if len({visit for _, visit in items}) > 1:
                idx = tuple(sorted(i for i, _ in items))
                if idx not in seen:
                    seen.add(idx)
                    self.m.add_row(list(idx), [1] * len(idx), 0, 1)

    def h12_budgets(self) -> None:
        """What the options add to the spend (spot nights, agency staff, sitters; a block
        bed costs nothing more) is at most what each budget has left."""
        data = self.data
        for budget in data.budgets:
            units, providers = set(budget.units), set(budget.providers)
            idx: list[int] = []
            coef: list[int] = []
            for i, opt in enumerate(data.stay_options):
                if opt.cost and data.bed_classes[opt.bed_class].unit in units:
                    idx.append(self.m.x(i))
                    coef.append(opt.cost)
            for i, vopt in enumerate(data.visit_options):
                if vopt.cost and vopt.provider in providers:
                    idx.append(self.m.y(i))
                    coef.append(vopt.cost)
            if idx and sum(coef) > budget.left:
                self.m.add_row(idx, coef, 0, budget.left)

    def h13_crisis_reserve(self) -> None:
        """Stays that are not crisis hold at most ``reserve_cap[n]`` more beds of a unit
        with a crisis reserve on night ``n``: one row per such unit and night."""
        data = self.data
        covering: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, nights in enumerate(self._covering_nights()):
            opt = data.stay_options[i]
            unit = data.bed_classes[opt.bed_class].unit
            if data.units[unit].reserve_cap is None:
                continue
            if data.stay_requests[opt.request].priority == CRISIS:
                continue
            for n in nights:
                covering[(unit, n)].append(self.m.x(i))
        for (unit, n), idx in covering.items():
            cap = data.units[unit].reserve_cap
            assert cap is not None
            if len(idx) > cap[n]:
                self.m.add_row(idx, [1] * len(idx), 0, cap[n])
