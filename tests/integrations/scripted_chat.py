"""A scripted LangChain chat model, in-process: the model the standard chat-model tests wrap with uno.

It stands in for a remote provider (the project's rule: fakes only for remote LLMs) and behaves like one at the
interface: it answers every request in words (streamed word by word, with usage metadata and its model name),
honours stop sequences, and with tools bound (``bind_tools``, OpenAI tool format) calls the chosen tool (or the
first) with arguments filled from its JSON schema: integers and numbers from the numbers in the request, strings
from its text; once the last message is a tool's result it answers in words unless a call is forced. It records
every message list it was sent, so tests can check what uno added.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolCall, ToolCallChunk
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

_calls = itertools.count(1)


class ScriptedChatModel(BaseChatModel):
    model: str = "scripted-1"
    temperature: float | None = None
    max_tokens: int | None = None
    sent: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="scripted", ls_model_name=str(kwargs.get("model", self.model)), ls_model_type="chat"
        )
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        return params

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._answer(messages, stop, kwargs))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        answer = self._answer(messages, stop, kwargs)
        if answer.tool_calls:
            chunks = [
                ToolCallChunk(name=call["name"], args=_json(call["args"]), id=call["id"], index=n)
                for n, call in enumerate(answer.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks))
        else:
            words = re.findall(r"\S+\s*", str(answer.content))
            for word in words:
                yield ChatGenerationChunk(message=AIMessageChunk(content=word))
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                usage_metadata=answer.usage_metadata,
                response_metadata=answer.response_metadata,
                chunk_position="last",
            )
        )

    def _answer(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> AIMessage:
        self.sent.append(list(messages))
        request = next((m.text for m in reversed(messages) if m.type == "human"), "")
        after_tool = bool(messages) and messages[-1].type == "tool"
        tool = _chosen_tool(kwargs.get("tools") or [], kwargs.get("tool_choice"), after_tool)
        usage = UsageMetadata(input_tokens=sum(len(m.text.split()) for m in messages), output_tokens=0, total_tokens=0)
        if tool is not None:
            call = ToolCall(name=tool["name"], args=_arguments(tool.get("parameters", {}), request), id=_call_id())
            return AIMessage(
                content="",
                tool_calls=[call],
                usage_metadata=_finish(usage, 1),
                response_metadata=self._metadata(kwargs),
            )
        text = f"scripted reply #{next(_calls)}: you said {request or 'nothing'}"
        for sequence in stop or []:
            if sequence and sequence in text:
                text = text[: text.index(sequence)]
        return AIMessage(
            content=text, usage_metadata=_finish(usage, len(text.split())), response_metadata=self._metadata(kwargs)
        )

    def _metadata(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        # What providers report beside the answer (a per-call ``model`` overrides the default); LangChain's usage
        # callbacks read the model name from it.
        return {"model_name": str(kwargs.get("model", self.model)), "finish_reason": "stop"}


def _chosen_tool(tools: list[dict[str, Any]], choice: object, after_tool: bool) -> dict[str, Any] | None:
    """The tool to call: the one named by ``tool_choice``, else the first; None to answer in words (no tools,
    ``tool_choice="none"``, or a tool's result to answer from when no call is forced)."""
    functions = [tool["function"] for tool in tools if tool.get("type") == "function"]
    if not functions or choice == "none" or (after_tool and choice in (None, "auto")):
        return None
    if isinstance(choice, dict):
        choice = choice.get("function", {}).get("name") or choice.get("name")
    named = [f for f in functions if f["name"] == choice]
    return named[0] if named else functions[0]


def _arguments(schema: dict[str, Any], request: str) -> dict[str, Any]:
    numbers = iter(int(n) for n in re.findall(r"-?\d+", request))
    properties: dict[str, Any] = schema.get("properties", {})
    return {name: _value(spec, numbers, request) for name, spec in properties.items()}


def _value(spec: dict[str, Any], numbers: Iterator[int], request: str) -> Any:
    kind = spec.get("type")
    if kind is None and "anyOf" in spec:
        kind = next((option.get("type") for option in spec["anyOf"] if option.get("type") != "null"), "string")
    if kind in ("integer", "number"):
        return next(numbers, 0)
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return request or "scripted"


def _finish(usage: UsageMetadata, output_tokens: int) -> UsageMetadata:
    return UsageMetadata(
        input_tokens=usage["input_tokens"],
        output_tokens=output_tokens,
        total_tokens=usage["input_tokens"] + output_tokens,
    )


def _call_id() -> str:
    return f"call_{next(_calls)}"


def _json(value: dict[str, Any]) -> str:
    import json

    return json.dumps(value)
