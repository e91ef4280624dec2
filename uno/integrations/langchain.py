"""LangChain integration (extra ``[langchain]``): a memory-augmented chat runnable and a rule retriever.

>>> chain = prompt | memory.as_runnable(ChatOpenAI(model="gpt-4o-mini")) | StrOutputParser()
>>> answer = memory.as_runnable(chat_model).invoke("Is the shop open on Monday?")
>>> memory.feedback(answer.response_metadata["uno"]["log_id"], {"kind": "reaction", "value": "like"})

``UnoChatModel`` (a ``BaseChatModel``) augments the input messages with what uno learnt, calls the wrapped model,
logs the exchange and returns the model's message with ``response_metadata["uno"]``: the log id (for later
feedback), the rules injected and the route. It is a drop-in replacement for the model it wraps: ``bind_tools``,
``with_structured_output``, streaming and callbacks pass through to it. ``UnoRetriever`` returns rules as
``Document``s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from uno.extras import raise_missing

try:
    from langchain_core.caches import BaseCache
    from langchain_core.callbacks import (
        AsyncCallbackManagerForLLMRun,
        AsyncCallbackManagerForRetrieverRun,
        CallbackManager,
        CallbackManagerForLLMRun,
        CallbackManagerForRetrieverRun,
    )
    from langchain_core.documents import Document
    from langchain_core.language_models import BaseChatModel, LangSmithParams, LanguageModelInput
    from langchain_core.messages import (
        AIMessage,
        AIMessageChunk,
        BaseMessage,
        BaseMessageChunk,
        SystemMessage,
    )
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import (
        Runnable,
        RunnableBinding,
        RunnableConfig,
        RunnableParallel,
        RunnableSequence,
    )
    from langchain_core.tools import BaseTool
except ModuleNotFoundError as missing:  # say which extra brings it, not just the module's name
    raise_missing(missing, extra="langchain", feature="uno.integrations.langchain")

from rule_store.records import Message, Role
from uno.bandit import pull_metadata
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


class UnoChatModel(BaseChatModel):
    """A chat model with uno's memory: augment the input, call the wrapped ``chat_model``, log the exchange.

    A ``BaseChatModel`` in its own right, so it goes wherever the wrapped model went: ``bind_tools`` and
    ``with_structured_output`` bind the wrapped model's own tool / output settings to this wrapper (every call still
    gets uno's memory), streaming streams the wrapped model's chunks, and the callbacks of a call see one chat-model
    run (this one: its start, the wrapped model's tokens and answer, its end) rather than two nested ones, so
    token counters and tracers count each call once.

    The answer is the wrapped model's message with ``response_metadata["uno"] = {"log_id", "rule_ids", "route",
    "previous_log_id"}``; when streaming, a last empty chunk carries it. The memory block goes into the first system
    message (one is added when there is none); the log stores the app's own messages, never that block. When the
    input history holds an answer uno logged earlier, the user's new turn is recorded as a follow-up on it.

    ``user_id`` (or ``config={"configurable": {"user_id": ...}}`` per call) selects that user's personal rules and
    tags the log. Set ``record=False`` to augment without logging. ``stop`` sequences apply to every call.

    ``strategy_bandit=True``: the namespace's per-cluster bandit (:mod:`uno.bandit`) chooses how learnt material is
    used (``response_metadata["uno"]["strategy"]`` says which arm and why; ``explore=False`` turns Thompson
    sampling off). The log keeps the arm, and the feedback on the answer (the user's next turn through this model,
    or ``memory.feedback(log_id, ...)``: a reaction, rating or edit) rewards it in the store.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: UnoMemory
    chat_model: Runnable[Any, Any]
    user_id: str | None = None
    namespace: str | None = None
    record: bool = True
    budget_tokens: int | None = Field(default=None, gt=0)
    max_rules: int = Field(default=8, gt=0)
    stop: list[str] | None = None
    strategy_bandit: bool = False
    explore: bool = True
    # A memory-augmented answer depends on what uno learnt since: never served from LangChain's response cache.
    cache: BaseCache | bool | None = False

    _recorder: ConversationRecorder = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        super().model_post_init(context)
        self._recorder = ConversationRecorder(self.memory, source="langchain")

    @property
    def _llm_type(self) -> str:
        return "uno"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"wrapped": _model_name(self.chat_model), "namespace": self.namespace or self.memory.namespace}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="uno",
            ls_model_name=str(kwargs.get("model") or _model_name(self.chat_model)),
            ls_model_type="chat",
        )
        for name in ("ls_temperature", "ls_max_tokens"):
            value = _wrapped_ls_params(self.chat_model).get(name)
            if value is not None:
                params[name] = value
        if stop or self.stop:
            params["ls_stop"] = stop or self.stop
        return params

    # --- the user of each call: read from its config, handed to the steps as a call argument

    def invoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:  # fmt: skip
        return super().invoke(input, config, stop=stop, **_with_user(config, kwargs))

    async def ainvoke(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:  # fmt: skip
        return await super().ainvoke(input, config, stop=stop, **_with_user(config, kwargs))

    def stream(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:  # fmt: skip
        yield from super().stream(input, config, stop=stop, **_with_user(config, kwargs))

    async def astream(
        self, input: LanguageModelInput, config: RunnableConfig | None = None, *, stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:  # fmt: skip
        async for chunk in super().astream(input, config, stop=stop, **_with_user(config, kwargs)):
            yield chunk

    # --- tools and structured output: the wrapped model's bindings, applied to this wrapper

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        bind = getattr(self.chat_model, "bind_tools", None)
        if bind is None:
            raise NotImplementedError(f"the wrapped model ({_model_name(self.chat_model)}) has no bind_tools")
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        bound = self._rebound(bind(tools, **kwargs))
        if bound is None:
            raise NotImplementedError(
                f"the wrapped model's bind_tools ({_model_name(self.chat_model)}) does not return a binding of the "
                "model, so uno cannot apply it to the memory-augmented calls"
            )
        return bound

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """The wrapped model's own structured output (its method: tools, JSON schema, JSON mode), with memory."""
        inner = getattr(self.chat_model, "with_structured_output", None)
        if inner is not None:
            try:
                rewired = self._rewired(inner(schema, include_raw=include_raw, **kwargs))
            except NotImplementedError:
                rewired = None
            if rewired is not None:
                return rewired
        return super().with_structured_output(schema, include_raw=include_raw, **kwargs)

    def _rebound(self, runnable: Runnable[Any, Any]) -> Runnable[LanguageModelInput, AIMessage] | None:
        """A binding of the wrapped model (its call arguments and config) as the same binding of this wrapper."""
        if not isinstance(runnable, RunnableBinding) or runnable.bound is not self.chat_model:
            return None
        rebound = self.bind(**runnable.kwargs)
        return rebound.with_config(runnable.config) if runnable.config else rebound

    def _rewired(self, runnable: Runnable[Any, Any]) -> Runnable[Any, Any] | None:
        """The wrapped model's structured-output chain with its model step bound to this wrapper instead."""
        if not isinstance(runnable, RunnableSequence):
            return None
        first, rest = runnable.first, [*runnable.middle, runnable.last]
        replaced: Runnable[Any, Any] | None = self._rebound(first)
        if replaced is None and isinstance(first, RunnableParallel) and set(first.steps__) == {"raw"}:
            raw = self._rebound(first.steps__["raw"])
            replaced = RunnableParallel(raw=raw) if raw is not None else None
        if replaced is None:
            return None
        return RunnableSequence(replaced, *rest)

    # --- the calls

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = self._prepare(messages, kwargs.pop(_USER_KWARG, None))
        answer = _as_message(self.chat_model.invoke(call.sent, _own_run(), **self._call_args(stop, kwargs)))
        return _result(_with_metadata(answer, self._finish(call, answer)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        call = await asyncio.to_thread(self._prepare, messages, kwargs.pop(_USER_KWARG, None))
        answer = _as_message(await self.chat_model.ainvoke(call.sent, _own_run(), **self._call_args(stop, kwargs)))
        return _result(_with_metadata(answer, await asyncio.to_thread(self._finish, call, answer)))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        call = self._prepare(messages, kwargs.pop(_USER_KWARG, None))
        answer: BaseMessageChunk | None = None
        for piece in self.chat_model.stream(call.sent, _own_run(), **self._call_args(stop, kwargs)):
            chunk = _as_chunk(piece)
            answer = chunk if answer is None else answer + chunk
            yield ChatGenerationChunk(message=chunk)
        if answer is not None:
            yield _last_chunk(self._finish(call, answer))

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        call = await asyncio.to_thread(self._prepare, messages, kwargs.pop(_USER_KWARG, None))
        answer: BaseMessageChunk | None = None
        async for piece in self.chat_model.astream(call.sent, _own_run(), **self._call_args(stop, kwargs)):
            chunk = _as_chunk(piece)
            answer = chunk if answer is None else answer + chunk
            yield ChatGenerationChunk(message=chunk)
        if answer is not None:
            yield _last_chunk(await asyncio.to_thread(self._finish, call, answer))

    def _call_args(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        """What the wrapped model's call gets: the caller's arguments (tools, ...) and the stop sequences."""
        stops = stop or self.stop
        return {**kwargs, "stop": stops} if stops else kwargs

    def _prepare(self, messages: list[BaseMessage], call_user: str | None) -> _Call:
        """Record the user's reply to an earlier logged answer, then augment the messages for the model."""
        user_id = call_user or self.user_id
        log_messages = [m for m in (_to_log_message(message) for message in messages) if m is not None]
        exchange = (
            self._recorder.begin(log_messages, namespace=self.namespace, user_id=user_id) if self.record else None
        )
        query = _last_human_text(messages)
        if query is None:
            return _Call(sent=messages, augmentation=None, exchange=exchange)
        bandit = (
            self.memory.strategy_bandit(namespace=self.namespace, explore=self.explore)
            if self.strategy_bandit
            else None
        )
        augmentation = self.memory.augment(
            query,
            user_id=user_id,
            namespace=self.namespace,
            budget_tokens=self.budget_tokens,
            max_rules=self.max_rules,
            bandit=bandit,
        )
        block = augmentation.system_block
        sent = _with_system_block(messages, block) if block else messages
        return _Call(sent=sent, augmentation=augmentation, exchange=exchange)

    def _finish(self, call: _Call, answer: BaseMessage) -> dict[str, Any]:
        """Log the exchange; the details the answer carries in ``response_metadata["uno"]``."""
        augmentation = call.augmentation
        rule_ids = [rule.rule_id for rule in augmentation.rules] if augmentation else []
        choice = augmentation.strategy if augmentation else None
        log_id = None
        if call.exchange is not None:
            # The arm behind the answer is kept with its log: feedback on the answer rewards it.
            pull = pull_metadata(augmentation.cluster_id if augmentation else None, choice)
            log_id = self._recorder.finish(call.exchange, answer.text, injected_rule_ids=rule_ids, metadata=pull)
        details: dict[str, Any] = {
            "log_id": log_id,
            "rule_ids": rule_ids,
            "route": augmentation.route.value if augmentation else "none",
            "previous_log_id": call.exchange.previous_log_id if call.exchange else None,
        }
        if choice is not None:
            details["strategy"] = choice.details()
        return details


# The name this class had when it was a plain Runnable; kept so existing imports work.
UnoChatRunnable = UnoChatModel


def as_runnable(
    memory: UnoMemory,
    chat_model: Runnable[Any, Any],
    *,
    user_id: str | None = None,
    namespace: str | None = None,
    record: bool = True,
    budget_tokens: int | None = None,
    max_rules: int = 8,
    strategy_bandit: bool = False,
    explore: bool = True,
) -> UnoChatModel:
    """Wrap ``chat_model`` (any LangChain chat model, or a runnable taking messages) with ``memory``.

    See :class:`UnoChatModel`. ``UnoMemory.as_runnable(chat_model, **kwargs)`` calls this.
    """
    return UnoChatModel(
        memory=memory,
        chat_model=chat_model,
        user_id=user_id,
        namespace=namespace,
        record=record,
        budget_tokens=budget_tokens,
        max_rules=max_rules,
        strategy_bandit=strategy_bandit,
        explore=explore,
    )


# --- calling the wrapped model

# The call argument that carries the user of one call from ``invoke``/``stream`` (which see its config) to the
# steps (which do not); never passed on to the wrapped model.
_USER_KWARG = "_uno_user_id"


def _with_user(config: RunnableConfig | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {**kwargs, _USER_KWARG: _configured_user(config or {})}


def _own_run() -> RunnableConfig:
    """The wrapped model's config: none of the caller's callbacks. They see uno's run, which carries the wrapped
    model's tokens and answer; a nested second chat-model run would make every call count twice."""
    return {"callbacks": CallbackManager(handlers=[])}


def _model_name(model: Runnable[Any, Any]) -> str:
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(model, attribute, None)
        if isinstance(value, str) and value:
            return value
    return type(model).__name__


def _wrapped_ls_params(model: Runnable[Any, Any]) -> dict[str, Any]:
    method = getattr(model, "_get_ls_params", None)
    try:
        return dict(method()) if callable(method) else {}
    except Exception:  # the wrapped model's tracing details are optional: never fail a call over them
        return {}


def _as_message(value: object) -> BaseMessage:
    """What the wrapped runnable returned, as a message (a bare string is an AI message)."""
    if isinstance(value, BaseMessage):
        return value
    if isinstance(value, str):
        return AIMessage(content=value)
    raise TypeError(f"the wrapped model returned {type(value).__name__}, not a message")


def _as_chunk(value: object) -> BaseMessageChunk:
    """A streamed piece as a message chunk; the wrapped model's own end-of-stream mark is left to this one."""
    if isinstance(value, AIMessageChunk):
        return value.model_copy(update={"chunk_position": None}) if value.chunk_position else value
    if isinstance(value, BaseMessageChunk):
        return value
    if isinstance(value, str):
        return AIMessageChunk(content=value)
    if isinstance(value, BaseMessage):
        return AIMessageChunk(content=value.content, response_metadata=value.response_metadata)
    raise TypeError(f"the wrapped model streamed {type(value).__name__}, not a message chunk")


def _last_chunk(details: dict[str, Any]) -> ChatGenerationChunk:
    return ChatGenerationChunk(
        message=AIMessageChunk(content="", response_metadata={METADATA_KEY: details}, chunk_position="last")
    )


def _result(message: BaseMessage) -> ChatResult:
    return ChatResult(generations=[ChatGeneration(message=message)])


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


__all__ = ["METADATA_KEY", "USER_ID_KEY", "UnoChatModel", "UnoChatRunnable", "UnoRetriever", "as_runnable"]
