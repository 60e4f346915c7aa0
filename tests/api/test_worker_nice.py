"""Solver and scenario processes run at lower priority than the server."""

from __future__ import annotations

import multiprocessing
import os

import pytest

from api.jobs.worker import lower_priority


def _niceness_after(nice: int, times: int, out: multiprocessing.Queue) -> None:
    for _ in range(times):
        lower_priority(nice)
    out.put(os.nice(0))


@pytest.mark.slow
def test_lower_priority_reaches_the_niceness_once_and_goes_no_lower() -> None:
    context = multiprocessing.get_context("spawn")
    start = os.nice(0)
    for nice, times, expected in ((10, 1, max(start, 10)), (10, 3, max(start, 10)), (0, 1, start)):
        out = context.Queue()
        process = context.Process(target=_niceness_after, args=(nice, times, out))
        process.start()
        assert out.get(timeout=60) == expected, (nice, times)
        process.join()
