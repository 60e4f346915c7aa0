"""Bounded work per request, refused before any work is done: body bytes and the URL.

:class:`RequestLimits` is a pure ASGI middleware, so it acts before routing, before
the key is checked and before anything parses the body:

- a body larger than its limit is answered 413 (the one error shape) at once when
  ``Content-Length`` says so, and otherwise as soon as the bytes streamed in (a
  chunked body too) pass the limit; the rest is never read. The spreadsheet import
  has the upload limit (``max_upload_bytes``), every other route the body limit
  (``max_body_bytes``), which a county's problem file fits with room to spare;
- a path or query holding NUL is answered 422: no id or token has one, and
  PostgreSQL refuses NUL in text (other control characters reach the routes,
  which name them escaped in a 404).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from fastapi.responses import JSONResponse

from api.errors import InvalidInput, RespiteError, TooLarge

__all__ = ["UPLOAD_PATHS", "RequestLimits"]

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Routes taking a file upload rather than a JSON body: they have the upload limit.
UPLOAD_PATHS = ("/v1/imports",)


class RequestLimits:
    """Refuses an oversized body (413) or a URL holding NUL (422).

    Parameters
    ----------
    app
        The application to guard.
    body_bytes
        The largest body accepted by every route but the uploads.
    upload_bytes
        The largest body accepted by the routes of :data:`UPLOAD_PATHS`.
    """

    def __init__(self, app: ASGIApp, *, body_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.body_bytes = body_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        refusal = _url_refusal(scope) or _declared_refusal(scope, limit)
        if refusal is not None:
            await _answer(refusal, scope, receive, send)
            return
        body = _CountedBody(receive, send, limit)
        try:
            await self.app(scope, body.receive, body.send)
        except Exception:
            if body.refusal is None:
                raise
        if body.refusal is not None and not body.started:
            await _answer(body.refusal, scope, receive, send)

    def limit_for(self, scope: Scope) -> int:
        """The body limit of the route ``scope`` asks for."""
        path = str(scope["path"]).removeprefix(scope.get("root_path", ""))
        uploads = any(path.startswith(prefix) for prefix in UPLOAD_PATHS)
        return self.upload_bytes if uploads else self.body_bytes


class _CountedBody:
    """The request's ``receive`` counting body bytes, and ``send`` passing on the
    application's answer unless the body went over the limit (then the middleware
    answers 413 instead of whatever the application made of the cut-off body)."""

    def __init__(self, receive: Receive, send: Send, limit: int) -> None:
        self._receive = receive
        self._send = send
        self.limit = limit
        self.size = 0
        self.refusal: TooLarge | None = None
        self.started = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                self.refusal = TooLarge(f"body: over the limit of {self.limit:,} bytes")
                raise self.refusal  # whoever is reading stops here
        return message

    async def send(self, message: Message) -> None:
        if self.refusal is not None and not self.started:
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


def _declared_refusal(scope: Scope, limit: int) -> TooLarge | None:
    """413 if the body's ``Content-Length`` is over ``limit``."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length" and value.isdigit() and int(value) > limit:
            return TooLarge(f"body: {int(value):,} bytes, over the limit of {limit:,}")
    return None


def _url_refusal(scope: Scope) -> InvalidInput | None:
    """422 if the path or the query holds NUL."""
    if "\x00" in str(scope["path"]):
        return InvalidInput("path: holds a NUL character")
    if "\x00" in unquote(bytes(scope.get("query_string", b"")).decode("latin-1")):
        return InvalidInput("query: holds a NUL character")
    return None


async def _answer(error: RespiteError, scope: Scope, receive: Receive, send: Send) -> None:
    """Send ``error`` in the one error shape, closing the connection on an unread body."""
    headers = {"Connection": "close"} if isinstance(error, TooLarge) else None
    body = error.body().model_dump(exclude_none=True)
    await JSONResponse(body, status_code=error.status_code, headers=headers)(scope, receive, send)
