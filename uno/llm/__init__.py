"""LLMs for uno: the :class:`LLM` protocol, :class:`LiteLLM` (extra ``[llm]``) and :class:`TransformersLLM`.

>>> from uno.llm import LiteLLM
>>> llm = LiteLLM("openai/gpt-4o-mini")                 # or $UNO_LLM_MODEL; any litellm model string
>>> memory = UnoMemory("./.uno", llm=llm)               # build() distils with one call per log with feedback

Every call is recorded in a ledger (``llm.ledger.usage()``): model, purpose, tokens, cost, latency, outcome.
Bound to a store, the ledger and the response cache live in ``<store>/llm.sqlite``. Nothing is sent anywhere but
to the model: litellm runs with its local cost map and no callbacks.

Importing this package is cheap: litellm and torch are imported on first use.
"""

from __future__ import annotations

from uno.llm.base import (
    LLM,
    BaseLLM,
    ChatMessage,
    Completion,
    LLMCallError,
    LLMError,
    LLMOutputError,
    Request,
    run_sync,
    schema_instruction,
)
from uno.llm.lite import LiteLLM
from uno.llm.local import TransformersLLM, bundled_smollm2_gguf
from uno.llm.parsing import JSONParseError, parse_json_object

__all__ = [
    "LLM",
    "BaseLLM",
    "ChatMessage",
    "Completion",
    "JSONParseError",
    "LLMCallError",
    "LLMError",
    "LLMOutputError",
    "LiteLLM",
    "Request",
    "TransformersLLM",
    "bundled_smollm2_gguf",
    "parse_json_object",
    "run_sync",
    "schema_instruction",
]
