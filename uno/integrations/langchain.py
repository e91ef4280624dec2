"""LangChain integration (extra ``[langchain]``): a memory-augmented chat runnable and a rule retriever.

>>> chain = prompt | memory.as_runnable(ChatOpenAI(model="gpt-4o-mini")) | StrOutputParser()
>>> answer = memory.as_runnable(chat_model).invoke("Is the shop open on Monday?")
>>> memory.feedback(answer.response_metadata["uno"]["log_id"], {"kind": "reaction", "value": "like"})

``UnoChatRunnable`` augments the input messages with what uno learnt, calls the wrapped model, logs the exchange
and returns the model's message with ``response_metadata["uno"]``: the log id (for later feedback), the rules
injected and the route. It is a drop-in replacement for the model it wraps (same input, same output type), so it
composes with prompts and parsers. ``UnoRetriever`` returns rules as ``Document``s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from langchain_core.callbacks import (
    AsyncCallbackManagerForChainRun,
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForChainRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessageChunk, BaseMessage, SystemMessage, convert_to_messages
from langchain_core.prompt_values import PromptValue
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig, RunnableSerializable
from pydantic import ConfigDict, Field, PrivateAttr

from rule_store.records import Message, Role
from uno.inject import Augmentation, InjectedRule
from uno.integrations.conversation import ConversationRecorder, Exchange, merge_system_prompt
from uno.memory import SearchHit, UnoMemory

# Where each LangChain message type goes in a stored log.
_ROLES: dict[str, Role] = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool", "function": "tool"}
_CHAT_ROLES: dict[str, Role] = {"system": "system", "user": "user", "assistant": "assistant", "tool": "tool"}
# The ``configurable`` key that names the end user per call: ``config={"configurable": {"user_id": "u42"}}``.
USER_ID_KEY = "user_id"
METADATA_KEY = "uno"


@dataclass(frozen=True)
class _Call:
    """One call in flight: what the app sent, what the model gets, and what uno added and knows."""

    sent: list[BaseMessage]
    augmentation: Augmentation | None
    exchange: Exchange | None


class UnoChatRunnable(RunnableSerializable[LanguageModelInput, BaseMessage]):
    """A chat model with uno's memory: augment the input, call ``chat_model``, log the exchange.

    The output is the wrapped model's message with ``response_metadata["uno"] = {"log_id", "rule_ids", "route",
    "previous_log_id"}``; when streaming, a last empty chunk carries it. The memory block goes into the first system
    message (one is added when there is none); the log stores the app's own messages, never that block. When the
    input history holds an answer uno logged earlier, the user's new turn is recorded as a follow-up on it.

    ``user_id`` (or ``config={"configurable": {"user_id": ...}}`` per call) selects that user's personal rules and
    tags the log. Set ``record=False`` to augment without logging.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: UnoMemory
    chat_model: Runnable[Any, Any]
    user_id: str | None = None
    namespace: str | None = None
    record: bool = True
    budget_tokens: int | None = Field(default=None, gt=0)
    max_rules: int = Field(default=8, gt=0)

    _recorder: ConversationRecorder = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._recorder = ConversationRecorder(self.memory, source="langchain")

    # --- the Runnable interface

    def invoke(self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any) -> BaseMessage:
        return self._call_with_config(self._invoke, input, config, **kwargs)

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> BaseMessage:
        return await self._acall_with_config(self._ainvoke, input, config, **kwargs)

    def stream(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> Iterator[BaseMessage]:
        yield from self._transform_stream_with_config(iter([input]), self._stream, config, **kwargs)

    async def astream(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, **kwargs: Any | None
    ) -> AsyncIterator[BaseMessage]:
        async def single() -> AsyncIterator[LanguageModelInput]:
            yield input

        async for chunk in self._atransform_stream_with_config(single(), self._astream, config, **kwargs):
            yield chunk

    # batch / abatch: Runnable's defaults run invoke / ainvoke per input (concurrently), which is what we need:
    # each input gets its own augmentation and its own log.

    # --- the steps

    def _invoke(
        self, input: LanguageModelInput, run_manager: CallbackManagerForChainRun, config: RunnableConfig, **kwargs: Any
    ) -> BaseMessage:
        call = self._prepare(_to_messages(input), config)
        answer = cast(BaseMessage, self.chat_model.invoke(call.sent, config, **kwargs))
        return _with_metadata(answer, self._finish(call, answer))

    async def _ainvoke(
        self,
        input: LanguageModelInput,
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
        **kwargs: Any,
    ) -> BaseMessage:
        call = await asyncio.to_thread(self._prepare, _to_messages(input), config)
        answer = cast(BaseMessage, await self.chat_model.ainvoke(call.sent, config, **kwargs))
        return _with_metadata(answer, await asyncio.to_thread(self._finish, call, answer))

    def _stream(
        self,
        inputs: Iterator[LanguageModelInput],
        run_manager: CallbackManagerForChainRun,
        config: RunnableConfig,
        **kwargs: Any,
    ) -> Iterator[BaseMessage]:
        call = self._prepare(_to_messages(_only(inputs)), config)
        answer: BaseMessage | None = None
        for chunk in self.chat_model.stream(call.sent, config, **kwargs):
            answer = chunk if answer is None else answer + chunk
            yield chunk
        if answer is not None:
            yield AIMessageChunk(content="", response_metadata={METADATA_KEY: self._finish(call, answer)})

    async def _astream(
        self,
        inputs: AsyncIterator[LanguageModelInput],
        run_manager: AsyncCallbackManagerForChainRun,
        config: RunnableConfig,
        **kwargs: Any,
    ) -> AsyncIterator[BaseMessage]:
        messages = _to_messages(await _aonly(inputs))
        call = await asyncio.to_thread(self._prepare, messages, config)
        answer: BaseMessage | None = None
        async for chunk in self.chat_model.astream(call.sent, config, **kwargs):
            answer = chunk if answer is None else answer + chunk
            yield chunk
        if answer is not None:
            details = await asyncio.to_thread(self._finish, call, answer)
            yield AIMessageChunk(content="", response_metadata={METADATA_KEY: details})

    def _prepare(self, messages: list[BaseMessage], config: RunnableConfig) -> _Call:
        """Record the user's reply to an earlier logged answer, then augment the messages for the model."""
        user_id = _configured_user(config) or self.user_id
        log_messages = [m for m in (_to_log_message(message) for message in messages) if m is not None]
        exchange = (
            self._recorder.begin(log_messages, namespace=self.namespace, user_id=user_id) if self.record else None
        )
        query = _last_human_text(messages)
        if query is None:
            return _Call(sent=messages, augmentation=None, exchange=exchange)
        augmentation = self.memory.augment(
            query,
            user_id=user_id,
            namespace=self.namespace,
            budget_tokens=self.budget_tokens,
            max_rules=self.max_rules,
        )
        block = augmentation.system_block
        sent = _with_system_block(messages, block) if block else messages
        return _Call(sent=sent, augmentation=augmentation, exchange=exchange)

    def _finish(self, call: _Call, answer: BaseMessage) -> dict[str, Any]:
        """Log the exchange; the details the answer carries in ``response_metadata["uno"]``."""
        rule_ids = [rule.rule_id for rule in call.augmentation.rules] if call.augmentation else []
        log_id = None
        if call.exchange is not None:
            log_id = self._recorder.finish(call.exchange, answer.text, injected_rule_ids=rule_ids)
        return {
            "log_id": log_id,
            "rule_ids": rule_ids,
            "route": call.augmentation.route.value if call.augmentation else "none",
            "previous_log_id": call.exchange.previous_log_id if call.exchange else None,
        }


def as_runnable(
    memory: UnoMemory,
    chat_model: Runnable[Any, Any],
    *,
    user_id: str | None = None,
    namespace: str | None = None,
    record: bool = True,
    budget_tokens: int | None = None,
    max_rules: int = 8,
) -> UnoChatRunnable:
    """Wrap ``chat_model`` (any LangChain chat model or runnable taking messages) with ``memory``.

    See :class:`UnoChatRunnable`. ``UnoMemory.as_runnable(chat_model, **kwargs)`` calls this.
    """
    return UnoChatRunnable(
        memory=memory,
        chat_model=chat_model,
        user_id=user_id,
        namespace=namespace,
        record=record,
        budget_tokens=budget_tokens,
        max_rules=max_rules,
    )


class UnoRetriever(BaseRetriever):
    """The rules uno learnt, as LangChain ``Document``s (``page_content`` is "When ...: ...").

    ``search_type="similarity"`` (default) returns the ``k`` active rules whose instruction is closest to the
    query. ``search_type="augment"`` returns exactly what ``UnoMemory.augment`` would inject for it (at most
    ``k``, possibly none: a query unlike anything learnt gets nothing). ``k`` and ``user_id`` can also be passed
    per call: ``retriever.invoke("...", k=3)``.

    Each document's ``id`` is the rule id; its metadata holds the rule's fields, its score and the ids of the logs
    it was learnt from.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: UnoMemory
    k: int = Field(default=4, gt=0)
    namespace: str | None = None
    user_id: str | None = None
    search_type: Literal["similarity", "augment"] = "similarity"

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        user_id: str | None = None,
    ) -> list[Document]:
        count, user = k or self.k, user_id or self.user_id
        if self.search_type == "augment":
            augmentation = self.memory.augment(query, user_id=user, namespace=self.namespace, max_rules=count)
            return [_injected_document(rule) for rule in augmentation.rules]
        hits = self.memory.search(query, k=count, namespace=self.namespace, user_id=user)
        return [_hit_document(hit, user) for hit in hits]

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        user_id: str | None = None,
    ) -> list[Document]:
        return await asyncio.to_thread(
            self._get_relevant_documents,
            query,
            run_manager=run_manager.get_sync(),
            k=k,
            user_id=user_id,
        )


# --- messages


def _to_messages(value: LanguageModelInput) -> list[BaseMessage]:
    """Any chat model input (a string, a prompt value, message-likes) as a list of messages."""
    if isinstance(value, str):
        return convert_to_messages([("human", value)])
    if isinstance(value, PromptValue):
        return value.to_messages()
    return convert_to_messages(value)


def _to_log_message(message: BaseMessage) -> Message | None:
    """The message as a stored log turn; None for kinds a log does not hold."""
    role = _ROLES.get(message.type)
    if role is None and message.type == "chat":
        role = _CHAT_ROLES.get(str(getattr(message, "role", "")))
    if role is None:
        return None
    return Message(role=role, content=message.text, name=message.name)


def _last_human_text(messages: Sequence[BaseMessage]) -> str | None:
    for message in reversed(messages):
        if message.type == "human" and message.text.strip():
            return message.text
    return None


def _with_system_block(messages: list[BaseMessage], block: str) -> list[BaseMessage]:
    """The messages with uno's block after the app's own system prompt (a system message is added if none)."""
    if messages and isinstance(messages[0], SystemMessage):
        first = messages[0]
        if isinstance(first.content, str):
            merged = first.model_copy(update={"content": merge_system_prompt(first.content, block)})
        else:
            merged = first.model_copy(update={"content": [*first.content, {"type": "text", "text": block}]})
        return [merged, *messages[1:]]
    return [SystemMessage(content=block), *messages]


def _with_metadata(answer: BaseMessage, details: dict[str, Any]) -> BaseMessage:
    return answer.model_copy(update={"response_metadata": {**answer.response_metadata, METADATA_KEY: details}})


def _configured_user(config: RunnableConfig) -> str | None:
    value = (config.get("configurable") or {}).get(USER_ID_KEY)
    return str(value) if value is not None else None


def _only(inputs: Iterator[LanguageModelInput]) -> LanguageModelInput:
    """The one input of a streamed call (chained steps may hand it over in pieces: they are added up)."""
    pieces = list(inputs)
    if not pieces:
        raise ValueError("the runnable received no input")
    combined = pieces[0]
    for piece in pieces[1:]:
        combined = combined + piece  # type: ignore[operator]
    return combined


async def _aonly(inputs: AsyncIterator[LanguageModelInput]) -> LanguageModelInput:
    return _only(iter([piece async for piece in inputs]))


# --- documents


def _hit_document(hit: SearchHit, user_id: str | None) -> Document:
    """A search hit as a document; for a user, provenance lists only that user's own logs (as ``augment``)."""
    rule = hit.rule
    sources = sorted({e.log_id for e in rule.evidence if user_id is None or e.user_id == user_id})
    return Document(
        id=rule.id,
        page_content=rule.text,
        metadata={
            "rule_id": rule.id,
            "when": rule.when,
            "do": rule.do,
            "polarity": rule.polarity.value,
            "aspect": rule.aspect,
            "status": rule.status.value,
            "score": hit.score,
            "support": rule.support,
            "confidence": rule.confidence,
            "cluster_id": rule.cluster_id,
            "source_log_ids": sources,
        },
    )


def _injected_document(rule: InjectedRule) -> Document:
    return Document(
        id=rule.rule_id,
        page_content=rule.text,
        metadata={
            "rule_id": rule.rule_id,
            "when": rule.when,
            "do": rule.do,
            "polarity": rule.polarity,
            "aspect": rule.aspect,
            "status": "active",
            "score": rule.score,
            "support": rule.support,
            "confidence": rule.confidence,
            "cluster_id": rule.cluster_id,
            "source_log_ids": rule.provenance,
        },
    )


__all__ = ["METADATA_KEY", "USER_ID_KEY", "UnoChatRunnable", "UnoRetriever", "as_runnable"]
