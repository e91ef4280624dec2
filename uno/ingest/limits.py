"""Bounds on what one input may hold, checked at every entry point before anything is stored or distilled.

Every way in (``UnoMemory.add``/``add_many``/``log_exchange``/``feedback``, file and record ingest, the REST API
and the proxy) checks its records against one :class:`InputLimits`, so the work one input can cause is bounded
however it arrives: a 2 MB follow-up, a log of 100,000 turns or metadata nested 500 deep is refused with a reason
naming the field and the limit (quarantined by file ingest, a 422 over HTTP), never stored and distilled. The
defaults are far above what a real conversation needs; raise them per deployment (``UnoMemory(limits=...)``).

Text must also be valid Unicode: a lone surrogate (``"\\ud800"``, which JSON can spell) cannot be written as UTF-8,
so it is refused here rather than failing deep inside the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from rule_store.records import EditFeedback, Feedback, FollowupFeedback, LogRecord, Message
from uno.ingest.errors import InvalidRecord, Loc, Problem


class InputLimits(BaseModel):
    """How much one input record may hold. Defaults suit any real conversation; every field is configurable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_text_chars: int = Field(
        default=65_536, ge=1, description="Characters in one text field: a message, a follow-up, an edit."
    )
    max_messages: int = Field(default=500, ge=2, description="Messages (turns) in one log.")
    max_feedback_events: int = Field(default=200, ge=1, description="Explicit feedback events on one log.")
    max_metadata_bytes: int = Field(default=65_536, ge=2, description="Size of a log's metadata as UTF-8 JSON.")
    max_metadata_depth: int = Field(default=16, ge=1, description="Nesting of objects and arrays in metadata.")
    max_id_chars: int = Field(default=200, ge=1, description="Characters in a log id.")
    max_record_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="Bytes of one JSON line read by file ingest (before parsing)."
    )


DEFAULT_LIMITS = InputLimits()
# Levels of nesting the formats themselves use around metadata: record -> messages -> message -> content parts.
_FORMAT_DEPTH = 4


def text_problems(text: str, loc: Loc, limits: InputLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Why ``text`` at ``loc`` is refused: too long, or not encodable Unicode (a lone surrogate)."""
    problems: list[Problem] = []
    if len(text) > limits.max_text_chars:
        problems.append(Problem(loc, f"is {len(text):,} characters, over the limit of {limits.max_text_chars:,}"))
    surrogate = _lone_surrogate(text)
    if surrogate is not None:
        problems.append(Problem(loc, f"holds a lone surrogate ({surrogate}): not valid Unicode text"))
    return problems


def feedback_problems(event: Feedback, loc: Loc, limits: InputLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Why one feedback event is refused (only follow-ups and edits carry text)."""
    if isinstance(event, FollowupFeedback | EditFeedback):
        return text_problems(event.text, (*loc, "text"), limits)
    return []


def metadata_problems(metadata: Mapping[str, Any], loc: Loc, limits: InputLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Why ``metadata`` is refused: nested too deeply, too big as JSON, or holding invalid text."""
    return _structure_problems(metadata, loc, limits.max_metadata_depth, limits.max_metadata_bytes)


def raw_record_problems(record: object, limits: InputLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Why a parsed JSON record is refused before it is read as a log: a lone surrogate anywhere, or nesting
    deeper than any format needs (the metadata limit plus the few levels of messages and content parts)."""
    return _structure_problems(record, (), limits.max_metadata_depth + _FORMAT_DEPTH, None)


def _structure_problems(value: object, loc: Loc, max_depth: int, max_bytes: int | None) -> list[Problem]:
    """The first problem of a JSON-like structure: nesting past ``max_depth``, a lone surrogate, or (when
    ``max_bytes`` is given) a size over it.

    Walked iteratively, so a structure nested far deeper than the limit is measured without recursion, and the
    walk stops at the first problem: its cost is bounded by the size of the input, never more.
    """
    size = 0
    stack: list[tuple[object, int, Loc]] = [(value, 1, loc)]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if depth > max_depth:
                # Named by the field holding the deep branch (its full path is as long as the nesting).
                return [Problem(loc or where[:1], f"is nested more than {max_depth} levels deep")]
            children = list(item.items()) if isinstance(item, Mapping) else list(enumerate(item))
            size += 2 + len(children)  # brackets and separators
            for key, child in children:
                if isinstance(key, str):
                    size += len(key) + 3
                    surrogate = _lone_surrogate(key)
                    if surrogate is not None:
                        return [Problem(where, f"has a key holding a lone surrogate ({surrogate})")]
                stack.append((child, depth + 1, (*where, key)))
        elif isinstance(item, str):
            size += len(item) + 2
            surrogate = _lone_surrogate(item)
            if surrogate is not None:
                return [Problem(where, f"holds a lone surrogate ({surrogate}): not valid Unicode text")]
        else:
            size += 8
        if max_bytes is not None and size > max_bytes:
            return [Problem(loc, f"is over the limit of {max_bytes:,} bytes as JSON")]
    return []


def message_problems(messages: Sequence[Message], limits: InputLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Why a conversation is refused: too many turns, or a turn whose text is."""
    if len(messages) > limits.max_messages:
        return [Problem(("messages",), f"has {len(messages):,} messages, over the limit of {limits.max_messages:,}")]
    problems: list[Problem] = []
    for index, message in enumerate(messages):
        problems += text_problems(message.content, ("messages", index, "content"), limits)
        if message.name is not None:
            problems += text_problems(message.name, ("messages", index, "name"), limits)
    return problems


def log_problems(log: LogRecord, limits: InputLimits = DEFAULT_LIMITS) -> list[Problem]:
    """Every way ``log`` exceeds ``limits``; empty when it fits."""
    problems: list[Problem] = []
    if len(log.id) > limits.max_id_chars:
        problems.append(Problem(("id",), f"is {len(log.id):,} characters, over the limit of {limits.max_id_chars}"))
    for field, value in (("id", log.id), ("namespace", log.namespace), ("user_id", log.user_id)):
        surrogate = _lone_surrogate(value) if value is not None else None
        if surrogate is not None:
            problems.append(Problem((field,), f"holds a lone surrogate ({surrogate}): not valid Unicode text"))
    problems += message_problems(log.messages, limits)
    if len(log.feedback) > limits.max_feedback_events:
        problems.append(
            Problem(
                ("feedback",),
                f"has {len(log.feedback):,} events, over the limit of {limits.max_feedback_events:,}",
            )
        )
    else:
        for index, event in enumerate(log.feedback):
            problems += feedback_problems(event, ("feedback", index), limits)
    problems += metadata_problems(log.metadata, ("metadata",), limits)
    return problems


def check_log(log: LogRecord, limits: InputLimits = DEFAULT_LIMITS) -> LogRecord:
    """``log`` itself when it fits ``limits``; else ``InvalidRecord`` naming each field over a limit."""
    problems = log_problems(log, limits)
    if problems:
        raise InvalidRecord(problems)
    return log


def check_messages(messages: Sequence[Message], limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Raise ``InvalidRecord`` when a conversation exceeds ``limits`` (checked before a log is built from it)."""
    problems = message_problems(messages, limits)
    if problems:
        raise InvalidRecord(problems)


def check_raw_record(record: object, limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Raise ``InvalidRecord`` when a parsed JSON record is unfit to read (see ``raw_record_problems``)."""
    problems = raw_record_problems(record, limits)
    if problems:
        raise InvalidRecord(problems)


def check_metadata(metadata: Mapping[str, Any], limits: InputLimits = DEFAULT_LIMITS) -> None:
    """Raise ``InvalidRecord`` when a log's metadata exceeds ``limits`` (see ``metadata_problems``)."""
    problems = metadata_problems(metadata, ("metadata",), limits)
    if problems:
        raise InvalidRecord(problems)


def check_feedback(event: Feedback, limits: InputLimits = DEFAULT_LIMITS) -> Feedback:
    """``event`` itself when it fits ``limits``; else ``InvalidRecord`` naming its text and the limit."""
    problems = feedback_problems(event, (), limits)
    if problems:
        raise InvalidRecord(problems)
    return event


def _lone_surrogate(text: str) -> str | None:
    """The first lone surrogate in ``text`` as ``U+D800``, or None (the common case costs one encode)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"U+{ord(text[error.start]):04X} at character {error.start}"
    return None


__all__ = [
    "DEFAULT_LIMITS",
    "InputLimits",
    "check_feedback",
    "check_log",
    "check_messages",
    "check_metadata",
    "check_raw_record",
    "log_problems",
    "message_problems",
    "raw_record_problems",
    "text_problems",
]
