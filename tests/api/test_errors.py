"""The one error shape: a file checker's structured errors as they are sent."""

from __future__ import annotations

from api.errors import ErrorItem, InvalidInput
from scheduler.model import ProblemError
from scheduler.sheets import CellError


def test_an_error_item_leaves_out_empty_parts_and_shows_control_characters():
    # no field; a control character echoed from the file is shown, not sent raw
    error = ProblemError("case C-\x07", "", "is odd", ("cases", 0))
    assert ErrorItem.of(error).model_dump(exclude_none=True) == {
        "item": "case C-\\x07",
        "message": "is odd",
    }


def test_a_spreadsheet_error_item_has_its_cell():
    error = CellError.at("cases", 2, "'Age' (E)", "'old' is not a number")
    assert ErrorItem.of(error) == ErrorItem(
        message="'old' is not a number", sheet="cases", row=2, column="'Age' (E)"
    )


def test_the_body_lists_the_errors_only_when_given():
    error = ProblemError("request R-1", "nights", "is missing")
    listed = InvalidInput("request R-1: nights: is missing", errors=[error]).body()
    assert listed.errors == [ErrorItem(item="request R-1", field="nights", message="is missing")]
    assert InvalidInput("limit: too big").body().errors is None
