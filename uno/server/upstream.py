"""The model the proxy forwards to, reached through litellm (any provider litellm supports).

The proxy passes OpenAI requests through whole (tools, response formats, streaming), which
:class:`uno.llm.LLM` (text in, text out, for uno's own calls) does not model, so it calls litellm here, configured
by :func:`uno.llm.lite.import_litellm` like every other litellm use in uno. litellm is imported on first use (it
takes seconds); ``warm_up`` does it ahead of the first request.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


class UpstreamError(Exception):
    """The upstream model failed: ``status`` is its HTTP status when it answered, else None (unreachable)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upstream:
    """A litellm model name (``openai/gpt-4o-mini``, ``anthropic/claude-...``, ``ollama/llama3``) and where to
    reach it. Provider credentials come from ``api_key`` or litellm's usual environment variables."""

    model: str
    api_base: str | None = None
    api_key: str | None = None
    timeout_s: float = 120.0

    def warm_up(self) -> None:
        _litellm()

    async def complete(self, messages: list[JSON], params: Mapping[str, Any]) -> JSON:
        """One chat completion, as OpenAI's JSON."""
        try:
            response = await _litellm().acompletion(**self._arguments(messages, params, stream=False))
        except Exception as error:
            raise _upstream_error(error) from error
        return _openai_json(response)

    async def open_stream(self, messages: list[JSON], params: Mapping[str, Any]) -> AsyncGenerator[JSON, None]:
        """Start a streamed completion (errors before the first chunk raise here); iterate it for the chunks."""
        try:
            stream = await _litellm().acompletion(**self._arguments(messages, params, stream=True))
        except Exception as error:
            raise _upstream_error(error) from error
        return _chunks(stream)

    def _arguments(self, messages: list[JSON], params: Mapping[str, Any], *, stream: bool) -> JSON:
        arguments: JSON = {**params, "model": self.model, "messages": messages, "stream": stream}
        arguments["timeout"] = self.timeout_s
        if self.api_base is not None:
            arguments["api_base"] = self.api_base
        if self.api_key is not None:
            arguments["api_key"] = self.api_key
        return arguments


async def _chunks(stream: Any) -> AsyncGenerator[JSON, None]:
    try:
        async for chunk in stream:
            yield _openai_json(chunk)
    except Exception as error:
        raise _upstream_error(error) from error


def _litellm() -> Any:
    from uno.llm.lite import import_litellm

    return import_litellm()


def _upstream_error(error: Exception) -> UpstreamError:
    status = getattr(error, "status_code", None)
    return UpstreamError(str(error) or type(error).__name__, status if isinstance(status, int) else None)


def _openai_json(response: Any) -> JSON:
    """litellm's response object as OpenAI's JSON: no nulls, no litellm-only fields."""
    dumped = response.model_dump(exclude_none=True) if hasattr(response, "model_dump") else dict(response)
    cleaned = _drop_private(dumped)
    assert isinstance(cleaned, dict)
    return cleaned


def _drop_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _drop_private(v)
            for k, v in value.items()
            if k != "provider_specific_fields" and not str(k).startswith("_")
        }
    if isinstance(value, list):
        return [_drop_private(v) for v in value]
    return value
