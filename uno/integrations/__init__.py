"""uno inside the tools an application already runs.

* :mod:`uno.integrations.langchain` (extra ``[langchain]``): ``UnoMemory.as_runnable(chat_model)`` (a
  ``BaseChatModel`` wrapping yours) and ``UnoRetriever``.
* :mod:`uno.integrations.mcp` (extra ``[mcp]``): the memory's tools for agents over MCP (``uno mcp``).
* :mod:`uno.server` (extra ``[server]``): the REST API and the OpenAI-compatible memory proxy.
* :mod:`uno.integrations.conversation`: what both share, framework-free: how an exchange is logged, how the user's
  next turn becomes feedback on the answer before it, and how uno's own memory block is kept out of stored logs.

``import uno`` imports none of this.
"""

from __future__ import annotations

from uno.integrations.conversation import (
    ConversationRecorder,
    Exchange,
    clean_messages,
    exchange_log_id,
    merge_system_prompt,
    strip_memory_block,
)

__all__ = [
    "ConversationRecorder",
    "Exchange",
    "clean_messages",
    "exchange_log_id",
    "merge_system_prompt",
    "strip_memory_block",
]
