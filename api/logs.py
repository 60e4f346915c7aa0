"""Logging that keeps secrets out: feed tokens travel in URLs, and URLs are logged.

Uvicorn's access log prints each request's path with its raw query string. The
filter here reads every query string in a record as the server parses one
(``&``-separated pairs, names percent-decoded) and redacts the value of each
parameter whose decoded name is ``token`` in any case or spelling of its bytes
(``tok%65n=``, ``TOKEN=``): only the exact name ``token`` opens a feed, but a
mistyped one still carries the secret. On a feed path every value of the query
string is redacted (its names stay). A traceback attached to a record is redacted the same way.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

__all__ = ["REDACTED", "RedactTokens", "install_redaction", "redact"]

REDACTED = "[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "api", "api.failures")
FEEDS = "/feeds/"
SECRET_NAMES = frozenset({"token"})
_QUERY = re.compile(r"(?P<path>[^\s\"'?]*)\?(?P<query>[^\s\"'#]*)")
_DECODINGS = 3  # a name encoded twice (tok%2565n) is decoded too


def redact(text: str) -> str:
    """``text`` with the secrets of every query string in it replaced by ``[redacted]``."""
    return _QUERY.sub(_redacted_query, text) if "?" in text else text


def _redacted_query(match: re.Match[str]) -> str:
    path, query = match["path"], match["query"]
    feed = FEEDS in path
    return f"{path}?" + "&".join(_redacted_pair(pair, feed) for pair in query.split("&"))


def _redacted_pair(pair: str, feed: bool) -> str:
    """A feed's every value goes (the names stay, to show a mistyped one); elsewhere
    only a token's."""
    name, equals, _value = pair.partition("=")
    if not equals:
        return REDACTED if feed and pair else pair
    return f"{name}={REDACTED}" if feed or _is_secret(name) else pair


def _is_secret(raw_name: str) -> bool:
    name = raw_name
    for _ in range(_DECODINGS):
        name = unquote_plus(name)
    return name.strip().casefold() in SECRET_NAMES


class RedactTokens(logging.Filter):
    """Redacts feed tokens in a record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def install_redaction() -> None:
    """Add the filter to the service's loggers (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
