"""Reading and writing problem and plan files.

Every mistake in a file is reported as a :class:`~scheduler.model.ProblemError`
naming the item by its id and the field, whose text is one line, e.g.
``request R-0042: case_id 'C-9' is not a case``. Files are
written atomically (a temporary file renamed into place) so that a failed run
never leaves half a plan behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from scheduler.model import InvalidProblem, Location, Plan, Problem, ProblemError

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "dump_json",
    "load_plan",
    "load_problem",
    "printable_line",
    "read_json",
    "write_bytes",
    "write_json",
    "write_text",
]

# list name -> (noun, id field) for naming an item in an error
_ITEMS = {
    "localities": ("locality", "locality_id"),
    "cases": ("case", "case_id"),
    "units": ("unit", "unit_id"),
    "beds": ("bed", "bed_id"),
    "providers": ("provider", "provider_id"),
    "requests": ("request", "request_id"),
    "visits": ("visit", "visit_id"),
    "bookings": ("booking", "booking_id"),
    "budgets": ("budget", "budget_id"),
    "stays": ("stay", "request_id"),
    "unmet": ("unmet", "request_id"),
}
_UNION_TAGS = {"stay", "sitting", "StayBooking", "VisitBooking"}


def read_json(path: str | Path) -> Any:
    """Read a JSON file, turning every way it can be unreadable into :class:`InvalidProblem`
    (one :class:`ProblemError` naming the file: missing, a folder, empty, not JSON,
    nested too deeply, a number too long to read)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidProblem([ProblemError(str(path), "", _unreadable(exc))]) from None


def _unreadable(exc: Exception) -> str:
    """Why a JSON file could not be read, in one line."""
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, json.JSONDecodeError):
        if exc.doc.strip() == "":
            return "is empty"
        return f"not valid JSON ({exc.msg} at line {exc.lineno})"
    if isinstance(exc, RecursionError):
        return "not readable: nested too deeply"
    if isinstance(exc, OSError):
        return f"cannot be read ({exc.strerror or exc})"
    if "integer string conversion" in str(exc):
        return "not readable: a number has too many digits"
    return f"not readable ({printable_line(exc)})"  # a number of thousands of digits, bad UTF-8


def printable_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message, control characters shown as ``\\xNN``."""
    lines = str(exc).splitlines() or [type(exc).__name__]
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in lines[0])


def load_problem(source: str | Path | dict[str, Any]) -> Problem:
    """Load and fully check a problem file (or its parsed JSON).

    Raises
    ------
    InvalidProblem
        With one :class:`~scheduler.model.ProblemError` per mistake, naming the item
        and field.
    """
    data = source if isinstance(source, dict) else read_json(source)
    return _validate(Problem, data)


def load_plan(source: str | Path | dict[str, Any]) -> Plan:
    data = source if isinstance(source, dict) else read_json(source)
    return _validate(Plan, data)


def _validate(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise InvalidProblem([ProblemError("", "", "the file must hold a JSON object")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidProblem(_problem_errors(exc, data)) from None


def _problem_errors(exc: ValidationError, data: Any) -> list[ProblemError]:
    """Each of pydantic's errors as a :class:`ProblemError` naming the item and field."""
    errors: list[ProblemError] = []
    for error in exc.errors():
        path = tuple(part for part in error["loc"] if part not in _UNION_TAGS)
        item, field = _name(path, data)
        inner = error.get("ctx", {}).get("error")
        if isinstance(inner, InvalidProblem):  # the model's own checks, already named
            errors.extend(_within(item, field, path, one) for one in inner.errors)
        else:
            errors.append(ProblemError(item, field, _message(error), path))
    return errors


def _message(error: Any) -> str:
    if error["type"] == "missing":
        return "is missing"
    if error["type"] == "extra_forbidden":
        return "is not a known field"
    return str(error["msg"]).removeprefix("Value error, ")


def _within(item: str, field: str, path: Location, error: ProblemError) -> ProblemError:
    """``error``, raised by a part of the file, named as part of the whole file."""
    return replace(
        error,
        item=item or error.item,
        field=".".join(part for part in (field, error.field) if part),
        path=(*path, *error.path),
    )


def _name(path: Location, data: Any) -> tuple[str, str]:
    """Turn a location into ('request R-0042', 'visit V1.windows[0].end')."""
    where = ""
    fields: list[str] = []
    node = data
    i = 0
    while i < len(path):
        part = path[i]
        nxt = path[i + 1] if i + 1 < len(path) else None
        child = node.get(part) if isinstance(node, dict) else None
        if isinstance(nxt, int) and isinstance(child, list):
            item = child[nxt] if nxt < len(child) else None
            noun, key = _ITEMS.get(str(part), (part, ""))
            ident = item.get(key) if isinstance(item, dict) and key else None
            name = f"{noun} {ident}" if ident is not None else f"{part}[{nxt}]"
            if not where and part in _ITEMS:
                where = name
            else:
                fields.append(name)
            node = item
            i += 2
            continue
        fields.append(str(part))
        node = child
        i += 1
    return where, ".".join(fields)


def dump_json(model: BaseModel) -> str:
    return model.model_dump_json(indent=1, exclude_none=True)


def write_json(path: str | Path, text_or_model: str | BaseModel) -> None:
    """Write atomically: the file is either the whole new content or untouched."""
    text = text_or_model if isinstance(text_or_model, str) else dump_json(text_or_model)
    write_text(path, text)


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (and a final newline) atomically: the whole new file or none."""
    write_bytes(path, (text + "\n").encode("utf-8"))


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` atomically: the file is either the whole new content or untouched.

    Raises
    ------
    OSError
        The file cannot be written (a folder, a read-only place, a full disk), with
        ``filename`` the path asked for, not the temporary file beside it.
    """
    target = Path(path)
    try:
        _write_atomically(target, data)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a plan is an ordinary file
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
