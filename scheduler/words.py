"""Dates, spans and money as a broker reads them out to a carer: "Tuesday 4 March",
"4-6 March", "£1,960". One place, so that every sentence of the plan says them alike
(the spec: dates read "Tuesday 4 March", never ISO)."""

from __future__ import annotations

import datetime as dt

__all__ = ["day_words", "listing", "money_words", "nights_words", "span_words"]


def day_words(day: dt.date) -> str:
    """``Tuesday 4 March``."""
    return f"{day:%A} {day.day} {day:%B}"


def span_words(first: dt.date, last: dt.date) -> str:
    """The nights ``first``..``last``: ``Tuesday 4 March``, ``4-6 March``,
    ``30 March-2 April``."""
    if first == last:
        return day_words(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}-{last.day} {last:%B}"
    return f"{first.day} {first:%B}-{last.day} {last:%B}"


def nights_words(first: dt.date, nights: int) -> str:
    """``3 nights from Tuesday 4 March``."""
    return f"{nights} night{'' if nights == 1 else 's'} from {day_words(first)}"


def money_words(pence: int) -> str:
    """``£1,960`` (whole pounds) or ``£12.50``."""
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" if rest == 0 else f"£{pounds:,}.{rest:02d}"


def listing(items: list[str], most: int = 4) -> str:
    """``a``, ``a and b``, ``a, b and c``; past ``most`` items, the first few and how
    many more."""
    if len(items) > most:
        items = [*items[: most - 1], f"{len(items) - most + 1} more"]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
