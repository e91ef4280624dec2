"""Getting one JSON object out of what a model wrote, and saying why not when it cannot.

Models asked for JSON still wrap it in code fences, think aloud first (``<think>...</think>``), add a sentence
after it, leave trailing commas or answer with Python literals. :func:`parse_json_object` finds the object and lets
the ``json-repair`` package mend its syntax; it never guesses at missing content (a truncated object stays an
error, and the caller re-asks).
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import json_repair
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)```", re.DOTALL)


class JSONParseError(ValueError):
    """No JSON object could be read from a reply."""


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in ``text``, tolerating fences, prose around it, trailing commas and Python literals.

    Raises :class:`JSONParseError` naming what was wrong.
    """
    cleaned = _THINK.sub("", text).strip().lstrip("\ufeff")
    if not cleaned:
        raise JSONParseError("the reply is empty")
    candidates = [block.strip() for block in _FENCE.findall(cleaned)] + [cleaned]
    problems: list[str] = []
    for candidate in candidates:
        for snippet in _object_snippets(candidate):
            try:
                return _load(snippet)
            except ValueError as exc:
                problems.append(str(exc))
    if problems:
        raise JSONParseError(f"found a JSON object but could not parse it: {problems[0]}")
    if "{" in cleaned:
        raise JSONParseError("the JSON object is not closed (was the reply cut off?)")
    raise JSONParseError("the reply contains no JSON object")


def _object_snippets(text: str) -> list[str]:
    """Each balanced ``{...}`` span starting at an opening brace, first one first (strings are respected)."""
    snippets: list[str] = []
    start = text.find("{")
    while start != -1 and len(snippets) < 4:
        end = _matching_brace(text, start)
        if end is None:
            break
        snippets.append(text[start : end + 1])
        start = text.find("{", end + 1)
    return snippets


def _matching_brace(text: str, start: int) -> int | None:
    depth = 0
    quote: str | None = None
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def _load(snippet: str) -> dict[str, Any]:
    try:
        return _as_object(json.loads(snippet, strict=False))  # most replies are valid JSON: the fast path
    except json.JSONDecodeError as exc:
        first_error = exc
    # json-repair mends what models get wrong: trailing commas, Python literals ({'ok': True, 'x': None}), smart
    # quotes, unquoted keys, missing commas, comments. The snippet is already a balanced {...}: json-repair would
    # also close a truncated object, which we refuse (the caller re-asks instead of guessing the rest).
    repaired = json_repair.loads(snippet, skip_json_loads=True)
    if not isinstance(repaired, dict):
        raise ValueError(f"{first_error.msg} at line {first_error.lineno} column {first_error.colno}")
    return _as_object(repaired)


def _as_object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    return {str(key): item for key, item in value.items()}


def describe_validation_error(error: ValidationError | JSONParseError, limit: int = 6) -> str:
    """A short, model-readable account of what was wrong with a reply (fed back in the re-ask)."""
    if isinstance(error, JSONParseError):
        return str(error)
    lines = []
    for item in error.errors()[:limit]:
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"- {where}: {item['msg']}")
    more = error.error_count() - limit
    if more > 0:
        lines.append(f"- ... and {more} more")
    return "\n".join(lines)


def validate_reply(text: str, schema: type[ModelT]) -> ModelT:
    """Parse ``text`` tolerantly and validate it against ``schema`` (raises JSONParseError or ValidationError)."""
    return schema.model_validate(parse_json_object(text))


__all__ = ["JSONParseError", "describe_validation_error", "parse_json_object", "validate_reply"]
