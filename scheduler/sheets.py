"""Problems in spreadsheets: the template, import with every bad cell named, export.

A workbook has one sheet per kind of thing, one row per item, readable column
headers, and lists in one cell separated by ``;`` (e.g. bed features
``hoist; bariatric``). The same sheets travel as CSV in a zip, one
``<sheet>.csv`` per sheet. The ``README`` sheet describes every column; import
ignores it.

Import reads every cell, collects *all* mistakes as :class:`CellError` (sheet,
row as the spreadsheet shows it, column header and letter, problem), and only
then builds the :class:`~scheduler.model.Problem`; the problem's own checks
(each a :class:`~scheduler.model.ProblemError`) are placed by their location in
the problem file: the item's position gives the row it came from, its field the
column. Nothing is returned unless everything is right.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from scheduler.files import load_problem
from scheduler.model import (
    PRIORITIES,
    WEEKDAYS,
    InvalidProblem,
    Location,
    Problem,
    ProblemError,
    StayBooking,
)

__all__ = [
    "MAX_MEMBER_BYTES",
    "MAX_ROWS",
    "MAX_UNPACKED_BYTES",
    "SHEETS",
    "CellError",
    "InvalidSpreadsheet",
    "bookings_frame",
    "plan_frames",
    "problem_from_workbook",
    "problem_to_frames",
    "read_workbook",
    "template_frames",
    "write_csv_zip",
    "write_xlsx",
]

LIST_SEPARATOR = ";"


@dataclass(frozen=True)
class CellError(ProblemError):
    """A mistake in a spreadsheet: a :class:`~scheduler.model.ProblemError` and its cell.

    A bad cell has only a ``message``; a mistake the problem's own checks find keeps
    their item and field, placed on the row (and column) of the item.
    """

    sheet: str = ""
    row: int | None = None  # as the spreadsheet shows it (the header is row 1)
    column: str | None = None  # header, with its letter

    @classmethod
    def at(cls, sheet: str, row: int | None, column: str | None, message: str) -> CellError:
        """A mistake in the spreadsheet itself (a cell, a column, a sheet, the file)."""
        return cls("", "", message, sheet=sheet, row=row, column=column)

    @classmethod
    def placed(
        cls, error: ProblemError, sheet: str, row: int | None, column: str | None
    ) -> CellError:
        """``error``, found in the problem built from the sheets, placed on its cell."""
        named = (error.item, error.field, error.message, error.path, error.subject)
        return cls(*named, sheet=sheet, row=row, column=column)

    @property
    def problem(self) -> str:
        """What is wrong, as one line (the problem error's own text)."""
        return ProblemError.__str__(self)

    def __str__(self) -> str:
        where = [f"sheet '{self.sheet}'"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.problem}"


class InvalidSpreadsheet(ValueError):
    """A spreadsheet that cannot be imported; ``errors`` lists every bad cell."""

    def __init__(self, errors: list[CellError]):
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s); first: {errors[0]}")


# ------------------------------------------------------------------------- cell kinds


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("is not a whole number")
    if isinstance(value, int):
        return value
    number = _number(value)
    if not number.is_integer():
        raise ValueError(f"'{value}' is not a whole number")
    return int(number)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("is not a number")
    try:
        number = float(str(value).replace(",", ""))
    except ValueError:
        raise ValueError(f"'{value}' is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"'{value}' is not a number")
    return number


def _date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _text(value)
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def _clock(value: Any) -> str:
    if isinstance(value, dt.datetime):  # a time cell some programs store with a date
        value = value.time()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    text = _text(value)
    if not re.fullmatch(r"([01]?\d|2[0-4]):[0-5]\d", text):
        raise ValueError(f"'{text}' is not a time HH:MM")
    return text.zfill(5)


def _yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("yes", "y", "true", "1"):
        return True
    if text in ("no", "n", "false", "0"):
        return False
    raise ValueError(f"'{value}' is not yes or no")


def _words(value: Any) -> list[str]:
    return [part.strip() for part in _text(value).split(LIST_SEPARATOR) if part.strip()]


def _eligibility(value: Any) -> list[str]:
    """``stay; sitting`` (the default when blank), ``stay``, ``sitting`` or ``none``."""
    words = [word.lower() for word in _words(value)]
    if words == ["none"]:
        return []
    wrong = [word for word in words if word not in ("stay", "sitting")]
    if wrong:
        raise ValueError(f"'{wrong[0]}' is not stay, sitting or none")
    return words


def _priorities(value: Any) -> list[str]:
    """Priorities ``;``-separated, or ``none`` for an empty list (blank keeps the default)."""
    words = [word.lower() for word in _words(value)]
    if words == ["none"]:
        return []
    wrong = [word for word in words if word not in PRIORITIES]
    if wrong:
        raise ValueError(f"'{wrong[0]}' is not {', '.join(PRIORITIES)} or none")
    return words


def _one_of(*choices: str) -> Callable[[Any], str]:
    """A parser taking one of ``choices``, whatever its case (``Female`` is ``female``)."""
    by_lower = {choice.lower(): choice for choice in choices}

    def parse(value: Any) -> str:
        text = _text(value)
        if text.lower() not in by_lower:
            raise ValueError(f"'{text}' is not one of {', '.join(choices)}")
        return by_lower[text.lower()]

    return parse


_KIND_WORDS: dict[Callable[[Any], Any], str] = {
    _text: "text",
    _integer: "whole number",
    _number: "number",
    _date: "date YYYY-MM-DD",
    _clock: "time HH:MM",
    _yes_no: "yes or no",
    _words: "list, ';'-separated",
    _eligibility: "stay; sitting, stay, sitting or none",
    _priorities: "priorities, ';'-separated, or none",
}


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    parse: Callable[[Any], Any]
    required: bool = True
    help: str = ""

    @property
    def kind(self) -> str:
        return _KIND_WORDS.get(self.parse, "one of the words listed")


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    help: str


def _c(
    header: str, key: str, parse: Callable[[Any], Any], required: bool = True, help: str = ""
) -> Column:
    return Column(header, key, parse, required, help)


PRIORITY = _one_of(*PRIORITIES)
# (header, field of Weights, what it does); blank cells keep the default of Weights
WEIGHT_COLUMNS = (
    ("Weight: units a night", "night_units", "a night counts as this many sitting minutes"),
    ("Weight: need base", "need_base", "need every request starts with"),
    ("Weight: need allowance", "need_allowance", "need for an unused allowance"),
    ("Weight: need wait", "need_wait", "need for waiting since received"),
    ("Weight: wait cap days", "wait_cap_days", "waiting counts up to this many days"),
    ("Weight: preferred start", "preferred_start", "points for the preferred start"),
    ("Weight: preferred unit", "preferred_unit", "points for a preferred unit"),
    ("Weight: continuity", "continuity", "points for the same unit or provider as before"),
    ("Weight: change", "change", "points for each choice of the previous plan kept"),
    (
        "Weight: break bonus units",
        "break_bonus_units",
        "units each served request earns on top of what it serves, so that breaks are "
        "shared before they are lengthened (blank: two nights' worth)",
    ),
)
# Weights that are not whole numbers: (header, field of Weights, what it does)
WEIGHT_NUMBER_COLUMNS = (
    (
        "Weight: first sitting hours",
        "first_sitting_hours",
        "a case's first hours of sitting in the week count double (blank: 2)",
    ),
)
# (header, field of Policy, parser, what it does); blank cells keep the council default
POLICY_COLUMNS: tuple[tuple[str, str, Callable[[Any], Any], str], ...] = (
    (
        "Policy: allowance exempt",
        "allowance_exempt",
        _priorities,
        "priorities that draw on no planned allowance (blank: crisis; health_appointment; "
        "none: every request draws)",
    ),
    (
        "Policy: spot for",
        "spot_for",
        _priorities,
        "priorities that may be placed in a spot bed besides exceptional requests "
        "(blank: crisis; none: exceptional requests only)",
    ),
    (
        "Policy: sitting bank weeks",
        "sitting_bank_weeks",
        _integer,
        "unused weekly sitting hours may be banked up to this many weeks' entitlement (blank: 4)",
    ),
    (
        "Policy: reserve release days",
        "reserve_release_days",
        _integer,
        "a unit's crisis reserve opens to everyone for nights fewer than this many days "
        "after the planning date (blank: 2)",
    ),
    (
        "Policy: offer hours",
        "offer_hours",
        _integer,
        "how long an offered booking holds its capacity before it expires (blank: 48)",
    ),
)
SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "settings",
        (
            _c("First night", "first_night", _date, help="first night of the horizon"),
            _c("Last night", "last_night", _date, help="last night of the horizon"),
            _c("Week start", "week_start", _date, help="Monday of the sitting week planned"),
            _c(
                "Planned on",
                "planned_on",
                _date,
                False,
                "the day the plan is made (blank: the first night); the crisis reserve "
                "and allowance years count from it",
            ),
            *(
                _c(header, f"policy.{key}", parse, False, f"council policy {key}; {note}")
                for header, key, parse, note in POLICY_COLUMNS
            ),
            *(
                _c(header, f"weight.{key}", _integer, False, f"objective weight {key}; {note}")
                for header, key, note in WEIGHT_COLUMNS
            ),
            *(
                _c(header, f"weight.{key}", _number, False, f"objective weight {key}; {note}")
                for header, key, note in WEIGHT_NUMBER_COLUMNS
            ),
        ),
        "One row: the dates the allocation covers, the council's policy and the objective "
        "weights (blank: the default).",
    ),
    Sheet(
        "localities",
        (_c("Locality ID", "locality_id", _text), _c("Name", "name", _text)),
        "Areas of the county (e.g. north, south).",
    ),
    Sheet(
        "cases",
        (
            _c("Case ID", "case_id", _text),
            _c("Locality ID", "locality_id", _text),
            _c("Home latitude", "lat", _number),
            _c("Home longitude", "lon", _number),
            _c("Age", "age", _integer),
            _c("Sex", "sex", _one_of("female", "male")),
            _c(
                "Night support",
                "night_support",
                _one_of("shared", "one_to_one", "two_to_one"),
                False,
            ),
            _c("Bed needs", "bed_needs", _words, False, "e.g. hoist; ground_floor"),
            _c("Sitting skills", "sitting_skills", _words, False, "e.g. dementia; peg_feeding"),
            _c("Incompatible with", "incompatible_with", _words, False, "case IDs"),
            _c("Eligible", "eligible", _eligibility, False, "stay; sitting (blank), or none"),
            _c("Nights allowance", "nights_allowance", _integer, False, "a year"),
            _c(
                "Allowance year start",
                "allowance_year_start",
                _date,
                False,
                "the day the case's allowance year began (blank: the 1 April before the "
                "planning date); nights from its next anniversary count in a fresh year",
            ),
            _c("Nights used", "nights_used", _integer, False, "this allowance year so far"),
            _c("Sitting hours per week", "sitting_hours_per_week", _number, False),
            _c(
                "Sitting hours banked",
                "sitting_hours_banked",
                _number,
                False,
                "unused entitlement carried forward (hours; usable up to the policy's "
                "sitting bank weeks of entitlement)",
            ),
            _c(
                "Sitting hours recent",
                "sitting_hours_recent",
                _number,
                False,
                "sitting hours received in the 4 weeks before the week start (fair share)",
            ),
            _c(
                "Contribution per night (pence)",
                "contribution_per_night_pence",
                _integer,
                False,
                "what the carer is charged for a chargeable bed night (reports only)",
            ),
            _c("Previous unit ID", "previous_unit_id", _text, False),
            _c("Previous provider ID", "previous_provider_id", _text, False),
        ),
        "The cared-for people (a case reference, never a name).",
    ),
    Sheet(
        "units",
        (
            _c("Unit ID", "unit_id", _text),
            _c("Name", "name", _text),
            _c("Locality ID", "locality_id", _text),
            _c("Latitude", "lat", _number),
            _c("Longitude", "lon", _number),
            _c("Age min", "age_min", _integer, False),
            _c("Age max", "age_max", _integer, False),
            _c("Sex policy", "sex_policy", _one_of("any", "female", "male"), False),
            _c("Default night staff", "default_night_staff", _integer),
            _c("Shared ratio", "shared_ratio", _integer, False, "shared residents per night staff"),
            _c("Cost per night (pence)", "cost_per_night_pence", _integer),
            _c("Spot", "spot", _yes_no, False, "yes for spot-purchased beds"),
            _c(
                "Block cost per year (pence)",
                "block_cost_per_year_pence",
                _integer,
                False,
                "a block unit's yearly contract price (reports and what-if only; blank "
                "on a spot unit)",
            ),
            _c(
                "Crisis reserve beds",
                "crisis_reserve_beds",
                _integer,
                False,
                "block beds held back for crisis until shortly before the night",
            ),
            _c(
                "Extra night staff max",
                "extra_night_staff_max",
                _integer,
                False,
                "agency night staff the unit may add on a night (blank: none)",
            ),
            _c(
                "Extra night staff cost (pence)",
                "extra_night_staff_cost_pence",
                _integer,
                False,
                "price of one agency staff member for one night",
            ),
        ),
        "Respite units; their beds are on the 'beds' sheet.",
    ),
    Sheet(
        "beds",
        (
            _c("Unit ID", "unit_id", _text),
            _c("Bed ID", "bed_id", _text),
            _c("Features", "features", _words, False, "e.g. hoist; bariatric"),
        ),
        "One row per bed.",
    ),
    Sheet(
        "night staff",
        (
            _c("Unit ID", "unit_id", _text),
            _c("Night", "night", _date),
            _c("Staff", "staff", _integer),
        ),
        "Nights on which a unit has other than its default night staff.",
    ),
    Sheet(
        "providers",
        (
            _c("Provider ID", "provider_id", _text),
            _c("Name", "name", _text),
            _c("Localities", "localities", _words, help="locality IDs served"),
            _c("Skills", "skills", _words, False),
            _c("Base latitude", "lat", _number),
            _c("Base longitude", "lon", _number),
            _c("Max travel km", "max_travel_km", _number),
            _c("Weekly hours cap", "weekly_hours_cap", _number),
            _c("Cost per hour (pence)", "cost_per_hour_pence", _integer),
        ),
        "Sitting agencies; their sitters are on the 'rotas' sheet.",
    ),
    Sheet(
        "rotas",
        (
            _c("Provider ID", "provider_id", _text),
            _c("Weekday", "weekday", _one_of(*WEEKDAYS)),
            _c("Start", "start", _clock),
            _c("End", "end", _clock),
            _c("Sitters", "count", _integer),
        ),
        "One row per shift: how many sitters a provider has on a weekday.",
    ),
    Sheet(
        "stay requests",
        (
            _c("Request ID", "request_id", _text),
            _c("Case ID", "case_id", _text),
            _c("Priority", "priority", PRIORITY),
            _c("Received", "received", _date),
            _c("Nights", "nights", _integer),
            _c("Earliest start", "earliest_start", _date),
            _c("Latest start", "latest_start", _date),
            _c("Preferred start", "preferred_start", _date, False),
            _c("Preferred units", "preferred_units", _words, False),
            _c("Max travel km", "max_travel_km", _number),
            _c(
                "Exceptional",
                "exceptional",
                _yes_no,
                False,
                "yes if a manager approved a spot bed for this request whatever its priority",
            ),
            _c(
                "Exceptional reason",
                "exceptional_reason",
                _text,
                False,
                "why the spot bed was approved (required when exceptional is yes)",
            ),
        ),
        "Requests for nights away in a unit.",
    ),
    Sheet(
        "sitting requests",
        (
            _c("Request ID", "request_id", _text),
            _c("Case ID", "case_id", _text),
            _c("Priority", "priority", PRIORITY),
            _c("Received", "received", _date),
            _c("Double handed", "double_handed", _yes_no, False),
            _c("Max travel km", "max_travel_km", _number),
        ),
        "Requests for sitting at home; their visits are on the 'visits' sheet.",
    ),
    Sheet(
        "visits",
        (
            _c("Request ID", "request_id", _text),
            _c("Visit ID", "visit_id", _text),
            _c("Minutes", "minutes", _integer),
            _c("Day", "day", _date),
            _c("Window start", "start", _clock),
            _c("Window end", "end", _clock),
        ),
        "One row per window in which a visit may take place (a visit may have several rows).",
    ),
    Sheet(
        "budgets",
        (
            _c("Budget ID", "budget_id", _text),
            _c("Limit (pence)", "limit_pence", _integer),
            _c("Applies to", "applies_to", _words, help="unit and provider IDs"),
        ),
        "Spending limits over the horizon.",
    ),
    Sheet(
        "bookings",
        (
            _c("Booking ID", "booking_id", _text),
            _c("Kind", "kind", _one_of("stay", "visit")),
            _c("Request ID", "request_id", _text),
            _c("Case ID", "case_id", _text),
            _c("Unit ID", "unit_id", _text, False),
            _c("Bed ID", "bed_id", _text, False),
            _c("First night", "first_night", _date, False),
            _c("Nights", "nights", _integer, False),
            _c("Visit ID", "visit_id", _text, False),
            _c("Provider ID", "provider_id", _text, False),
            _c("Day", "day", _date, False),
            _c("Start", "start", _clock, False),
            _c("Minutes", "minutes", _integer, False),
            _c("Sitters", "sitters", _integer, False),
            _c(
                "Status",
                "status",
                _one_of("confirmed", "offered"),
                False,
                "confirmed (blank), or offered to the carer and not yet answered; both hold "
                "their capacity",
            ),
            _c(
                "Extra night staff",
                "extra_night_staff",
                _integer,
                False,
                "a stay's agency night staff, each of its nights (blank: none)",
            ),
        ),
        "Bookings made earlier (confirmed or offered), which every allocation keeps.",
    ),
)
SHEET_BY_NAME = {sheet.name: sheet for sheet in SHEETS}
OPTIONAL_SHEETS = {"night staff", "budgets", "bookings", "sitting requests", "visits"}


# ---------------------------------------------------------------------------- reading

# What a workbook or zip may unpack to, checked from its directory before anything is
# read and again while reading (the directory may lie): zip bombs are refused unread.
# A county's workbook unpacks to 3.7 MB, its biggest sheet 5,447 rows.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024  # all members together (a file read whole too)
MAX_MEMBER_BYTES = 32 * 1024 * 1024  # one member: a CSV sheet, a workbook's part
MAX_ROWS = 100_000  # rows of one sheet
_CHUNK = 1 << 16


def read_workbook(
    source: bytes | str | Path, filename: str | None = None
) -> dict[str, pd.DataFrame]:
    """The sheets of a workbook, every cell as read.

    Parameters
    ----------
    source
        An .xlsx workbook or a .zip of ``<sheet>.csv`` files (bytes or a path), or
        a directory holding ``<sheet>.csv`` files.
    filename
        The name to give the file in errors when ``source`` is bytes.

    Raises
    ------
    InvalidSpreadsheet
        The file is none of these, or cannot be opened.
    """
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            return _read_csv_dir(path)
        name = filename or str(path)
        try:
            data = _read_limited(path, name)
        except OSError as exc:
            raise InvalidSpreadsheet([CellError.at(name, None, None, _unreadable(exc))]) from None
    else:
        data, name = source, filename or "file"
    try:
        if data[:2] == b"PK" and _is_xlsx(data, name):
            frames = pd.read_excel(
                io.BytesIO(data), sheet_name=None, dtype=object, header=0, nrows=MAX_ROWS + 1
            )
            return {_sheet_name(str(k)): _rows_limited(str(k), v) for k, v in frames.items()}
        if data[:2] == b"PK":
            return _read_csv_zip(data, name)
    except InvalidSpreadsheet:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds on a broken file
        raise InvalidSpreadsheet([CellError.at(name, None, None, _unreadable(exc))]) from None
    raise InvalidSpreadsheet(
        [CellError.at(name, None, None, "is not an .xlsx workbook or a .zip of CSV files")]
    )


def _unreadable(exc: BaseException) -> str:
    return f"cannot be read ({exc.strerror if isinstance(exc, OSError) else exc})"


def _too_big(name: str, message: str) -> InvalidSpreadsheet:
    return InvalidSpreadsheet([CellError.at(name, None, None, message)])


def _read_limited(path: Path, name: str, limit: int = MAX_UNPACKED_BYTES) -> bytes:
    """The file at ``path``, refused unread if it is over ``limit`` bytes."""
    if (size := path.stat().st_size) > limit:
        raise _too_big(name, f"is {size:,} bytes, over the limit of {limit:,}")
    return path.read_bytes()


def _is_xlsx(data: bytes, name: str) -> bool:
    """Whether the zip ``data`` is a workbook; every member is unpacked once, counted,
    so that a workbook past the limits is refused before a sheet is parsed."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = _members_within_limits(archive, name)
        is_workbook = "[Content_Types].xml" in archive.namelist()
        if is_workbook:
            for member in members:
                _unpack(archive, member, name)
        return is_workbook


def _members_within_limits(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    """The archive's members, if its directory says they unpack within the limits."""
    members = archive.infolist()
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_UNPACKED_BYTES:
        over = f"unpacks to {unpacked:,} bytes, over the limit of {MAX_UNPACKED_BYTES:,}"
        raise _too_big(name, over)
    for member in members:
        if member.file_size > MAX_MEMBER_BYTES:
            over = f"'{member.filename}' unpacks to {member.file_size:,} bytes"
            raise _too_big(name, f"{over}, over the limit of {MAX_MEMBER_BYTES:,}")
    return members


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo, name: str) -> bytes:
    """The member's bytes, unpacked in chunks and counted: refused as soon as they pass
    what the directory said, or the limit."""
    limit = min(member.file_size, MAX_MEMBER_BYTES)
    chunks: list[bytes] = []
    size = 0
    with archive.open(member) as handle:
        while chunk := handle.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_big(name, f"'{member.filename}' unpacks to more than {limit:,} bytes")
            chunks.append(chunk)
    return b"".join(chunks)


def _read_csv_zip(data: bytes, name: str) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in _members_within_limits(archive, name):
            filename = member.filename
            if not filename.lower().endswith(".csv") or filename.startswith("__MACOSX"):
                continue
            _add_csv(frames, Path(filename).stem, _unpack(archive, member, name))
    return frames


def _read_csv_dir(directory: Path) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() == ".csv" and path.is_file():
            _add_csv(frames, path.stem, _read_limited(path, str(path), MAX_MEMBER_BYTES))
    if not frames:
        raise InvalidSpreadsheet(
            [CellError.at(str(directory), None, None, "holds no .csv files (one per sheet)")]
        )
    return frames


def _add_csv(frames: dict[str, pd.DataFrame], stem: str, data: bytes) -> None:
    """Add the sheet ``stem`` read from CSV ``data``; an empty file is no sheet."""
    sheet = _sheet_name(stem)
    if not data.strip():
        return
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        problem = "is not UTF-8 text; save it as 'CSV UTF-8'"
        raise InvalidSpreadsheet([CellError.at(sheet, None, None, problem)]) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, nrows=MAX_ROWS + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InvalidSpreadsheet([CellError.at(sheet, None, None, _unreadable(exc))]) from None
    frames[sheet] = _rows_limited(sheet, frame)


def _sheet_name(name: str) -> str:
    return name.strip().lower()


def _rows_limited(sheet: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``, read up to one row past the limit, refused if it has that row."""
    if len(frame) > MAX_ROWS:
        message = f"has more than {MAX_ROWS:,} rows; split the import"
        raise InvalidSpreadsheet([CellError.at(_sheet_name(sheet), None, None, message)])
    return frame


Layout = dict[str, dict[str, str]]  # sheet -> key -> "'Header' (letter)" as in the file


def problem_from_workbook(frames: dict[str, pd.DataFrame]) -> Problem:
    """Build the problem from the sheets; every mistake is collected first.

    Cells are checked one by one, then across rows (duplicate IDs, rows naming a
    parent on no row of its sheet); only if all is well is the problem built, and
    its own checks are placed on the row (and column) of the item they name.

    Raises
    ------
    InvalidSpreadsheet
        With one :class:`CellError` per bad cell (or missing sheet or column).
    """
    errors: list[CellError] = []
    rows: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    layout: Layout = {}
    for sheet in SHEETS:
        frame = frames.get(sheet.name)
        layout[sheet.name] = {column.key: f"'{column.header}'" for column in sheet.columns}
        if frame is None:
            if sheet.name not in OPTIONAL_SHEETS:
                errors.append(CellError.at(sheet.name, None, None, "the sheet is missing"))
            rows[sheet.name] = []
            continue
        rows[sheet.name] = _parse_sheet(sheet, frame, errors, layout[sheet.name])
    _duplicate_rows(rows, layout, errors)
    _orphans(rows, layout, errors)
    _dangling(rows, layout, errors)
    _visit_rows_agree(rows, layout, errors)
    if errors:
        raise InvalidSpreadsheet(errors)
    data, places = _assemble(rows, errors)
    if errors:
        raise InvalidSpreadsheet(errors)
    try:
        return load_problem(data)
    except InvalidProblem as exc:
        raise InvalidSpreadsheet([_locate(error, places, layout) for error in exc.errors]) from None


NOTE_PREFIX = "note"  # columns whose header starts so are the broker's own notes


def _parse_sheet(
    sheet: Sheet, frame: pd.DataFrame, errors: list[CellError], layout: dict[str, str]
) -> list[tuple[int, dict[str, Any]]]:
    headers = [str(h).strip() for h in frame.columns]
    position = {header.lower(): i for i, header in enumerate(headers)}
    known = {column.header.lower() for column in sheet.columns}
    for column in sheet.columns:
        at = position.get(column.header.lower())
        if at is not None:
            layout[column.key] = f"'{column.header}' ({get_column_letter(at + 1)})"
        elif column.required:
            errors.append(
                CellError.at(sheet.name, 1, f"'{column.header}'", "the column is missing")
            )
    values = list(frame.itertuples(index=False, name=None))
    for at, header in enumerate(headers):
        if header.lower() in known or header.lower().startswith(NOTE_PREFIX):
            continue
        if all(_blank(row[at]) for row in values):
            continue  # an empty stray column loses nothing
        letter = get_column_letter(at + 1)
        problem = (
            "has values but no header"
            if header.startswith("Unnamed:")
            else "is not a column of this sheet (see the README sheet); for notes of your "
            "own, start the header with 'Note'"
        )
        shown = f"({letter})" if header.startswith("Unnamed:") else f"'{header}' ({letter})"
        errors.append(CellError.at(sheet.name, 1, shown, problem))
    parsed: list[tuple[int, dict[str, Any]]] = []
    for index, row in enumerate(values):
        if all(_blank(v) for at, v in enumerate(row) if not _is_note(headers[at])):
            continue
        parsed.append((index + 2, _parse_row(sheet, row, position, index + 2, errors)))
    return parsed


def _is_note(header: str) -> bool:
    return header.lower().startswith(NOTE_PREFIX)


def _parse_row(
    sheet: Sheet,
    row: tuple[Any, ...],
    position: dict[str, int],
    row_number: int,
    errors: list[CellError],
) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for column in sheet.columns:
        at = position.get(column.header.lower())
        value = None if at is None else row[at]
        if _blank(value):
            if column.required and at is not None:
                errors.append(_cell(sheet, row_number, column, at, "is empty; it is required"))
            continue
        try:
            item[column.key] = column.parse(value)
        except ValueError as exc:
            errors.append(_cell(sheet, row_number, column, at or 0, str(exc)))
    return item


def _cell(sheet: Sheet, row: int, column: Column, at: int, problem: str) -> CellError:
    return CellError.at(
        sheet.name, row, f"'{column.header}' ({get_column_letter(at + 1)})", problem
    )


def _blank(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


# ----------------------------------------------------------------------- across rows

# Sheets sharing one set of IDs, and the columns that together name a row.
_UNIQUE: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("localities",), ("locality_id",)),
    (("cases",), ("case_id",)),
    (("units",), ("unit_id",)),
    (("beds",), ("bed_id",)),
    (("night staff",), ("unit_id", "night")),
    (("providers",), ("provider_id",)),
    (("stay requests", "sitting requests"), ("request_id",)),
    (("budgets",), ("budget_id",)),
    (("bookings",), ("booking_id",)),
)


def _duplicate_rows(rows: dict[str, Any], layout: Layout, errors: list[CellError]) -> None:
    """Every row repeating the ID of an earlier row, named with where it was first."""
    for sheets, keys in _UNIQUE:
        seen: dict[tuple[str, ...], tuple[str, int]] = {}
        for sheet in sheets:
            for row_number, item in rows[sheet]:
                if any(key not in item for key in keys):
                    continue  # its cell is reported already
                ident = tuple(str(item[key]) for key in keys)
                if ident not in seen:
                    seen[ident] = (sheet, row_number)
                    continue
                first_sheet, first_row = seen[ident]
                there = "" if first_sheet == sheet else f" of sheet '{first_sheet}'"
                shown = ", ".join(f"'{part}'" for part in ident)
                verb = "is" if len(ident) == 1 else "are"
                problem = f"{shown} {verb} already on row {first_row}{there}; list each once"
                errors.append(CellError.at(sheet, row_number, layout[sheet][keys[-1]], problem))


# child sheet -> (its column naming the parent, the parent's sheet)
_PARENTS = {
    "beds": ("unit_id", "units"),
    "night staff": ("unit_id", "units"),
    "rotas": ("provider_id", "providers"),
    "visits": ("request_id", "sitting requests"),
}


def _orphans(rows: dict[str, Any], layout: Layout, errors: list[CellError]) -> None:
    """Rows of child sheets whose parent is on no row of its sheet."""
    for sheet, (key, parent_sheet) in _PARENTS.items():
        parents = {str(item.get(key)) for _, item in rows[parent_sheet]}
        for row_number, item in rows[sheet]:
            if key in item and str(item[key]) not in parents:
                problem = f"'{item[key]}' is not on the '{parent_sheet}' sheet"
                errors.append(CellError.at(sheet, row_number, layout[sheet][key], problem))


# (sheet, column key, the sheets whose first column's IDs it may name, what they are)
_REFERENCES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    ("cases", "locality_id", ("localities",), "a locality"),
    ("cases", "incompatible_with", ("cases",), "a case"),
    ("cases", "previous_unit_id", ("units",), "a unit"),
    ("cases", "previous_provider_id", ("providers",), "a provider"),
    ("units", "locality_id", ("localities",), "a locality"),
    ("providers", "localities", ("localities",), "a locality"),
    ("stay requests", "case_id", ("cases",), "a case"),
    ("stay requests", "preferred_units", ("units",), "a unit"),
    ("sitting requests", "case_id", ("cases",), "a case"),
    ("budgets", "applies_to", ("units", "providers"), "a unit or provider"),
    ("bookings", "case_id", ("cases",), "a case"),
    ("bookings", "request_id", ("stay requests", "sitting requests"), "a request"),
    ("bookings", "unit_id", ("units",), "a unit"),
    ("bookings", "bed_id", ("beds",), "a bed"),
    ("bookings", "provider_id", ("providers",), "a provider"),
)
_ID_KEY = {
    "localities": "locality_id",
    "cases": "case_id",
    "units": "unit_id",
    "beds": "bed_id",
    "providers": "provider_id",
    "stay requests": "request_id",
    "sitting requests": "request_id",
}


def _dangling(rows: dict[str, Any], layout: Layout, errors: list[CellError]) -> None:
    """Cells naming an ID that is on no row of the sheet(s) it refers to."""
    for sheet, key, targets, what in _REFERENCES:
        known = {str(item.get(_ID_KEY[t])) for t in targets for _, item in rows[t]}
        for row_number, item in rows[sheet]:
            value = item.get(key)
            for name in value if isinstance(value, list) else [] if value is None else [value]:
                if str(name) not in known:
                    sheets = " or ".join(f"'{t}'" for t in targets)
                    problem = f"'{name}' is not {what} (on no row of the {sheets} sheet)"
                    errors.append(CellError.at(sheet, row_number, layout[sheet][key], problem))


def _visit_rows_agree(rows: dict[str, Any], layout: Layout, errors: list[CellError]) -> None:
    """The rows of one visit (one per window) must give it the same length."""
    first: dict[tuple[str, str], tuple[int, int]] = {}
    for row_number, item in rows["visits"]:
        if not {"request_id", "visit_id", "minutes"} <= item.keys():
            continue
        visit = (item["request_id"], item["visit_id"])
        minutes = first.setdefault(visit, (row_number, item["minutes"]))
        if minutes[1] != item["minutes"]:
            problem = (
                f"{item['minutes']} here but {minutes[1]} on row {minutes[0]} for the same "
                f"visit {visit[1]} of request {visit[0]}; a visit has one length"
            )
            errors.append(CellError.at("visits", row_number, layout["visits"]["minutes"], problem))


# -------------------------------------------------------------------------- assembling


# Where each part of the problem came from, for placing the problem's own errors: its
# location in the problem file (as ProblemError.path has it) -> the sheet, the row, and
# the column of an error about the part as a whole (a night's staff), if any.
Place = tuple[str, int, str | None]
Places = dict[Location, Place]


def _assemble(
    rows: dict[str, list[tuple[int, dict[str, Any]]]], errors: list[CellError]
) -> tuple[dict[str, Any], Places]:
    places: Places = {}
    settings = rows["settings"]
    if len(settings) != 1:
        errors.append(
            CellError.at("settings", None, None, f"needs exactly one row, has {len(settings)}")
        )
        return {}, places
    row_number, setting = settings[0]
    places.update(_setting_places(row_number))
    weights = {k.removeprefix("weight."): v for k, v in setting.items() if k.startswith("weight.")}
    policy = {k.removeprefix("policy."): v for k, v in setting.items() if k.startswith("policy.")}
    data: dict[str, Any] = {
        "horizon": {
            "first_night": setting["first_night"],
            "last_night": setting["last_night"],
        },
        "week_start": setting["week_start"],
        "localities": _placed(places, ("localities",), "localities", rows["localities"]),
        "cases": [_case(item) for item in _placed(places, ("cases",), "cases", rows["cases"])],
        "units": _units(rows, places),
        "providers": _providers(rows, places),
        "requests": _requests(rows, places),
        "budgets": _placed(places, ("budgets",), "budgets", rows["budgets"]),
        "bookings": [
            _booking(item) for item in _placed(places, ("bookings",), "bookings", rows["bookings"])
        ],
        "policy": policy,
        "weights": weights,
    }
    if "planned_on" in setting:  # blank: the first night (a v1 workbook has no column)
        data["planned_on"] = setting["planned_on"]
    return data, places


def _setting_places(row: int) -> Places:
    places: Places = {
        ("horizon",): ("settings", row, None),
        ("week_start",): ("settings", row, "week_start"),
        ("planned_on",): ("settings", row, "planned_on"),
        ("policy",): ("settings", row, None),
        ("weights",): ("settings", row, None),
    }
    for _, key, _ in (*WEIGHT_COLUMNS, *WEIGHT_NUMBER_COLUMNS):
        places[("weights", key)] = ("settings", row, f"weight.{key}")
    for _, key, _, _ in POLICY_COLUMNS:
        places[("policy", key)] = ("settings", row, f"policy.{key}")
    return places


def _placed(
    places: Places, at: Location, sheet: str, numbered: list[tuple[int, Any]], start: int = 0
) -> list[Any]:
    """The items of ``numbered`` (row, item), the list ``at`` of the problem from position
    ``start`` on: each item's place is its row of ``sheet``."""
    for position, (row_number, _) in enumerate(numbered, start):
        places[(*at, position)] = (sheet, row_number, None)
    return [item for _, item in numbered]


def _case(item: dict[str, Any]) -> dict[str, Any]:
    case = {k: v for k, v in item.items() if k not in ("lat", "lon")}
    case["home"] = {"lat": item.get("lat"), "lon": item.get("lon")}
    return case


def _units(rows: dict[str, Any], places: Places) -> list[dict[str, Any]]:
    beds: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for row_number, bed in rows["beds"]:
        beds[bed["unit_id"]].append((row_number, {k: v for k, v in bed.items() if k != "unit_id"}))
    staff: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for row_number, night in rows["night staff"]:
        staff[night["unit_id"]][night["night"]] = (row_number, night["staff"])
    units = []
    for at, item in enumerate(_placed(places, ("units",), "units", rows["units"])):
        unit = {k: v for k, v in item.items() if k not in ("lat", "lon")}
        unit["location"] = {"lat": item.get("lat"), "lon": item.get("lon")}
        unit["beds"] = _placed(places, ("units", at, "beds"), "beds", beds[item["unit_id"]])
        nights = staff.get(item["unit_id"], {})
        for night, (row_number, _) in nights.items():
            places[("units", at, "night_staff", night)] = ("night staff", row_number, "staff")
        unit["night_staff"] = {night: count for night, (_, count) in nights.items()}
        units.append(unit)
    return units


def _providers(rows: dict[str, Any], places: Places) -> list[dict[str, Any]]:
    rota: dict[str, dict[str, list[tuple[int, dict[str, Any]]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row_number, shift in rows["rotas"]:
        rota[shift["provider_id"]][shift["weekday"]].append(
            (row_number, {"start": shift["start"], "end": shift["end"], "count": shift["count"]})
        )
    providers = []
    for at, item in enumerate(_placed(places, ("providers",), "providers", rows["providers"])):
        provider = {k: v for k, v in item.items() if k not in ("lat", "lon")}
        provider["base"] = {"lat": item.get("lat"), "lon": item.get("lon")}
        provider["sitters"] = {
            weekday: _placed(places, ("providers", at, "sitters", weekday), "rotas", shifts)
            for weekday, shifts in rota.get(item["provider_id"], {}).items()
        }
        providers.append(provider)
    return providers


def _requests(rows: dict[str, Any], places: Places) -> list[dict[str, Any]]:
    stays = [
        {**item, "kind": "stay"}
        for item in _placed(places, ("requests",), "stay requests", rows["stay requests"])
    ]
    windows = _windows(rows["visits"])
    sittings = []
    first = len(stays)  # the sitting requests follow the stay requests
    for at, item in enumerate(
        _placed(places, ("requests",), "sitting requests", rows["sitting requests"], first), first
    ):
        visits = windows.get(item["request_id"], {}).values()
        placed = [
            _visit(places, ("requests", at, "visits", v), visit_rows)
            for v, visit_rows in enumerate(visits)
        ]
        sittings.append({**item, "kind": "sitting", "visits": placed})
    return [*stays, *sittings]


def _windows(
    visit_rows: list[tuple[int, dict[str, Any]]],
) -> dict[str, dict[str, list[tuple[int, dict[str, Any]]]]]:
    """The rows of 'visits' by request and visit, in the order first listed."""
    windows: dict[str, dict[str, list[tuple[int, dict[str, Any]]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row_number, row in visit_rows:
        windows[row["request_id"]][row["visit_id"]].append((row_number, row))
    return windows


def _visit(places: Places, at: Location, rows: list[tuple[int, dict[str, Any]]]) -> dict[str, Any]:
    """A visit from its rows of 'visits', one per window (its length is on each, the same):
    placed on its first row, each window on its own."""
    first_row, first = rows[0]
    places[at] = ("visits", first_row, None)
    windows = _placed(places, (*at, "windows"), "visits", rows)
    return {
        "visit_id": first["visit_id"],
        "minutes": first["minutes"],
        "windows": [{"day": w["day"], "start": w["start"], "end": w["end"]} for w in windows],
    }


def _booking(item: dict[str, Any]) -> dict[str, Any]:
    stay = ("unit_id", "bed_id", "first_night", "nights", "extra_night_staff")
    visit = ("visit_id", "provider_id", "day", "start", "minutes", "sitters")
    keep = stay if item.get("kind") == "stay" else visit
    base = ("booking_id", "request_id", "case_id", "status")
    return {k: v for k, v in item.items() if k in base or k in keep}


# ------------------------------------------------- the problem's own errors, placed


def _locate(error: ProblemError, places: Places, layout: Layout) -> CellError:
    """A problem-level error, placed on the row of the part of the file it is in, and on
    the column of its field (the last name in its location after that part)."""
    for cut in range(len(error.path), 0, -1):
        place = places.get(error.path[:cut])
        if place is not None:
            sheet, row, column = place
            named = [part for part in error.path[cut:] if isinstance(part, str)]
            key = named[-1] if named else column
            return CellError.placed(error, sheet, row, layout[sheet].get(key or ""))
    return CellError.placed(error, "workbook", None, None)


# ---------------------------------------------------------------------------- writing


def problem_to_frames(problem: Problem) -> dict[str, pd.DataFrame]:
    """The problem as sheets (the inverse of :func:`problem_from_workbook`)."""
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    items["settings"].append(
        {
            "first_night": problem.horizon.first_night,
            "last_night": problem.horizon.last_night,
            "week_start": problem.week_start,
            "planned_on": problem.planned_on,
            **{f"policy.{k}": _listed(v) for k, v in problem.policy.model_dump().items()},
            **{f"weight.{k}": v for k, v in problem.weights.model_dump().items()},
        }
    )
    items["localities"] = [loc.model_dump() for loc in problem.localities]
    for case in problem.cases:
        row = case.model_dump(exclude={"home"})
        row["eligible"] = row["eligible"] or "none"  # blank would mean both
        items["cases"].append({**row, "lat": case.home.lat, "lon": case.home.lon})
    for unit in problem.units:
        row = unit.model_dump(exclude={"location", "beds", "night_staff"})
        items["units"].append({**row, "lat": unit.location.lat, "lon": unit.location.lon})
        items["beds"] += [{"unit_id": unit.unit_id, **bed.model_dump()} for bed in unit.beds]
        items["night staff"] += [
            {"unit_id": unit.unit_id, "night": night, "staff": staff}
            for night, staff in sorted(unit.night_staff.items())
        ]
    for provider in problem.providers:
        row = provider.model_dump(exclude={"base", "sitters"})
        items["providers"].append({**row, "lat": provider.base.lat, "lon": provider.base.lon})
        for weekday, shifts in provider.sitters.items():
            items["rotas"] += [
                {"provider_id": provider.provider_id, "weekday": weekday, **s.model_dump()}
                for s in shifts
            ]
    for request in problem.requests:
        if request.kind == "stay":
            items["stay requests"].append(request.model_dump(exclude={"kind"}))
            continue
        items["sitting requests"].append(request.model_dump(exclude={"kind", "visits"}))
        for visit in request.visits:
            for window in visit.windows:
                items["visits"].append(
                    {
                        "request_id": request.request_id,
                        "visit_id": visit.visit_id,
                        "minutes": visit.minutes,
                        **window.model_dump(),
                    }
                )
    items["budgets"] = [budget.model_dump() for budget in problem.budgets]
    for booking in problem.bookings:
        kind = "stay" if isinstance(booking, StayBooking) else "visit"
        items["bookings"].append({"kind": kind, **booking.model_dump()})
    return {sheet.name: _frame(sheet, items[sheet.name]) for sheet in SHEETS}


def _listed(value: Any) -> Any:
    """A policy value as its cell: an empty list is ``none`` (a blank cell is the default)."""
    return "none" if value == [] else value


def _frame(sheet: Sheet, items: Iterable[dict[str, Any]]) -> pd.DataFrame:
    rows = [[_cell_value(item.get(column.key)) for column in sheet.columns] for item in items]
    return pd.DataFrame(rows, columns=[column.header for column in sheet.columns], dtype=object)


def _cell_value(value: Any) -> Any:
    if isinstance(value, list):
        return f"{LIST_SEPARATOR} ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


HOW_TO = (
    "Row 1 of every sheet holds its column headers: keep them (their order does not "
    "matter). One row per item; blank rows are skipped.",
    "Each sheet holds a small example that imports as it is: replace its rows with yours.",
    f"Lists go in one cell, separated by '{LIST_SEPARATOR}' (e.g. hoist; bariatric).",
    "Dates are YYYY-MM-DD (or DD/MM/YYYY), times HH:MM on the 24-hour clock "
    "(Europe/London), money in whole pence, yes/no cells yes or no.",
    "Things that hold lists of other things have their own sheet, one row each: beds "
    "(of units), night staff (nights off the default), rotas (a provider's shifts), "
    "visits (one row per window of a sitting visit).",
    "The sheets night staff, sitting requests, visits, budgets and bookings may be empty "
    "or left out.",
    "The settings row also holds the council's policy (the 'Policy: ...' columns: who "
    "draws on no allowance, who may have a spot bed, sitting banked, when a crisis "
    "reserve opens, how long an offer holds) and the planning date; a blank cell keeps "
    "the default, 'none' empties a list.",
    "A workbook made before these columns (policy, planning date, allowance year, banked "
    "and recent sitting, contributions, block cost, crisis reserve, agency staff, "
    "exceptional requests, booking status) still imports: each missing one takes its "
    "default.",
    "A column whose header starts with 'Note' is yours: import ignores it. Any other "
    "header not listed below is refused, so that a misspelt one never loses data.",
    "As CSV: a .zip holding one UTF-8 '<sheet>.csv' per sheet (e.g. 'stay requests.csv') "
    "with the same headers; the command line also reads a directory of them.",
    "Import checks everything and imports nothing if anything is wrong; every mistake "
    "is listed by sheet, row and column. This README sheet is ignored.",
)


def template_frames(example: Problem) -> dict[str, pd.DataFrame]:
    """The template: a README sheet, then ``example``'s sheets.

    The README starts with how to fill it in, then describes every column of every
    sheet: its kind, whether it is required, notes, and the example's first value.
    """
    frames = problem_to_frames(example)
    readme = [
        {"Sheet": "(all)", "Column": "", "Kind": "", "Required": "", "Notes": line, "Example": ""}
        for line in HOW_TO
    ]
    for sheet in SHEETS:
        first = frames[sheet.name].iloc[0] if len(frames[sheet.name]) else None
        readme += [
            {
                "Sheet": sheet.name,
                "Column": column.header,
                "Kind": column.kind,
                "Required": "yes" if column.required else "no",
                "Notes": column.help or sheet.help,
                "Example": ""
                if first is None or _blank(first[column.header])
                else first[column.header],
            }
            for column in sheet.columns
        ]
    return {"README": pd.DataFrame(readme, dtype=object), **frames}


def write_xlsx(frames: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook of ``frames`` (sheet name -> table), header row frozen.

    Every text cell is written as text, never as a formula (a value starting with
    ``=`` stays that text), without the control characters XLSX cannot hold.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, frame in frames.items():
        worksheet = workbook.create_sheet(name[:31])
        for column, header in enumerate(frame.columns, start=1):
            _put(worksheet, 1, column, str(header))
            worksheet.column_dimensions[get_column_letter(column)].width = max(
                12, len(str(header)) + 2
            )
        for row, values in enumerate(frame.itertuples(index=False, name=None), start=2):
            for column, value in enumerate(values, start=1):
                _put(worksheet, row, column, value)
        worksheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _put(worksheet: Any, row: int, column: int, value: Any) -> None:
    if _blank(value):
        return
    if hasattr(value, "item") and not isinstance(value, str):  # a NumPy scalar
        value = value.item()
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = worksheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even when it starts with '='


def write_csv_zip(frames: dict[str, pd.DataFrame]) -> bytes:
    """A .zip holding ``<sheet>.csv`` for each of ``frames``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in frames.items():
            archive.writestr(f"{name}.csv", frame.to_csv(index=False))
    return buffer.getvalue()


# ------------------------------------------------------------------- plans and bookings


PLAN_COLUMNS = {
    "stays": [
        "Request ID",
        "Case ID",
        "Unit ID",
        "Unit",
        "Bed ID",
        "Check-in",
        "Check-out",
        "Nights",
        "Extra night staff",
    ],
    "visits": [
        "Request ID",
        "Visit ID",
        "Case ID",
        "Provider ID",
        "Provider",
        "Day",
        "Start",
        "Minutes",
        "Sitters",
    ],
    "agency staff": ["Unit ID", "Unit", "Night", "Agency staff", "Cost (pence)"],
    "unmet": ["Request ID", "Visit ID", "Reason", "Detail", "Alternative", "Alternative relaxes"],
}


def plan_frames(problem: Problem, plan: Any) -> dict[str, pd.DataFrame]:
    """A plan as readable sheets: stays (with the agency night staff each brings), visits,
    the agency staff added per unit and night, and unmet requests with the alternative
    offered and what of the request it asks to change."""
    units = problem.unit_by_id()
    providers = problem.provider_by_id()
    stays = [
        {
            "Request ID": s.request_id,
            "Case ID": s.case_id,
            "Unit ID": s.unit_id,
            "Unit": units[s.unit_id].name if s.unit_id in units else "",
            "Bed ID": s.bed_id,
            "Check-in": s.first_night.isoformat(),
            "Check-out": (s.first_night + dt.timedelta(days=s.nights)).isoformat(),
            "Nights": s.nights,
            "Extra night staff": s.extra_night_staff,
        }
        for s in plan.stays
    ]
    agency = [
        {
            "Unit ID": extra.unit_id,
            "Unit": units[extra.unit_id].name if extra.unit_id in units else "",
            "Night": extra.night.isoformat(),
            "Agency staff": extra.count,
            "Cost (pence)": extra.count * units[extra.unit_id].extra_night_staff_cost_pence
            if extra.unit_id in units
            else None,
        }
        for extra in plan.extra_staff
    ]
    visits = [
        {
            "Request ID": v.request_id,
            "Visit ID": v.visit_id,
            "Case ID": v.case_id,
            "Provider ID": v.provider_id,
            "Provider": providers[v.provider_id].name if v.provider_id in providers else "",
            "Day": v.day.isoformat(),
            "Start": v.start,
            "Minutes": v.minutes,
            "Sitters": v.sitters,
        }
        for v in plan.visits
    ]
    unmet = [
        {
            "Request ID": u.request_id,
            "Visit ID": u.visit_id or "",
            "Reason": u.reason,
            "Detail": u.detail,
            "Alternative": u.alternative.text if u.alternative else "",
            "Alternative relaxes": f"{LIST_SEPARATOR} ".join(u.alternative.relaxes)
            if u.alternative
            else "",
        }
        for u in plan.unmet
    ]
    rows = {"stays": stays, "visits": visits, "agency staff": agency, "unmet": unmet}
    return {
        name: pd.DataFrame(rows[name], columns=columns) for name, columns in PLAN_COLUMNS.items()
    }


def bookings_frame(bookings: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Bookings (as the API lists them) with readable column names."""
    columns = {
        "booking_id": "Booking ID",
        "kind": "Kind",
        "status": "Status",
        "version": "Version",
        "request_id": "Request ID",
        "case_id": "Case ID",
        "unit_id": "Unit ID",
        "bed_id": "Bed ID",
        "first_night": "First night",
        "nights": "Nights",
        "visit_id": "Visit ID",
        "provider_id": "Provider ID",
        "day": "Day",
        "start": "Start",
        "minutes": "Minutes",
        "sitters": "Sitters",
        "extra_night_staff": "Extra night staff",
        "run_id": "Run ID",
        "updated_at": "Last changed",
    }
    rows = [{label: booking.get(key) for key, label in columns.items()} for booking in bookings]
    return pd.DataFrame(rows, columns=list(columns.values()))
