"""Logging the conversations an app has through uno, and reading the user's next turn as feedback.

Both the LangChain runnable and the OpenAI-compatible proxy see a chat request as the whole conversation so far
(the app keeps the history and resends it). uno logs each exchange, and when a later request carries an answer
uno logged, the user's new turn is the feedback on that answer. How that works, and why:

* **The log id is a hash of the conversation up to and including the answer** (plus namespace and user). A later
  request that carries the same history finds the log again by recomputing the id: no session state, and it
  survives a restart.
* **The user's new turn is attached to the earlier log as a follow-up** on that answer (``memory.feedback``), once
  (a retried request does not add it twice).
* **A log stores only what is new**: the app's leading system messages plus the turns after the answer uno
  already logged. Storing the whole history again would repeat that follow-up inside the new log, and two
  anonymous logs count as two independent sources: one user's remark would be counted twice. When no earlier
  answer was logged, the whole history is stored, so nothing the user said is lost.
* **uno's own memory block is never stored**: it is stripped from every message before hashing and logging.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rule_store.protocol import Scope
from rule_store.records import FollowupFeedback, LogRecord, Message, stable_hash
from uno.inject import BLOCK_CLOSE, BLOCK_OPEN, PREAMBLE, REFLECTIVE_NOTE

if TYPE_CHECKING:
    from uno.memory import UnoMemory

_MEMORY_BLOCK = re.compile(
    rf"(?:{re.escape(PREAMBLE)}\s*)?{re.escape(BLOCK_OPEN)}.*?{re.escape(BLOCK_CLOSE)}"
    rf"(?:\s*{re.escape(REFLECTIVE_NOTE)})?",
    re.DOTALL,
)


def strip_memory_block(text: str) -> str:
    """``text`` without the memory block(s) uno injected into it (preamble, quoted rules, reflective note)."""
    if BLOCK_OPEN not in text:
        return text
    return _MEMORY_BLOCK.sub("", text).strip()


def merge_system_prompt(app_prompt: str | None, block: str) -> str:
    """The app's own system prompt first, then uno's block (as :func:`uno.inject.build_messages` does)."""
    return "\n\n".join(part for part in (app_prompt, block) if part)


def clean_messages(messages: Iterable[Message]) -> list[Message]:
    """The conversation as uno stores it: memory blocks stripped, empty system turns and text-less assistant
    turns (pure tool calls) dropped. Logging and lookup both hash this form, so they always agree."""
    cleaned: list[Message] = []
    for message in messages:
        content = strip_memory_block(message.content)
        if message.role in ("system", "assistant") and not content.strip():
            continue
        cleaned.append(message if content == message.content else message.model_copy(update={"content": content}))
    return cleaned


def exchange_log_id(namespace: str, user_id: str | None, transcript: Sequence[Message]) -> str:
    """The id of the log of an exchange whose cleaned conversation, answer included, is ``transcript``."""
    return "log-" + stable_hash("exchange", namespace, user_id, [(m.role, m.content) for m in transcript])


@dataclass(frozen=True)
class Exchange:
    """One request on its way to the model: the conversation as uno reads it, and what uno already logged of it."""

    namespace: str
    user_id: str | None
    history: tuple[Message, ...]
    # The identity the caller is vouched for (the server's API key), stamped on the log: never from the request.
    verified_id: str | None = None
    # Index in ``history`` of the latest assistant answer uno logged, and that log's id.
    previous_index: int | None = None
    previous_log_id: str | None = None
    # The user text recorded as a follow-up on the previous log by this request (None when none was).
    followup: str | None = None

    @property
    def query(self) -> str | None:
        """The last user turn: what memory is searched with."""
        return next((m.content for m in reversed(self.history) if m.role == "user"), None)

    def stored_messages(self) -> list[Message] | None:
        """What the log of this exchange stores before the answer; None when it would hold no user turn."""
        if self.previous_index is None:
            body = list(self.history)
        else:
            body = _leading(self.history, "system") + list(self.history[self.previous_index + 1 :])
        return body if any(m.role == "user" for m in body) else None


class ConversationRecorder:
    """Logs the exchanges an integration forwards, and attaches each user's next turn to the answer before it.

    ``begin`` runs before the model is called (it records the follow-up: the user's reaction stands even if the
    next call fails); ``finish`` runs with the answer and returns the new log's id.
    """

    def __init__(self, memory: UnoMemory, *, source: str) -> None:
        self.memory = memory
        self.source = source
        # Serialises "is this follow-up already recorded?" with recording it, so a retried request adds it once.
        self._followup_lock = threading.Lock()

    def begin(
        self,
        messages: Sequence[Message],
        *,
        namespace: str | None = None,
        user_id: str | None = None,
        verified_id: str | None = None,
    ) -> Exchange:
        """Read a request: find the latest answer in it that uno logged and record the user's reply to it."""
        ns = namespace or self.memory.namespace
        history = tuple(clean_messages(messages))
        found = self._latest_logged(ns, user_id, history)
        if found is None:
            return Exchange(namespace=ns, user_id=user_id, history=history, verified_id=verified_id)
        index, previous = found
        replies = [m.content for m in _after_until_assistant(history, index) if m.role == "user" and m.content.strip()]
        followup = "\n\n".join(replies) if replies else None
        if followup is not None:
            followup = self._record_followup(previous, followup)
        return Exchange(
            namespace=ns,
            user_id=user_id,
            history=history,
            verified_id=verified_id,
            previous_index=index,
            previous_log_id=previous.id,
            followup=followup,
        )

    def finish(
        self,
        exchange: Exchange,
        answer: str,
        *,
        injected_rule_ids: Sequence[str] = (),
        metadata: Mapping[str, Any] | None = None,
        source: str | None = None,
    ) -> str | None:
        """Log the exchange with the model's ``answer``; return the log id, or None when there is nothing to log
        (an answer without text, or a request without a user turn since the last logged answer).

        The log's metadata says where it came from (``source``, default the recorder's), the earlier log it
        continues and the rules that were injected, plus ``metadata``."""
        stored = exchange.stored_messages()
        if stored is None or not answer.strip():
            return None
        transcript = [*exchange.history, Message(role="assistant", content=answer)]
        details: dict[str, Any] = {"source": source or self.source, **(metadata or {})}
        if exchange.previous_log_id is not None:
            details["previous_log_id"] = exchange.previous_log_id
        if injected_rule_ids:
            details["injected_rule_ids"] = list(injected_rule_ids)
        return self.memory.log_exchange(
            stored,
            answer,
            user_id=exchange.user_id,
            namespace=exchange.namespace,
            log_id=exchange_log_id(exchange.namespace, exchange.user_id, transcript),
            metadata=details,
            verified_id=exchange.verified_id,
        )

    async def abegin(
        self,
        messages: Sequence[Message],
        *,
        namespace: str | None = None,
        user_id: str | None = None,
        verified_id: str | None = None,
    ) -> Exchange:
        return await asyncio.to_thread(
            self.begin, messages, namespace=namespace, user_id=user_id, verified_id=verified_id
        )

    async def afinish(
        self,
        exchange: Exchange,
        answer: str,
        *,
        injected_rule_ids: Sequence[str] = (),
        metadata: Mapping[str, Any] | None = None,
        source: str | None = None,
    ) -> str | None:
        return await asyncio.to_thread(
            self.finish, exchange, answer, injected_rule_ids=injected_rule_ids, metadata=metadata, source=source
        )

    def _latest_logged(
        self, namespace: str, user_id: str | None, history: Sequence[Message]
    ) -> tuple[int, LogRecord] | None:
        """The latest assistant turn of ``history`` that uno logged (one store read for all of them)."""
        candidates = {
            exchange_log_id(namespace, user_id, history[: index + 1]): index
            for index, message in enumerate(history)
            if message.role == "assistant"
        }
        if not candidates:
            return None
        found = self.memory.store.get_logs(sorted(candidates), Scope(namespace=namespace))
        if not found:
            return None
        latest = max(found, key=lambda log: candidates[log.id])
        return candidates[latest.id], latest

    def _record_followup(self, log: LogRecord, text: str) -> str | None:
        """Attach ``text`` as a follow-up on the answer ``log`` ends with, unless it already is; None if the log
        is gone (forgotten meanwhile: it must not come back)."""
        turn = max(i for i, m in enumerate(log.messages) if m.role == "assistant")
        with self._followup_lock:
            current = self.memory.store.get_logs([log.id], Scope(namespace=log.namespace))
            if not current:
                return None
            if any(_same_followup(event, text, turn) for event in current[0].feedback):
                return text
            try:
                self.memory.feedback(log.id, FollowupFeedback(text=text, turn=turn), namespace=log.namespace)
            except KeyError:
                return None
        return text


def _leading(messages: Sequence[Message], role: str) -> list[Message]:
    out: list[Message] = []
    for message in messages:
        if message.role != role:
            break
        out.append(message)
    return out


def _after_until_assistant(messages: Sequence[Message], index: int) -> list[Message]:
    """The turns after ``messages[index]`` up to the next assistant turn: the reply to that answer."""
    out: list[Message] = []
    for message in messages[index + 1 :]:
        if message.role == "assistant":
            break
        out.append(message)
    return out


def _same_followup(event: object, text: str, turn: int) -> bool:
    return isinstance(event, FollowupFeedback) and event.turn == turn and event.text.strip() == text.strip()
