"""Every failure answers in the one error shape ``{"error", "detail"}``, whatever raised it.

Three layers, outermost first::

    CatchAll               pure ASGI, around everything: what escapes the app (a
                           failing handler, a layer outside Starlette's) answers 500
                           JSON if nothing was sent yet
    ServerErrorMiddleware  Starlette's: ``Exception`` from a route or a middleware
    ExceptionMiddleware    Starlette's: the service's errors, HTTP errors (404, 405),
                           request validation, and the database refusing a value

An unexpected exception answers 500 ``internal_error`` with a reference and no
internals; its traceback is logged under that reference (logger ``api.failures``).
A value the database cannot store (too long, out of range, a NUL character)
answers 422 naming the field when the statement's parameters tell it. A streaming
response that fails after it started cannot change its status: the connection
is closed, so the client sees a broken answer rather than a short one.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ErrorBody, InvalidInput, RespiteError, printable

__all__ = ["CatchAll", "error_response", "install_error_handlers"]

logger = logging.getLogger("api.failures")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
}
_INT_RANGES = {"integer": 2**31 - 1, "bigint": 2**63 - 1, "smallint": 2**15 - 1}
_LOGGED = "_respite_logged"  # set on an exception once its traceback is logged


def install_error_handlers(app: FastAPI) -> None:
    """Answer every failure of ``app`` in the one error shape (see the module's layers)."""
    for kind in (
        RespiteError,
        RequestValidationError,
        StarletteHTTPException,
        DataError,
        OverflowError,
        RecursionError,
        Exception,  # Starlette gives this one to ServerErrorMiddleware: middleware too
    ):
        app.add_exception_handler(kind, _handle)
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: CatchAll(build())  # type: ignore[method-assign]


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    return error_response(exc, request.scope)


def error_response(exc: BaseException, scope: Scope) -> JSONResponse:
    """``exc`` as the response the client gets; an unexpected one is logged first."""
    status_code, body, headers = _describe(exc, scope)
    body.detail = printable(body.detail)
    if body.conflicts is not None:
        body.conflicts = [printable(line) for line in body.conflicts]
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status_code, headers=headers
    )


def _describe(exc: BaseException, scope: Scope) -> tuple[int, ErrorBody, dict[str, str] | None]:
    if isinstance(exc, RespiteError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return exc.status_code, exc.body(), headers
    if isinstance(exc, RequestValidationError):
        lines = [_error_line(error) for error in exc.errors()]
        body = ErrorBody(error="invalid_input", detail="; ".join(lines[:5]), conflicts=lines)
        return 422, body, None
    if isinstance(exc, StarletteHTTPException):
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers) if exc.headers else None
        return exc.status_code, ErrorBody(error=code, detail=str(exc.detail)), headers
    error = refused_input(exc) or _internal(exc, scope)
    return error.status_code, error.body(), None


def _error_line(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


# ---------------------------------------------------------------------------- refused input


def refused_input(exc: BaseException) -> InvalidInput | None:
    """The 422 for an exception that bad input causes outside the models' checks, or None.

    The database refusing a value (PostgreSQL: too long, out of range, NUL), a
    number too large for SQLite or a date past year 9999 (``OverflowError``), and
    input nested too deeply to read (``RecursionError``).
    """
    if isinstance(exc, DataError):
        return InvalidInput(_database_refusal(exc))
    if isinstance(exc, OverflowError):
        return InvalidInput("a number or date in the request is too large")
    if isinstance(exc, RecursionError):
        return InvalidInput("the request is nested too deeply to read")
    return None


def _database_refusal(exc: DataError) -> str:
    """What the database refused, naming the fields whose values it could not store."""
    message = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else ""
    if "NUL" in message:
        fields = _fields(exc.params, lambda value: isinstance(value, str) and "\x00" in value)
        return _named(fields, "must not contain a NUL (\\x00) character")
    if (length := re.search(r"character varying\((\d+)\)", message)) is not None:
        limit = int(length.group(1))
        fields = _fields(exc.params, lambda value: isinstance(value, str) and len(value) > limit)
        return _named(fields, f"is too long (at most {limit} characters)")
    if (kind := re.match(r"(\w+) out of range", message)) is not None:
        top = _INT_RANGES.get(kind.group(1), 2**63 - 1)
        fields = _fields(exc.params, lambda value: isinstance(value, int) and abs(value) > top)
        return _named(fields, "is out of range")
    return "a value in the request cannot be stored (too long, out of range or malformed)"


def _named(fields: list[str], problem: str) -> str:
    if not fields:
        return f"a value in the request {problem}"
    return "; ".join(f"{field}: {problem}" for field in fields)


def _fields(params: Any, at_fault: Any) -> list[str]:
    """The names of the statement's parameters whose value is ``at_fault`` (columns,
    which carry the field names), without SQLAlchemy's ``_1`` suffixes."""
    names = {
        re.sub(r"(_\d+)+$", "", str(name)) for name, value in _params(params) if at_fault(value)
    }
    return sorted(names)


def _params(params: Any) -> Iterator[tuple[object, object]]:
    if isinstance(params, dict):
        yield from params.items()
    elif isinstance(params, list | tuple):
        for group in params:  # executemany: one mapping a row
            if isinstance(group, dict):
                yield from group.items()


# ---------------------------------------------------------------------------- unexpected


def _internal(exc: BaseException, scope: Scope) -> RespiteError:
    """A 500 that says nothing of the internals; the traceback goes to the log once."""
    reference = getattr(exc, _LOGGED, None) or uuid.uuid4().hex[:10]
    if not hasattr(exc, _LOGGED):
        method, path = scope.get("method", "?"), scope.get("path", "?")
        logger.error(
            "%s %s failed (reference %s)", method, path, reference, exc_info=exc
        )  # the path only: a query string may hold a feed token
        with contextlib.suppress(AttributeError):  # an exception class with __slots__
            setattr(exc, _LOGGED, reference)
    return RespiteError(f"the service failed to answer this request; it is logged as {reference}")


class CatchAll:
    """The outermost layer: what escapes the application still answers in the one
    error shape. (A URL holding a NUL character is refused before any route reads it
    by :class:`api.limits.RequestLimits`.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:  # answered already (Starlette re-raises), or not yet
            response = error_response(exc, scope)
            if not started:
                await response(scope, receive, send)
            # Started: answered, or a stream broken off; the server closes the connection.
