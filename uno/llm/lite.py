"""``LiteLLM``: any model litellm can reach (OpenAI, Anthropic, Ollama, vLLM, any OpenAI-compatible server).

litellm is imported on first use (it takes seconds), with its cost map read from the installed package rather
than fetched, and with no callbacks registered: uno sends nothing anywhere but to the model.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any, Literal

from uno.extras import require
from uno.ledger import Ledger, ResponseCache
from uno.llm.base import BaseLLM, Completion, Request

MODEL_ENV = "UNO_LLM_MODEL"
StructuredMode = Literal["auto", "json_schema", "json_object", "text"]
_MODES: tuple[StructuredMode, ...] = ("json_schema", "json_object", "text")
_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}

_import_lock = threading.Lock()


def import_litellm() -> Any:
    """litellm, configured for uno: local cost map, no debug banners, no telemetry."""
    with _import_lock:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        os.environ.setdefault("LITELLM_TELEMETRY", "False")
        litellm: Any = require("litellm", extra="llm", feature="LiteLLM")
        litellm.suppress_debug_info = True
        if hasattr(litellm, "telemetry"):
            litellm.telemetry = False
        return litellm


class LiteLLM(BaseLLM):
    """An :class:`uno.llm.LLM` backed by ``litellm.completion`` / ``litellm.acompletion``.

    Args:
        model: a litellm model string ("openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest",
            "ollama/llama3.1", "openai/<name>" with ``api_base`` for vLLM or any OpenAI-compatible server);
            default ``$UNO_LLM_MODEL``.
        api_base, api_key: passed to litellm (default: the provider's usual environment variables).
        timeout: seconds per attempt; a timeout is retried like a rate limit.
        structured_mode: how structured calls ask for JSON. "auto" uses the provider's schema mode where litellm
            says the model supports it, else its JSON mode where the provider takes ``response_format``, else
            plain text (the schema is in the prompt either way, and replies are parsed tolerantly). A provider
            that rejects the format it was sent is asked again one step down, and stays there.
        extra: more keyword arguments for every ``litellm.completion`` call (``seed``, ``extra_headers``, ...).

    The remaining arguments are :class:`uno.llm.BaseLLM`'s (concurrency, retries, backoff, ledger, cache).
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        temperature: float = 0.0,
        max_tokens: int = 1024,
        max_concurrency: int = 8,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        structured_mode: StructuredMode = "auto",
        ledger: Ledger | None = None,
        cache: ResponseCache | None = None,
        use_cache: bool = True,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        chosen = model or os.environ.get(MODEL_ENV)
        if not chosen:
            raise ValueError(f"LiteLLM needs a model: pass model=... or set ${MODEL_ENV} (e.g. 'openai/gpt-4o-mini')")
        if structured_mode not in ("auto", *_MODES):
            raise ValueError(f"structured_mode must be one of auto, {', '.join(_MODES)}; got {structured_mode!r}")
        super().__init__(
            chosen,
            temperature=temperature,
            max_tokens=max_tokens,
            max_concurrency=max_concurrency,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            ledger=ledger,
            cache=cache,
            use_cache=use_cache,
        )
        self.api_base = api_base
        self.api_key = api_key
        self.timeout = timeout
        self.extra = dict(extra or {})
        self._mode: StructuredMode | None = None if structured_mode == "auto" else structured_mode

    def __repr__(self) -> str:
        return f"LiteLLM(model={self.model!r}, api_base={self.api_base!r})"

    # --- structured output mode

    @property
    def structured_mode(self) -> StructuredMode:
        """The mode structured calls use now (resolved from litellm's model info on first use)."""
        if self._mode is None:
            self._mode = self._detect_mode()
        return self._mode

    def _detect_mode(self) -> StructuredMode:
        litellm = import_litellm()
        try:
            if litellm.supports_response_schema(model=self.model):
                return "json_schema"
        except Exception:  # unknown model: litellm raises rather than answering False
            pass
        try:
            name, provider, _, _ = litellm.get_llm_provider(self.model, api_base=self.api_base)
            params = litellm.get_supported_openai_params(model=name, custom_llm_provider=provider) or []
        except Exception:
            params = []
        return "json_object" if "response_format" in params else "text"

    def _response_format(self, request: Request, mode: StructuredMode) -> dict[str, Any] | None:
        if request.json_schema is None or mode == "text":
            return None
        if mode == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "json_schema": {
                "name": request.schema_name or "reply",
                "schema": dict(request.json_schema),
                "strict": False,
            },
        }

    def _downgrade(self, mode: StructuredMode) -> None:
        """The provider refused ``mode``: use the next simpler one from now on."""
        self._mode = _MODES[min(_MODES.index(mode) + 1, len(_MODES) - 1)]

    # --- one attempt

    def _kwargs(self, request: Request, mode: StructuredMode) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            **self.extra,
            "model": self.model,
            "messages": request.chat(),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "timeout": self.timeout,
            # uno retries (with backoff, and counts the attempts): neither litellm nor the OpenAI client may.
            "num_retries": 0,
            "max_retries": 0,
            # A provider without logprobs or response_format gets the call without them, not an error.
            "drop_params": True,
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key
        response_format = self._response_format(request, mode)
        if response_format is not None:
            kwargs["response_format"] = response_format
        if request.logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = request.logprobs
        return kwargs

    def _request(self, request: Request) -> Completion:
        litellm = import_litellm()
        mode = self.structured_mode
        started = time.perf_counter()
        try:
            response = litellm.completion(**self._kwargs(request, mode))
        except litellm.BadRequestError as exc:
            if not _refused_format(request, mode, exc):
                raise
            self._downgrade(mode)
            response = litellm.completion(**self._kwargs(request, self.structured_mode))
        return self._completion(response, time.perf_counter() - started)

    async def _arequest(self, request: Request) -> Completion:
        litellm = import_litellm()
        mode = self.structured_mode
        started = time.perf_counter()
        try:
            response = await litellm.acompletion(**self._kwargs(request, mode))
        except litellm.BadRequestError as exc:
            if not _refused_format(request, mode, exc):
                raise
            self._downgrade(mode)
            response = await litellm.acompletion(**self._kwargs(request, self.structured_mode))
        return self._completion(response, time.perf_counter() - started)

    def _completion(self, response: Any, latency: float) -> Completion:
        choice = response.choices[0]
        usage = getattr(response, "usage", None)
        return Completion(
            text=getattr(choice.message, "content", None) or "",
            model=str(getattr(response, "model", None) or self.model),
            tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
            tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=self._cost(response),
            latency_s=latency,
            finish_reason=getattr(choice, "finish_reason", None),
            top_logprobs=read_top_logprobs(getattr(choice, "logprobs", None)),
        )

    def _cost(self, response: Any) -> float | None:
        hidden = getattr(response, "_hidden_params", None) or {}
        cost = hidden.get("response_cost") if isinstance(hidden, dict) else None
        if cost is None:
            try:
                cost = import_litellm().completion_cost(completion_response=response)
            except Exception:  # a model litellm has no price for (local servers, new models)
                return None
        return float(cost) if cost is not None else None

    # --- retry policy

    def _retryable(self, error: BaseException) -> bool:
        litellm = import_litellm()
        transient = (
            litellm.RateLimitError,
            litellm.Timeout,
            litellm.APIConnectionError,
            litellm.InternalServerError,
            litellm.ServiceUnavailableError,
            litellm.BadGatewayError,
        )
        if isinstance(error, transient):
            return True
        return getattr(error, "status_code", None) in _RETRYABLE_STATUS

    def _retry_after(self, error: BaseException) -> float | None:
        response = getattr(error, "response", None)
        headers = getattr(response, "headers", None)
        if headers is None:
            return None
        try:
            value = headers.get("retry-after")
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None  # an HTTP date: fall back to our own backoff


def _refused_format(request: Request, mode: StructuredMode, error: BaseException) -> bool:
    """Whether a 400 is the provider refusing the JSON mode it was sent (not, say, a prompt too long)."""
    if request.json_schema is None or mode == "text":
        return False
    message = str(error).lower()
    return "response_format" in message or "json" in message or "schema" in message


def read_top_logprobs(logprobs: Any) -> tuple[dict[str, float], ...] | None:
    """Per generated token, {candidate token: log-probability}, from an OpenAI-style ``logprobs`` field."""
    if logprobs is None:
        return None
    content = logprobs.get("content") if isinstance(logprobs, dict) else getattr(logprobs, "content", None)
    if not content:
        return None
    steps: list[dict[str, float]] = []
    for item in content:
        candidates = _field(item, "top_logprobs") or []
        step = {
            str(_field(c, "token")): float(_field(c, "logprob")) for c in candidates if _field(c, "token") is not None
        }
        token = _field(item, "token")
        if token is not None and _field(item, "logprob") is not None:
            step.setdefault(str(token), float(_field(item, "logprob")))
        steps.append(step)
    return tuple(steps)


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


__all__ = ["MODEL_ENV", "LiteLLM", "StructuredMode", "import_litellm", "read_top_logprobs"]
