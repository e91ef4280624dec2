"""Errors raised while reading input: each names the field (or place in the file) and what is wrong.

Reasons are built from pydantic's structured errors (``loc`` + ``msg``), never from an exception's repr, so a
quarantined line says e.g. ``feedback[1].value: rating 7 is outside its scale [1, 5]`` or ``missing field
`response```.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

Loc = tuple[str | int, ...]

# How many characters of an offending value a reason may quote.
_QUOTE_LIMIT = 60


class IngestError(Exception):
    """Base of the errors the ingest package raises."""


class SourceError(IngestError, OSError):
    """A whole input file cannot be read: missing, unreadable, or not decodable as the layout it claims."""


class FormatDetectionError(IngestError, ValueError):
    """The format of an input could not be told from its records; name it explicitly (``format=``)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input record: where (a path of keys and indexes) and what."""

    loc: Loc
    message: str

    @property
    def field(self) -> str:
        """The location as a path, e.g. ``feedback[1].value``; empty for the record as a whole."""
        return render_loc(self.loc)

    def __str__(self) -> str:
        return f"`{self.field}`: {self.message}" if self.loc else self.message


class InvalidRecord(IngestError, ValueError):
    """An input record that cannot become a ``LogRecord``; ``str()`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("InvalidRecord needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))

    @classmethod
    def at(cls, loc: Loc, message: str) -> InvalidRecord:
        """A single problem at ``loc``."""
        return cls([Problem(loc, message)])

    @classmethod
    def from_validation_error(cls, error: ValidationError, prefix: Loc = ()) -> InvalidRecord:
        """Translate pydantic's errors, placing them under ``prefix`` (e.g. ``("feedback", 2)``)."""
        return cls(problems_from_validation_error(error, prefix))


def render_loc(loc: Loc) -> str:
    """``("feedback", 1, "value")`` -> ``feedback[1].value``."""
    rendered = ""
    for part in loc:
        if isinstance(part, int):
            rendered += f"[{part}]"
        else:
            rendered += f".{part}" if rendered else part
    return rendered


def problems_from_validation_error(error: ValidationError, prefix: Loc = ()) -> list[Problem]:
    """One ``Problem`` per pydantic error, with a message a person can act on."""
    return [_problem_from_details(details, prefix) for details in error.errors(include_url=False)]


def json_type_name(value: object) -> str:
    """The JSON name of a parsed value's type: what the user wrote, not Python's name for it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def quote(value: object) -> str:
    """A short, single-line rendering of an offending value."""
    text = repr(value)
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 3] + "..."


def _problem_from_details(details: ErrorDetails, prefix: Loc) -> Problem:
    loc: Loc = prefix + tuple(details["loc"])
    kind = details["type"]
    if kind == "missing":
        # Reads better as "missing field `response`" than "`response`: Field required".
        return Problem((), f"missing field `{render_loc(loc)}`")
    if kind == "extra_forbidden":
        return Problem((), f"unknown field `{render_loc(loc)}`")
    context = details.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in context:
        # Our own validators' messages, without pydantic's "Value error, " prefix.
        return Problem(loc, str(context["error"]))
    message = details["msg"]
    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "literal_error":
        given = details.get("input")
        shown = quote(given) if kind == "literal_error" or isinstance(given, str) else json_type_name(given)
        message = f"{message} (got {shown})"
    return Problem(loc, message)
