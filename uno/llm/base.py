"""The ``LLM`` protocol and the machinery every implementation shares.

:class:`BaseLLM` owns what does not depend on the provider: bounded concurrency (sync and async), retries with
exponential backoff and jitter, the response cache, the ledger, and structured output (schema in the prompt,
tolerant parsing, pydantic validation, one re-ask quoting the validation error). A provider only implements one
attempt of a request (:meth:`BaseLLM._request` / :meth:`BaseLLM._arequest`) and says which errors are worth
retrying.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import json
import logging
import os
import random
import threading
import time
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import tenacity
from pydantic import BaseModel, ValidationError

from rule_store.records import stable_hash
from uno.ledger import CallRecord, Ledger, Outcome, ResponseCache
from uno.llm.parsing import JSONParseError, describe_validation_error, validate_reply

log = logging.getLogger("uno.llm")

ModelT = TypeVar("ModelT", bound=BaseModel)
T = TypeVar("T")

# A chat message as every provider takes it: {"role": "system" | "user" | "assistant", "content": "..."}.
ChatMessage = Mapping[str, str]

_REASK_ECHO_CHARS = 2000


class LLMError(RuntimeError):
    """An LLM call did not give a usable answer."""


class LLMCallError(LLMError):
    """The provider failed (after ``attempts`` tries): rate limit, server error, timeout, refused request."""

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


class LLMOutputError(LLMError):
    """The model answered, but not with what was asked for, even after one re-ask."""

    def __init__(self, message: str, *, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


@dataclass(frozen=True)
class Completion:
    """One reply. ``top_logprobs`` holds, per generated token, the candidates' log-probabilities, where exposed."""

    text: str
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    finish_reason: str | None = None
    top_logprobs: tuple[dict[str, float], ...] | None = None
    cached: bool = False
    attempts: int = 1

    def payload(self) -> dict[str, Any]:
        """What the response cache keeps of it."""
        return {
            "text": self.text,
            "model": self.model,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": self.cost_usd,
            "finish_reason": self.finish_reason,
            "top_logprobs": None if self.top_logprobs is None else list(self.top_logprobs),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Completion:
        logprobs = payload.get("top_logprobs")
        return cls(
            text=str(payload.get("text", "")),
            model=str(payload.get("model", "")),
            tokens_in=int(payload.get("tokens_in", 0)),
            tokens_out=int(payload.get("tokens_out", 0)),
            cost_usd=payload.get("cost_usd"),
            finish_reason=payload.get("finish_reason"),
            top_logprobs=None if logprobs is None else tuple(dict(step) for step in logprobs),
            cached=True,
        )


@dataclass(frozen=True)
class Request:
    """Everything that determines a reply: its hash keys the cache and names the prompt in the ledger."""

    messages: tuple[tuple[str, str], ...]
    max_tokens: int
    temperature: float
    logprobs: int = 0
    # The JSON schema a structured call asks for (providers with a schema or JSON mode get it as a parameter).
    schema_name: str | None = None
    json_schema: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def prompt_hash(self) -> str:
        return stable_hash(self.messages, self.max_tokens, self.temperature, self.logprobs, self.schema_name, length=32)

    def chat(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]


@runtime_checkable
class LLM(Protocol):
    """A chat model uno can call: plain completions and validated structured output, sync and async.

    Every call is recorded in :attr:`ledger` under a ``purpose``. ``sources`` names the logs a prompt quotes, so
    cached replies can be forgotten with them.
    """

    @property
    def model(self) -> str: ...

    @property
    def ledger(self) -> Ledger: ...

    def bind_store(self, root: str | os.PathLike[str]) -> None:
        """Record calls in, and cache replies under, this store directory (unless configured otherwise)."""
        ...

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str = "complete",
        max_tokens: int | None = None,
        temperature: float | None = None,
        logprobs: int = 0,
        cache: bool = True,
        sources: Sequence[str] = (),
    ) -> Completion: ...

    async def acomplete(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str = "complete",
        max_tokens: int | None = None,
        temperature: float | None = None,
        logprobs: int = 0,
        cache: bool = True,
        sources: Sequence[str] = (),
    ) -> Completion: ...

    def structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[ModelT],
        *,
        purpose: str = "structured",
        max_tokens: int | None = None,
        sources: Sequence[str] = (),
    ) -> ModelT: ...

    async def astructured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[ModelT],
        *,
        purpose: str = "structured",
        max_tokens: int | None = None,
        sources: Sequence[str] = (),
    ) -> ModelT: ...


class BaseLLM(ABC):
    """Shared behaviour of uno's LLM implementations (see the module docstring).

    Args:
        model: the model's name, as recorded in the ledger and part of every cache key.
        temperature, max_tokens: defaults for calls that do not set them.
        max_concurrency: requests in flight at once, per process (sync threads) and per event loop (async).
        max_retries: retries after the first attempt, for errors the provider says are transient.
        backoff_base, backoff_max: the n-th retry waits ``min(backoff_max, backoff_base * 2**n)`` seconds, times a
            random factor in [0.5, 1] so that parallel callers do not retry in step.
        ledger: where calls are recorded; default an in-memory ledger until :meth:`bind_store` names a store.
        cache: validated replies by prompt; default none until :meth:`bind_store` (``use_cache=False``: never).
    """

    def __init__(
        self,
        model: str,
        *,
        temperature: float = 0.0,
        max_tokens: int = 1024,
        max_concurrency: int = 8,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        ledger: Ledger | None = None,
        cache: ResponseCache | None = None,
        use_cache: bool = True,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        self._model = model
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._own_ledger = ledger is None
        self._ledger = ledger or Ledger()
        self._cache = cache
        self.use_cache = use_cache
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._async_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._bind_lock = threading.Lock()

    # --- configuration

    @property
    def model(self) -> str:
        return self._model

    @property
    def ledger(self) -> Ledger:
        return self._ledger

    @property
    def cache(self) -> ResponseCache | None:
        return self._cache if self.use_cache else None

    def bind_store(self, root: str | os.PathLike[str]) -> None:
        """Use ``<root>/llm.sqlite`` for the ledger and the cache where none was given to the constructor."""
        with self._bind_lock:
            if self._own_ledger:
                self._ledger = Ledger.for_store(root)
                self._own_ledger = False
            if self._cache is None and self.use_cache:
                self._cache = ResponseCache.for_store(root)

    # --- provider hooks

    @abstractmethod
    def _request(self, request: Request) -> Completion:
        """One attempt, no retry: raise on failure."""

    @abstractmethod
    async def _arequest(self, request: Request) -> Completion:
        """One attempt, no retry, async: raise on failure."""

    def _retryable(self, error: BaseException) -> bool:
        """Whether ``error`` is transient (rate limit, server error, timeout, lost connection)."""
        return False

    def _retry_after(self, error: BaseException) -> float | None:
        """Seconds the provider asked to wait before retrying, when it said."""
        return None

    # --- plain completions

    def _make_request(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None,
        temperature: float | None,
        logprobs: int = 0,
        schema: type[BaseModel] | None = None,
    ) -> Request:
        turns = tuple((str(m["role"]), str(m["content"])) for m in messages)
        if not turns:
            raise ValueError("an LLM call needs at least one message")
        return Request(
            messages=turns,
            max_tokens=max_tokens or self.max_tokens,
            temperature=self.temperature if temperature is None else temperature,
            logprobs=logprobs,
            schema_name=None if schema is None else schema.__name__,
            json_schema=None if schema is None else compact_schema(schema),
        )

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str = "complete",
        max_tokens: int | None = None,
        temperature: float | None = None,
        logprobs: int = 0,
        cache: bool = True,
        sources: Sequence[str] = (),
    ) -> Completion:
        """One chat completion (cached by prompt unless ``cache=False``). ``logprobs`` asks for that many top
        candidates per generated token, where the provider exposes them."""
        request = self._make_request(messages, max_tokens=max_tokens, temperature=temperature, logprobs=logprobs)
        hit = self._cached(request, purpose) if cache else None
        if hit is not None:
            return hit
        completion = self._send(request, purpose)
        self._record(request, purpose, completion, "ok")
        if cache:
            self._store(request, completion, sources)
        return completion

    async def acomplete(
        self,
        messages: Sequence[ChatMessage],
        *,
        purpose: str = "complete",
        max_tokens: int | None = None,
        temperature: float | None = None,
        logprobs: int = 0,
        cache: bool = True,
        sources: Sequence[str] = (),
    ) -> Completion:
        """Async :meth:`complete`."""
        request = self._make_request(messages, max_tokens=max_tokens, temperature=temperature, logprobs=logprobs)
        hit = self._cached(request, purpose) if cache else None
        if hit is not None:
            return hit
        completion = await self._asend(request, purpose)
        self._record(request, purpose, completion, "ok")
        if cache:
            self._store(request, completion, sources)
        return completion

    # --- structured output

    def structured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[ModelT],
        *,
        purpose: str = "structured",
        max_tokens: int | None = None,
        sources: Sequence[str] = (),
    ) -> ModelT:
        """A reply validated against ``schema``: one call, plus one re-ask quoting the error when it is invalid.

        Raises :class:`LLMCallError` when the provider fails and :class:`LLMOutputError` when both replies are
        invalid. Only valid replies are cached, so a later call asks again instead of replaying garbage.
        """
        first = self._structured_request(messages, schema, max_tokens)
        hit = self._cached_valid(first, schema, purpose)
        if hit is not None:
            return hit
        completion = self._send(first, purpose)
        outcome = self._accept(first, first, completion, schema, purpose, sources)
        if isinstance(outcome, Exception):
            retry = _reask(first, completion.text, outcome)
            completion = self._send(retry, purpose)
            outcome = self._accept(first, retry, completion, schema, purpose, sources)
        if isinstance(outcome, Exception):
            raise self._invalid(schema, outcome, completion)
        return outcome

    async def astructured(
        self,
        messages: Sequence[ChatMessage],
        schema: type[ModelT],
        *,
        purpose: str = "structured",
        max_tokens: int | None = None,
        sources: Sequence[str] = (),
    ) -> ModelT:
        """Async :meth:`structured`."""
        first = self._structured_request(messages, schema, max_tokens)
        hit = self._cached_valid(first, schema, purpose)
        if hit is not None:
            return hit
        completion = await self._asend(first, purpose)
        outcome = self._accept(first, first, completion, schema, purpose, sources)
        if isinstance(outcome, Exception):
            retry = _reask(first, completion.text, outcome)
            completion = await self._asend(retry, purpose)
            outcome = self._accept(first, retry, completion, schema, purpose, sources)
        if isinstance(outcome, Exception):
            raise self._invalid(schema, outcome, completion)
        return outcome

    def _structured_request(
        self, messages: Sequence[ChatMessage], schema: type[BaseModel], max_tokens: int | None
    ) -> Request:
        return self._make_request(
            _with_schema(messages, schema), max_tokens=max_tokens, temperature=None, schema=schema
        )

    def _accept(
        self,
        first: Request,
        sent: Request,
        completion: Completion,
        schema: type[ModelT],
        purpose: str,
        sources: Sequence[str],
    ) -> ModelT | ValidationError | JSONParseError:
        """Validate a reply, record the call with its outcome, cache it under the first request when valid."""
        try:
            value = validate_reply(completion.text, schema)
        except (JSONParseError, ValidationError) as exc:
            self._record(sent, purpose, completion, "invalid", error=_clip(describe_validation_error(exc)))
            return exc
        self._record(sent, purpose, completion, "ok")
        self._store(first, completion, sources)
        return value

    def _invalid(
        self, schema: type[BaseModel], error: ValidationError | JSONParseError, completion: Completion
    ) -> LLMOutputError:
        return LLMOutputError(
            f"{self.model} gave no valid {schema.__name__} after a re-ask: {describe_validation_error(error)}",
            raw=completion.text,
        )

    def _cached_valid(self, request: Request, schema: type[ModelT], purpose: str) -> ModelT | None:
        cache = self.cache
        payload = cache.get(self._cache_key(request)) if cache is not None else None
        if payload is None:
            return None
        completion = Completion.from_payload(payload)
        try:
            value = validate_reply(completion.text, schema)
        except (JSONParseError, ValidationError):
            return None  # cached under an older schema: ask again
        self._record(request, purpose, completion, "ok")
        return value

    # --- sending, with retries and bounded concurrency

    def _send(self, request: Request, purpose: str) -> Completion:
        started = time.perf_counter()
        attempts = 0
        with self._slot():
            try:
                for attempt in tenacity.Retrying(**self._retry_policy()):
                    attempts = attempt.retry_state.attempt_number
                    with attempt:
                        completion = self._request(request)
            except Exception as exc:
                raise self._failed(request, purpose, exc, attempts, started) from exc
            return _finished(completion, attempts, started)

    async def _asend(self, request: Request, purpose: str) -> Completion:
        started = time.perf_counter()
        attempts = 0
        async with self._aslot():
            try:
                async for attempt in tenacity.AsyncRetrying(**self._retry_policy()):
                    attempts = attempt.retry_state.attempt_number
                    with attempt:
                        completion = await self._arequest(request)
            except Exception as exc:
                raise self._failed(request, purpose, exc, attempts, started) from exc
            return _finished(completion, attempts, started)

    def _retry_policy(self) -> dict[str, Any]:
        """tenacity's loop, our policy: ``max_retries`` retries of what the provider calls transient, waiting
        :meth:`_delay` (which honours the provider's Retry-After); the last error is re-raised as it came."""
        return {
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            # only errors: a KeyboardInterrupt or a cancelled task is never retried
            "retry": tenacity.retry_if_exception(lambda exc: isinstance(exc, Exception) and self._retryable(exc)),
            "wait": self._wait,
            "before_sleep": self._log_retry,
            "reraise": True,
        }

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome is not None else None
        return self._delay(state.attempt_number, error) if error is not None else 0.0

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        reason = _describe(error) if error is not None else "no result"
        log.info("%s: %s (attempt %d), retrying in %.2fs", self.model, reason, state.attempt_number, delay)

    def _delay(self, attempt: int, error: BaseException) -> float:
        backoff = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1)) * random.uniform(0.5, 1.0)
        asked = self._retry_after(error)
        return min(self.backoff_max, max(backoff, asked)) if asked is not None else backoff

    def _failed(
        self, request: Request, purpose: str, error: BaseException, attempts: int, started: float
    ) -> LLMCallError:
        message = f"{self.model} failed after {attempts} attempt{'s' if attempts != 1 else ''}: {_describe(error)}"
        self.ledger.record(
            CallRecord(
                model=self.model,
                purpose=purpose,
                prompt_hash=request.prompt_hash,
                outcome="error",
                attempts=attempts,
                latency_s=time.perf_counter() - started,
                error=_clip(_describe(error)),
            )
        )
        return LLMCallError(message, attempts=attempts)

    @contextmanager
    def _slot(self) -> Iterator[None]:
        with self._slots:
            yield

    @asynccontextmanager
    async def _aslot(self) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        semaphore = self._async_slots.get(loop)
        if semaphore is None:
            semaphore = self._async_slots.setdefault(loop, asyncio.Semaphore(self.max_concurrency))
        async with semaphore:
            yield

    # --- cache and ledger

    def _cache_key(self, request: Request) -> str:
        return stable_hash(self.model, request.prompt_hash, length=32)

    def _cached(self, request: Request, purpose: str) -> Completion | None:
        cache = self.cache
        payload = cache.get(self._cache_key(request)) if cache is not None else None
        if payload is None:
            return None
        completion = Completion.from_payload(payload)
        self._record(request, purpose, completion, "ok")
        return completion

    def _store(self, request: Request, completion: Completion, sources: Sequence[str]) -> None:
        cache = self.cache
        if cache is not None and not completion.cached:
            cache.put(self._cache_key(request), self.model, completion.payload(), sources=sources)

    def _record(
        self, request: Request, purpose: str, completion: Completion, outcome: Outcome, *, error: str | None = None
    ) -> None:
        self.ledger.record(
            CallRecord(
                model=self.model,
                purpose=purpose,
                prompt_hash=request.prompt_hash,
                outcome=outcome,
                cached=completion.cached,
                attempts=0 if completion.cached else completion.attempts,
                tokens_in=completion.tokens_in,
                tokens_out=completion.tokens_out,
                cost_usd=completion.cost_usd,
                latency_s=0.0 if completion.cached else completion.latency_s,
                error=error,
            )
        )


# --- helpers


def compact_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """``schema``'s JSON schema without titles and model docstrings: what the model needs, in fewer tokens."""

    def strip(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, list):
            return [strip(item) for item in node]
        if not isinstance(node, dict):
            return node
        if in_properties:  # keys are field names here, not schema keywords
            return {name: strip(value) for name, value in node.items()}
        is_model = node.get("type") == "object" and "properties" in node
        return {
            key: strip(value, in_properties=key in ("properties", "$defs"))
            for key, value in node.items()
            if key != "title" and not (is_model and key == "description")
        }

    compacted: dict[str, Any] = strip(schema.model_json_schema())
    return compacted


def schema_instruction(schema: type[BaseModel]) -> str:
    """The sentence structured calls add to the system prompt: the reply format, as a JSON schema."""
    return (
        "Reply with exactly one JSON object and nothing else (no code fence, no comment). It must validate against "
        f"this JSON schema:\n{json.dumps(compact_schema(schema), separators=(',', ':'))}"
    )


def _with_schema(messages: Sequence[ChatMessage], schema: type[BaseModel]) -> list[dict[str, str]]:
    """The messages with the schema instruction appended to the (first) system message."""
    chat = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
    instruction = schema_instruction(schema)
    if chat and chat[0]["role"] == "system":
        chat[0] = {"role": "system", "content": chat[0]["content"] + "\n\n" + instruction}
    else:
        chat.insert(0, {"role": "system", "content": instruction})
    return chat


def _reask(first: Request, reply: str, error: ValidationError | JSONParseError) -> Request:
    """The first request plus the invalid reply and what was wrong with it."""
    echoed = reply if len(reply) <= _REASK_ECHO_CHARS else reply[:_REASK_ECHO_CHARS] + " [...]"
    correction = (
        "Your reply could not be used:\n"
        f"{describe_validation_error(error)}\n"
        "Reply again with only the corrected JSON object, following the schema exactly."
    )
    return Request(
        messages=(*first.messages, ("assistant", echoed), ("user", correction)),
        max_tokens=first.max_tokens,
        temperature=first.temperature,
        logprobs=first.logprobs,
        schema_name=first.schema_name,
        json_schema=first.json_schema,
    )


def _finished(completion: Completion, attempts: int, started: float) -> Completion:
    return Completion(
        text=completion.text,
        model=completion.model,
        tokens_in=completion.tokens_in,
        tokens_out=completion.tokens_out,
        cost_usd=completion.cost_usd,
        latency_s=time.perf_counter() - started,
        finish_reason=completion.finish_reason,
        top_logprobs=completion.top_logprobs,
        attempts=attempts,
    )


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _clip(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- running async work from sync code


class _LoopThread:
    """One event loop in a daemon thread, shared by every sync caller that fans out async calls.

    Reusing one loop (rather than ``asyncio.run`` per batch) keeps provider clients and their connection pools
    valid between batches, and works when the caller's own thread already runs a loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._thread is None or not self._thread.is_alive():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="uno-llm-loop", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = self.loop()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("run_sync was called from uno's own LLM loop thread; await the coroutine instead")
        # The caller's context variables (the namespace the ledger records calls for) go with the coroutine.
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            _in_context(coro, contextvars.copy_context()), loop
        )
        return future.result()


async def _in_context(coro: Coroutine[Any, Any, T], context: contextvars.Context) -> T:
    for variable, value in context.items():
        variable.set(value)
    return await coro


_LOOP = _LoopThread()


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, whether or not this thread already runs a loop."""
    return _LOOP.run(coro)


__all__ = [
    "LLM",
    "BaseLLM",
    "ChatMessage",
    "Completion",
    "LLMCallError",
    "LLMError",
    "LLMOutputError",
    "Request",
    "compact_schema",
    "run_sync",
    "schema_instruction",
]
