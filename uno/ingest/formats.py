"""Input formats: each turns one parsed JSON object into a ``LogRecord`` or raises ``InvalidRecord``.

``plain``
    ``{"id"?, "user_id"?, "namespace"?, "timestamp"?, "system"?, "query", "response", "feedback"?: [...],
    "metadata"?}``.
``openai``
    OpenAI chat JSONL, ``{"messages": [{"role", "content"}, ...], "feedback"?, "id"?, "user_id"?,
    "namespace"?, "timestamp"?, "metadata"?}``; ``content`` may be a list of ``{"type": "text", "text": ...}``
    parts. A ``LogRecord`` dumped as JSON (``uno export logs``) reads back through this format unchanged.
``memorybench``
    MemoryBench rows (``test_idx``, ``dataset_name``, ``lang``, ``input_prompt`` / ``input_chat_messages``,
    ``dialog``, ``implicit_feedback``, ``info``), with the string-encoded columns of the Hugging Face export.
``openwebui``
    Open WebUI's feedback export (``id``, ``user_id``, ``data``: thumbs ``rating``, 1-10 ``details.rating``,
    ``reason``, ``comment``; ``meta.message_id``; ``snapshot.chat``: the chat with its message tree).
``langfuse``
    Langfuse traces as its public API returns them (``id``, ``userId``, ``input``, ``output``, ``observations``,
    ``scores``); user feedback scores become feedback, other scores metadata.

Feedback items (``plain`` and ``openai``) are ``{"kind": "followup"|"edit", "text"}``,
``{"kind": "reaction", "value": "like"|"love"|"dislike"|"copy"|"none", "terminated"?}`` or
``{"kind": "rating", "value", "scale"?: [min, max]}``, each with optional ``turn`` (index in
``messages`` of the assistant turn it is about), ``timestamp`` and ``implicit``. Tolerated because
they are unambiguous: a bare string (a follow-up), ``type`` instead of ``kind``, ``thumbs_up`` /
``thumbs_down`` for like/dislike, any letter case, ratings written as numeric strings, and a single
item instead of a list. Anything else is reported, never guessed.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, TypeVar, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from rule_store.records import (
    DEFAULT_NAMESPACE,
    EditFeedback,
    Feedback,
    FeedbackKind,
    FollowupFeedback,
    LogRecord,
    Message,
    RatingFeedback,
    ReactionFeedback,
    ReactionValue,
)
from uno.ingest.errors import FormatDetectionError, InvalidRecord, Loc, Problem, json_type_name, quote, render_loc


class Format(StrEnum):
    PLAIN = "plain"
    OPENAI = "openai"
    MEMORYBENCH = "memorybench"
    OPENWEBUI = "openwebui"
    LANGFUSE = "langfuse"


# ------------------------------------------------------------------------------------------ detection


def parse_format(name: Format | str) -> Format:
    """A format by name; ``ValueError`` listing the known ones otherwise."""
    try:
        return Format(name)
    except ValueError:
        known = ", ".join(f.value for f in Format)
        raise ValueError(f"unknown format {name!r}: expected one of {known}") from None


def detect_format(obj: Mapping[str, object]) -> Format:
    """Tell the format of a record from its keys; raise ``FormatDetectionError`` when none fits."""
    if "messages" in obj:
        return Format.OPENAI
    if "test_idx" in obj or "dialog" in obj or "implicit_feedback" in obj:
        return Format.MEMORYBENCH
    if "snapshot" in obj and "meta" in obj:
        return Format.OPENWEBUI
    if "id" in obj and ("observations" in obj or "scores" in obj or "htmlPath" in obj):
        return Format.LANGFUSE
    if "query" in obj:
        return Format.PLAIN
    keys = ", ".join(sorted(obj)) or "none"
    raise FormatDetectionError(
        f"cannot tell the format from the record's keys ({keys}): expected `messages` (openai), "
        "`test_idx`/`dialog` (memorybench), `snapshot`/`meta` (openwebui), `observations`/`scores` (langfuse) "
        "or `query` (plain)"
    )


# ------------------------------------------------------------------------------------------ shared parts


class _Input(BaseModel):
    """Base of the input schemas: unknown keys are reported, so a typo never silently drops data."""

    model_config = ConfigDict(extra="forbid")


def _id_text(value: object) -> object:
    # Ids are often numbers in exported data; a number names a record as unambiguously as a string does.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IdText = Annotated[str, BeforeValidator(_id_text)]

_REACTION_ALIASES: dict[str, ReactionValue] = {
    "thumbs_up": "like",
    "thumbsup": "like",
    "👍": "like",
    "thumbs_down": "dislike",
    "thumbsdown": "dislike",
    "👎": "dislike",
}


def _reaction_value(value: object) -> object:
    if not isinstance(value, str):
        return value
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    return _REACTION_ALIASES.get(key, key)


def _rating_number(value: object) -> object:
    # pydantic would read true as 1.0: a boolean is not a rating.
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return value


class _FeedbackInput(_Input):
    kind: str
    turn: int | None = Field(default=None, ge=0)
    timestamp: datetime | None = None
    implicit: bool = False


class _TextFeedbackInput(_FeedbackInput):
    text: str


class _ReactionInput(_FeedbackInput):
    value: Annotated[ReactionValue, BeforeValidator(_reaction_value)]
    terminated: bool = False


class _RatingInput(_FeedbackInput):
    # Declared before ``value`` so that the value's validator sees the validated scale in ``info.data``.
    scale: tuple[float, float] | None = None
    scale_min: float | None = None
    scale_max: float | None = None
    value: Annotated[float, BeforeValidator(_rating_number)]

    @field_validator("scale")
    @classmethod
    def _scale_not_empty(cls, scale: tuple[float, float] | None) -> tuple[float, float] | None:
        if scale is not None and scale[1] <= scale[0]:
            raise ValueError(f"rating scale is empty: [{scale[0]:g}, {scale[1]:g}]")
        return scale

    @field_validator("value")
    @classmethod
    def _on_scale(cls, value: float, info: ValidationInfo) -> float:
        bounds = _scale_from(info.data)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            raise ValueError(f"rating {value:g} is outside its scale [{bounds[0]:g}, {bounds[1]:g}]")
        return value

    def bounds(self) -> tuple[float, float]:
        found = _scale_from(self.__dict__)
        assert found is not None, "validation guarantees a usable scale"
        return found


def _scale_from(fields: Mapping[str, Any]) -> tuple[float, float] | None:
    """The scale from ``scale`` or ``scale_min``/``scale_max`` (default 1-5); None if it was invalid."""
    if fields.get("scale") is not None:
        low, high = fields["scale"]
        return float(low), float(high)
    if "scale_min" not in fields or "scale_max" not in fields:
        return None
    low = 1.0 if fields["scale_min"] is None else float(fields["scale_min"])
    high = 5.0 if fields["scale_max"] is None else float(fields["scale_max"])
    return (low, high) if high > low else None


_KIND_ALIASES = {"follow_up": "followup", "follow-up": "followup"}


def parse_feedback(raw: object, loc: Loc) -> Feedback:
    """One feedback item (see the module docstring) -> a ``Feedback`` record; ``loc`` places its errors."""
    if isinstance(raw, str):
        raw = {"kind": FeedbackKind.FOLLOWUP.value, "text": raw}
    if not isinstance(raw, dict):
        raise InvalidRecord.at(loc, f"a feedback item must be an object or a string, got {json_type_name(raw)}")
    item = dict(raw)
    if "kind" not in item and "type" in item:
        item["kind"] = item.pop("type")
    kind = item.get("kind")
    if kind is None:
        raise InvalidRecord([Problem((), f"missing field `{render_loc((*loc, 'kind'))}`")])
    if not isinstance(kind, str):
        raise InvalidRecord.at((*loc, "kind"), f"expected a string, got {json_type_name(kind)}")
    normalized = kind.strip().lower()
    item["kind"] = _KIND_ALIASES.get(normalized, normalized)
    builder = _FEEDBACK_BUILDERS.get(item["kind"])
    if builder is None:
        known = ", ".join(kind.value for kind in FeedbackKind)
        raise InvalidRecord.at((*loc, "kind"), f"unknown feedback kind {quote(kind)} (expected one of {known})")
    try:
        return builder(item)
    except ValidationError as error:
        raise InvalidRecord.from_validation_error(error, loc) from None


def _followup(item: dict[str, Any]) -> Feedback:
    parsed = _TextFeedbackInput.model_validate(item)
    return FollowupFeedback(**_common(parsed), text=parsed.text)


def _edit(item: dict[str, Any]) -> Feedback:
    parsed = _TextFeedbackInput.model_validate(item)
    return EditFeedback(**_common(parsed), text=parsed.text)


def _reaction(item: dict[str, Any]) -> Feedback:
    parsed = _ReactionInput.model_validate(item)
    return ReactionFeedback(**_common(parsed), value=parsed.value, terminated=parsed.terminated)


def _rating(item: dict[str, Any]) -> Feedback:
    parsed = _RatingInput.model_validate(item)
    low, high = parsed.bounds()
    return RatingFeedback(**_common(parsed), value=parsed.value, scale_min=low, scale_max=high)


def _common(parsed: _FeedbackInput) -> dict[str, Any]:
    return {"turn": parsed.turn, "timestamp": parsed.timestamp, "implicit": parsed.implicit}


_FEEDBACK_BUILDERS: dict[str, Callable[[dict[str, Any]], Feedback]] = {
    FeedbackKind.FOLLOWUP.value: _followup,
    FeedbackKind.EDIT.value: _edit,
    FeedbackKind.REACTION.value: _reaction,
    FeedbackKind.RATING.value: _rating,
}


def _as_list(value: object) -> object:
    # A single feedback item where a list is expected means a list of one.
    return [value] if isinstance(value, str | dict) else value


FeedbackItems = Annotated[list[Any], BeforeValidator(_as_list)]


def parse_feedback_list(items: Sequence[object], field: str = "feedback") -> list[Feedback]:
    """Every item of a feedback list; collects the problems of all items before raising."""
    parsed: list[Feedback] = []
    problems: list[Problem] = []
    for index, raw in enumerate(items):
        try:
            parsed.append(parse_feedback(raw, (field, index)))
        except InvalidRecord as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidRecord(problems)
    return parsed


class _Scoping:
    """The namespace and user an ingest asked for, reconciled with what a record says about itself.

    A value given by the caller fills in records that do not name one; a record that names a *different* one
    is an error rather than being moved silently across a tenant boundary.
    """

    def __init__(self, namespace: str | None, user_id: str | None) -> None:
        self.namespace = namespace
        self.user_id = user_id

    def resolve(self, own_namespace: str | None, own_user_id: str | None) -> tuple[str, str | None]:
        problems: list[Problem] = []
        if self.namespace is not None and own_namespace not in (None, self.namespace):
            problems.append(
                Problem(
                    ("namespace",),
                    f"record is in namespace {own_namespace!r} but the ingest targets {self.namespace!r}",
                )
            )
        if self.user_id is not None and own_user_id not in (None, self.user_id):
            problems.append(
                Problem(
                    ("user_id",),
                    f"record belongs to user {own_user_id!r} but the ingest is for {self.user_id!r}",
                )
            )
        if problems:
            raise InvalidRecord(problems)
        namespace = own_namespace or self.namespace or DEFAULT_NAMESPACE
        return namespace, own_user_id if own_user_id is not None else self.user_id


def apply_scope(log: LogRecord, *, namespace: str | None = None, user_id: str | None = None) -> LogRecord:
    """``log`` placed in the ingest's namespace and user, under the same rules as parsed records.

    A ``LogRecord`` cannot say whether its namespace was chosen or defaulted, so the default namespace
    counts as unspecified. A log whose id was derived from its content gets the id of its new content.
    """
    own_namespace = None if log.namespace == DEFAULT_NAMESPACE else log.namespace
    new_namespace, new_user = _Scoping(namespace, user_id).resolve(own_namespace, log.user_id)
    if (new_namespace, new_user) == (log.namespace, log.user_id):
        return log
    fields = log.model_dump()
    if log.id == "log-" + log.content_hash():
        del fields["id"]
    fields.update(namespace=new_namespace, user_id=new_user)
    return _build_log(fields)


def _build_log(fields: dict[str, Any]) -> LogRecord:
    """The final ``LogRecord``; its own checks (turn pointers, roles) become problems too."""
    if fields.get("id") is None:
        fields.pop("id", None)
    if fields.get("timestamp") is None:
        fields.pop("timestamp", None)
    try:
        return LogRecord.model_validate(fields)
    except ValidationError as error:
        raise InvalidRecord.from_validation_error(error) from None


_InputT = TypeVar("_InputT", bound=BaseModel)


def _validate(model: type[_InputT], obj: Mapping[str, object]) -> _InputT:
    try:
        return model.model_validate(obj)
    except ValidationError as error:
        raise InvalidRecord.from_validation_error(error) from None


class _WithFeedback(_Input):
    feedback: FeedbackItems = Field(default_factory=list)


_WithFeedbackT = TypeVar("_WithFeedbackT", bound=_WithFeedback)


def _validate_with_feedback(
    model: type[_WithFeedbackT], obj: Mapping[str, object]
) -> tuple[_WithFeedbackT, list[Feedback]]:
    """The record and its feedback; the problems of both are reported together, not one stage at a time."""
    problems: list[Problem] = []
    parsed: _WithFeedbackT | None = None
    try:
        parsed = model.model_validate(obj)
    except ValidationError as error:
        problems.extend(InvalidRecord.from_validation_error(error).problems)
    raw_feedback = parsed.feedback if parsed is not None else _as_list(obj.get("feedback", []))
    feedback: list[Feedback] = []
    if isinstance(raw_feedback, list):
        try:
            feedback = parse_feedback_list(raw_feedback)
        except InvalidRecord as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidRecord(problems)
    assert parsed is not None
    return parsed, feedback


# ------------------------------------------------------------------------------------------ plain


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is blank")
    return value


class PlainInput(_WithFeedback):
    id: IdText | None = None
    user_id: str | None = None
    # An identity the host app vouches for (an exported log keeps it); REST overwrites it with the API key's.
    verified_id: str | None = None
    namespace: str | None = None
    timestamp: datetime | None = None
    system: str | None = None
    query: str
    response: str
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("query", "response")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        # A log without a question or an answer teaches nothing: reject it rather than store an empty turn.
        return _non_blank(value)


def from_plain(obj: Mapping[str, object], *, namespace: str | None = None, user_id: str | None = None) -> LogRecord:
    """A ``plain`` record -> ``LogRecord`` (system?, user query, assistant response, explicit feedback)."""
    parsed, feedback = _validate_with_feedback(PlainInput, obj)
    log_namespace, log_user = _Scoping(namespace, user_id).resolve(parsed.namespace, parsed.user_id)
    messages = [] if parsed.system is None else [Message(role="system", content=parsed.system)]
    messages += [
        Message(role="user", content=parsed.query),
        Message(role="assistant", content=parsed.response),
    ]
    return _build_log(
        {
            "id": parsed.id,
            "namespace": log_namespace,
            "user_id": log_user,
            "verified_id": parsed.verified_id,
            "timestamp": parsed.timestamp,
            "messages": messages,
            "feedback": feedback,
            "metadata": parsed.metadata,
        }
    )


# ------------------------------------------------------------------------------------------ openai

_ROLE_ALIASES = {"developer": "system", "function": "tool"}
_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})


def _content_text(value: object) -> object:
    """``content`` as one string: text parts joined by newlines, other parts (images, audio) left out."""
    if value is None:
        # An assistant turn that only calls tools has no text.
        return ""
    if not isinstance(value, list):
        return value
    texts: list[str] = []
    for index, part in enumerate(value):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise ValueError(f"part {index} must be an object or a string, got {json_type_name(part)}")
        if part.get("type") in _TEXT_PART_TYPES:
            text = part.get("text")
            if not isinstance(text, str):
                raise ValueError(f"text part {index} has no string `text` (got {json_type_name(text)})")
            texts.append(text)
    return "\n".join(texts)


def _role(value: object) -> object:
    if not isinstance(value, str):
        return value
    role = value.strip().lower()
    return _ROLE_ALIASES.get(role, role)


class ChatMessageInput(_Input):
    role: Annotated[str, BeforeValidator(_role)]
    content: Annotated[str, BeforeValidator(_content_text)]
    name: str | None = None
    # Accepted so that real OpenAI logs load, but not kept: a LogRecord holds the conversation's text.
    tool_calls: Any = None
    tool_call_id: Any = None
    function_call: Any = None
    refusal: Any = None
    weight: Any = None

    def to_message(self) -> Message:
        return Message.model_validate({"role": self.role, "content": self.content, "name": self.name})


class OpenAIInput(_WithFeedback):
    messages: list[ChatMessageInput]
    id: IdText | None = None
    user_id: str | None = None
    # An exported log's vouched identity, kept on re-import; the server replaces it with its API key's stamp.
    verified_id: str | None = None
    namespace: str | None = None
    timestamp: datetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    # Fine-tuning files carry the tool schema beside the messages: kept in metadata.
    tools: list[Any] | None = None
    functions: list[Any] | None = None
    parallel_tool_calls: bool | None = None


def _messages(items: Sequence[ChatMessageInput], field: str) -> list[Message]:
    messages: list[Message] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        try:
            messages.append(item.to_message())
        except ValidationError as error:
            problems.extend(InvalidRecord.from_validation_error(error, (field, index)).problems)
    if problems:
        raise InvalidRecord(problems)
    return messages


def from_openai(obj: Mapping[str, object], *, namespace: str | None = None, user_id: str | None = None) -> LogRecord:
    """An OpenAI chat record (or an exported ``LogRecord``) -> ``LogRecord``."""
    parsed, feedback = _validate_with_feedback(OpenAIInput, obj)
    messages = _messages(parsed.messages, "messages")
    log_namespace, log_user = _Scoping(namespace, user_id).resolve(parsed.namespace, parsed.user_id)
    metadata = dict(parsed.metadata)
    for key in ("tools", "functions", "parallel_tool_calls"):
        if getattr(parsed, key) is not None:
            metadata.setdefault(key, getattr(parsed, key))
    return _build_log(
        {
            "id": parsed.id,
            "namespace": log_namespace,
            "user_id": log_user,
            "verified_id": parsed.verified_id,
            "timestamp": parsed.timestamp,
            "messages": messages,
            "feedback": feedback,
            "metadata": metadata,
        }
    )


# ------------------------------------------------------------------------------------------ memorybench


def decode_column(value: object) -> object:
    """A column as the hub stores it: JSON, else a Python literal (as MemoryBench's own loader reads it)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise ValueError(f"is a string that is neither JSON nor a Python literal: {quote(value)}") from None


def _decoded_or_text(value: object) -> object:
    # ``info`` is evaluation metadata: keep it even when it is free text rather than an encoded object.
    try:
        return decode_column(value)
    except ValueError:
        return value


class _BenchMessage(BaseModel):
    # Upstream adds bookkeeping keys to turns (e.g. ``origin_content``): ignored, not errors.
    model_config = ConfigDict(extra="ignore")

    role: Annotated[str, BeforeValidator(_role)]
    content: Annotated[str, BeforeValidator(_content_text)]
    name: str | None = None


class _BenchImplicit(BaseModel):
    model_config = ConfigDict(extra="ignore")

    round: int = Field(ge=0)
    implicit_action: Annotated[ReactionValue, BeforeValidator(_reaction_value)]
    terminated: bool = False


def _to_list_of_dicts(value: object) -> object:
    decoded = decode_column(value)
    return [] if decoded is None else decoded


BenchMessages = Annotated[list[_BenchMessage], BeforeValidator(_to_list_of_dicts)]


class MemoryBenchInput(BaseModel):
    # Rows carry more columns than the ones read here (one dialog per memory system for LoCoMo/DialSim, ...):
    # they are kept in metadata["extra"] rather than rejected.
    model_config = ConfigDict(extra="allow")

    test_idx: IdText
    dataset_name: str
    lang: str | None = None
    input_prompt: str | None = None
    input_chat_messages: BenchMessages | None = None
    dialog: BenchMessages = Field(default_factory=list)
    implicit_feedback: Annotated[list[_BenchImplicit], BeforeValidator(_to_list_of_dicts)] = Field(default_factory=list)
    info: Annotated[Any, BeforeValidator(_decoded_or_text)] = None
    # A prediction file's answer: used as the assistant turn when there is no dialog.
    response: str | None = None


def answer_turns(messages: Sequence[Message]) -> list[int]:
    """Indexes of the assistant answers: the assistant turns after the first user turn."""
    first_user = next((i for i, m in enumerate(messages) if m.role == "user"), len(messages))
    return [i for i, m in enumerate(messages) if i > first_user and m.role == "assistant"]


def implicit_feedback_turns(rounds: Sequence[int], answers: Sequence[int]) -> list[int | None]:
    """Map MemoryBench feedback rounds to assistant turns; None where the round has no answer.

    Upstream numbers rounds two ways. MemoryBench-code's dialog generator counts the first answer as
    round 0 and records the feedback on it as round 1, so round r is about the r-th answer (1-based); an
    older generator records the feedback on the first answer as round 0 (0-based). A 0 only occurs in the
    0-based numbering, so it decides: any round 0 -> 0-based, otherwise 1-based.
    """
    base = 0 if 0 in rounds else 1
    return [answers[r - base] if 0 <= r - base < len(answers) else None for r in rounds]


def from_memorybench(
    obj: Mapping[str, object], *, namespace: str | None = None, user_id: str | None = None
) -> LogRecord:
    """A MemoryBench row -> ``LogRecord`` with id ``{dataset_name}_{test_idx}``.

    The dialog's later user turns stay messages (``LogRecord`` derives follow-ups from them); each
    ``implicit_feedback`` entry becomes an implicit ``ReactionFeedback`` on the answer of its round.
    """
    parsed = _validate(MemoryBenchInput, obj)
    messages = _bench_messages(parsed)
    answers = answer_turns(messages)
    rounds = [item.round for item in parsed.implicit_feedback]
    problems: list[Problem] = []
    feedback: list[Feedback] = []
    for index, (item, turn) in enumerate(
        zip(parsed.implicit_feedback, implicit_feedback_turns(rounds, answers), strict=False)
    ):
        if turn is None:
            problems.append(
                Problem(
                    ("implicit_feedback", index, "round"),
                    f"round {item.round} has no assistant answer (the dialog has {len(answers)})",
                )
            )
            continue
        feedback.append(
            ReactionFeedback(value=item.implicit_action, terminated=item.terminated, implicit=True, turn=turn)
        )
    if problems:
        raise InvalidRecord(problems)
    log_namespace, log_user = _Scoping(namespace, user_id).resolve(None, None)
    metadata: dict[str, Any] = {
        "dataset_name": parsed.dataset_name,
        "test_idx": obj["test_idx"],
        "lang": parsed.lang,
    }
    if parsed.info is not None:
        metadata["info"] = parsed.info
    if parsed.model_extra:
        metadata["extra"] = dict(parsed.model_extra)
    return _build_log(
        {
            "id": f"{parsed.dataset_name}_{parsed.test_idx}",
            "namespace": log_namespace,
            "user_id": log_user,
            "messages": messages,
            "feedback": feedback,
            "metadata": metadata,
        }
    )


def _bench_messages(parsed: MemoryBenchInput) -> list[Message]:
    """The dialog; without one, the input plus an answer found elsewhere in the row, or an error."""
    if parsed.dialog:
        return _bench_to_messages(parsed.dialog, "dialog")
    if parsed.input_chat_messages:
        messages = _bench_to_messages(parsed.input_chat_messages, "input_chat_messages")
    elif parsed.input_prompt is not None:
        messages = [Message(role="user", content=parsed.input_prompt)]
    else:
        raise InvalidRecord.at(("dialog",), "is empty and the row has neither `input_prompt` nor `input_chat_messages`")
    if not answer_turns(messages) and parsed.response is not None:
        messages.append(Message(role="assistant", content=parsed.response))
    if not answer_turns(messages):
        raise InvalidRecord.at(("dialog",), "is empty and the input has no assistant answer: no response to learn from")
    return messages


def _bench_to_messages(items: Sequence[_BenchMessage], field: str) -> list[Message]:
    messages: list[Message] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        try:
            messages.append(Message.model_validate({"role": item.role, "content": item.content, "name": item.name}))
        except ValidationError as error:
            problems.extend(InvalidRecord.from_validation_error(error, (field, index)).problems)
    if problems:
        raise InvalidRecord(problems)
    return messages


# ------------------------------------------------------------------------------------------ openwebui

# Open WebUI's thumbs: 1 up, -1 down (0 or none: not rated). Its 1-10 slider goes to ``details.rating``.
_OPENWEBUI_THUMBS: dict[int, ReactionValue] = {1: "like", -1: "dislike", 0: "none"}
_OPENWEBUI_SCALE = (1.0, 10.0)
_LAST_TIMESTAMP = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


class _OpenWebUIDetails(BaseModel):
    model_config = ConfigDict(extra="allow")

    rating: Annotated[float | None, BeforeValidator(_rating_number)] = None


class _OpenWebUIData(BaseModel):
    # The rated message's annotation, spread into ``data``: more keys than read here are normal.
    model_config = ConfigDict(extra="allow", protected_namespaces=())

    rating: IdText | None = None
    details: _OpenWebUIDetails | None = None
    reason: str | None = None
    comment: str | None = None
    tags: list[str] | None = None
    model_id: str | None = None


class _OpenWebUIMeta(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())

    chat_id: str | None = None
    message_id: str
    message_index: int | None = None
    model_id: str | None = None
    arena: bool | None = None


class _OpenWebUIMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: IdText
    parentId: str | None = None
    role: Annotated[str, BeforeValidator(_role)]
    content: Annotated[str, BeforeValidator(_content_text)] = ""


class OpenWebUIFeedbackInput(BaseModel):
    """One record of Open WebUI's feedback export (Admin > Evaluations > Export, or
    ``GET /api/v1/evaluations/feedbacks/all/export``): a rating with its reason and comment, and a snapshot of
    the chat as it was when the user rated the answer."""

    model_config = ConfigDict(extra="allow")

    id: IdText
    user_id: str | None = None
    type: str = "rating"
    data: _OpenWebUIData = Field(default_factory=_OpenWebUIData)
    meta: _OpenWebUIMeta
    snapshot: dict[str, Any]
    # Seconds since the epoch; bounded by the last second a datetime can hold (9999-12-31T23:59:59Z).
    created_at: int | None = Field(default=None, ge=0, le=_LAST_TIMESTAMP)


def from_openwebui(obj: Mapping[str, object], *, namespace: str | None = None, user_id: str | None = None) -> LogRecord:
    """An Open WebUI feedback record -> ``LogRecord`` with id ``openwebui-{feedback id}``.

    The conversation is the snapshot's branch through the rated answer (up to the chat's current message when it
    continues from there). The thumbs become a reaction, the 1-10 score a rating on that scale and the comment a
    follow-up, all on the rated answer; the preset reason, tags and model are kept in metadata.
    """
    parsed = _validate(OpenWebUIFeedbackInput, obj)
    history = _openwebui_history(parsed.snapshot)
    messages, rated = _openwebui_branch(history, parsed.meta.message_id)
    feedback = _openwebui_feedback(parsed.data, rated)
    log_namespace, log_user = _Scoping(namespace, user_id).resolve(None, parsed.user_id)
    metadata: dict[str, Any] = {
        "source": "openwebui",
        "feedback_id": parsed.id,
        "chat_id": parsed.meta.chat_id,
        "message_id": parsed.meta.message_id,
        "model_id": parsed.data.model_id or parsed.meta.model_id,
    }
    for key, value in (("reason", parsed.data.reason), ("tags", parsed.data.tags), ("title", history.title)):
        if value:
            metadata[key] = value
    return _build_log(
        {
            "id": f"openwebui-{parsed.id}",
            "namespace": log_namespace,
            "user_id": log_user,
            "timestamp": datetime.fromtimestamp(parsed.created_at, UTC) if parsed.created_at is not None else None,
            "messages": messages,
            "feedback": feedback,
            "metadata": metadata,
        }
    )


@dataclass(frozen=True)
class _ChatHistory:
    messages: dict[str, _OpenWebUIMessage]
    current_id: str | None
    title: str | None


def _openwebui_history(snapshot: Mapping[str, Any]) -> _ChatHistory:
    """The message tree of the snapshot: ``snapshot.chat`` is the chat row, whose ``chat`` holds ``history``."""
    row = snapshot.get("chat")
    if not isinstance(row, dict):
        raise InvalidRecord.at(("snapshot", "chat"), f"expected the chat object, got {json_type_name(row)}")
    inner = row.get("chat")
    body: dict[str, Any] = inner if isinstance(inner, dict) else row
    history = body.get("history")
    loc: Loc = ("snapshot", "chat", "chat", "history") if body is not row else ("snapshot", "chat", "history")
    if not isinstance(history, dict) or not isinstance(history.get("messages"), dict):
        raise InvalidRecord.at(loc, "has no `messages` object: the snapshot holds no conversation")
    messages: dict[str, _OpenWebUIMessage] = {}
    problems: list[Problem] = []
    for key, raw in history["messages"].items():
        try:
            messages[str(key)] = _OpenWebUIMessage.model_validate(raw)
        except ValidationError as error:
            problems.extend(InvalidRecord.from_validation_error(error, (*loc, "messages", str(key))).problems)
    if problems:
        raise InvalidRecord(problems)
    current = history.get("currentId")
    title = row.get("title") or body.get("title")
    return _ChatHistory(
        messages, current if isinstance(current, str) else None, title if isinstance(title, str) else None
    )


def _openwebui_branch(history: _ChatHistory, rated_id: str) -> tuple[list[Message], int]:
    """The branch root -> rated answer (-> current message, when the chat went on from it) and the rated index."""
    if rated_id not in history.messages:
        raise InvalidRecord.at(("meta", "message_id"), f"message {rated_id!r} is not in the snapshot's history")
    branch = _openwebui_ancestors(history, rated_id)
    if history.current_id in history.messages and history.current_id != rated_id:
        continued = _openwebui_ancestors(history, history.current_id)
        if rated_id in continued:
            branch = continued
    rated = branch.index(rated_id)
    if history.messages[rated_id].role != "assistant":
        raise InvalidRecord.at(("meta", "message_id"), f"message {rated_id!r} is not an assistant answer")
    messages: list[Message] = []
    problems: list[Problem] = []
    for message_id in branch:
        item = history.messages[message_id]
        try:
            messages.append(Message.model_validate({"role": item.role, "content": item.content}))
        except ValidationError as error:
            loc = ("snapshot", "history", "messages", message_id)
            problems.extend(InvalidRecord.from_validation_error(error, loc).problems)
    if problems:
        raise InvalidRecord(problems)
    return messages, rated


def _openwebui_ancestors(history: _ChatHistory, message_id: str) -> list[str]:
    """``message_id`` and its parents, root first; a cycle or a dangling parent is reported."""
    chain = [message_id]
    while (parent := history.messages[chain[-1]].parentId) is not None:
        if parent not in history.messages:
            raise InvalidRecord.at(("snapshot", "history"), f"message {chain[-1]!r} has unknown parent {parent!r}")
        if parent in chain:
            raise InvalidRecord.at(("snapshot", "history"), f"the messages' parents form a cycle at {parent!r}")
        chain.append(parent)
    return chain[::-1]


def _openwebui_feedback(data: _OpenWebUIData, turn: int) -> list[Feedback]:
    feedback: list[Feedback] = []
    if data.rating is not None:
        thumbs = _openwebui_thumbs(data.rating)
        if thumbs != "none":
            feedback.append(ReactionFeedback(value=thumbs, turn=turn))
    score = data.details.rating if data.details is not None else None
    if score is not None:
        low, high = _OPENWEBUI_SCALE
        if not low <= score <= high:
            raise InvalidRecord.at(("data", "details", "rating"), f"{score:g} is outside Open WebUI's 1-10 scale")
        feedback.append(RatingFeedback(value=score, scale_min=low, scale_max=high, turn=turn))
    if data.comment and data.comment.strip():
        feedback.append(FollowupFeedback(text=data.comment, turn=turn))
    return feedback


def _openwebui_thumbs(rating: str) -> ReactionValue:
    try:
        return _OPENWEBUI_THUMBS[int(rating)]
    except (ValueError, KeyError):
        message = f"expected 1 (thumbs up) or -1 (thumbs down), got {quote(rating)}"
        raise InvalidRecord.at(("data", "rating"), message) from None


# ------------------------------------------------------------------------------------------ langfuse

# Scores an end user gave: sent by the application through the API/SDK. Annotations (the team's reviews in the
# Langfuse UI) and evals (LLM judges) are not user feedback: kept in metadata, never learnt from.
_LANGFUSE_USER_SOURCES = frozenset({"API"})
# The documented thumbs convention for user-feedback scores: 1 up, 0 (or -1) down.
_LANGFUSE_THUMBS: dict[float, ReactionValue] = {1.0: "like", 0.0: "dislike", -1.0: "dislike"}
_QUERY_KEYS = ("query", "question", "input", "prompt", "text", "message", "content")
_ANSWER_KEYS = ("output", "answer", "response", "completion", "text", "content")


class _LangfuseScore(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: IdText | None = None
    name: str
    value: Annotated[float | None, BeforeValidator(_rating_number)] = None
    stringValue: str | None = None
    dataType: str | None = None
    source: str | None = None
    comment: str | None = None


class LangfuseTraceInput(BaseModel):
    """A Langfuse trace with its observations and scores, as the public API returns one
    (``GET /api/public/traces/{traceId}``: ``TraceWithFullDetails``); a page of them (``{"data": [...]}``) reads
    as one record per trace."""

    model_config = ConfigDict(extra="allow")

    id: IdText
    timestamp: datetime | None = None
    name: str | None = None
    userId: str | None = None
    sessionId: str | None = None
    input: Any = None
    output: Any = None
    tags: list[str] | None = None
    release: str | None = None
    version: str | None = None
    observations: list[Any] = Field(default_factory=list)
    # Full score objects, or bare score ids (``GET /api/public/traces`` lists ids only); read by ``_langfuse_scores``.
    scores: list[Any] = Field(default_factory=list)


def from_langfuse(obj: Mapping[str, object], *, namespace: str | None = None, user_id: str | None = None) -> LogRecord:
    """A Langfuse trace -> ``LogRecord`` with id ``langfuse-{trace id}``.

    The conversation is the trace's ``input`` (a string, chat messages, or an object holding either) and
    ``output``; when those are not text, the last generation observation's. User feedback scores (source
    ``API``) become feedback on the answer: a boolean or thumbs score (1 / 0 / -1) a like or dislike, a
    categorical one its reaction when it names one, a comment a follow-up. Other scores are kept in metadata.
    """
    parsed = _validate(LangfuseTraceInput, obj)
    messages = _langfuse_conversation(parsed)
    turn = answer_turns(messages)[-1]
    feedback, kept = _langfuse_feedback(_langfuse_scores(parsed.scores), turn)
    log_namespace, log_user = _Scoping(namespace, user_id).resolve(None, parsed.userId)
    metadata: dict[str, Any] = {"source": "langfuse", "trace_id": parsed.id}
    for key, value in (
        ("trace_name", parsed.name),
        ("session_id", parsed.sessionId),
        ("tags", parsed.tags),
        ("release", parsed.release),
        ("version", parsed.version),
        ("other_scores", kept),
    ):
        if value:
            metadata[key] = value
    return _build_log(
        {
            "id": f"langfuse-{parsed.id}",
            "namespace": log_namespace,
            "user_id": log_user,
            "timestamp": parsed.timestamp,
            "messages": messages,
            "feedback": feedback,
            "metadata": metadata,
        }
    )


def _langfuse_conversation(trace: LangfuseTraceInput) -> list[Message]:
    """The trace's own input and output; else the last generation's; else a problem saying what was found."""
    candidates = [(trace.input, trace.output)]
    generations = [
        o for o in trace.observations if isinstance(o, dict) and str(o.get("type", "")).upper() == "GENERATION"
    ]
    candidates += [(g.get("input"), g.get("output")) for g in reversed(generations)]
    for raw_input, raw_output in candidates:
        messages = _langfuse_messages(raw_input)
        answer = _langfuse_answer(raw_output)
        if messages and answer and any(m.role == "user" for m in messages):
            return [*messages, Message(role="assistant", content=answer)]
    raise InvalidRecord.at(
        ("input",),
        f"no conversation to read: the trace's input ({json_type_name(trace.input)}) and output "
        f"({json_type_name(trace.output)}) are not text or chat messages, and no generation observation has them",
    )


def _langfuse_messages(value: object) -> list[Message]:
    """A prompt as messages: a string (one user turn), chat messages, or an object holding either."""
    if isinstance(value, str):
        return [Message(role="user", content=value)] if value.strip() else []
    if isinstance(value, list):
        messages: list[Message] = []
        for item in value:
            if not isinstance(item, dict) or "role" not in item:
                return []
            try:
                message = ChatMessageInput.model_validate({k: item[k] for k in ("role", "content") if k in item})
                messages.append(message.to_message())
            except ValidationError:
                return []
        return messages
    if isinstance(value, dict):
        if "messages" in value:
            return _langfuse_messages(value["messages"])
        for key in _QUERY_KEYS:
            if isinstance(value.get(key), str | list | dict) and value[key]:
                return _langfuse_messages(value[key])
    return []


def _langfuse_answer(value: object) -> str | None:
    """An answer's text: a string, an assistant message, an OpenAI completion, or an object holding one."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, list):
        texts = [_langfuse_answer(item) for item in value if not isinstance(item, dict) or item.get("role") != "user"]
        found = [text for text in texts if text]
        return found[-1] if found else None
    if isinstance(value, dict):
        choices = value.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            return _langfuse_answer(choices[0].get("message") or choices[0].get("text"))
        for key in _ANSWER_KEYS:
            if key in value:
                return _langfuse_answer(_langfuse_parts_text(value[key]))
    return None


def _langfuse_parts_text(content: object) -> object:
    """Content parts as their text; parts that are not text parts (``[1]``, a part whose ``text`` is not a string)
    make no answer, so that the other candidates are tried and the trace is refused with a reason if none fits."""
    if not isinstance(content, list):
        return content
    try:
        return _content_text(content)
    except ValueError:
        return None


def _langfuse_scores(items: Sequence[object]) -> list[_LangfuseScore | str]:
    """Each score as an object, or its id when only the id is there; every invalid score reported."""
    scores: list[_LangfuseScore | str] = []
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            scores.append(item)
            continue
        try:
            scores.append(_LangfuseScore.model_validate(item))
        except ValidationError as error:
            problems.extend(InvalidRecord.from_validation_error(error, ("scores", index)).problems)
    if problems:
        raise InvalidRecord(problems)
    return scores


def _langfuse_feedback(scores: Sequence[_LangfuseScore | str], turn: int) -> tuple[list[Feedback], list[Any]]:
    """The users' scores as feedback on ``turn``; every other score as kept, with why it was not used."""
    feedback: list[Feedback] = []
    kept: list[Any] = []
    for score in scores:
        if isinstance(score, str):
            kept.append({"id": score, "unused": "a score id without its value"})
            continue
        summary = {"name": score.name, "value": score.value, "string_value": score.stringValue, "source": score.source}
        if score.source is not None and score.source.upper() not in _LANGFUSE_USER_SOURCES:
            kept.append(summary | {"unused": f"source {score.source} is not an end user's feedback"})
            continue
        reaction = _langfuse_reaction(score)
        if reaction is not None:
            feedback.append(ReactionFeedback(value=reaction, turn=turn))
        elif score.comment is None or not score.comment.strip():
            kept.append(summary | {"unused": "a value with no known meaning (not a thumbs or boolean score)"})
        if score.comment and score.comment.strip():
            feedback.append(FollowupFeedback(text=score.comment, turn=turn))
    return feedback, kept


def _langfuse_reaction(score: _LangfuseScore) -> ReactionValue | None:
    kind = (score.dataType or "").upper()
    if kind == "CATEGORICAL" or (score.value is None and score.stringValue is not None):
        named = _reaction_value(score.stringValue)
        return named if named in ("like", "love", "dislike", "copy") else None
    if score.value is None:
        return None
    if kind == "BOOLEAN" and score.value not in (0.0, 1.0):
        return None
    return _LANGFUSE_THUMBS.get(score.value)


# ------------------------------------------------------------------------------------------ dispatch

RecordParser = Callable[..., LogRecord]

PARSERS: dict[Format, RecordParser] = {
    Format.PLAIN: from_plain,
    Format.OPENAI: from_openai,
    Format.MEMORYBENCH: from_memorybench,
    Format.OPENWEBUI: from_openwebui,
    Format.LANGFUSE: from_langfuse,
}


def parse_record(
    obj: object,
    format: Format | str | None = None,
    *,
    namespace: str | None = None,
    user_id: str | None = None,
) -> LogRecord:
    """Parse one record (its format detected from its keys when not given).

    Raises ``InvalidRecord`` naming each problem, or ``FormatDetectionError`` when the format is not given
    and the keys do not tell it.
    """
    if not isinstance(obj, dict):
        raise InvalidRecord.at((), f"expected a JSON object, got {json_type_name(obj)}")
    record = cast(dict[str, object], obj)
    chosen = parse_format(format) if format is not None else detect_format(record)
    return PARSERS[chosen](record, namespace=namespace, user_id=user_id)
