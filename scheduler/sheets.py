"""Problems in spreadsheets: the template, import with every bad cell named, export.

A workbook has one sheet per kind of thing, one row per item, readable column
headers, and lists in one cell separated by ``;`` (e.g. bed features
``hoist; bariatric``). The same sheets travel as CSV in a zip, one
``<sheet>.csv`` per sheet. The ``README`` sheet describes every column; import
ignores it.

Import reads every cell, collects *all* mistakes as :class:`CellError` (sheet,
row as the spreadsheet shows it, column header and letter, problem), and only
then builds the :class:`~scheduler.model.Problem`; the problem's own
cross-reference checks are mapped back to the row of the item they name.
Nothing is returned unless everything is right.
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
from openpyxl.utils import get_column_letter

from scheduler.io import load_problem
from scheduler.model import WEEKDAYS, InvalidProblem, Problem

__all__ = [
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
class CellError:
    sheet: str
    row: int | None  # as the spreadsheet shows it (the header is row 1)
    column: str | None  # header, with its letter
    problem: str

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


def _one_of(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _text(value)
        if text not in choices:
            raise ValueError(f"'{text}' is not one of {', '.join(choices)}")
        return text

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


PRIORITY = _one_of("crisis", "health_appointment", "planned")
SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "settings",
        (
            _c("First night", "first_night", _date, help="first night of the horizon"),
            _c("Last night", "last_night", _date, help="last night of the horizon"),
            _c("Week start", "week_start", _date, help="Monday of the sitting week planned"),
        ),
        "One row: the dates the allocation covers.",
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
            _c("Nights used", "nights_used", _integer, False, "this year so far"),
            _c("Sitting hours per week", "sitting_hours_per_week", _number, False),
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
        ),
        "Confirmed bookings, which every allocation keeps.",
    ),
)
SHEET_BY_NAME = {sheet.name: sheet for sheet in SHEETS}
OPTIONAL_SHEETS = {"night staff", "budgets", "bookings", "sitting requests", "visits"}


# ---------------------------------------------------------------------------- reading


def read_workbook(
    source: bytes | str | Path, filename: str | None = None
) -> dict[str, pd.DataFrame]:
    """The sheets of an .xlsx workbook or a .zip of CSV files, every cell as read.

    Raises
    ------
    InvalidSpreadsheet
        The file is neither, or cannot be opened.
    """
    data = Path(source).read_bytes() if isinstance(source, str | Path) else source
    name = str(filename or source if isinstance(source, str | Path) else filename or "")
    try:
        if data[:2] == b"PK" and _is_xlsx(data):
            frames = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, header=0)
            return {str(k).strip().lower(): v for k, v in frames.items()}
        if data[:2] == b"PK":
            return _read_csv_zip(data)
    except InvalidSpreadsheet:
        raise
    except Exception as exc:  # openpyxl and zipfile raise many kinds on a broken file
        raise InvalidSpreadsheet(
            [CellError(name or "file", None, None, f"cannot be read ({exc})")]
        ) from None
    raise InvalidSpreadsheet(
        [CellError(name or "file", None, None, "is not an .xlsx workbook or a .zip of CSV files")]
    )


def _is_xlsx(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "[Content_Types].xml" in archive.namelist()


def _read_csv_zip(data: bytes) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.namelist():
            if not member.lower().endswith(".csv") or member.startswith("__MACOSX"):
                continue
            sheet = Path(member).stem.strip().lower()
            with archive.open(member) as handle:
                frames[sheet] = pd.read_csv(
                    handle, dtype=str, keep_default_na=False, encoding="utf-8-sig"
                )
    return frames


def problem_from_workbook(frames: dict[str, pd.DataFrame]) -> Problem:
    """Build the problem from the sheets; every mistake is collected first.

    Raises
    ------
    InvalidSpreadsheet
        With one :class:`CellError` per bad cell (or missing sheet or column).
    """
    errors: list[CellError] = []
    rows: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for sheet in SHEETS:
        frame = frames.get(sheet.name)
        if frame is None:
            if sheet.name not in OPTIONAL_SHEETS:
                errors.append(CellError(sheet.name, None, None, "the sheet is missing"))
            rows[sheet.name] = []
            continue
        rows[sheet.name] = _parse_sheet(sheet, frame, errors)
    if errors:
        raise InvalidSpreadsheet(errors)
    data, where = _assemble(rows, errors)
    if errors:
        raise InvalidSpreadsheet(errors)
    try:
        return load_problem(data)
    except InvalidProblem as exc:
        raise InvalidSpreadsheet([_locate(line, where) for line in exc.errors]) from None


def _parse_sheet(
    sheet: Sheet, frame: pd.DataFrame, errors: list[CellError]
) -> list[tuple[int, dict[str, Any]]]:
    headers = [str(h).strip() for h in frame.columns]
    position = {header.lower(): i for i, header in enumerate(headers)}
    for column in sheet.columns:
        if column.required and column.header.lower() not in position:
            errors.append(CellError(sheet.name, 1, f"'{column.header}'", "the column is missing"))
    parsed: list[tuple[int, dict[str, Any]]] = []
    for index, values in enumerate(frame.itertuples(index=False, name=None)):
        row_number = index + 2
        if all(_blank(v) for v in values):
            continue
        item: dict[str, Any] = {}
        for column in sheet.columns:
            at = position.get(column.header.lower())
            value = None if at is None else values[at]
            if _blank(value):
                if column.required and at is not None:
                    errors.append(_cell(sheet, row_number, column, at, "is empty; it is required"))
                continue
            try:
                item[column.key] = column.parse(value)
            except ValueError as exc:
                errors.append(_cell(sheet, row_number, column, at or 0, str(exc)))
        parsed.append((row_number, item))
    return parsed


def _cell(sheet: Sheet, row: int, column: Column, at: int, problem: str) -> CellError:
    return CellError(sheet.name, row, f"'{column.header}' ({get_column_letter(at + 1)})", problem)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


# -------------------------------------------------------------------------- assembling


ItemRows = dict[tuple[str, str], tuple[str, int]]  # (noun, id) -> (sheet, row)


def _assemble(
    rows: dict[str, list[tuple[int, dict[str, Any]]]], errors: list[CellError]
) -> tuple[dict[str, Any], ItemRows]:
    where: ItemRows = {}
    settings = [item for _, item in rows["settings"]]
    if len(settings) != 1:
        errors.append(
            CellError("settings", None, None, f"needs exactly one row, has {len(settings)}")
        )
        return {}, where
    data: dict[str, Any] = {
        "horizon": {
            "first_night": settings[0]["first_night"],
            "last_night": settings[0]["last_night"],
        },
        "week_start": settings[0]["week_start"],
        "localities": _items(rows, "localities", "locality", "locality_id", where),
        "cases": [_case(item) for item in _items(rows, "cases", "case", "case_id", where)],
        "units": _units(rows, where),
        "providers": _providers(rows, where),
        "requests": _requests(rows, where),
        "budgets": _items(rows, "budgets", "budget", "budget_id", where),
        "bookings": [
            _booking(item) for item in _items(rows, "bookings", "booking", "booking_id", where)
        ],
    }
    _orphans(rows, where, errors)
    return data, where


# child sheet -> (its column naming the parent, key, the parent's noun, the parent's sheet)
_PARENTS = {
    "beds": ("Unit ID", "unit_id", "unit", "units"),
    "night staff": ("Unit ID", "unit_id", "unit", "units"),
    "rotas": ("Provider ID", "provider_id", "provider", "providers"),
    "visits": ("Request ID", "request_id", "request", "sitting requests"),
}


def _orphans(rows: dict[str, Any], where: ItemRows, errors: list[CellError]) -> None:
    """Rows of child sheets whose parent is on no row of its sheet."""
    for sheet, (header, key, noun, parent_sheet) in _PARENTS.items():
        for row_number, item in rows[sheet]:
            parent = (noun, str(item.get(key)))
            if parent not in where or where[parent][0] != parent_sheet:
                problem = f"'{item.get(key)}' is not on the '{parent_sheet}' sheet"
                errors.append(CellError(sheet, row_number, f"'{header}'", problem))


def _items(
    rows: dict[str, Any], sheet: str, noun: str, key: str, where: ItemRows
) -> list[dict[str, Any]]:
    for row_number, item in rows[sheet]:
        where.setdefault((noun, str(item.get(key))), (sheet, row_number))
    return [item for _, item in rows[sheet]]


def _case(item: dict[str, Any]) -> dict[str, Any]:
    case = {k: v for k, v in item.items() if k not in ("lat", "lon")}
    case["home"] = {"lat": item.get("lat"), "lon": item.get("lon")}
    return case


def _units(rows: dict[str, Any], where: ItemRows) -> list[dict[str, Any]]:
    beds: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row_number, bed in rows["beds"]:
        where.setdefault(("bed", str(bed.get("bed_id"))), ("beds", row_number))
        beds[bed.get("unit_id", "")].append({k: v for k, v in bed.items() if k != "unit_id"})
    staff: dict[str, dict[str, int]] = defaultdict(dict)
    for _, night in rows["night staff"]:
        staff[night.get("unit_id", "")][night["night"]] = night["staff"]
    units = []
    for item in _items(rows, "units", "unit", "unit_id", where):
        unit = {k: v for k, v in item.items() if k not in ("lat", "lon")}
        unit["location"] = {"lat": item.get("lat"), "lon": item.get("lon")}
        unit["beds"] = beds.get(item["unit_id"], [])
        unit["night_staff"] = staff.get(item["unit_id"], {})
        units.append(unit)
    return units


def _providers(rows: dict[str, Any], where: ItemRows) -> list[dict[str, Any]]:
    rota: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for _, shift in rows["rotas"]:
        rota[shift.get("provider_id", "")][shift["weekday"]].append(
            {"start": shift["start"], "end": shift["end"], "count": shift["count"]}
        )
    providers = []
    for item in _items(rows, "providers", "provider", "provider_id", where):
        provider = {k: v for k, v in item.items() if k not in ("lat", "lon")}
        provider["base"] = {"lat": item.get("lat"), "lon": item.get("lon")}
        provider["sitters"] = dict(rota.get(item["provider_id"], {}))
        providers.append(provider)
    return providers


def _requests(rows: dict[str, Any], where: ItemRows) -> list[dict[str, Any]]:
    stays = [
        {**item, "kind": "stay"}
        for item in _items(rows, "stay requests", "request", "request_id", where)
    ]
    windows: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for _, row in rows["visits"]:
        visit = windows[row.get("request_id", "")].setdefault(
            row["visit_id"], {"visit_id": row["visit_id"], "minutes": row["minutes"], "windows": []}
        )
        visit["windows"].append({"day": row["day"], "start": row["start"], "end": row["end"]})
    sittings = []
    for item in _items(rows, "sitting requests", "request", "request_id", where):
        visits = list(windows.get(item["request_id"], {}).values())
        sittings.append({**item, "kind": "sitting", "visits": visits})
    return [*stays, *sittings]


def _booking(item: dict[str, Any]) -> dict[str, Any]:
    stay = ("unit_id", "bed_id", "first_night", "nights")
    visit = ("visit_id", "provider_id", "day", "start", "minutes", "sitters")
    keep = stay if item.get("kind") == "stay" else visit
    base = ("booking_id", "request_id", "case_id")
    return {k: v for k, v in item.items() if k in base or k in keep}


_NAMED = re.compile(r"^(locality|case|unit|provider|request|budget|booking|bed) ([^:\s]+)[:\s]")
_LISTED = re.compile(r"^(localities|cases|units|providers|requests|budgets|bookings)\[(\d+)\]")


def _locate(line: str, where: ItemRows) -> CellError:
    """A problem-level error, placed on the row of the item it names where possible."""
    match = _NAMED.match(line)
    if match and (match.group(1), match.group(2)) in where:
        sheet, row = where[(match.group(1), match.group(2))]
        return CellError(sheet, row, None, line)
    return CellError("workbook", None, None, line)


# ---------------------------------------------------------------------------- writing


def problem_to_frames(problem: Problem) -> dict[str, pd.DataFrame]:
    """The problem as sheets (the inverse of :func:`problem_from_workbook`)."""
    items: dict[str, list[dict[str, Any]]] = defaultdict(list)
    items["settings"].append(
        {
            "first_night": problem.horizon.first_night,
            "last_night": problem.horizon.last_night,
            "week_start": problem.week_start,
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
        kind = "stay" if hasattr(booking, "bed_id") else "visit"
        items["bookings"].append({"kind": kind, **booking.model_dump()})
    return {sheet.name: _frame(sheet, items[sheet.name]) for sheet in SHEETS}


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


def template_frames(example: Problem) -> dict[str, pd.DataFrame]:
    """The template: a README sheet describing every column, then ``example``'s sheets."""
    readme = [
        {
            "Sheet": sheet.name,
            "Column": column.header,
            "Kind": column.kind,
            "Required": "yes" if column.required else "no",
            "Notes": column.help or sheet.help,
        }
        for sheet in SHEETS
        for column in sheet.columns
    ]
    return {"README": pd.DataFrame(readme), **problem_to_frames(example)}


def write_xlsx(frames: dict[str, pd.DataFrame]) -> bytes:
    """An .xlsx workbook of ``frames`` (sheet name -> table), header row frozen."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
            worksheet = writer.sheets[name[:31]]
            worksheet.freeze_panes = "A2"
            for i, header in enumerate(frame.columns, start=1):
                worksheet.column_dimensions[get_column_letter(i)].width = max(
                    12, len(str(header)) + 2
                )
    return buffer.getvalue()


def write_csv_zip(frames: dict[str, pd.DataFrame]) -> bytes:
    """A .zip holding ``<sheet>.csv`` for each of ``frames``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, frame in frames.items():
            archive.writestr(f"{name}.csv", frame.to_csv(index=False))
    return buffer.getvalue()


# ------------------------------------------------------------------- plans and bookings


def plan_frames(problem: Problem, plan: Any) -> dict[str, pd.DataFrame]:
    """A plan as readable sheets: stays, visits and unmet requests."""
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
        }
        for s in plan.stays
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
            "Alternative": u.alternative or "",
        }
        for u in plan.unmet
    ]
    return {
        "stays": pd.DataFrame(
            stays,
            columns=[
                "Request ID",
                "Case ID",
                "Unit ID",
                "Unit",
                "Bed ID",
                "Check-in",
                "Check-out",
                "Nights",
            ],
        ),
        "visits": pd.DataFrame(
            visits,
            columns=[
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
        ),
        "unmet": pd.DataFrame(
            unmet, columns=["Request ID", "Visit ID", "Reason", "Detail", "Alternative"]
        ),
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
        "run_id": "Run ID",
        "updated_at": "Last changed",
    }
    rows = [{label: booking.get(key) for key, label in columns.items()} for booking in bookings]
    return pd.DataFrame(rows, columns=list(columns.values()))
