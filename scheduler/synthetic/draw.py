"""Random draws the generator makes, each from the county's own :class:`random.Random`."""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = ["pick", "split_total", "weighted_sample"]


def split_total(rng: random.Random, total: int, parts: int, low: int, high: int) -> list[int]:
    """``parts`` integers in ``low..high`` adding up to ``total``, drawn at random."""
    if not parts * low <= total <= parts * high:
        raise ValueError(f"cannot split {total} into {parts} parts of {low}..{high}")
    sizes = [low] * parts
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    for _ in range(total - parts * low):
        open_idx = [i for i in range(parts) if sizes[i] < high]
        sizes[rng.choices(open_idx, [weights[i] for i in open_idx])[0]] += 1
    return sizes


def pick(rng: random.Random, table: tuple[Sequence[int], Sequence[int]]) -> int:
    return rng.choices(table[0], table[1])[0]


def weighted_sample(
    rng: random.Random, items: list[int], weights: list[float], k: int
) -> list[int]:
    """``k`` distinct items, heavier ones first more often (Efraimidis-Spirakis)."""
    keys = sorted(((rng.random() ** (1 / w), item) for item, w in zip(items, weights, strict=True)))
    return [item for _, item in keys[-k:]]
