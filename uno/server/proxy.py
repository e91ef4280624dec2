"""The OpenAI-compatible memory proxy: ``POST /v1/chat/completions`` (streaming too) and ``GET /v1/models``.

An app switches to it by changing ``base_url`` (and using an uno API key). For each request the proxy:

1. records the user's new turn as a follow-up on the previous answer it logged in this conversation (the
   conversation is recognised by its history, see :mod:`uno.integrations.conversation`);
2. augments the messages with what uno learnt (the block goes after the app's own system prompt);
3. forwards them to the upstream model through litellm and returns its answer unchanged, plus an ``uno`` field
   (``log_id``, ``rule_ids``, ``route``, and ``strategy`` when the server runs the strategy bandit; in the last
   chunk when streaming) and an ``X-Uno-Log-Id`` header;
4. logs the exchange as the app sent it: never uno's block. With the strategy bandit (``create_app(strategy_bandit=
   True)``), the log records the arm that produced the answer, and the user's next turn (step 1) or any later
   reaction, rating or edit rewards that arm (:func:`uno.bandit.credit_feedback`).

The request's ``model`` is recorded but the upstream model is the one the server was started with; ``user``
is the end user (personal rules, and the log's ``user_id``). Parameters OpenAI defines for generation are
forwarded; anything else (``api_base``, ``api_key``, ...) is not, so a client cannot redirect the server's
upstream credentials.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from rule_store.records import Message, Role
from uno.bandit import pull_metadata
from uno.ingest.limits import message_problems
from uno.inject import Augmentation
from uno.integrations.conversation import Exchange, merge_system_prompt
from uno.memory import UnoMemory
from uno.server.auth import Identity, State, Tenant
from uno.server.errors import COMMON_RESPONSES, ApiError, ErrorResponse
from uno.server.schemas import MAX_ID_CHARS, MAX_MESSAGES
from uno.server.state import ServerState
from uno.server.upstream import JSON, Upstream, UpstreamError

log = logging.getLogger("uno.server.proxy")

T = TypeVar("T")
LOG_ID_HEADER = "X-Uno-Log-Id"
# Key of the ``uno`` response details saying why an exchange was not logged (it is over the input limits).
_NOT_LOGGED = "not_logged"
# OpenAI chat-completion parameters passed on to the upstream model; every other field is ignored.
FORWARDED_PARAMS = (
    "temperature",
    "top_p",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "stream_options",
    "reasoning_effort",
    "user",
)
_LOG_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}
UPSTREAM_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The upstream model rejected the request."},
    429: {"model": ErrorResponse, "description": "The upstream model is rate limited."},
    502: {"model": ErrorResponse, "description": "The upstream model failed or could not be reached."},
    504: {"model": ErrorResponse, "description": "The upstream model timed out."},
}


class ChatMessage(BaseModel):
    """An OpenAI chat message. Fields beyond these (``tool_calls``, ``tool_call_id``, ...) are passed on as sent."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat-completion request. Unknown fields are accepted and not forwarded (see the module doc)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=MAX_ID_CHARS)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    user: str | None = Field(default=None, min_length=1, max_length=MAX_ID_CHARS)
    metadata: dict[str, str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=16)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)


def proxy_router(upstream: Upstream) -> APIRouter:
    """The routes of the proxy to ``upstream``."""
    router = APIRouter(prefix="/v1", responses=COMMON_RESPONSES, tags=["openai"])

    @router.get("/models", dependencies=[Depends(_authenticated)])
    def list_models() -> dict[str, Any]:
        """The one model this proxy serves (OpenAI's model list shape)."""
        return {"object": "list", "data": [{"id": upstream.model, "object": "model", "created": 0, "owned_by": "uno"}]}

    @router.post(
        "/chat/completions",
        responses={
            **UPSTREAM_ERRORS,
            200: {"description": "A chat completion, or `text/event-stream` chunks when `stream` is true."},
        },
    )
    async def chat_completions(
        body: ChatCompletionRequest,
        namespace: Tenant,
        state: State,
        caller: Identity,
        x_uno_user: Annotated[str | None, Header(max_length=MAX_ID_CHARS)] = None,
    ) -> Any:
        """Augment the conversation with uno's memory, answer it with the upstream model, log it."""
        user_id = body.user or x_uno_user
        meta: dict[str, Any] = {"model_requested": body.model}
        if body.metadata:
            meta["request_metadata"] = body.metadata
        conversation = _log_messages(body.messages)
        unfit = message_problems(conversation, state.memory.limits)
        if unfit:
            # The app's request is still answered, as sent, but uno neither reads it (no augmentation, no
            # follow-up) nor logs it: the work one request can cause stays bounded. The reason comes back.
            exchange = Exchange(namespace=namespace, user_id=user_id, history=())
            meta[_NOT_LOGGED] = "over the input limits: " + "; ".join(str(p) for p in unfit[:3])
        else:
            exchange = await state.recorder.abegin(
                conversation, namespace=namespace, user_id=user_id, verified_id=caller.verified_id(user_id)
            )
        augmentation = await _augment(state, exchange, namespace, user_id)
        messages = _forwarded_messages(body.messages, augmentation)
        params = _forwarded_params(body)
        if body.stream:
            chunks = await _call(upstream.open_stream(messages, params))
            return StreamingResponse(
                _relay(chunks, state, exchange, augmentation, meta),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        completion = await _call(upstream.complete(messages, params))
        details = await _log(state, exchange, _answer_text(completion), augmentation, meta)
        headers = {LOG_ID_HEADER: details["log_id"]} if details["log_id"] else {}
        return JSONResponse({**completion, "uno": details}, headers=headers)

    return router


def _authenticated(namespace: Tenant) -> None:
    """Require a valid key (the model list is not tenant data, but the server is not public)."""


async def _augment(state: ServerState, exchange: Exchange, namespace: str, user_id: str | None) -> Augmentation | None:
    query = exchange.query
    if query is None:
        return None
    memory: UnoMemory = state.memory
    bandit = None
    if state.bandit_explore is not None:
        bandit = memory.strategy_bandit(namespace=namespace, explore=state.bandit_explore)
    result: Augmentation = await memory.aaugment(query, user_id=user_id, namespace=namespace, bandit=bandit)
    return result


async def _call(pending: Awaitable[T]) -> T:
    """Await an upstream call, turning its failure into the matching HTTP error."""
    try:
        return await pending
    except UpstreamError as error:
        status, message = _status_for(error)
        raise ApiError(status, message) from None


def _status_for(error: UpstreamError) -> tuple[int, str]:
    if error.status in (400, 422):
        return 400, f"the upstream model rejected the request: {error}"
    if error.status == 429:
        return 429, f"the upstream model is rate limited: {error}"
    if error.status in (408, 504):
        return 504, f"the upstream model timed out: {error}"
    return 502, f"the upstream model failed: {error}"


async def _relay(
    chunks: AsyncGenerator[JSON, None],
    state: ServerState,
    exchange: Exchange,
    augmentation: Augmentation | None,
    meta: dict[str, Any],
) -> AsyncIterator[bytes]:
    """Pass the upstream chunks on as server-sent events; log the answer once the stream completes (a stream
    cut short is not logged: the user never saw that answer whole), then send the ``uno`` chunk and ``[DONE]``."""
    parts: list[str] = []
    last: JSON = {}
    try:
        async for chunk in chunks:
            last = chunk
            parts.append(_delta_text(chunk))
            yield _event(chunk)
    except UpstreamError as error:
        status, message = _status_for(error)
        yield _event({"error": {"type": "upstream_error", "message": message, "code": status}})
        return
    finally:
        # Also when the client went away mid-stream: release the upstream connection now.
        await chunks.aclose()
    details = await _log(state, exchange, "".join(parts), augmentation, meta)
    yield _event(
        {
            "id": last.get("id") or f"chatcmpl-uno-{uuid.uuid4().hex}",
            "object": "chat.completion.chunk",
            "created": last.get("created") or int(time.time()),
            "model": last.get("model") or "",
            "choices": [],
            "uno": details,
        }
    )
    yield b"data: [DONE]\n\n"


async def _log(
    state: ServerState, exchange: Exchange, answer: str, augmentation: Augmentation | None, meta: dict[str, Any]
) -> dict[str, Any]:
    """Log the exchange; the ``uno`` details of the response. The user already has the answer: a failure to
    log it is reported in the details and the server log, not by failing the request."""
    rule_ids = [rule.rule_id for rule in augmentation.rules] if augmentation else []
    details: dict[str, Any] = {
        "log_id": None,
        "rule_ids": rule_ids,
        "route": augmentation.route.value if augmentation else "none",
        "previous_log_id": exchange.previous_log_id,
    }
    choice = augmentation.strategy if augmentation else None
    if choice is not None:
        details["strategy"] = choice.details()
    if _NOT_LOGGED in meta:
        details[_NOT_LOGGED] = meta[_NOT_LOGGED]
        return details
    # The arm behind the answer is kept with its log: feedback on the answer rewards it (UnoMemory.feedback).
    meta = {**meta, **pull_metadata(augmentation.cluster_id if augmentation else None, choice)}
    try:
        details["log_id"] = await state.recorder.afinish(exchange, answer, injected_rule_ids=rule_ids, metadata=meta)
    except Exception:
        log.exception("could not log an exchange in namespace %r", exchange.namespace)
        details["error"] = "the exchange could not be logged (see the server log)"
    return details


def _event(payload: JSON) -> bytes:
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


# --- messages


def _text(content: str | list[dict[str, Any]] | None) -> str:
    """A message's text: its text parts joined; other parts (images, audio) as a ``[type]`` placeholder."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    pieces = []
    for part in content:
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            pieces.append(part["text"])
        else:
            pieces.append(f"[{part.get('type', 'part')}]")
    return "\n".join(pieces)


def _log_messages(messages: list[ChatMessage]) -> list[Message]:
    return [Message(role=_LOG_ROLES[m.role], content=_text(m.content), name=m.name) for m in messages]


def _forwarded_messages(messages: list[ChatMessage], augmentation: Augmentation | None) -> list[JSON]:
    """The messages as sent, with uno's block after the app's first system prompt (or in a new first one)."""
    out = [m.model_dump(exclude_none=True) for m in messages]
    block = augmentation.system_block if augmentation else None
    if not block:
        return out
    first = out[0]
    if first["role"] in ("system", "developer") and isinstance(first.get("content"), str):
        out[0] = {**first, "content": merge_system_prompt(first["content"], block)}
    elif first["role"] in ("system", "developer") and isinstance(first.get("content"), list):
        out[0] = {**first, "content": [*first["content"], {"type": "text", "text": block}]}
    else:
        out.insert(0, {"role": "system", "content": block})
    return out


def _forwarded_params(body: ChatCompletionRequest) -> dict[str, Any]:
    given = body.model_dump(exclude_none=True)
    return {name: given[name] for name in FORWARDED_PARAMS if name in given}


def _answer_text(completion: JSON) -> str:
    choices = completion.get("choices") or []
    message = choices[0].get("message", {}) if choices else {}
    content = message.get("content")
    return content if isinstance(content, str) else ""


def _delta_text(chunk: JSON) -> str:
    for choice in chunk.get("choices") or []:
        if choice.get("index", 0) == 0:
            content = (choice.get("delta") or {}).get("content")
            return content if isinstance(content, str) else ""
    return ""
