"""Logging that keeps secrets out: feed tokens travel in URLs, and URLs are logged.

Uvicorn's access log prints each request's path with its query string; the
filter here rewrites ``token=...`` to ``token=[redacted]`` before any handler
sees the record.
"""

from __future__ import annotations

import logging
import re

__all__ = ["RedactTokens", "install_redaction"]

TOKEN = re.compile(r"(token=)[^&\s\"']+")
LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "api")


class RedactTokens(logging.Filter):
    """Replaces the value of every ``token=`` in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = TOKEN.sub(r"\1[redacted]", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                TOKEN.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def install_redaction() -> None:
    """Add the filter to the service's loggers (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
