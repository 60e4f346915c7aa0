"""One error hierarchy for the service; every error leaves as ``{"error", "detail"}``.

Exception tree::

    RespiteError                  500 internal_error
    ├── InvalidInput              422 invalid_input      a field is wrong (named in detail)
    │   └── RuleBroken            422 rule_broken        a booking breaks a hard rule H1..H12
    ├── Unauthorised              401 unauthorised       no key, or an unknown key
    ├── Forbidden                 403 forbidden          the key's role may not do this
    ├── NotFound                  404 not_found
    ├── Conflict                  409 conflict           taken bed-nights, sitters, ids
    ├── PreconditionFailed        412 stale_version      If-Match names an old version
    ├── PreconditionRequired      428 version_required   If-Match is missing
    └── NotReady                  503 not_ready

A problem or spreadsheet upload refused (422) also lists each mistake in ``errors``,
structured as the file checker found it (:class:`ErrorItem`: item, field, message,
and for a spreadsheet the sheet, row and column); ``detail`` has them as one text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from scheduler.model import ProblemError

__all__ = [
    "Conflict",
    "ErrorBody",
    "ErrorItem",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "NotReady",
    "PreconditionFailed",
    "PreconditionRequired",
    "RespiteError",
    "RuleBroken",
    "TooLarge",
    "Unauthorised",
    "error_responses",
    "printable",
]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def printable(text: str) -> str:
    """``text`` with control characters (echoed from bad input) shown as ``\\xNN``,
    so that a screen or a log shows them rather than acting on them."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class ErrorItem(BaseModel):
    """One mistake of an uploaded problem or spreadsheet, as the file checker names it."""

    item: str | None = Field(
        default=None,
        description="The item at fault (its kind and ID); absent for a setting or the file.",
        examples=["request R-0042"],
    )
    field: str | None = Field(
        default=None,
        description="The field of the item at fault, dotted as in the problem file.",
        examples=["case_id"],
    )
    message: str = Field(description="What is wrong.", examples=["'C-9' is not a case"])
    sheet: str | None = Field(default=None, description="Spreadsheets: the sheet.")
    row: int | None = Field(
        default=None, description="Spreadsheets: the row as shown (the header is row 1)."
    )
    column: str | None = Field(
        default=None,
        description="Spreadsheets: the column's header and letter.",
        examples=["'Case ID' (B)"],
    )

    @classmethod
    def of(cls, error: ProblemError) -> ErrorItem:
        """``error`` as it is sent: empty parts left out, control characters shown."""
        parts = asdict(error)
        return cls.model_validate(
            {
                name: printable(value) if isinstance(value, str) else value
                for name in cls.model_fields
                if (value := parts.get(name)) not in (None, "")
            }
        )


class ErrorBody(BaseModel):
    """What every error looks like on the wire."""

    error: str = Field(examples=["conflict"], description="A stable machine-readable code.")
    detail: str = Field(
        examples=["bed B-N1-1 is already booked on 2025-03-03"],
        description="A sentence for people; names the field or item at fault.",
    )
    conflicts: list[str] | None = Field(
        default=None,
        description="409: the bed-nights or visits already taken; 422: the rules broken.",
        examples=[["bed B-N1-1 night 2025-03-03 (booking B-7c1e)"]],
    )
    errors: list[ErrorItem] | None = Field(
        default=None,
        description="422 on a problem or spreadsheet upload: each mistake, structured.",
    )


class RespiteError(Exception):
    """Base of every error the service raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        detail: str,
        *,
        conflicts: list[str] | None = None,
        errors: Sequence[ProblemError] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.conflicts = conflicts
        self.errors = None if errors is None else [ErrorItem.of(error) for error in errors]

    def body(self) -> ErrorBody:
        """The error as it is sent."""
        return ErrorBody(
            error=self.code, detail=self.detail, conflicts=self.conflicts, errors=self.errors
        )


class InvalidInput(RespiteError):
    status_code = 422
    code = "invalid_input"


class RuleBroken(InvalidInput):
    code = "rule_broken"


class Unauthorised(RespiteError):
    status_code = 401
    code = "unauthorised"


class Forbidden(RespiteError):
    status_code = 403
    code = "forbidden"


class NotFound(RespiteError):
    status_code = 404
    code = "not_found"


class Conflict(RespiteError):
    status_code = 409
    code = "conflict"


class TooLarge(RespiteError):
    status_code = 413
    code = "too_large"


class PreconditionFailed(RespiteError):
    status_code = 412
    code = "stale_version"


class PreconditionRequired(RespiteError):
    status_code = 428
    code = "version_required"


class NotReady(RespiteError):
    status_code = 503
    code = "not_ready"


_DESCRIPTIONS = {
    400: "The body could not be parsed (not JSON, or a broken form).",
    401: "No API key, or an unknown one.",
    403: "The key's role may not do this.",
    404: "No such item (or not visible to this key).",
    409: "Conflicts with what is already booked or stored.",
    412: "If-Match names a version that is no longer current.",
    413: "The upload is larger than the service accepts.",
    422: "A field is invalid, or a hard rule is broken.",
    428: "If-Match is required.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` documenting the error shape for ``codes``."""
    return {
        code: {"model": ErrorBody, "description": _DESCRIPTIONS.get(code, "Error")}
        for code in codes
    }
