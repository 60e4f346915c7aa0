"""Small pieces of every CP-SAT call: hints, objectives and rows written straight into
the model's proto, and stopping a call from another thread.

Through the Python wrappers, one call at a time, the hint and the objective of a large
part took a noticeable share of each stage; written as whole lists they take next to
nothing. Variable ``v`` of a model here is the
proto's variable ``v``: models create their option variables first, in order.
"""

from __future__ import annotations

import threading

from ortools.sat.python import cp_model

__all__ = ["add_linear", "hint", "maximize", "watch"]


def hint(cp: cp_model.CpModel, values: list[int]) -> None:
    """Hint every variable ``v`` at ``values[v]``."""
    cp.clear_hints()
    cp.proto.solution_hint.vars.extend(range(len(values)))
    cp.proto.solution_hint.values.extend(values)


def maximize(cp: cp_model.CpModel, idx: list[int], coef: list[int]) -> None:
    """Maximise ``sum(coef * var[idx])`` (stored, as CP-SAT does, as a minimisation
    scaled by -1)."""
    cp.clear_objective()
    objective = cp.proto.objective
    objective.vars.extend(idx)
    objective.coeffs.extend(-c for c in coef)
    objective.scaling_factor = -1.0


def add_linear(cp: cp_model.CpModel, idx: list[int], coef: list[int], lo: int, hi: int) -> None:
    """The row ``lo <= sum(coef * var[idx]) <= hi``."""
    linear = cp.proto.constraints.add().linear
    linear.vars.extend(idx)
    linear.coeffs.extend(coef)
    linear.domain.extend([lo, hi])


def watch(stop: threading.Event | None, solver: cp_model.CpSolver) -> threading.Event:
    """Stop ``solver`` when ``stop`` is set; returns a 'done' event to set when the call
    returns, which ends the watching thread."""
    done = threading.Event()
    if stop is None:
        return done

    def run() -> None:
        while not done.is_set():
            if stop.wait(0.05):
                solver.stop_search()
                return

    threading.Thread(target=run, daemon=True).start()
    return done
