"""A minimal LangChain chat model for any OpenAI-compatible endpoint, built on the ``openai`` client: the model
the LangChain tests wrap, talking over real HTTP to the scripted upstream or to uno's own proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, convert_to_openai_messages
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from openai import AsyncOpenAI, OpenAI


class LoopbackChatModel(BaseChatModel):
    base_url: str
    api_key: str = "unused"
    model: str = "scripted"

    @property
    def _llm_type(self) -> str:
        return "loopback-openai"

    def _request(self, messages: list[BaseMessage]) -> dict[str, Any]:
        return {"model": self.model, "messages": convert_to_openai_messages(messages)}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with OpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0) as client:
            response = client.chat.completions.create(**self._request(messages))
        return _result(response.choices[0].message.content, response.model_extra)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        async with AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0) as client:
            response = await client.chat.completions.create(**self._request(messages))
        return _result(response.choices[0].message.content, response.model_extra)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with OpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0) as client:
            for chunk in client.chat.completions.create(**self._request(messages), stream=True):
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield ChatGenerationChunk(message=AIMessageChunk(content=choice.delta.content))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        async with AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0) as client:
            stream = await client.chat.completions.create(**self._request(messages), stream=True)
            async for chunk in stream:
                for choice in chunk.choices:
                    if choice.delta.content:
                        yield ChatGenerationChunk(message=AIMessageChunk(content=choice.delta.content))


def _result(content: str | None, extra: dict[str, Any] | None) -> ChatResult:
    metadata = {"proxy": extra["uno"]} if extra and "uno" in extra else {}
    message = AIMessage(content=content or "", response_metadata=metadata)
    return ChatResult(generations=[ChatGeneration(message=message)])
